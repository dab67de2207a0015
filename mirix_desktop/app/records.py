"""Memories as shown to a person: listed, searched, shown in full, added and edited.

A knowledge-vault item's secret is hidden everywhere a list or a search
shows memories; only `get_record(..., reveal=True)` (the person opened that
one item) includes it. The CLI prints what these functions return; the
windows show the same records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from mirix_desktop.app import audit
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError
from mirix_desktop.memory.records import MemoryFields, MemoryRecord, MemoryType, build_memory
from mirix_desktop.memory.search import SearchEngine, SearchQuery, SearchResult
from mirix_desktop.memory.store import MemoryStore

SECRET_FIELDS = frozenset({"secret_value"})
_HEADLINE_CHARS = 80


class InvalidMemory(KnownError):
    """A memory's new text or title is not acceptable; `field` names the input at fault."""

    exit_code = 2

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ShownRecord:
    """A memory as a person sees it: `fields` lacks the vault secret unless revealed."""

    id: int
    type: MemoryType
    time: datetime
    end_time: datetime | None
    app: str | None
    title: str | None
    text: str
    thread: str | None
    fields: dict[str, Any] = field(repr=False)
    created_at: datetime
    updated_at: datetime

    @property
    def headline(self) -> str:
        """The first words of its text on one line, for lists."""
        return " ".join(self.text.split())[:_HEADLINE_CHARS]

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form ("memory list --json", "memory show --json")."""
        return {
            "id": self.id,
            "type": self.type.value,
            "time": self.time.isoformat(),
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "app": self.app,
            "title": self.title,
            "text": self.text,
            "thread": self.thread,
            "fields": dict(self.fields),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def shown(record: MemoryRecord, *, reveal: bool = False) -> ShownRecord:
    """The record as shown; the vault secret only with `reveal`."""
    fields = {k: v for k, v in record.fields.items() if reveal or k not in SECRET_FIELDS}
    return ShownRecord(
        id=record.id,
        type=record.type,
        time=record.time,
        end_time=record.end_time,
        app=record.app,
        title=record.title,
        # A vault item's body is its type and caption: the secret is never in it.
        text=record.body,
        thread=record.thread,
        fields=fields,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def list_records(
    store: MemoryStore, types: Sequence[MemoryType] = (), *, limit: int = 50
) -> list[ShownRecord]:
    """Memories newest first, secrets hidden."""
    return [shown(record) for record in store.list(list(types), limit=limit)]


def get_record(
    store: MemoryStore, memory_id: int, *, reveal: bool = False, actor: str = "cli"
) -> ShownRecord:
    """One memory (MemoryNotFound if there is none); `reveal` when the person asked for it.

    A revealed vault item is a "vault_read" in the audit log, written before
    the secret is returned.
    """
    record = store.get(memory_id)
    if reveal and record.type is MemoryType.KNOWLEDGE_VAULT:
        audit.record(store, "vault_read", {"memory_id": memory_id}, actor=actor)
    return shown(record, reveal=reveal)


def search_memories(
    store: MemoryStore,
    settings: Settings,
    text: str,
    *,
    types: Sequence[MemoryType] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    apps: Sequence[str] = (),
    limit: int | None = None,
    now: datetime | None = None,
    exclude_apps: Sequence[str] = (),
) -> SearchResult:
    """Hybrid search; time phrases in `text` filter too. Snippets never hold vault secrets.

    Memories of `exclude_apps` are never returned (the MCP server's `mcp.exclude_apps`).
    """
    request = SearchQuery(
        text=text,
        types=list(types),
        since=since,
        until=until,
        apps=list(apps),
        limit=limit or settings.search.default_limit,
        now=now,
        exclude_apps=list(exclude_apps),
    )
    return SearchEngine(store, candidates=settings.search.candidates).search(request)


def search_json(result: SearchResult) -> dict[str, Any]:
    """The documented JSON form of a search ("search --json")."""
    return {
        "query": result.text,
        "time_range": None if result.time_range is None else result.time_range.to_json(),
        "results": [hit.to_json() for hit in result.hits],
    }


def new_memory(
    memory_type: MemoryType,
    text: str,
    *,
    title: str | None = None,
    app: str | None = None,
    at: datetime | None = None,
    thread: str | None = None,
) -> MemoryFields:
    """A memory the person wrote, checked before any store is opened (InvalidMemory)."""
    if not text.strip():
        raise InvalidMemory("the text is empty", field="text")
    try:
        memory_item = build_memory(memory_type, text, title=title, app=app, at=at, thread=thread)
    except (ValidationError, ValueError) as exc:
        raise InvalidMemory(str(exc)) from exc
    _check_limits(memory_item)
    return memory_item


def _check_limits(memory_item: MemoryFields) -> None:
    """The type's own limits on its text (a core memory's length), as InvalidMemory."""
    try:
        memory_item.search_text()
    except ValueError as exc:
        raise InvalidMemory(str(exc), field="text") from exc


def add_memory(
    store: MemoryStore,
    memory_type: MemoryType,
    text: str,
    *,
    title: str | None = None,
    app: str | None = None,
    at: datetime | None = None,
    thread: str | None = None,
) -> int:
    """Stores a memory the person wrote; returns its id."""
    memory_item = new_memory(memory_type, text, title=title, app=app, at=at, thread=thread)
    return store.add(memory_item)


def editable_text(record: MemoryRecord) -> str:
    """The text a person edits for this memory (a vault item: its secret)."""
    current = record.model()
    return str(getattr(current, current.text_field))


def edit_memory(
    store: MemoryStore, memory_id: int, *, text: str | None = None, title: str | None = None
) -> None:
    """Replaces a memory's text and/or title, checked like a new one (InvalidMemory)."""
    record = store.get(memory_id)
    current = record.model()
    changes: dict[str, Any] = {}
    if text is not None:
        if not text.strip():
            raise InvalidMemory("the text is empty", field="text")
        changes[current.text_field] = text.strip()
    if title is not None:
        if current.title_field is None:
            raise InvalidMemory(f"a {record.type.value} memory has no title")
        changes[current.title_field] = title
    try:
        updated = type(current).model_validate({**current.model_dump(), **changes})
    except (ValidationError, ValueError) as exc:
        raise InvalidMemory(str(exc)) from exc
    _check_limits(updated)
    store.update(memory_id, updated)
