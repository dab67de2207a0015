"""`mirix-desktop run`: the tray app, or with --no-ui the daemon capturing into the store.

- `run` starts the tray app (`ui/app.py`); when one already runs for the data
  dir it shows that app's chat window instead, and with no display at all it
  says so (exit code 6) and points to `run --no-ui`.
- `run --no-ui` is the headless daemon, until Ctrl-C or SIGTERM.
- `run --no-ui --supervised` (hidden) is that daemon as the tray app starts
  it: the store key arrives as one line of hex on stdin, events leave as
  JSON lines on stdout, and everything a person would read goes to stderr.
  The daemon keeps running when stdin or stdout close (the app went away and
  will re-attach); it stops on SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, TextIO

import click

from mirix_desktop.app.display import display_problem
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.show_command import hand_over
from mirix_desktop.errors import KeyUnavailable, NoDisplay
from mirix_desktop.logfiles import log_to_file

# The daemon (capture, OCR, the pipeline) is imported only by the daemon: the
# tray app's process runs this module too and must start without it.
if TYPE_CHECKING:
    from mirix_desktop.pipeline.events import EventSink

# A 32-byte key is 64 hex digits; anything much longer is not a key line.
_KEY_LINE_MAX = 1024


@click.command()
@click.option(
    "--no-ui", is_flag=True, help="Run headless: capture and memory only, no tray or windows."
)
@click.option(
    "--supervised",
    is_flag=True,
    hidden=True,
    help="Started by the tray app: key on stdin, events on stdout.",
)
@pass_app
def run(app: AppContext, no_ui: bool, supervised: bool) -> None:
    """Start mirix-desktop: the tray app, or with --no-ui the capture daemon alone.

    The daemon captures the screen every few seconds, reads it and remembers
    it; it stops on Ctrl-C or SIGTERM. `mirix-desktop pause` / `resume` /
    `status` talk to it from another terminal.
    """
    if supervised and not no_ui:
        raise click.UsageError("--supervised goes with --no-ui")
    if not no_ui:
        _run_app(app)
    elif supervised:
        _run_supervised(app)
    else:
        _run_daemon(app, say=click.echo)


def _run_daemon(
    app: AppContext, *, say: Callable[[str], None], events: EventSink | None = None
) -> None:
    from mirix_desktop.app.daemon_factory import build_daemon, consolidation_provider

    store = app.store()
    info = store.info()
    # The daemon's log beside the store: `status` points there for details.
    log_to_file(app.paths.data_dir, "daemon.log")
    store.embedder.embed(["warm up"])
    say(
        f"Store: {info.path} (SQLCipher {info.cipher_version}, key: {info.key_mode}); "
        f"{info.memories} memories."
    )
    if app.config_problems:
        # Keys only: their values may be anything the person typed.
        keys = ", ".join(problem.key for problem in app.config_problems)
        say(
            f"{app.paths.config_file} has mistakes in {keys}: those use their defaults, the "
            "rest of the file is used (`mirix-desktop run` shows the problems in Settings)."
        )
    capture = app.settings.capture
    say(
        f"Capturing every {capture.interval_s:g} s (password managers and private windows "
        "are never captured; `mirix-desktop pause` stops capture). Ctrl-C to stop."
    )
    provider = consolidation_provider(app.settings)
    if provider is not None:
        budget = app.settings.consolidation.cpu_seconds_per_day
        say(
            f"Consolidation with the {provider} model while you are idle "
            f"(at most {budget:g} s of model time a day)."
        )
    daemon = build_daemon(app.paths, app.settings, store, events)
    daemon.run_forever()
    say(f"Stopped. {daemon.status.frames_today} frames captured today.")


# -- supervised by the tray app ------------------------------------------------------------
def read_key_line(stream: IO[bytes]) -> bytes:
    """The store key the app sends: one line of hex. Only this line is ever read."""
    line = stream.readline(_KEY_LINE_MAX)
    try:
        key = bytes.fromhex(line.decode("ascii").strip())
    except ValueError:  # UnicodeDecodeError included
        key = b""
    if not key:
        raise KeyUnavailable(
            "--supervised expects the store key on stdin, as one line of hex (the tray app "
            "sends it); none came. Run `mirix-desktop run --no-ui` to start the daemon yourself."
        )
    return key


def _events_channel() -> TextIO:
    """The events' own copy of stdout; fd 1 then leads to stderr.

    Whatever else would print to stdout (a library, a stray print) lands
    with the human messages instead of in the middle of the event stream.
    """
    sys.stdout.flush()
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    return events


def _say_on_stderr(message: str) -> None:
    # The app that read stderr may be gone; the daemon log has the same news.
    with contextlib.suppress(OSError):
        click.echo(message, err=True)


def _run_supervised(app: AppContext) -> None:
    from mirix_desktop.pipeline.events import JsonLinesSink

    app.use_key(read_key_line(sys.stdin.buffer))
    channel = _events_channel()
    try:
        _run_daemon(app, say=_say_on_stderr, events=JsonLinesSink(channel))
    finally:
        with contextlib.suppress(OSError, ValueError):
            channel.close()


# -- the tray app ----------------------------------------------------------------------------
def _run_app(app: AppContext) -> None:
    if hand_over(app.paths.data_dir, "chat"):
        click.echo("mirix-desktop is already running; showed its chat window.")
        return
    problem = display_problem()
    if problem is not None:
        raise NoDisplay(
            f"the tray app needs a display, and there is none here ({problem}). "
            "`mirix-desktop run --no-ui` runs the capture daemon without windows."
        )
    try:
        import mirix_desktop.ui.qt  # noqa: F401 - a missing Qt library shows here, in one place
    except ImportError as exc:
        raise NoDisplay(
            f"the tray app cannot load Qt ({exc}). "
            "`mirix-desktop run --no-ui` runs the capture daemon without windows."
        ) from exc
    from mirix_desktop.ui.app import run_app

    # The option as given (None: the platform's default layout), not the resolved dir.
    data_dir: Path | None = click.get_current_context().find_root().params.get("data_dir")
    sys.exit(run_app(data_dir))
