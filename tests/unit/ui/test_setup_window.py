"""First run: what is said, the key made the right way, exclusions written, nothing on cancel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TypeVar

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.unlock import store_kind, unlock_with_keyring, unlock_with_passphrase
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import load_settings
from mirix_desktop.memory.keys import keyinfo_path
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.privacy.exclusions import PrivacyRule
from mirix_desktop.ui.qt import Qt, QtWidgets
from mirix_desktop.ui.setup_window import SetupResult, SetupWindow
from tests.helpers.keyring_backend import MemoryKeyring

T = TypeVar("T", bound=QtWidgets.QWidget)
PASSPHRASE = "correct horse battery staple"
WINDOWS = [
    WindowInfo(app="Signal", title="Signal — Alice", rect=None),
    WindowInfo(app="KeePassXC", title="Passwords.kdbx - KeePassXC", rect=None),
    WindowInfo(app="firefox", title="News — Mozilla Firefox", rect=None),
    WindowInfo(app="signal", title="Signal — Bob", rect=None),
    WindowInfo(app=None, title="untitled", rect=None),
]


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return resolve_paths(tmp_path / "data")


def _window(qtbot: QtBot, paths: AppPaths, **kwargs: object) -> SetupWindow:
    window = SetupWindow(paths, windows=lambda: list(WINDOWS), **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _visible_text(window: QtWidgets.QWidget) -> str:
    return "\n".join(
        label.text() for label in window.findChildren(QtWidgets.QLabel) if label.isVisibleTo(window)
    )


def _child(window: QtWidgets.QWidget, kind: type[T], name: str) -> T:
    found = window.findChild(kind, name)
    assert isinstance(found, kind), name
    return found


def _fields(window: SetupWindow) -> tuple[QtWidgets.QLineEdit, QtWidgets.QLineEdit]:
    first = _child(window, QtWidgets.QLineEdit, "passphrase")
    again = _child(window, QtWidgets.QLineEdit, "repeat")
    assert first.echoMode() == again.echoMode() == QtWidgets.QLineEdit.EchoMode.Password
    return first, again


def _button(window: QtWidgets.QWidget, text: str) -> QtWidgets.QPushButton:
    for button in window.findChildren(QtWidgets.QPushButton):
        if button.text().replace("&", "") == text:
            return button
    raise AssertionError(f"no button {text!r}")


def _finished(qtbot: QtBot, window: SetupWindow) -> SetupResult:
    qtbot.waitUntil(lambda: window.result_value() is not None, timeout=10_000)
    result = window.result_value()
    assert result is not None
    assert window.result() == QtWidgets.QDialog.DialogCode.Accepted
    return result


def _app_items(window: SetupWindow) -> dict[str, QtWidgets.QListWidgetItem]:
    listing = _child(window, QtWidgets.QListWidget, "apps")
    return {listing.item(i).text(): listing.item(i) for i in range(listing.count())}


def test_says_what_is_captured_where_and_how(qtbot: QtBot, paths: AppPaths) -> None:
    window = _window(qtbot, paths)
    assert window.windowTitle() == "MIRIX — Setup"
    text = _visible_text(window)
    assert "every monitor every 2 seconds" in text
    assert "OCR" in text and "password managers" in text and "[REDACTED]" in text
    assert str(paths.store_file) in text
    assert "SQLCipher (AES-256)" in text
    # The shipped list, in words, one line per kind.
    assert "Password manager: KeePassXC, KeePass, 1Password, Bitwarden, LastPass" in text
    assert "Private browser window: Firefox, Chrome, Chromium, Edge, Brave" in text


def test_no_keyring_asks_a_passphrase_twice_and_refuses_a_mismatch(
    qtbot: QtBot, paths: AppPaths
) -> None:
    window = _window(qtbot, paths)
    assert "lose this passphrase, your memories are lost" in _visible_text(window)
    first, again = _fields(window)
    assert first.isVisible() and again.isVisible()
    start = _button(window, "Start capturing")

    qtbot.keyClicks(first, PASSPHRASE)
    qtbot.keyClicks(again, PASSPHRASE + "!")
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert "not the same" in _visible_text(window)
    qtbot.wait(50)
    assert window.result_value() is None
    assert not keyinfo_path(paths.store_file).exists()

    first.setText("short")
    again.setText("short")
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert "too short" in _visible_text(window)
    assert not keyinfo_path(paths.store_file).exists()

    first.setText(PASSPHRASE)
    again.setText(PASSPHRASE)
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    result = _finished(qtbot, window)
    assert result.start_capture is True
    assert store_kind(paths) == "passphrase"
    assert unlock_with_passphrase(paths, PASSPHRASE) == result.key


def test_open_apps_and_typed_words_become_exclusions_in_config(
    qtbot: QtBot, paths: AppPaths
) -> None:
    window = _window(qtbot, paths)
    items = _app_items(window)
    # One row per app; KeePassXC is already never captured, so not offered.
    assert sorted(items) == ["Signal", "firefox"]
    items["Signal"].setCheckState(Qt.CheckState.Checked)
    words = _child(window, QtWidgets.QLineEdit, "exclusion_pattern")
    combo = _child(window, QtWidgets.QComboBox, "exclusion_field")
    combo.setCurrentIndex(combo.findText("Window title"))
    qtbot.keyClicks(words, "bank")
    qtbot.keyClick(words, Qt.Key.Key_Return)  # adds the rule, does not finish setup
    assert window.result_value() is None
    assert words.text() == ""
    assert _app_items(window)["Windows whose title contains “bank”"].checkState() == (
        Qt.CheckState.Checked
    )
    first, again = _fields(window)
    first.setText(PASSPHRASE)
    again.setText(PASSPHRASE)
    qtbot.mouseClick(_button(window, "Not now"), Qt.MouseButton.LeftButton)
    result = _finished(qtbot, window)

    expected = [
        PrivacyRule(field="app", pattern="Signal"),
        PrivacyRule(field="title", pattern="bank"),
    ]
    assert result.exclusions == expected
    assert load_settings(paths.config_file, environ={}).privacy.exclude == expected


def test_keyring_store_asks_no_passphrase(
    qtbot: QtBot, paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    window = _window(qtbot, paths)
    first, again = _fields(window)
    assert not first.isVisible() and not again.isVisible()
    assert "system keyring" in _visible_text(window)
    # Keyboard only: the default button is Start capturing.
    qtbot.keyClick(window, Qt.Key.Key_Return)
    result = _finished(qtbot, window)
    assert result.start_capture is True and result.exclusions == []
    assert store_kind(paths) == "keyring"
    assert unlock_with_keyring(paths) == result.key
    assert list(memory_keyring.secrets.values()) == [result.key.hex()]
    assert not paths.config_file.exists()  # nothing chosen, nothing written


def test_not_now_makes_the_key_but_leaves_capture_off(
    qtbot: QtBot, paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    window = _window(qtbot, paths)
    qtbot.mouseClick(_button(window, "Not now"), Qt.MouseButton.LeftButton)
    result = _finished(qtbot, window)
    assert result.start_capture is False
    assert store_kind(paths) == "keyring"


def test_closing_the_window_creates_nothing(
    qtbot: QtBot, paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    window = _window(qtbot, paths)
    _app_items(window)["Signal"].setCheckState(Qt.CheckState.Checked)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isVisible()
    assert window.result_value() is None
    assert window.result() == QtWidgets.QDialog.DialogCode.Rejected
    assert store_kind(paths) == "new"
    assert memory_keyring.secrets == {}
    assert not paths.config_file.exists()


def test_keyboard_only_passphrase_setup(qtbot: QtBot, paths: AppPaths) -> None:
    window = _window(qtbot, paths)
    apps = _child(window, QtWidgets.QListWidget, "apps")
    assert window.focusWidget() is apps  # top of the page first
    qtbot.keyClick(apps, Qt.Key.Key_Down)
    qtbot.keyClick(apps, Qt.Key.Key_Space)  # ticks the current app
    # Tab walks down the page: field, words, Add, then the passphrase.
    for _ in range(4):
        focused = window.focusWidget()
        assert focused is not None
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
    first, again = _fields(window)
    assert window.focusWidget() is first
    qtbot.keyClicks(first, PASSPHRASE)
    qtbot.keyClick(first, Qt.Key.Key_Tab)
    assert window.focusWidget() is again
    qtbot.keyClicks(again, PASSPHRASE)
    qtbot.keyClick(again, Qt.Key.Key_Return)  # the default button: Start capturing
    result = _finished(qtbot, window)
    assert result.start_capture is True
    assert len(result.exclusions) == 1 and result.exclusions[0].field == "app"
    assert unlock_with_passphrase(paths, PASSPHRASE) == result.key


def test_a_refusing_keyring_falls_back_to_a_passphrase(qtbot: QtBot, paths: AppPaths) -> None:
    calls: list[str | None] = []

    def create(passphrase: str | None) -> bytes:
        calls.append(passphrase)
        if passphrase is None:
            raise RuntimeError("the keyring is locked")
        return b"k" * 32

    window = _window(qtbot, paths, keyring=True, create=create)
    qtbot.mouseClick(_button(window, "Start capturing"), Qt.MouseButton.LeftButton)
    first, again = _fields(window)
    qtbot.waitUntil(first.isVisible)
    assert "did not keep the key" in _visible_text(window)
    first.setText(PASSPHRASE)
    again.setText(PASSPHRASE)
    qtbot.mouseClick(_button(window, "Start capturing"), Qt.MouseButton.LeftButton)
    assert _finished(qtbot, window).key == b"k" * 32
    assert calls == [None, PASSPHRASE]


def test_a_failing_window_list_still_shows_setup(qtbot: QtBot, paths: AppPaths) -> None:
    def broken() -> list[WindowInfo]:
        raise OSError("no display")

    window = SetupWindow(paths, windows=broken)
    qtbot.addWidget(window)
    assert _app_items(window) == {}
    assert "No other apps" in _visible_text(window)


def test_closing_while_the_key_is_made_waits_for_it(qtbot: QtBot, paths: AppPaths) -> None:
    release = threading.Event()

    def slow_create(passphrase: str | None) -> bytes:
        release.wait(5)
        return b"k" * 32

    window = _window(qtbot, paths, keyring=True, create=slow_create)
    qtbot.mouseClick(_button(window, "Start capturing"), Qt.MouseButton.LeftButton)
    window.close()
    assert window.isVisible()  # the key is on its way: the result must be told
    release.set()
    assert _finished(qtbot, window).key == b"k" * 32
