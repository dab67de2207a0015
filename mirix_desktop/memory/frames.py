"""The raw layer under the memories: captured frames and the OCR lines read from them.

A frame row is written with its capture job ('queued'); its lines are
written, and the frame marked 'done', in the transaction that finishes the
job. Every function runs on the caller's connection (see `MemoryStore`'s
locking rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.records import to_ms


@dataclass(frozen=True)
class NewFrame:
    """A captured picture of one monitor, as stored (window fields already redacted)."""

    captured_at: datetime
    monitor: int
    app: str | None
    window_title: str | None
    url: str | None
    image_hash: str
    width: int
    height: int
    thumbnail: bytes | None
    changed_share: float


class TextLine(Protocol):
    """A line of OCR'd text with its box (what `ocr.engine.OcrLine` is)."""

    @property
    def text(self) -> str: ...
    @property
    def x(self) -> int: ...
    @property
    def y(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def confidence(self) -> float: ...


def insert_frame(conn: Connection, frame: NewFrame) -> int:
    """Stores a frame waiting for OCR; returns its id."""
    cursor = conn.execute(
        "INSERT INTO frames (captured_at, monitor, app, window_title, url, image_hash, "
        "width, height, thumbnail, ocr_state, changed_share) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
        (
            to_ms(frame.captured_at),
            frame.monitor,
            frame.app,
            frame.window_title,
            frame.url,
            frame.image_hash,
            frame.width,
            frame.height,
            frame.thumbnail,
            frame.changed_share,
        ),
    )
    return int(cursor.lastrowid)


def save_ocr(conn: Connection, frame_id: int, lines: Sequence[TextLine]) -> None:
    """Stores the lines OCR read in a frame (numbered in order) and marks it done."""
    conn.executemany(
        "INSERT INTO ocr_lines (frame_id, line_no, text, x, y, width, height, "
        "confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (frame_id, n, ln.text, ln.x, ln.y, ln.width, ln.height, ln.confidence)
            for n, ln in enumerate(lines)
        ],
    )
    conn.execute("UPDATE frames SET ocr_state = 'done' WHERE id = ?", (frame_id,))


def frame_thumbnail(conn: Connection, frame_id: int) -> bytes | None:
    row = conn.execute("SELECT thumbnail FROM frames WHERE id = ?", (frame_id,)).fetchone()
    return None if row is None or row[0] is None else bytes(row[0])


def relabel_frame(
    conn: Connection,
    frame_id: int,
    app: str | None,
    window_title: str | None,
    url: str | None,
    thumbnail: bytes | None,
) -> None:
    """Replaces a frame's window fields and thumbnail (a window in it turned out
    to be excluded once OCR read it); secure_delete zeroes what they held."""
    conn.execute(
        "UPDATE frames SET app = ?, window_title = ?, url = ?, thumbnail = ? WHERE id = ?",
        (app, window_title, url, thumbnail, frame_id),
    )


def count_frames(conn: Connection, since: datetime | None = None) -> int:
    """Frames captured at or after `since` (all of them when None)."""
    if since is None:
        return int(conn.execute("SELECT count(*) FROM frames").fetchone()[0])
    return int(
        conn.execute(
            "SELECT count(*) FROM frames WHERE captured_at >= ?", (to_ms(since),)
        ).fetchone()[0]
    )
