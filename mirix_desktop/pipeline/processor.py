"""The expensive half of the pipeline: a queued job in, OCR lines and memories out.

For a frame job:
1. the base state's lines carry forward: shifted by scroll moves, dropped
   where a region is read again;
2. each region is OCR'd, except the pieces of line whose very pixels were
   read before (a blinking cursor, a window switched back to or re-laid out:
   `ocr/reuse.py`);
3. secrets in the new lines are redacted before anything is kept;
4. in one transaction: the new lines, the frame's state, the resource and
   episode memories, and the job's deletion.
States (the full text of a recent picture per monitor) live in memory only:
after a restart the first frame is read whole, and nothing stored is lost.

A write that fails leaves the job queued and nothing changed, in the store
or in memory (the memory builder's state and the states are kept only once
the transaction commits), so the job is simply done again. A job that fails
for a reason of its own (OCR failed on it, or a bug it triggers) counts an
attempt each time and is given up after `capture_jobs.MAX_ATTEMPTS`, so the
queue goes on. A failure of the whole environment (the store locked or the
disk full, no OCR engine, no embedding model) is no job's fault: it is
raised to the daemon, which reports it and retries later.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from mirix_desktop.errors import (
    EmbedderUnavailable,
    MemoryNotFound,
    OcrFailed,
    OcrUnavailable,
    StoreError,
)
from mirix_desktop.geometry import Rect
from mirix_desktop.memory import forget as forget_rows
from mirix_desktop.memory import frames
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ocr.engine import OcrEngine, OcrLine
from mirix_desktop.ocr.reuse import ReadingMemo
from mirix_desktop.pipeline.hiding import AddressBarExclusions, Hiding
from mirix_desktop.pipeline.jobs import ActivityJob, FrameJob, JobQueue, QueuedJob
from mirix_desktop.pipeline.memories import MemoryBuilder, MemoryUpdate
from mirix_desktop.privacy.redaction import Redactor

log = logging.getLogger("mirix.pipeline.processor")

_STATES = 32
# Failures of the environment, not of one job: not counted as the job's attempts.
_ENVIRONMENT_ERRORS = (StoreError, OcrUnavailable, EmbedderUnavailable)
# Writes tried again when memories being filled were deleted meanwhile.
_REWRITES = 3


@dataclass(frozen=True)
class Processed:
    """What one job produced."""

    job_id: int
    kind: str
    frame_id: int | None = None
    lines: tuple[OcrLine, ...] = ()  # the frame's whole text after this job
    new_lines: int = 0
    ocr_regions: int = 0  # OCR calls
    reused_pieces: int = 0  # pieces of line whose text was remembered
    memories: int = 0
    error: str | None = None


def _same_place(a: Rect, b: Rect) -> bool:
    """Two line boxes on the same text line: they share half the lower one's height."""
    cut = a.intersection(b)
    return cut is not None and 2 * cut.height >= min(a.height, b.height)


def carry_forward(
    base: list[OcrLine],
    moves: list[tuple[Rect, int]],
    regions: list[Rect],
    new_lines: Sequence[OcrLine] = (),
) -> list[OcrLine]:
    """The base picture's lines that still stand: scrolled ones shifted, re-read ones dropped.

    A line is re-read when a region holds its whole height, or when a new
    line was read at its place. A region that only grazes a line (its top
    or bottom edge cuts through the letters) cannot read it, and dropping
    it there lost good text: it stays.
    """
    read = sorted((line.box for line in new_lines), key=lambda box: box.y)
    tops = [box.y for box in read]
    tallest = max((box.height for box in read), default=0)
    standing = []
    for line in base:
        box = line.box
        # `rect` is where moved content is now; it came from `dy` lower. A
        # line centred in that source moves with it (its ends may stick out
        # sideways, over an unchanged margin); one merely touching its edge
        # (a status bar under a scrolled page) stays where it is.
        cx, cy = line.centre
        source = next(((r, dy) for r, dy in moves if r.moved(0, dy).contains_point(cx, cy)), None)
        if source is not None:
            rect, dy = source
            box = box.moved(0, -dy)
            if box.y < rect.y or box.bottom > rect.bottom:
                continue  # scrolled out of view
            line = line.moved(0, -dy)
        elif any(rect.intersects(box) for rect, _dy in moves):
            continue  # moved content now covers its place
        standing.append(line)
    held = _held(regions, [line.box for line in standing])
    kept = []
    for line, is_held in zip(standing, held, strict=True):
        if is_held:
            continue
        box = line.box
        # Only new lines starting less than the tallest one's height above can share its place.
        nearby = read[bisect_left(tops, box.y - tallest) : bisect_left(tops, box.bottom)]
        if any(_same_place(box, other) for other in nearby):
            continue
        kept.append(line)
    return kept


