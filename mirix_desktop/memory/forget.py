"""The SQL of forgetting: what a filter covers, its deletion, and the compaction after it.

`plan` reads what a `Scope` covers: frames (and their thumbnails, OCR lines
and queued jobs), memories to remove, captured memories to cut (an episode
or resource reaching outside a forgotten time range), messages and
conversations. `apply` deletes it in the caller's transaction; the caller
(app/forget.py) rebuilds the cut memories and writes them. `compact` then
merges the full-text index (so no old segment still holds a forgotten term),
checkpoints the WAL and vacuums, with `secure_delete` on.

Every function runs on the caller's connection (see `MemoryStore`'s locking
rule). What the filters mean for a person is documented in app/forget.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from mirix_desktop.memory import meta
from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.conversations import TITLE_CHARS
from mirix_desktop.memory.records import RECORD_COLUMNS, MemoryRecord

# Bumped by every forget: processes holding copies of rows (the vector
# mirror of a running daemon or app) reload them when it changes.
GENERATION_KEY = "forget_generation"
_CHUNK = 500
# Memory types a person writes (who they are, secrets they keep): a time,
# app or title filter leaves them alone; --id, --query and --everything do not.
_PERSONAL_TYPES = ("core", "knowledge_vault")


@dataclass(frozen=True)
class Scope:
    """A forget filter in the store's terms (times in ms, `until` exclusive).

    `query_terms`: the query's words for the full-text index (all must
    match); `query_phrase`: the query as typed, lower-cased, for OCR lines,
    window titles and messages.
    """

    since_ms: int | None = None
    until_ms: int | None = None
    app: str | None = None
    title: str | None = None
    memory_id: int | None = None
    query_terms: tuple[str, ...] = ()
    query_phrase: str | None = None
    everything: bool = False
    chat_app: str = "mirix-desktop"

    @property
    def ranged(self) -> bool:
        return self.since_ms is not None or self.until_ms is not None


@dataclass(frozen=True)
class CutMemory:
    """A captured memory partly outside the forgotten range: rebuilt from what remains.

    `gone_texts`: the OCR lines of the forgotten frames in its span (its
    lines among them go); `start_ms`/`end_ms`: its span outside the range.
    """

    record: MemoryRecord
    gone_texts: frozenset[str]
    start_ms: int
    end_ms: int
    consolidated: bool = False  # a model rewrote it (its first text is in its details)


@dataclass
class Plan:
    frame_ids: list[int] = field(default_factory=list)
    thumbnails: int = 0
    lines: int = 0  # OCR lines of the frames, plus `line_ids`
    line_ids: list[int] = field(default_factory=list)  # lines going from frames that stay
    job_ids: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    cut: list[CutMemory] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)  # touched
    emptied_conversations: list[int] = field(default_factory=list)

    @property
    def memories(self) -> int:
        return len(self.removed) + len(self.cut)


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _marks(count: int) -> str:
    return ",".join("?" * count)


# -- selection -----------------------------------------------------------------------------
def _frame_where(scope: Scope) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if scope.since_ms is not None:
        clauses.append("f.captured_at >= ?")
        params.append(scope.since_ms)
    if scope.until_ms is not None:
        clauses.append("f.captured_at < ?")
        params.append(scope.until_ms)
    if scope.app is not None:
        clauses.append("f.app = ? COLLATE NOCASE")
        params.append(scope.app)
    if scope.title is not None:
        clauses.append("instr(lower(coalesce(f.window_title, '')), ?) > 0")
        params.append(scope.title.lower())
    if scope.query_phrase is not None:
        clauses.append(
            "(instr(lower(coalesce(f.window_title, '')), ?) > 0 OR EXISTS (SELECT 1 FROM "
            "ocr_lines l WHERE l.frame_id = f.id AND instr(lower(l.text), ?) > 0))"
        )
        params += [scope.query_phrase, scope.query_phrase]
    return " AND ".join(clauses) or "1", params


def _fts_match(terms: Sequence[str]) -> str:
    # Each term quoted: a literal, never FTS5 syntax; all of them must match.
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _records(conn: Connection, sql: str, params: Sequence[Any]) -> list[MemoryRecord]:
    return [MemoryRecord.from_row(row) for row in conn.execute(sql, params).fetchall()]


def _span(record: MemoryRecord) -> tuple[int, int]:
    start = int(record.time.timestamp() * 1000)
    end = int(record.end_time.timestamp() * 1000) if record.end_time is not None else start
    return start, max(start, end)


def _selected_memories(conn: Connection, scope: Scope) -> list[MemoryRecord]:
    if scope.memory_id is not None:
        return _records(
            conn, f"SELECT {RECORD_COLUMNS} FROM memories WHERE id = ?", (scope.memory_id,)
        )
    clauses: list[str] = []
    params: list[Any] = []
    if scope.query_terms:
        clauses.append("id IN (SELECT rowid FROM memory_fts WHERE memory_fts MATCH ?)")
        params.append(_fts_match(scope.query_terms))
    else:
        clauses.append(f"type NOT IN ({_marks(len(_PERSONAL_TYPES))})")
        params += _PERSONAL_TYPES
    if scope.since_ms is not None:
        clauses.append("coalesce(end_time, time) >= ?")
        params.append(scope.since_ms)
    if scope.until_ms is not None:
        clauses.append("time < ?")
        params.append(scope.until_ms)
    if scope.app is not None:
        clauses.append("app = ? COLLATE NOCASE")
        params.append(scope.app)
    if scope.title is not None:
        clauses.append("instr(lower(coalesce(title, '')), ?) > 0")
        params.append(scope.title.lower())
    return _records(
        conn,
        f"SELECT {RECORD_COLUMNS} FROM memories WHERE {' AND '.join(clauses)} ORDER BY id",
        params,
    )


def _cut_span(scope: Scope, start: int, end: int) -> tuple[int, int] | None:
    """The memory's span outside the range; None when the range covers it whole."""
    before = scope.since_ms is not None and start < scope.since_ms
    after = scope.until_ms is not None and end >= scope.until_ms
    if before and after:
        return start, end  # cut from the middle: it keeps both ends
    if before:
        assert scope.since_ms is not None
        return start, scope.since_ms - 1
    if after:
        assert scope.until_ms is not None
        return scope.until_ms, end
    return None


