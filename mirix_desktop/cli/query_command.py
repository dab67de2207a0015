"""`mirix-desktop query [TEXT]`: the quick query box of the running app, started if need be.

This is how the box opens where no global hotkey exists (Wayland) or from a
shortcut of the desktop: the text goes to the running app through its
single-instance socket. With no app running, `mirix-desktop run` is started
detached (it outlives this command) and the text is handed over once its
socket answers. With no display at all there is nothing to show: exit 6.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click

from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.errors import AppNotRunning, NoDisplay

# Qt, the key (a passphrase is scrypt, ~0.3 s) and the store: a few seconds on a
# slow machine; an unlock window waits for the person, and the box opens after it.
START_TIMEOUT_S = 60.0
_POLL_S = 0.2


def _send(data_dir: Path, text: str) -> bool:
    try:
        from mirix_desktop.ui.ipc import send_command
    except ImportError:  # Qt does not load here: no app of ours runs here either
        return False
    return send_command(data_dir, "query", {"text": text})


def _start_app(data_dir: Path | None) -> subprocess.Popen[bytes]:
    """`mirix-desktop run` in its own session, so it outlives this command and its terminal.

    `data_dir` is the option as given (None: the platform's layout, whose
    config file lives elsewhere than under an explicit data dir).
    """
    command = [sys.executable, "-m", "mirix_desktop"]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    command.append("run")
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=os.environ.copy(),
    )


@click.command()
@click.argument("text", nargs=-1)
@click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(1, 600),
    default=START_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait for a starting app to answer.",
)
@pass_app
def query(app: AppContext, text: tuple[str, ...], wait_s: float) -> None:
    """Open the quick query box of the running app (starting it if needed), TEXT typed in."""
    data_dir = app.paths.data_dir
    typed = " ".join(text)
    if _send(data_dir, typed):
        return
    from mirix_desktop.app.display import display_problem

    problem = display_problem()
    if problem is not None:
        raise NoDisplay(
            f"the quick query box needs a display, and there is none here ({problem}). "
            "`mirix-desktop search` and `mirix-desktop ask` work in a terminal."
        )
    given: Path | None = click.get_current_context().find_root().params.get("data_dir")
    started = _start_app(given)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        exited = started.poll() is not None
        if _send(data_dir, typed):
            # (A run that exited 0 handed over to an app started meanwhile: fine too.)
            click.echo("Started mirix-desktop; the quick query box is open.", err=True)
            return
        if exited:
            raise AppNotRunning(
                f"mirix-desktop run exited with code {started.returncode} before it could "
                f"open the box; see {data_dir / 'logs' / 'app.log'}."
            )
        time.sleep(_POLL_S)
    raise AppNotRunning(
        f"mirix-desktop was started but did not answer within {wait_s:g} s; "
        f"see {data_dir / 'logs' / 'app.log'}."
    )
