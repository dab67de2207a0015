"""A generated store for the timeline benchmarks: 30 days at 2 s capture.

Each day runs 07:30-19:30 local time: ~20,000 frames (one every 2 s, minus
the times capture was off) with a small JPEG thumbnail and 3-5 OCR lines
each, ~400 episodes (episodic memories, embedded like real ones), and the
capture-off intervals a day has (a lunch break idle, a pause, a locked
screen, an excluded password manager, the night with the daemon not
running). Everything is written through the store layer (`memory.frames`,
`MemoryStore.prepare/write_prepared`, `memory.timeline`), one transaction
per day.

The store is kept under .cache/bench/ and reused while its parameters are
the same; generating it takes minutes on 2 cores (printed).

    .venv/bin/python -m tests.benchmarks.timeline_store [--days 30] [--force]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from mirix_desktop.memory import frames as frame_rows
from mirix_desktop.memory import timeline as timeline_rows
from mirix_desktop.memory.records import EpisodicMemory, to_ms
from mirix_desktop.memory.store import MemoryStore
from tests.benchmarks.common import REPO, embedder, open_store

CACHE = REPO / ".cache" / "bench"
INTERVAL_S = 2.0
DAY_START = (7, 30)
DAY_HOURS = 12
EPISODE_MEAN_S = 96.0  # ~400 episodes in the hours captured
# (app, weight, titles)
APPS: list[tuple[str, float, list[str]]] = [
    (
        "firefox",
        6.0,
        [
            "Inbox - Gmail",
            "SQLite FTS5 docs",
            "Hacker News",
            "Issue #214 · GitHub",
            "Quarterly report - Google Docs",
            "Stack Overflow - sqlite covering index",
        ],
    ),
    (
        "code",
        5.0,
        [
            "timeline.py - mirix",
            "store.py - mirix",
            "README.md - mirix",
            "test_timeline.py - mirix",
        ],
    ),
    ("gnome-terminal", 3.0, ["~/src/mirix", "pytest", "htop", "ssh build-box"]),
    ("slack", 2.0, ["#general", "#dev", "Dana (DM)", "#release"]),
    ("libreoffice", 1.5, ["budget-q3.ods", "report.docx", "minutes.odt"]),
    ("thunderbird", 1.0, ["Inbox", "Re: invoice 4411", "Write: weekly update"]),
    ("evince", 0.8, ["paper.pdf", "manual.pdf"]),
    ("zoom", 0.6, ["Standup", "Design review"]),
    ("nautilus", 0.4, ["Downloads", "Documents"]),
    ("gimp", 0.3, ["logo.xcf"]),
    ("spotify", 0.2, ["Focus playlist"]),
    ("keepassxc", 0.1, ["passwords.kdbx"]),  # excluded: no frames, an "excluded" interval
]
WORDS = (
    "budget table quarter report invoice sqlite index timeline frame episode search query "
    "memory thumbnail review standup release build test commit branch merge deploy server "
    "latency figure chart revenue marketing design meeting notes agenda customer ticket bug "
    "crash fix patch window lane block gap paused idle locked screen capture daemon heartbeat"
).split()


@dataclass(frozen=True)
class Line:
    text: str
    x: int
    y: int
    width: int
    height: int
    confidence: float = 90.0


@dataclass(frozen=True)
class Params:
    days: int
    interval_s: float = INTERVAL_S
    version: int = 1


def store_dir(days: int) -> Path:
    return CACHE / f"timeline-{days}d"


def thumbnails(rng: random.Random, count: int = 48) -> list[bytes]:
    """Small JPEGs (~160x90, a few kB) that look like windows of text."""
    made = []
    for _ in range(count):
        image = Image.new("RGB", (160, 90), (rng.randrange(200, 255),) * 3)
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, 160, 8), fill=(rng.randrange(0, 120), 60, 140))
        for row in range(12, 86, 6):
            width = rng.randrange(30, 150)
            draw.rectangle((4, row, 4 + width, row + 2), fill=(40, 40, 40))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=60)
        made.append(out.getvalue())
    return made


def ocr_lines(rng: random.Random) -> list[Line]:
    lines = []
    for n in range(rng.randint(3, 5)):
        text = " ".join(rng.choices(WORDS, k=rng.randint(3, 9)))
        lines.append(Line(text, 40, 60 + 40 * n, 14 * len(text), 28))
    return lines


def day_plan(
    day: date, rng: random.Random
) -> tuple[list[tuple[datetime, datetime, str, str]], list[timeline_rows.OffRow]]:
    """The day's episodes (start, end, app, title) and capture-off intervals."""
    start = datetime(day.year, day.month, day.day, *DAY_START).astimezone()
    end = start + timedelta(hours=DAY_HOURS)
    offs: list[tuple[datetime, datetime, timeline_rows.OffReason]] = [
        (start.replace(hour=12, minute=30), start.replace(hour=13, minute=10), "idle"),
        (start.replace(hour=15, minute=5), start.replace(hour=15, minute=20), "paused"),
        (start.replace(hour=10, minute=41), start.replace(hour=10, minute=44), "locked"),
    ]
    apps = [a for a in APPS if a[0] != "keepassxc"]
    weights = [a[1] for a in apps]
    episodes: list[tuple[datetime, datetime, str, str]] = []
    at = start
    while at < end:
        off = next((o for o in offs if o[0] <= at < o[1]), None)
        if off is not None:
            at = off[1]
            continue
        length = timedelta(seconds=min(900.0, max(8.0, rng.expovariate(1 / EPISODE_MEAN_S))))
        stop = min(at + length, end, *(o[0] for o in offs if o[0] > at))
        if rng.random() < 0.01:
            offs.append((at, stop, "excluded"))
        else:
            app, _, titles = rng.choices(apps, weights)[0]
            episodes.append((at, stop, app, rng.choice(titles)))
        at = stop
    off_rows = [timeline_rows.OffRow(to_ms(a), to_ms(b), reason) for a, b, reason in offs]
    return episodes, off_rows


