"""The forget confirmation and the timeline's ways into it, offscreen, on a real store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.audit import entries
from mirix_desktop.app.forget import ForgetFilter
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui import timeline_window
from mirix_desktop.ui.forget_dialog import ForgetDialog, confirm_and_forget
from mirix_desktop.ui.qt import QtCore, QtWidgets
from mirix_desktop.ui.timeline_window import TimelineWindow
from tests.helpers.timeline_day import KNOWN_DAY, at, write_known_day
from tests.integration.ui.conftest import StoreServices

WAIT_MS = 15_000
MORNING = ForgetFilter(since=at(9, 0), until=at(9, 30))


def _frames(store: MemoryStore) -> int:
    with store.read() as conn:
        return int(conn.execute("SELECT count(*) FROM frames").fetchone()[0])


@pytest.fixture
def dialog(qtbot: QtBot, services: StoreServices, store: MemoryStore) -> Iterator[ForgetDialog]:
    write_known_day(store)
    made = ForgetDialog(services, MORNING)
    qtbot.add_widget(made)
    made.show()
    made.start()
    qtbot.wait_until(made.forget_button.isEnabled, timeout=WAIT_MS)
    yield made
    assert made.workers.wait(30_000)


def test_the_dialog_names_the_counts_and_forgets_on_forget(
    qtbot: QtBot, dialog: ForgetDialog, store: MemoryStore
) -> None:
    assert dialog.heading.text() == "Forget from 2025-03-12 09:00 to 09:30?"
    text = dialog.message.text()
    assert "60 frames (60 thumbnails), 180 OCR lines, 1 memory, 0 conversations" in text
    assert "cannot be undone" in text
    assert dialog.busy.isHidden()
    before = _frames(store)

    with qtbot.wait_signal(dialog.accepted, timeout=WAIT_MS):
        dialog.forget_button.click()
        assert not dialog.busy.isHidden()  # busy while it runs
        assert not dialog.cancel_button.isEnabled()

    assert dialog.report is not None and dialog.report.counts == dialog.counts
    assert _frames(store) == before - 60
    assert [(e.action, e.actor) for e in entries(store)] == [("forget", "app")]


def test_cancel_forgets_nothing(qtbot: QtBot, dialog: ForgetDialog, store: MemoryStore) -> None:
    before = _frames(store)
    with qtbot.wait_signal(dialog.rejected, timeout=WAIT_MS):
        dialog.cancel_button.click()
    assert dialog.report is None and _frames(store) == before
    assert entries(store) == []


def test_confirm_and_forget_runs_the_whole_way(
    qtbot: QtBot, services: StoreServices, store: MemoryStore
) -> None:
    write_known_day(store)

    def press_forget() -> None:
        shown = QtWidgets.QApplication.activeModalWidget()
        if isinstance(shown, ForgetDialog) and shown.forget_button.isEnabled():
            shown.forget_button.click()
        else:
            QtCore.QTimer.singleShot(20, press_forget)

    QtCore.QTimer.singleShot(20, press_forget)
    assert confirm_and_forget(None, services, ForgetFilter(app="code")) is True
    with store.read() as conn:
        apps = {row[0] for row in conn.execute("SELECT DISTINCT app FROM frames")}
    assert apps == {"firefox", "terminal"}


def test_the_timeline_offers_a_range_and_an_app_to_forget(
    qtbot: QtBot, services: StoreServices, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_known_day(store)
    asked: list[ForgetFilter] = []

    def confirm(parent: object, services: object, flt: ForgetFilter) -> bool:
        asked.append(flt)
        return True

    monkeypatch.setattr(timeline_window, "confirm_and_forget", confirm)
    window = TimelineWindow(services, today=lambda: KNOWN_DAY)
    qtbot.add_widget(window)
    with qtbot.wait_signal(window.moment_shown, timeout=WAIT_MS):
        window.show()
    assert not window.forget_button.isEnabled()

    window.axis.set_range((to_ms(at(9, 40)), to_ms(at(9, 10))))
    assert window.forget_button.isEnabled()
    lane_y = window.axis.lanes_top() + window.axis.lane_height() // 2
    point = QtCore.QPointF(window.axis.plot_rect().left() + 20, lane_y)
    menu = [a.text() for a in window.axis.forget_menu(point).actions()]
    first_lane = window.axis.shown_lanes()[0][1]
    assert menu == ["Forget 09:10–09:40…", f"Forget everything from {first_lane}…"]

    with qtbot.wait_signal(window.day_shown, timeout=WAIT_MS):
        window.forget_button.click()
    assert asked[-1] == ForgetFilter(since=at(9, 10), until=at(9, 40))
    with qtbot.wait_signal(window.day_shown, timeout=WAIT_MS):
        window.chart.forget_requested.emit("terminal")
    assert asked[-1] == ForgetFilter(app="terminal")
    assert window.axis.range is None  # the day was shown again
    assert window.shutdown(timeout_s=30)
