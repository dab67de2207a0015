"""Forget: take back what was captured, and prove it gone from the file.

What each filter means (several given together must all hold):

- ``since``/``until``: everything captured in the range: frames, their
  thumbnails, OCR lines and queued jobs; the episodes and resources seen in
  it; facts and procedures learned in it (and those consolidation drew from
  a resource that goes or is cut); the assistant conversations' messages
  sent in it, with the memories of those exchanges. An episode or resource
  reaching outside the range is cut to what remains: its span ends at the
  range, and the lines read only in forgotten frames leave its text (one cut
  from the middle keeps both ends). Core memories and vault items are things
  you wrote yourself, not captured: a time, app or title filter keeps them.
- ``app``: frames whose active window was the app (case-insensitive), and
  the memories of the app. Another app's frame in which this one showed in
  the background keeps its text: frames record the active window only.
- ``title``: frames whose window title holds the text (case-insensitive),
  and memories whose title holds it.
- ``memory_id``: that memory; an episode takes its frames with it (its app,
  its span), a resource takes the OCR lines holding its text (the frames
  stay: they show other windows too), a chat exchange its two messages.
- ``query``: every memory holding all the query's words (the search's
  stemmed full-text index; any type, the vault's captions included), whole:
  nothing is cut; and every frame whose OCR text or window title holds the
  query as typed (case-insensitive), and every message holding it.
- ``everything``: all frames, lines, jobs, memories of every type,
  conversations and the consolidation log. The audit log and the capture-off
  intervals (times and reasons, no content) stay.

After the deletion the full-text index is merged into one segment (so no
older segment still holds a forgotten word), the WAL is checkpointed and
truncated, and the file is vacuumed, with `secure_delete` on: the bytes are
gone, which tests/integration/test_forget_bytes.py checks page by page. The
vacuum is incremental (seconds; new stores are made in that mode); a store
made before it is vacuumed whole once (minutes on GBs, the write lock held).
Every forget bumps a generation in `meta`: a running daemon's or app's
vector mirror reloads when it changes. What is captured after the forget
stays: the frames to delete are chosen inside the deleting transaction.

The audit entry holds the filter's times and id and the counts; the app,
title and query it was given are recorded only as given (yes/no), since
they name what was forgotten.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

from mirix_desktop.errors import KnownError, StoreError
from mirix_desktop.memory import forget as forget_rows
from mirix_desktop.memory.audit import append_audit
from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.records import (
    EpisodicMemory,
    MemoryFields,
    ResourceMemory,
    from_ms,
    to_ms,
)
from mirix_desktop.memory.search import keyword_terms
from mirix_desktop.memory.store import MemoryStore

log = logging.getLogger("mirix.app.forget")

# The app of the assistant's own conversations (assistant/conversations.py).
CHAT_APP = "mirix-desktop"
# A checkpoint a reader keeps from finishing is tried again this often.
_CHECKPOINT_TRIES = 5


class ForgetRefused(KnownError):
    """A forget without a filter, or with filters that do not go together."""

    exit_code = 2


@dataclass(frozen=True)
class ForgetFilter:
    """What to forget; filters given together must all hold (see the module docstring)."""

    since: datetime | None = None
    until: datetime | None = None
    app: str | None = None
    title: str | None = None
    memory_id: int | None = None
    query: str | None = None
    everything: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.everything and all(
            value is None or (isinstance(value, str) and not value.strip())
            for value in (self.since, self.until, self.app, self.title, self.memory_id, self.query)
        )

    def check(self) -> None:
        """Raises ForgetRefused for an empty filter or one that cannot be meant."""
        if self.is_empty:
            raise ForgetRefused(
                "Nothing to forget: give --since/--until, --app, --title, --id or --query "
                "(or --everything). Nothing was deleted."
            )
        others = (self.since, self.until, self.app, self.title, self.memory_id, self.query)
        if self.everything and any(value is not None for value in others):
            raise ForgetRefused("--everything takes no other filter. Nothing was deleted.")
        if self.memory_id is not None and any(
            value is not None
            for value in (self.since, self.until, self.app, self.title, self.query)
        ):
            raise ForgetRefused("--id names one memory: give it alone. Nothing was deleted.")
        if (
            self.since is not None
            and self.until is not None
            and to_ms(self.since) >= to_ms(self.until)
        ):
            raise ForgetRefused(
                "--since is not before --until: the range is empty. Nothing was deleted."
            )
        if self.query is not None and not keyword_terms(self.query):
            raise ForgetRefused(
                f"--query {self.query!r} has no word to look for (only common words such as "
                "'the'). Nothing was deleted."
            )

    def describe(self) -> str:
        """The filter in words, for a confirmation ("everything", "firefox, from ... to ...")."""
        if self.everything:
            return "everything"
        parts: list[str] = []
        if self.memory_id is not None:
            parts.append(f"memory #{self.memory_id}")
        if self.app:
            parts.append(f"the app {self.app!r}")
        if self.title:
            parts.append(f"windows titled with {self.title!r}")
        if self.query:
            parts.append(f"what matches {self.query!r}")
        if self.since is not None and self.until is not None:
            start, end = _moment(self.since), _moment(self.until)
            if start[:10] == end[:10]:
                end = end[11:]  # the same day: its date once
            parts.append(f"from {start} to {end}")
        elif self.since is not None:
            parts.append(f"since {_moment(self.since)}")
        elif self.until is not None:
            parts.append(f"before {_moment(self.until)}")
        return ", ".join(parts) or "nothing"

    def audit_details(self) -> dict[str, object]:
        """Times and id as given; app, title and query only as given or not (they are content)."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "id": self.memory_id,
            "app_given": self.app is not None,
            "title_given": self.title is not None,
            "query_given": self.query is not None,
        }


