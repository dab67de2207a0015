"""The tray: its menu and signals, icon and tooltip per state, and notices without spam."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.status import StatusView, TrayState
from mirix_desktop.ui.icons import tray_icon
from mirix_desktop.ui.qt import QtWidgets
from mirix_desktop.ui.tray import Notice, StatusNotices, TrayController

STATES: tuple[TrayState, ...] = ("recording", "paused", "excluded", "error", "starting", "stopped")
DISK_FULL = "Capture stopped: memories cannot be saved"
NO_DISPLAY = "Capture stopped: the screen cannot be read"


def view(
    state: TrayState,
    headline: str | None = None,
    reason: str | None = None,
    *,
    frames: int = 0,
    queue: int = 0,
) -> StatusView:
    return StatusView(
        state=state,
        headline=headline or state.capitalize(),
        reason=reason,
        frames_today=frames,
        queue_depth=queue,
        paused_until=datetime(2030, 1, 1, 14, 30, tzinfo=UTC) if state == "paused" else None,
    )


def error(headline: str = DISK_FULL, reason: str = "The disk is full.") -> StatusView:
    return view("error", headline, reason)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tray(qtbot: QtBot, clock: FakeClock) -> Iterator[TrayController]:
    controller = TrayController(clock=clock, min_notice_interval_s=30)
    yield controller
    controller.hide()
    controller.deleteLater()


@pytest.fixture
def shown(tray: TrayController, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The notifications the tray icon was asked to show."""
    messages: list[tuple[str, str]] = []

    def show_message(title: str, text: str, *_: object) -> None:
        messages.append((title, text))

    monkeypatch.setattr(tray.system_tray_icon, "showMessage", show_message)
    return messages


def action_texts(tray: TrayController) -> list[str]:
    return [action.text() for action in tray.menu.actions() if not action.isSeparator()]


def test_menu_offers_the_actions_in_order(tray: TrayController) -> None:
    assert action_texts(tray)[1:] == [
        "Ask…",
        "Chat",
        "Pause for 15 minutes",
        "Pause for 1 hour",
        "Pause until resumed",
        "Resume",
        "Open data folder",
        "Quit",
    ]


def test_the_menu_starts_with_the_state_for_desktops_without_tooltips(
    tray: TrayController,
) -> None:
    tray.update_status(view("paused", "Paused until 14:30"))
    first = tray.menu.actions()[0]
    assert first.text() == "Paused until 14:30"
    assert not first.isEnabled()


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("Pause for 15 minutes", timedelta(minutes=15)),
        ("Pause for 1 hour", timedelta(hours=1)),
        ("Pause until resumed", None),
    ],
)
def test_pause_choices_request_their_duration(
    qtbot: QtBot, tray: TrayController, text: str, duration: timedelta | None
) -> None:
    tray.update_status(view("recording"))
    (action,) = [a for a in tray.menu.actions() if a.text() == text]
    with qtbot.wait_signal(tray.pause_requested, timeout=1000) as blocker:
        action.trigger()
    assert blocker.args == [duration]


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Ask…", "ask_requested"),
        ("Chat", "chat_requested"),
        ("Resume", "resume_requested"),
        ("Open data folder", "open_data_folder_requested"),
        ("Quit", "quit_requested"),
    ],
)
def test_menu_actions_emit_their_signal(
    qtbot: QtBot, tray: TrayController, text: str, signal: str
) -> None:
    tray.update_status(view("paused"))
    (action,) = [a for a in tray.menu.actions() if a.text() == text]
    with qtbot.wait_signal(getattr(tray, signal), timeout=1000):
        action.trigger()


@pytest.mark.parametrize("state", STATES)
def test_resume_is_enabled_only_while_paused(tray: TrayController, state: TrayState) -> None:
    tray.update_status(view(state))
    assert tray.resume_action.isEnabled() == (state == "paused")
    # Pausing needs something that may capture: not when capture is off.
    assert all(a.isEnabled() == (state != "stopped") for a in tray.pause_actions)


def test_a_click_on_the_icon_opens_the_chat(qtbot: QtBot, tray: TrayController) -> None:
    with qtbot.wait_signal(tray.chat_requested, timeout=1000):
        tray.system_tray_icon.activated.emit(QtWidgets.QSystemTrayIcon.ActivationReason.Trigger)
    with qtbot.assert_not_emitted(tray.chat_requested):
        tray.system_tray_icon.activated.emit(QtWidgets.QSystemTrayIcon.ActivationReason.Context)


@pytest.mark.parametrize("state", STATES)
def test_icon_and_tooltip_follow_the_state(tray: TrayController, state: TrayState) -> None:
    other: TrayState = "recording" if state != "recording" else "paused"
    tray.update_status(view(other))
    before = tray.system_tray_icon.icon().pixmap(22, 22).toImage()
    shown_view = view(state, reason="Why it is so.", frames=123, queue=4)
    tray.update_status(shown_view)
    after = tray.system_tray_icon.icon().pixmap(22, 22).toImage()
    assert after == tray_icon(state).pixmap(22, 22).toImage()
    assert after != before
    assert tray.system_tray_icon.toolTip() == shown_view.tooltip()
    assert "123 frames today · 4 waiting" in tray.system_tray_icon.toolTip()
    assert tray.state == state


