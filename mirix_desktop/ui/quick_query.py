"""The quick query box ("MIRIX Quick Query"): find or ask without leaving what you do.

A frameless box, on top, centred on the screen the pointer is on, opened by
the global hotkey (ui/hotkey.py) or `mirix-desktop query`. Results follow
the typing: the first key after a pause searches at once, keys typed
quickly after it wait until typing rests for `DEBOUNCE_MS`; every search
runs on a worker and carries a sequence number, and results of a query the
person has typed past are dropped, never shown over newer ones.

Keys: ↑/↓ choose a result, Enter opens it in the timeline at that moment
(`open_requested` with a MomentRef; the app shows the timeline), Ctrl+Enter
asks the assistant, whose answer streams into the box with citations that
open the timeline too, and Esc closes the box and gives focus back to the
window the person was in. The answer is kept in the chat history like any
other, also when the box closes before it ended.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mirix_desktop.app.quick_query import RESULTS, QuickHit, QuickResults, quick_search
from mirix_desktop.app.timeline import MomentRef
from mirix_desktop.assistant.assistant import Answer
from mirix_desktop.llm.base import ChatModel
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.chat_render import plain_paragraphs
from mirix_desktop.ui.hotkey import FocusKeeper
from mirix_desktop.ui.markdown import link_colour, markdown_to_html, memory_id_of, memory_url
from mirix_desktop.ui.qt import QtCore, QtGui, QTimer, QtWidgets, Signal
from mirix_desktop.ui.sizing import text_size
from mirix_desktop.ui.workers import AnswerJob, Services, Workers

log = logging.getLogger("mirix.ui.quick_query")

TITLE = "MIRIX Quick Query"
DEBOUNCE_MS = 120
STREAM_INTERVAL_MS = 50
HELP_TEXT = "Enter: open in the timeline · Ctrl+Enter: ask · Esc: close"
COLUMNS, LINES = 84, 26
# A row's snippet: what fits beside the colour bar, bold words counted wider.
SNIPPET_CHARS = COLUMNS - 12


class _Prepared:
    """A finished answer drawn on its worker: HTML, and when each cited memory was."""

    def __init__(self, html_text: str, moments: dict[int, datetime]) -> None:
        self.html = html_text
        self.moments = moments


class _ColourBar(QtWidgets.QWidget):
    """The app's colour beside a row: painted, so a new colour costs no style sheet."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("appColour")
        self.colour = QtGui.QColor()

    def set_colour(self, colour: str) -> None:
        self.colour = QtGui.QColor(colour)
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        if not self.colour.isValid():
            return
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(self.colour)
        painter.drawRoundedRect(QtCore.QRectF(self.rect()), 2, 2)
        painter.end()


class ResultRow(QtWidgets.QWidget):
    """One result: the app's colour, title, app and time, the snippet with its words in bold.

    The box keeps a fixed set of rows and shows each new result in one of
    them (`show_hit`): building eight rows of widgets per keystroke cost
    ~35 ms of a loaded machine's time between the results and their paint.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.hit: QuickHit | None = None
        self.setObjectName("quickResult")
        self.bar = _ColourBar()
        self.bar.setFixedWidth(max(4, self.fontMetrics().averageCharWidth() // 2))
        self.title = QtWidgets.QLabel()
        self.title.setObjectName("resultTitle")
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        self.title.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.where = QtWidgets.QLabel()
        self.where.setObjectName("resultWhen")
        self.where.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.snippet = QtWidgets.QLabel()
        self.snippet.setObjectName("resultSnippet")
        self.snippet.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.snippet.setWordWrap(False)
        # The row is as wide as the list, whatever its texts would like: long
        # ones are cut (titles with "…"), the time stays in view.
        ignored = QtWidgets.QSizePolicy.Policy.Ignored
        preferred = QtWidgets.QSizePolicy.Policy.Preferred
        for label in (self.title, self.snippet):
            label.setSizePolicy(ignored, preferred)
            label.setMinimumWidth(1)
        head = QtWidgets.QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.where, 0)
        text = QtWidgets.QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.setSpacing(1)
        text.addLayout(head)
        text.addWidget(self.snippet)
        row = QtWidgets.QHBoxLayout(self)
        margin = self.fontMetrics().averageCharWidth()
        row.setContentsMargins(margin // 2, margin // 3, margin, margin // 3)
        row.setSpacing(margin)
        row.addWidget(self.bar)
        row.addLayout(text, 1)
        self.set_selected(False)

    def show_hit(self, hit: QuickHit) -> None:
        """This row shows `hit` now: its texts and colour replaced in place."""
        self.hit = hit
        self.bar.set_colour(hit.colour)
        self.where.setText(" · ".join(p for p in (hit.app, hit.when) if p))
        self.snippet.setText(hit.snippet_html())
        self.setAccessibleName(f"{hit.title}, {hit.app or 'no app'}, {hit.when}")
        self._elide_title()

    def set_selected(self, selected: bool) -> None:
        """Text in the highlight's own colour on a selected row, so it stays readable."""
        role = QtGui.QPalette.ColorRole
        self.title.setForegroundRole(role.HighlightedText if selected else role.WindowText)
        self.snippet.setForegroundRole(role.HighlightedText if selected else role.WindowText)
        self.where.setForegroundRole(role.HighlightedText if selected else role.PlaceholderText)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide_title()

    def _elide_title(self) -> None:
        # Long titles end in "…" rather than pushing the time out of the row.
        if self.hit is None:
            return
        room = max(10, self.title.width())
        self.title.setText(
            self.title.fontMetrics().elidedText(
                self.hit.title, QtCore.Qt.TextElideMode.ElideRight, room
            )
        )


