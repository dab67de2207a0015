"""Conversations with the assistant, kept in the store and searchable.

Each question is saved before the model is asked, and its answer once the
stream ends, complete or not: a partial answer is kept, marked 'partial' with
the error. Every exchange also becomes an episodic memory (app
"mirix-desktop", thread "chat:<id>"), so "what did I ask about the budget?"
is found by the same search as everything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mirix_desktop.llm.base import ChatMessage
from mirix_desktop.memory import conversations as conversation_rows
from mirix_desktop.memory.conversations import AnswerStatus, ConversationInfo, StoredMessage
from mirix_desktop.memory.records import EpisodicMemory, now_utc
from mirix_desktop.memory.store import MemoryStore

CHAT_APP = "mirix-desktop"
# Records of the conversation tables, named here too for the assistant's callers.
__all__ = [
    "CHAT_APP",
    "AnswerStatus",
    "ConversationInfo",
    "ConversationLog",
    "StoredMessage",
    "chat_thread",
]


def chat_thread(conversation_id: int) -> str:
    return f"chat:{conversation_id}"


class ConversationLog:
    """Reads and writes conversations in one store."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def start(self, title: str, at: datetime | None = None) -> int:
        with self.store.transaction() as conn:
            return conversation_rows.insert_conversation(conn, title, at or now_utc())

    def exists(self, conversation_id: int) -> bool:
        with self.store.read() as conn:
            return conversation_rows.conversation_exists(conn, conversation_id)

    def latest(self) -> int | None:
        with self.store.read() as conn:
            return conversation_rows.latest_conversation(conn)

    def add_question(self, conversation_id: int, question: str, at: datetime) -> int:
        with self.store.transaction() as conn:
            return conversation_rows.insert_question(conn, conversation_id, question, at)

    def add_answer(
        self,
        conversation_id: int,
        question_id: int,
        question: str,
        asked_at: datetime,
        answer: str,
        citations: list[dict[str, Any]],
        status: AnswerStatus,
        error: str | None,
        model: str,
        at: datetime,
        searchable_answer: str | None = None,
    ) -> tuple[int, int]:
        """Stores the answer and the exchange's searchable memory; returns both ids.

        `searchable_answer` is the answer as the memory should hold it (without
        boilerplate); by default the answer itself.
        """
        said = (answer if searchable_answer is None else searchable_answer).strip()
        details = f"Answer ({model}): {said}" if said else "No answer."
        if status != "complete":
            details += f"\n(The answer is incomplete: {error}.)"
        exchange = EpisodicMemory(
            app=CHAT_APP,
            thread=chat_thread(conversation_id),
            title=f"Asked: {' '.join(question.split())[:120]}",
            summary=f"You asked the assistant: {question.strip()}",
            details=details,
            started_at=asked_at,
            ended_at=at,
        )
        prepared = self.store.prepare([exchange])
        with self.store.transaction() as conn:
            answer_id = conversation_rows.insert_answer(
                conn, conversation_id, answer, citations, status, error, model, at
            )
            (memory_id,) = self.store.write_prepared(conn, prepared)
            conversation_rows.link_memory(conn, question_id, memory_id)
        return answer_id, memory_id

    def history(self, conversation_id: int, max_messages: int = 12) -> list[ChatMessage]:
        """Earlier turns for the prompt, oldest first; failed answers left out."""
        with self.store.read() as conn:
            recent = conversation_rows.recent_messages(conn, conversation_id, max_messages)
        return [
            ChatMessage("user" if message.role == "user" else "assistant", message.content)
            for message in recent
            if message.status != "failed" and message.content.strip()
        ]

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        with self.store.read() as conn:
            return conversation_rows.messages(conn, conversation_id)

    def conversations(self, limit: int = 20) -> list[ConversationInfo]:
        with self.store.read() as conn:
            return conversation_rows.conversations(conn, limit)
