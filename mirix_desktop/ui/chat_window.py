"""The chat window ("MIRIX — Chat"): conversations with the assistant, answers streamed.

Left, the conversations (filterable; New chat, Ctrl+N); right, the one shown,
rendered by ui/chat_render.py, with the question box and Send, Stop, Copy,
Retry, and who answers (ui/provider_picker.py). Every store and model call
runs on a worker (ui/workers.py); slots here only update widgets. An answer
is appended as plain text while it streams and drawn as Markdown, with its
sources, once it ended; that drawing is prepared on its worker too, so the
GUI thread never stalls for long (tests/benchmarks/gui_stall.py).

Nothing said is lost: the assistant stores each question before asking and
each answer when its stream ends, whatever the window does meanwhile. An
answer runs in its own `ChatSession`; switching conversations or closing
the window leaves it running in the background, Stop keeps it as a partial
answer, and an error mid-stream keeps the text that arrived, under a note.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mirix_desktop.app.records import ShownRecord, get_record
from mirix_desktop.app.timeline import MomentRef
from mirix_desktop.assistant.assistant import Answer
from mirix_desktop.memory.records import MemoryType
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.chat_render import (
    Colours,
    empty_html,
    plain_paragraphs,
    render_turn,
    render_turns,
)
from mirix_desktop.ui.chat_turns import (
    ConversationSummary,
    LoadedConversation,
    Source,
    Turn,
    finished_turn,
    list_conversations,
    load_conversation,
    remembered_of,
    sources_for_answer,
)
from mirix_desktop.ui.markdown import memory_id_of
from mirix_desktop.ui.memory_view import MemoryDialog
from mirix_desktop.ui.provider_picker import ModelSlot, ProviderPicker
from mirix_desktop.ui.qt import QtCore, QtGui, QTimer, QtWidgets, Signal
from mirix_desktop.ui.sizing import text_size
from mirix_desktop.ui.workers import AnswerJob, Services, Workers

log = logging.getLogger("mirix.ui.chat")

TITLE = "MIRIX — Chat"
# While an answer streams, its new text is appended at most this often (a
# model sends tens of chunks a second), as plain text: the answer is rendered
# as Markdown once, when it ends. Rendering the whole answer again for every
# few words cost the GUI thread more with each: 5-10 ms for 4,000 characters,
# several times that while capture keeps the CPU busy.
STREAM_INTERVAL_MS = 50
ID_ROLE = QtCore.Qt.ItemDataRole.UserRole
# Memories of what was on screen have a moment to show; the others a text.
SEEN_ON_SCREEN = frozenset({MemoryType.EPISODIC, MemoryType.RESOURCE})


@dataclass(frozen=True)
class PreparedAnswer:
    """A finished answer as its worker prepared it: its sources, and its turn drawn."""

    sources: list[Source]
    html: str  # the turn as render_turn draws it
    fragment: QtGui.QTextDocumentFragment  # that HTML, parsed


@dataclass(eq=False)
class ChatSession:
    """One conversation as the window holds it; `job` is its answer still coming."""

    conversation_id: int | None
    turns: list[Turn] = field(default_factory=list)
    job: AnswerJob | None = None
    slot: ModelSlot | None = None


class QuestionBox(QtWidgets.QPlainTextEdit):
    """The question: Enter sends, Shift+Enter starts a new line."""

    submitted = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setPlaceholderText("Ask about something you saw… (Enter sends, Shift+Enter: new line)")
        self.setAccessibleName("Question")

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        enter = event.key() in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter)
        if enter and not event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        if enter:
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)

    def sizeHint(self) -> QtCore.QSize:
        lines = 3
        height = (
            self.fontMetrics().lineSpacing() * lines
            + 2 * int(self.document().documentMargin())
            + 2 * self.frameWidth()
        )
        return QtCore.QSize(super().sizeHint().width(), height)


class ChatWindow(QtWidgets.QMainWindow):
    """The chat: see the module docstring."""

    def __init__(
        self,
        services: Services,
        parent: QtWidgets.QWidget | None = None,
        *,
        open_moment: Callable[[MomentRef], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        # Where citations of things seen on screen go: the timeline, at that moment.
        self.open_moment = open_moment
        self.setWindowTitle(TITLE)
        self.setObjectName("chatWindow")
        self.workers = Workers(self)
        self.session = ChatSession(None)
        self._background: list[ChatSession] = []  # sessions with an answer still coming
        self._drawn: dict[str, QtGui.QTextDocumentFragment] = {}  # prepared, by their HTML
        self._started = False
        self._loading_id: int | None = None
        self.memory_dialog: MemoryDialog | None = None

        self._build_widgets()
        self._build_actions()
        self.statusBar()  # made now: appearing later would shrink the view mid-answer
        self._stream_timer = QTimer(self)
        self._stream_timer.setSingleShot(True)
        self._stream_timer.setInterval(STREAM_INTERVAL_MS)
        self._stream_timer.timeout.connect(self._show_streamed)
        self._render()
        self._update_actions()
        self.resize(self._initial_size())

    # -- public -----------------------------------------------------------------------------
    def ask(self, question: str) -> None:
        """Asks `question` in the conversation shown, as if typed and sent."""
        question = question.strip()
        if not question:
            return
        session = self.session
        if session.job is not None:
            self.statusBar().showMessage(
                "An answer is still coming: wait for it, or press Stop.", 5000
            )
            return
        self._ensure_started()
        slot = self.picker.slot()
        turn = Turn(question, datetime.now().astimezone(), model=_model_name(slot))
        session.turns.append(turn)
        job = AnswerJob(
            self.services,
            slot.model,
            question,
            session.conversation_id,
            _preparing(turn, Colours(self.view.palette())),
        )
        session.job, session.slot = job, slot
        job.signals.chunk.connect(lambda chunk: self._on_chunk(session, turn, chunk))
        job.signals.prepared.connect(lambda prepared: self._on_prepared(turn, prepared))
        job.signals.finished.connect(lambda answer: self._on_finished(session, turn, answer))
        job.signals.failed.connect(lambda text: self._on_failed(session, turn, text))
        self._background.append(session)
        self.workers.start(job, job.signals.finished, job.signals.failed)
        self.question.clear()
        self._append_turn(scroll_to_end=True)
        self._update_actions()

    def new_chat(self) -> None:
        """Shows an empty conversation; the next question starts a new one."""
        self._loading_id = None
        self.session = ChatSession(None)
        self.conversation_list.blockSignals(True)
        self.conversation_list.clearSelection()
        self.conversation_list.setCurrentRow(-1)
        self.conversation_list.blockSignals(False)
        self._render()
        self._update_actions()
        self.focus_question()

    def focus_question(self) -> None:
        self.raise_()
        self.activateWindow()
        self.question.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)

    def stop(self) -> None:
        """Stops the answer coming in the conversation shown; what arrived is kept."""
        job = self.session.job
        if job is None or job.cancel.cancelled:
            return
        job.cancel.cancel()
        self.statusBar().showMessage("Stopping… (the answer so far is kept)", 3000)
        self._update_actions()

    def copy_answer(self) -> None:
        turn = self._last_answered()
        if turn is None:
            return
        clipboard = QtGui.QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(turn.text)
        self.statusBar().showMessage("Answer copied.", 2000)

    def retry(self) -> None:
        if self.session.turns and self.session.job is None:
            self.ask(self.session.turns[-1].question)

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """For quitting: stops running answers (kept partial), waits, closes the models."""
        for session in self._background:
            if session.job is not None:
                session.job.cancel.cancel()
        done = self.workers.wait(int(timeout_s * 1000))
        if done:
            self.picker.close_all()
        return done

    # -- building the window -------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.filter = QtWidgets.QLineEdit()
        self.filter.setObjectName("chatFilter")
        self.filter.setPlaceholderText("Search chats (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Search chats")
        self.filter.textChanged.connect(self._apply_filter)

        self.conversation_list = QtWidgets.QListWidget()
        self.conversation_list.setObjectName("conversationList")
        self.conversation_list.setAccessibleName("Chats")
        self.conversation_list.setWordWrap(True)
        # Each chat is two lines (title, date): alternating rows tell them apart.
        self.conversation_list.setAlternatingRowColors(True)
        self.conversation_list.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        self.conversation_list.currentItemChanged.connect(self._on_conversation_picked)

        self.new_button = QtWidgets.QPushButton("&New chat")
        self.new_button.setObjectName("newChat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_chat)

        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.new_button)
        left_layout.addWidget(self.filter)
        left_layout.addWidget(self.conversation_list, 1)

        self.picker = ProviderPicker(self.services, self.workers)
        self.picker.set_in_use(self._slots_in_use)
        self.picker.failed.connect(lambda text: self.statusBar().showMessage(text, 10000))

        self.view = QtWidgets.QTextBrowser()
        self.view.setObjectName("conversationView")
        self.view.setAccessibleName("Conversation")
        self.view.setOpenLinks(False)
        self.view.setOpenExternalLinks(False)
        self.view.anchorClicked.connect(self._open_link)
        self._rendering = False
        self._follow_end = True
        self._last_start: int | None = None  # where the last turn's text begins
        # How much of a streaming last turn's text is on screen (None: not streaming).
        self._streamed: int | None = None
        self._paragraph = QtGui.QTextBlockFormat()
        self._paragraph.setTopMargin(6)
        self._paragraph.setBottomMargin(6)
        self._scroll_bar().valueChanged.connect(self._on_scrolled)
        self._scroll_bar().rangeChanged.connect(self._on_scroll_range)

        self.question = QuestionBox()
        self.question.setObjectName("question")
        self.question.submitted.connect(lambda: self.ask(self.question.toPlainText()))

        self.send_button = self._button("&Send", "send", "Ask the question (Enter)")
        self.send_button.clicked.connect(lambda: self.ask(self.question.toPlainText()))
        self.stop_button = self._button(
            "S&top", "stop", "Stop the answer; what arrived is kept (Esc)"
        )
        self.stop_button.clicked.connect(self.stop)
        self.copy_button = self._button("&Copy answer", "copy", "Copy the last answer's text")
        self.copy_button.clicked.connect(self.copy_answer)
        self.retry_button = self._button("&Retry", "retry", "Ask the last question again")
        self.retry_button.clicked.connect(self.retry)

        buttons = QtWidgets.QHBoxLayout()
        for button in (self.send_button, self.stop_button, self.copy_button, self.retry_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        right = QtWidgets.QWidget()
        right_layout = QtWidgets.QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.picker)
        right_layout.addWidget(self.view, 1)
        right_layout.addWidget(self.question)
        right_layout.addLayout(buttons)

        self.splitter = QtWidgets.QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        char = self.fontMetrics().averageCharWidth()
        self.splitter.setSizes([char * 28, char * 80])
        self.setCentralWidget(self.splitter)

        # Tab goes left to right, top to bottom; the provider last (changed rarely).
        order = [
            self.new_button,
            self.filter,
            self.conversation_list,
            self.view,
            self.question,
            self.send_button,
            self.stop_button,
            self.copy_button,
            self.retry_button,
            self.picker.combo,
        ]
        for first, second in itertools.pairwise(order):
            QtWidgets.QWidget.setTabOrder(first, second)

    def _button(self, text: str, name: str, tip: str) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setAutoDefault(False)
        return button

    def _build_actions(self) -> None:
        def action(text: str, keys: QtGui.QKeySequence, slot: Any) -> QtGui.QAction:
            made = QtGui.QAction(text, self)
            made.setShortcut(keys)
            made.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            made.triggered.connect(slot)
            self.addAction(made)
            return made

        self.new_action = action("New chat", QtGui.QKeySequence("Ctrl+N"), self.new_chat)
        self.find_action = action(
            "Search chats", QtGui.QKeySequence("Ctrl+F"), lambda: self.filter.setFocus()
        )
        self.stop_action = action("Stop", QtGui.QKeySequence("Escape"), self.stop)
        self.focus_action = action(
            "Question", QtGui.QKeySequence("Ctrl+L"), lambda: self.question.setFocus()
        )

    def _initial_size(self) -> QtCore.QSize:
        # In characters and lines, so the window grows with the font and the scale.
        return text_size(self, 140, 42)

    # -- starting (on first show: building the window costs no store or model work) -----------
    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self._ensure_started()

    def _ensure_started(self) -> None:
        if self._started:
            return
        self._started = True
        self.picker.start()
        self._refresh_conversations()

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            self._render()  # light <-> dark: the HTML carries palette colours

    # -- the conversation list ------------------------------------------------------------------
    def _refresh_conversations(self) -> None:
        self.workers.run(
            "list conversations",
            lambda: list_conversations(self.services.store()),
            self._show_conversations,
            lambda text: self.statusBar().showMessage(f"Cannot list the chats: {text}", 10000),
        )

    def _show_conversations(self, conversations: list[ConversationSummary]) -> None:
        shown_id = self.session.conversation_id
        self.conversation_list.blockSignals(True)
        self.conversation_list.clear()
        for summary in conversations:
            when = summary.started_at.astimezone().strftime("%a %d %b %Y, %H:%M")
            item = QtWidgets.QListWidgetItem(f"{summary.title}\n{when}")
            item.setData(ID_ROLE, summary.id)
            item.setToolTip(f"{summary.title}\nStarted {when}")
            self.conversation_list.addItem(item)
            if summary.id == shown_id:
                self.conversation_list.setCurrentItem(item)
        self.conversation_list.blockSignals(False)
        self._apply_filter(self.filter.text())

    def _apply_filter(self, text: str) -> None:
        words = text.casefold().split()
        for row in range(self.conversation_list.count()):
            item = self.conversation_list.item(row)
            haystack = item.text().casefold()
            item.setHidden(not all(word in haystack for word in words))

    def _on_conversation_picked(
        self, current: QtWidgets.QListWidgetItem | None, _previous: Any = None
    ) -> None:
        if current is None:
            return
        conversation_id = int(current.data(ID_ROLE))
        if conversation_id == self.session.conversation_id:
            return
        for session in self._background:
            if session.conversation_id == conversation_id:
                self._show_session(session)
                return
        self._loading_id = conversation_id
        self.workers.run(
            f"load conversation {conversation_id}",
            lambda: load_conversation(self.services.store(), conversation_id),
            self._on_conversation_loaded,
            lambda text: self.statusBar().showMessage(f"Cannot open that chat: {text}", 10000),
        )

    def _on_conversation_loaded(self, loaded: LoadedConversation) -> None:
        if loaded.id != self._loading_id:
            return  # another one was picked meanwhile
        self._loading_id = None
        self._show_session(ChatSession(loaded.id, loaded.turns))

    def _show_session(self, session: ChatSession) -> None:
        self.session = session
        self._render(scroll_to_end=True)
        self._update_actions()

    # -- an answer arriving ------------------------------------------------------------------------
    def _on_chunk(self, session: ChatSession, turn: Turn, chunk: str) -> None:
        if turn.done:
            return  # a chunk queued before the stored answer arrived
        first = turn.status == "waiting"
        turn.status = "streaming"
        turn.text += chunk
        if session is self.session:
            if first:
                self._render_last()  # the first words show at once; later ones batched
            elif not self._stream_timer.isActive():
                self._stream_timer.start()

    def _on_prepared(self, turn: Turn, prepared: PreparedAnswer) -> None:
        turn.sources = prepared.sources
        self._drawn[prepared.html] = prepared.fragment
        while len(self._drawn) > 8:  # answers finished in conversations not shown
            del self._drawn[next(iter(self._drawn))]

    def _on_finished(self, session: ChatSession, turn: Turn, answer: Answer) -> None:
        # The stored answer is the truth (a Stop drops chunks that came after it).
        turn.text = answer.text
        turn.status = answer.status
        turn.error = answer.error
        turn.model = answer.model
        turn.remembered = remembered_of(answer)
        new_conversation = session.conversation_id is None
        session.conversation_id = answer.conversation_id
        if session.job is not None and session.job.cancel.cancelled and session is self.session:
            self.statusBar().showMessage("Stopped. The answer so far is kept.", 4000)
        self._answer_ended(session)
        if new_conversation or session is self.session:
            self._refresh_conversations()

    def _on_failed(self, session: ChatSession, turn: Turn, text: str) -> None:
        turn.status, turn.error = "failed", text
        self._answer_ended(session)
        self._refresh_conversations()

    def _answer_ended(self, session: ChatSession) -> None:
        session.job = session.slot = None
        if session in self._background:
            self._background.remove(session)
        self.picker.release_unused()
        if session is self.session:
            self._stream_timer.stop()
            self._render_last()  # now as Markdown, with its sources
            self._update_actions()

    def _slots_in_use(self) -> Iterable[ModelSlot]:
        return [s.slot for s in self._background if s.slot is not None]

    # -- drawing -----------------------------------------------------------------------------------
    # The document is redrawn whole only when another conversation is shown;
    # otherwise only the last turn is replaced (its answer began or ended),
    # and a streaming answer's new text is appended as plain text: a long
    # conversation or answer costs the GUI thread the same per update.
    def _render(self, scroll_to_end: bool = False) -> None:
        """Redraws the whole conversation shown."""
        turns = self.session.turns
        colours = Colours(self.view.palette())
        with self._keeping_scroll(scroll_to_end):
            if not turns:
                self.view.setHtml(empty_html(colours))
                self._last_start = self._streamed = None
                return
            self.view.setHtml(render_turns(turns[:-1], colours))
            self._last_start = self._new_block_at_end()
            self._draw_last(colours)

    def _append_turn(self, scroll_to_end: bool = False) -> None:
        """Draws a turn just added to the conversation shown."""
        if self._last_start is None or len(self.session.turns) < 2:
            self._render(scroll_to_end)
            return
        colours = Colours(self.view.palette())
        with self._keeping_scroll(scroll_to_end):
            self._last_start = self._new_block_at_end()
            self._draw_last(colours)

    def _render_last(self) -> None:
        """Redraws the last turn (its answer began or ended)."""
        if self._last_start is None or not self.session.turns:
            self._render()
            return
        colours = Colours(self.view.palette())
        with self._keeping_scroll(False):
            cursor = QtGui.QTextCursor(self.view.document())
            cursor.setPosition(self._last_start)
            cursor.movePosition(
                QtGui.QTextCursor.MoveOperation.End, QtGui.QTextCursor.MoveMode.KeepAnchor
            )
            cursor.removeSelectedText()
            self._draw_last(colours)

    def _draw_last(self, colours: Colours) -> None:
        """Draws the last turn at the end of the view, where its (empty) block begins."""
        turn = self.session.turns[-1]
        streaming = turn.status == "streaming"
        html = render_turn(turn, colours, with_answer=not streaming)
        fragment = self._drawn.pop(html, None)
        cursor = self._end_cursor()
        if fragment is not None:
            cursor.insertFragment(fragment)  # what insertHtml does, its parsing done
        else:
            cursor.insertHtml(html)
        self._streamed = None
        if streaming:
            shown = _shown_length(turn.text)
            self._append_plain(turn.text[:shown], new_paragraph=True)
            self._streamed = shown

    def _show_streamed(self) -> None:
        """Appends what arrived of the streaming answer since it was last drawn."""
        turns = self.session.turns
        if self._streamed is None or not turns or turns[-1].status != "streaming":
            return
        text = turns[-1].text
        shown = _shown_length(text)
        if shown <= self._streamed:
            return
        with self._keeping_scroll(False):
            self._append_plain(text[self._streamed : shown], new_paragraph=False)
        self._streamed = shown

    def _append_plain(self, text: str, *, new_paragraph: bool) -> None:
        """Appends streamed text at the end of the view, as plain paragraphs."""
        cursor = self._end_cursor()
        plain = QtGui.QTextCharFormat()  # the view's own font and colour
        for number, paragraph in enumerate(plain_paragraphs(text)):
            if number or new_paragraph:
                cursor.insertBlock(self._paragraph, plain)
            cursor.insertText(paragraph, plain)

    def _end_cursor(self) -> QtGui.QTextCursor:
        cursor = QtGui.QTextCursor(self.view.document())
        cursor.movePosition(QtGui.QTextCursor.MoveOperation.End)
        return cursor

    def _new_block_at_end(self) -> int:
        """Starts an empty block at the end for the last turn; returns where it starts."""
        cursor = self._end_cursor()
        if not self.view.document().isEmpty():
            # A fresh block: the turn must not continue the last paragraph or list.
            cursor.insertBlock(QtGui.QTextBlockFormat(), QtGui.QTextCharFormat())
        return cursor.position()

    @contextlib.contextmanager
    def _keeping_scroll(self, scroll_to_end: bool) -> Iterator[None]:
        """Keeps the view where the person left it, or at the end while following it."""
        bar = self._scroll_bar()
        position = bar.value()
        self._rendering = True
        try:
            yield
            layout = self.view.document().documentLayout()
            if layout is not None:
                # Lays the document out now, so the scroll range is its full height.
                layout.documentSize()
            if scroll_to_end:
                self._follow_end = True
            bar.setValue(bar.maximum() if self._follow_end else position)
        finally:
            self._rendering = False

    def _scroll_bar(self) -> QtWidgets.QScrollBar:
        bar = self.view.verticalScrollBar()
        assert bar is not None  # a QTextBrowser always has one
        return bar

    def _on_scrolled(self, value: int) -> None:
        # The view follows a growing answer only while the person has not
        # scrolled up to read something else.
        if not self._rendering:
            self._follow_end = value >= self._scroll_bar().maximum() - 4

    def _on_scroll_range(self, _minimum: int, maximum: int) -> None:
        # The view got shorter or the text longer (a resize, the status bar).
        if self._follow_end and not self._rendering:
            self._scroll_bar().setValue(maximum)

    def _update_actions(self) -> None:
        job = self.session.job
        streaming = job is not None
        self.send_button.setEnabled(not streaming)
        self.stop_button.setEnabled(streaming and not (job and job.cancel.cancelled))
        self.copy_button.setEnabled(self._last_answered() is not None)
        self.retry_button.setEnabled(bool(self.session.turns) and not streaming)

    def _last_answered(self) -> Turn | None:
        for turn in reversed(self.session.turns):
            if turn.done and turn.text.strip():
                return turn
        return None

    # -- links: citations open their moment in the timeline, or the memory -----------------------
    def _open_link(self, url: QtCore.QUrl) -> None:
        memory_id = memory_id_of(url)
        if memory_id is not None:
            self.open_memory(memory_id)
        elif url.scheme() in ("http", "https"):
            QtGui.QDesktopServices.openUrl(url)

    def open_memory(self, memory_id: int) -> None:
        """Shows that memory: what was on screen opens in the timeline at its moment
        (when the window was given `open_moment`); facts, notes and how-tos in a dialog."""
        self.workers.run(
            f"open memory {memory_id}",
            lambda: get_record(self.services.store(), memory_id),
            self._show_memory,
            lambda text: self.statusBar().showMessage(f"Cannot show that memory: {text}", 10000),
        )

    def _show_memory(self, record: ShownRecord) -> None:
        if self.open_moment is not None and record.type in SEEN_ON_SCREEN:
            self.open_moment(MomentRef(record.time, memory_id=record.id))
            return
        if self.memory_dialog is not None:
            self.memory_dialog.close()
        dialog = MemoryDialog(record, self)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: self._forget_dialog(dialog))
        self.memory_dialog = dialog
        dialog.show()

    def _forget_dialog(self, dialog: MemoryDialog) -> None:
        if self.memory_dialog is dialog:
            self.memory_dialog = None


def _shown_length(text: str) -> int:
    """How much of a streaming text to show: trailing blanks wait for what follows,
    so a paragraph break arriving in two chunks is drawn as one."""
    return len(text.rstrip())


def _preparing(turn: Turn, colours: Colours) -> Callable[[MemoryStore, Answer], PreparedAnswer]:
    """What the answer's worker does when the stream ends, on that thread.

    The finished turn is drawn there (Markdown converted, HTML parsed: 10-15 ms
    for a long answer, several times that while capture keeps the CPU busy),
    and the GUI thread inserts the result when it draws the same HTML: it
    does, unless the palette changed meanwhile.
    """

    def prepare(store: MemoryStore, answer: Answer) -> PreparedAnswer:
        sources = sources_for_answer(store, answer)
        html = render_turn(finished_turn(turn, answer, sources), colours)
        return PreparedAnswer(sources, html, QtGui.QTextDocumentFragment.fromHtml(html))

    return prepare


def _model_name(slot: ModelSlot) -> str | None:
    if slot.provider == "extractive":
        return "extractive"
    model = slot.built()
    return model.name if model is not None else None