def _held(regions: list[Rect], boxes: list[Rect]) -> list[bool]:
    """For each box: does a region hold its whole height, overlapping it sideways?

    One array operation per frame: a scrolled page has a hundred strips and
    hundreds of lines.
    """
    if not regions or not boxes:
        return [False] * len(boxes)
    r = np.array([(g.x, g.y, g.right, g.bottom) for g in regions])[None, :, :]
    b = np.array([(g.x, g.y, g.right, g.bottom) for g in boxes])[:, None, :]
    held = (
        (r[..., 0] < b[..., 2])
        & (b[..., 0] < r[..., 2])
        & (r[..., 1] <= b[..., 1])
        & (b[..., 3] <= r[..., 3])
        & (b[..., 1] < b[..., 3])
    )
    return [bool(h) for h in np.asarray(held.any(axis=1))]


def drop_duplicates(lines: list[OcrLine]) -> list[OcrLine]:
    """Where overlapping regions read the same place twice, keeps the longer reading.

    A region that cut a line reads a fragment of it; the region that held
    the whole line reads more, so the longest text at a place wins.
    """
    kept: list[OcrLine] = []
    for line in sorted(lines, key=lambda line: -len(line.text)):
        cx, cy = line.centre
        if any(other.box.contains_point(cx, cy) for other in kept):
            continue
        kept.append(line)
    return kept


class _Forgotten(Exception):
    """A forget ran since the builder's state was read: it may name memories that went."""


class _FrameForgotten(Exception):
    """The frame being read was forgotten meanwhile: its lines are not written."""


