"""Forget one day of the generated 30-day store: seconds taken and bytes reclaimed.

A copy of tests/benchmarks/timeline_store.py's store (30 days, ~585k frames
with thumbnails and 3-5 OCR lines each, ~12k episodes; 2.7 GB) is opened
and the middle day forgotten with `app.forget`, as `mirix-desktop forget
--since DAY --until DAY+1 --yes` does: first counted (the --dry-run), then
deleted in one transaction, then compacted (WAL checkpoint, vacuum with
secure_delete). The generated store, like one made by a build before
incremental auto-vacuum, is vacuumed whole by its first forget; a second
day is then forgotten with the incremental vacuum a store has from then on
(and new stores from the start). The copy is deleted at the end. The small version, on a
small store, is tests/integration/test_forget_day_small.py.

    .venv/bin/python -m tests.benchmarks.forget_day [--keep]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from mirix_desktop.app.forget import (
    ForgetCounts,
    ForgetFilter,
    compact_store,
    forget,
    plan_forget,
    store_bytes,
)
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from tests.benchmarks.common import REPO, embedder, open_store
from tests.benchmarks.timeline_store import ensure_store


@dataclass(frozen=True)
class DayFigures:
    counts: ForgetCounts
    plan_s: float
    delete_s: float
    compact_s: float
    bytes_before: int
    bytes_after: int
    left: int  # frames of the day still there (0)


def day_filter(day: date) -> ForgetFilter:
    start = datetime.combine(day, datetime.min.time()).astimezone()
    return ForgetFilter(since=start, until=start + timedelta(days=1))


def measure(store: MemoryStore, flt: ForgetFilter) -> DayFigures:
    """Counts, forgets and compacts, timing each step."""
    assert flt.since is not None and flt.until is not None
    size = store_bytes(store.path)
    began = time.perf_counter()
    planned = plan_forget(store, flt)
    plan_s = time.perf_counter() - began
    began = time.perf_counter()
    report = forget(store, flt, compact=False)
    delete_s = time.perf_counter() - began
    began = time.perf_counter()
    compacted, note = compact_store(store)
    compact_s = time.perf_counter() - began
    assert compacted, note
    assert report.counts == planned
    with store.read() as conn:
        left = conn.execute(
            "SELECT count(*) FROM frames WHERE captured_at >= ? AND captured_at < ?",
            (to_ms(flt.since), to_ms(flt.until)),
        ).fetchone()[0]
    return DayFigures(
        planned, plan_s, delete_s, compact_s, size, store_bytes(store.path), int(left)
    )


def _mb(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


def _print(label: str, figures: DayFigures) -> None:
    total = figures.delete_s + figures.compact_s
    reclaimed = figures.bytes_before - figures.bytes_after
    print(f"{label}: {figures.counts.describe()}")
    print(f"  count (--dry-run):           {figures.plan_s:6.1f} s")
    print(f"  delete (one transaction):    {figures.delete_s:6.1f} s")
    print(f"  compact (checkpoint+vacuum): {figures.compact_s:6.1f} s")
    print(f"  total forget:                {total:6.1f} s")
    print(
        f"  bytes: {_mb(figures.bytes_before)} -> {_mb(figures.bytes_after)}, "
        f"reclaimed {_mb(reclaimed)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the copy (prints its path)")
    args = parser.parse_args()
    source, days = ensure_store(30)
    directory = Path(tempfile.mkdtemp(prefix="forget-day-", dir=REPO / ".cache"))
    for file in source.parent.iterdir():
        if file.name.startswith("mirix.db"):
            shutil.copy2(file, directory / file.name)
    first, second = days[len(days) // 2], days[len(days) // 2 + 1]
    store = open_store(directory / "mirix.db", embedder())
    try:
        # The generated store predates incremental auto-vacuum, as a store
        # made by an older build does: its first forget vacuums it whole.
        mode = int(store.conn.execute("PRAGMA auto_vacuum").fetchone()[0])
        one = measure(store, day_filter(first))
        two = measure(store, day_filter(second))
    finally:
        store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert one.left == 0 and two.left == 0
    print(f"store: {_mb(one.bytes_before)}, 30 days (auto_vacuum mode {mode} at the start)")
    _print(f"first forget, {first} (full VACUUM, switches to incremental)", one)
    _print(f"next forget, {second} (incremental vacuum)", two)
    print(f"peak RSS of this process: {peak_mb:,.0f} MB")
    if args.keep:
        print(f"kept: {directory}")
    else:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
