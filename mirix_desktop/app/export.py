"""Export memories to a file (JSONL or Markdown) and import a JSONL export into a store.

JSONL is the exchange format: one memory per line,
``{"version", "id", "type", "time", "end_time", "app", "title", "body",
"fields", "thread"}``. Import rebuilds each memory from ``type``, ``fields``,
``app`` and ``thread`` through the type's pydantic model; ``time``,
``end_time``, ``title`` and ``body`` are derived from them and are there for
people and other tools.

The stable id. The store has no id that survives a copy (row ids differ
between stores), so ``id`` is derived from the content: the SHA-256 of the
canonical JSON of [type, time, end_time, app, thread, fields] (times in ms,
fields with sorted keys), the first 32 hex digits. The same memory has the
same id in every store, so an import skips what the target already holds;
an edited memory is a different memory and is imported beside the old one.

Markdown is for reading: one ``## 2026-11-20, Friday`` section per local
day, each memory under it with its time, type, app and title, and its text.

Both are written atomically (a 0600 temp file renamed into place): a file
that exists is never replaced unless the caller says `force`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mirix_desktop.app import audit
from mirix_desktop.errors import KnownError
from mirix_desktop.memory import export_rows
from mirix_desktop.memory.audit import append_audit
from mirix_desktop.memory.records import (
    MEMORY_MODELS,
    MemoryFields,
    MemoryRecord,
    MemoryType,
    to_ms,
)
from mirix_desktop.memory.store import MemoryStore

log = logging.getLogger("mirix.app.export")

# The JSONL format's version: an import refuses a file written by a newer one.
EXPORT_VERSION = 1


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    MARKDOWN = "markdown"


class ExportRefused(KnownError):
    """The export would overwrite a file, or leak the vault without consent."""

    exit_code = 2


class ExportWriteFailed(KnownError):
    """The export file could not be written (read-only place, full disk)."""

    exit_code = 3


class ImportFileError(KnownError):
    """A line of the import file is damaged; nothing was imported."""

    exit_code = 2

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}. Nothing was imported.")
        self.line = line


@dataclass(frozen=True)
class ExportFilter:
    """Which memories go out; the vault only when `include_vault`."""

    since: datetime | None = None
    until: datetime | None = None
    apps: tuple[str, ...] = ()
    types: tuple[MemoryType, ...] = ()
    include_vault: bool = False

    def check(self) -> None:
        if MemoryType.KNOWLEDGE_VAULT in self.types and not self.include_vault:
            raise ExportRefused(
                "Knowledge-vault items are exported only with --include-vault "
                "(which asks for your passphrase again)."
            )


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped: int


# -- the stable id -------------------------------------------------------------------------
def stable_id(
    memory_type: MemoryType,
    time_ms: int,
    end_ms: int | None,
    app: str | None,
    thread: str | None,
    fields: dict[str, Any],
) -> str:
    """The id a memory has in every store (see the module docstring)."""
    canonical = json.dumps(
        [memory_type.value, time_ms, end_ms, app, thread, fields],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def record_id(record: MemoryRecord) -> str:
    return stable_id(
        record.type,
        to_ms(record.time),
        to_ms(record.end_time) if record.end_time is not None else None,
        record.app,
        record.thread,
        record.fields,
    )


def memory_id(memory: MemoryFields) -> str:
    start, end = memory.span()
    return stable_id(
        memory.memory_type,
        to_ms(start),
        to_ms(end) if end is not None else None,
        memory.app,
        memory.thread,
        memory.type_fields(),
    )


# -- export ----------------------------------------------------------------------------------
def check_target(target: Path, *, force: bool) -> None:
    """Refuses an existing file without `force`, before any work is done."""
    if target.is_dir():
        raise ExportRefused(f"{target} is a directory; give a file name with -o.")
    if target.exists() and not force:
        raise ExportRefused(f"{target} already exists; use --force to replace it.")


def export_memories(
    store: MemoryStore,
    target: Path,
    export_format: ExportFormat,
    selection: ExportFilter,
    *,
    force: bool = False,
    actor: str = "cli",
) -> int:
    """Writes the selected memories to `target`; returns how many.

    The audit log gets the filters and counts (and a "vault_read" when vault
    secrets went out), never what was exported.
    """
    selection.check()
    check_target(target, force=force)
    types = selection.types or tuple(MemoryType)
    if not selection.include_vault:
        types = tuple(t for t in types if t is not MemoryType.KNOWLEDGE_VAULT)
    records = export_rows.iter_memories(
        store,
        since_ms=to_ms(selection.since) if selection.since else None,
        until_ms=to_ms(selection.until) if selection.until else None,
        apps=selection.apps,
        types=types,
    )
    counter = _Counter(records)
    chunks = _jsonl_lines(counter) if export_format is ExportFormat.JSONL else _markdown(counter)
    _write_atomically(target, chunks, force=force)
    log.info("exported %d memories to %s (%s)", counter.count, target, export_format.value)
    audit.record(
        store,
        "export",
        {
            "memories": counter.count,
            "vault_items": counter.vault_items if selection.include_vault else None,
            "format": export_format.value,
            "file": str(target),
            "since": selection.since.isoformat() if selection.since else None,
            "until": selection.until.isoformat() if selection.until else None,
            "apps": list(selection.apps),
            "types": [t.value for t in selection.types],
            "include_vault": selection.include_vault,
        },
        actor=actor,
    )
    if counter.vault_items:
        audit.record(
            store, "vault_read", {"via": "export", "items": counter.vault_items}, actor=actor
        )
    return counter.count


class _Counter:
    def __init__(self, records: Iterable[MemoryRecord]) -> None:
        self._records = records
        self.count = 0
        self.vault_items = 0

    def __iter__(self) -> Iterator[MemoryRecord]:
        for record in self._records:
            self.count += 1
            self.vault_items += record.type is MemoryType.KNOWLEDGE_VAULT
            yield record


def export_line(record: MemoryRecord) -> dict[str, Any]:
    """The JSONL object of one memory."""
    return {
        "version": EXPORT_VERSION,
        "id": record_id(record),
        "type": record.type.value,
        "time": record.time.isoformat(),
        "end_time": record.end_time.isoformat() if record.end_time else None,
        "app": record.app,
        "title": record.title,
        "body": record.body,
        "fields": record.fields,
        "thread": record.thread,
    }


def _jsonl_lines(records: Iterable[MemoryRecord]) -> Iterator[str]:
    for record in records:
        yield json.dumps(export_line(record), ensure_ascii=False) + "\n"


def _markdown_text(record: MemoryRecord) -> str:
    text = record.body
    if record.type is MemoryType.KNOWLEDGE_VAULT:
        text = f"{text}\n\nSecret: {record.fields.get('secret_value', '')}"
    # A line starting with "#" or ">" in OCR text would become a heading or quote.
    lines = [("\\" + line) if line.startswith(("#", ">")) else line for line in text.splitlines()]
    return "\n".join(lines)


def _markdown(records: Iterable[MemoryRecord]) -> Iterator[str]:
    yield "# MIRIX memories\n"
    day = None
    for record in records:
        local = record.time.astimezone()
        if local.date() != day:
            day = local.date()
            yield f"\n## {day.isoformat()}, {local.strftime('%A')}\n"
        span = local.strftime("%H:%M")
        if record.end_time is not None:
            span += "–" + record.end_time.astimezone().strftime("%H:%M")
        heading = " · ".join(p for p in (span, record.type.value, record.app, record.title) if p)
        yield f"\n### {heading}\n\n{_markdown_text(record)}\n"


def _write_atomically(target: Path, chunks: Iterable[str], *, force: bool) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ExportWriteFailed(f"Cannot write in {target.parent}: {exc.strerror}.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            os.replace(tmp, target)
        else:
            # link fails if the file appeared meanwhile: nothing is ever overwritten.
            os.link(tmp, target)
    except FileExistsError as exc:
        raise ExportRefused(f"{target} already exists; use --force to replace it.") from exc
    except OSError as exc:
        raise ExportWriteFailed(f"Cannot write {target}: {exc.strerror}.") from exc
    finally:
        tmp.unlink(missing_ok=True)


# -- import ----------------------------------------------------------------------------------
def _parse_line(path: Path, number: int, text: str) -> MemoryFields:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImportFileError(path, number, f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ImportFileError(path, number, "not a JSON object")
    version = data.get("version")
    if not isinstance(version, int):
        raise ImportFileError(path, number, "no format version")
    if version > EXPORT_VERSION:
        raise ImportFileError(
            path,
            number,
            f"written by a newer mirix-desktop (format {version}; this one reads "
            f"{EXPORT_VERSION} at most): upgrade to import it",
        )
    raw_type = data.get("type")
    if raw_type not in {t.value for t in MemoryType}:
        raise ImportFileError(path, number, f"unknown memory type {raw_type!r}")
    memory_type = MemoryType(str(raw_type))
    fields = data.get("fields")
    if not isinstance(fields, dict):
        raise ImportFileError(path, number, "'fields' is not an object")
    try:
        memory = MEMORY_MODELS[memory_type].model_validate(
            {**fields, "app": data.get("app"), "thread": data.get("thread")}
        )
        memory.search_text()  # the checks a store write makes (a core memory's limit)
    except (ValidationError, ValueError) as exc:
        problem = str(exc).splitlines()
        raise ImportFileError(
            path, number, f"invalid {memory_type.value} memory: {' '.join(problem[:3])}"
        ) from exc
    return memory


def read_import_file(path: Path) -> list[MemoryFields]:
    """Every memory of a JSONL export; `ImportFileError` at the first damaged line."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ImportFileError(path, None, f"cannot be read ({exc.strerror})") from exc
    memories: list[MemoryFields] = []
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    memories.append(_parse_line(path, number, line))
        except UnicodeDecodeError as exc:
            raise ImportFileError(path, len(memories) + 1, "not UTF-8 text") from exc
    return memories


