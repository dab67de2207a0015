"""The timeline's data at scale: opening a day and selecting a moment, without painting.

On the generated store of tests/benchmarks/timeline_store.py (30 days at 2 s
capture: ~20,000 frames and ~400 episodes a day, thumbnails and OCR lines):

- `load_day` for every day, first in a fresh process (SQLite's page cache
  cold for that day: what opening a day costs the first time) and again
  (warm: going back to a day). This is the data part of "open a day
  ≤ 250 ms"; the window adds its first paint (tests/benchmarks/timeline_window.py).
- `load_moment` for random frames of one day and across all days (thumbnail
  decode check and OCR lines): the data part of "select another moment ≤ 50 ms".
- `frame_thumbnails` for a strip of 7 frames, `resolve` of a citation, and
  `search_timeline` within a day.
- The query plans of the day's reads (each must use an index, no table scan).
- `load_day` of a huge day (100k frames, a store of its own, generated once).

    .venv/bin/python -m tests.benchmarks.timeline_data [--days 30] [--moments 400]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from mirix_desktop.app import timeline
from mirix_desktop.config import Settings
from mirix_desktop.memory import timeline as rows
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from tests.benchmarks.common import describe_ms, embedder, open_store, percentile
from tests.benchmarks.timeline_store import ensure_huge_day, open_bench_store


class _Services:
    def __init__(self, store: MemoryStore) -> None:
        self.settings = Settings()
        self._store = store

    def store(self) -> MemoryStore:
        return self._store


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def plans(store: MemoryStore, start_ms: int, end_ms: int) -> None:
    queries = {
        "day frames": (  # as memory.timeline.frame_columns reads them
            "SELECT count(*), json_group_array(id), json_group_array(captured_at), "
            "json_group_array(app), json_group_array(window_title) FROM ("
            "  SELECT id, captured_at, app, window_title FROM frames INDEXED BY frames_timeline"
            "  WHERE captured_at >= ? AND captured_at < ? ORDER BY captured_at)",
            (start_ms, end_ms),
        ),
        "episodes": (
            "SELECT id, time, coalesce(end_time, time), app, title FROM memories "
            "INDEXED BY memories_type_time WHERE type = 'episodic' AND time < ? AND time >= ? "
            "AND coalesce(end_time, time) >= ? ORDER BY time, id",
            (end_ms, start_ms - 86_400_000, start_ms),
        ),
        "capture off": (
            "SELECT start, end, reason FROM capture_off WHERE start < ? AND "
            "(end IS NULL OR end > ?) ORDER BY start, id",
            (end_ms, start_ms),
        ),
        "frame lines": (
            "SELECT text, x, y, width, height FROM ocr_lines WHERE frame_id = ? ORDER BY line_no",
            (1,),
        ),
    }
    for name, (sql, params) in queries.items():
        with store.read() as conn:
            plan = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        print(f"  plan {name}: " + "; ".join(str(row[-1]) for row in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--moments", type=int, default=400)
    args = parser.parse_args()
    store, days = open_bench_store(args.days)
    path: Path = store.path
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with store.read() as conn:
        total = int(conn.execute("SELECT count(*) FROM frames").fetchone()[0])
    print(f"store: {total} frames over {len(days)} days, {size / 2**20:.0f} MiB ({path})")
    start, end = timeline.day_bounds(days[-1])
    plans(store, to_ms(start), to_ms(end))

    cold: list[float] = []
    warm: list[float] = []
    sizes: list[tuple[int, int, int, int]] = []
    for day in days:
        seconds, loaded = timed(lambda day=day: timeline.load_day(store, day))
        cold.append(seconds)
        sizes.append((len(loaded.frames), len(loaded.blocks), len(loaded.gaps), len(loaded.lanes)))
    for _ in range(2):
        for day in days:
            warm.append(timed(lambda day=day: timeline.load_day(store, day))[0])
    frames_per_day = sum(s[0] for s in sizes) / len(sizes)
    blocks_per_day = sum(s[1] for s in sizes) / len(sizes)
    print(
        f"a day: {frames_per_day:.0f} frames, {blocks_per_day:.0f} episodes, "
        f"{sizes[-1][2]} gaps, {sizes[-1][3]} lanes"
    )
    print(f"load_day, first open of each day:  {describe_ms(cold)}")
    print(f"load_day, opened again (warm):      {describe_ms(warm)}")
    filtered = [timed(lambda day=day: timeline.load_day(store, day, app="code"))[0] for day in days]
    print(f"load_day filtered to one app:       {describe_ms(filtered)}")

    rng = random.Random(5)
    day = timeline.load_day(store, days[-1])
    ids = day.frames.ids
    in_day = [
        timed(lambda i=i: timeline.load_moment(store, ids[i]))[0]
        for i in (rng.randrange(len(ids)) for _ in range(args.moments))
    ]
    print(f"load_moment, frames of the open day: {describe_ms(in_day)}")
    with store.read() as conn:
        top = int(conn.execute("SELECT max(id) FROM frames").fetchone()[0])
    anywhere = [
        timed(lambda i=i: timeline.load_moment(store, i))[0]
        for i in (rng.randint(1, top) for _ in range(args.moments))
    ]
    print(f"load_moment, frames of any day:      {describe_ms(anywhere)}")
    steps = []
    index = len(ids) // 2
    for _ in range(args.moments):  # ←/→: the next frame, and the one after
        index = min(index + 1, len(ids) - 1)
        steps.append(timed(lambda i=index: timeline.load_moment(store, ids[i]))[0])
    print(f"load_moment, stepping frame by frame: {describe_ms(steps)}")
    strip = [
        timed(lambda i=i: timeline.frame_thumbnails(store, ids[max(0, i - 3) : i + 4]))[0]
        for i in (rng.randrange(len(ids)) for _ in range(200))
    ]
    print(f"frame_thumbnails, a strip of 7:      {describe_ms(strip)}")
    refs = [
        timeline.MomentRef(day.start + timedelta(hours=rng.uniform(8, 19)), memory_id=b.memory_id)
        for b in rng.sample(day.blocks, min(100, len(day.blocks)))
    ]
    resolved = [timed(lambda r=r: timeline.resolve(store, r))[0] for r in refs]
    print(f"resolve a citation:                  {describe_ms(resolved)}")
    services = _Services(store)
    searches = []
    for query in ("budget table", "sqlite index", "release notes", "invoice", "quarterly report"):
        seconds, found = timed(lambda q=query: timeline.search_timeline(services, q, days[-1]))
        searches.append(seconds)
    print(f"search_timeline within a day:        {describe_ms(searches)} "
          f"(last: {len(found)} matches)")  # fmt: skip
    with store.read() as conn:
        per_app = timed(lambda: rows.time_per_app(conn, to_ms(start), to_ms(end)))[0]
    print(f"time_per_app for a day alone:        {per_app * 1000:.1f} ms")
    store.close()
    huge_path, huge_day = ensure_huge_day()
    huge_store = open_store(huge_path, embedder())
    huge = [timed(lambda: timeline.load_day(huge_store, huge_day))[0] for _ in range(10)]
    huge_frames = len(timeline.load_day(huge_store, huge_day).frames)
    print(f"load_day of a huge day ({huge_frames} frames): {describe_ms(huge)}")
    huge_store.close()
    ok_day = percentile(cold, 95) * 1000
    ok_moment = percentile(in_day + anywhere, 95) * 1000
    print(f"p95 open a day (data, cold) {ok_day:.0f} ms (goal with paint ≤ 250 ms); "
          f"p95 select a moment (data) {ok_moment:.1f} ms (goal with paint ≤ 50 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
