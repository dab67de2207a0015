"""What the timeline reads from the store, and the capture-off intervals the daemon writes.

A day of frames (20k+ rows) is read without the thumbnails, from the
covering index `frames_timeline` (migration m006): the table rows hold each
thumbnail inline, so touching them would read a page per frame. Episodes
are episodic memories; time per app is taken from them (they span the
whole stretch a window was in use, still screens included), or from frames
when a range has no episodes yet.

Capture-off intervals ("paused", "idle", "locked", "excluded",
"not_running", "disk_full") are opened and closed by the daemon as its state changes; a
heartbeat in `meta` tells the next start since when the daemon was gone.
Every function runs on the caller's connection (see `MemoryStore`'s
locking rule). Times are ms since the epoch (UTC).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, get_args

from mirix_desktop.memory.connection import Connection

OffReason = Literal["paused", "idle", "locked", "excluded", "not_running", "disk_full"]
OFF_REASONS: tuple[OffReason, ...] = get_args(OffReason)
HEARTBEAT_KEY = "daemon_heartbeat"

# Without episodes, a frame stands for the time until the next one, but no
# longer than this: beyond it the screen was not being looked at.
FRAME_SPAN_CAP_MS = 60_000


class FrameRow(NamedTuple):
    """A frame without its pixels. A named tuple, not a dataclass: a day holds
    20k of them, and building a tuple costs a fraction of a dataclass."""

    id: int
    at_ms: int
    app: str | None
    title: str | None
    url: str | None


@dataclass(frozen=True)
class FrameColumns:
    """A range of frames as parallel tuples (the cheapest form for 20k+ rows)."""

    ids: tuple[int, ...]
    at_ms: tuple[int, ...]
    apps: tuple[str | None, ...]
    titles: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class FrameDetail:
    """One frame as the moment view needs it: fields, size and thumbnail."""

    id: int
    at_ms: int
    app: str | None
    title: str | None
    url: str | None
    width: int
    height: int
    thumbnail: bytes | None
    ocr_state: str


@dataclass(frozen=True)
class LineBox:
    """A line of OCR'd text and its box, in the frame's pixels."""

    text: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class EpisodeRow:
    memory_id: int
    start_ms: int
    end_ms: int
    app: str | None
    title: str | None


@dataclass(frozen=True)
class OffRow:
    """Capture was off from `start_ms` to `end_ms` (None: still off) for `reason`."""

    start_ms: int
    end_ms: int | None
    reason: OffReason


# -- frames ------------------------------------------------------------------------------
_FRAMES_SQL = (
    "SELECT id, captured_at, app, window_title, url FROM frames "
    "INDEXED BY frames_timeline WHERE captured_at >= ? AND captured_at < ?"
)


def frames_between(
    conn: Connection, start_ms: int, end_ms: int, app: str | None = None
) -> list[FrameRow]:
    """Frames captured in [start_ms, end_ms), by time; only `app`'s when given."""
    sql: str = _FRAMES_SQL
    params: list[Any] = [start_ms, end_ms]
    if app is not None:
        sql += " AND app = ?"
        params.append(app)
    rows = conn.execute(sql + " ORDER BY captured_at", params).fetchall()
    return [FrameRow._make(row) for row in rows]


def frame_columns(
    conn: Connection, start_ms: int, end_ms: int, app: str | None = None
) -> FrameColumns:
    """`frames_between` as parallel tuples, for a whole day at once.

    Fetching 20k rows as rows costs ~60-100 ms of Python objects; each
    column as one JSON array, parsed in C, costs a quarter of that
    (tests/benchmarks/timeline_data.py).
    """
    where = "captured_at >= ? AND captured_at < ?"
    params: list[Any] = [start_ms, end_ms]
    if app is not None:
        where += " AND app = ?"
        params.append(app)
    # The aggregates read the subquery's rows in its order (the index's);
    # all four read the same rows, so they stay aligned whatever that order.
    count, ids_json, times_json, apps_json, titles_json = conn.execute(
        "SELECT count(*), json_group_array(id), json_group_array(captured_at), "
        "json_group_array(app), json_group_array(window_title) FROM ("
        "  SELECT id, captured_at, app, window_title FROM frames INDEXED BY frames_timeline"
        f"  WHERE {where} ORDER BY captured_at)",
        params,
    ).fetchone()
    if not count:
        return FrameColumns((), (), (), ())
    ids, times = json.loads(ids_json), json.loads(times_json)
    apps, titles = json.loads(apps_json), json.loads(titles_json)
    if any(a > b for a, b in itertools.pairwise(times)):  # pragma: no cover - SQLite keeps order
        ids, times, apps, titles = zip(
            *sorted(zip(ids, times, apps, titles, strict=True), key=lambda r: (r[1], r[0])),
            strict=True,
        )
    return FrameColumns(tuple(ids), tuple(times), tuple(apps), tuple(titles))


