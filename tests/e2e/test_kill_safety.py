"""Crash safety, small: the real daemon SIGKILLed during capture and ingest.

The full run (20 trials and more) is `python -m tests.benchmarks.kill_trials`;
the trials and their checks are `tests/helpers/kill_harness.py`'s. The
first tests here show that each check of the harness fails on the damage it
looks for, so a trial that passes means something.
"""

from __future__ import annotations

import shutil
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mirix_desktop.memory import capture_jobs, frames
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.records import EpisodicMemory, ResourceMemory
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ocr.engine import OcrLine
from mirix_desktop.pipeline.memories import CHUNK_CHARS
from tests.helpers.kill_harness import (
    CHECKS,
    IDLE,
    IN_WRITE,
    Failure,
    KillHarness,
    TrialResult,
    compare,
    duplicates,
    given_up,
    ingest_stored,
    ingest_title,
    landing,
    marker_key,
    run_trials,
    snapshot,
)
from tests.helpers.xdisplay import xvfb_display

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _frame(
    store: MemoryStore, at: datetime, title: str = "Notes", lines: tuple[str, ...] = ()
) -> int:
    new = frames.NewFrame(at, 0, "mousepad", title, None, "0" * 16, 800, 600, None, 1.0)
    with store.transaction() as conn:
        frame_id = frames.insert_frame(conn, new)
        if lines:
            frames.save_ocr(
                conn, frame_id, [OcrLine(t, 0, 20 * n, 300, 18, 90.0) for n, t in enumerate(lines)]
            )
    return frame_id


def _resource(store: MemoryStore, content: str, thread: str = "doc") -> int:
    return store.add(ResourceMemory(content=content, title="Notes", thread=thread))


def _failed(found: list[Failure]) -> set[str]:
    return {f.check for f in found}


def test_losing_a_committed_memory_or_frame_fails_the_trial(store: MemoryStore) -> None:
    kept = _resource(store, "alpha line one\nalpha line two")
    grown = _resource(store, "beta line one", thread="other")
    frame_id = _frame(store, AT, lines=("gamma line",))
    before = snapshot(store)
    # Growing is allowed; nothing changed is fine.
    store.update(grown, ResourceMemory(content="beta line one\nbeta line two", thread="other"))
    assert compare(before, snapshot(store)) == []

    store.update(kept, ResourceMemory(content="alpha line two", thread="doc"))
    assert _failed(compare(before, snapshot(store))) == {"committed memories kept"}
    store.delete(kept)
    assert _failed(compare(before, snapshot(store))) == {"committed memories kept"}
    with store.transaction() as conn:
        conn.execute("DELETE FROM ocr_lines WHERE frame_id = ?", (frame_id,))
    assert "committed frames kept" in _failed(compare(before, snapshot(store)))
    with store.transaction() as conn:
        conn.execute("DELETE FROM frames WHERE id = ?", (frame_id,))
    assert "committed frames kept" in _failed(compare(before, snapshot(store)))


def test_anything_stored_twice_fails_the_trial(store: MemoryStore) -> None:
    assert duplicates(store, {}) == []
    _frame(store, AT)
    _frame(store, AT)
    assert _failed(duplicates(store, {})) == {"no duplicate frames"}


def test_an_ocr_line_twice_fails_the_trial(store: MemoryStore) -> None:
    frame_id = _frame(store, AT, lines=("one line",))
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO ocr_lines (frame_id, line_no, text, x, y, width, height, confidence) "
            "VALUES (?, 0, 'one line', 0, 0, 10, 10, 90)",
            (frame_id,),
        )
    assert _failed(duplicates(store, {})) == {"no duplicate OCR lines"}


