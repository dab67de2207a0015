"""The app's capture daemon as a real child process: started, followed, restarted, never doubled.

Without a display the child reports "display unavailable" and keeps running,
which is all a supervisor needs to be watched at work.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource, unlock_key
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.pipeline.control import DaemonLock, Status, StatusFile
from mirix_desktop.pipeline.events import DaemonEvent
from mirix_desktop.ui.supervisor import DaemonSupervisor
from tests.conftest import PASSPHRASE, REPO

# Before pytest-qt makes the QApplication (at the first test): no display is needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
STARTUP_MS = 90_000  # a cold child imports the whole stack; a busy CI machine is slow


@pytest.fixture
def paths(tmp_path: Path, embedder: StaticEmbedder, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    # The app may know the passphrase; its daemon must get the key from the pipe only.
    monkeypatch.setenv("MIRIX_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    resolved = resolve_paths(tmp_path / "data")
    resolved.ensure()
    MemoryStore.open(resolved.store_file, KeySource(passphrase=PASSPHRASE), embedder).close()
    return resolved


@pytest.fixture
def key(paths: AppPaths) -> bytes:
    return unlock_key(paths.store_file, KeySource(passphrase=PASSPHRASE))


@pytest.fixture
def supervisor(qtbot: QtBot, paths: AppPaths, key: bytes) -> Iterator[DaemonSupervisor]:
    started = DaemonSupervisor(paths, key, backoff_s=(0.2,))
    yield started
    started.stop()


def _supervised_daemons(paths: AppPaths) -> list[int]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "--supervised" in cmdline and str(paths.data_dir) in cmdline:
            found.append(process.pid)
    return found


def _running_without_display(status: Status) -> bool:
    return status.running and status.state == "display unavailable"


@pytest.mark.expected_log("mirix.ui.supervisor", "WARNING", r"The recording process was stopped by")
def test_the_daemon_runs_as_a_child_and_comes_back_after_a_crash(
    qtbot: QtBot, supervisor: DaemonSupervisor, paths: AppPaths, key: bytes
) -> None:
    seen: list[str] = []
    supervisor.daemon_failed.connect(lambda why: seen.append(f"failed: {why}"))
    supervisor.daemon_recovered.connect(lambda: seen.append("recovered"))

    with qtbot.waitSignal(
        supervisor.status_changed, timeout=STARTUP_MS, check_params_cb=_running_without_display
    ):
        supervisor.start()
    first = supervisor.child_pid
    assert first is not None
    assert supervisor.status.pid == first
    assert supervisor.attached_pid is None
    assert _supervised_daemons(paths) == [first]
    # Its stdin reached EOF right after the key, and it runs on.
    assert psutil.Process(first).status() != psutil.STATUS_ZOMBIE

    # The key (and the passphrase it came from) in neither argv nor the environment.
    cmdline = Path(f"/proc/{first}/cmdline").read_bytes()
    environ = Path(f"/proc/{first}/environ").read_bytes()
    assert b"--supervised" in cmdline
    assert b"MIRIX_MODELS_DIR=" in environ  # the rest of the environment is inherited
    for secret in (key, key.hex().encode(), key.hex().upper().encode(), PASSPHRASE.encode()):
        assert secret not in cmdline
        assert secret not in environ

    with qtbot.waitSignal(supervisor.daemon_failed, timeout=10_000) as failed:
        os.kill(first, signal.SIGKILL)
    assert "SIGKILL" in failed.args[0]
    assert not supervisor.status.running
    assert supervisor.status.last_error == failed.args[0]

    with qtbot.waitSignal(supervisor.daemon_recovered, timeout=STARTUP_MS):
        pass
    qtbot.waitUntil(lambda: _running_without_display(supervisor.status), timeout=10_000)
    second = supervisor.child_pid
    assert second is not None and second != first
    assert seen == [f"failed: {failed.args[0]}", "recovered"]
    assert supervisor.status.running and supervisor.status.pid == second
    assert _supervised_daemons(paths) == [second]

    supervisor.stop()
    assert not psutil.pid_exists(second)
    final = StatusFile(paths.data_dir / "status.json").read()
    assert final is not None and final.state == "stopped" and not final.running
    assert supervisor.status.state == "stopped"  # from its last event


def test_a_daemon_already_running_is_followed_not_doubled(
    qtbot: QtBot, supervisor: DaemonSupervisor, paths: AppPaths, key: bytes
) -> None:
    # Capture off, so that ticks come every 0.25 s (not the display retry's 5 s)
    # and a pause shows at once.
    paths.config_file.write_text("[capture]\nenabled = false\ninterval_s = 0.25\n")
    # A daemon whose app went away: it got its key, then both pipes to the app closed.
    environment = {k: v for k, v in os.environ.items() if k != "MIRIX_PASSPHRASE"}
    earlier = subprocess.Popen(
        supervisor.command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment,
        cwd=REPO,
    )
    try:
        assert earlier.stdin is not None and earlier.stdout is not None
        earlier.stdin.write(key.hex().encode() + b"\n")
        earlier.stdin.close()
        first_event = DaemonEvent.from_line(earlier.stdout.readline().decode())
        assert first_event is not None and first_event.kind == "started", first_event
        earlier.stdout.close()
        assert DaemonLock(paths.data_dir / "daemon.lock").holder() == earlier.pid

        followed: list[Status] = []
        supervisor.status_changed.connect(followed.append)
        with qtbot.waitSignal(
            supervisor.status_changed,
            timeout=10_000,
            check_params_cb=lambda status: status.pid == earlier.pid and status.running,
        ):
            supervisor.start()
        assert supervisor.attached_pid == earlier.pid
        assert supervisor.child_pid is None
        # Straight to following it: no second daemon tried and turned away.
        assert {status.pid for status in followed} == {earlier.pid}

        # Pausing reaches it through control.json, and its state comes back through
        # status.json; its next events go nowhere and it runs on.
        with qtbot.waitSignal(
            supervisor.status_changed,
            timeout=15_000,
            check_params_cb=lambda status: status.state == "paused",
        ):
            supervisor.pause(None)
        assert earlier.poll() is None
        assert supervisor.child_pid is None
        assert _supervised_daemons(paths) == [earlier.pid]
        supervisor.resume()

        # Once it is gone, the app starts its own.
        with qtbot.waitSignal(
            supervisor.status_changed,
            timeout=STARTUP_MS,
            check_params_cb=lambda status: status.running and status.pid not in (0, earlier.pid),
        ):
            earlier.send_signal(signal.SIGTERM)
        assert earlier.wait(timeout=30) == 0
        assert supervisor.attached_pid is None
        own = supervisor.child_pid
        assert own is not None and supervisor.status.pid == own
        assert _supervised_daemons(paths) == [own]
    finally:
        if earlier.poll() is None:
            earlier.kill()
            earlier.wait()