def frame_near(conn: Connection, at_ms: int, start_ms: int, end_ms: int) -> int | None:
    """The id of the frame in [start_ms, end_ms) captured nearest `at_ms`."""
    before = conn.execute(
        "SELECT id, captured_at FROM frames INDEXED BY frames_timeline "
        "WHERE captured_at <= ? AND captured_at >= ? ORDER BY captured_at DESC LIMIT 1",
        (at_ms, start_ms),
    ).fetchone()
    after = conn.execute(
        "SELECT id, captured_at FROM frames INDEXED BY frames_timeline "
        "WHERE captured_at > ? AND captured_at < ? ORDER BY captured_at LIMIT 1",
        (at_ms, end_ms),
    ).fetchone()
    found = [row for row in (before, after) if row is not None]
    if not found:
        return None
    return int(min(found, key=lambda row: abs(row[1] - at_ms))[0])


def frame_detail(conn: Connection, frame_id: int) -> FrameDetail | None:
    """One frame with its thumbnail, or None when there is no such row."""
    row = conn.execute(
        "SELECT id, captured_at, app, window_title, url, width, height, thumbnail, ocr_state "
        "FROM frames WHERE id = ?",
        (frame_id,),
    ).fetchone()
    if row is None:
        return None
    return FrameDetail(
        id=row[0],
        at_ms=row[1],
        app=row[2],
        title=row[3],
        url=row[4],
        width=row[5] or 0,
        height=row[6] or 0,
        thumbnail=bytes(row[7]) if row[7] is not None else None,
        ocr_state=row[8],
    )


def frame_thumbnail(conn: Connection, frame_id: int) -> bytes | None:
    """The frame's thumbnail (None: no such frame, or it has none)."""
    row = conn.execute("SELECT thumbnail FROM frames WHERE id = ?", (frame_id,)).fetchone()
    return bytes(row[0]) if row is not None and row[0] is not None else None


def frame_thumbnails(conn: Connection, frame_ids: Sequence[int]) -> dict[int, bytes | None]:
    """Thumbnails of several frames (a strip around the selected one); absent ids are left out."""
    found: dict[int, bytes | None] = {}
    ids = list(frame_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for id_, data in conn.execute(
            f"SELECT id, thumbnail FROM frames WHERE id IN ({','.join('?' * len(chunk))})", chunk
        ).fetchall():
            found[int(id_)] = bytes(data) if data is not None else None
    return found


def frame_lines(conn: Connection, frame_id: int) -> list[LineBox]:
    """The OCR lines of a frame, in reading order, with their boxes."""
    rows = conn.execute(
        "SELECT text, x, y, width, height FROM ocr_lines WHERE frame_id = ? ORDER BY line_no",
        (frame_id,),
    ).fetchall()
    return [LineBox(*row) for row in rows]


def frames_with_words(
    conn: Connection, start_ms: int, end_ms: int, words: Sequence[str], limit: int = 2000
) -> list[tuple[int, int, str]]:
    """Frames in [start_ms, end_ms) with a line holding any of `words` (case-blind):
    (frame id, ms, the matching lines' text, lowercased), at most `limit` frames."""
    if not words:
        return []
    likes = " OR ".join("l.text LIKE ? ESCAPE '\\'" for _ in words)
    rows = conn.execute(
        "SELECT f.id, f.captured_at, lower(group_concat(l.text, ' ')) "
        "FROM frames f INDEXED BY frames_timeline JOIN ocr_lines l ON l.frame_id = f.id "
        f"WHERE f.captured_at >= ? AND f.captured_at < ? AND ({likes}) "
        "GROUP BY f.id ORDER BY f.captured_at LIMIT ?",
        [start_ms, end_ms, *(_like_pattern(w) for w in words), limit],
    ).fetchall()
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def frame_bounds(conn: Connection) -> tuple[int, int] | None:
    """The first and last capture times in the store (None: no frames)."""
    row = conn.execute("SELECT min(captured_at), max(captured_at) FROM frames").fetchone()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])


# -- episodes and time per app -------------------------------------------------------------
# An episode longer than this is not looked for before a range's start (it
# bounds the index range scanned for episodes that began the day before).
_LONGEST_EPISODE_MS = 24 * 3600 * 1000


def episodes_between(conn: Connection, start_ms: int, end_ms: int) -> list[EpisodeRow]:
    """Episodes overlapping [start_ms, end_ms), by start time."""
    rows = conn.execute(
        "SELECT id, time, coalesce(end_time, time), app, title FROM memories "
        "INDEXED BY memories_type_time "
        "WHERE type = 'episodic' AND time < ? AND time >= ? AND coalesce(end_time, time) >= ? "
        "ORDER BY time, id",
        (end_ms, start_ms - _LONGEST_EPISODE_MS, start_ms),
    ).fetchall()
    return [EpisodeRow(*row) for row in rows]


