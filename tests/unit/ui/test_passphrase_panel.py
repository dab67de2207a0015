"""The key panel of the settings window: it re-keys on a worker, stopping and restarting capture."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.services import AppServices
from mirix_desktop.memory import keys
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import CoreMemory
from mirix_desktop.pipeline.control import DaemonLock
from mirix_desktop.ui.passphrase_panel import KEYRING_TEXT, PASSPHRASE_TEXT, PassphrasePanel
from tests.helpers.keyring_backend import MemoryKeyring

OLD = "old passphrase one"
NEW = "new passphrase two"


class FakeCapture:
    """Stands for the app's DaemonSupervisor: records what the panel asks of it."""

    def __init__(self, paths_lock: Path) -> None:
        self.calls: list[str] = []
        self.key: bytes | None = None
        # A running daemon holds daemon.lock; stop() lets go of it, start() takes it again.
        self._lock = DaemonLock(paths_lock)
        self._lock.acquire()

    def stop(self) -> None:
        self.calls.append("stop")
        self._lock.release()

    def start(self) -> None:
        self.calls.append("start")
        self._lock.acquire()

    def set_key(self, key: bytes) -> None:
        self.calls.append("set_key")
        self.key = key

    def release(self) -> None:
        self._lock.release()


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppServices:
    monkeypatch.setenv("MIRIX_PASSPHRASE", OLD)
    made = AppServices.create(tmp_path / "data")
    made.store().add(CoreMemory(value="kept"))
    made.close()
    monkeypatch.delenv("MIRIX_PASSPHRASE")
    made.use_key(keys.unlock_key(made.paths.store_file, KeySource(passphrase=OLD)))
    return made


def _panel(qtbot: QtBot, services: AppServices, capture: FakeCapture | None) -> PassphrasePanel:
    panel = PassphrasePanel(services, capture=capture)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_a_change_restarts_capture_with_the_new_key(qtbot: QtBot, services: AppServices) -> None:
    capture = FakeCapture(services.paths.data_dir / "daemon.lock")
    panel = _panel(qtbot, services, capture)
    assert panel.mode_label.text() == PASSPHRASE_TEXT
    panel.current.setText(OLD)
    panel.new.setText(NEW)
    panel.repeat.setText(NEW)
    assert panel.strength.text().startswith("Fair")  # three words
    with qtbot.waitSignal(panel.rekeyed, timeout=30_000) as signal:
        panel.change_button.click()
    [new_key] = signal.args
    # Capture stopped before, and started again with the key that opens the store now.
    assert capture.calls == ["stop", "set_key", "start"]
    assert capture.key == new_key
    assert keys.unlock_key(services.paths.store_file, KeySource(passphrase=NEW)) == new_key
    assert services.key_source().key == new_key
    assert "Passphrase changed" in panel.message.text()
    assert panel.current.text() == panel.new.text() == ""
    capture.release()
    services.close()


def test_a_wrong_current_passphrase_restarts_capture_with_the_old_key(
    qtbot: QtBot, services: AppServices
) -> None:
    capture = FakeCapture(services.paths.data_dir / "daemon.lock")
    panel = _panel(qtbot, services, capture)
    panel.current.setText("not the passphrase")
    panel.new.setText(NEW)
    panel.repeat.setText(NEW)
    with qtbot.waitSignal(panel.busy_changed, timeout=30_000, check_params_cb=lambda b: not b):
        panel.change_button.click()
    assert capture.calls == ["stop", "start"]
    assert capture.key is None
    assert "passphrase is wrong" in panel.message.text()
    assert keys.unlock_key(services.paths.store_file, KeySource(passphrase=OLD))
    capture.release()


def test_new_passphrases_that_differ_stop_nothing(qtbot: QtBot, services: AppServices) -> None:
    capture = FakeCapture(services.paths.data_dir / "daemon.lock")
    panel = _panel(qtbot, services, capture)
    panel.current.setText(OLD)
    panel.new.setText(NEW)
    panel.repeat.setText(NEW + "!")
    panel.change_button.click()
    assert "not the same" in panel.message.text()
    assert capture.calls == [] and not panel.busy
    capture.release()


def test_without_capture_control_a_running_daemon_is_named(
    qtbot: QtBot, services: AppServices
) -> None:
    daemon = DaemonLock(services.paths.data_dir / "daemon.lock")
    daemon.acquire()
    try:
        panel = _panel(qtbot, services, None)
        panel.current.setText(OLD)
        panel.new.setText(NEW)
        panel.repeat.setText(NEW)
        with qtbot.waitSignal(panel.busy_changed, timeout=30_000, check_params_cb=lambda b: not b):
            panel.change_button.click()
    finally:
        daemon.release()
    assert "Capture is running" in panel.message.text()


def test_keyring_to_passphrase_and_back(
    qtbot: QtBot, services: AppServices, memory_keyring: MemoryKeyring
) -> None:
    panel = _panel(qtbot, services, None)
    assert panel.keyring_button.isVisible() and panel.keyring_button.isEnabled()
    assert not panel.passphrase_button.isVisible()
    panel.current.setText(OLD)
    with qtbot.waitSignal(panel.rekeyed, timeout=30_000):
        panel.keyring_button.click()
    assert panel.mode_label.text() == KEYRING_TEXT
    assert panel.passphrase_button.isVisible() and not panel.current.isVisible()
    assert len(memory_keyring.secrets) == 1
    panel.new.setText(NEW)
    panel.repeat.setText(NEW)
    with qtbot.waitSignal(panel.rekeyed, timeout=30_000):
        panel.passphrase_button.click()
    assert panel.mode_label.text() == PASSPHRASE_TEXT
    assert memory_keyring.secrets == {}
    assert keys.unlock_key(services.paths.store_file, KeySource(passphrase=NEW))
    services.close()


def test_without_a_keyring_the_switch_says_why(qtbot: QtBot, services: AppServices) -> None:
    panel = _panel(qtbot, services, None)
    assert not panel.keyring_button.isEnabled()
    assert "no secure system keyring" in panel.keyring_button.toolTip()
