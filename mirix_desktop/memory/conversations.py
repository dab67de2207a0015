"""The rows of conversations with the assistant (tables `conversations`, `messages`).

What a conversation means (the exchange's searchable memory, the history
given to the model) is `assistant/conversations.py`'s. Every function runs
on the caller's connection (see `MemoryStore`'s locking rule).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.records import from_ms, to_ms

AnswerStatus = Literal["complete", "partial", "failed"]
# Room for a readable title in a list, not for the whole question.
TITLE_CHARS = 200


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


def insert_conversation(conn: Connection, title: str, started_at: datetime) -> int:
    cursor = conn.execute(
        "INSERT INTO conversations (title, started_at) VALUES (?, ?)",
        (title[:TITLE_CHARS], to_ms(started_at)),
    )
    return int(cursor.lastrowid)


def conversation_exists(conn: Connection, conversation_id: int) -> bool:
    row = conn.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    return row is not None


def latest_conversation(conn: Connection) -> int | None:
    row = conn.execute("SELECT max(id) FROM conversations").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def insert_question(conn: Connection, conversation_id: int, question: str, at: datetime) -> int:
    cursor = conn.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at) "
        "VALUES (?, 'user', ?, ?)",
        (conversation_id, question, to_ms(at)),
    )
    return int(cursor.lastrowid)


def insert_answer(
    conn: Connection,
    conversation_id: int,
    answer: str,
    citations: list[dict[str, Any]],
    status: AnswerStatus,
    error: str | None,
    model: str,
    at: datetime,
) -> int:
    cursor = conn.execute(
        "INSERT INTO messages (conversation_id, role, content, citations, status, "
        "error, model, created_at) VALUES (?, 'assistant', ?, ?, ?, ?, ?, ?)",
        (conversation_id, answer, json.dumps(citations), status, error, model, to_ms(at)),
    )
    return int(cursor.lastrowid)


def link_memory(conn: Connection, message_id: int, memory_id: int) -> None:
    """Points a question at the memory that makes its exchange searchable."""
    conn.execute("UPDATE messages SET memory_id = ? WHERE id = ?", (memory_id, message_id))


def recent_messages(conn: Connection, conversation_id: int, limit: int) -> list[StoredMessage]:
    """The conversation's last `limit` messages, oldest first."""
    rows = conn.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? "
        "ORDER BY id DESC LIMIT ?",
        (conversation_id, limit),
    ).fetchall()
    return [_message(row) for row in reversed(rows)]


def messages(conn: Connection, conversation_id: int) -> list[StoredMessage]:
    rows = conn.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
        (conversation_id,),
    ).fetchall()
    return [_message(row) for row in rows]


def conversations(conn: Connection, limit: int) -> list[ConversationInfo]:
    """The newest conversations first, with their message counts."""
    rows = conn.execute(
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
