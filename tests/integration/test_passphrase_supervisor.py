"""A passphrase change from the key panel with the app's real capture daemon running.

The panel stops the supervised daemon (a real child process, which keeps
running without a display), re-keys the store, and the supervisor starts a
new daemon with the new key over its stdin: that daemon opens the store and
runs, where one given the old key would fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.services import AppServices
from mirix_desktop.memory import keys
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.pipeline.control import Status
from mirix_desktop.ui.passphrase_panel import PassphrasePanel
from mirix_desktop.ui.supervisor import DaemonSupervisor
from tests.conftest import PASSPHRASE, REPO

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
STARTUP_MS = 90_000
NEW = "a brand new passphrase for the test"


def _running(status: Status) -> bool:
    return status.running and status.state == "display unavailable"


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppServices:
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    made = AppServices.create(tmp_path / "data")
    made.paths.ensure()
    made.use_key(keys.create_key(made.paths.store_file, KeySource(passphrase=PASSPHRASE))[0])
    made.store()
    return made


@pytest.fixture
def supervisor(qtbot: QtBot, services: AppServices) -> Iterator[DaemonSupervisor]:
    key = services.key_source().key
    assert key is not None
    started = DaemonSupervisor(services.paths, key, backoff_s=(0.2,))
    yield started
    started.stop()


def test_the_daemon_comes_back_with_the_new_key(
    qtbot: QtBot, services: AppServices, supervisor: DaemonSupervisor
) -> None:
    failures: list[str] = []
    supervisor.daemon_failed.connect(failures.append)
    with qtbot.waitSignal(supervisor.status_changed, timeout=STARTUP_MS, check_params_cb=_running):
        supervisor.start()
    first = supervisor.child_pid
    assert first is not None

    panel = PassphrasePanel(services, capture=supervisor)
    qtbot.addWidget(panel)
    panel.current.setText(PASSPHRASE)
    panel.new.setText(NEW)
    panel.repeat.setText(NEW)
    with qtbot.waitSignal(panel.rekeyed, timeout=60_000) as rekeyed:
        panel.change_button.click()
    assert not psutil.pid_exists(first) or psutil.Process(first).status() == psutil.STATUS_ZOMBIE
    [new_key] = rekeyed.args
    assert keys.unlock_key(services.paths.store_file, KeySource(passphrase=NEW)) == new_key

    # A new daemon, given the new key, opens the store and runs.
    qtbot.waitUntil(
        lambda: supervisor.child_pid not in (None, first) and _running(supervisor.status),
        timeout=STARTUP_MS,
    )
    assert failures == []
    services.close()