def import_memories(store: MemoryStore, path: Path, *, actor: str = "cli") -> ImportResult:
    """Adds the memories of `path` that `store` lacks, all in one transaction.

    The audit entry (file, counts) is written in the same transaction.
    """
    memories = read_import_file(path)
    if not memories:
        audit.record(store, "import", {"added": 0, "skipped": 0, "file": str(path)}, actor=actor)
        return ImportResult(0, 0)
    ids = [memory_id(m) for m in memories]
    prepared = store.prepare(memories)  # embedding: slow, outside the transaction
    low = min(p.time for p in prepared)
    high = max(p.time for p in prepared)
    with store.transaction() as conn:
        present = {record_id(r) for r in export_rows.memories_between(conn, low, high)}
        new = []
        for stable, row in zip(ids, prepared, strict=True):
            if stable not in present:
                present.add(stable)  # a line repeated in the file is added once
                new.append(row)
        if new:
            store.write_prepared(conn, new)
        append_audit(
            conn,
            "import",
            {"added": len(new), "skipped": len(ids) - len(new), "file": str(path)},
            actor=actor,
        )
    log.info(
        "imported %d memories from %s (%d already present)", len(new), path, len(ids) - len(new)
    )
    return ImportResult(added=len(new), skipped=len(ids) - len(new))