def _gone_texts(conn: Connection, scope: Scope, start: int, end: int) -> frozenset[str]:
    """The lines read only in the forgotten frames of a span (not also in one that stays)."""
    where, params = _frame_where(scope)
    lines = "SELECT l.text FROM ocr_lines l JOIN frames f ON f.id = l.frame_id"
    rows = conn.execute(
        f"{lines} WHERE f.captured_at BETWEEN ? AND ? AND ({where}) "
        f"EXCEPT {lines} WHERE f.captured_at BETWEEN ? AND ? AND NOT ({where})",
        [start, end, *params, start, end, *params],
    ).fetchall()
    return frozenset(str(row[0]) for row in rows)


def _episode_frames(conn: Connection, record: MemoryRecord) -> list[int]:
    start, end = _span(record)
    rows = conn.execute(
        "SELECT id FROM frames WHERE captured_at BETWEEN ? AND ? AND app IS ? ORDER BY id",
        (start, end, record.app),
    ).fetchall()
    return [int(row[0]) for row in rows]


def _resource_lines(conn: Connection, record: MemoryRecord) -> list[int]:
    """OCR lines holding a resource's text, in the frames of its span."""
    start, end = _span(record)
    texts = sorted({line for line in str(record.fields.get("content", "")).splitlines() if line})
    found: list[int] = []
    for start_at in range(0, len(texts), _CHUNK):
        part = texts[start_at : start_at + _CHUNK]
        rows = conn.execute(
            f"SELECT l.id FROM ocr_lines l JOIN frames f ON f.id = l.frame_id "
            f"WHERE f.captured_at BETWEEN ? AND ? AND l.text IN ({_marks(len(part))})",
            [start, end, *part],
        ).fetchall()
        found += [int(row[0]) for row in rows]
    return sorted(set(found))


