"""The no-tray "MIRIX" window: the tray's state and actions, usable from the keyboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.status import TrayState
from mirix_desktop.ui.icons import tray_icon
from mirix_desktop.ui.qt import Qt, QtWidgets
from mirix_desktop.ui.status_window import StatusWindow
from tests.unit.ui.test_tray import STATES, FakeClock, error, view


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def window(qtbot: QtBot, clock: FakeClock) -> StatusWindow:
    shown = StatusWindow(clock=clock, min_notice_interval_s=30)
    qtbot.add_widget(shown)
    return shown


def test_title_is_mirix(window: StatusWindow) -> None:
    assert window.windowTitle() == "MIRIX"


def test_shows_headline_reason_and_counts(window: StatusWindow) -> None:
    window.update_status(
        view("excluded", "Not recording this window", "One of your exclusions.", frames=7, queue=2)
    )
    assert window.headline_label.text() == "Not recording this window"
    assert window.reason_label.text() == "One of your exclusions."
    assert not window.reason_label.isHidden()
    assert window.counts_label.text() == "7 frames today · 2 waiting"
    window.update_status(view("recording", "Recording", frames=1))
    assert window.reason_label.isHidden()
    assert window.counts_label.text() == "1 frame today · 0 waiting"


@pytest.mark.parametrize("state", STATES)
def test_the_icon_follows_the_state(window: StatusWindow, state: TrayState) -> None:
    window.update_status(view(state))
    shown = window.icon_label.pixmap().toImage()
    side = shown.width()
    expected = tray_icon(state).pixmap(side, side).toImage()
    assert shown == expected


@pytest.mark.parametrize("state", STATES)
def test_resume_is_enabled_only_while_paused(window: StatusWindow, state: TrayState) -> None:
    window.update_status(view(state))
    assert window.resume_button.isEnabled() == (state == "paused")
    assert all(b.isEnabled() == (state != "stopped") for b in window.pause_buttons)


@pytest.mark.parametrize(
    ("index", "duration"),
    [(0, timedelta(minutes=15)), (1, timedelta(hours=1)), (2, None)],
)
def test_pause_buttons_request_their_duration(
    qtbot: QtBot, window: StatusWindow, index: int, duration: timedelta | None
) -> None:
    window.update_status(view("recording"))
    with qtbot.wait_signal(window.pause_requested, timeout=1000) as blocker:
        qtbot.mouseClick(window.pause_buttons[index], Qt.MouseButton.LeftButton)
    assert blocker.args == [duration]


@pytest.mark.parametrize(
    ("button", "signal"),
    [
        ("ask_button", "ask_requested"),
        ("chat_button", "chat_requested"),
        ("timeline_button", "timeline_requested"),
        ("resume_button", "resume_requested"),
        ("open_data_folder_button", "open_data_folder_requested"),
        ("settings_button", "settings_requested"),
        ("quit_button", "quit_requested"),
    ],
)
def test_buttons_emit_their_signal(
    qtbot: QtBot, window: StatusWindow, button: str, signal: str
) -> None:
    window.update_status(view("paused"))
    with qtbot.wait_signal(getattr(window, signal), timeout=1000):
        qtbot.mouseClick(getattr(window, button), Qt.MouseButton.LeftButton)


def test_keyboard_only_use(qtbot: QtBot, window: StatusWindow) -> None:
    window.update_status(view("paused"))
    window.show()
    qtbot.wait_exposed(window)
    window.activateWindow()
    window.ask_button.setFocus()
    qtbot.wait_until(window.ask_button.hasFocus, timeout=1000)
    visited = [QtWidgets.QApplication.focusWidget()]
    for _ in range(9):
        qtbot.keyClick(QtWidgets.QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QtWidgets.QApplication.focusWidget())
    assert visited == [
        window.ask_button,
        window.chat_button,
        window.timeline_button,
        *window.pause_buttons,
        window.resume_button,
        window.open_data_folder_button,
        window.settings_button,
        window.quit_button,
    ]
    # Space presses the focused button; Alt+letter reaches one from anywhere.
    with qtbot.wait_signal(window.quit_requested, timeout=1000):
        qtbot.keyClick(window.quit_button, Qt.Key.Key_Space)
    with qtbot.wait_signal(window.resume_requested, timeout=1000):
        qtbot.keyClick(window.quit_button, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)


def test_a_recovery_is_told_in_the_window(window: StatusWindow, clock: FakeClock) -> None:
    window.update_status(error())
    assert window.headline_label.text() == error().headline
    assert window.notice_label.isHidden()
    clock.now += 60
    window.update_status(view("recording", "Recording"))
    assert not window.notice_label.isHidden()
    assert "Capture recovered" in window.notice_label.text()
    assert "Now: Recording." in window.notice_label.text()


def test_an_error_draws_attention_once(
    window: StatusWindow, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts: list[object] = []
    monkeypatch.setattr(QtWidgets.QApplication, "alert", lambda widget, *_: alerts.append(widget))
    window.update_status(error())
    clock.now += 60
    window.update_status(error())
    assert alerts == [window]


def test_a_programmatic_close_closes(qtbot: QtBot, window: StatusWindow) -> None:
    window.show()
    qtbot.wait_exposed(window)
    assert window.close()
    assert not window.isVisible()
