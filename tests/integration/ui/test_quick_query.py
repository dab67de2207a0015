"""The quick query box as a person uses it: typing, results, keys, asking, closing.

Offscreen Qt, a real encrypted store, searches on the box's worker threads,
answers from the loopback OpenAI-compatible server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.timeline import MomentRef
from mirix_desktop.memory.records import ResourceMemory
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.qt import Qt, QtCore, QtGui, QtWidgets
from mirix_desktop.ui.quick_query import TITLE, QuickQueryBox, ResultRow
from tests.helpers.fake_openai import FakeOpenAIServer
from tests.integration.ui.conftest import StoreServices

NOW = datetime.now().astimezone()
FERRY = "The pelican ferry Quillwort leaves pier eleven at dawn"


@dataclass
class FakeFocus:
    """FocusKeeper's interface, recording what the box asked of it."""

    remembered: int | None = None
    calls: list[str] = field(default_factory=list)

    def remember(self, own: set[int] | None = None) -> int | None:
        self.calls.append("remember")
        self.remembered = 0x4200001
        return self.remembered

    def restore(self) -> bool:
        self.calls.append(f"restore {self.remembered:#x}" if self.remembered else "restore none")
        self.remembered = None
        return True

    def close(self) -> None:
        self.calls.append("close")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def memories(store: MemoryStore) -> dict[str, int]:
    seen = NOW - timedelta(days=1)
    ids = store.add_many(
        [
            ResourceMemory(
                content=FERRY,
                title="Harbour log - Mousepad",
                app="mousepad",
                first_seen=seen,
                last_seen=seen,
            ),
            ResourceMemory(
                content="Lighthouse keeper rota: Wren on Tuesday, Osprey on Friday night",
                title="Rota - Mousepad",
                app="mousepad",
                first_seen=NOW,
                last_seen=NOW,
            ),
            ResourceMemory(
                content="Quarterly ferry timetable for the northern islands",
                title="Timetable - Firefox",
                app="firefox",
                first_seen=NOW - timedelta(hours=3),
                last_seen=NOW - timedelta(hours=3),
            ),
        ]
    )
    return {"ferry": ids[0], "rota": ids[1], "timetable": ids[2]}


@pytest.fixture
def make_box(
    qtbot: QtBot, services: StoreServices
) -> Iterator[Callable[..., tuple[QuickQueryBox, FakeFocus]]]:
    made: list[QuickQueryBox] = []

    def make(**kwargs: object) -> tuple[QuickQueryBox, FakeFocus]:
        focus = FakeFocus()
        box = QuickQueryBox(services, focus=focus, **kwargs)  # type: ignore[arg-type]
        qtbot.add_widget(box)
        made.append(box)
        return box, focus

    yield make
    for box in made:
        assert box.shutdown(timeout_s=30)


def key(
    widget: QtWidgets.QWidget, which: Qt.Key, modifiers: Qt.KeyboardModifier | None = None
) -> None:
    QtWidgets.QApplication.sendEvent(
        widget,
        QtGui.QKeyEvent(
            QtCore.QEvent.Type.KeyPress,
            which,
            modifiers or Qt.KeyboardModifier.NoModifier,
        ),
    )


def typed(qtbot: QtBot, box: QuickQueryBox, text: str) -> None:
    qtbot.keyClicks(box.input, text)


def row_texts(box: QuickQueryBox) -> list[str]:
    return [row.hit.title for row in box.shown_rows() if row.hit is not None]


def test_results_follow_the_typing_with_app_time_and_marked_words(
    qtbot: QtBot, make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]], memories: dict[str, int]
) -> None:
    box, focus = make_box()
    box.open()
    assert box.windowTitle() == TITLE
    flags = box.windowFlags()
    assert flags & Qt.WindowType.FramelessWindowHint
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert focus.calls == ["remember"]
    with qtbot.waitSignal(
        box.results_shown, timeout=10_000, check_params_cb=lambda r: r.query == "quillwort"
    ):
        typed(qtbot, box, "quillwort")
    assert row_texts(box)[0] == "Harbour log - Mousepad"
    row = box.list.itemWidget(box.list.item(0))
    assert isinstance(row, ResultRow)
    assert "<b>Quillwort</b>" in row.snippet.text()
    assert row.where.text().startswith("mousepad · yesterday ")
    assert box.list.currentRow() == 0