def _messages(conn: Connection, scope: Scope, chat_memories: Iterable[int]) -> list[int]:
    """Messages going: in the range (or holding the query), and those of chat memories going."""
    ids: set[int] = set()
    if scope.everything:
        return [int(r[0]) for r in conn.execute("SELECT id FROM messages").fetchall()]
    if scope.memory_id is None and scope.app is None and scope.title is None:
        clauses: list[str] = []
        params: list[Any] = []
        if scope.since_ms is not None:
            clauses.append("created_at >= ?")
            params.append(scope.since_ms)
        if scope.until_ms is not None:
            clauses.append("created_at < ?")
            params.append(scope.until_ms)
        if scope.query_phrase is not None:
            clauses.append("instr(lower(content), ?) > 0")
            params.append(scope.query_phrase)
        if clauses:
            rows = conn.execute(
                f"SELECT id FROM messages WHERE {' AND '.join(clauses)}", params
            ).fetchall()
            ids.update(int(r[0]) for r in rows)
    for memory_id in chat_memories:
        # The question that made the memory, and the answer after it.
        row = conn.execute(
            "SELECT id, conversation_id FROM messages WHERE memory_id = ?", (memory_id,)
        ).fetchone()
        if row is None:
            continue
        ids.add(int(row[0]))
        answer = conn.execute(
            "SELECT id, role FROM messages WHERE conversation_id = ? AND id > ? "
            "ORDER BY id LIMIT 1",
            (row[1], row[0]),
        ).fetchone()
        if answer is not None and answer[1] == "assistant":
            ids.add(int(answer[0]))
    return sorted(ids)


def plan(conn: Connection, scope: Scope) -> Plan:
    """What `scope` covers; nothing is changed."""
    result = Plan()
    if scope.everything:
        return _plan_everything(conn, result)
    memories = _selected_memories(conn, scope)
    frame_ids: set[int] = set()
    line_ids: set[int] = set()
    removed: dict[int, MemoryRecord] = {}
    if scope.memory_id is None:
        where, params = _frame_where(scope)
        rows = conn.execute(f"SELECT f.id FROM frames f WHERE {where}", params).fetchall()
        frame_ids.update(int(row[0]) for row in rows)
    for record in memories:
        start, end = _span(record)
        kind = record.type.value
        captured = kind in ("episodic", "resource") and record.app != scope.chat_app
        if scope.memory_id is not None and captured:
            if kind == "episodic":
                frame_ids.update(_episode_frames(conn, record))
            else:
                line_ids.update(_resource_lines(conn, record))
        cut = (
            _cut_span(scope, start, end)
            if captured and scope.memory_id is None and not scope.query_terms
            else None
        )
        if cut is None:
            removed[record.id] = record
        else:
            gone = _gone_texts(conn, scope, start, end)
            done = conn.execute(
                "SELECT 1 FROM consolidation_log WHERE memory_id = ? AND outcome = 'done' "
                "AND kind = 'episode'",
                (record.id,),
            ).fetchone()
            result.cut.append(CutMemory(record, gone, cut[0], cut[1], done is not None))
    # Facts and procedures consolidation learned from a resource going or cut.
    sources = [r.id for r in memories if r.type.value == "resource"]
    for part in _chunks(sources):
        rows = _records(
            conn,
            f"SELECT {RECORD_COLUMNS} FROM memories WHERE thread IN ({_marks(len(part))})",
            [f"learned:{memory_id}" for memory_id in part],
        )
        removed.update((r.id, r) for r in rows)
    chat = [r.id for r in removed.values() if r.app == scope.chat_app]
    result.message_ids = _messages(conn, scope, chat)
    # The memories of the exchanges whose messages go.
    for part in _chunks(result.message_ids):
        rows = conn.execute(
            f"SELECT memory_id FROM messages WHERE id IN ({_marks(len(part))}) "
            "AND memory_id IS NOT NULL",
            part,
        ).fetchall()
        linked = [int(r[0]) for r in rows if int(r[0]) not in removed]
        if linked:
            more = _records(
                conn,
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE id IN ({_marks(len(linked))})",
                linked,
            )
            removed.update((r.id, r) for r in more)
    cut_ids = {c.record.id for c in result.cut}
    result.removed = sorted(set(removed) - cut_ids)
    result.frame_ids = sorted(frame_ids)
    _count_frames(conn, result)
    _count_lines(conn, result, line_ids)
    _conversations(conn, result)
    return result