def _moment(moment: datetime) -> str:
    local = moment.astimezone() if moment.tzinfo else moment
    return local.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ForgetCounts:
    frames: int
    thumbnails: int
    lines: int
    memories: int
    conversations: int
    queued_jobs: int

    @property
    def total(self) -> int:
        return self.frames + self.lines + self.memories + self.conversations + self.queued_jobs

    def describe(self) -> str:
        """E.g. "1,200 frames (1,180 thumbnails), 5,000 OCR lines, 12 memories, 1 conversation"."""
        parts = [
            _count(self.frames, "frame")
            + (f" ({_count(self.thumbnails, 'thumbnail')})" if self.thumbnails else ""),
            _count(self.lines, "OCR line"),
            _count(self.memories, "memory", "memories"),
            _count(self.conversations, "conversation"),
        ]
        if self.queued_jobs:
            parts.append(_count(self.queued_jobs, "queued capture job"))
        return ", ".join(parts)

    def as_dict(self) -> dict[str, int]:
        return {
            "frames": self.frames,
            "thumbnails": self.thumbnails,
            "lines": self.lines,
            "memories": self.memories,
            "conversations": self.conversations,
            "queued_jobs": self.queued_jobs,
        }


def what_goes(flt: ForgetFilter, counts: ForgetCounts) -> str:
    """The confirmation's sentence: the filter and what it takes (everything named as such)."""
    if flt.everything:
        return (
            f"EVERYTHING in the store: {counts.describe()}: every memory of every type, "
            "your core memories and knowledge vault included, and every conversation "
            "with the assistant. Only the audit log and the times capture was off stay."
        )
    return f"{flt.describe()}: {counts.describe()}."


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


@dataclass(frozen=True)
class ForgetReport:
    counts: ForgetCounts
    bytes_before: int
    bytes_after: int
    seconds: float
    # False when the file could not be compacted (a full disk, a reader that
    # kept the WAL); `note` says why. The rows are deleted either way.
    compacted: bool = True
    note: str | None = None

    @property
    def bytes_reclaimed(self) -> int:
        return max(0, self.bytes_before - self.bytes_after)


def _scope(flt: ForgetFilter) -> forget_rows.Scope:
    query = " ".join(flt.query.split()).lower() if flt.query else None
    return forget_rows.Scope(
        since_ms=to_ms(flt.since) if flt.since is not None else None,
        until_ms=to_ms(flt.until) if flt.until is not None else None,
        app=flt.app.strip() if flt.app else None,
        title=flt.title.strip() if flt.title else None,
        memory_id=flt.memory_id,
        query_terms=tuple(keyword_terms(query)) if query else (),
        query_phrase=query,
        everything=flt.everything,
        chat_app=CHAT_APP,
    )


def _counts(plan: forget_rows.Plan) -> ForgetCounts:
    return ForgetCounts(
        frames=len(plan.frame_ids),
        thumbnails=plan.thumbnails,
        lines=plan.lines,
        memories=plan.memories,
        conversations=len(plan.conversation_ids),
        queued_jobs=len(plan.job_ids),
    )


def plan_forget(store: MemoryStore, flt: ForgetFilter) -> ForgetCounts:
    """What `forget` would remove, counted; nothing changes (the --dry-run)."""
    flt.check()
    with store.read() as conn:
        return _counts(forget_rows.plan(conn, _scope(flt)))


def store_bytes(path: Path) -> int:
    """The store file and its WAL, in bytes."""
    total = 0
    for file in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(FileNotFoundError):
            total += file.stat().st_size
    return total


def forget(
    store: MemoryStore, flt: ForgetFilter, *, actor: str = "cli", compact: bool = True
) -> ForgetReport:
    """Deletes what `flt` covers in one transaction, then compacts the file (`compact`)."""
    flt.check()
    started = time.perf_counter()
    before = store_bytes(store.path)
    scope = _scope(flt)
    with store.transaction() as conn:
        plan = forget_rows.plan(conn, scope)
        counts = _counts(plan)
        _delete(store, conn, plan, everything=flt.everything)
        # Old segments of the full-text index still hold a deleted memory's
        # words beside its delete marker: merged into one, they are gone.
        forget_rows.merge_fts(conn)
        details: dict[str, object] = {**flt.audit_details(), **counts.as_dict()}
        action = "forget_everything" if flt.everything else "forget"
        append_audit(conn, action, details, actor=actor)
    compacted, note = compact_store(store) if compact else (False, "not compacted (asked)")
    report = ForgetReport(
        counts=counts,
        bytes_before=before,
        bytes_after=store_bytes(store.path),
        seconds=time.perf_counter() - started,
        compacted=compacted,
        note=note,
    )
    log.info(
        "forgot %s (%s) in %.1f s; %d bytes reclaimed",
        flt.describe(),
        counts.describe(),
        report.seconds,
        report.bytes_reclaimed,
    )
    return report


