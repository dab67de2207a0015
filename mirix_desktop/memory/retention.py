"""What retention and the space cap read and remove in the raw layer, and what the store takes.

The raw layer is what capture saw under the memories: each frame's
thumbnail, then the frame rows with their OCR lines. Under a space cap it
goes oldest first, in that order, in small batches (one transaction each,
so capture writing beside it waits a moment at most); memories are never
removed here (only past `retention_days`, through forget).

Space is counted in pages: (page_count - freelist_count) * page_size is
what the store's content takes, and it drops as soon as a removal commits
(secure_delete zeroes the freed pages, which new captures reuse).
Per-layer figures are estimates from an even sample of frames, so that
reading them costs milliseconds, not a pass over gigabytes of pages.
Every function runs on the caller's connection (see `MemoryStore`'s
locking rule). Times are ms since the epoch (UTC).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.meta import read_meta, write_meta

# Frames before this time (ms) have had their thumbnails dropped already,
# so the next run starts there instead of reading those rows again.
THUMBNAILS_DROPPED_KEY = "retention_thumbnails_dropped_before"
# Per frame row and per OCR line: the row's fixed columns, its record
# header and its share of the index entries (bytes, estimated).
_FRAME_ROW_OVERHEAD = 120
_LINE_ROW_OVERHEAD = 60
_SAMPLE = 256


@dataclass(frozen=True)
class StoreSpace:
    """Bytes of the store file, and the part of it content takes (the rest is free pages)."""

    used_bytes: int
    file_bytes: int


@dataclass(frozen=True)
class LayerBytes:
    """Estimated bytes per layer: thumbnails, frames with their lines, and the rest
    (memories, their indexes and vectors, chats)."""

    thumbnails: int
    frames: int
    memories: int
    frame_count: int
    oldest_ms: int | None
    newest_ms: int | None


def store_space(conn: Connection) -> StoreSpace:
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    return StoreSpace(used_bytes=(pages - free) * page_size, file_bytes=pages * page_size)


def frame_span(conn: Connection) -> tuple[int, int] | None:
    """The oldest and newest capture times (None: no frames)."""
    row = conn.execute("SELECT min(captured_at), max(captured_at) FROM frames").fetchone()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])


def frames_since(conn: Connection, since_ms: int) -> int:
    return int(
        conn.execute(
            "SELECT count(*) FROM frames INDEXED BY frames_timeline WHERE captured_at >= ?",
            (since_ms,),
        ).fetchone()[0]
    )


def layer_bytes(conn: Connection) -> LayerBytes:
    """Bytes per layer, estimated from an even sample of frame rows (see the module doc)."""
    used = store_space(conn).used_bytes
    row = conn.execute("SELECT count(*), min(id), max(id) FROM frames").fetchone()
    count, low, high = int(row[0]), row[1], row[2]
    span = frame_span(conn)
    if not count:
        return LayerBytes(0, 0, used, 0, None, None)
    step = max(1, (int(high) - int(low)) // _SAMPLE)
    thumb_total = text_total = lines_total = sampled = 0
    for start in range(int(low), int(high) + 1, step):
        found = conn.execute(
            "SELECT f.id, coalesce(length(f.thumbnail), 0), "
            "coalesce(length(f.app), 0) + coalesce(length(f.window_title), 0) "
            "+ coalesce(length(f.url), 0) + coalesce(length(f.image_hash), 0) "
            "FROM frames f WHERE f.id >= ? ORDER BY f.id LIMIT 1",
            (start,),
        ).fetchone()
        if found is None:
            break
        lines = conn.execute(
            "SELECT count(*), coalesce(sum(length(text)), 0) FROM ocr_lines WHERE frame_id = ?",
            (found[0],),
        ).fetchone()
        thumb_total += int(found[1])
        text_total += int(found[2]) + _FRAME_ROW_OVERHEAD
        text_total += int(lines[1]) + int(lines[0]) * _LINE_ROW_OVERHEAD
        lines_total += int(lines[0])
        sampled += 1
    thumbnails = count * thumb_total // max(1, sampled)
    frames = count * text_total // max(1, sampled)
    # The sample's rows round down to pages: never more than the store holds.
    raw = min(used, thumbnails + frames)
    if thumbnails + frames > used:
        thumbnails = used * thumbnails // (thumbnails + frames)
        frames = raw - thumbnails
    return LayerBytes(
        thumbnails=thumbnails,
        frames=frames,
        memories=used - raw,
        frame_count=count,
        oldest_ms=None if span is None else span[0],
        newest_ms=None if span is None else span[1],
    )


@contextlib.contextmanager
def without_cascades(conn: Connection) -> Iterator[Connection]:
    """A write transaction with foreign keys off, for `drop_thumbnails`: it deletes
    frame rows and writes them back, which must not take their OCR lines along.

    Use it on the connection `store.read()` gives (not inside `store.transaction()`:
    SQLite ignores the pragma in a transaction)."""
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def drop_thumbnails(conn: Connection, before_ms: int, limit: int) -> tuple[int, int]:
    """Removes the thumbnails of the oldest frames captured before `before_ms`, at
    most `limit` of them: (thumbnails removed, their bytes). Runs in `without_cascades`.

    A thumbnail is stored inside its frame's row; setting it to NULL would leave
    each row alone in its page (SQLite rebalances pages on a delete, not on an
    update that shrinks a row), so the space would not come back. The rows are
    deleted and written back without it instead, through an in-memory temp table.
    """
    if conn.execute("PRAGMA foreign_keys").fetchone()[0]:
        raise RuntimeError("drop_thumbnails runs with foreign keys off (without_cascades)")
    start = int(read_meta(conn, THUMBNAILS_DROPPED_KEY) or 0)
    rows = conn.execute(
        "SELECT id, captured_at, length(thumbnail) FROM frames INDEXED BY frames_timeline "
        "WHERE captured_at >= ? AND captured_at < ? AND thumbnail IS NOT NULL "
        "ORDER BY captured_at LIMIT ?",
        (min(start, before_ms), before_ms, limit),
    ).fetchall()
    if not rows:
        write_meta(conn, THUMBNAILS_DROPPED_KEY, str(max(start, before_ms)))
        return 0, 0
    ids = [int(r[0]) for r in rows]
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS retention_rows AS SELECT * FROM frames WHERE 0")
    conn.execute("DELETE FROM temp.retention_rows")
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        conn.execute(
            f"INSERT INTO temp.retention_rows SELECT * FROM frames WHERE id IN ({marks})", chunk
        )
        conn.execute(f"DELETE FROM frames WHERE id IN ({marks})", chunk)
    conn.execute("UPDATE temp.retention_rows SET thumbnail = NULL")
    conn.execute("INSERT INTO frames SELECT * FROM temp.retention_rows ORDER BY id")
    conn.execute("DELETE FROM temp.retention_rows")
    # Frames at the last time seen may still hold one: the mark stays on that time.
    write_meta(conn, THUMBNAILS_DROPPED_KEY, str(max(start, int(rows[-1][1]))))
    return len(ids), sum(int(r[2] or 0) for r in rows)


def drop_frames(conn: Connection, before_ms: int, limit: int) -> tuple[int, int]:
    """Removes the oldest frames captured before `before_ms` with their OCR lines, at
    most `limit` frames (not those still waiting for OCR): (frames, lines) removed."""
    ids = [
        int(r[0])
        for r in conn.execute(
            "SELECT id FROM frames INDEXED BY frames_timeline "
            "WHERE captured_at < ? AND ocr_state != 'queued' ORDER BY captured_at LIMIT ?",
            (before_ms, limit),
        ).fetchall()
    ]
    lines = 0
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        lines += conn.execute(f"DELETE FROM ocr_lines WHERE frame_id IN ({marks})", chunk).rowcount
        conn.execute(f"DELETE FROM frames WHERE id IN ({marks})", chunk)
    return len(ids), lines


def oldest_time(conn: Connection, since_ms: int = -(2**62)) -> int | None:
    """The time of the oldest frame, memory or chat at or after `since_ms` (None: none)."""
    row = conn.execute(
        "SELECT min(t) FROM ("
        " SELECT min(captured_at) AS t FROM frames WHERE captured_at >= ?1"
        " UNION ALL SELECT min(time) FROM memories WHERE time >= ?1"
        " UNION ALL SELECT min(started_at) FROM conversations WHERE started_at >= ?1)",
        (since_ms,),
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def checkpoint(conn: Connection) -> None:
    """Copies the WAL into the file (without waiting for readers), so the pages
    removals zeroed are zeroed there too."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
