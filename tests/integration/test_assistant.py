"""The assistant over a real encrypted store, without a model (extractive answers)."""

from datetime import datetime, timedelta

import pytest

from mirix_desktop.assistant.assistant import Assistant
from mirix_desktop.assistant.conversations import CHAT_APP
from mirix_desktop.config import Settings
from mirix_desktop.errors import InvalidQuery, MemoryNotFound
from mirix_desktop.memory.records import (
    CoreMemory,
    EpisodicMemory,
    KnowledgeVaultItem,
    MemoryType,
    ResourceMemory,
)
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore

NOW = datetime(2026, 11, 20, 16, 0).astimezone()


@pytest.fixture
def filled(store: MemoryStore) -> dict[str, int]:
    ids = store.add_many(
        [
            ResourceMemory(
                title="Q3 budget - Google Sheets",
                app="firefox",
                content="Q3 plan. The marketing budget for Q3 is 12,400 EUR, approved by Dana. "
                "Travel is capped at 3,000 EUR.",
                first_seen=NOW - timedelta(days=1, hours=2),
                last_seen=NOW - timedelta(days=1, hours=1),
            ),
            EpisodicMemory(
                title="release-notes.md",
                app="code",
                summary="Edited the release notes for version 2.4 of the mobile app",
                started_at=NOW - timedelta(hours=3),
                ended_at=NOW - timedelta(hours=2, minutes=30),
            ),
            EpisodicMemory(
                title="#infra - Slack",
                app="slack",
                summary="Discussed the database migration window with Priya: Saturday 22:00",
                started_at=NOW - timedelta(days=3),
                ended_at=NOW - timedelta(days=3) + timedelta(minutes=10),
            ),
            KnowledgeVaultItem(
                caption="office door code",
                secret_value="4711-secret",
                created=NOW - timedelta(days=10),
            ),
        ]
    )
    return dict(zip(["budget", "release", "migration", "vault"], ids, strict=True))


def assistant(store: MemoryStore) -> Assistant:
    return Assistant(store, None, Settings(), clock=lambda: NOW)


def test_extractive_answer_quotes_and_cites_the_right_memory(
    store: MemoryStore, filled: dict[str, int]
) -> None:
    streamed: list[str] = []
    answer = assistant(store).ask("what is the marketing budget for Q3?", on_chunk=streamed.append)
    assert answer.status == "complete"
    assert "".join(streamed) == answer.text
    assert "12,400 EUR" in answer.text
    assert answer.citations[0].memory_id == filled["budget"]
    assert answer.citations[0].app == "firefox"
    assert "[1]" in answer.text
    # Unrelated memories are not quoted.
    assert "release notes" not in answer.text


def test_time_phrase_filters_memories(store: MemoryStore, filled: dict[str, int]) -> None:
    answer = assistant(store).ask("what did I edit today?")
    assert answer.time_range is not None
    assert [c.memory_id for c in answer.citations] == [filled["release"]]


def test_nothing_found(store: MemoryStore) -> None:
    answer = assistant(store).ask("what is the capital of Atlantis?")
    assert answer.citations == []
    assert "nothing" in answer.text.lower()


def test_conversation_is_kept_and_searchable(store: MemoryStore, filled: dict[str, int]) -> None:
    helper = assistant(store)
    first = helper.ask("when is the database migration?")
    assert "Saturday 22:00" in first.text
    follow_up = helper.ask("and who did I discuss it with?", conversation_id=first.conversation_id)
    assert follow_up.conversation_id == first.conversation_id
    messages = helper.conversations.messages(first.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1].citations[0]["memory_id"] == filled["migration"]
    # The exchange is a memory of its own, found by ordinary search.
    hits = SearchEngine(store).search(SearchQuery("database migration asked", now=NOW)).hits
    chat_hits = [h for h in hits if h.app == CHAT_APP]
    assert chat_hits and chat_hits[0].id in (first.memory_id, follow_up.memory_id)


def test_past_answers_do_not_crowd_out_memories(store: MemoryStore, filled: dict[str, int]) -> None:
    helper = assistant(store)
    for _ in range(3):
        helper.ask("what is the marketing budget for Q3?")
    again = helper.ask("what is the marketing budget for Q3?")
    assert all(c.app != CHAT_APP for c in again.citations)
    about_chat = helper.ask("what did I ask about the marketing budget?")
    assert any(c.app == CHAT_APP for c in about_chat.citations)


def test_vault_only_when_named(store: MemoryStore, filled: dict[str, int]) -> None:
    helper = assistant(store)
    vague = helper.ask("what is the code for the door?")
    assert "4711-secret" not in vague.text
    assert filled["vault"] not in [c.memory_id for c in vague.citations]
    named = helper.ask("what is my office door code?")
    assert "4711-secret" in named.text
    assert named.citations[0].memory_id == filled["vault"]


def test_remember_that_writes_core_memory(store: MemoryStore) -> None:
    helper = assistant(store)
    answer = helper.ask("remember that I prefer answers in metric units")
    assert answer.remembered is not None
    record = store.get(answer.remembered.memory_id)
    assert record.type is MemoryType.CORE
    assert record.body == "I prefer answers in metric units"
    assert "metric units" in answer.text
    semantic = helper.ask("remember that the staging server is staging-3.internal")
    assert semantic.remembered is not None
    assert store.get(semantic.remembered.memory_id).type is MemoryType.SEMANTIC
    assert "staging-3.internal" in helper.ask("which host is the staging server?").text


def test_core_memory_reaches_the_prompt(store: MemoryStore, filled: dict[str, int]) -> None:
    store.add(CoreMemory(value="My manager is Dana Whitfield", created=NOW))
    retrieved = assistant(store).retriever.retrieve("who approved the budget?", limit=5, now=NOW)
    assert [r.body for r in retrieved.core] == ["My manager is Dana Whitfield"]


def test_bad_questions(store: MemoryStore) -> None:
    helper = assistant(store)
    with pytest.raises(InvalidQuery):
        helper.ask("   ")
    with pytest.raises(InvalidQuery, match="limit"):
        helper.ask("x" * 9000)
    with pytest.raises(MemoryNotFound, match="conversation"):
        helper.ask("hello?", conversation_id=999)