def _plan_everything(conn: Connection, result: Plan) -> Plan:
    def ids(sql: str) -> list[int]:
        return [int(row[0]) for row in conn.execute(sql).fetchall()]

    result.frame_ids = ids("SELECT id FROM frames ORDER BY id")
    result.removed = ids("SELECT id FROM memories ORDER BY id")
    result.message_ids = ids("SELECT id FROM messages ORDER BY id")
    _count_frames(conn, result)
    result.lines = int(conn.execute("SELECT count(*) FROM ocr_lines").fetchone()[0])
    result.job_ids = ids("SELECT id FROM capture_jobs ORDER BY id")
    result.conversation_ids = ids("SELECT id FROM conversations ORDER BY id")
    result.emptied_conversations = list(result.conversation_ids)
    return result


def _count_frames(conn: Connection, result: Plan) -> None:
    jobs: list[int] = []
    for part in _chunks(result.frame_ids):
        marks = _marks(len(part))
        row = conn.execute(
            f"SELECT count(*) FROM frames WHERE id IN ({marks}) AND thumbnail IS NOT NULL", part
        ).fetchone()
        result.thumbnails += int(row[0])
        rows = conn.execute(
            f"SELECT id FROM capture_jobs WHERE frame_id IN ({marks})", part
        ).fetchall()
        jobs += [int(r[0]) for r in rows]
    result.job_ids = sorted(jobs)


def _count_lines(conn: Connection, result: Plan, line_ids: set[int]) -> None:
    total = 0
    for part in _chunks(result.frame_ids):
        row = conn.execute(
            f"SELECT count(*) FROM ocr_lines WHERE frame_id IN ({_marks(len(part))})", part
        ).fetchone()
        total += int(row[0])
    # Lines of frames that stay (a forgotten resource's text in them).
    if line_ids:
        frames = set(result.frame_ids)
        staying: list[int] = []
        ordered = sorted(line_ids)
        for part in _chunks(ordered):
            rows = conn.execute(
                f"SELECT id, frame_id FROM ocr_lines WHERE id IN ({_marks(len(part))})", part
            ).fetchall()
            staying += [int(r[0]) for r in rows if int(r[1]) not in frames]
        result.line_ids = sorted(staying)
        total += len(result.line_ids)
    result.lines = total


def _conversations(conn: Connection, result: Plan) -> None:
    touched: set[int] = set()
    gone = set(result.message_ids)
    for part in _chunks(result.message_ids):
        rows = conn.execute(
            f"SELECT DISTINCT conversation_id FROM messages WHERE id IN ({_marks(len(part))})",
            part,
        ).fetchall()
        touched.update(int(r[0]) for r in rows)
    emptied = []
    for conversation in sorted(touched):
        rows = conn.execute(
            "SELECT id FROM messages WHERE conversation_id = ?", (conversation,)
        ).fetchall()
        if all(int(r[0]) in gone for r in rows):
            emptied.append(conversation)
    result.conversation_ids = sorted(touched)
    result.emptied_conversations = emptied


