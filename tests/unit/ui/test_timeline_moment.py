"""The moment view and the time-per-app chart, on moments of a known day read from a real store."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.timeline import load_day, load_moment
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.app_chart import AppChart, duration_text
from mirix_desktop.ui.moment_view import MomentView, ShownMoment
from mirix_desktop.ui.qt import Qt, QtCore, QtGui
from tests.helpers.timeline_day import BUDGET_LINE, KnownDay, write_known_day


@pytest.fixture
def known(store: MemoryStore) -> KnownDay:
    return write_known_day(store)


@pytest.fixture
def view(qtbot: QtBot) -> MomentView:
    widget = MomentView()
    qtbot.add_widget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.wait_exposed(widget)
    return widget


def shown(store: MemoryStore, frame_id: int) -> ShownMoment:
    return ShownMoment.prepare(load_moment(store, frame_id))


def test_the_text_is_drawn_at_its_boxes_over_the_picture(
    store: MemoryStore, known: KnownDay, view: MomentView
) -> None:
    view.show_moment(shown(store, known.frames["firefox"][3]))
    (budget,) = [item for item in view.line_items if item.line.text == BUDGET_LINE]
    # Scene coordinates are the screen's: the line sits where OCR found it ...
    assert budget.sceneBoundingRect() == QtCore.QRectF(100, 300, 1200, 40)
    # ... over the picture stretched to that screen, so box and picture agree.
    picture = view._picture
    assert picture is not None
    assert picture.sceneBoundingRect() == QtCore.QRectF(0, 0, 1920, 1080)

    # And it is painted there: hiding the text changes that box, and nothing far from any line.
    def at_scene(image: QtGui.QImage, x: float, y: float) -> QtGui.QColor:
        point = view.view.mapFromScene(QtCore.QPointF(x, y))
        ratio = image.devicePixelRatio()
        return image.pixelColor(round(point.x() * ratio), round(point.y() * ratio))

    with_text = view.view.grab().toImage()
    view.show_text_box.setChecked(False)
    without = view.view.grab().toImage()
    box = [(x, 320) for x in range(110, 1290, 6)]
    assert any(at_scene(with_text, x, y) != at_scene(without, x, y) for x, y in box)
    assert at_scene(with_text, 1700, 900) == at_scene(without, 1700, 900)
    assert view.app_label.text() == "firefox"
    assert view.title_label.text() == "Q3 budget - Google Sheets"
    assert view.url_label.text() == "https://docs.google.com/spreadsheets/q3"
    assert view.when_label.text().startswith("Wednesday 12 March 2025, 09:01:30")


def test_copy_all_text_and_the_selected_lines(
    qtbot: QtBot, store: MemoryStore, known: KnownDay, view: MomentView
) -> None:
    view.show_moment(shown(store, known.frames["firefox"][0]))
    clipboard = QtGui.QGuiApplication.clipboard()
    assert clipboard is not None
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    assert clipboard.text() == "\n".join(
        ["Q3 budget - Google Sheets", BUDGET_LINE, "Travel is capped at 3,000 EUR (row 0)"]
    )
    (budget,) = [item for item in view.line_items if item.line.text == BUDGET_LINE]
    budget.setSelected(True)
    view.view.setFocus()
    qtbot.keyClick(view.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == BUDGET_LINE


def test_matched_words_are_marked_at_their_boxes(
    store: MemoryStore, known: KnownDay, view: MomentView
) -> None:
    view.show_moment(shown(store, known.frames["firefox"][0]), ["budget"])
    rects = sorted((item.rect() for item in view.match_items), key=lambda r: r.y())
    assert len(rects) == 2  # the title line and the budget line
    per_char = 1200 / len(BUDGET_LINE)
    start = BUDGET_LINE.lower().index("budget")
    budget = rects[1]
    assert budget.y() == 300 and budget.height() == 40
    assert abs(budget.x() - (100 + start * per_char)) <= 1
    assert abs(budget.width() - len("budget") * per_char) <= 1
    view.set_words([])
    assert view.match_items == []


def test_a_missing_picture_leaves_the_text_and_says_so(
    store: MemoryStore, known: KnownDay, view: MomentView
) -> None:
    view.show_moment(shown(store, known.no_picture))
    assert view._picture is None
    assert not view.problem_label.isHidden()
    assert view.problem_label.text().startswith("No picture:")
    assert "Its text is shown alone" in view.problem_label.text()
    assert view.line_items[0].line.text.startswith("load average")
    assert all(item.isVisible() for item in view.line_items)
    view.show_text_box.setChecked(False)
    assert all(item.isVisible() for item in view.line_items)  # nothing else to see


def test_a_damaged_picture_is_said_too(
    view: MomentView, store: MemoryStore, known: KnownDay
) -> None:
    moment = load_moment(store, known.frames["code"][0])
    damaged = ShownMoment.prepare(
        type(moment)(**{**moment.__dict__, "thumbnail": b"\x89PNG not really", "problem": None})
    )
    view.show_moment(damaged)
    assert damaged.image is None
    assert "cannot be read" in view.problem_label.text()
    assert len(view.line_items) == 2


def test_the_chart_lists_apps_busiest_first_and_a_click_filters(
    qtbot: QtBot, store: MemoryStore, known: KnownDay
) -> None:
    chart = AppChart()
    qtbot.add_widget(chart)
    chart.resize(300, 200)
    chart.set_apps(load_day(store, known.day).apps)
    assert [item.app for item in chart.apps][-1] == "terminal"
    assert {round(item.seconds) for item in chart.apps} == {1800, 900}
    row = [item.app for item in chart.apps].index("terminal")
    centre = chart.row_rect(row).center()
    with qtbot.wait_signal(chart.app_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=centre)
    assert blocker.args == ["terminal"]
    with qtbot.wait_signal(chart.app_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=centre)
    assert blocker.args == [None]
    assert duration_text(3900) == "1 h 05 min"
