"""Replay benchmark: the capture pipeline against full-frame OCR of every changed frame.

    python -m tests.benchmarks.capture_replay [--count 320] [--no-baseline] [--keep DIR]
        [--no-caret] [--no-reading]

Frames come from `replay_frames` (1920x1080, real stdlib source, pydoc text
and terminal sessions, with scrolling, typing, switches and idle stretches;
the caret blinks and the user reads what appears at a human pace, unless
`--no-caret` / `--no-reading` replay the earlier, hyperactive session).
(a) the pipeline: privacy, tile change detection, scroll moves, OCR of
    changed regions, redaction, frame rows with thumbnails, resources,
    episodes, embeddings and the encrypted store: all of it is timed;
(b) the baseline MIRIX and OpenRecall use: OCR of the whole frame whenever it
    differs from the previous one (same engine, tesseract's default settings;
    the pipeline's reader hands tesseract dark-on-white pages and so turns
    off its inverted retry of each line), OCR time only.
CPU is process time (threads included) plus child processes. Word recall:
for each frame, the share of the baseline's words (a multiset of lowercased
alphanumeric tokens) also in the pipeline's text of that frame. Tesseract
reads the same pixels differently in a different crop, so part of that gap
is the baseline's own misreads; the renderer's ground truth (every string
drawn on the frame) tells them apart, and recall of the baseline's words
that are really on screen is reported too, with each reader's recall of
the truth. And the ceiling: every 5th of the baseline's frames is read
again cropped one pixel differently, and compared with the baseline the
same way.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np

from mirix_desktop.capture.changes import pixels_from_image
from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.ocr.engine import TesserocrEngine
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.benchmarks.common import embedder, open_store, temp_dir
from tests.benchmarks.replay_frames import ReplayFrame, replay_frames

_TOKEN = re.compile(r"[0-9a-z]{2,}")
# Every this many of the baseline's reads is read again, cropped differently.
SELF_CHECK_EVERY = 5


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def words(lines: list[str]) -> Counter[str]:
    return Counter(_TOKEN.findall("\n".join(lines).lower()))


def windows_of(frame: ReplayFrame) -> list[WindowInfo]:
    return [
        WindowInfo(app=w.app, title=w.title, rect=Rect(*w.rect), active=w.active, url=w.url)
        for w in frame.windows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=320)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--keep", type=Path, help="Keep the store in this directory.")
    parser.add_argument("--no-caret", action="store_true", help="Carets do not blink.")
    parser.add_argument("--no-reading", action="store_true", help="No pauses to read.")
    args = parser.parse_args()

    frames = list(replay_frames(args.count, caret=not args.no_caret, reading=not args.no_reading))
    pixels = [pixels_from_image(f.image) for f in frames]
    events = Counter(f.event for f in frames)
    print(f"{len(frames)} frames 1920x1080: {dict(events)}")

    directory = args.keep or temp_dir("mirix-replay-")
    directory.mkdir(parents=True, exist_ok=True)
    model = embedder()
    store = open_store(directory / "mirix.db", model)
    pipeline = Pipeline(store, Settings())
    pipeline_text: list[list[str]] = []
    current: list[str] = []
    regions = cached = queued = 0
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    for frame, frame_pixels in zip(frames, pixels, strict=True):
        shot = MonitorShot(1, Rect(0, 0, 1920, 1080), frame_pixels)
        result = pipeline.submit(shot, windows_of(frame), frame.at)
        if result.state == "queued":
            queued += 1
        for processed in pipeline.drain():
            if processed.kind == "frame":
                current = [line.text for line in processed.lines]
                regions += processed.ocr_regions
                cached += processed.reused_pieces
        pipeline_text.append(current)
    pipeline.processor.flush(frames[-1].at)
    pipeline_cpu = cpu_seconds() - start_cpu
    pipeline_wall = time.perf_counter() - start_wall
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    memories = store.count()
    frame_rows = store.conn.execute("SELECT count(*) FROM frames").fetchone()[0]
    thumbs = store.conn.execute("SELECT sum(length(thumbnail)) FROM frames").fetchone()[0] or 0
    store.close()
    size = sum(p.stat().st_size for p in directory.iterdir() if p.name.startswith("mirix.db"))
    per_100 = 100 * pipeline_cpu / len(frames)
    print(
        f"pipeline: {pipeline_cpu:.1f} CPU-s ({per_100:.2f} CPU-s per 100 frames), "
        f"{pipeline_wall:.1f} s wall; {queued} frames queued, {regions} OCR calls, "
        f"{cached} pieces of line remembered, not read; {memories} memories"
    )
    print(
        f"disk: {size / 1e6:.2f} MB for {len(frames)} captured frames = "
        f"{size / len(frames) * 1000 / 1e6:.1f} MB per 1000 ({frame_rows} frame rows, "
        f"thumbnails {thumbs / 1e6:.2f} MB)"
    )
    if args.no_baseline:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
        return

    engine = TesserocrEngine()
    baseline_text: list[list[str]] = []
    current = []
    previous: np.ndarray | None = None
    read_frames: list[int] = []  # the frames the baseline read
    base_cpu_start = cpu_seconds()
    for i, (frame, frame_pixels) in enumerate(zip(frames, pixels, strict=True)):
        if previous is None or not np.array_equal(previous, frame_pixels):
            current = [line.text for line in engine.recognize(frame.image.convert("L"))]
            read_frames.append(i)
        previous = frame_pixels
        baseline_text.append(current)
    baseline_cpu = cpu_seconds() - base_cpu_start
    # The ceiling of "recall vs the baseline": the baseline's own reader, on
    # the same frames cropped one pixel differently. Tesseract reads the same
    # pixels differently in a different crop; no other reader can do better.
    ceiling: Counter[str] = Counter()
    for i in read_frames[::SELF_CHECK_EVERY]:
        shifted = frames[i].image.convert("L").crop((1, 1, 1920, 1080))
        again = words([line.text for line in engine.recognize(shifted)])
        base_words = words(baseline_text[i])
        real = base_words & words(list(frames[i].text))
        ceiling["base"] += sum(base_words.values())
        ceiling["found"] += sum((base_words & again).values())
        ceiling["real"] += sum(real.values())
        ceiling["real_found"] += sum((real & again).values())
    totals: Counter[str] = Counter()
    distinct_base: set[str] = set()
    distinct_pipe: set[str] = set()
    for frame, base, ours in zip(frames, baseline_text, pipeline_text, strict=True):
        base_words, our_words, truth = words(base), words(ours), words(list(frame.text))
        real = base_words & truth  # what the baseline read that is really there
        totals["base"] += sum(base_words.values())
        totals["found"] += sum((base_words & our_words).values())
        totals["real"] += sum(real.values())
        totals["real_found"] += sum((real & our_words).values())
        totals["truth"] += sum(truth.values())
        totals["truth_ours"] += sum((truth & our_words).values())
        distinct_base |= set(base_words)
        distinct_pipe |= set(our_words)
    per_100_base = 100 * baseline_cpu / len(frames)
    print(
        f"baseline: {baseline_cpu:.1f} CPU-s ({per_100_base:.2f} CPU-s per 100 frames), "
        f"{len(read_frames)} full-frame OCRs"
    )
    print(f"CPU ratio baseline / pipeline: {baseline_cpu / pipeline_cpu:.1f}x")
    print(
        f"word recall vs baseline: per frame {totals['found'] / totals['base']:.4f} "
        f"({totals['found']}/{totals['base']}); distinct words over the session "
        f"{len(distinct_base & distinct_pipe) / len(distinct_base):.4f}"
    )
    print(
        f"the baseline against itself ({len(read_frames[::SELF_CHECK_EVERY])} of its frames "
        f"re-read cropped 1 px differently): {ceiling['found'] / ceiling['base']:.4f} of its "
        f"words, {ceiling['real_found'] / ceiling['real']:.4f} of those on screen"
    )
    print(
        "recall of the baseline's words that are on screen (ground truth): "
        f"{totals['real_found'] / totals['real']:.4f} ({totals['real_found']}/{totals['real']})"
    )
    print(
        "recall of the ground truth: pipeline "
        f"{totals['truth_ours'] / totals['truth']:.4f}, baseline "
        f"{totals['real'] / totals['truth']:.4f} ({totals['truth']} words on screen)"
    )
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
