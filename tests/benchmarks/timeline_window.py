"""The timeline window at scale: opening a day, selecting a moment, repainting while scrubbing.

On the generated store of tests/benchmarks/timeline_store.py (30 days at 2 s
capture, ~20,000 frames and ~400 episodes a day, with thumbnails and OCR
lines), the real `TimelineWindow` on Qt's offscreen platform:

- open a day: `show_day` until its data is shown and the axis has painted
  (the worker's load + DayIndex + the window's first paint of the lanes);
  every day once (a day not opened before in this process), then again;
  goal p95 ≤ 250 ms;
- select another moment: `select_index` of a random frame until its moment
  is shown and the picture with its text boxes is drawn; goal p95 ≤ 50 ms;
- a repaint while scrubbing: the axis drawn with the selection moved (the
  nearest-frame lookup included), at the whole day and zoomed to 10 minutes;
  goal ≤ 16 ms;
- and a synthetic 100,000-frame day (no store): building its index, its
  first paint and a scrubbing repaint, to show the axis does not grow with
  the frames.

    .venv/bin/python -m tests.benchmarks.timeline_window [--days 30] [--moments 200]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from array import array
from collections.abc import Callable
from datetime import date, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from mirix_desktop.app.timeline import Block, DayFrames, TimelineDay, day_bounds
from mirix_desktop.config import Settings
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.ui.day_index import DayIndex
from mirix_desktop.ui.qt import QtCore, QtGui, QtWidgets
from mirix_desktop.ui.timeline_axis import MIN_SPAN_MS, TimelineAxis
from mirix_desktop.ui.timeline_window import TimelineWindow
from tests.benchmarks.common import describe_ms, percentile
from tests.benchmarks.timeline_store import open_bench_store


class _Services:
    def __init__(self, store: MemoryStore) -> None:
        self.settings = Settings()
        self.paths = resolve_paths(store.path.parent)
        self._store = store

    def store(self) -> MemoryStore:
        return self._store


def _wait(app: QtWidgets.QApplication, done: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.perf_counter() + timeout_s
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)


def _verdict(values: list[float], goal_ms: float, q: float = 95) -> str:
    return "OK" if percentile(values, q) * 1000 <= goal_ms else "OVER"


def open_days(app: QtWidgets.QApplication, window: TimelineWindow, days: list[date]) -> list[float]:
    times: list[float] = []
    for day in days:
        painted = window.axis.layer_builds
        started = time.perf_counter()
        window.show_day(day)
        _wait(app, lambda day=day: window.day == day and window.index is not None)
        # The first paint: the window's own update(), delivered by the event loop.
        _wait(app, lambda painted=painted: window.axis.layer_builds > painted)
        times.append(time.perf_counter() - started)
    return times


def select_moments(
    app: QtWidgets.QApplication, window: TimelineWindow, count: int, rng: random.Random
) -> list[float]:
    index = window.index
    assert index is not None
    view = window.moment_view.view
    target = QtGui.QImage(view.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    times: list[float] = []
    for _ in range(count):
        chosen = rng.randrange(len(index))
        frame_id = int(index.ids[chosen])
        started = time.perf_counter()
        window.select_index(chosen)
        _wait(
            app,
            lambda frame_id=frame_id: (
                window.moment_view.shown is not None
                and window.moment_view.shown.moment.frame_id == frame_id
            ),
        )
        painter = QtGui.QPainter(target)
        view.render(painter)  # the picture and its text boxes, drawn
        painter.end()
        times.append(time.perf_counter() - started)
    return times


def scrub_repaints(
    axis: TimelineAxis, steps: int, on_scrub: Callable[[float], None]
) -> list[float]:
    target = QtGui.QImage(axis.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    axis.render(target)  # the layer, built once for this view
    times: list[float] = []
    for n in range(steps):
        x = axis.plot_rect().left() + (n * 7) % axis.plot_rect().width()
        started = time.perf_counter()
        on_scrub(axis.time_at(x))
        axis.render(target)
        times.append(time.perf_counter() - started)
    return times


def synthetic_day(frames: int) -> TimelineDay:
    """A day of `frames` frames (one every 0.86 s at 100k) and an episode per 50 frames."""
    day = (QtCore.QDate.currentDate().addDays(-1)).toPython()
    start, end = day_bounds(day)
    start_ms, step = to_ms(start), (to_ms(end) - to_ms(start)) // frames
    apps = [f"app{n}" for n in range(12)]
    at_ms = tuple(start_ms + n * step for n in range(frames))
    app_of = tuple(apps[(n // 50) % len(apps)] for n in range(frames))
    blocks = [
        Block(
            start + timedelta(milliseconds=n * step),
            start + timedelta(milliseconds=(n + 50) * step),
            app_of[n],
            f"title {n}",
            None,
        )
        for n in range(0, frames, 50)
    ]
    day_frames = DayFrames(tuple(range(1, frames + 1)), at_ms, app_of, tuple("t" for _ in at_ms))
    assert isinstance(day_frames.times_ms, array)
    return TimelineDay(day, start, end, [*apps[:8], "other"], blocks, [], [], day_frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--moments", type=int, default=200)
    parser.add_argument("--scrubs", type=int, default=300)
    args = parser.parse_args()

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["timeline-bench"])
    assert isinstance(app, QtWidgets.QApplication)
    store, days = open_bench_store(args.days)
    rng = random.Random(14)
    window = TimelineWindow(_Services(store), today=lambda: days[-1])
    window.resize(1600, 1000)
    window.show()
    _wait(app, lambda: window.moment_view.shown is not None)
    print(f"store: {args.days} days; window {window.width()}x{window.height()} (offscreen)")

    first = open_days(app, window, days)
    print(f"open a day, first time in this process : {describe_ms(first)}  "
          f"max {max(first) * 1000:.1f} ms  [{_verdict(first, 250)} vs p95 250 ms]")  # fmt: skip
    again = open_days(app, window, rng.sample(days, min(len(days), 15)))
    print(f"open a day, again                      : {describe_ms(again)}  "
          f"[{_verdict(again, 250)} vs p95 250 ms]")  # fmt: skip
    frames = len(window.index) if window.index is not None else 0
    print(f"  (the last day shown has {frames} frames)")

    moments = select_moments(app, window, args.moments, rng)
    print(f"select another moment (shown + drawn)  : {describe_ms(moments)}  "
          f"[{_verdict(moments, 50)} vs p95 50 ms]")  # fmt: skip

    axis = window.axis
    axis.set_view(window.index.start_ms, window.index.end_ms)  # type: ignore[union-attr]
    whole = scrub_repaints(axis, args.scrubs, window._on_scrubbed)
    print(f"scrub repaint, whole day               : {describe_ms(whole)}  "
          f"max {max(whole) * 1000:.1f} ms [{_verdict(whole, 16, 100)} vs 16 ms]")  # fmt: skip
    middle = window.index.time_ms(len(window.index) // 2)  # type: ignore[union-attr]
    axis.set_view(middle - MIN_SPAN_MS / 2, middle + MIN_SPAN_MS / 2)
    zoomed = scrub_repaints(axis, args.scrubs, window._on_scrubbed)
    print(f"scrub repaint, 10 minutes              : {describe_ms(zoomed)}  "
          f"max {max(zoomed) * 1000:.1f} ms [{_verdict(zoomed, 16, 100)} vs 16 ms]")  # fmt: skip
    window.shutdown()

    huge = synthetic_day(100_000)
    started = time.perf_counter()
    index = DayIndex.build(huge)
    built = time.perf_counter() - started
    big_axis = TimelineAxis()
    big_axis.resize(1400, 400)
    big_axis.set_day(index)
    target = QtGui.QImage(big_axis.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    started = time.perf_counter()
    big_axis.render(target)
    painted = time.perf_counter() - started
    huge_scrub = scrub_repaints(big_axis, args.scrubs, big_axis.set_selected)
    print(f"100,000-frame day: index {built * 1000:.1f} ms, first paint {painted * 1000:.1f} ms, "
          f"scrub repaint {describe_ms(huge_scrub)}")  # fmt: skip
    store.close()


if __name__ == "__main__":
    main()
