"""The supervisor with stand-in children (tiny Python scripts): reasons, backoff, bad output."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.pipeline.control import Status
from mirix_desktop.pipeline.events import DaemonEvent
from mirix_desktop.ui.supervisor import DaemonSupervisor, daemon_command

KEY = bytes(range(32))


def _child(body: str) -> list[str]:
    """A stand-in daemon: checks the key line on stdin, then runs `body`."""
    started = DaemonEvent("started", Status(state="starting", pid=4242)).to_line()
    script = (
        "import sys\n"
        f"if sys.stdin.readline() != {KEY.hex() + chr(10)!r}: sys.exit(99)\n"
        f"STARTED = {started!r}\n" + body
    )
    return [sys.executable, "-c", script]


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    resolved = resolve_paths(tmp_path / "data")
    resolved.ensure()
    return resolved


@pytest.fixture
def stop_later() -> Iterator[list[DaemonSupervisor]]:
    started: list[DaemonSupervisor] = []
    yield started
    for supervisor in started:
        supervisor.stop()


def test_the_daemon_command_passes_an_explicit_data_dir(paths: AppPaths) -> None:
    command = daemon_command(paths)
    assert command[:3] == [sys.executable, "-m", "mirix_desktop"]
    assert command[3:] == ["--data-dir", str(paths.data_dir), "run", "--no-ui", "--supervised"]
    frozen = daemon_command(paths, ["/opt/mirix/mirix-desktop"])
    assert frozen[0] == "/opt/mirix/mirix-desktop" and frozen[1] == "--data-dir"


@pytest.mark.expected_log("mirix.ui.supervisor", "WARNING", r"the capture daemon cannot be started")
def test_a_daemon_that_cannot_start_is_reported(
    qtbot: QtBot, paths: AppPaths, stop_later: list[DaemonSupervisor]
) -> None:
    supervisor = DaemonSupervisor(paths, KEY, program=[str(paths.data_dir / "no-such-program")])
    stop_later.append(supervisor)
    with qtbot.waitSignal(supervisor.daemon_failed, timeout=5000) as failed:
        supervisor.start()
    assert "cannot be started" in failed.args[0]
    assert supervisor.status.state == "not running"
    assert supervisor.status.reason == failed.args[0]


@pytest.mark.expected_log(
    "mirix.ui.supervisor", "WARNING", r"The recording process ended with code"
)
@pytest.mark.expected_log("mirix.ui.supervisor", "WARNING", r"ignoring a line from the capture")
def test_a_dying_daemon_is_restarted_with_growing_delays(
    qtbot: QtBot, paths: AppPaths, stop_later: list[DaemonSupervisor]
) -> None:
    body = (
        "print('this is not an event', flush=True)\n"
        "print(STARTED, flush=True)\n"
        "print('2026-11-30 21:21:28,723 mirix.daemon WARNING: the disk is full',"
        " file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    supervisor = DaemonSupervisor(paths, KEY, program=_child(body), backoff_s=(0.2, 1.2))
    stop_later.append(supervisor)
    failures: list[tuple[float, str]] = []
    recoveries: list[float] = []
    statuses: list[Status] = []
    supervisor.daemon_failed.connect(lambda why: failures.append((time.monotonic(), why)))
    supervisor.daemon_recovered.connect(lambda: recoveries.append(time.monotonic()))
    supervisor.status_changed.connect(statuses.append)

    supervisor.start()
    qtbot.waitUntil(lambda: len(failures) >= 3, timeout=15_000)
    supervisor.stop()

    # Why: the exit code and its last message, without the log line's prefix.
    assert failures[0][1] == "The recording process ended with code 3: the disk is full"
    # Each restart reported itself with "started": recovered after each failure but the last.
    assert len(recoveries) >= 2
    assert failures[0][0] < recoveries[0] < failures[1][0] < recoveries[1] < failures[2][0]
    assert 4242 in {status.pid for status in statuses}  # the event's status came through
    # The delays grow along the backoff list (Qt's coarse timers may fire 5% early).
    assert failures[1][0] - failures[0][0] >= 0.15
    assert failures[2][0] - failures[1][0] >= 1.0


@pytest.mark.expected_log(
    "mirix.ui.supervisor", "WARNING", r"The recording process ended with code"
)
def test_the_child_gets_the_key_line_then_end_of_input(
    qtbot: QtBot, paths: AppPaths, stop_later: list[DaemonSupervisor]
) -> None:
    # The stand-in exits 99 unless stdin starts with exactly the key line, and
    # would wait forever for the rest of its input if the pipe stayed open.
    supervisor = DaemonSupervisor(
        paths, KEY, program=_child("print(STARTED, flush=True)\nsys.stdin.read()\nsys.exit(7)\n")
    )
    stop_later.append(supervisor)
    with qtbot.waitSignal(supervisor.daemon_failed, timeout=10_000) as failed:
        supervisor.start()
    # It read the key line, then saw stdin closed (EOF) and exited on its own.
    assert "ended with code 7" in failed.args[0]
