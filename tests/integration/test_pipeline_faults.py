"""Faults while the pipeline writes: nothing lost, nothing doubled, the queue never stalls.

Real tesseract, real encrypted stores: a write that fails once and is retried,
a memory deleted while the daemon still fills it, a job that always raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import NullProbe, WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.errors import StoreLocked
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import MemoryType
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.daemon import Daemon
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.conftest import PASSPHRASE
from tests.helpers.screens import pixels, screen, text_lines

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EDITOR = WindowInfo("code", "notes.py - Visual Studio Code", Rect(0, 0, 1280, 800), True)
# A screen holds 29 of these lines; two screens fill one 1500-character chunk and start another.
FIRST, SECOND = text_lines(29), text_lines(58, 29)


def shot(lines: list[str]) -> MonitorShot:
    return MonitorShot(1, Rect(0, 0, 1280, 800), pixels(screen(lines)))


def fail_commits(monkeypatch: pytest.MonkeyPatch, store: MemoryStore) -> list[int]:
    """Makes the store's next N transactions fail at their end, as a locked store does at
    COMMIT: every statement ran, then all is rolled back. Returns [N], to set."""
    real = store.transaction
    failures = [0]

    @contextlib.contextmanager
    def transaction() -> Iterator[Connection]:
        with real() as conn:
            yield conn
            if failures[0]:
                failures[0] -= 1
                raise StoreLocked(store.path, "the store is busy (failed on purpose)")

    monkeypatch.setattr(store, "transaction", transaction)
    return failures


def memories(store: MemoryStore) -> list[tuple[str, str | None, str]]:
    return [(r.type.value, r.title, r.body) for r in reversed(store.list(limit=1000))]


def line_rows(store: MemoryStore) -> int:
    with store.read() as conn:
        return int(conn.execute("SELECT count(*) FROM ocr_lines").fetchone()[0])


def run_two_screens(store: MemoryStore, fail: Callable[[], None] | None = None) -> Pipeline:
    """The first screen, then the second (during which `fail` arms one failure)."""
    pipeline = Pipeline(store, Settings())
    pipeline.submit(shot(FIRST), [EDITOR], T0)
    assert [p.error for p in pipeline.drain()] == [None]
    pipeline.submit(shot(SECOND), [EDITOR], T0 + timedelta(seconds=2))
    if fail is not None:
        fail()
        with pytest.raises(StoreLocked):
            pipeline.process_next()
        # Not the job's fault: still queued, no attempt counted.
        assert pipeline.queue_depth() == 1 and pipeline.failed_jobs() == 0
    done = pipeline.drain()
    assert [p.kind for p in done] == ["frame"] and done[0].error is None
    return pipeline


def test_a_write_that_fails_once_then_succeeds_loses_and_doubles_nothing(
    tmp_path: Path, embedder: StaticEmbedder, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same two screens into a store that never fails: what must be stored.
    key = KeySource(passphrase=PASSPHRASE)
    with MemoryStore.open(tmp_path / "reference.db", key, embedder) as reference:
        pipeline = run_two_screens(reference)
        expected, expected_lines = memories(reference), line_rows(reference)
        pipeline.processor.flush(T0 + timedelta(seconds=30))
        expected_at_end = memories(reference)
    resources = [m for m in expected if m[0] == "resource"]
    assert len(resources) == 2, "the second screen must have rolled a chunk over"
    assert "number 7 jumps" in resources[0][2] and "number 399 jumps" in resources[1][2]

    failures = fail_commits(monkeypatch, store)
    pipeline = run_two_screens(store, fail=lambda: failures.__setitem__(0, 1))
    assert memories(store) == expected
    assert line_rows(store) == expected_lines
    with store.read() as conn:
        states = conn.execute("SELECT ocr_state FROM frames ORDER BY id").fetchall()
    assert states == [("done",), ("done",)]
    # The open episode's last write fails too, and is done again.
    failures[0] = 1
    with pytest.raises(StoreLocked):
        pipeline.processor.flush(T0 + timedelta(seconds=30))
    assert pipeline.processor.flush(T0 + timedelta(seconds=30)) == 1
    assert memories(store) == expected_at_end


def test_a_retried_frame_still_has_the_picture_it_was_based_on(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = Pipeline(store, Settings())
    lines = text_lines(12)
    pipeline.submit(shot(lines), [EDITOR], T0)
    pipeline.drain()
    failures = fail_commits(monkeypatch, store)
    # A word typed: only that line is read again, the others carry forward from the base.
    typed = [*lines[:5], lines[5] + " and more", *lines[6:]]
    pipeline.submit(shot(typed), [EDITOR], T0 + timedelta(seconds=2))
    failures[0] = 1
    with pytest.raises(StoreLocked):
        pipeline.process_next()
    frame = pipeline.process_next()
    assert frame is not None and frame.error is None
    assert frame.new_lines <= 2
    texts = [line.text for line in frame.lines]
    assert any("number 63 jumps" in text for text in texts), texts


def test_a_memory_deleted_while_being_filled_starts_a_new_one(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings())
    pipeline.submit(shot(text_lines(10)), [EDITOR], T0)
    pipeline.drain()
    first = store.list()
    assert {r.type for r in first} == {MemoryType.RESOURCE, MemoryType.EPISODIC}
    for record in first:  # the person deletes what was captured so far
        store.delete(record.id)

    for step, count in enumerate((14, 16), start=1):
        pipeline.submit(shot(text_lines(count)), [EDITOR], T0 + timedelta(seconds=2 * step))
        results = pipeline.drain()
        assert results and all(r.error is None for r in results), results
    pipeline.processor.flush(T0 + timedelta(seconds=30))

    resources = store.list([MemoryType.RESOURCE])
    assert len(resources) == 1, "later lines go on into one new memory"
    body = resources[0].body
    for n in range(10, 16):
        assert f"number {n * 7} jumps" in body
    # What the person deleted is not written again.
    assert not any(f"number {n * 7} jumps" in body for n in range(10))
    episodes = store.list([MemoryType.EPISODIC])
    assert len(episodes) == 1
    details = episodes[0].body
    assert "number 105 jumps" in details and "number 21 jumps" not in details
    assert pipeline.failed_jobs() == 0


@pytest.mark.expected_log("mirix.pipeline.processor", "ERROR", r"internal error \(ValueError\)")
@pytest.mark.expected_log("mirix.daemon", "WARNING", r"internal error \(ValueError\)")
def test_a_job_that_always_raises_is_given_up_and_the_queue_goes_on(
    tmp_path: Path, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = Daemon(resolve_paths(tmp_path / "data"), Settings(), store, probe_factory=NullProbe)
    pipeline = daemon.pipeline
    poisoned = pipeline.submit(shot(text_lines(5)), [EDITOR], T0)
    pipeline.submit(shot(text_lines(9, 5)), [EDITOR], T0 + timedelta(seconds=2))
    frame = pipeline.builder.frame

    def frame_or_raise(*args: Any) -> Any:
        if args[4] == poisoned.frame_id:
            raise ValueError("a bug this frame triggers")
        return frame(*args)

    monkeypatch.setattr(pipeline.builder, "frame", frame_or_raise)
    for _ in range(6):  # three failed attempts, then the other frame and two activities
        assert daemon._ocr_step() == 0.0  # never a retry delay: it is not the store's fault
    assert pipeline.queue_depth() == 0
    status = daemon.status_snapshot()
    assert status.failed_jobs == 1
    assert "internal error (ValueError)" in (status.last_error or "")
    assert "gave up" in (pipeline.processor.last_error or "")
    with store.read() as conn:
        states = conn.execute("SELECT id, ocr_state FROM frames ORDER BY id").fetchall()
        payload = conn.execute("SELECT length(payload), attempts FROM capture_jobs").fetchall()
    assert states == [(poisoned.frame_id, "failed"), (poisoned.frame_id + 1, "done")]
    assert payload == [(0, 3)], "a given-up job keeps no pixels"
    assert "number 56 jumps" in store.list([MemoryType.RESOURCE])[0].body
    pipeline.close()
