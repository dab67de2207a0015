"""The timeline as a person sees it: a day of lanes, blocks, gaps and frames, a moment, matches.

No Qt and no SQL here: `memory/timeline.py` reads the rows, this module
turns them into what the timeline window (`ui/timeline_window.py`), the
quick-query box and `mirix-desktop timeline` show. Times are aware
datetimes in UTC; a day is the person's local midnight to midnight.

A day holds 20k+ frames: they are kept as parallel tuples (`DayFrames`),
not one object each, so opening a day stays within its time budget
(tests/benchmarks/timeline_data.py).
"""

from __future__ import annotations

import bisect
import io
import itertools
import zlib
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol, overload

from mirix_desktop.errors import KnownError, MemoryNotFound
from mirix_desktop.memory import timeline as rows
from mirix_desktop.memory.records import MemoryType, from_ms, now_utc, to_ms
from mirix_desktop.memory.search import STOPWORDS, keyword_terms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.memory.timeline import LineBox

if TYPE_CHECKING:
    from mirix_desktop.config import Settings


class TimelineServices(Protocol):
    """What searching needs of `AppServices` (the windows' tests pass a small stand-in)."""

    settings: Settings

    def store(self) -> MemoryStore: ...


__all__ = [
    "AppTime",
    "Block",
    "DayFrames",
    "FrameStamp",
    "Gap",
    "LineBox",
    "Moment",
    "MomentMissing",
    "MomentRef",
    "TimelineDay",
    "TimelineMatch",
    "TimelineMatches",
    "TimelineServices",
    "app_colour",
    "day_bounds",
    "day_json",
    "frame_near",
    "frame_thumbnails",
    "load_day",
    "load_moment",
    "match_boxes",
    "resolve",
    "search_timeline",
]

MAX_LANES = 8
OTHER = "other"
NO_APP = "unknown"
# Unchanged screens store no frame, and an episode's end can lag the screen
# by its one-minute activity heartbeat: only a longer stretch with no frame,
# no episode and no recorded reason is drawn as "no capture".
NO_CAPTURE_AFTER = timedelta(seconds=60)
# Without episodes, frames of one window closer than this form one block.
RUN_GAP = timedelta(seconds=60)
_FRAME_TAIL = timedelta(seconds=2)
# A search hit's memory can span days (a resource seen all month): its
# frames are looked for in at most this much time around it.
_MATCH_SCAN = timedelta(hours=2)
_SEARCH_LIMIT = 40
_MEANING_ONLY = 10
_SCREEN_TYPES = (MemoryType.EPISODIC, MemoryType.RESOURCE)

GAP_WORDS: dict[str, str] = {
    "paused": "paused",
    "idle": "idle",
    "locked": "screen locked",
    "excluded": "excluded window",
    "not_running": "MIRIX not running",
    "disk_full": "disk almost full",
}
NO_CAPTURE = "no capture"

# Mid-tone colours that read on light and dark backgrounds alike.
_PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#3d9be9", "#d37295", "#8cd17d",
)  # fmt: skip
_GREY = "#8a8f98"


class MomentMissing(KnownError):
    """The frame asked for is not in the store (deleted, forgotten, or never was)."""

    exit_code = 1


# -- records ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MomentRef:
    """A moment to open: a time, and the memory or frame that named it, if any."""

    at: datetime
    memory_id: int | None = None
    frame_id: int | None = None


@dataclass(frozen=True)
class Block:
    start: datetime
    end: datetime
    app: str
    title: str | None
    memory_id: int | None


@dataclass(frozen=True)
class Gap:
    """Capture was off from `start` to `end`; `reason` in plain words (GAP_WORDS, NO_CAPTURE)."""

    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class AppTime:
    app: str
    seconds: float


@dataclass(frozen=True)
class FrameStamp:
    at: datetime
    frame_id: int
    app: str | None
    title: str | None