class JobProcessor:
    """Processes queued jobs in order. One instance, on one worker thread."""

    def __init__(
        self,
        store: MemoryStore,
        engine_factory: Callable[[], OcrEngine],
        redactor: Redactor,
        builder: MemoryBuilder,
        owner: int | None = None,
    ) -> None:
        self.store = store
        self.owner = owner
        self._engine_factory = engine_factory
        self._engine: OcrEngine | None = None
        self.redactor = redactor
        self.builder = builder
        self.address_bars = AddressBarExclusions(builder.privacy)
        self._states: OrderedDict[int, list[OcrLine]] = OrderedDict()
        self._memo = ReadingMemo()
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        # The store's forget generation the builder's state belongs to.
        with store.read() as conn:
            self._generation = forget_rows.generation(conn)

    @property
    def engine_name(self) -> str | None:
        """The OCR engine in use, once one is loaded."""
        return None if self._engine is None else self._engine.name

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def process_next(self) -> Processed | None:
        """Processes the oldest pending job; None when the queue is empty."""
        with self.store.read() as conn:
            queued = JobQueue.next(conn, self.owner)
        if queued is None:
            return None
        try:
            if isinstance(queued.job, ActivityJob):
                return self._activity(queued, queued.job)
            return self._frame(queued, queued.job)
        except _ENVIRONMENT_ERRORS:
            raise
        except OcrFailed as exc:
            return self._failed(queued, f"OCR failed: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - logged with its traceback by _failed
            # A bug this job triggers must not stall the queue.
            return self._failed(queued, f"internal error ({type(exc).__name__}); see the log", exc)

    def _failed(self, queued: QueuedJob, error: str, bug: Exception | None = None) -> Processed:
        """Counts a failed attempt; the job is given up after MAX_ATTEMPTS."""
        with self.store.transaction() as conn:
            gave_up = JobQueue.fail(conn, queued.id, error)
        kind = "activity" if isinstance(queued.job, ActivityJob) else "frame"
        self.last_error = error + (f" (gave up on that {kind})" if gave_up else "")
        level = logging.WARNING if bug is None else logging.ERROR
        log.log(level, "job %d: %s", queued.id, self.last_error, exc_info=bug)
        return Processed(queued.id, kind, error=self.last_error)

    def _activity(self, queued: QueuedJob, job: ActivityJob) -> Processed:
        state, window = job.state, job.window
        if window is not None and self.address_bars.hidden(window):
            # Still the window whose address bar showed an excluded page: as if
            # capture stopped for it (its title starts no episode).
            state, window = "excluded", None
        written = self._commit(lambda: self.builder.activity(state, window, job.at), queued.id)
        return Processed(queued.id, "activity", memories=written)

    def _recognize(self, job: FrameJob) -> tuple[list[OcrLine], int, int]:
        new_lines: list[OcrLine] = []
        reads = reused = 0
        for crop in job.crops:
            gray = np.frombuffer(crop.gray, dtype=np.uint8).reshape(
                crop.rect.height, crop.rect.width
            )
            reading = self._memo.read(gray, self.engine.recognize)
            reads += reading.reads
            reused += reading.reused
            new_lines.extend(line.moved(crop.rect.x, crop.rect.y) for line in reading.lines)
        new_lines = drop_duplicates(new_lines)
        new_lines.sort(key=lambda line: (line.y, line.x))
        return new_lines, reads, reused

    def _frame(self, queued: QueuedJob, job: FrameJob) -> Processed:
        base = self._states.get(job.base_state) if job.base_state is not None else None
        regions = [crop.rect for crop in job.crops]
        raw, reads, reused = self._recognize(job)
        carried = carry_forward(base or [], [(m.rect, m.dy) for m in job.moves], regions, raw)
        texts, _count = self.redactor.redact_lines(
            [line.text for line in raw], [(line.x, line.y, line.width, line.height) for line in raw]
        )
        new_lines = [
            OcrLine(text, line.x, line.y, line.width, line.height, line.confidence)
            for line, text in zip(raw, texts, strict=True)
        ]
        lines = sorted(carried + new_lines, key=lambda line: (line.y, line.x))
        size = (job.monitor_rect.width, job.monitor_rect.height)
        # A browser window whose address bar shows an excluded page: none of its
        # lines, title or thumbnail is kept (`hiding.py`).
        hiding = self.address_bars.hide(job.windows, lines, size)
        windows, kept, kept_new = job.windows, lines, new_lines
        if hiding is not None:
            windows = hiding.windows
            kept = [line for line in lines if hiding.keeps(line)]
            kept_new = [line for line in new_lines if hiding.keeps(line)]
        # The windows' titles were redacted before the job was written.
        written = self._commit(
            lambda: self.builder.frame(
                windows, kept, kept_new, job.captured_at, job.frame_id, size
            ),
            queued.id,
            job.frame_id,
            kept_new,
            hiding,
        )
        # Stored: this picture is the base of the next (a retry still finds its own base).
        # It keeps a hidden window's lines, in memory only, so the next frame
        # carries its address bar forward and hides it again.
        self._states[job.state_id] = lines
        if job.replaces is not None:
            self._states.pop(job.replaces, None)
        while len(self._states) > _STATES:
            self._states.popitem(last=False)
        return Processed(
            queued.id,
            "frame",
            frame_id=job.frame_id,
            lines=tuple(kept),
            new_lines=len(kept_new),
            ocr_regions=reads,
            reused_pieces=reused,
            memories=written,
        )

    def _commit(
        self,
        build: Callable[[], list[MemoryUpdate]],
        job_id: int | None = None,
        frame_id: int | None = None,
        new_lines: list[OcrLine] | None = None,
        hiding: Hiding | None = None,
    ) -> int:
        """Builds memory updates and writes them, with the job's lines and its
        deletion, in one transaction; returns the memories written.

        The builder's changes stand only once the transaction commits: on any
        failure they are rolled back, so doing the job again loses nothing. A
        memory deleted meanwhile is forgotten and the updates built again.
        """
        rewrites = 0
        try:
            while True:
                updates = build()
                try:
                    ids = self._write(updates, job_id, frame_id, new_lines, hiding)
                except _Forgotten:
                    # Its open documents and episode may hold forgotten lines, and
                    # a forgotten memory's id may be handed out again: start afresh.
                    log.info("a forget ran: the memory builder starts afresh")
                    self.builder.rollback()
                    self.builder.reset()
                    continue
                except _FrameForgotten:
                    self.builder.rollback()
                    return 0
                except MemoryNotFound:
                    gone = self._deleted(updates)
                    if not gone or rewrites == _REWRITES:
                        raise
                    rewrites += 1
                    log.info("%d memories deleted while being filled: new ones start", len(gone))
                    self.builder.rollback()
                    self.builder.forget(gone)
                    continue
                self.builder.commit(updates, ids)
                return len(ids)
        except BaseException:
            self.builder.rollback()
            raise

    def _write(
        self,
        updates: list[MemoryUpdate],
        job_id: int | None,
        frame_id: int | None,
        new_lines: list[OcrLine] | None,
        hiding: Hiding | None = None,
    ) -> list[int]:
        if not updates and job_id is None:
            return []
        prepared = self.store.prepare([u.memory for u in updates]) if updates else []
        with self.store.transaction() as conn:
            generation = forget_rows.generation(conn)
            if generation != self._generation:
                self._generation = generation
                raise _Forgotten
            if frame_id is not None and not forget_rows.frame_exists(conn, frame_id):
                raise _FrameForgotten
            if frame_id is not None:
                frames.save_ocr(conn, frame_id, new_lines or [])
                if hiding is not None:
                    hiding.relabel(conn, frame_id)
            ids = (
                self.store.write_prepared(conn, prepared, [u.memory_id for u in updates])
                if prepared
                else []
            )
            if job_id is not None:
                JobQueue.done(conn, job_id)
        return ids

    def _deleted(self, updates: list[MemoryUpdate]) -> set[int]:
        """The memories these updates replace that are no longer in the store."""
        wanted = [u.memory_id for u in updates if u.memory_id is not None]
        return set(wanted) - set(self.store.get_many(wanted))

    def flush(self, at: datetime | None = None) -> int:
        """Writes the open episode (at shutdown); returns the memories written."""
        return self._commit(lambda: self.builder.close_episode(at))

    def close(self) -> None:
        engine = self._engine
        close = getattr(engine, "close", None)
        if close is not None:
            close()
        self._engine = None