def time_per_app(conn: Connection, start_ms: int, end_ms: int) -> list[tuple[str, float]]:
    """Seconds per app in [start_ms, end_ms), busiest first.

    From the episodes (clipped to the range) when there are any; else each
    frame counts until the next one, at most `FRAME_SPAN_CAP_MS`.
    """
    rows = conn.execute(
        "SELECT coalesce(app, ''), sum(min(coalesce(end_time, time), ?) - max(time, ?)) AS ms "
        "FROM memories INDEXED BY memories_type_time "
        "WHERE type = 'episodic' AND time < ? AND time >= ? AND coalesce(end_time, time) > ? "
        "GROUP BY coalesce(app, '') ORDER BY ms DESC, 1",
        (end_ms, start_ms, end_ms, start_ms - _LONGEST_EPISODE_MS, start_ms),
    ).fetchall()
    if not rows:
        rows = conn.execute(
            "SELECT coalesce(app, ''), sum(span) AS ms FROM ("
            "  SELECT app, min(coalesce(lead(captured_at) OVER (ORDER BY captured_at), ?)"
            "                  - captured_at, ?) AS span"
            "  FROM frames INDEXED BY frames_timeline WHERE captured_at >= ? AND captured_at < ?"
            ") GROUP BY coalesce(app, '') ORDER BY ms DESC, 1",
            (end_ms, FRAME_SPAN_CAP_MS, start_ms, end_ms),
        ).fetchall()
    return [(str(app), ms / 1000.0) for app, ms in rows if ms and ms > 0]


# -- capture off ----------------------------------------------------------------------------
def open_off(conn: Connection, at_ms: int, reason: OffReason) -> None:
    """Capture goes off at `at_ms` for `reason`; an interval still open is closed then."""
    if reason not in OFF_REASONS:
        raise ValueError(f"unknown capture-off reason {reason!r}")
    current = conn.execute(
        "SELECT id, reason FROM capture_off WHERE end IS NULL ORDER BY start DESC LIMIT 1"
    ).fetchone()
    if current is not None and current[1] == reason:
        return
    close_off(conn, at_ms)
    conn.execute("INSERT INTO capture_off (start, reason) VALUES (?, ?)", (at_ms, reason))


def close_off(conn: Connection, at_ms: int) -> None:
    """Capture is on again at `at_ms`: every open interval ends then."""
    conn.execute("UPDATE capture_off SET end = max(start, ?) WHERE end IS NULL", (at_ms,))


def add_off(conn: Connection, start_ms: int, end_ms: int, reason: OffReason) -> None:
    """A closed interval, known after the fact (the daemon was not running)."""
    if reason not in OFF_REASONS:
        raise ValueError(f"unknown capture-off reason {reason!r}")
    conn.execute(
        "INSERT INTO capture_off (start, end, reason) VALUES (?, ?, ?)",
        (start_ms, max(start_ms, end_ms), reason),
    )


def add_offs(conn: Connection, rows: Sequence[OffRow]) -> None:
    """Many intervals at once (generated stores, imports)."""
    conn.executemany(
        "INSERT INTO capture_off (start, end, reason) VALUES (?, ?, ?)",
        [(r.start_ms, r.end_ms, r.reason) for r in rows],
    )


def off_between(conn: Connection, start_ms: int, end_ms: int) -> list[OffRow]:
    """Intervals overlapping [start_ms, end_ms), by start; an open one has end None."""
    rows = conn.execute(
        "SELECT start, end, reason FROM capture_off "
        "WHERE start < ? AND (end IS NULL OR end > ?) ORDER BY start, id",
        (end_ms, start_ms),
    ).fetchall()
    return [OffRow(int(r[0]), None if r[1] is None else int(r[1]), r[2]) for r in rows]


def open_off_start(conn: Connection) -> int | None:
    """Start of the interval still open (None: capture was not off)."""
    row = conn.execute("SELECT max(start) FROM capture_off WHERE end IS NULL").fetchone()
    return None if row is None or row[0] is None else int(row[0])


# -- the daemon's heartbeat -----------------------------------------------------------------
def beat(conn: Connection, at_ms: int) -> None:
    """The daemon is alive at `at_ms`."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (HEARTBEAT_KEY, str(at_ms)),
    )


def last_beat(conn: Connection) -> int | None:
    """When a daemon last said it was alive (None: never)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (HEARTBEAT_KEY,)).fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except ValueError:
        return None


def daemon_started(conn: Connection, now_ms: int, gap_ms: int) -> OffRow | None:
    """A daemon starts at `now_ms`: closes what the last one left open at its last
    heartbeat, and records the time since as "not_running" when longer than
    `gap_ms`. Returns that interval, if any."""
    last = last_beat(conn)
    if last is None:
        close_off(conn, now_ms)
        beat(conn, now_ms)
        return None
    last = min(last, now_ms)
    close_off(conn, last)
    beat(conn, now_ms)
    if now_ms - last <= gap_ms:
        return None
    add_off(conn, last, now_ms, "not_running")
    return OffRow(last, now_ms, "not_running")
