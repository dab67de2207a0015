"""What the chat window shows, as plain data: turns, their sources, conversation lists.

Everything here that reads the store runs on a worker thread (ui/workers.py)
and returns frozen records the GUI thread renders; nothing here touches a
widget. A source is a citation joined with its memory as a person sees it:
app, title, local time and a short snippet around the question's words. A
knowledge-vault item's secret is never in a snippet (its indexed text is only
its caption).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from mirix_desktop.assistant.assistant import Answer
from mirix_desktop.assistant.conversations import ConversationInfo, ConversationLog, StoredMessage
from mirix_desktop.assistant.prompt import describe_time, focus
from mirix_desktop.memory.records import MemoryRecord, MemoryType
from mirix_desktop.memory.store import MemoryStore

SNIPPET_CHARS = 180
# The conversation list shows this many of the latest conversations.
CONVERSATIONS_SHOWN = 500

TurnStatus = Literal["waiting", "streaming", "complete", "partial", "failed"]

# The assistant stores its "remember that" confirmation with CLI hints
# (assistant/remember.py); the window says it in plain words instead.
_REMEMBERED = re.compile(
    r"^Noted\. I will remember: “(?P<fact>.*)” \((?P<kind>core|semantic) memory #(?P<id>\d+);",
    re.DOTALL,
)


@dataclass(frozen=True)
class Source:
    number: int
    memory_id: int
    app: str | None
    title: str | None
    when: str  # local time, as a person reads it
    snippet: str
    missing: bool = False  # the memory was deleted since


@dataclass(frozen=True)
class RememberedFact:
    memory_id: int
    fact: str
    about_you: bool  # core memory (in every prompt), else a semantic note

    def confirmation(self) -> str:
        if self.about_you:
            return (
                f"Noted. I will remember that {self.fact} — it is now part of what I "
                "know about you and goes into every answer."
            )
        return f"Noted. I will remember that {self.fact} — I will find it when it matters."


@dataclass
class Turn:
    """One question and its answer as the window shows it (mutable while streaming)."""

    question: str
    asked_at: datetime
    text: str = ""
    status: TurnStatus = "waiting"
    error: str | None = None
    model: str | None = None
    sources: list[Source] = field(default_factory=list)
    remembered: RememberedFact | None = None

    @property
    def cited(self) -> dict[int, int]:
        """Citation number -> memory id, for the answer's links."""
        return {s.number: s.memory_id for s in self.sources if not s.missing}

    @property
    def done(self) -> bool:
        return self.status in ("complete", "partial", "failed")


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    started_at: datetime


@dataclass(frozen=True)
class LoadedConversation:
    id: int
    turns: list[Turn]


def list_conversations(
    store: MemoryStore, limit: int = CONVERSATIONS_SHOWN
) -> list[ConversationSummary]:
    infos: list[ConversationInfo] = ConversationLog(store).conversations(limit=limit)
    return [
        ConversationSummary(info.id, (info.title or "Untitled chat").strip(), info.started_at)
        for info in infos
    ]


def load_conversation(store: MemoryStore, conversation_id: int) -> LoadedConversation:
    """The conversation's turns, oldest first, with their sources resolved."""
    messages = ConversationLog(store).messages(conversation_id)
    turns: list[Turn] = []
    pending: list[tuple[Turn, list[dict[str, Any]]]] = []
    for message in messages:
        if message.role == "user":
            turns.append(Turn(message.content, message.created_at))
            continue
        if not turns or turns[-1].done:
            continue  # an answer without its question: nothing to show it under
        turn = turns[-1]
        _fill_answer(turn, message)
        pending.append((turn, message.citations))
    ids = [int(c["memory_id"]) for _, cs in pending for c in cs if "memory_id" in c]
    records = store.get_many(ids) if ids else {}
    for turn, citations in pending:
        turn.sources = [_source_from_json(c, records, turn.question) for c in citations]
    for turn in turns:
        if not turn.done:
            # The app stopped before the answer was stored.
            turn.status, turn.error = "failed", "no answer was kept"
    return LoadedConversation(conversation_id, turns)


def _fill_answer(turn: Turn, message: StoredMessage) -> None:
    turn.text = message.content
    turn.status = message.status
    turn.error = message.error
    turn.model = message.model
    if message.model == "memory":
        remembered = _REMEMBERED.match(message.content)
        if remembered:
            turn.remembered = RememberedFact(
                int(remembered["id"]), remembered["fact"], remembered["kind"] == "core"
            )


def sources_for_answer(store: MemoryStore, answer: Answer) -> list[Source]:
    citations = [c.to_json() for c in answer.citations]
    ids = [c.memory_id for c in answer.citations]
    records = store.get_many(ids) if ids else {}
    return [_source_from_json(c, records, answer.question) for c in citations]


def remembered_of(answer: Answer) -> RememberedFact | None:
    if answer.remembered is None:
        return None
    return RememberedFact(
        answer.remembered.memory_id,
        answer.remembered.fact,
        answer.remembered.type is MemoryType.CORE,
    )


def _source_from_json(
    citation: dict[str, Any], records: dict[int, MemoryRecord], question: str
) -> Source:
    number = int(citation.get("n", 0))
    memory_id = int(citation.get("memory_id", 0))
    record = records.get(memory_id)
    if record is None:
        when = _iso_local(citation.get("time"))
        return Source(number, memory_id, citation.get("app"), citation.get("title"), when, "", True)
    return Source(
        number,
        memory_id,
        record.app,
        record.title,
        describe_time(record),
        snippet(record, question),
        False,
    )


def snippet(record: MemoryRecord, question: str, max_chars: int = SNIPPET_CHARS) -> str:
    """A short passage of the memory around the question's words; never a vault secret."""
    if record.type is MemoryType.KNOWLEDGE_VAULT:
        return "A knowledge-vault item (its value is hidden)."
    text = " ".join(record.body.split())
    part = focus(text, question, max_chars)
    if len(part) < len(text):
        if not text.startswith(part):
            part = "…" + part
        if not text.endswith(part.removeprefix("…")):
            part += "…"
    return part


def _iso_local(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return datetime.fromisoformat(value).astimezone().strftime("%a %Y-%m-%d %H:%M")
    except ValueError:
        return value


def finished_turn(turn: Turn, answer: Answer, sources: Sequence[Source]) -> Turn:
    """`turn` updated with the stored answer (the text the store holds is the truth)."""
    return replace(
        turn,
        text=answer.text,
        status=answer.status,
        error=answer.error,
        model=answer.model,
        sources=list(sources),
        remembered=remembered_of(answer),
    )
