"""The timeline's axis: lanes, blocks, gaps, marks, hover, scrubbing and zoom, on a known day.

The day is written into a real store (tests/helpers/timeline_day.py) and read
back through app/timeline.py; what is checked is what is painted (pixels of
the widget's grab) and what the pointer gets.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.timeline import app_colour, load_day
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.day_index import DayIndex, ms
from mirix_desktop.ui.qt import Qt, QtCore, QtGui
from mirix_desktop.ui.timeline_axis import MIN_SPAN_MS, TimelineAxis
from tests.helpers.timeline_day import KnownDay, at, write_known_day


@pytest.fixture
def known(store: MemoryStore) -> KnownDay:
    return write_known_day(store)


@pytest.fixture
def index(store: MemoryStore, known: KnownDay) -> DayIndex:
    return DayIndex.build(load_day(store, known.day))


@pytest.fixture
def axis(qtbot: QtBot, index: DayIndex) -> TimelineAxis:
    widget = TimelineAxis()
    qtbot.add_widget(widget)
    widget.resize(1200, 300)
    widget.set_day(index)
    # 08:45-11:00: every stretch of the known day, wide enough to tell apart.
    widget.set_view(ms(at(8, 45)), ms(at(11, 0)))
    return widget


def pixel(axis: TimelineAxis, moment: datetime, y: float) -> QtGui.QColor:
    image = axis.grab().toImage()
    ratio = image.devicePixelRatio()
    return image.pixelColor(round(axis.x_of(ms(moment)) * ratio), round(y * ratio))


def lane_middle(axis: TimelineAxis, app: str) -> float:
    rows = [label for _lane, label in axis.shown_lanes()]
    return axis.lanes_top() + rows.index(app) * axis.lane_height() + axis.lane_height() * 0.4


def test_one_lane_per_app_with_its_blocks_in_its_colour(axis: TimelineAxis) -> None:
    assert sorted(label for _lane, label in axis.shown_lanes()) == ["code", "firefox", "terminal"]
    firefox_row = lane_middle(axis, "firefox")
    code_row = lane_middle(axis, "code")
    assert pixel(axis, at(9, 15), firefox_row) == QtGui.QColor(app_colour("firefox"))
    assert pixel(axis, at(9, 45), code_row) == QtGui.QColor(app_colour("code"))
    # Each block only in its own lane, only in its own time.
    assert pixel(axis, at(9, 45), firefox_row) != QtGui.QColor(app_colour("firefox"))
    assert pixel(axis, at(9, 15), code_row) != QtGui.QColor(app_colour("code"))


def test_a_gap_is_drawn_hatched_with_its_reason(axis: TimelineAxis) -> None:
    base = axis.palette().color(QtGui.QPalette.ColorRole.Base)
    row = lane_middle(axis, "terminal")
    # 10:00-10:30 the screen was locked: no lane shows the base colour there.
    assert pixel(axis, at(10, 15), row) != base
    assert pixel(axis, at(10, 35), row) != pixel(axis, at(10, 15), row)
    text = axis.describe(QtCore.QPointF(axis.x_of(ms(at(10, 15))), row))
    assert text is not None and "screen locked" in text


def test_hover_says_time_app_and_title(axis: TimelineAxis) -> None:
    text = axis.describe(QtCore.QPointF(axis.x_of(ms(at(9, 15))), lane_middle(axis, "firefox")))
    assert text is not None
    assert "09:15" in text
    assert "firefox — Q3 budget - Google Sheets" in text


def test_search_marks_are_drawn_on_the_axis(axis: TimelineAxis) -> None:
    highlight = axis.palette().color(QtGui.QPalette.ColorRole.Highlight)
    mark_y = axis.ruler_height() - 2
    assert pixel(axis, at(9, 20), mark_y) != highlight
    axis.set_matches([float(ms(at(9, 20)))], current=0)
    assert pixel(axis, at(9, 20), mark_y) == highlight


def test_click_and_drag_scrub(qtbot: QtBot, axis: TimelineAxis) -> None:
    y = round(lane_middle(axis, "code"))
    start = QtCore.QPoint(round(axis.x_of(ms(at(9, 40)))), y)
    with qtbot.wait_signal(axis.scrubbed, timeout=1000) as blocker:
        qtbot.mousePress(axis, Qt.MouseButton.LeftButton, pos=start)
    assert abs(blocker.args[0] - ms(at(9, 40))) < axis.span / axis.plot_rect().width() * 2
    seen: list[float] = []
    axis.scrubbed.connect(seen.append)
    for minute in (42, 44, 46):
        point = QtCore.QPoint(round(axis.x_of(ms(at(9, minute)))), y)
        qtbot.mouseMove(axis, point)
    qtbot.mouseRelease(axis, Qt.MouseButton.LeftButton, pos=point)
    assert seen and abs(seen[-1] - ms(at(9, 46))) < 30_000


def test_ctrl_wheel_zooms_around_the_pointer_down_to_ten_minutes(
    qtbot: QtBot, axis: TimelineAxis, index: DayIndex
) -> None:
    axis.set_view(index.start_ms, index.end_ms)
    assert axis.span == index.end_ms - index.start_ms
    x = axis.x_of(ms(at(9, 30)))
    for _ in range(30):
        event = QtGui.QWheelEvent(
            QtCore.QPointF(x, 50),
            axis.mapToGlobal(QtCore.QPointF(x, 50)),
            QtCore.QPoint(),
            QtCore.QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.ControlModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QtCore.QCoreApplication.sendEvent(axis, event)
    assert axis.span == MIN_SPAN_MS
    # The time under the pointer stayed under it.
    assert abs(axis.time_at(x) - ms(at(9, 30))) < 1000
    axis.zoom(1 / 1000)
    assert axis.span == index.end_ms - index.start_ms


def test_a_layer_is_painted_once_and_scrubbing_only_moves_the_line(axis: TimelineAxis) -> None:
    target = QtGui.QImage(axis.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    axis.render(target)
    builds = axis.layer_builds
    assert builds >= 1
    for minute in range(0, 30, 3):
        axis.set_selected(float(ms(at(9, minute))))
        axis.render(target)
    assert axis.layer_builds == builds
    axis.set_view(axis.view_start + 60_000, axis.view_end + 60_000)
    axis.render(target)
    assert axis.layer_builds == builds + 1
