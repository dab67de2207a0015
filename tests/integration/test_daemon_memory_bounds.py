"""What keeps the daemon's resident memory flat over a day (the endurance run measures it).

Its store connection keeps a small page cache: the store's own (sized for
search) held every page written, so SQLite's heap grew with the database,
~1 MB per ten minutes of capture. And the OCR worker gives freed heap back
to the system when its queue is empty (`pipeline/heap.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mirix_desktop.capture.session import NullProbe
from mirix_desktop.config import Settings
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.daemon import WRITER_CACHE_MB, Daemon
from mirix_desktop.pipeline.heap import HeapTrimmer
from tests.benchmarks.endurance import sqlite_memory_used


class _NoScreen:
    def grab(self) -> list[object]:
        return []

    def close(self) -> None:
        pass


def _daemon(tmp_path: Path, store: MemoryStore) -> Daemon:
    paths = resolve_paths(tmp_path / "data")
    paths.ensure()
    return Daemon(
        paths,
        Settings(),
        store,
        probe_factory=NullProbe,
        grabber_factory=_NoScreen,  # type: ignore[arg-type]
    )


def _cache_kib(store: MemoryStore) -> int:
    with store.read() as conn:
        return -int(conn.execute("PRAGMA cache_size").fetchone()[0])


def test_the_daemon_keeps_a_small_page_cache(tmp_path: Path, store: MemoryStore) -> None:
    assert _cache_kib(store) == Settings().store.cache_mb * 1024  # the store's, for search
    daemon = _daemon(tmp_path, store)
    daemon.start()
    try:
        assert _cache_kib(store) == WRITER_CACHE_MB * 1024
    finally:
        daemon.stop()


def test_a_smaller_cache_gives_back_what_sqlite_held(store: MemoryStore) -> None:
    """The cap frees pages at once: it also bounds a cache already grown."""
    used = sqlite_memory_used()  # the whole process's SQLite heap: compared, not absolute
    before = used()
    blob = b"x" * 4000
    with store.transaction() as conn:
        conn.execute("CREATE TABLE filler (data BLOB)")
        conn.executemany("INSERT INTO filler VALUES (?)", [(blob,)] * 12_000)  # ~48 MB
    with store.read() as conn:
        conn.execute("SELECT sum(length(data)) FROM filler").fetchone()
    assert used() - before > 40_000_000  # the store's cache held it all
    store.limit_cache(WRITER_CACHE_MB)
    assert used() - before < (WRITER_CACHE_MB + 2) * 1_048_576
    with store.read() as conn:
        conn.execute("SELECT sum(length(data)) FROM filler").fetchone()
    assert used() - before < (WRITER_CACHE_MB + 2) * 1_048_576


def test_the_ocr_worker_trims_the_heap_when_its_queue_is_empty(
    tmp_path: Path, store: MemoryStore
) -> None:
    daemon = _daemon(tmp_path, store)
    daemon._heap = trimmer = HeapTrimmer(every_s=0.0)
    try:
        daemon._ocr_step()  # nothing queued
    finally:
        daemon.pipeline.close()
    assert trimmer.trims == (1 if trimmer.available else 0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trims_at_most_once_per_interval() -> None:
    now = [0.0]
    trimmer = HeapTrimmer(every_s=60.0, monotonic=lambda: now[0])
    assert trimmer.available
    assert not trimmer.maybe_trim()
    now[0] = 61.0
    assert trimmer.maybe_trim()
    now[0] = 100.0
    assert not trimmer.maybe_trim()
    now[0] = 122.0
    assert trimmer.maybe_trim()
    assert trimmer.trims == 2