def _delete(
    store: MemoryStore, conn: Connection, plan: forget_rows.Plan, *, everything: bool
) -> None:
    gone_frames = set(plan.frame_ids)
    rebuilt = [(cut, _rebuilt(cut, gone_frames)) for cut in plan.cut]
    kept = [memory for _, memory in rebuilt if memory is not None]
    prepared = store.prepare(kept) if kept else []
    # The rebuilt memories are written before the old ones go, so they get
    # new ids (SQLite hands out the highest id again once it is deleted).
    if prepared:
        store.write_prepared(conn, prepared)
    if everything:
        forget_rows.delete_everything(conn)
    else:
        forget_rows.apply(conn, plan)
    store.vectors.delete([*plan.removed, *(cut.record.id for cut in plan.cut)])


def compact_store(store: MemoryStore) -> tuple[bool, str | None]:
    """Checkpoints and truncates the WAL, vacuums, and again.

    Returns (done, why not). A reader in another process may keep the WAL
    from being truncated; it is tried a few times.
    """
    # A full VACUUM builds the new file in memory: on a store too big for the
    # memory free now it would push the machine into swap or the OOM killer.
    # Its free pages are zeroed all the same; only the file keeps its size.
    full_allowed = 2 * store_bytes(store.path) < psutil.virtual_memory().available
    try:
        with store.read() as conn:
            cleared = _checkpoint(conn)
            shrunk = forget_rows.vacuum(conn, full_allowed=full_allowed)
            cleared = _checkpoint(conn) and cleared
    except StoreError as exc:
        log.warning("forget: compacting failed: %s", exc.message)
        return False, (
            f"the store could not be compacted ({exc.problem}); what was forgotten is deleted "
            "and its pages zeroed, but the file keeps its size until a later forget compacts it"
        )
    if not cleared:
        return False, (
            "another program was reading the store, so its write-ahead log could not be "
            "emptied now; it is at the next checkpoint"
        )
    if not shrunk:
        return False, (
            "what was forgotten is deleted and its pages zeroed, but this older store is too "
            "big to compact in the memory free now, so the file keeps its size (new data "
            "reuses the space)"
        )
    return True, None


def _checkpoint(conn: Connection) -> bool:
    for attempt in range(_CHECKPOINT_TRIES):
        if forget_rows.checkpoint(conn):
            return True
        time.sleep(0.2 * (attempt + 1))
    return False


# -- cutting a memory to what remains ------------------------------------------------------
def _line_key(text: str) -> str:
    # As the capture pipeline compares lines (pipeline/memories.py `line_key`).
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def _split_summary(summary: str, candidates: set[str]) -> tuple[str, list[str]]:
    """A built summary "Read X (app): line / line" as its head and its lines."""
    parts = summary.split(" / ")
    first = parts[0]
    best = max((c for c in candidates if c and first.endswith(": " + c)), key=len, default=None)
    if best is None:
        return summary, []
    return first[: -len(best) - 2], [best, *parts[1:]]


def _rebuilt(cut: forget_rows.CutMemory, gone_frames: set[int]) -> MemoryFields | None:
    """The memory with what remains (None: nothing does)."""
    gone = {key for key in map(_line_key, cut.gone_texts) if key}

    def kept(text: str) -> bool:
        return _line_key(text) not in gone

    start, end = from_ms(cut.start_ms), from_ms(cut.end_ms)
    model = cut.record.model()
    if isinstance(model, EpisodicMemory):
        summary, details = model.summary, model.details
        if cut.consolidated and details:
            # A model wrote the summary from all of it; the built one heads the details.
            first, _, rest = details.partition("\n")
            summary, details = first, rest or None
        detail_lines = [line for line in (details or "").splitlines() if kept(line)]
        head, salient = _split_summary(summary, set(cut.gone_texts) | set(detail_lines))
        salient = [line for line in salient if kept(line)]
        return model.model_copy(
            update={
                "started_at": start,
                "ended_at": end,
                "summary": head + (": " + " / ".join(salient) if salient else ""),
                "details": "\n".join(detail_lines) or None,
                "source_frames": [f for f in model.source_frames if f not in gone_frames],
            }
        )
    if isinstance(model, ResourceMemory):
        content = [line for line in model.content.splitlines() if kept(line)]
        if not content:
            return None
        return model.model_copy(
            update={
                "content": "\n".join(content),
                "first_seen": start,
                "last_seen": end,
                "summary": None,
            }
        )
    return None
