"""The six memory types (MIRIX's model, adapted to a screen) and the stored record.

Each type is a pydantic model with the type's own fields. It knows how to
present itself to the store: its time span, app, title and the text that is
indexed for search. Knowledge-vault secrets are never part of that text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MemoryType(StrEnum):
    CORE = "core"
    EPISODIC = "episodic"
    SEMANTIC = "semantic"
    PROCEDURAL = "procedural"
    RESOURCE = "resource"
    KNOWLEDGE_VAULT = "knowledge_vault"


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive times are the user's local time
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _join(*parts: str | None) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


class MemoryFields(BaseModel):
    """Base of every memory type: the fields a caller supplies."""

    model_config = ConfigDict(extra="forbid")
    memory_type: ClassVar[MemoryType]
    # The field holding the type's main text, and the one holding its title
    # (None: the type has no title of its own); `memory add/edit` fill them.
    text_field: ClassVar[str]
    title_field: ClassVar[str | None]

    app: str | None = None
    # Groups memories seen together (a chat, a document, a session), so search
    # can use a memory's neighbours as context.
    thread: str | None = None

    def span(self) -> tuple[datetime, datetime | None]:
        return now_utc(), None

    def display_title(self) -> str | None:
        return None

    def search_text(self) -> str:
        raise NotImplementedError

    def type_fields(self) -> dict[str, Any]:
        """The fields stored in the JSON column (common ones live in real columns)."""
        return self.model_dump(mode="json", exclude={"app", "thread"})


class EpisodicMemory(MemoryFields):
    """A time-bounded event: what the user did, where, from when to when."""

    memory_type: ClassVar[MemoryType] = MemoryType.EPISODIC
    text_field: ClassVar[str] = "summary"
    title_field: ClassVar[str | None] = "title"
    started_at: datetime = Field(default_factory=now_utc)
    ended_at: datetime | None = None
    title: str | None = None
    summary: str
    details: str | None = None
    source_frames: list[int] = Field(default_factory=list)

    def span(self) -> tuple[datetime, datetime | None]:
        return self.started_at, self.ended_at

    def display_title(self) -> str | None:
        return self.title

    def search_text(self) -> str:
        return _join(self.summary, self.details)


class ResourceMemory(MemoryFields):
    """A document, page, file, code or chat seen on screen, with its text."""

    memory_type: ClassVar[MemoryType] = MemoryType.RESOURCE
    text_field: ClassVar[str] = "content"
    title_field: ClassVar[str | None] = "title"
    kind: str = "document"
    title: str | None = None
    url: str | None = None
    path: str | None = None
    summary: str | None = None
    content: str
    first_seen: datetime = Field(default_factory=now_utc)
    last_seen: datetime | None = None

    def span(self) -> tuple[datetime, datetime | None]:
        return self.first_seen, self.last_seen

    def display_title(self) -> str | None:
        return self.title

    def search_text(self) -> str:
        return _join(self.url, self.path, self.summary, self.content)


class CoreMemory(MemoryFields):
    """A short fact about the user or the assistant persona."""

    memory_type: ClassVar[MemoryType] = MemoryType.CORE
    text_field: ClassVar[str] = "value"
    title_field: ClassVar[str | None] = "label"
    label: str = "human"
    value: str
    limit: int = Field(2000, ge=1)
    created: datetime = Field(default_factory=now_utc)

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: str) -> str:
        return value.strip()

    def span(self) -> tuple[datetime, datetime | None]:
        return self.created, None

    def display_title(self) -> str | None:
        return self.label

    def search_text(self) -> str:
        if len(self.value) > self.limit:
            raise ValueError(f"core memory is longer than its limit ({self.limit} characters)")
        return self.value


class SemanticMemory(MemoryFields):
    """A fact or concept learned."""

    memory_type: ClassVar[MemoryType] = MemoryType.SEMANTIC
    text_field: ClassVar[str] = "summary"
    title_field: ClassVar[str | None] = "name"
    name: str
    summary: str
    details: str | None = None
    source: str | None = None
    created: datetime = Field(default_factory=now_utc)

    def span(self) -> tuple[datetime, datetime | None]:
        return self.created, None

    def display_title(self) -> str | None:
        return self.name

    def search_text(self) -> str:
        return _join(self.summary, self.details)


class ProceduralMemory(MemoryFields):
    """A how-to or workflow: a summary and its steps."""

    memory_type: ClassVar[MemoryType] = MemoryType.PROCEDURAL
    text_field: ClassVar[str] = "summary"
    title_field: ClassVar[str | None] = None
    summary: str
    steps: list[str] = Field(default_factory=list)
    created: datetime = Field(default_factory=now_utc)

    def span(self) -> tuple[datetime, datetime | None]:
        return self.created, None

    def display_title(self) -> str | None:
        return self.summary.splitlines()[0][:200] if self.summary else None

    def search_text(self) -> str:
        return _join(self.summary, *self.steps)


class KnowledgeVaultItem(MemoryFields):
    """A sensitive item the user chose to keep. Its secret is never indexed."""

    memory_type: ClassVar[MemoryType] = MemoryType.KNOWLEDGE_VAULT
    text_field: ClassVar[str] = "secret_value"
    title_field: ClassVar[str | None] = "caption"
    entry_type: str = "note"
    sensitivity: Literal["low", "medium", "high"] = "high"
    secret_value: str
    caption: str
    created: datetime = Field(default_factory=now_utc)

    def span(self) -> tuple[datetime, datetime | None]:
        return self.created, None

    def display_title(self) -> str | None:
        return self.caption

    def search_text(self) -> str:
        return _join(self.entry_type, self.caption)


MEMORY_MODELS: dict[MemoryType, type[MemoryFields]] = {
    model.memory_type: model
    for model in (
        CoreMemory,
        EpisodicMemory,
        SemanticMemory,
        ProceduralMemory,
        ResourceMemory,
        KnowledgeVaultItem,
    )
}


def build_memory(
    memory_type: MemoryType,
    text: str,
    *,
    title: str | None = None,
    app: str | None = None,
    at: datetime | None = None,
    thread: str | None = None,
) -> MemoryFields:
    """Makes a memory of any type from the generic inputs of `memory add`."""
    when = at or now_utc()
    common: dict[str, Any] = {"app": app, "thread": thread}
    match memory_type:
        case MemoryType.EPISODIC:
            return EpisodicMemory(summary=text, title=title, started_at=when, **common)
        case MemoryType.RESOURCE:
            return ResourceMemory(
                content=text, title=title, first_seen=when, last_seen=when, **common
            )
        case MemoryType.CORE:
            return CoreMemory(value=text, label=title or "human", created=when, **common)
        case MemoryType.SEMANTIC:
            return SemanticMemory(summary=text, name=title or text[:80], created=when, **common)
        case MemoryType.PROCEDURAL:
            steps = [line.strip() for line in text.splitlines()[1:] if line.strip()]
            summary = title or text.splitlines()[0]
            return ProceduralMemory(summary=summary, steps=steps, created=when, **common)
        case MemoryType.KNOWLEDGE_VAULT:
            if not title:
                raise ValueError("a knowledge-vault item needs a caption (--title)")
            return KnowledgeVaultItem(secret_value=text, caption=title, created=when, **common)
    raise ValueError(f"unknown memory type {memory_type!r}")  # pragma: no cover


@dataclass(frozen=True)
class MemoryRecord:
    """A memory as stored, with its id and timestamps."""

    id: int
    type: MemoryType
    time: datetime
    end_time: datetime | None
    app: str | None
    title: str | None
    body: str
    fields: dict[str, Any]
    thread: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> MemoryRecord:
        (id_, type_, time_, end, app, title, body, fields, thread, created, updated) = row
        return cls(
            id=id_,
            type=MemoryType(type_),
            time=from_ms(time_),
            end_time=from_ms(end) if end is not None else None,
            app=app,
            title=title,
            body=body,
            fields=json.loads(fields),
            thread=thread,
            created_at=from_ms(created),
            updated_at=from_ms(updated),
        )

    def model(self) -> MemoryFields:
        """The typed memory this record holds."""
        model_type = MEMORY_MODELS[self.type]
        return model_type.model_validate({**self.fields, "app": self.app, "thread": self.thread})


RECORD_COLUMNS = (
    "id, type, time, end_time, app, title, body, fields, thread, created_at, updated_at"
)
