"""Conversations with the assistant, kept in the store and searchable.

Each question is saved before the model is asked, and its answer once the
stream ends, complete or not: a partial answer is kept, marked 'partial' with
the error. Every exchange also becomes an episodic memory (app
"mirix-desktop", thread "chat:<id>"), so "what did I ask about the budget?"
is found by the same search as everything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mirix_desktop.llm.base import ChatMessage
from mirix_desktop.memory.records import EpisodicMemory, from_ms, now_utc, to_ms
from mirix_desktop.memory.store import MemoryStore

CHAT_APP = "mirix-desktop"
AnswerStatus = Literal["complete", "partial", "failed"]


def chat_thread(conversation_id: int) -> str:
    return f"chat:{conversation_id}"


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: str
    content: str
    citations: list[dict[str, Any]]
    status: AnswerStatus
    error: str | None
    model: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "content": self.content,
            "citations": self.citations,
            "status": self.status,
            "error": self.error,
            "model": self.model,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class ConversationInfo:
    id: int
    title: str | None
    started_at: datetime
    messages: int


_MESSAGE_COLUMNS = "id, conversation_id, role, content, citations, status, error, model, created_at"


class ConversationLog:
    """Reads and writes conversations in one store."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def start(self, title: str, at: datetime | None = None) -> int:
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO conversations (title, started_at) VALUES (?, ?)",
                (title[:200], to_ms(at or now_utc())),
            )
            return int(cursor.lastrowid)

    def exists(self, conversation_id: int) -> bool:
        row = self.store.conn.execute(
            "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return row is not None

    def latest(self) -> int | None:
        row = self.store.conn.execute("SELECT max(id) FROM conversations").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def add_question(self, conversation_id: int, question: str, at: datetime) -> int:
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, created_at) "
                "VALUES (?, 'user', ?, ?)",
                (conversation_id, question, to_ms(at)),
            )
            return int(cursor.lastrowid)

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
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, citations, status, "
                "error, model, created_at) VALUES (?, 'assistant', ?, ?, ?, ?, ?, ?)",
                (conversation_id, answer, json.dumps(citations), status, error, model, to_ms(at)),
            )
            answer_id = int(cursor.lastrowid)
            (memory_id,) = self.store.write_prepared(conn, prepared)
            conn.execute("UPDATE messages SET memory_id = ? WHERE id = ?", (memory_id, question_id))
        return answer_id, memory_id

    def history(self, conversation_id: int, max_messages: int = 12) -> list[ChatMessage]:
        """Earlier turns for the prompt, oldest first; failed answers left out."""
        rows = self.store.conn.execute(
            "SELECT role, content, status FROM messages WHERE conversation_id = ? "
            "ORDER BY id DESC LIMIT ?",
            (conversation_id, max_messages),
        ).fetchall()
        turns = [
            ChatMessage("user" if role == "user" else "assistant", content)
            for role, content, status in reversed(rows)
            if status != "failed" and content.strip()
        ]
        return turns

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = self.store.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [_message(row) for row in rows]

    def conversations(self, limit: int = 20) -> list[ConversationInfo]:
        rows = self.store.conn.execute(
            "SELECT c.id, c.title, c.started_at, count(m.id) FROM conversations c "
            "LEFT JOIN messages m ON m.conversation_id = c.id "
            "GROUP BY c.id ORDER BY c.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [ConversationInfo(r[0], r[1], from_ms(r[2]), r[3]) for r in rows]


def _message(row: tuple[Any, ...]) -> StoredMessage:
    id_, conversation, role, content, citations, status, error, model, created = row
    return StoredMessage(
        id=id_,
        conversation_id=conversation,
        role=role,
        content=content,
        citations=json.loads(citations),
        status=status,
        error=error,
        model=model,
        created_at=from_ms(created),
    )