class DayFrames(Sequence[FrameStamp]):
    """A day's frames by time, as parallel tuples; a `FrameStamp` is built on access.

    `nearest`, `index_of` and `between` answer the window's questions
    (scrubbing, ←/→, the thumbnail strip) by bisection, without a loop over 20k frames.
    """

    __slots__ = ("_index", "_times", "apps", "at_ms", "ids", "titles")

    def __init__(
        self,
        ids: tuple[int, ...] = (),
        at_ms: tuple[int, ...] = (),
        apps: tuple[str | None, ...] = (),
        titles: tuple[str | None, ...] = (),
    ) -> None:
        self.ids = ids
        self.at_ms = at_ms
        self.apps = apps
        self.titles = titles
        self._index: dict[int, int] | None = None
        self._times: array[int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> FrameStamp: ...
    @overload
    def __getitem__(self, index: slice) -> list[FrameStamp]: ...
    def __getitem__(self, index: int | slice) -> FrameStamp | list[FrameStamp]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return FrameStamp(
            from_ms(self.at_ms[index]), self.ids[index], self.apps[index], self.titles[index]
        )

    def __iter__(self) -> Iterator[FrameStamp]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return f"DayFrames({len(self)} frames)"

    @property
    def times_ms(self) -> array[int]:
        """The capture times (ms, sorted) as one array, for vectorised drawing."""
        if self._times is None:
            self._times = array("q", self.at_ms)
        return self._times

    def time_of(self, index: int) -> datetime:
        return from_ms(self.at_ms[index])

    def nearest(self, at: datetime) -> int | None:
        """Index of the frame nearest `at` (None: no frames)."""
        if not self.ids:
            return None
        ms = to_ms(at)
        right = bisect.bisect_left(self.at_ms, ms)
        if right == 0:
            return 0
        if right == len(self.at_ms):
            return right - 1
        return right if self.at_ms[right] - ms < ms - self.at_ms[right - 1] else right - 1

    def index_of(self, frame_id: int) -> int | None:
        """Index of the frame with this id (None: not in this day)."""
        if self._index is None:
            self._index = {id_: i for i, id_ in enumerate(self.ids)}
        return self._index.get(frame_id)

    def between(self, start: datetime, end: datetime) -> range:
        """Indices of the frames captured in [start, end)."""
        low = bisect.bisect_left(self.at_ms, to_ms(start))
        high = bisect.bisect_left(self.at_ms, to_ms(end))
        return range(low, max(low, high))

    def only(self, app: str) -> DayFrames:
        keep = [i for i, a in enumerate(self.apps) if (a or NO_APP) == app]
        return DayFrames(
            tuple(self.ids[i] for i in keep),
            tuple(self.at_ms[i] for i in keep),
            tuple(self.apps[i] for i in keep),
            tuple(self.titles[i] for i in keep),
        )


@dataclass(frozen=True)
class TimelineDay:
    """One local day: `start`/`end` are its local midnights, as UTC datetimes."""

    day: date
    start: datetime
    end: datetime
    lanes: list[str]
    blocks: list[Block]
    gaps: list[Gap]
    apps: list[AppTime]
    frames: DayFrames = field(default_factory=DayFrames)
    app: str | None = None  # the app the day was filtered to

    @property
    def empty(self) -> bool:
        """Nothing was captured that day."""
        return not self.frames and not self.blocks

    def lane_of(self, app: str | None) -> str:
        """The lane an app's blocks go in: its own, or "other"."""
        name = app or NO_APP
        return name if name in self.lanes else OTHER


@dataclass(frozen=True)
class Moment:
    frame_id: int
    at: datetime
    app: str | None
    title: str | None
    url: str | None
    width: int
    height: int
    thumbnail: bytes | None
    lines: list[LineBox]
    problem: str | None  # in plain words: "no picture was kept of this moment", ...


@dataclass(frozen=True)
class TimelineMatch:
    at: datetime
    frame_id: int | None
    memory_id: int
    words: list[str]
    title: str | None


class TimelineMatches(list[TimelineMatch]):
    """Matches by time; `reason` says in plain words why there are none."""

    def __init__(self, matches: Sequence[TimelineMatch] = (), reason: str | None = None) -> None:
        super().__init__(matches)
        self.reason = reason


# -- colours -----------------------------------------------------------------------------------
def app_colour(app: str | None) -> str:
    """A stable "#rrggbb" for an app (the same in every run, theme and window)."""
    if not app or app in (OTHER, NO_APP):
        return _GREY
    # crc32, not hash(): str hashes change with every process.
    return _PALETTE[zlib.crc32(app.strip().lower().encode()) % len(_PALETTE)]


# -- a day ----------------------------------------------------------------------------------------
def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local midnights starting and ending `day`, as UTC datetimes (DST-aware)."""
    start = datetime.combine(day, time.min).astimezone()
    end = datetime.combine(day + timedelta(days=1), time.min).astimezone()
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day(at: datetime) -> date:
    return at.astimezone().date()


def load_day(
    store: MemoryStore, day: date, app: str | None = None, *, now: datetime | None = None
) -> TimelineDay:
    """The day's lanes, blocks, gaps, time per app and frames; `app` keeps one app's."""
    start, end = day_bounds(day)
    start_ms, end_ms = to_ms(start), to_ms(end)
    with store.read() as conn:
        columns = rows.frame_columns(conn, start_ms, end_ms)
        episodes = rows.episodes_between(conn, start_ms, end_ms)
        per_app = rows.time_per_app(conn, start_ms, end_ms)
        offs = rows.off_between(conn, start_ms, end_ms)
    frames = DayFrames(columns.ids, columns.at_ms, columns.apps, columns.titles)
    apps = [AppTime(name or NO_APP, seconds) for name, seconds in per_app]
    if episodes:
        blocks = [
            Block(
                max(from_ms(e.start_ms), start),
                min(from_ms(e.end_ms), end),
                e.app or NO_APP,
                e.title,
                e.memory_id,
            )
            for e in episodes
        ]
        # The episode going on now is written only when it ends (minutes
        # later): until then its frames stand in for it, in the lanes and
        # in the time per app.
        last_end = max(e.end_ms for e in episodes)
        first = bisect.bisect_right(frames.at_ms, last_end)
        ongoing = _frame_runs(
            DayFrames(
                frames.ids[first:], frames.at_ms[first:], frames.apps[first:], frames.titles[first:]
            )
        )
        blocks += ongoing
        apps = _with_runs(apps, ongoing)
    else:
        blocks = _frame_runs(frames)
    limit = min(end, now or now_utc())
    gaps = _gaps(start, limit, frames, blocks, offs) if (frames or blocks or offs) else []
    lanes = [a.app for a in apps[:MAX_LANES]]
    if len(apps) > MAX_LANES:
        lanes.append(OTHER)
    if app is not None:
        lanes = [app]
        blocks = [b for b in blocks if b.app == app]
        frames = frames.only(app)
    return TimelineDay(day, start, end, lanes, blocks, gaps, apps, frames, app)


def _with_runs(apps: list[AppTime], runs: Sequence[Block]) -> list[AppTime]:
    """Time per app with the runs' time added, busiest first."""
    if not runs:
        return apps
    seconds = {a.app: a.seconds for a in apps}
    for run in runs:
        seconds[run.app] = seconds.get(run.app, 0.0) + (run.end - run.start).total_seconds()
    return [AppTime(name, total) for name, total in sorted(seconds.items(), key=lambda kv: -kv[1])]


def _frame_runs(frames: DayFrames) -> list[Block]:
    """Blocks from runs of frames of one window (a day whose episodes are not written yet)."""
    blocks: list[Block] = []
    gap_ms = int(RUN_GAP.total_seconds() * 1000)
    run_start = 0
    for i in range(1, len(frames) + 1):
        if (
            i < len(frames)
            and frames.apps[i] == frames.apps[run_start]
            and frames.titles[i] == frames.titles[run_start]
            and frames.at_ms[i] - frames.at_ms[i - 1] <= gap_ms
        ):
            continue
        blocks.append(
            Block(
                frames.time_of(run_start),
                frames.time_of(i - 1) + _FRAME_TAIL,
                frames.apps[run_start] or NO_APP,
                frames.titles[run_start],
                None,
            )
        )
        run_start = i
    return blocks


def _gaps(
    start: datetime,
    limit: datetime,
    frames: DayFrames,
    blocks: Sequence[Block],
    offs: Sequence[rows.OffRow],
) -> list[Gap]:
    """Recorded reasons, clipped to [start, limit), and the unexplained stretches."""
    start_ms, limit_ms = to_ms(start), to_ms(limit)
    if limit_ms <= start_ms:
        return []
    recorded: list[tuple[int, int, str]] = []
    for off in offs:
        a = max(off.start_ms, start_ms)
        b = min(off.end_ms if off.end_ms is not None else limit_ms, limit_ms)
        if b > a:
            recorded.append((a, b, GAP_WORDS.get(off.reason, off.reason)))
    min_ms = int(NO_CAPTURE_AFTER.total_seconds() * 1000)
    # What is known: runs of frames (no two further apart than min_ms),
    # episodes and the recorded reasons.
    times = frames.at_ms
    runs: list[tuple[int, int]] = []
    if times:
        breaks = [i for i, (a, b) in enumerate(itertools.pairwise(times), 1) if b - a > min_ms]
        bounds = [0, *breaks, len(times)]
        runs = [(times[a], times[b - 1]) for a, b in itertools.pairwise(bounds)]
    known = sorted(
        runs + [(to_ms(b.start), to_ms(b.end)) for b in blocks] + [(a, b) for a, b, _ in recorded]
    )
    unexplained: list[tuple[int, int, str]] = []
    reach = start_ms
    for a, b in known:
        if a - reach > min_ms:
            unexplained.append((reach, a, NO_CAPTURE))
        reach = max(reach, b)
    # The stretch after the last thing known and before `limit` is left out:
    # on the current day it is capture that has not been written yet.
    found = sorted(recorded + unexplained)
    merged: list[tuple[int, int, str]] = []
    for a, b, reason in found:
        if merged and merged[-1][2] == reason and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b), reason)
        else:
            merged.append((a, b, reason))
    return [Gap(from_ms(a), from_ms(b), reason) for a, b, reason in merged]


