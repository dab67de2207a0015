"""The timeline window as a person uses it, on a known day in a real encrypted store.

Days, moments and searches go through app/timeline.py on the window's
workers, as in the app; keys are pressed on the window's widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.timeline import MomentRef
from mirix_desktop.memory import timeline as timeline_rows
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui import timeline_window
from mirix_desktop.ui.app import moment_ref_of
from mirix_desktop.ui.chat_window import ChatWindow
from mirix_desktop.ui.markdown import memory_url
from mirix_desktop.ui.qt import Qt, QtCore
from mirix_desktop.ui.timeline_window import TITLE, TimelineWindow
from tests.helpers.timeline_day import KNOWN_DAY, KnownDay, at, write_known_day
from tests.integration.ui.conftest import StoreServices

WAIT_MS = 15_000


@pytest.fixture
def known(store: MemoryStore) -> KnownDay:
    return write_known_day(store)


@pytest.fixture
def make_window(
    qtbot: QtBot, services: StoreServices, known: KnownDay
) -> Iterator[Callable[[], TimelineWindow]]:
    made: list[TimelineWindow] = []

    def make() -> TimelineWindow:
        window = TimelineWindow(services, today=lambda: KNOWN_DAY)
        qtbot.add_widget(window)
        made.append(window)
        return window

    yield make
    for window in made:
        assert window.shutdown(timeout_s=30)


def opened(qtbot: QtBot, make_window: Callable[[], TimelineWindow]) -> TimelineWindow:
    """The window shown (it opens on 'today', the known day) and active, for its keys."""
    window = make_window()
    with qtbot.wait_signal(window.moment_shown, timeout=WAIT_MS):
        window.show()
    qtbot.wait_exposed(window)
    window.activateWindow()
    qtbot.wait_until(window.isActiveWindow, timeout=WAIT_MS)
    return window


def press(
    qtbot: QtBot,
    window: TimelineWindow,
    key: Qt.Key,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    qtbot.keyClick(window.axis, key, modifier)


def wait_selected(qtbot: QtBot, window: TimelineWindow, frame_id: int) -> None:
    def shown() -> None:
        assert window.selected_frame_id() == frame_id
        assert window.moment_view.shown is not None
        assert window.moment_view.shown.moment.frame_id == frame_id

    qtbot.wait_until(shown, timeout=WAIT_MS)


def test_a_day_opens_with_its_lanes_chart_and_last_moment(
    qtbot: QtBot, make_window: Callable[[], TimelineWindow], known: KnownDay
) -> None:
    window = opened(qtbot, make_window)
    assert window.windowTitle() == TITLE == "MIRIX — Timeline"
    assert window.day == KNOWN_DAY
    assert sorted(window.index.lanes) == ["code", "firefox", "terminal"]  # type: ignore[union-attr]
    assert {item.app for item in window.chart.apps} == {"code", "firefox", "terminal"}
    # A day opens on its latest moment: what was just done.
    wait_selected(qtbot, window, known.frames["terminal"][-1])
    assert [gap.reason for gap in window.index.gaps if gap.start >= at(9, 0)] == ["screen locked"]  # type: ignore[union-attr]


def test_scrubbing_by_keys(
    qtbot: QtBot, make_window: Callable[[], TimelineWindow], known: KnownDay
) -> None:
    window = opened(qtbot, make_window)
    frames = known.all_frames()
    press(qtbot, window, Qt.Key.Key_Home)
    wait_selected(qtbot, window, frames[0])
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_Right)
    wait_selected(qtbot, window, frames[2])
    press(qtbot, window, Qt.Key.Key_Left)
    wait_selected(qtbot, window, frames[1])
    press(qtbot, window, Qt.Key.Key_End)
    wait_selected(qtbot, window, frames[-1])
    press(qtbot, window, Qt.Key.Key_Right)  # the last frame stays the last
    wait_selected(qtbot, window, frames[-1])
    # Keys in the search box edit the text, not the timeline.
    window.search_box.setFocus()
    window.search_box.setText("abc")
    qtbot.keyClick(window.search_box, Qt.Key.Key_Home)
    assert window.search_box.cursorPosition() == 0
    assert window.selected_frame_id() == frames[-1]


def test_page_keys_change_day_and_an_empty_day_says_so_and_why(
    qtbot: QtBot, make_window: Callable[[], TimelineWindow], known: KnownDay, store: MemoryStore
) -> None:
    before = KNOWN_DAY - timedelta(days=1)
    start, end = at(0, 0, day=before), at(0, 0, day=KNOWN_DAY)
    with store.transaction() as conn:
        timeline_rows.add_off(conn, to_ms(start), to_ms(end), "not_running")
    window = opened(qtbot, make_window)
    with qtbot.wait_signal(window.day_shown, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_PageUp)
    assert window.day == before
    expected = (
        f"Nothing was captured on {before:%A} {before.day} {before:%B %Y}. "
        "Capture was off: MIRIX not running."
    )
    assert window.axis.message == expected
    assert window.moment_view.message_label.text().startswith(expected + "\n")
    assert not window.moment_view.message_label.isHidden()
    assert window.chart.apps == []
    with qtbot.wait_signal(window.day_shown, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_PageDown)
    assert window.day == KNOWN_DAY
    with qtbot.wait_signal(window.day_shown, timeout=WAIT_MS):
        window.show_day(KNOWN_DAY + timedelta(days=3))
    assert window.axis.message is not None and window.axis.message.startswith(
        "Nothing was captured on"
    )
    assert window.axis.message.endswith("That day has not come yet.")


def test_search_marks_matches_and_enter_jumps_between_them(
    qtbot: QtBot, make_window: Callable[[], TimelineWindow], known: KnownDay
) -> None:
    window = opened(qtbot, make_window)
    press(qtbot, window, Qt.Key.Key_Home)
    wait_selected(qtbot, window, known.all_frames()[0])
    window.search_box.setFocus()
    qtbot.keyClicks(window.search_box, "budget")
    with qtbot.wait_signal(window.search_done, timeout=WAIT_MS):
        qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    matches = window.matches
    assert matches, "the budget sheet matches"
    firefox = [m for m in matches if m.frame_id in known.frames["firefox"]]
    assert firefox
    # Every match of the day is marked on the axis, the current one known.
    assert window.axis.matches == sorted(float(to_ms(m.at)) for m in matches)
    first = window.match_number
    assert first is not None
    wait_selected(qtbot, window, matches[first].frame_id)  # type: ignore[arg-type]
    assert window.match_label.text() == f"{first + 1} of {len(matches)}"
    assert window.axis.current_match == first
    # The matched word is marked in the moment shown.
    if matches[first].frame_id in known.frames["firefox"]:
        assert window.moment_view.match_items
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    second = (first + 1) % len(matches)
    assert window.match_number == second
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert window.match_number == first
    wait_selected(qtbot, window, matches[first].frame_id)  # type: ignore[arg-type]


def test_a_chat_citation_opens_its_moment(
    qtbot: QtBot,
    make_window: Callable[[], TimelineWindow],
    services: StoreServices,
    known: KnownDay,
) -> None:
    timeline = make_window()
    timeline.show()
    qtbot.wait_until(lambda: timeline.day is not None, timeout=WAIT_MS)
    timeline.show_day(KNOWN_DAY - timedelta(days=5))  # elsewhere when the citation comes
    qtbot.wait_until(lambda: timeline.day == KNOWN_DAY - timedelta(days=5), timeout=WAIT_MS)
    chat = ChatWindow(services, open_moment=timeline.open_moment)
    qtbot.add_widget(chat)
    try:
        chat.view.anchorClicked.emit(QtCore.QUrl(memory_url(known.memories["code"])))
        # The code episode (09:30-10:00) opens on its day, at its start.
        wait_selected(qtbot, timeline, known.frames["code"][0])
        assert timeline.day == KNOWN_DAY
        assert chat.memory_dialog is None
        assert timeline.axis.view_start <= to_ms(at(9, 30)) <= timeline.axis.view_end
        assert timeline.axis.span < 24 * 3600_000  # opened around the moment, not the whole day
    finally:
        assert chat.shutdown(timeout_s=30)


def test_open_moment_by_frame_and_by_time(
    qtbot: QtBot, make_window: Callable[[], TimelineWindow], known: KnownDay
) -> None:
    window = opened(qtbot, make_window)
    frame = known.frames["firefox"][10]
    window.open_moment(MomentRef(at(15, 0), frame_id=frame))
    wait_selected(qtbot, window, frame)
    window.open_moment(MomentRef(at(10, 31, 40)))
    wait_selected(qtbot, window, known.frames["terminal"][3])


def test_the_chart_filters_lanes_and_the_keys_follow(
    qtbot: QtBot, make_window: Callable[[], TimelineWindow], known: KnownDay
) -> None:
    window = opened(qtbot, make_window)
    window.chart.toggle("firefox")
    assert window.axis.shown_lanes() == [(-1, "firefox")]
    press(qtbot, window, Qt.Key.Key_End)
    wait_selected(qtbot, window, known.frames["firefox"][-1])
    press(qtbot, window, Qt.Key.Key_Right)  # the next frame is code's: not shown
    wait_selected(qtbot, window, known.frames["firefox"][-1])
    press(qtbot, window, Qt.Key.Key_Left)
    wait_selected(qtbot, window, known.frames["firefox"][-2])
    window.chart.toggle("firefox")
    assert len(window.axis.shown_lanes()) == 3


def test_a_slow_day_arriving_late_is_dropped(
    qtbot: QtBot,
    make_window: Callable[[], TimelineWindow],
    known: KnownDay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = opened(qtbot, make_window)
    slow_day = KNOWN_DAY - timedelta(days=2)
    release = threading.Event()
    real_load = timeline_window.load_day

    def load(store: MemoryStore, day: date) -> object:
        if day == slow_day:
            release.wait(10)
        return real_load(store, day)

    monkeypatch.setattr(timeline_window, "load_day", load)
    window.show_day(slow_day)
    with qtbot.wait_signal(window.day_shown, timeout=WAIT_MS):
        window.show_day(KNOWN_DAY)
    release.set()
    assert window.workers.wait(WAIT_MS)
    qtbot.wait(50)  # the slow result's signal, if it were to be shown
    assert window.day == KNOWN_DAY
    assert window.date_edit.date() == QtCore.QDate(2025, 3, 12)


def test_ipc_arguments_become_a_moment() -> None:
    ref = moment_ref_of({"window": "timeline", "at": "2025-03-12T09:15:00+00:00", "memory_id": 4})
    assert ref is not None
    assert ref.at.isoformat() == "2025-03-12T09:15:00+00:00"
    assert ref.memory_id == 4 and ref.frame_id is None
    only_frame = moment_ref_of({"window": "timeline", "frame_id": 7})
    assert only_frame is not None and only_frame.frame_id == 7
    assert moment_ref_of({"window": "timeline"}) is None


@pytest.mark.expected_log("mirix.ui.app", "WARNING", "not ISO 8601|not a number")
def test_bad_ipc_arguments_are_left_out() -> None:
    assert moment_ref_of({"window": "timeline", "at": "soon", "frame_id": "x"}) is None
