"""`mirix-desktop show chat|timeline|settings`: brings up a window of the tray app running.

`show timeline` opens the timeline at a moment when told one: `--at` a time
("2026-03-12 14:02", "yesterday 14:00"), `--memory` a memory's moment,
`--frame` a captured frame.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.when import parse_when
from mirix_desktop.errors import AppNotRunning

log = logging.getLogger("mirix.cli")

WINDOWS = ("chat", "timeline", "settings")


def hand_over(data_dir: Path, window: str, extra: dict[str, Any] | None = None) -> bool:
    """Asks the app running for `data_dir` to show `window`; True once it did."""
    try:
        from mirix_desktop.ui.ipc import send_command
    except ImportError as exc:  # Qt cannot load here, so no app of ours runs here either
        log.info("cannot reach a running app: Qt does not load (%s)", exc)
        return False
    return send_command(data_dir, "show", {"window": window, **(extra or {})})


@click.command()
@click.argument("window", type=click.Choice(WINDOWS))
@click.option("--at", "at", metavar="WHEN", help="timeline: the moment to show (time or phrase).")
@click.option("--memory", "memory_id", type=int, help="timeline: show this memory's moment.")
@click.option("--frame", "frame_id", type=int, help="timeline: show this captured frame.")
@pass_app
def show(
    app: AppContext, window: str, at: str | None, memory_id: int | None, frame_id: int | None
) -> None:
    """Show a window of the running tray app (started by `mirix-desktop run`)."""
    extra: dict[str, Any] = {}
    if window != "timeline" and (at or memory_id is not None or frame_id is not None):
        raise click.UsageError("--at, --memory and --frame go with `show timeline`.")
    if at:
        extra["at"] = parse_when(at, datetime.now().astimezone(), "--at").isoformat()
    if memory_id is not None:
        extra["memory_id"] = memory_id
    if frame_id is not None:
        extra["frame_id"] = frame_id
    if not hand_over(app.paths.data_dir, window, extra):
        raise AppNotRunning(
            f"mirix-desktop is not running for {app.paths.data_dir}; "
            "start it with `mirix-desktop run`."
        )
    click.echo(f"Showed the {window} window of the running mirix-desktop.")
