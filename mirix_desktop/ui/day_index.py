"""A loaded day made fast to ask: frame times, lanes and blocks as sorted arrays.

The timeline window asks the same few things of a day thousands of times
while someone scrubs: the frame nearest a time, the next or previous one
(of one app, when the lanes are filtered), the blocks and frames inside the
visible range. `DayIndex.build` turns app/timeline.py's `TimelineDay` into
numpy arrays once, on the worker that loaded the day, so each of those
questions is a binary search and a paint never walks 100,000 Python objects.
No Qt here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from mirix_desktop.app.timeline import NO_APP, OTHER, Block, FrameStamp, Gap, TimelineDay

Int64s = npt.NDArray[np.int64]
Int32s = npt.NDArray[np.int32]


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class LaneBlocks:
    """One lane's episode blocks, sorted by start, with what a range lookup needs."""

    blocks: list[Block]
    starts: Int64s
    ends: Int64s
    # The latest end so far: sorted even where blocks overlap, so bisectable.
    reach: Int64s
    app_codes: Int32s  # index into DayIndex.apps, for the colour of each block

    def visible(self, start_ms: float, end_ms: float) -> range:
        """Indices of the blocks that overlap [start_ms, end_ms)."""
        first = int(np.searchsorted(self.reach, start_ms, side="right"))
        last = int(np.searchsorted(self.starts, end_ms, side="left"))
        return range(first, max(first, last))


@dataclass(frozen=True)
class DayIndex:
    """`day` plus sorted arrays over its frames and blocks (see the module docstring)."""

    day: TimelineDay
    start_ms: int
    end_ms: int
    lanes: list[str]  # what the axis draws, top to bottom
    apps: list[str]  # every app name seen; codes below index into it
    times: Int64s  # frame times, ms, sorted
    ids: Int64s  # frame ids, same order
    frame_apps: Int32s  # app code of each frame
    frame_lanes: Int32s  # lane of each frame
    lane_blocks: list[LaneBlocks]
    gaps: list[Gap]
    gap_starts: Int64s
    gap_ends: Int64s
    _id_order: Int64s = field(repr=False)  # argsort of ids, for frame id -> index

    # -- building (on a worker) ---------------------------------------------------------------
    @classmethod
    def build(cls, day: TimelineDay) -> DayIndex:
        times, ids, frame_app_names = _frame_arrays(day.frames)
        apps: list[str] = []
        codes: dict[str, int] = {}

        def code(app: str | None) -> int:
            name = app or NO_APP
            found = codes.get(name)
            if found is None:
                found = codes[name] = len(apps)
                apps.append(name)
            return found

        frame_apps = np.fromiter((code(a) for a in frame_app_names), np.int32, len(times))
        block_codes = [code(block.app) for block in day.blocks]

        lanes = [lane for lane in day.lanes if lane]
        lane_of_app = {app: n for n, app in enumerate(lanes)}
        # Apps outside the busiest go to "other", which exists whenever one does.
        needs_other = any(a not in lane_of_app for a in apps if a != OTHER) and OTHER not in lanes
        if needs_other and (len(times) or day.blocks):
            lanes.append(OTHER)
            lane_of_app[OTHER] = len(lanes) - 1
        other_lane = lane_of_app.get(OTHER, max(len(lanes) - 1, 0))
        lane_of_code = np.array(
            [lane_of_app.get(app, other_lane) for app in apps] or [0], dtype=np.int32
        )
        frame_lanes = lane_of_code[frame_apps] if len(times) else np.zeros(0, np.int32)

        per_lane: list[list[tuple[Block, int]]] = [[] for _ in lanes]
        for block, block_code in zip(day.blocks, block_codes, strict=True):
            if lanes:
                per_lane[int(lane_of_code[block_code])].append((block, block_code))
        lane_blocks = [_lane_blocks(items) for items in per_lane]

        gaps = sorted(day.gaps, key=lambda gap: gap.start)
        return cls(
            day=day,
            start_ms=ms(day.start),
            end_ms=ms(day.end),
            lanes=lanes,
            apps=apps,
            times=times,
            ids=ids,
            frame_apps=frame_apps,
            frame_lanes=frame_lanes.astype(np.int32),
            lane_blocks=lane_blocks,
            gaps=gaps,
            gap_starts=np.array([ms(g.start) for g in gaps], dtype=np.int64),
            gap_ends=np.array([ms(g.end) for g in gaps], dtype=np.int64),
            _id_order=np.argsort(ids, kind="stable").astype(np.int64),
        )

    # -- frames -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.times)

    def app_code(self, app: str | None) -> int | None:
        try:
            return self.apps.index(app or NO_APP)
        except ValueError:
            return None

    def _candidates(self, app: str | None) -> Int64s | None:
        """Frame indices of `app` (None: every frame, returned as None for speed)."""
        if app is None:
            return None
        code = self.app_code(app)
        if code is None:
            return np.zeros(0, np.int64)
        return np.flatnonzero(self.frame_apps == code).astype(np.int64)

    def nearest(self, at_ms: float, app: str | None = None) -> int | None:
        """Index of the frame closest in time to `at_ms` (of `app` if given)."""
        subset = self._candidates(app)
        times = self.times if subset is None else self.times[subset]
        if not len(times):
            return None
        pos = int(np.searchsorted(times, at_ms))
        if pos >= len(times):
            pos = len(times) - 1
        elif pos > 0 and at_ms - times[pos - 1] <= times[pos] - at_ms:
            pos -= 1
        return pos if subset is None else int(subset[pos])

    def step(self, index: int, delta: int, app: str | None = None) -> int | None:
        """The frame `delta` frames after (before, if negative) `index`, clamped to the day."""
        subset = self._candidates(app)
        if subset is None:
            if not len(self.times):
                return None
            return min(max(index + delta, 0), len(self.times) - 1)
        if not len(subset):
            return None
        # Where `index` sits among the app's frames (it may be another app's frame).
        pos = int(np.searchsorted(subset, index))
        on_frame = pos < len(subset) and subset[pos] == index
        # Off the app's frames, `pos` is already the next one: one step forward lands on it.
        target = pos + delta - (1 if delta > 0 and not on_frame else 0)
        return int(subset[min(max(target, 0), len(subset) - 1)])

    def first(self, app: str | None = None) -> int | None:
        subset = self._candidates(app)
        if subset is None:
            return 0 if len(self.times) else None
        return int(subset[0]) if len(subset) else None

    def last(self, app: str | None = None) -> int | None:
        subset = self._candidates(app)
        if subset is None:
            return len(self.times) - 1 if len(self.times) else None
        return int(subset[-1]) if len(subset) else None

    def index_of(self, frame_id: int) -> int | None:
        pos = int(np.searchsorted(self.ids, frame_id, sorter=self._id_order))
        if pos < len(self.ids) and self.ids[self._id_order[pos]] == frame_id:
            return int(self._id_order[pos])
        return None

    def stamp(self, index: int) -> FrameStamp:
        frames = self.day.frames
        return frames[index]

    def time_ms(self, index: int) -> int:
        return int(self.times[index])

    def contains(self, at_ms: float) -> bool:
        return self.start_ms <= at_ms < self.end_ms

    # -- what is at a time --------------------------------------------------------------------
    def block_at(self, lane: int, at_ms: float) -> Block | None:
        if not 0 <= lane < len(self.lane_blocks):
            return None
        blocks = self.lane_blocks[lane]
        for n in blocks.visible(at_ms, at_ms + 1):
            if blocks.starts[n] <= at_ms < max(blocks.ends[n], blocks.starts[n] + 1):
                return blocks.blocks[n]
        return None

    def gap_at(self, at_ms: float) -> Gap | None:
        pos = int(np.searchsorted(self.gap_starts, at_ms, side="right")) - 1
        # Gaps do not overlap one another, but look back a little in case they do.
        for n in range(pos, max(pos - 3, -1), -1):
            if self.gap_starts[n] <= at_ms < self.gap_ends[n]:
                return self.gaps[n]
        return None

    def main_gap_reason(self) -> str | None:
        """The reason capture was off for longest this day, if any was recorded."""
        if not self.gaps:
            return None
        lengths: dict[str, int] = {}
        for gap, start, end in zip(self.gaps, self.gap_starts, self.gap_ends, strict=True):
            lengths[gap.reason] = lengths.get(gap.reason, 0) + int(end - start)
        return max(lengths, key=lambda reason: lengths[reason])


