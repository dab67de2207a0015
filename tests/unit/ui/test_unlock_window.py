"""Unlock at start: a wrong passphrase is said and retried, waits grow, problems are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.unlock import create_key, next_try_wait
from mirix_desktop.errors import NotAStore, WrongPassphrase
from mirix_desktop.memory import connection, keys
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.ui.qt import Qt, QtWidgets
from mirix_desktop.ui.unlock_window import WRONG_PASSPHRASE, UnlockWindow

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return resolve_paths(tmp_path / "data")


@pytest.fixture
def key(paths: AppPaths) -> bytes:
    """A passphrase store with a real encrypted file in it."""
    made = create_key(paths, PASSPHRASE)
    conn = connection.connect(paths.store_file, made, cache_mb=8, busy_timeout_s=1)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return made


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _show(qtbot: QtBot, window: UnlockWindow) -> UnlockWindow:
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _button(window: QtWidgets.QWidget, text: str) -> QtWidgets.QPushButton:
    for button in window.findChildren(QtWidgets.QPushButton):
        if button.text().replace("&", "") == text:
            return button
    raise AssertionError(f"no button {text!r}")


def _field(window: UnlockWindow) -> QtWidgets.QLineEdit:
    field = window.findChild(QtWidgets.QLineEdit)
    assert isinstance(field, QtWidgets.QLineEdit)
    return field


def _message(window: UnlockWindow) -> str:
    labels = [
        label
        for label in window.findChildren(QtWidgets.QLabel)
        if label.accessibleName() == "Message"
    ]
    assert len(labels) == 1
    return labels[0].text() if labels[0].isVisibleTo(window) else ""


def _files(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}


def test_wrong_passphrase_then_retry_unlocks(qtbot: QtBot, paths: AppPaths, key: bytes) -> None:
    window = _show(qtbot, UnlockWindow(paths))
    assert window.windowTitle() == "MIRIX — Unlock"
    field = _field(window)
    assert field.echoMode() == QtWidgets.QLineEdit.EchoMode.Password
    assert window.focusWidget() is field
    before = _files(paths.data_dir)

    qtbot.keyClicks(field, "not my passphrase")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # Unlock is the default button
    qtbot.waitUntil(lambda: _message(window) == WRONG_PASSPHRASE, timeout=10_000)
    assert window.isVisible() and window.key() is None
    assert field.isEnabled() and _button(window, "Unlock").isEnabled()
    attempts = keys.attempts_path(paths.store_file)
    after = _files(paths.data_dir)
    assert after.pop(attempts.name)  # the wrong try is counted beside the store...
    assert after == before  # ...which is untouched, with the rest of its folder

    field.setText(PASSPHRASE)
    qtbot.mouseClick(_button(window, "Unlock"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert window.result() == QtWidgets.QDialog.DialogCode.Accepted
    assert window.key() == key
    assert not attempts.exists()  # a right passphrase clears the count


def test_the_wait_grows_after_repeated_failures(qtbot: QtBot, paths: AppPaths, key: bytes) -> None:
    clock = FakeClock()
    tries: list[str] = []

    def unlock(passphrase: str) -> bytes:
        tries.append(passphrase)
        source = keys.KeySource(passphrase=passphrase)
        return keys.unlock_key(paths.store_file, source, clock=clock)

    window = _show(
        qtbot,
        UnlockWindow(
            paths, unlock=unlock, clock=clock, wait_left=lambda: next_try_wait(paths, clock.now)
        ),
    )
    field = _field(window)
    unlock_button = _button(window, "Unlock")

    def fail_once() -> None:
        count = len(tries)
        field.setText("wrong")
        qtbot.mouseClick(unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(tries) == count + 1 and field.isEnabled(), timeout=5_000)

    fail_once()
    fail_once()
    assert unlock_button.isEnabled() and not window.waiting  # two typos are free
    fail_once()
    assert window.waiting and not unlock_button.isEnabled()
    assert "try again in 2 s" in _message(window)
    # Clicking (or Enter) while it waits does nothing.
    field.setText(PASSPHRASE)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.wait(50)
    assert len(tries) == 3 and window.isVisible()

    clock.now += 2.5
    qtbot.waitUntil(unlock_button.isEnabled, timeout=2_000)
    assert _message(window) == WRONG_PASSPHRASE
    fail_once()
    assert "try again in 4 s" in _message(window)
    clock.now += 4.5
    qtbot.waitUntil(unlock_button.isEnabled, timeout=2_000)

    field.setText(PASSPHRASE)
    qtbot.mouseClick(unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.key() == key, timeout=5_000)


def test_an_empty_passphrase_costs_no_wait(qtbot: QtBot, paths: AppPaths, key: bytes) -> None:
    window = _show(qtbot, UnlockWindow(paths))
    for _ in range(4):
        qtbot.mouseClick(_button(window, "Unlock"), Qt.MouseButton.LeftButton)
    assert "Type your passphrase" in _message(window)
    assert keys.read_attempts(paths.store_file).failures == 0
    assert _button(window, "Unlock").isEnabled()


def test_a_wait_earned_before_survives_closing_the_window(
    qtbot: QtBot, paths: AppPaths, key: bytes
) -> None:
    clock = FakeClock()
    for _ in range(4):  # in another window, an earlier run of the app, or the CLI
        with pytest.raises(WrongPassphrase):
            keys.unlock_key(paths.store_file, keys.KeySource(passphrase="no"), clock=clock)
        clock.now += 60
    clock.now += 1.5 - 60  # the 4th wrong try was 1.5 s ago: 4 s to wait, 2.5 left
    window = _show(
        qtbot,
        UnlockWindow(paths, clock=clock, wait_left=lambda: next_try_wait(paths, clock.now)),
    )
    assert window.waiting and not _button(window, "Unlock").isEnabled()
    assert "try again in 3 s" in _message(window)
    clock.now += 3
    qtbot.waitUntil(_button(window, "Unlock").isEnabled, timeout=2_000)
    assert _message(window) == ""
    _field(window).setText(PASSPHRASE)
    qtbot.mouseClick(_button(window, "Unlock"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.key() == key, timeout=5_000)
    assert keys.read_attempts(paths.store_file).failures == 0


def test_missing_key_info_is_named_with_quit_only(
    qtbot: QtBot, paths: AppPaths, key: bytes
) -> None:
    keys.keyinfo_path(paths.store_file).unlink()
    window = _show(qtbot, UnlockWindow(paths))
    assert isinstance(window.problem(), NotAStore)
    text = _message(window)
    assert str(paths.store_file) in text and "key info" in text
    assert "will not overwrite it" in text
    assert not _field(window).isVisible()
    assert not _button(window, "Unlock").isVisible()
    quit_button = _button(window, "Quit")
    assert quit_button.isVisible() and quit_button.isDefault()
    qtbot.keyClick(window, Qt.Key.Key_Return)
    assert not window.isVisible() and window.key() is None


@pytest.mark.expected_log("mirix.ui.unlock", "ERROR", r"unlocking failed unexpectedly")
def test_an_unexpected_failure_is_shown_not_raised(
    qtbot: QtBot, paths: AppPaths, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    def unlock(passphrase: str) -> bytes:
        raise ValueError("scrypt exploded")

    window = _show(qtbot, UnlockWindow(paths, unlock=unlock))
    _field(window).setText("anything")
    qtbot.mouseClick(_button(window, "Unlock"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.problem() is not None, timeout=5_000)
    assert "scrypt exploded" in _message(window)
    assert window.isVisible()
    assert "unlocking failed unexpectedly" in caplog.text


def test_quit_returns_no_key(qtbot: QtBot, paths: AppPaths, key: bytes) -> None:
    window = _show(qtbot, UnlockWindow(paths))
    qtbot.mouseClick(_button(window, "Quit"), Qt.MouseButton.LeftButton)
    assert window.result() == QtWidgets.QDialog.DialogCode.Rejected
    assert window.key() is None