def day_json(day: TimelineDay) -> dict[str, Any]:
    """The documented JSON form of a day ("timeline --json")."""
    return {
        "date": day.day.isoformat(),
        "start": day.start.isoformat(),
        "end": day.end.isoformat(),
        "app": day.app,
        "frames": len(day.frames),
        "lanes": list(day.lanes),
        "episodes": [
            {
                "start": b.start.isoformat(),
                "end": b.end.isoformat(),
                "app": b.app,
                "title": b.title,
                "memory_id": b.memory_id,
            }
            for b in day.blocks
        ],
        "gaps": [
            {"start": g.start.isoformat(), "end": g.end.isoformat(), "reason": g.reason}
            for g in day.gaps
        ],
        "apps": [{"app": a.app, "seconds": round(a.seconds, 1)} for a in day.apps],
    }


# -- a moment -------------------------------------------------------------------------------------
def load_moment(store: MemoryStore, frame_id: int) -> Moment:
    """A frame with its thumbnail and text boxes; `problem` says what is missing.

    Raises MomentMissing when the frame row itself is gone.
    """
    with store.read() as conn:
        detail = rows.frame_detail(conn, frame_id)
        lines = rows.frame_lines(conn, frame_id) if detail is not None else []
    if detail is None:
        raise MomentMissing(
            f"The moment (frame {frame_id}) is no longer in the store: it was deleted or forgotten."
        )
    problems: list[str] = []
    thumbnail = detail.thumbnail
    if thumbnail is None:
        problems.append("no picture was kept of this moment")
    elif not _readable_picture(thumbnail):
        problems.append("the picture of this moment cannot be read (damaged)")
        thumbnail = None
    if not lines:
        if detail.ocr_state == "queued":
            problems.append("its text has not been read yet")
        elif detail.ocr_state == "failed":
            problems.append("its text could not be read")
    return Moment(
        frame_id=detail.id,
        at=from_ms(detail.at_ms),
        app=detail.app,
        title=detail.title,
        url=detail.url,
        width=detail.width,
        height=detail.height,
        thumbnail=thumbnail,
        lines=lines,
        problem="; ".join(problems) or None,
    )