def test_a_document_line_twice_or_a_chunk_started_early_fails_the_trial(
    store: MemoryStore,
) -> None:
    full = "\n".join(f"line {n:04d} of a long document" for n in range(CHUNK_CHARS // 25))
    _resource(store, full)
    last = _resource(store, "line 9999 of a long document")
    assert duplicates(store, {}) == []
    again = "line 9999 of a long document\nline 0003 of a long document"  # of the first chunk
    store.update(last, ResourceMemory(content=again, title="Notes", thread="doc"))
    assert _failed(duplicates(store, {})) == {"no line twice in a document"}
    _resource(store, "short chunk", thread="two")
    _resource(store, "next chunk", thread="two")
    assert "no chunk started early" in _failed(duplicates(store, {}))


def test_overlapping_episodes_fail_the_trial(store: MemoryStore) -> None:
    for start in (AT, AT + timedelta(minutes=5)):
        store.add(
            EpisodicMemory(
                summary="Editing notes",
                started_at=start,
                ended_at=start + timedelta(minutes=10),
                thread="doc",
            )
        )
    assert _failed(duplicates(store, {})) == {"episodes in order"}


def test_an_ingested_image_twice_missing_or_unread_fails_the_trial(store: MemoryStore) -> None:
    title, marks = ingest_title(7), {marker_key(7, 0): 7, marker_key(7, 1): 7}
    _frame(store, AT, title, ("marker zq007x00 stored once",))
    assert ingest_stored(store, 7, 2, finished=False) == []
    assert _failed(ingest_stored(store, 7, 2, finished=True)) == {"ingested images stored"}
    _frame(store, AT + timedelta(seconds=5), title, ("marker zq007x01 stored once",))
    assert ingest_stored(store, 7, 2, finished=True) == []
    assert duplicates(store, marks) == []
    _frame(store, AT + timedelta(seconds=9), title, ("marker zq007x01 stored once",))
    assert _failed(duplicates(store, marks)) == {"no ingest image twice"}
    _frame(store, AT + timedelta(seconds=12), title)  # never read
    assert _failed(ingest_stored(store, 7, 2, finished=False)) == {"ingested images stored"}


def test_a_given_up_job_fails_the_trial(store: MemoryStore) -> None:
    with store.transaction() as conn:
        job = capture_jobs.put(conn, "activity", b"{}", None, 0)
    assert given_up(store) == []
    with store.transaction() as conn:
        capture_jobs.record_failure(conn, job, "boom", give_up=True)
    assert _failed(given_up(store)) == {"no job given up"}


def test_a_warning_in_the_logs_fails_the_trial(tmp_path: Path, embedder: StaticEmbedder) -> None:
    harness = KillHarness(types.SimpleNamespace(env={}), tmp_path, seed=1, embedder=embedder)  # type: ignore[arg-type]
    try:
        log = tmp_path / "data" / "logs" / "daemon.log"
        log.parent.mkdir(parents=True)
        log.write_text("2026-03-02 09:00:00,000 mirix.daemon INFO: daemon started\n")
        result = TrialResult(0, 1.0, killed_ingest=False, killed_while_starting=False)
        harness._check_logs(result)
        assert result.failures == []
        with log.open("a") as file:
            file.write("2026-03-02 09:00:01,000 mirix.daemon WARNING: job 3: boom\n")
        harness._check_logs(result)
        assert [f.check for f in result.failures] == ["no error logged"]
    finally:
        harness.close()


STACKS = """\
Thread 0x00007f1 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 331 in wait
  File "/repo/mirix_desktop/pipeline/daemon.py", line 283 in _capture_loop

Thread 0x00007f2 (most recent call first):
  File "/repo/mirix_desktop/ocr/engine.py", line 300 in recognize
  File "/repo/mirix_desktop/ocr/reuse.py", line 80 in read
  File "/repo/mirix_desktop/pipeline/processor.py", line 240 in _recognize
  File "/repo/mirix_desktop/pipeline/processor.py", line 250 in _frame
  File "/repo/mirix_desktop/pipeline/daemon.py", line 420 in _ocr_step

Current thread 0x00007f3 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 331 in wait
  File "/repo/mirix_desktop/pipeline/daemon.py", line 162 in run_forever
"""
WAITING = """
  File "/usr/lib/python3.11/threading.py", line 629 in wait
  File "/repo/mirix_desktop/pipeline/daemon.py", line 431 in _ocr_step

"""


def test_where_a_kill_landed_is_read_from_the_stacks() -> None:
    assert landing(STACKS) == "OCR"
    writing = STACKS.replace("line 240 in _recognize", "line 330 in _write")
    assert landing(writing) == "writing lines and memories"
    ocr, main = STACKS.index("Thread 0x00007f2"), STACKS.index("Current thread")
    waiting = STACKS[:ocr] + STACKS[ocr:main].splitlines()[0] + WAITING + STACKS[main:]
    assert landing(waiting) == IDLE
    assert IN_WRITE not in (landing(STACKS), landing(waiting))


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed (apt install xvfb)")
def test_three_kills_lose_nothing_and_store_nothing_twice(
    tmp_path: Path, embedder: StaticEmbedder
) -> None:
    with xvfb_display() as display:
        report = run_trials(
            display,
            3,
            seed=3,
            workdir=tmp_path,
            embedder=embedder,
            say=lambda _line: None,
            max_delay_s=3.0,
            ingest_images=3,
        )
    assert report.failures_by_check() == dict.fromkeys(CHECKS, 0), report.text()
    assert report.survived == 3
    results = report.results
    # The trials did what they claim: ingests and a start were cut short, a
    # kill landed inside a memory write, and the kills left work in the queue
    # that the restarts finished.
    assert any(r.killed_ingest for r in results), report.text()
    assert results[1].killed_while_starting
    assert results[2].landed[0].startswith(IN_WRITE), report.text()
    assert report.kills() == 4 and all(r.landed for r in results), report.text()
    assert any(r.queued_at_kill for r in results), report.text()
    assert results[-1].memories > 0 and results[-1].frames > 0