def _frame_arrays(frames: Sequence[FrameStamp]) -> tuple[Int64s, Int64s, list[str | None]]:
    """Times, ids and app names of the frames (sorted by time, as the data layer gives them),
    taken from arrays it may already hold."""
    count = len(frames)
    # app/timeline.py's DayFrames keeps them as parallel tuples.
    given_times = getattr(frames, "at_ms", None)
    given_ids = getattr(frames, "ids", None)
    given_apps = getattr(frames, "apps", None)
    packed = getattr(frames, "times_ms", None)  # an array('q'): read in place
    if packed is not None and given_ids is not None:
        times = np.frombuffer(packed, dtype=np.int64)
        ids = np.asarray(given_ids, dtype=np.int64)
    elif given_times is not None and given_ids is not None:
        times = np.asarray(given_times, dtype=np.int64)
        ids = np.asarray(given_ids, dtype=np.int64)
    else:
        times = np.fromiter((ms(f.at) for f in frames), np.int64, count)
        ids = np.fromiter((f.frame_id for f in frames), np.int64, count)
    apps = list(given_apps) if given_apps is not None else [f.app for f in frames]
    return times, ids, apps


def _lane_blocks(items: list[tuple[Block, int]]) -> LaneBlocks:
    items = sorted(items, key=lambda item: item[0].start)
    starts = np.array([ms(block.start) for block, _ in items], dtype=np.int64)
    ends = np.array([ms(block.end) for block, _ in items], dtype=np.int64)
    return LaneBlocks(
        blocks=[block for block, _ in items],
        starts=starts,
        ends=ends,
        reach=np.maximum.accumulate(ends) if len(ends) else ends,
        app_codes=np.array([c for _, c in items], dtype=np.int32),
    )