class QueryInput(QtWidgets.QLineEdit):
    """The query line: the box's keys go to the box, the rest to the line."""

    key_pressed = Signal(object)  # QKeyEvent the box handles (arrows, Enter, Esc)

    BOX_KEYS = (
        QtCore.Qt.Key.Key_Up,
        QtCore.Qt.Key.Key_Down,
        QtCore.Qt.Key.Key_PageUp,
        QtCore.Qt.Key.Key_PageDown,
        QtCore.Qt.Key.Key_Return,
        QtCore.Qt.Key.Key_Enter,
        QtCore.Qt.Key.Key_Escape,
    )

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in self.BOX_KEYS:
            self.key_pressed.emit(event)
            event.accept()
            return
        super().keyPressEvent(event)


class QuickQueryBox(QtWidgets.QWidget):
    """See the module docstring. `open(text)` shows it; `dismiss()` hides it."""

    open_requested = Signal(object)  # MomentRef: show the timeline there
    results_shown = Signal(object)  # QuickResults, once drawn (tests, the benchmark)
    answer_finished = Signal(object)  # Answer

    def __init__(
        self,
        services: Services,
        parent: QtWidgets.QWidget | None = None,
        *,
        focus: FocusKeeper | None = None,
        debounce_ms: int = DEBOUNCE_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.focus_keeper = focus if focus is not None else FocusKeeper()
        self.debounce_ms = debounce_ms
        self._clock = clock
        self.workers = Workers(self, max_threads=2)
        self.setWindowTitle(TITLE)
        self.setObjectName("quickQuery")
        self.setWindowFlags(
            QtCore.Qt.WindowType.Window
            | QtCore.Qt.WindowType.FramelessWindowHint
            | QtCore.Qt.WindowType.WindowStaysOnTopHint
        )
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose, False)

        self.seq = 0  # the query typed last; a result of any other is stale
        self.searches_started = 0
        self.dropped = 0
        self.results: QuickResults | None = None
        self._last_key: float | None = None
        self._was_active = False
        self._model: ChatModel | None = None
        self._model_built = False
        self._model_lock = threading.Lock()
        self.job: AnswerJob | None = None
        self._answer_text = ""
        self._streamed = 0
        self._moments: dict[int, datetime] = {}

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.timeout.connect(self._search_now)
        self._stream_timer = QTimer(self)
        self._stream_timer.setSingleShot(True)
        self._stream_timer.setInterval(STREAM_INTERVAL_MS)
        self._stream_timer.timeout.connect(self._show_streamed)
        self._build()

    # -- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        frame = QtWidgets.QFrame(self)
        frame.setObjectName("quickQueryFrame")
        # A frameless window draws its own edge, in the palette's colours.
        frame.setStyleSheet(
            "QFrame#quickQueryFrame { background: palette(window); "
            "border: 1px solid palette(dark); border-radius: 8px; }"
        )
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frame)

        self.input = QueryInput()
        self.input.setObjectName("quickQueryInput")
        self.input.setAccessibleName("Search your memories")
        self.input.setPlaceholderText("Search what you saw… (Ctrl+Enter asks)")
        self.input.setClearButtonEnabled(True)
        big = self.input.font()
        big.setPointSizeF(big.pointSizeF() * 1.35)
        self.input.setFont(big)
        self.input.textChanged.connect(self._on_text_changed)
        self.input.key_pressed.connect(self._on_box_key)

        self.chip = QtWidgets.QLabel()
        self.chip.setObjectName("timeChip")
        self.chip.setAccessibleName("Time filter")
        self.chip.setStyleSheet(
            "QLabel#timeChip { background: palette(highlight); color: palette(highlighted-text); "
            "border-radius: 9px; padding: 2px 8px; }"
        )
        self.chip.hide()

        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.input, 1)
        top.addWidget(self.chip, 0)

        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("quickResults")
        self.list.setAccessibleName("Results")
        self.list.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.list.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(True)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemActivated.connect(lambda _item: self.open_selected())
        self.list.itemClicked.connect(lambda _item: self.open_selected())
        # A fixed set of rows, built once and reused by every query (ResultRow).
        self.rows: list[ResultRow] = []
        for _ in range(RESULTS):
            item = QtWidgets.QListWidgetItem(self.list)
            row = ResultRow()
            self.list.setItemWidget(item, row)
            item.setSizeHint(QtCore.QSize(1, row.sizeHint().height()))
            item.setHidden(True)
            self.rows.append(row)

        self.answer = QtWidgets.QTextBrowser()
        self.answer.setObjectName("quickAnswer")
        self.answer.setAccessibleName("Answer")
        self.answer.setOpenLinks(False)
        self.answer.setOpenExternalLinks(False)
        self.answer.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.answer.anchorClicked.connect(self._on_link)
        self.answer.hide()

        self.status = QtWidgets.QLabel(HELP_TEXT)
        self.status.setObjectName("quickStatus")
        self.status.setForegroundRole(QtGui.QPalette.ColorRole.PlaceholderText)
        self.status.setTextFormat(QtCore.Qt.TextFormat.PlainText)

        layout = QtWidgets.QVBoxLayout(frame)
        margin = self.fontMetrics().averageCharWidth() * 2
        layout.setContentsMargins(margin, margin, margin, margin // 2)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.answer, 1)
        layout.addWidget(self.status)
        self.resize(text_size(self, COLUMNS, LINES))

    # -- showing and hiding ----------------------------------------------------------------------
    def open(self, text: str | None = None) -> None:
        """Shows the box over the person's work, with `text` typed in (None: as it was)."""
        if not self.isVisible():
            own = (
                {int(self.winId())}
                if self.testAttribute(QtCore.Qt.WidgetAttribute.WA_WState_Created)
                else set()
            )
            self.focus_keeper.remember(own)
            self._place()
        if text is not None:
            self.input.setText(text)
        self.input.selectAll()
        self.show()
        self.raise_()
        self.activateWindow()
        self.input.setFocus(QtCore.Qt.FocusReason.ActiveWindowFocusReason)

    def dismiss(self, *, restore_focus: bool = True) -> None:
        """Hides the box; focus goes back to the window the person was in."""
        self._debounce.stop()
        was_visible = self.isVisible()
        self._was_active = False
        self.hide()
        if restore_focus and was_visible:
            self.focus_keeper.restore()
        else:
            self.focus_keeper.remembered = None

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """For quitting: stops an answer (kept partial), waits for the workers, closes the model."""
        if self.job is not None:
            self.job.cancel.cancel()
        done = self.workers.wait(int(timeout_s * 1000))
        if done and self._model is not None:
            self._model.close()
            self._model = None
        self.focus_keeper.close()
        return done

    def _place(self) -> None:
        """Centred on the screen the pointer is on (where the person is looking)."""
        screen = QtGui.QGuiApplication.screenAt(QtGui.QCursor.pos()) or self.screen()
        area = screen.availableGeometry()
        size = text_size(self, COLUMNS, LINES)
        self.resize(size)
        x = area.x() + (area.width() - size.width()) // 2
        # A little above the middle, where a search box is looked for.
        y = area.y() + max(0, (area.height() - size.height()) * 2 // 5)
        self.move(x, y)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.ActivationChange:
            if self.isActiveWindow():
                self._was_active = True
            elif self._was_active and self.isVisible():
                # The person clicked elsewhere: they are back at work there.
                self.dismiss(restore_focus=False)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        event.ignore()
        self.dismiss()

    # -- searching -----------------------------------------------------------------------------
    def _on_text_changed(self, _text: str) -> None:
        self.seq += 1
        self._show_results_view()
        now = self._clock()
        quiet = self._last_key is None or (now - self._last_key) * 1000 >= self.debounce_ms
        self._last_key = now
        if quiet and not self._debounce.isActive():
            # The first key after a pause: its results at once.
            self._search_now()
        else:
            self._debounce.start(self.debounce_ms)

    def _search_now(self) -> None:
        self._debounce.stop()
        seq, text = self.seq, self.input.text()
        if not text.strip():
            self._show(QuickResults(text), seq)
            return
        self.searches_started += 1
        services = self.services
        self.workers.run(
            "quick search",
            lambda: quick_search(
                services.store(), services.settings, text, snippet_chars=SNIPPET_CHARS
            ),
            lambda results: self._show(results, seq),
            lambda problem: self._failed(problem, seq),
        )

    def _show(self, results: QuickResults, seq: int) -> None:
        if seq != self.seq:
            self.dropped += 1  # the person typed on: an older query's results
            return
        self.results = results
        hits = results.hits[: len(self.rows)]
        self.list.setUpdatesEnabled(False)
        for index, row in enumerate(self.rows):
            item = self.list.item(index)
            if index < len(hits):
                row.show_hit(hits[index])
            else:
                row.hit = None
            if item is not None and item.isHidden() != (index >= len(hits)):
                item.setHidden(index >= len(hits))
        self.list.setCurrentRow(0 if hits else -1)
        self.list.scrollToTop()
        self.list.setUpdatesEnabled(True)
        if results.chip:
            self.chip.setText(results.chip)
            self.chip.setToolTip(results.chip_tooltip or "")
            self.chip.show()
        else:
            self.chip.hide()
        if results.hint:
            self.status.setText(results.hint)
        elif results.query.strip() and not results.hits:
            self.status.setText("No memories match. Ctrl+Enter asks the assistant anyway.")
        else:
            self.status.setText(HELP_TEXT)
        self.results_shown.emit(results)

    def _failed(self, problem: str, seq: int) -> None:
        if seq == self.seq:
            self.status.setText(f"Cannot search: {problem}")

    # -- keys ------------------------------------------------------------------------------------
    def _on_box_key(self, event: QtGui.QKeyEvent) -> None:
        key = event.key()
        count = len(self.shown_rows())
        if key == QtCore.Qt.Key.Key_Escape:
            self.dismiss()
        elif key in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter):
            if event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
                self.ask()
            else:
                self.open_selected()
        elif count and key in (QtCore.Qt.Key.Key_Down, QtCore.Qt.Key.Key_PageDown):
            self.list.setCurrentRow(min(count - 1, self.list.currentRow() + 1))
        elif count and key in (QtCore.Qt.Key.Key_Up, QtCore.Qt.Key.Key_PageUp):
            self.list.setCurrentRow(max(0, self.list.currentRow() - 1))

    def _on_current_changed(
        self, current: QtWidgets.QListWidgetItem | None, previous: QtWidgets.QListWidgetItem | None
    ) -> None:
        for item, selected in ((previous, False), (current, True)):
            row = self.list.itemWidget(item) if item is not None else None
            if isinstance(row, ResultRow):
                row.set_selected(selected)

    def shown_rows(self) -> list[ResultRow]:
        """The rows showing a result now, top first."""
        return [row for row in self.rows if row.hit is not None]

    def selected_hit(self) -> QuickHit | None:
        item = self.list.currentItem()
        row = self.list.itemWidget(item) if item is not None else None
        if item is None or item.isHidden() or not isinstance(row, ResultRow):
            return None
        return row.hit

    def open_selected(self) -> None:
        """Enter: the selected result in the timeline, at its moment."""
        if self._debounce.isActive():
            # Enter right after typing: the results of what is typed now first.
            self._search_now()
            return
        hit = self.selected_hit()
        if hit is None:
            return
        self._open(MomentRef(at=hit.at, memory_id=hit.id))

    def _open(self, ref: MomentRef) -> None:
        log.info("opening the timeline at %s (memory %s)", ref.at.isoformat(), ref.memory_id)
        self.dismiss(restore_focus=False)
        self.open_requested.emit(ref)

    # -- asking -----------------------------------------------------------------------------------
    def ask(self) -> None:
        """Ctrl+Enter: the assistant answers the query, streamed into the box."""
        question = self.input.text().strip()
        if not question:
            return
        if self.job is not None:
            self.status.setText("An answer is still coming…")
            return
        self._debounce.stop()
        self.seq += 1  # results of searches still running are stale now
        job = AnswerJob(self.services, self._chat_model, question, None, _preparing(link_colour()))
        self.job = job
        self._answer_text = ""
        self._streamed = 0
        self._moments = {}
        self.answer.clear()
        self.list.hide()
        self.answer.show()
        self.answer.setPlainText("")
        self.status.setText("Thinking…")
        job.signals.chunk.connect(lambda chunk: self._on_chunk(job, chunk))
        job.signals.prepared.connect(lambda prepared: self._on_prepared(job, prepared))
        job.signals.finished.connect(lambda answer: self._on_finished(job, answer))
        job.signals.failed.connect(lambda text: self._on_failed(job, text))
        self.workers.start(job, job.signals.finished, job.signals.failed)

    def _chat_model(self) -> ChatModel | None:
        # Called on the answer's worker: a local model loads there, once.
        with self._model_lock:
            if not self._model_built:
                self._model = self.services.chat_model()
                self._model_built = True
            return self._model

    def _on_chunk(self, job: AnswerJob, chunk: str) -> None:
        if job is not self.job:
            return
        self._answer_text += chunk
        if not self._stream_timer.isActive():
            self._stream_timer.start()

    def _show_streamed(self) -> None:
        text = self._answer_text.rstrip()
        if len(text) <= self._streamed or not self.answer.isVisible():
            return
        cursor = QtGui.QTextCursor(self.answer.document())
        cursor.movePosition(QtGui.QTextCursor.MoveOperation.End)
        for number, paragraph in enumerate(plain_paragraphs(text[self._streamed :])):
            if number:
                cursor.insertBlock()
            cursor.insertText(paragraph)
        self._streamed = len(text)
        self.status.setText("Answering… (Esc closes; the answer is kept in Chat)")

    def _on_prepared(self, job: AnswerJob, prepared: Any) -> None:
        if job is self.job and isinstance(prepared, _Prepared):
            self._stream_timer.stop()
            self._moments = prepared.moments
            if self.answer.isVisible():
                self.answer.setHtml(prepared.html)

    def _on_finished(self, job: AnswerJob, answer: Answer) -> None:
        if job is not self.job:
            return
        self.job = None
        if answer.status == "complete":
            self.status.setText("Citations open the timeline · Esc closes")
        else:
            self.status.setText(f"The answer is {answer.status}: {answer.error or ''}".strip())
        self.answer_finished.emit(answer)

    def _on_failed(self, job: AnswerJob, text: str) -> None:
        if job is not self.job:
            return
        self.job = None
        self._stream_timer.stop()
        self.status.setText(f"Cannot answer: {text}")

    def _on_link(self, url: QtCore.QUrl) -> None:
        memory_id = memory_id_of(url)
        if memory_id is None:
            if url.scheme() in ("http", "https"):
                QtGui.QDesktopServices.openUrl(url)
            return
        at = self._moments.get(memory_id)
        if at is not None:
            self._open(MomentRef(at=at, memory_id=memory_id))

    def _show_results_view(self) -> None:
        if self.answer.isVisible():
            self.answer.hide()
            self.list.show()


def _preparing(link: str) -> Callable[[MemoryStore, Answer], _Prepared]:
    """Draws a finished answer on its worker: Markdown with citation links, then its sources."""

    def prepare(store: MemoryStore, answer: Answer) -> _Prepared:
        cited = {c.number: c.memory_id for c in answer.citations}
        moments: dict[int, datetime] = {}
        sources: list[str] = []
        for citation in answer.citations:
            try:
                at = datetime.fromisoformat(citation.time)
            except ValueError:
                continue
            moments[citation.memory_id] = at
            when = at.astimezone().strftime("%a %d %b %H:%M")
            label = " · ".join(p for p in (citation.app, citation.title, when) if p)
            sources.append(
                f'<p style="margin:2px 0"><a href="{memory_url(citation.memory_id)}">'
                f"[{citation.number}]</a> {html.escape(label)}</p>"
            )
        body = markdown_to_html(answer.text, cited, link)
        return _Prepared(body + "".join(sources), moments)

    return prepare
