"""The capture pipeline with real tesseract and a real encrypted store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import CaptureSettings, Settings
from mirix_desktop.errors import OcrFailed, OcrUnavailable
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import MemoryType
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ocr.engine import OcrLine, PytesseractEngine
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.conftest import PASSPHRASE
from tests.helpers.screens import pixels, screen, text_lines

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EDITOR = WindowInfo("code", "notes.py - Visual Studio Code", Rect(0, 0, 1280, 800), True)


def shot(image_pixels):  # type: ignore[no-untyped-def]
    height, width = image_pixels.shape[:2]
    return MonitorShot(1, Rect(0, 0, width, height), image_pixels)


def query(store: MemoryStore, sql: str) -> list[tuple[Any, ...]]:
    with store.read() as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


def all_text(store: MemoryStore) -> str:
    rows = query(store, "SELECT text FROM ocr_lines")
    bodies = query(store, "SELECT title || ' ' || body FROM memories")
    return "\n".join(r[0] for r in rows + bodies)


def test_a_screen_becomes_a_resource_and_an_episode(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings())
    result = pipeline.submit(shot(pixels(screen(text_lines(10)))), [EDITOR], T0)
    assert result.state == "queued"
    done = pipeline.drain()
    pipeline.processor.flush(T0 + timedelta(seconds=30))
    frame = next(p for p in done if p.kind == "frame")
    assert any("fox number 63 jumps" in line.text for line in frame.lines)
    resources = store.list([MemoryType.RESOURCE])
    assert len(resources) == 1
    assert resources[0].app == "code" and resources[0].title == "notes.py"
    assert "line 9: the quick brown fox number 63 jumps" in resources[0].body
    episodes = store.list([MemoryType.EPISODIC])
    assert len(episodes) == 1
    assert episodes[0].end_time == T0 + timedelta(seconds=30)
    [state] = query(store, "SELECT ocr_state, thumbnail FROM frames")
    assert state[0] == "done" and state[1][:2] == b"\xff\xd8"  # a JPEG thumbnail


def test_a_thumbnail_is_redrawn_once_enough_of_the_screen_changed(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings())
    lines = text_lines(12)
    typed = [*lines[:5], lines[5] + " and", *lines[6:]]
    pages = [lines, typed, [*typed[:5], typed[5] + " more", *typed[6:]], text_lines(30, 40)]
    for n, page in enumerate(pages):
        at = T0 + timedelta(seconds=2 * n)
        assert pipeline.submit(shot(pixels(screen(page))), [EDITOR], at).state == "queued"
    thumbs = [row[0] for row in query(store, "SELECT thumbnail FROM frames ORDER BY id")]
    assert len(thumbs) == 4
    # A word typed is not a thumbnail pixel; a new page is.
    assert thumbs[0] == thumbs[1] == thumbs[2]
    assert thumbs[3] != thumbs[0] and thumbs[3][:2] == b"\xff\xd8"


def test_scrolling_keeps_known_text_and_reads_only_new_lines(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings())
    lines = text_lines(60)
    pipeline.submit(shot(pixels(screen(lines))), [EDITOR], T0)
    pipeline.drain()
    pipeline.submit(shot(pixels(screen(lines[3:]))), [EDITOR], T0 + timedelta(seconds=2))
    frame = next(p for p in pipeline.drain() if p.kind == "frame")
    texts = [line.text for line in frame.lines]
    assert frame.new_lines <= 4, texts
    assert not any(t.startswith("line 2:") for t in texts), "scrolled-out line kept"
    assert any("number 21 jumps" in t for t in texts), "a carried line was lost"
    assert any("number 217 jumps" in t for t in texts), "the new line was not read"
    resource = store.list([MemoryType.RESOURCE])[0]
    assert resource.body.count("number 21 jumps") == 1, "a known line was stored twice"


def test_secrets_are_redacted_before_storage(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings())
    image = screen(text_lines(3), footer="Visa 4111 1111 1111 1111 password: hunter2swordfish")
    titled = WindowInfo(
        "code", "token: ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", EDITOR.rect, True
    )
    pipeline.submit(shot(pixels(image)), [titled], T0)
    pipeline.drain()
    pipeline.processor.flush()
    text = all_text(store)
    assert "[REDACTED]" in text
    assert "4111" not in text and "hunter2swordfish" not in text
    frame_titles = " ".join(r[0] for r in query(store, "SELECT window_title FROM frames"))
    assert "[REDACTED]" in frame_titles and "ghp_" not in frame_titles + text


def test_an_excluded_window_is_blacked_out_even_beside_the_active_one(
    store: MemoryStore,
) -> None:
    pipeline = Pipeline(store, Settings())
    image = screen(text_lines(12))
    vault = WindowInfo("KeePassXC", "Passwords.kdbx - KeePassXC", Rect(0, 0, 1280, 200), False)
    editor = WindowInfo("code", "notes.py", Rect(0, 200, 1280, 600), True)
    pipeline.submit(shot(pixels(image)), [vault, editor], T0)
    pipeline.drain()
    text = all_text(store)
    assert "number 0 jumps" not in text  # drawn at y=40, inside the vault's rect
    assert "number 56 jumps" in text  # y=232: the editor
    assert "Passwords" not in text and "KeePassXC" not in text


def test_queued_work_survives_a_restart(store_path: Path, embedder: StaticEmbedder) -> None:
    key = KeySource(passphrase=PASSPHRASE)
    with MemoryStore.open(store_path, key, embedder) as first:
        pipeline = Pipeline(first, Settings())
        pipeline.submit(shot(pixels(screen(text_lines(8)))), [EDITOR], T0)
        assert pipeline.queue_depth() == 1
        # The process dies here: nothing processed the job.
    with MemoryStore.open(store_path, key, embedder) as second:
        pipeline = Pipeline(second, Settings())
        assert pipeline.queue_depth() == 1
        assert [p.kind for p in pipeline.drain()] == ["frame"]
        assert "number 49 jumps" in second.list([MemoryType.RESOURCE])[0].body
    # The job left the queue in the transaction that stored its results: a third
    # run finds nothing to do again, and nothing was stored twice.
    with MemoryStore.open(store_path, key, embedder) as third:
        pipeline = Pipeline(third, Settings())
        assert pipeline.queue_depth() == 0 and pipeline.drain() == []
        assert query(third, "SELECT ocr_state FROM frames") == [("done",)]
        assert len(third.list([MemoryType.RESOURCE])) == 1


def test_when_ocr_falls_behind_only_keyframes_are_queued(store: MemoryStore) -> None:
    settings = Settings(
        capture=CaptureSettings(keyframe_queue=2, max_queue=4, keyframe_interval_s=30)
    )
    pipeline = Pipeline(store, settings)
    states = []
    for step in range(10):
        image = screen(text_lines(10), footer=f"typing step {step} of the report")
        at = T0 + timedelta(seconds=2 * step)
        states.append(pipeline.submit(shot(pixels(image)), [EDITOR], at).state)
    assert states[:2] == ["queued", "queued"]
    assert "deferred" in states and pipeline.queue_depth() <= 4
    # A switch is a keyframe: it goes through, diffed against the last frame sent.
    other = WindowInfo("firefox", "Docs - Mozilla Firefox", Rect(0, 0, 1280, 800), True)
    final = screen(text_lines(10), footer="typing step 9 of the report, done")
    assert pipeline.submit(shot(pixels(final)), [other], T0 + timedelta(seconds=21)).state == (
        "queued"
    )
    pipeline.drain()
    assert "step 9 of the report" in all_text(store)
    # OCR caught up: a change that is no keyframe (same window, a second later) goes
    # through again, and capture is no longer degraded.
    again = screen(text_lines(10), footer="typing step 10 of the report, done")
    result = pipeline.submit(shot(pixels(again)), [other], T0 + timedelta(seconds=22))
    assert result.state == "queued" and pipeline.submitter.degraded is False


class _BrokenEngine:
    name = "broken"

    def recognize(self, image: object) -> list[OcrLine]:
        raise OcrFailed("tesseract crashed (signal 11)")


@pytest.mark.expected_log("mirix.pipeline.processor", "WARNING", r"OCR failed: tesseract crashed")
def test_a_frame_ocr_keeps_failing_on_is_given_up_and_reported(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings(), engine_factory=_BrokenEngine)
    pipeline.submit(shot(pixels(screen(text_lines(5)))), [EDITOR], T0)
    results = pipeline.drain()
    assert len(results) == 3 and all(r.error for r in results)
    assert "crashed" in (pipeline.processor.last_error or "")
    assert pipeline.failed_jobs() == 1
    assert query(store, "SELECT ocr_state FROM frames") == [("failed",)]
    [(payload, attempts, failed, error)] = query(
        store, "SELECT length(payload), attempts, failed, last_error FROM capture_jobs"
    )
    assert payload == 0, "a given-up job must not keep the screen's pixels"
    assert (attempts, failed) == (3, 1) and "tesseract crashed" in error


def test_a_missing_tesseract_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(OcrUnavailable, match="tesseract"):
        PytesseractEngine()
