"""A known day of screen activity, written into a real store through memory/ functions.

`write_known_day(store)` writes, on `KNOWN_DAY` (local time):
- 09:00-09:30 firefox, "Q3 budget - Google Sheets": a frame every 30 s, each
  with a picture and three OCR lines, one of them "The marketing budget for Q3
  is 12,400 EUR" (at x=100, y=300, 1200x40 on a 1920x1080 screen);
- 09:30-10:00 code, "timeline.py - mirix": a frame every 30 s;
- 10:00-10:30 the screen locked (a capture-off interval, no frames);
- 10:30-10:45 terminal, "htop": a frame every 30 s; its last frame has no
  picture (a thumbnail that was never kept);
- an episodic memory for each of the three stretches.
The tests of the timeline window and its parts read it back through
app/timeline.py, as the app does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from PIL import Image, ImageDraw

from mirix_desktop.memory import frames as frame_rows
from mirix_desktop.memory import timeline as timeline_rows
from mirix_desktop.memory.records import EpisodicMemory, to_ms
from mirix_desktop.memory.store import MemoryStore

KNOWN_DAY = date(2025, 3, 12)
BUDGET_LINE = "The marketing budget for Q3 is 12,400 EUR"
SCREEN = (1920, 1080)
STEP = timedelta(seconds=30)


@dataclass(frozen=True)
class OcrLine:
    text: str
    x: int
    y: int
    width: int
    height: int
    confidence: float = 90.0


@dataclass
class KnownDay:
    day: date
    frames: dict[str, list[int]] = field(default_factory=dict)  # app -> frame ids by time
    times: dict[int, datetime] = field(default_factory=dict)  # frame id -> time
    memories: dict[str, int] = field(default_factory=dict)  # app -> episode id
    no_picture: int = 0  # the frame kept without a thumbnail

    def all_frames(self) -> list[int]:
        return sorted(self.times, key=lambda frame_id: self.times[frame_id])


def at(hour: int, minute: int, second: int = 0, day: date = KNOWN_DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second).astimezone()


def picture(colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> bytes:
    """A small PNG that looks like a window: a title bar and lines of 'text'."""
    image = Image.new("RGB", size, (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 14), fill=colour)
    for row in range(24, size[1] - 8, 12):
        draw.rectangle((10, row, 10 + (row * 7) % (size[0] - 30) + 20, row + 4), fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _lines(app: str, n: int) -> list[OcrLine]:
    if app == "firefox":
        return [
            OcrLine("Q3 budget - Google Sheets", 40, 120, 600, 36),
            OcrLine(BUDGET_LINE, 100, 300, 1200, 40),
            OcrLine(f"Travel is capped at 3,000 EUR (row {n})", 100, 360, 900, 40),
        ]
    if app == "code":
        return [
            OcrLine("def load_day(store, day):", 80, 200, 700, 32),
            OcrLine(f"    return frames_between(start, end)  # {n}", 80, 240, 1000, 32),
        ]
    return [OcrLine(f"load average: 0.{n:02d} 0.42 0.40", 20, 40, 800, 30)]


def write_known_day(store: MemoryStore, day: date = KNOWN_DAY) -> KnownDay:
    known = KnownDay(day)
    stretches = [
        ("firefox", "Q3 budget - Google Sheets", at(9, 0, day=day), at(9, 30, day=day)),
        ("code", "timeline.py - mirix", at(9, 30, day=day), at(10, 0, day=day)),
        ("terminal", "htop", at(10, 30, day=day), at(10, 45, day=day)),
    ]
    colours = {"firefox": (230, 120, 30), "code": (40, 110, 200), "terminal": (30, 30, 30)}
    summaries = {
        "firefox": f"Read the Q3 budget sheet in Firefox: {BUDGET_LINE}.",
        "code": "Edited timeline.py in VS Code: load_day and frames_between.",
        "terminal": "Watched htop in a terminal: load average.",
    }
    thumbs = {app: picture(colour) for app, colour in colours.items()}
    memories = [
        EpisodicMemory(started_at=start, ended_at=end, title=title, app=app, summary=summaries[app])
        for app, title, start, end in stretches
    ]
    prepared = store.prepare(memories)
    with store.transaction() as conn:
        for app, title, start, end in stretches:
            moment, n = start, 0
            ids: list[int] = []
            while moment < end:
                last = moment + STEP >= end
                keep_picture = not (app == "terminal" and last)
                frame_id = frame_rows.insert_frame(
                    conn,
                    frame_rows.NewFrame(
                        captured_at=moment,
                        monitor=0,
                        app=app,
                        window_title=title,
                        url="https://docs.google.com/spreadsheets/q3" if app == "firefox" else None,
                        image_hash=f"{app}-{n}",
                        width=SCREEN[0],
                        height=SCREEN[1],
                        thumbnail=thumbs[app] if keep_picture else None,
                        changed_share=0.1,
                    ),
                )
                frame_rows.save_ocr(conn, frame_id, _lines(app, n))
                ids.append(frame_id)
                known.times[frame_id] = moment
                if not keep_picture:
                    known.no_picture = frame_id
                moment += STEP
                n += 1
            known.frames[app] = ids
        written = store.write_prepared(conn, prepared)
        timeline_rows.add_off(conn, to_ms(at(10, 0, day=day)), to_ms(at(10, 30, day=day)), "locked")
    for (app, _title, _start, _end), memory_id in zip(stretches, written, strict=True):
        known.memories[app] = memory_id
    return known
