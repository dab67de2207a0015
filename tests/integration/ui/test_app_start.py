"""The tray app's start-up paths a person can meet: a bad store file, a wrong passphrase.

`run_app` runs in-process on the offscreen platform; a timer answers the modal
dialog it opens (as a person would click) and records what it said.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.memory.keys import PASSPHRASE_ENV, KeySource
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.control import DaemonLock
from mirix_desktop.ui import app as app_module
from mirix_desktop.ui.qt import QTimer, QtWidgets
from tests.conftest import PASSPHRASE

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def answer_dialogs() -> Iterator[Callable[[list[tuple[str, str]]], None]]:
    """Every 50 ms: note the title and text of a modal dialog, then close it."""
    timers: list[QTimer] = []

    def start(seen: list[tuple[str, str]]) -> None:
        def poll() -> None:
            dialog = QtWidgets.QApplication.activeModalWidget()
            if dialog is None:
                return
            text = dialog.text() if isinstance(dialog, QtWidgets.QMessageBox) else ""
            if not seen or seen[-1] != (dialog.windowTitle(), text):
                seen.append((dialog.windowTitle(), text))
            _reject(dialog)

        timer = QTimer()
        timer.timeout.connect(poll)
        timer.start(50)
        timers.append(timer)

    yield start
    for timer in timers:
        timer.stop()


def _reject(dialog: QtWidgets.QWidget) -> None:
    if isinstance(dialog, QtWidgets.QDialog):
        dialog.reject()


def test_a_store_file_that_is_not_a_store_is_named_and_left_alone(
    qtbot: QtBot, tmp_path: Path, answer_dialogs: Callable[[list[tuple[str, str]]], None]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = data / "mirix.db"
    garbage = os.urandom(8192)
    store.write_bytes(garbage)
    seen: list[tuple[str, str]] = []
    answer_dialogs(seen)

    code = app_module.run_app(data)

    assert code == 3
    assert seen and seen[0][0] == "MIRIX — Cannot open your memories"
    assert str(store) in seen[0][1]
    assert store.read_bytes() == garbage


@pytest.mark.expected_log("mirix.ui.app", "WARNING", r"MIRIX_PASSPHRASE does not open")
def test_a_wrong_passphrase_in_the_environment_opens_the_unlock_window(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    embedder: object,
    answer_dialogs: Callable[[list[tuple[str, str]]], None],
) -> None:
    data = tmp_path / "data"
    MemoryStore.open(data / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder).close()  # type: ignore[arg-type]
    before = (data / "mirix.db").read_bytes()
    monkeypatch.setenv(PASSPHRASE_ENV, "not the passphrase")
    seen: list[tuple[str, str]] = []
    answer_dialogs(seen)

    code = app_module.run_app(data)

    # The person closed the unlock window: nothing opened, nothing changed.
    assert code == 0
    assert [title for title, _ in seen] == ["MIRIX — Unlock"]
    assert (data / "mirix.db").read_bytes() == before


def test_sigterm_quits_the_app_and_its_daemon(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: object
) -> None:
    data = tmp_path / "data"
    MemoryStore.open(data / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder).close()  # type: ignore[arg-type]
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    lock = DaemonLock(data / "daemon.lock")
    daemon_pids: list[int] = []

    def terminate_once_the_daemon_runs() -> None:
        holder = lock.holder()
        if holder is None:
            QTimer.singleShot(100, terminate_once_the_daemon_runs)
            return
        daemon_pids.append(holder)
        os.kill(os.getpid(), signal.SIGTERM)

    QTimer.singleShot(100, terminate_once_the_daemon_runs)
    code = app_module.run_app(data)

    assert code == 0
    assert daemon_pids, "the daemon never started"
    assert lock.holder() is None
    assert not psutil.pid_exists(daemon_pids[0]) or psutil.Process(daemon_pids[0]).status() == (
        psutil.STATUS_ZOMBIE
    )