def write_day(
    store: MemoryStore,
    day: date,
    rng: random.Random,
    thumbs: list[bytes],
    interval_s: float = INTERVAL_S,
) -> int:
    episodes, offs = day_plan(day, rng)
    memories = []
    rows: list[tuple[frame_rows.NewFrame, list[Line]]] = []
    for start, end, app, title in episodes:
        frames_in = int((end - start).total_seconds() // interval_s) or 1
        lines = ocr_lines(rng)
        for n in range(frames_in):
            if n and n % 7 == 0:
                lines = ocr_lines(rng)
            rows.append(
                (
                    frame_rows.NewFrame(
                        captured_at=start + timedelta(seconds=n * interval_s),
                        monitor=0,
                        app=app,
                        window_title=title,
                        url=f"https://example.com/{app}" if app == "firefox" else None,
                        image_hash=f"{rng.getrandbits(64):016x}",
                        width=1920,
                        height=1080,
                        thumbnail=rng.choice(thumbs),
                        changed_share=0.1,
                    ),
                    lines,
                )
            )
        memories.append(
            EpisodicMemory(
                started_at=start,
                ended_at=end,
                title=title,
                app=app,
                summary=f"{title} in {app}: " + " ".join(ln.text for ln in lines[:2]),
                thread=f"{app}:{title}",
            )
        )
    prepared = store.prepare(memories)
    with store.transaction() as conn:
        for frame, lines in rows:
            frame_id = frame_rows.insert_frame(conn, frame)
            frame_rows.save_ocr(conn, frame_id, lines)
        store.write_prepared(conn, prepared)
        timeline_rows.add_offs(conn, offs)
        # The night: the daemon stopped at the end of the day.
        night_start = (
            to_ms(episodes[-1][1])
            if episodes
            else to_ms(datetime.combine(day, datetime.min.time()).astimezone())
        )
        next_day = datetime.combine(day + timedelta(days=1), datetime.min.time()).astimezone()
        next_start = next_day.replace(hour=DAY_START[0], minute=DAY_START[1])
        timeline_rows.add_off(conn, night_start, to_ms(next_start), "not_running")
    return len(rows)


def days_of(count: int, today: date | None = None) -> list[date]:
    """The `count` days before today (today itself is left out: it is not over)."""
    today = today or date.today()
    return [today - timedelta(days=n) for n in range(count, 0, -1)]


def ensure_store(days: int = 30, *, force: bool = False) -> tuple[Path, list[date]]:
    """The generated store's file and its days, generated now if missing or stale."""
    directory = store_dir(days)
    marker = directory / "generated.json"
    params = Params(days)
    if not force and marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("params") == params.__dict__:
            return directory / "mirix.db", [date.fromisoformat(d) for d in saved["days"]]
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    the_days = days_of(days)
    rng = random.Random(14)
    thumbs = thumbnails(rng)
    model = embedder()
    started = time.perf_counter()
    total = 0
    with open_store(directory / "mirix.db", model) as store:
        for day in the_days:
            day_started = time.perf_counter()
            count = write_day(store, day, rng, thumbs)
            total += count
            print(f"  {day}: {count} frames in {time.perf_counter() - day_started:.1f} s",
                  flush=True)  # fmt: skip
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
    marker.write_text(
        json.dumps(
            {
                "params": params.__dict__,
                "days": [d.isoformat() for d in the_days],
                "frames": total,
                "seconds": round(seconds, 1),
                "bytes": size,
            }
        )
    )
    print(f"generated {total} frames over {days} days in {seconds:.0f} s; "
          f"{size / 2**20:.0f} MiB", flush=True)  # fmt: skip
    return directory / "mirix.db", the_days


def ensure_huge_day(frames: int = 100_000) -> tuple[Path, date]:
    """A store holding one huge day (`frames` frames in its 12 hours), cached like the other."""
    directory = CACHE / f"timeline-huge-{frames}"
    marker = directory / "generated.json"
    if marker.exists():
        return directory / "mirix.db", date.fromisoformat(json.loads(marker.read_text())["day"])
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    day = days_of(1)[0]
    started = time.perf_counter()
    with open_store(directory / "mirix.db", embedder()) as store:
        rng = random.Random(15)
        # A tenth of the day is capture off (lunch, a pause): frames come faster to fill it.
        count = write_day(store, day, rng, thumbnails(rng), 0.9 * DAY_HOURS * 3600 / frames)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"generated a day of {count} frames in {time.perf_counter() - started:.0f} s", flush=True)
    marker.write_text(json.dumps({"day": day.isoformat(), "frames": count}))
    return directory / "mirix.db", day


def open_bench_store(days: int = 30) -> tuple[MemoryStore, list[date]]:
    """The generated store (made now if missing), opened with the static embedder."""
    path, the_days = ensure_store(days)
    return open_store(path, embedder()), the_days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--force", action="store_true", help="generate again")
    args = parser.parse_args()
    path, the_days = ensure_store(args.days, force=args.force)
    print(f"{path}: {len(the_days)} days, {the_days[0]} to {the_days[-1]}")


if __name__ == "__main__":
    main()
