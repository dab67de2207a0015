"""Forget is proven in the bytes: every page of the store file and its WAL, decrypted,
holds the forgotten canary 0 times while the canary that was kept is found (issue 15)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlcipher3

from mirix_desktop.app import forget as forget_app
from mirix_desktop.app.forget import ForgetFilter, forget
from mirix_desktop.memory import forget as forget_rows
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers import sqlcipher_pages as pages_of
from tests.helpers.forget_store import DAY1, DAY2, canary, filler, seed_day

DAY1_RANGE = ForgetFilter(since=DAY1 - timedelta(hours=1), until=DAY1 + timedelta(hours=2))


def _two_days(store: MemoryStore, *, ask: bool = True) -> tuple[str, str]:
    """Day 1 holds canary `gone`, day 2 canary `kept`, among ordinary memories."""
    gone, kept = canary("gone"), canary("kept")
    filler(store, DAY1 - timedelta(hours=5))
    seed_day(store, DAY1, gone, app=f"app{gone}", ask=ask)
    seed_day(store, DAY2, kept, app=f"app{kept}", ask=ask)
    filler(store, DAY2 + timedelta(hours=2))
    return gone, kept


def _found(store_path: Path, *words: str) -> dict[str, int]:
    pages = pages_of.store_pages(store_path, pages_of.store_key(store_path, PASSPHRASE))
    return {word: len(hits) for word, hits in pages_of.occurrences(pages, words).items()}


@pytest.mark.parametrize(
    ("make_filter", "ask"),
    [
        pytest.param(lambda gone: DAY1_RANGE, True, id="time-range"),
        # A question to the assistant is not the app's: forgetting the app keeps it.
        pytest.param(lambda gone: ForgetFilter(app=f"APP{gone}"), False, id="app"),
        pytest.param(lambda gone: ForgetFilter(query=gone), True, id="query"),
    ],
)
def test_the_forgotten_canary_is_in_no_page_of_the_file_or_its_wal(
    store: MemoryStore,
    store_path: Path,
    make_filter: Callable[[str], ForgetFilter],
    ask: bool,
) -> None:
    gone, kept = _two_days(store, ask=ask)
    before = _found(store_path, gone, kept)
    assert before[gone] > 0 and before[kept] > 0

    report = forget(store, make_filter(gone))

    assert report.compacted, report.note
    assert report.counts.frames == 30 and report.counts.memories == (4 if ask else 3)
    after = _found(store_path, gone, kept)
    assert after[gone] == 0
    assert after[kept] > 0  # the same scan sees text
    assert report.bytes_after < report.bytes_before


def test_everything_leaves_no_canary(store: MemoryStore, store_path: Path) -> None:
    gone, kept = _two_days(store)
    forget(store, ForgetFilter(everything=True))
    assert _found(store_path, gone, kept) == {gone: 0, kept: 0}
    with store.read() as conn:
        for table in ("frames", "ocr_lines", "memories", "messages", "memory_vectors"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


# Each step is needed: without it the same scan finds the forgotten canary.
def _no_fts_merge(monkeypatch: pytest.MonkeyPatch, store: MemoryStore) -> None:
    monkeypatch.setattr(forget_rows, "merge_fts", lambda conn: None)


def _no_vacuum_nor_secure_delete(monkeypatch: pytest.MonkeyPatch, store: MemoryStore) -> None:
    monkeypatch.setattr(forget_rows, "vacuum", lambda conn, **kw: False)
    store.conn.execute("PRAGMA secure_delete = OFF")


def _no_checkpoint(monkeypatch: pytest.MonkeyPatch, store: MemoryStore) -> None:
    monkeypatch.setattr(forget_rows, "checkpoint", lambda conn: True)


@pytest.mark.parametrize(
    "sabotage",
    [
        pytest.param(_no_fts_merge, id="no-fts-merge"),
        pytest.param(_no_vacuum_nor_secure_delete, id="no-vacuum-no-secure-delete"),
        pytest.param(_no_checkpoint, id="no-wal-checkpoint"),
    ],
)
def test_without_each_step_the_scan_finds_the_canary(
    store: MemoryStore,
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sabotage: Callable[[pytest.MonkeyPatch, MemoryStore], None],
) -> None:
    gone, _kept = _two_days(store)
    sabotage(monkeypatch, store)
    forget(store, DAY1_RANGE)
    assert _found(store_path, gone)[gone] > 0


def test_an_older_store_is_vacuumed_whole_once_then_incrementally(
    store: MemoryStore, store_path: Path
) -> None:
    # A store made before auto-vacuum was set: its mode is NONE until a VACUUM.
    store.conn.execute("PRAGMA auto_vacuum = NONE")
    store.conn.execute("VACUUM")
    assert store.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    gone, kept = _two_days(store)

    first = forget(store, DAY1_RANGE)
    assert store.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental now
    second = forget(store, ForgetFilter(query=kept))

    assert first.compacted and second.compacted
    assert second.bytes_after < second.bytes_before
    assert _found(store_path, gone, kept) == {gone: 0, kept: 0}


def test_an_older_store_too_big_for_free_memory_is_not_vacuumed_whole_but_zeroed(
    store: MemoryStore, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full VACUUM builds the new file in memory: with less free memory than
    # twice the store it is skipped, and secure_delete still zeroes the pages.
    store.conn.execute("PRAGMA auto_vacuum = NONE")
    store.conn.execute("VACUUM")
    gone, kept = _two_days(store)
    monkeypatch.setattr(
        forget_app.psutil,
        "virtual_memory",
        lambda: SimpleNamespace(available=pages_of.wal_path_of(store_path).stat().st_size),
    )

    report = forget(store, DAY1_RANGE)

    assert not report.compacted
    assert report.note is not None and "keeps its size" in report.note
    assert store.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0  # not vacuumed
    assert _found(store_path, gone, kept)[gone] == 0
    assert _found(store_path, gone, kept)[kept] > 0


@pytest.mark.expected_log("mirix.app.forget", "WARNING", r"compacting failed: .*disk is full")
def test_a_full_disk_during_the_vacuum_is_said_and_the_words_are_still_gone(
    store: MemoryStore, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, kept = _two_days(store)

    def disk_full(conn: object, **_: object) -> bool:
        raise sqlcipher3.OperationalError("database or disk is full")

    monkeypatch.setattr(forget_rows, "vacuum", disk_full)

    report = forget(store, DAY1_RANGE)

    assert not report.compacted
    assert report.note is not None and "disk is full" in report.note
    assert report.counts.frames == 30  # the rows went all the same
    found = _found(store_path, gone, kept)
    assert found[gone] == 0 and found[kept] > 0  # secure_delete zeroed them
