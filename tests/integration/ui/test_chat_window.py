"""The chat window as a person uses it: asking, streaming, stopping, citations, chats.

Answers come from real providers: the extractive answer, the loopback
OpenAI-compatible server (tests/helpers/fake_openai.py) and the tiny GGUF
through llama.cpp; the store is a real encrypted one.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.assistant.cancel import STOPPED_BY_USER
from mirix_desktop.assistant.conversations import ConversationLog
from mirix_desktop.memory.records import KnowledgeVaultItem, ResourceMemory
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui import markdown
from mirix_desktop.ui.chat_render import Colours
from mirix_desktop.ui.chat_window import ChatWindow
from mirix_desktop.ui.markdown import memory_id_of
from mirix_desktop.ui.qt import Qt, QtCore, QtGui, QtWidgets
from tests.helpers.fake_openai import FakeOpenAIServer
from tests.helpers.tiny_gguf import write_tiny_llama_gguf
from tests.integration.ui.conftest import StoreServices

NOW = datetime.now().astimezone()
BUDGET_REPLY = "The Q3 marketing budget is **12,400 EUR** [1]."

MakeWindow = Callable[[], ChatWindow]


@pytest.fixture
def filled(store: MemoryStore) -> dict[str, int]:
    ids = store.add_many(
        [
            ResourceMemory(
                title="Q3 budget - Google Sheets",
                app="firefox",
                content="Q3 plan. The marketing budget for Q3 is 12,400 EUR, approved by Dana. "
                "Travel is capped at 3,000 EUR.",
                first_seen=NOW - timedelta(days=1),
            ),
            KnowledgeVaultItem(caption="bank PIN", secret_value="9931-pin", created=NOW),
        ]
    )
    return {"budget": ids[0], "vault": ids[1]}


@pytest.fixture
def server(services: StoreServices) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        services.settings.openai.base_url = running.base_url
        services.settings.openai.model = running.model
        services.settings.llm.provider = "openai"
        yield running


def shown(qtbot: QtBot, make_window: MakeWindow) -> ChatWindow:
    window = make_window()
    window.show()
    qtbot.waitUntil(lambda: not window.picker.loading, timeout=30_000)
    return window


def wait_answer(qtbot: QtBot, window: ChatWindow, timeout_ms: int = 30_000) -> None:
    def answered() -> None:
        assert window.session.job is None
        assert window.session.turns and window.session.turns[-1].done

    qtbot.waitUntil(answered, timeout=timeout_ms)


def view_text(window: ChatWindow) -> str:
    return window.view.toPlainText()


def anchor_rect(window: ChatWindow, href: str) -> QtCore.QRect:
    """Where the link to `href` is drawn in the view's viewport."""
    document = window.view.document()
    block = document.begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.isValid() and fragment.charFormat().anchorHref() == href:
                cursor = QtGui.QTextCursor(document)
                cursor.setPosition(fragment.position() + max(0, fragment.length() // 2))
                return window.view.cursorRect(cursor)
            iterator += 1
        block = block.next()
    raise AssertionError(f"no link to {href} in the view")


def test_streams_remote_chunks_in_order_with_sources(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    server.reply(BUDGET_REPLY, chunk_chars=3, chunk_delay_s=0.03)
    window = shown(qtbot, make_window)
    assert window.picker.provider == "openai"
    assert window.windowTitle() == "MIRIX — Chat"
    snapshots: list[str] = []
    window.view.textChanged.connect(lambda: snapshots.append(view_text(window)))

    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)

    # The answer grew on screen as it arrived, each view a prefix of the next.
    plain_answer = "The Q3 marketing budget is 12,400 EUR [1]."
    partials = []
    for text in snapshots:
        start = text.find("The Q3")
        if start >= 0:
            # An unclosed "**" shows as typed until its end arrives.
            partials.append(text[start:].split("\n")[0].replace("*", ""))
    growing = [p for p in partials if p != plain_answer]
    assert len(growing) >= 2, partials
    for before, after in itertools.pairwise(partials):
        assert after.startswith(before), (before, after)
    assert plain_answer.startswith(growing[0]) and len(growing[0]) < len(plain_answer)

    text = view_text(window)
    assert plain_answer in text  # rendered as Markdown: no asterisks left
    assert "font-weight:700" in window.view.toHtml().replace(" ", "")
    sources = text[text.index("Sources") :]
    assert "[1] firefox · Q3 budget - Google Sheets" in sources
    assert "12,400 EUR" in sources  # the snippet
    html = window.view.toHtml()
    assert f'href="mirix-memory:{filled["budget"]}"' in html
    turn = window.session.turns[-1]
    assert (turn.status, turn.model) == ("complete", f"openai:{server.model}")


def test_a_streaming_answer_is_appended_as_text_and_rendered_once_when_it_ends(
    qtbot: QtBot,
    make_window: MakeWindow,
    server: FakeOpenAIServer,
    filled: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reply = "The budget:\n\n- **12,400 EUR** [1]\n- travel capped at 3,000 EUR [1]"
    server.reply(reply, chunk_chars=3, chunk_delay_s=0.02)
    converted: list[tuple[str, bool]] = []  # (Markdown, on the GUI thread)
    original = markdown._converted

    def converting(text: str, cited: tuple[tuple[int, int], ...], link: str) -> str:
        converted.append((text, threading.current_thread() is threading.main_thread()))
        return original(text, cited, link)

    monkeypatch.setattr(markdown, "_converted", converting)
    window = shown(qtbot, make_window)
    snapshots: list[str] = []
    window.view.textChanged.connect(lambda: snapshots.append(view_text(window)))
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)

    # While it streamed, the text arrived as typed, Markdown and all...
    assert any("- **12,400" in text for text in snapshots)
    # ...and was converted once, on the answer's worker, which also parsed the
    # finished turn's HTML: the window inserted that (the same HTML it draws).
    assert converted == [(reply, False), (reply, True)]
    assert not window._drawn
    assert "12,400 EUR [1]" in view_text(window) and "**" not in view_text(window)
    assert f'href="mirix-memory:{filled["budget"]}"' in window.view.toHtml()


def test_a_paragraph_break_split_between_chunks_is_drawn_once(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    reply = "Budget:\n\n- 12,400 EUR\n- travel"
    server.reply(reply, chunk_chars=1, chunk_delay_s=0.06)  # each newline on its own
    window = shown(qtbot, make_window)
    streamed: list[list[str]] = []

    def answer_blocks() -> None:
        if window.session.turns and window.session.turns[-1].status == "streaming":
            blocks, block = [], window.view.document().begin()
            while block.isValid():
                blocks.append(block.text())
                block = block.next()
            labels = [i for i, text in enumerate(blocks) if text.startswith("MIRIX")]
            if labels:  # not mid-redraw
                streamed.append(blocks[labels[-1] + 1 :])

    window.view.textChanged.connect(answer_blocks)
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)
    # Two paragraphs, the second of two lines, as the whole text would be drawn
    # (the last letters may arrive with the end, drawn as Markdown then).
    first, second = streamed[-1]
    assert first == "Budget:"
    assert second.startswith("- 12,400 EUR\u2028- tra")


def test_tiny_gguf_answers_through_the_window(
    qtbot: QtBot,
    make_window: MakeWindow,
    services: StoreServices,
    filled: dict[str, int],
    tmp_path: Path,
) -> None:
    gguf = write_tiny_llama_gguf(tmp_path / "tiny.gguf")
    services.settings.local_model.model = str(gguf)
    services.settings.llm.provider = "local"
    services.settings.llm.max_answer_tokens = 24
    window = make_window()
    window.show()
    # Loading is shown while the model loads off the GUI thread.
    assert window.picker.loading
    assert window.picker.status.text() == "Loading tiny.gguf…"
    assert window.picker.busy.isVisible()
    qtbot.waitUntil(lambda: not window.picker.loading, timeout=60_000)
    assert not window.picker.busy.isVisible()
    assert window.picker.combo.currentData() == "local"

    chunks: list[str] = []
    window.ask("what is the Q3 budget?")
    job = window.session.job
    assert job is not None
    job.signals.chunk.connect(chunks.append)
    wait_answer(qtbot, window, 60_000)

    turn = window.session.turns[-1]
    assert turn.status == "complete", turn.error
    assert turn.model == "local:tiny.gguf"
    assert turn.text.strip()
    assert " ".join(turn.text.split()[:3]) in " ".join(view_text(window).split())
    stored = ConversationLog(services.opened).messages(window.session.conversation_id or 0)
    assert stored[-1].content == turn.text


def test_stop_keeps_a_partial_answer_in_the_store(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    reply = "The budget is 12,400 EUR and it was approved by Dana on Monday. " * 4
    server.reply(reply, chunk_chars=4, chunk_delay_s=0.15)
    window = shown(qtbot, make_window)
    window.ask("what is the Q3 budget?")
    qtbot.waitUntil(lambda: window.session.turns[-1].status == "streaming", timeout=10_000)
    assert window.stop_button.isEnabled()
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert not window.stop_button.isEnabled()
    wait_answer(qtbot, window)

    turn = window.session.turns[-1]
    assert (turn.status, turn.error) == ("partial", STOPPED_BY_USER)
    assert turn.text and reply.startswith(turn.text) and len(turn.text) < len(reply)
    assert "Stopped by you" in view_text(window)
    assert turn.text.strip() in view_text(window)
    stored = ConversationLog(window.services.store()).messages(window.session.conversation_id or 0)
    assert (stored[-1].status, stored[-1].error, stored[-1].content) == (
        "partial",
        STOPPED_BY_USER,
        turn.text,
    )


def test_escape_stops_too(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    server.reply("word " * 60, chunk_chars=5, chunk_delay_s=0.15)
    window = shown(qtbot, make_window)
    window.ask("what is the Q3 budget?")
    qtbot.waitUntil(lambda: window.session.turns[-1].status == "streaming", timeout=10_000)
    window.question.setFocus()
    qtbot.keyClick(window.question, Qt.Key.Key_Escape)
    wait_answer(qtbot, window)
    assert window.session.turns[-1].error == STOPPED_BY_USER


def test_citation_click_opens_that_memory(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    server.reply(BUDGET_REPLY)
    window = shown(qtbot, make_window)
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)

    href = f"mirix-memory:{filled['budget']}"
    rect = anchor_rect(window, href)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.memory_dialog is not None, timeout=10_000)
    dialog = window.memory_dialog
    assert dialog is not None
    assert dialog.windowTitle() == "MIRIX — Memory"
    assert dialog.record.id == filled["budget"]
    assert dialog.fields["title"].text() == "Q3 budget - Google Sheets"
    assert dialog.fields["app"].text() == "firefox"
    assert "12,400 EUR" in dialog.text.toPlainText()


def test_a_citation_is_reachable_from_the_keyboard(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    server.reply(BUDGET_REPLY)
    window = shown(qtbot, make_window)
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)
    clicked: list[int | None] = []
    window.view.anchorClicked.connect(lambda url: clicked.append(memory_id_of(url)))
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    qtbot.keyClick(window.view, Qt.Key.Key_Return)
    assert clicked == [filled["budget"]]
    # Past the last link, Tab leaves the conversation for the question box.
    for _ in range(5):
        if not window.view.hasFocus():
            break
        qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.question.hasFocus()


def test_memory_view_hides_vault_values(
    qtbot: QtBot, make_window: MakeWindow, filled: dict[str, int]
) -> None:
    window = shown(qtbot, make_window)
    window.open_memory(filled["vault"])
    qtbot.waitUntil(lambda: window.memory_dialog is not None, timeout=10_000)
    dialog = window.memory_dialog
    assert dialog is not None
    assert dialog.fields["title"].text() == "bank PIN"
    everything = " ".join(
        [label.text() for label in dialog.fields.values()] + [dialog.text.toPlainText()]
    )
    assert "9931-pin" not in everything
    assert "hidden" in dialog.text.toPlainText().lower()


@pytest.mark.expected_log("mirix_desktop.assistant.assistant", "WARNING", r"answer partial")
def test_error_mid_stream_is_shown_and_the_conversation_kept(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    server.reply("The budget is 12,400 EUR and", chunk_chars=4, cut_after_chunks=3)
    window = shown(qtbot, make_window)
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)

    turn = window.session.turns[-1]
    assert turn.status == "partial" and turn.text == "The budget i"
    text = view_text(window)
    assert "The budget i" in text
    assert "The answer broke off: The connection to the model server" in text
    colours = Colours(window.view.palette())
    assert f"color:{colours.error}" in window.view.toHtml().replace(" ", "")
    conversation = window.session.conversation_id
    assert conversation is not None

    # The conversation goes on: the next answer is in the same one.
    server.reply("It was approved by Dana [1].")
    window.ask("who approved it?")
    wait_answer(qtbot, window)
    assert window.session.conversation_id == conversation
    assert [t.status for t in window.session.turns] == ["partial", "complete"]
    stored = ConversationLog(window.services.store()).messages(conversation)
    assert [m.status for m in stored if m.role == "assistant"] == ["partial", "complete"]
    assert "The answer broke off" in view_text(window)


@pytest.mark.expected_log("mirix_desktop.assistant.assistant", "WARNING", r"answer failed")
def test_a_failing_server_is_said_in_plain_words(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    server.fail(500, "model crashed")
    window = shown(qtbot, make_window)
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)
    assert window.session.turns[-1].status == "failed"
    assert "No answer: The model server at" in view_text(window)
    assert window.retry_button.isEnabled()
    server.reply("It is 12,400 EUR [1].")
    qtbot.mouseClick(window.retry_button, Qt.MouseButton.LeftButton)
    wait_answer(qtbot, window)
    assert [t.question for t in window.session.turns] == ["what is the Q3 budget?"] * 2
    assert window.session.turns[-1].status == "complete"


def test_enter_sends_and_shift_enter_breaks_the_line(
    qtbot: QtBot, make_window: MakeWindow, filled: dict[str, int]
) -> None:
    window = shown(qtbot, make_window)
    window.question.setFocus()
    qtbot.keyClicks(window.question, "what is the Q3")
    qtbot.keyClick(window.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.question, "budget?")
    assert window.session.turns == []
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    wait_answer(qtbot, window)
    assert window.session.turns[-1].question == "what is the Q3\nbudget?"
    assert window.question.toPlainText() == ""
    assert "12,400 EUR" in view_text(window)  # the extractive answer quotes it


def test_copy_puts_the_last_answer_on_the_clipboard(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    server.reply(BUDGET_REPLY)
    window = shown(qtbot, make_window)
    assert not window.copy_button.isEnabled()
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)
    qtbot.mouseClick(window.copy_button, Qt.MouseButton.LeftButton)
    clipboard = QtGui.QGuiApplication.clipboard()
    assert clipboard is not None and clipboard.text() == BUDGET_REPLY


def test_remember_is_confirmed_in_plain_words(
    qtbot: QtBot, make_window: MakeWindow, filled: dict[str, int]
) -> None:
    window = shown(qtbot, make_window)
    window.ask("remember that my manager is Dana")
    wait_answer(qtbot, window)
    text = view_text(window)
    assert "I will remember that my manager is Dana" in text
    assert "mirix-desktop" not in text  # no command lines for a window user
    remembered = window.session.turns[-1].remembered
    assert remembered is not None and remembered.about_you
    # Shown the same way when the conversation is opened again.
    qtbot.waitUntil(lambda: window.conversation_list.count() == 1, timeout=10_000)
    window.new_chat()
    window.conversation_list.setCurrentRow(0)
    qtbot.waitUntil(lambda: bool(window.session.turns), timeout=10_000)
    assert "I will remember that my manager is Dana" in view_text(window)


def test_closing_while_streaming_keeps_the_answer(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    server.reply("Twelve thousand four hundred euros [1].", chunk_chars=4, chunk_delay_s=0.05)
    window = shown(qtbot, make_window)
    window.ask("what is the Q3 budget?")
    qtbot.waitUntil(lambda: window.session.turns[-1].status == "streaming", timeout=10_000)
    window.close()
    assert not window.isVisible()
    qtbot.waitUntil(lambda: window.workers.busy == 0, timeout=30_000)
    log = ConversationLog(window.services.store())
    conversation = log.latest()
    assert conversation is not None
    answer = log.messages(conversation)[-1]
    assert (answer.role, answer.status) == ("assistant", "complete")
    assert answer.content == "Twelve thousand four hundred euros [1]."


def test_conversation_list_filter_and_opening_a_chat(
    qtbot: QtBot, make_window: MakeWindow, store: MemoryStore
) -> None:
    log = ConversationLog(store)
    for title, question, answer in [
        ("Budget talk", "what is the Q3 budget?", "12,400 EUR."),
        ("Trip to Lisbon", "when is my flight to Lisbon?", "On Friday at 9:40."),
        ("Standup", "what did I write in the standup?", "Nothing yet."),
    ]:
        conversation = log.start(title, NOW)
        question_id = log.add_question(conversation, question, NOW)
        log.add_answer(
            conversation,
            question_id,
            question,
            NOW,
            answer,
            [],
            "complete",
            None,
            "extractive",
            NOW,
        )
    window = shown(qtbot, make_window)
    listing = window.conversation_list
    qtbot.waitUntil(lambda: listing.count() == 3, timeout=10_000)

    def visible() -> list[str]:
        items = [listing.item(row) for row in range(listing.count())]
        return [i.text().split("\n")[0] for i in items if i is not None and not i.isHidden()]

    assert visible() == ["Standup", "Trip to Lisbon", "Budget talk"]
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.filter.hasFocus()
    qtbot.keyClicks(window.filter, "lisbon")
    assert visible() == ["Trip to Lisbon"]
    window.filter.clear()
    assert len(visible()) == 3

    listing.setCurrentRow(1)
    qtbot.waitUntil(lambda: bool(window.session.turns), timeout=10_000)
    assert "On Friday at 9:40." in view_text(window)
    assert window.session.turns[0].question == "when is my flight to Lisbon?"


def test_new_chat_starts_a_new_conversation(
    qtbot: QtBot, make_window: MakeWindow, store: MemoryStore, filled: dict[str, int]
) -> None:
    window = shown(qtbot, make_window)
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)
    first = window.session.conversation_id
    qtbot.waitUntil(lambda: window.conversation_list.count() == 1, timeout=10_000)

    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.session.conversation_id is None and window.session.turns == []
    assert "12,400" not in view_text(window)
    assert window.question.hasFocus()
    window.ask("what is the travel cap?")
    wait_answer(qtbot, window)
    assert window.session.conversation_id not in (None, first)
    qtbot.waitUntil(lambda: window.conversation_list.count() == 2, timeout=10_000)
    assert len(ConversationLog(store).conversations()) == 2


def test_only_configured_providers_can_be_picked(
    qtbot: QtBot, make_window: MakeWindow, server: FakeOpenAIServer, filled: dict[str, int]
) -> None:
    window = shown(qtbot, make_window)
    combo = window.picker.combo
    model = combo.model()
    assert isinstance(model, QtGui.QStandardItemModel)
    enabled = {
        combo.itemData(row): bool(model.item(row).isEnabled())  # type: ignore[union-attr]
        for row in range(combo.count())
    }
    assert enabled == {"extractive": True, "local": False, "openai": True}

    # Switching to the quotes: the next answer is extractive, and no server is asked.
    combo.setCurrentIndex(combo.findData("extractive"))
    combo.activated.emit(combo.currentIndex())
    requests = len(server.chat_requests)
    window.ask("what is the Q3 budget?")
    wait_answer(qtbot, window)
    assert window.session.turns[-1].model == "extractive"
    assert len(server.chat_requests) == requests


@pytest.mark.expected_log("mirix.ui.provider", "WARNING", r"Local model")
def test_a_provider_that_cannot_load_is_reported_and_left(
    qtbot: QtBot, make_window: MakeWindow, services: StoreServices, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF not really a model")
    services.settings.local_model.model = str(broken)
    window = shown(qtbot, make_window)
    combo = window.picker.combo
    combo.setCurrentIndex(combo.findData("local"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: not window.picker.loading, timeout=30_000)
    assert combo.currentData() == "extractive"
    assert "cannot answer" in window.picker.status.text()
    assert "broken.gguf" in window.picker.status.toolTip()


def test_tab_order_is_left_to_right_top_to_bottom(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = shown(qtbot, make_window)
    window.activateWindow()
    window.new_button.setFocus()
    order: list[QtWidgets.QWidget | None] = [window.new_button]
    for _ in range(9):
        nxt = order[-1].nextInFocusChain() if order[-1] else None
        while nxt is not None and not (nxt.focusPolicy() & Qt.FocusPolicy.TabFocus):
            nxt = nxt.nextInFocusChain()
        order.append(nxt)
    assert order == [
        window.new_button,
        window.filter,
        window.conversation_list,
        window.view,
        window.question,
        window.send_button,
        window.stop_button,
        window.copy_button,
        window.retry_button,
        window.picker.combo,
    ]