def test_an_error_is_notified_once_and_its_recovery_once(
    tray: TrayController, shown: list[tuple[str, str]], clock: FakeClock
) -> None:
    tray.update_status(view("recording"))
    assert shown == []
    tray.update_status(error())
    assert shown == [(f"MIRIX: {DISK_FULL}", "The disk is full.")]
    # The daemon restarts into the same failure, again and again: no more bubbles.
    for _ in range(3):
        clock.now += 60
        tray.update_status(view("starting"))
        tray.update_status(error())
    assert len(shown) == 1
    clock.now += 60
    tray.update_status(view("recording", "Recording"))
    assert shown[1:] == [("MIRIX: Capture recovered", "Now: Recording.")]
    tray.update_status(view("recording", "Recording"))
    assert len(shown) == 2


def test_a_different_error_is_news(
    tray: TrayController, shown: list[tuple[str, str]], clock: FakeClock
) -> None:
    tray.update_status(error())
    clock.now += 60
    tray.update_status(error(NO_DISPLAY, "The display is not available."))
    assert [title for title, _ in shown] == [f"MIRIX: {DISK_FULL}", f"MIRIX: {NO_DISPLAY}"]


def test_a_quick_recovery_waits_for_the_rate_limit(
    tray: TrayController, shown: list[tuple[str, str]], clock: FakeClock
) -> None:
    tray.update_status(error())
    clock.now += 5
    tray.update_status(view("recording", "Recording"))
    assert len(shown) == 1  # too soon after the error notice
    clock.now += 25
    tray.notices.deliver_due()  # what the timer does when the interval is over
    assert shown[1:] == [("MIRIX: Capture recovered", "Now: Recording.")]


def test_a_waiting_notice_goes_out_on_its_own(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    tray = TrayController(min_notice_interval_s=0.05)  # the real clock
    shown: list[str] = []
    monkeypatch.setattr(tray, "notify", lambda title, text, **_: shown.append(title))
    tray.update_status(error())
    tray.update_status(view("recording", "Recording"))
    assert shown == [f"MIRIX: {DISK_FULL}"]
    qtbot.wait_until(lambda: len(shown) == 2, timeout=2000)
    assert shown[1] == "MIRIX: Capture recovered"
    tray.deleteLater()


def test_a_flapping_daemon_gives_one_notice_per_interval(
    tray: TrayController, shown: list[tuple[str, str]], clock: FakeClock
) -> None:
    for _ in range(10):
        tray.update_status(error())
        clock.now += 2
        tray.update_status(view("recording", "Recording"))
        clock.now += 1
    # 30 s of flapping after the first error notice: nothing more got out yet.
    assert len(shown) == 1
    clock.now += 30
    tray.notices.deliver_due()
    assert len(shown) == 2


def test_nothing_is_notified_while_all_is_well(
    tray: TrayController, shown: list[tuple[str, str]], clock: FakeClock
) -> None:
    for state in ("starting", "recording", "excluded", "paused", "recording", "stopped"):
        clock.now += 60
        tray.update_status(view(state))
    assert shown == []


def test_notify_shows_a_tray_message(tray: TrayController, shown: list[tuple[str, str]]) -> None:
    tray.notify("MIRIX", "The recorder was restarted.")
    assert shown == [("MIRIX", "The recorder was restarted.")]


def test_later_entries_go_into_their_section(tray: TrayController) -> None:
    timeline = QtWidgets.QWidgetAction(tray.menu)
    timeline.setText("Timeline")
    settings = QtWidgets.QWidgetAction(tray.menu)
    settings.setText("Settings")
    tray.add_action(timeline, section="windows")
    tray.add_action(settings, section="app")
    texts = action_texts(tray)
    assert texts.index("Timeline") == texts.index("Chat") + 1
    assert texts.index("Settings") == texts.index("Open data folder") + 1
    assert texts[-1] == "Quit"


class TestStatusNotices:
    """The notice rules on their own, as the status window uses them too."""

    def notices(self, clock: FakeClock) -> StatusNotices:
        return StatusNotices(min_interval_s=30, clock=clock)

    def test_an_error_that_cleared_unseen_is_still_told(self, clock: FakeClock) -> None:
        notices = self.notices(clock)
        notices.observe(view("recording"))
        assert notices.observe(error()) is not None  # error 1, shown
        clock.now += 40
        assert notices.observe(view("recording", "Recording")) is not None  # recovered, shown
        clock.now += 5
        assert notices.observe(error(NO_DISPLAY)) is None  # too soon
        clock.now += 5
        assert notices.observe(view("recording", "Recording")) is None
        clock.now += 30
        notice = notices.due()
        assert notice == Notice(
            "recovered",
            "Capture recovered",
            f"It stopped for a moment ({NO_DISPLAY}). Now: Recording.",
        )

    def test_the_same_error_back_before_its_recovery_was_told_is_not_repeated(
        self, clock: FakeClock
    ) -> None:
        notices = self.notices(clock)
        assert notices.observe(error()) is not None
        clock.now += 5
        assert notices.observe(view("recording")) is None  # waits
        clock.now += 5
        assert notices.observe(error()) is None
        clock.now += 60
        # The person was told "disk full" and it is still full: nothing to say.
        assert notices.due() is None
        assert notices.pending is None

    def test_starting_does_not_end_an_error(self, clock: FakeClock) -> None:
        notices = self.notices(clock)
        assert notices.observe(error()) is not None
        clock.now += 60
        assert notices.observe(view("starting")) is None
        assert notices.observe(view("stopped")) is None
        assert notices.observe(error()) is None