def test_rows_are_reused_and_a_shorter_result_list_leaves_no_stale_row(
    qtbot: QtBot, make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]], memories: dict[str, int]
) -> None:
    box, _ = make_box()
    box.open()
    with qtbot.waitSignal(
        box.results_shown, timeout=10_000, check_params_cb=lambda r: r.query == "ferry"
    ):
        box.input.setText("ferry")
    assert len(box.shown_rows()) == 2
    first = box.list.itemWidget(box.list.item(0))
    with qtbot.waitSignal(
        box.results_shown, timeout=10_000, check_params_cb=lambda r: r.query == "quillwort"
    ):
        box.input.setText("quillwort")
    # The same row widget shows the new result: nothing rebuilt per keystroke.
    assert box.list.itemWidget(box.list.item(0)) is first
    assert row_texts(box) == ["Harbour log - Mousepad"]
    second = box.list.item(1)
    assert second is not None and second.isHidden()
    key(box.input, Qt.Key.Key_Down)  # no second result to go to
    assert box.list.currentRow() == 0
    chosen = box.selected_hit()
    assert chosen is not None and chosen.id == memories["ferry"]


def test_a_time_phrase_shows_as_a_chip(
    qtbot: QtBot, make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]], memories: dict[str, int]
) -> None:
    box, _ = make_box()
    box.open()
    with qtbot.waitSignal(box.results_shown, timeout=10_000):
        box.input.setText("ferry yesterday afternoon")
    qtbot.waitUntil(lambda: box.results is not None and box.results.query.endswith("afternoon"))
    assert box.chip.isVisibleTo(box) and box.chip.text() == "yesterday afternoon"
    assert "12:00 to 18:00" in box.chip.toolTip()
    with qtbot.waitSignal(box.results_shown, timeout=10_000):
        box.input.setText("ferry")
    qtbot.waitUntil(lambda: box.results is not None and box.results.query == "ferry")
    assert not box.chip.isVisibleTo(box)


def test_fast_typing_is_debounced_and_the_first_key_searches_at_once(
    qtbot: QtBot, make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]], memories: dict[str, int]
) -> None:
    clock = FakeClock()
    box, _ = make_box(clock=clock)
    box.open()
    for letter in "quillwort":
        box.input.insert(letter)
        clock.now += 0.02  # 20 ms a key: a fast typist
    # The first key searched at once; the other eight wait for a pause.
    assert box.searches_started == 1
    assert box._debounce.isActive()
    qtbot.waitUntil(lambda: box.searches_started == 2, timeout=2000)
    qtbot.waitUntil(lambda: box.results is not None and box.results.query == "quillwort")
    assert box.searches_started == 2
    # After a pause the next key searches at once again.
    clock.now += 1.0
    box.input.insert(" ferry")
    assert box.searches_started == 3


def test_results_of_a_query_typed_past_are_dropped(
    qtbot: QtBot,
    make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]],
    services: StoreServices,
    memories: dict[str, int],
) -> None:
    release = threading.Event()
    first = threading.Event()
    opened = services.opened
    calls = {"n": 0}
    lock = threading.Lock()

    def slow_first_store() -> MemoryStore:
        with lock:
            calls["n"] += 1
            number = calls["n"]
        if number == 1:
            first.set()
            release.wait(10)  # the first search is slow: it ends after the second
        return opened

    services.store = slow_first_store  # type: ignore[method-assign]
    clock = FakeClock()
    box, _ = make_box(clock=clock)
    box.open()
    shown: list[str] = []
    box.results_shown.connect(lambda results: shown.append(results.query))
    box.input.setText("lighthouse")
    assert first.wait(5)
    clock.now += 0.01
    box.input.setText("ferry")  # typed on quickly: a trailing search
    qtbot.waitUntil(lambda: shown == ["ferry"], timeout=10_000)
    release.set()
    qtbot.waitUntil(lambda: box.dropped == 1, timeout=10_000)
    assert shown == ["ferry"]
    assert box.results is not None and box.results.query == "ferry"
    assert "Rota - Mousepad" not in row_texts(box)[:1]


