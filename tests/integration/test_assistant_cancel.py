"""Stopping an answer: the cancel token ends the stream and keeps the partial answer."""

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pytest

from mirix_desktop.assistant.assistant import Assistant
from mirix_desktop.assistant.cancel import STOPPED_BY_USER, CancelToken
from mirix_desktop.assistant.conversations import ConversationLog
from mirix_desktop.config import Settings
from mirix_desktop.llm.base import ChatMessage, GenerationOptions, estimate_tokens
from mirix_desktop.llm.openai_provider import OpenAIChatModel
from mirix_desktop.memory.records import ResourceMemory
from mirix_desktop.memory.store import MemoryStore
from tests.helpers.fake_openai import FakeOpenAIServer

NOW = datetime(2026, 11, 20, 16, 0).astimezone()


@pytest.fixture
def filled(store: MemoryStore) -> int:
    return store.add(
        ResourceMemory(
            title="Q3 budget - Google Sheets",
            app="firefox",
            content="The marketing budget for Q3 is 12,400 EUR, approved by Dana. "
            "Travel is capped at 3,000 EUR. The budget review is on Thursday.",
            first_seen=NOW - timedelta(days=1),
        )
    )


class CountingModel:
    """A ChatModel streaming numbered words; it records whether its stream was closed."""

    def __init__(self, words: int = 50) -> None:
        self.words = words
        self.calls = 0
        self.yielded = 0
        self.closed = threading.Event()
        self.streams: list[Iterator[str]] = []

    @property
    def name(self) -> str:
        return "test:counting"

    @property
    def context_tokens(self) -> int:
        return 4096

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        self.calls += 1
        generator = self._words()
        # Held here, so only an explicit close() (not garbage collection) closes it.
        self.streams.append(generator)
        return generator

    def _words(self) -> Iterator[str]:
        try:
            for n in range(self.words):
                self.yielded += 1
                yield f"word{n} "
        finally:
            self.closed.set()

    def close(self) -> None:
        pass


def stop_after(token: CancelToken, chunks: int, seen: list[str]) -> object:
    def sink(chunk: str) -> None:
        seen.append(chunk)
        if len(seen) == chunks:
            token.cancel()

    return sink


def test_stop_keeps_the_text_so_far_marked_partial(store: MemoryStore, filled: int) -> None:
    model = CountingModel()
    token = CancelToken()
    seen: list[str] = []
    answer = Assistant(store, model, Settings(), clock=lambda: NOW).ask(
        "what is the Q3 budget?", on_chunk=stop_after(token, 3, seen), cancel=token
    )
    assert answer.status == "partial"
    assert answer.error == STOPPED_BY_USER
    assert answer.text == "word0 word1 word2 " == "".join(seen)
    # The stream was closed at once (the provider stops), not drained.
    assert model.closed.is_set()
    assert model.yielded == 4  # the chunk that arrived after Stop was dropped
    stored = ConversationLog(store).messages(answer.conversation_id)
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "partial")]
    assert stored[-1].content == answer.text
    assert stored[-1].error == STOPPED_BY_USER


def test_a_stopped_answer_stays_in_the_conversation(store: MemoryStore, filled: int) -> None:
    token = CancelToken()
    assistant = Assistant(store, CountingModel(), Settings(), clock=lambda: NOW)
    first = assistant.ask("what is the Q3 budget?", on_chunk=stop_after(token, 2, []), cancel=token)
    follow_up = assistant.ask("and the travel cap?", conversation_id=first.conversation_id)
    assert follow_up.status == "complete"
    history = assistant.conversations.history(first.conversation_id)
    assert [m.content for m in history][:2] == ["what is the Q3 budget?", "word0 word1 "]


def test_cancelled_before_the_model_starts(store: MemoryStore, filled: int) -> None:
    model = CountingModel()
    token = CancelToken()
    token.cancel()
    answer = Assistant(store, model, Settings(), clock=lambda: NOW).ask(
        "what is the Q3 budget?", cancel=token
    )
    assert (answer.status, answer.error, answer.text) == ("partial", STOPPED_BY_USER, "")
    assert model.calls == 0


def test_an_uncancelled_token_changes_nothing(store: MemoryStore, filled: int) -> None:
    model = CountingModel(words=5)
    answer = Assistant(store, model, Settings(), clock=lambda: NOW).ask(
        "what is the Q3 budget?", cancel=CancelToken()
    )
    assert (answer.status, answer.error) == ("complete", None)
    assert answer.text == "word0 word1 word2 word3 word4 "


def test_stop_with_the_extractive_answer(store: MemoryStore, filled: int) -> None:
    token = CancelToken()
    seen: list[str] = []
    answer = Assistant(store, None, Settings(), clock=lambda: NOW).ask(
        "what is the Q3 budget?", on_chunk=stop_after(token, 1, seen), cancel=token
    )
    assert (answer.status, answer.error) == ("partial", STOPPED_BY_USER)
    assert answer.text == seen[0]
    full = Assistant(store, None, Settings(), clock=lambda: NOW).ask("what is the Q3 budget?")
    assert len(full.text) > len(answer.text) and full.text.startswith(answer.text)


def test_stop_closes_a_remote_stream(store: MemoryStore, filled: int) -> None:
    with FakeOpenAIServer() as server:
        # 40 chunks, 0.25 s apart: ten seconds if it were read to the end.
        server.reply("x" * 160, chunk_chars=4, chunk_delay_s=0.25)
        model = OpenAIChatModel(server.base_url, server.model, "sk-test", context_tokens=8192)
        token = CancelToken()
        seen: list[str] = []
        started = time.monotonic()
        answer = Assistant(store, model, Settings(), clock=lambda: NOW).ask(
            "what is the Q3 budget?", on_chunk=stop_after(token, 2, seen), cancel=token
        )
        elapsed = time.monotonic() - started
        model.close()
    assert (answer.status, answer.error) == ("partial", STOPPED_BY_USER)
    assert answer.text == "xxxxxxxx"
    # Stopped after the third chunk, not after the fortieth.
    assert elapsed < 5
