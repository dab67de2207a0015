"""`mirix-desktop show chat`: brings up a window of the tray app already running."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.errors import AppNotRunning

log = logging.getLogger("mirix.cli")

WINDOWS = ("chat",)


def hand_over(data_dir: Path, window: str) -> bool:
    """Asks the app running for `data_dir` to show `window`; True once it did."""
    try:
        from mirix_desktop.ui.ipc import send_command
    except ImportError as exc:  # Qt cannot load here, so no app of ours runs here either
        log.info("cannot reach a running app: Qt does not load (%s)", exc)
        return False
    return send_command(data_dir, "show", {"window": window})


@click.command()
@click.argument("window", type=click.Choice(WINDOWS))
@pass_app
def show(app: AppContext, window: str) -> None:
    """Show a window of the running tray app (started by `mirix-desktop run`)."""
    if not hand_over(app.paths.data_dir, window):
        raise AppNotRunning(
            f"mirix-desktop is not running for {app.paths.data_dir}; "
            "start it with `mirix-desktop run`."
        )
    click.echo(f"Showed the {window} window of the running mirix-desktop.")