# -- deletion ------------------------------------------------------------------------------
def apply(conn: Connection, plan: Plan) -> None:
    """Deletes what `plan` covers, cut memories included (the caller writes their
    rebuilt versions and deletes all their vectors); in the caller's transaction."""
    for part in _chunks(plan.job_ids):
        conn.execute(f"DELETE FROM capture_jobs WHERE id IN ({_marks(len(part))})", part)
    for part in _chunks(plan.line_ids):
        conn.execute(f"DELETE FROM ocr_lines WHERE id IN ({_marks(len(part))})", part)
    for part in _chunks(plan.frame_ids):
        marks = _marks(len(part))
        conn.execute(f"DELETE FROM ocr_lines WHERE frame_id IN ({marks})", part)
        conn.execute(f"DELETE FROM capture_jobs WHERE frame_id IN ({marks})", part)
        conn.execute(f"DELETE FROM frames WHERE id IN ({marks})", part)
    doomed = [*plan.removed, *(c.record.id for c in plan.cut)]
    for part in _chunks(doomed):
        conn.execute(f"DELETE FROM memories WHERE id IN ({_marks(len(part))})", part)
    for part in _chunks(plan.message_ids):
        conn.execute(f"DELETE FROM messages WHERE id IN ({_marks(len(part))})", part)
    for part in _chunks(plan.emptied_conversations):
        conn.execute(f"DELETE FROM conversations WHERE id IN ({_marks(len(part))})", part)
    # A conversation that keeps some messages is titled by its first question,
    # which may have gone: its first remaining message titles it now.
    emptied = set(plan.emptied_conversations)
    for conversation in plan.conversation_ids:
        if conversation not in emptied:
            conn.execute(
                "UPDATE conversations SET title = (SELECT substr(content, 1, ?) FROM messages "
                "WHERE conversation_id = ? ORDER BY id LIMIT 1) WHERE id = ?",
                (TITLE_CHARS, conversation, conversation),
            )
    bump_generation(conn)


def delete_everything(conn: Connection) -> None:
    """Every frame, line, job, memory, message and conversation; in the caller's transaction.

    The capture-off intervals (times and reasons, no content) and the audit
    log stay. The vector tables are emptied by the caller (`VectorIndex`).
    """
    for table in ("capture_jobs", "ocr_lines", "frames", "messages", "conversations"):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM memories")
    conn.execute("DELETE FROM consolidation_log")
    bump_generation(conn)


def frame_exists(conn: Connection, frame_id: int) -> bool:
    return conn.execute("SELECT 1 FROM frames WHERE id = ?", (frame_id,)).fetchone() is not None


def generation(conn: Connection) -> int:
    value = meta.read_meta(conn, GENERATION_KEY)
    return int(value) if value else 0


def bump_generation(conn: Connection) -> int:
    new = generation(conn) + 1
    meta.write_meta(conn, GENERATION_KEY, str(new))
    return new


# -- compaction ----------------------------------------------------------------------------
def merge_fts(conn: Connection) -> None:
    """Merges the full-text index into one segment: a deleted memory's terms,
    until now kept in older segments beside a delete marker, are gone. In the
    caller's transaction."""
    conn.execute("INSERT INTO memory_fts (memory_fts) VALUES ('optimize')")


def checkpoint(conn: Connection) -> bool:
    """Copies the WAL into the file and truncates it; False when a reader kept it."""
    row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return row is None or int(row[0]) == 0


def is_incremental(conn: Connection) -> bool:
    """Whether the store gives free pages back in seconds (auto_vacuum = INCREMENTAL)."""
    return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2


def vacuum(conn: Connection, *, full_allowed: bool = True) -> bool:
    """Gives the free pages back to the file system (outside any transaction).

    A store in incremental auto-vacuum mode moves its last pages into the
    free ones and truncates the file: seconds. Another is vacuumed whole
    once, which also switches it to that mode (minutes on a store of GBs,
    and as much memory as the store: temp_store is MEMORY so no decrypted
    copy goes to a temp file), unless `full_allowed` is False. Returns True
    when the free pages went back to the file system. Free pages hold zeros
    either way (`secure_delete`).
    """
    conn.execute("PRAGMA secure_delete = ON")
    if is_incremental(conn):
        conn.execute("PRAGMA incremental_vacuum").fetchall()
        return True
    if not full_allowed:
        return False
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("VACUUM")
    return True