def test_arrows_choose_and_enter_opens_the_timeline_at_that_moment(
    qtbot: QtBot, make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]], memories: dict[str, int]
) -> None:
    box, focus = make_box()
    box.open()
    with qtbot.waitSignal(box.results_shown, timeout=10_000):
        box.input.setText("ferry")
    qtbot.waitUntil(lambda: len(box.shown_rows()) >= 2)
    titles = row_texts(box)
    key(box.input, Qt.Key.Key_Down)
    assert box.list.currentRow() == 1
    key(box.input, Qt.Key.Key_Up)
    key(box.input, Qt.Key.Key_Up)  # stays on the first
    assert box.list.currentRow() == 0
    key(box.input, Qt.Key.Key_Down)
    assert box.list.currentRow() == 1
    chosen = box.selected_hit()
    assert chosen is not None and chosen.title == titles[1]
    with qtbot.waitSignal(box.open_requested, timeout=2000) as opened:
        key(box.input, Qt.Key.Key_Return)
    assert opened.args == [MomentRef(at=chosen.at, memory_id=chosen.id)]
    assert not box.isVisible()
    # The timeline takes the focus: the previous window is not activated over it.
    assert not [call for call in focus.calls if call.startswith("restore 0x")]


def test_escape_closes_and_gives_focus_back(
    qtbot: QtBot, make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]], memories: dict[str, int]
) -> None:
    box, focus = make_box()
    box.open("ferry")
    assert box.isVisible() and box.input.text() == "ferry"
    key(box.input, Qt.Key.Key_Escape)
    assert not box.isVisible()
    assert focus.calls == ["remember", "restore 0x4200001"]


def test_ctrl_enter_streams_the_answer_with_citations_that_open_the_timeline(
    qtbot: QtBot,
    make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]],
    services: StoreServices,
    memories: dict[str, int],
) -> None:
    with FakeOpenAIServer() as server:
        services.settings.openai.base_url = server.base_url
        services.settings.openai.model = server.model
        services.settings.llm.provider = "openai"
        server.reply(
            "The Quillwort leaves pier eleven at **dawn** [1].", chunk_chars=3, chunk_delay_s=0.03
        )
        box, _ = make_box()
        box.open()
        box.input.setText("when does the quillwort ferry leave?")
        snapshots: list[str] = []
        box.answer.textChanged.connect(lambda: snapshots.append(box.answer.toPlainText()))
        with qtbot.waitSignal(box.answer_finished, timeout=30_000) as finished:
            key(box.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            assert box.answer.isVisibleTo(box) and not box.list.isVisibleTo(box)
        answer = finished.args[0]
        assert answer.status == "complete" and answer.citations
        qtbot.waitUntil(lambda: "mirix-memory:" in box.answer.toHtml())
    # It grew on screen while it streamed.
    growing = [text for text in snapshots if text and "dawn" not in text]
    assert len(growing) >= 2, snapshots
    assert "The Quillwort leaves pier eleven at dawn [1]." in box.answer.toPlainText()
    assert "Harbour log - Mousepad" in box.answer.toPlainText()  # the source under it
    cited = answer.citations[0]
    assert cited.memory_id == memories["ferry"]
    with qtbot.waitSignal(box.open_requested, timeout=2000) as opened:
        box.answer.anchorClicked.emit(QtCore.QUrl(f"mirix-memory:{cited.memory_id}"))
    ref = opened.args[0]
    assert ref.memory_id == memories["ferry"]
    assert ref.at == datetime.fromisoformat(cited.time)


def test_an_empty_query_and_stop_words_show_a_hint_not_an_error(
    qtbot: QtBot, make_box: Callable[..., tuple[QuickQueryBox, FakeFocus]], memories: dict[str, int]
) -> None:
    box, _ = make_box()
    box.open()
    with qtbot.waitSignal(box.results_shown, timeout=10_000):
        box.input.setText('" NEAR( *')
    qtbot.waitUntil(lambda: box.results is not None and box.results.query == '" NEAR( *')
    # "near" is a word: searched. Pure syntax is not.
    with qtbot.waitSignal(box.results_shown, timeout=10_000):
        box.input.setText('" * the')
    qtbot.waitUntil(lambda: box.results is not None and box.results.query == '" * the')
    assert box.shown_rows() == []
    assert box.selected_hit() is None
    assert box.status.text() == "Type a word to search for."
