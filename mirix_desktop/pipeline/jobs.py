"""The durable job queue: capture work waiting for OCR, kept inside the store.

Two kinds of job, processed strictly in order:
- `frame`: a changed frame's plan (base state, moves, regions) with the
  regions' pixels (grayscale, zlib) and the windows on screen;
- `activity`: the active window changed or capture stopped (idle, paused,
  locked, excluded), which closes or opens an episode.

A job is written in the same transaction as its frame row and deleted in the
same transaction as the rows its OCR produced, so a crash at any point
either redoes a job or finds it done, never half. Every failure of a job
of its own (OCR failed on it, or a bug it triggers; not a locked store) is
an attempt; after `capture_jobs.MAX_ATTEMPTS` it is given up: kept, marked
failed, its pixels dropped, its error shown by `status`, and the queue goes
on. The rows are `memory/capture_jobs.py`'s; this module gives them their
meaning.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PIL import Image

from mirix_desktop.capture.changes import Move
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.geometry import Rect
from mirix_desktop.memory import capture_jobs
from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.records import from_ms, to_ms

_HEADER = struct.Struct("<I")


@dataclass(frozen=True)
class Crop:
    """A region's pixels, grayscale; `rect` is in the monitor's coordinates."""

    rect: Rect
    gray: bytes  # width*height bytes

    def image(self) -> Image.Image:
        return Image.frombytes("L", (self.rect.width, self.rect.height), self.gray)


@dataclass(frozen=True)
class FrameJob:
    captured_at: datetime
    monitor: int
    monitor_rect: Rect
    windows: tuple[WindowInfo, ...]
    state_id: int
    base_state: int | None
    moves: tuple[Move, ...]
    crops: tuple[Crop, ...]
    source: str = "capture"  # or "ingest"
    frame_id: int | None = None
    replaces: int | None = None  # the base state, dropped once this one is made

    @property
    def active(self) -> WindowInfo | None:
        return next((w for w in self.windows if w.active), None)


@dataclass(frozen=True)
class ActivityJob:
    """What the user is doing now: `state` is "active" or why capture stopped."""

    at: datetime
    state: str
    window: WindowInfo | None = None


@dataclass
class QueuedJob:
    id: int
    attempts: int
    job: FrameJob | ActivityJob = field(repr=False)


def _rect_json(rect: Rect | None) -> list[int] | None:
    return None if rect is None else [rect.x, rect.y, rect.width, rect.height]


def _rect(value: list[int] | None) -> Rect | None:
    return None if value is None else Rect(*value)


def _window_json(window: WindowInfo) -> dict[str, Any]:
    return {
        "app": window.app,
        "title": window.title,
        "rect": _rect_json(window.rect),
        "active": window.active,
        "process": window.process,
        "url": window.url,
    }


def _window(value: dict[str, Any]) -> WindowInfo:
    return WindowInfo(
        app=value["app"],
        title=value["title"],
        rect=_rect(value["rect"]),
        active=value["active"],
        process=value.get("process"),
        url=value.get("url"),
    )


def encode(job: FrameJob | ActivityJob) -> tuple[str, bytes]:
    """(kind, payload): a JSON header, then the crops' compressed pixels."""
    if isinstance(job, ActivityJob):
        header = {
            "at": to_ms(job.at),
            "state": job.state,
            "window": None if job.window is None else _window_json(job.window),
        }
        return "activity", json.dumps(header).encode()
    blobs = [zlib.compress(crop.gray, 1) for crop in job.crops]
    header = {
        "at": to_ms(job.captured_at),
        "monitor": job.monitor,
        "monitor_rect": _rect_json(job.monitor_rect),
        "windows": [_window_json(w) for w in job.windows],
        "state": job.state_id,
        "base": job.base_state,
        "moves": [[m.rect.x, m.rect.y, m.rect.width, m.rect.height, m.dy] for m in job.moves],
        "crops": [
            [c.rect.x, c.rect.y, c.rect.width, c.rect.height, len(b)]
            for c, b in zip(job.crops, blobs, strict=True)
        ],
        "source": job.source,
        "replaces": job.replaces,
    }
    head = json.dumps(header).encode()
    return "frame", _HEADER.pack(len(head)) + head + b"".join(blobs)


def decode(kind: str, payload: bytes, frame_id: int | None) -> FrameJob | ActivityJob:
    if kind == "activity":
        header = json.loads(payload)
        window = header["window"]
        return ActivityJob(
            at=from_ms(header["at"]),
            state=header["state"],
            window=None if window is None else _window(window),
        )
    (length,) = _HEADER.unpack_from(payload)
    header = json.loads(payload[_HEADER.size : _HEADER.size + length])
    offset = _HEADER.size + length
    crops = []
    for x, y, width, height, size in header["crops"]:
        gray = zlib.decompress(payload[offset : offset + size])
        offset += size
        if len(gray) != width * height:
            raise ValueError("a queued crop has the wrong size")
        crops.append(Crop(Rect(x, y, width, height), gray))
    monitor_rect = _rect(header["monitor_rect"])
    assert monitor_rect is not None
    return FrameJob(
        captured_at=from_ms(header["at"]),
        monitor=header["monitor"],
        monitor_rect=monitor_rect,
        windows=tuple(_window(w) for w in header["windows"]),
        state_id=header["state"],
        base_state=header["base"],
        moves=tuple(Move(Rect(x, y, w, h), dy) for x, y, w, h, dy in header["moves"]),
        crops=tuple(crops),
        source=header.get("source", "capture"),
        frame_id=frame_id,
        replaces=header.get("replaces"),
    )


class JobQueue:
    """Queue operations; every call runs on the caller's connection (`conn`), in its
    transaction or `store.read()`."""

    @staticmethod
    def put(
        conn: Connection,
        job: FrameJob | ActivityJob,
        frame_id: int | None,
        now_ms: int,
        owner: int | None = None,
    ) -> int:
        kind, payload = encode(job)
        return capture_jobs.put(conn, kind, payload, frame_id, now_ms, owner)

    @staticmethod
    def next(conn: Connection, owner: int | None = None) -> QueuedJob | None:
        """The oldest pending job of `owner` (None: the daemon's).

        A job that cannot be decoded is given up on the spot and the next one taken.
        """
        while (row := capture_jobs.oldest_pending(conn, owner)) is not None:
            try:
                job = decode(row.kind, row.payload, row.frame_id)
            except (ValueError, KeyError, TypeError, zlib.error, struct.error) as exc:
                capture_jobs.record_failure(conn, row.id, f"unreadable job: {exc}", give_up=True)
                continue
            return QueuedJob(row.id, row.attempts, job)
        return None

    @staticmethod
    def done(conn: Connection, job_id: int) -> None:
        capture_jobs.finish(conn, job_id)

    @staticmethod
    def fail(conn: Connection, job_id: int, error: str, *, give_up: bool = False) -> bool:
        """Records a failed attempt; returns True when the job is given up."""
        return capture_jobs.record_failure(conn, job_id, error, give_up=give_up)

    @staticmethod
    def depth(conn: Connection, owner: int | None = None) -> int:
        return capture_jobs.pending_count(conn, owner)

    @staticmethod
    def adopt_orphans(conn: Connection, alive: Callable[[int], bool]) -> int:
        """Hands the jobs of `ingest` runs that died to the daemon; returns how many."""
        return capture_jobs.adopt_orphans(conn, alive)

    @staticmethod
    def failed_count(conn: Connection) -> int:
        return capture_jobs.failed_count(conn)
