"""Malformed and adversarial images through the real `ingest` path: none crashes or hangs.

The small version of `tests/benchmarks/fuzz_ingest.py`: a few cases of every
family of `tests/helpers/bad_images.py` (truncated, flipped bytes, PNG fields,
bombs, sizes, modes, animation, EXIF, file-system objects, foreign formats,
odd content) in a worker process watched for hangs, with real tesseract and
a passphrase store. Then the watchdog itself, and the ingest fixes one by one.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mirix_desktop.config import Settings
from mirix_desktop.errors import BadImage
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.ingest import Outcome, ingest_image
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.benchmarks.fuzz_ingest import run
from tests.helpers.bad_images import WORDS, Case, cases, small_cases, text_screen

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_every_family_is_processed_or_rejected_with_a_reason(tmp_path: Path) -> None:
    chosen = small_cases()
    report = run(chosen, tmp_path, timeout_s=30)
    summary = report.summary()
    assert {r.family for r in report.results} == {c.family for c in cases(full=False)}
    assert len(report.results) >= 50
    assert not report.crashes, summary
    assert not report.hangs, summary
    assert not report.unexpected, summary
    assert not report.warned, summary
    # Rotated by EXIF, on a transparent ground, in 16 bits or CMYK: read all the same.
    assert not report.unread, summary
    rejected = report.by_status("rejected")
    assert rejected and all(r.reason and r.reason != "(no reason given)" for r in rejected)
    # PostScript named .png is not even opened (Pillow would run Ghostscript on it).
    eps = next(r for r in report.results if r.name == "foreign-eps")
    assert eps.reason == "not an image format that can be read"
    assert report.worker_starts == 1


def misbehaving_ingest(pipeline: Pipeline, path: Path, **options: Any) -> Outcome:
    """ingest_image, except for cases named to hang, die or raise (the watchdog's test)."""
    if path.name.startswith("hang"):
        time.sleep(3600)
    if path.name.startswith("die"):
        os._exit(3)
    if path.name.startswith("boom"):
        raise RuntimeError("a bug")
    if path.name.startswith("known"):
        raise BadImage(f"{path}: refused by a KnownError")
    return ingest_image(pipeline, path, **options)


def _valid_case(name: str) -> Case:
    def write(directory: Path) -> Path:
        path = directory / f"{name}.png"
        text_screen().save(path)
        return path

    return Case(name, "watchdog", "processed", write, readable=True)


def test_the_watchdog_reports_a_hang_a_death_and_a_bug_and_goes_on(tmp_path: Path) -> None:
    chosen = [_valid_case(n) for n in ("hang", "after-hang", "die", "boom", "known", "last")]
    began = time.perf_counter()
    report = run(
        chosen, tmp_path, timeout_s=2, target=f"{__name__}:misbehaving_ingest", memory_limit_mb=0
    )
    status = {r.name: r.status for r in report.results}
    assert status == {
        "hang": "hang",
        "after-hang": "processed",
        "die": "crash",
        "boom": "crash",
        "known": "rejected",
        "last": "processed",
    }, report.summary()
    by_name = {r.name: r for r in report.results}
    assert "exit code 3" in (by_name["die"].reason or "")
    assert "RuntimeError: a bug" in (by_name["boom"].reason or "")
    assert by_name["hang"].seconds < 10
    assert report.worker_starts == 3  # the first, after the hang, after the death
    assert time.perf_counter() - began < 60


def _pipeline(store: MemoryStore) -> Pipeline:
    return Pipeline(store, Settings(), owner=os.getpid())


def test_a_file_name_that_is_not_utf8_or_holds_escapes_is_stored_printable(
    store: MemoryStore, tmp_path: Path
) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"\xff\x1b[31mred\nshot.png")
    text_screen().save(raw.decode("utf-8", "surrogateescape"))
    path = Path(os.fsdecode(raw))
    pipeline = _pipeline(store)
    outcome = ingest_image(pipeline, path, app="fuzz", title=None, url=None, at=T0)
    pipeline.processor.flush(T0)
    assert outcome.ok, outcome.reason
    assert outcome.source.isprintable() and outcome.source.encode("utf-8")
    titles = [r.title or "" for r in store.list()]
    assert "\ufffd\ufffd[31mred\ufffdshot.png" in titles
    missing = ingest_image(
        pipeline, path.with_name(path.name + "x"), app=None, title=None, url=None, at=T0
    )
    assert missing.reason and missing.reason.isprintable()


def test_a_modification_time_that_no_date_holds_is_a_reason(
    store: MemoryStore, tmp_path: Path
) -> None:
    # ext4 clamps file times to the year 2446; tmpfs keeps any.
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no tmpfs at /dev/shm")
    path = shm / f"mirix-fuzz-{os.getpid()}.png"
    text_screen().save(path)
    try:
        os.utime(path, (2**38, 2**38))  # the year 10680
        if path.stat().st_mtime < 2**37:
            pytest.skip("this /dev/shm clamps file times")
        pipeline = _pipeline(store)
        outcome = ingest_image(pipeline, path, app=None, title=None, url=None, at=None)
        assert not outcome.ok
        assert outcome.reason and "modification time" in outcome.reason and "--at" in outcome.reason
        given = ingest_image(pipeline, path, app=None, title=None, url=None, at=T0)
        assert given.ok and WORDS.split()[0] in " ".join(given.text)
    finally:
        path.unlink()
