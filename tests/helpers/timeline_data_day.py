"""A known day written through the store layer, for the timeline's tests.

2026-03-10, local time (every capture 2 s apart):
  09:00-09:15  code      "notes.py - code"        episode; lines "def budget_table():", ...
  09:15-09:27  firefox   "Budget Q3 - Docs"       episode; a line "Zanzibar marketing budget 12400"
  09:27-09:37  capture paused (recorded)
  09:37-09:40  firefox   "Budget Q3 - Docs"       episode
  09:40-10:00  nothing at all                      -> "no capture"
  10:00-10:05  code      "notes.py - code"        episode
Before 09:00 nothing is known either ("no capture" from midnight).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from PIL import Image

from mirix_desktop.memory import frames as frame_rows
from mirix_desktop.memory import timeline as timeline_rows
from mirix_desktop.memory.records import EpisodicMemory, to_ms
from mirix_desktop.memory.store import MemoryStore

DAY = date(2026, 3, 10)
CODE_TITLE = "notes.py - code"
DOCS_TITLE = "Budget Q3 - Docs"
RARE_LINE = "Zanzibar marketing budget 12400"


def at(hour: int, minute: int, second: float = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute).astimezone() + timedelta(
        seconds=second
    )


def jpeg(width: int = 64, height: int = 40) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 210, 220)).save(out, format="JPEG")
    return out.getvalue()


@dataclass(frozen=True)
class Line:
    text: str
    x: int
    y: int
    width: int
    height: int
    confidence: float = 95.0


@dataclass
class KnownDay:
    frame_ids: list[int] = field(default_factory=list)
    episode_ids: list[int] = field(default_factory=list)
    rare_frame: int = 0  # the frame whose lines hold RARE_LINE


def add_frames(
    store: MemoryStore,
    start: datetime,
    end: datetime,
    app: str | None,
    title: str | None,
    lines: list[Line],
    thumbnail: bytes | None = None,
) -> list[int]:
    """A frame every 2 s in [start, end), each with `lines`."""
    ids = []
    picture = jpeg() if thumbnail is None else thumbnail
    with store.transaction() as conn:
        moment = start
        while moment < end:
            frame_id = frame_rows.insert_frame(
                conn,
                frame_rows.NewFrame(
                    captured_at=moment,
                    monitor=0,
                    app=app,
                    window_title=title,
                    url="https://docs.example/budget" if app == "firefox" else None,
                    image_hash=f"{len(ids):x}",
                    width=1280,
                    height=800,
                    thumbnail=picture,
                    changed_share=0.1,
                ),
            )
            frame_rows.save_ocr(conn, frame_id, lines)
            ids.append(frame_id)
            moment += timedelta(seconds=2)
    return ids


def add_episode(
    store: MemoryStore, start: datetime, end: datetime, app: str, title: str, summary: str
) -> int:
    return store.add(
        EpisodicMemory(
            started_at=start,
            ended_at=end,
            app=app,
            title=title,
            summary=summary,
            thread=f"{app}:{title}",
        )
    )


def write_known_day(store: MemoryStore, *, episodes: bool = True) -> KnownDay:
    known = KnownDay()
    code_lines = [
        Line("def budget_table():", 10, 20, 380, 24),
        Line("return rows", 10, 50, 220, 24),
    ]
    docs_lines = [Line("Quarterly plan", 10, 20, 280, 24), Line(RARE_LINE, 10, 50, 620, 24)]
    plain_docs = [Line("Quarterly plan", 10, 20, 280, 24)]
    known.frame_ids += add_frames(store, at(9, 0), at(9, 15), "code", CODE_TITLE, code_lines)
    known.frame_ids += add_frames(store, at(9, 15), at(9, 20), "firefox", DOCS_TITLE, plain_docs)
    rare = add_frames(store, at(9, 20), at(9, 20, 2), "firefox", DOCS_TITLE, docs_lines)
    known.rare_frame = rare[0]
    known.frame_ids += rare
    known.frame_ids += add_frames(store, at(9, 20, 2), at(9, 27), "firefox", DOCS_TITLE, plain_docs)
    known.frame_ids += add_frames(store, at(9, 37), at(9, 40), "firefox", DOCS_TITLE, plain_docs)
    known.frame_ids += add_frames(store, at(10, 0), at(10, 5), "code", CODE_TITLE, code_lines)
    with store.transaction() as conn:
        timeline_rows.add_off(conn, to_ms(at(9, 27)), to_ms(at(9, 37)), "paused")
    if episodes:
        for start, end, app, title, summary in (
            (at(9, 0), at(9, 15), "code", CODE_TITLE, "Edited budget_table in notes.py"),
            (at(9, 15), at(9, 27), "firefox", DOCS_TITLE, f"Read the Q3 plan: {RARE_LINE}"),
            (at(9, 37), at(9, 40), "firefox", DOCS_TITLE, "Read the Q3 plan again"),
            (at(10, 0), at(10, 5), "code", CODE_TITLE, "Edited budget_table in notes.py"),
        ):
            known.episode_ids.append(add_episode(store, start, end, app, title, summary))
    return known
