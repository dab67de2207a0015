"""The small version of tests/benchmarks/forget_day.py: one day forgotten, timed, space back."""

from __future__ import annotations

from datetime import timedelta

from mirix_desktop.memory.store import MemoryStore
from tests.benchmarks.forget_day import day_filter, measure
from tests.helpers.forget_store import DAY1, DAY2, add_frames, canary, filler, seed_day


def test_forgetting_a_day_takes_it_whole_and_gives_its_space_back(store: MemoryStore) -> None:
    day1 = DAY1.astimezone()
    seed_day(store, day1, canary("a"))
    seed_day(store, DAY2, canary("b"))
    filler(store, day1 + timedelta(hours=1))
    add_frames(store, day1 + timedelta(hours=2), 300, app="code", title="big.py",
               lines=[f"a long line of code number {n} " * 3 for n in range(5)],
               thumbnail=bytes(6000))  # fmt: skip

    figures = measure(store, day_filter(day1.date()))

    assert figures.left == 0 and figures.counts.frames == 330
    assert figures.counts.memories == 4 + 60  # the seeded ones and the filler
    assert figures.bytes_after < figures.bytes_before / 2
    assert figures.delete_s + figures.compact_s < 10