def _readable_picture(data: bytes) -> bool:
    """The thumbnail decodes whole (a truncated or garbled JPEG does not)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return False
    return True


def frame_thumbnails(store: MemoryStore, frame_ids: Sequence[int]) -> dict[int, bytes | None]:
    """The stored thumbnails (JPEG) of several frames; ids of frames gone are left out.
    Not checked for damage (the strip shows a blank for one that fails to decode)."""
    with store.read() as conn:
        return rows.frame_thumbnails(conn, frame_ids)


def frame_near(store: MemoryStore, at: datetime) -> int | None:
    """The frame captured nearest `at` (None: the store has no frames)."""
    with store.read() as conn:
        return rows.frame_near(conn, to_ms(at), 0, 2**62)


def resolve(store: MemoryStore, ref: MomentRef) -> tuple[date, int | None]:
    """The day to show and the frame to select for a moment a citation or result names.

    The frame named, if it still exists; else the frame of the memory's span
    nearest the time (its start when the time is outside it); else the frame
    of that day nearest the time.
    """
    with store.read() as conn:
        if ref.frame_id is not None:
            detail = rows.frame_detail(conn, ref.frame_id)
            if detail is not None:
                return local_day(from_ms(detail.at_ms)), detail.id
    target = ref.at
    if ref.memory_id is not None:
        try:
            record = store.get(ref.memory_id)
        except MemoryNotFound:
            record = None
        if record is not None:
            first, last = record.time, record.end_time or record.time
            # A time outside the memory's span (a caller that knew only the
            # memory passes "now") means its start.
            if not first <= target <= last:
                target = first
            with store.read() as conn:
                found = rows.frame_near(conn, to_ms(target), to_ms(first), to_ms(last) + 1)
            if found is not None:
                return local_day(target), found
    start, end = day_bounds(local_day(target))
    with store.read() as conn:
        return local_day(target), rows.frame_near(conn, to_ms(target), to_ms(start), to_ms(end))


# -- search ------------------------------------------------------------------------------------
def query_problem(query: str) -> str | None:
    """Why `query` can find nothing before searching (None: it has words to look for)."""
    if keyword_terms(query):
        return None
    words = [w for w in query.lower().split() if w.strip('"*()^:+-')]
    if words and all(w.strip("\"'*()^:+-.,?!") in STOPWORDS for w in words):
        return "only common words (like “the” or “and”): add a word that says what you look for"
    return "nothing to search for: type a word that was on the screen"


def search_timeline(services: TimelineServices, query: str, day: date | None) -> TimelineMatches:
    """Hybrid search over the screen's memories of `day` (None: all days), each hit
    mapped to the frame of its span nearest its time whose lines hold the words.

    Never raises for what a person types (FTS5 syntax, stop words only): the
    result is empty with a `reason`. Matches come in time order.
    """
    problem = query_problem(query)
    if problem is not None:
        return TimelineMatches([], problem)
    from mirix_desktop.app.records import search_memories

    store = services.store()
    since, until = day_bounds(day) if day is not None else (None, None)
    result = search_memories(
        store,
        services.settings,
        query,
        types=_SCREEN_TYPES,
        since=since,
        until=until - timedelta(milliseconds=1) if until is not None else None,
        limit=_SEARCH_LIMIT,
    )
    words = keyword_terms(result.text)
    stems = [_stem(w) for w in words]
    worded: list[TimelineMatch] = []  # the words are in the memory or its frames
    meant: list[TimelineMatch] = []  # found by meaning alone (the vector pass)
    seen: set[int] = set()
    for hit in result.hits:
        first, last = hit.time, hit.end_time or hit.time
        if since is not None and until is not None:
            first, last = max(first, since), min(last, until)
            if last < first:
                continue
        target = first if hit.type is MemoryType.EPISODIC else last
        found, holds_words = _frame_with_words(store, first, last, target, stems)
        if found is not None and found[0] in seen:
            continue
        if found is not None:
            seen.add(found[0])
        record = result.records.get(hit.id)
        text = f"{hit.title or ''} {record.body if record else hit.snippet}".lower()
        match = TimelineMatch(
            at=found[1] if found is not None else target,
            frame_id=found[0] if found is not None else None,
            memory_id=hit.id,
            words=list(words),
            title=hit.title,
        )
        (worded if holds_words or any(s in text for s in stems) else meant).append(match)
    # Marks on the axis for memories that merely resemble the query are
    # noise beside real matches; alone, they are the best there is.
    matches = worded or meant[:_MEANING_ONLY]
    if not matches:
        where = f" on {day.isoformat()}" if day is not None else ""
        return TimelineMatches([], f"nothing on the screen matches “{query.strip()}”{where}")
    return TimelineMatches(sorted(matches, key=lambda m: m.at))


def _stem(word: str) -> str:
    """What a word's forms share, roughly ("budgets" and "budget": "budge");
    numbers and short words stay whole."""
    if len(word) <= 4 or any(ch.isdigit() for ch in word):
        return word
    return word[: max(4, len(word) - 2)]


def _frame_with_words(
    store: MemoryStore, first: datetime, last: datetime, target: datetime, stems: Sequence[str]
) -> tuple[tuple[int, datetime] | None, bool]:
    """The frame in [first, last] holding most of `stems`, nearest `target`
    (and True); without one, the frame nearest `target` in that span (and False)."""
    first, last = max(first, target - _MATCH_SCAN), min(last, target + _MATCH_SCAN)
    a, b = to_ms(first), to_ms(last) + 1
    goal = to_ms(target)
    with store.read() as conn:
        candidates = rows.frames_with_words(conn, a, b, stems)
        if not candidates:
            nearest = rows.frame_near(conn, goal, a, b)
            detail = rows.frame_detail(conn, nearest) if nearest is not None else None
            return (detail.id, from_ms(detail.at_ms)) if detail is not None else None, False
    best = min(
        candidates,
        key=lambda c: (-sum(1 for s in stems if s in c[2]), abs(c[1] - goal)),
    )
    return (best[0], from_ms(best[1])), True


def match_boxes(lines: Sequence[LineBox], words: Sequence[str]) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, width, height) of the words of `lines` that begin like one of `words`.

    OCR gives boxes per line: a word's span is estimated by its share of the
    line's characters, widened to the whole word ("budgets" marks "budget" too).
    """
    wanted = [_stem(w.lower()) for w in words if w]
    if not wanted:
        return []
    boxes: list[tuple[int, int, int, int]] = []
    for line in lines:
        text = line.text
        if not text:
            continue
        lower = text.lower()
        per_char = line.width / len(text)
        for word in wanted:
            start = lower.find(word)
            while start >= 0:
                if start == 0 or not lower[start - 1].isalnum():
                    stop = start + len(word)
                    while stop < len(lower) and lower[stop].isalnum():
                        stop += 1
                    boxes.append(
                        (
                            line.x + round(start * per_char),
                            line.y,
                            max(1, round((stop - start) * per_char)),
                            line.height,
                        )
                    )
                start = lower.find(word, start + 1)
    return sorted(set(boxes), key=lambda b: (b[1], b[0]))
