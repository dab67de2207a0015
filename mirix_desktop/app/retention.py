"""Retention and the space cap: what is removed, when, and what the person is told.

`run_retention` does both, in this order:
1. past `storage.retention_days`, everything older (frames, memories,
   chats) goes through forget (`app/forget.py`), as if the person had
   asked for it, recorded in the audit log as done by the daemon;
2. above `storage.max_gb`, the raw layer goes, oldest first: thumbnails,
   then frames with their OCR lines (`memory/retention.py`); memories stay,
   and so does the newest day, whatever the cap. A cap below what that
   needs is said in plain words, and the newest day is kept.
Each run is kept in the store (`last_retention`) and the daemon shows it in
`status`; a run that removed something writes an audit entry ("retention",
"space_cap"). The first time the cap is reached, the report says so once
(`cap_first_reached`), for a notification.

`space_forecast` is what the settings page shows: space used, the growth per
day, and when the cap will be reached at that rate.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import partial

from mirix_desktop.app import audit
from mirix_desktop.config import Settings
from mirix_desktop.memory import retention as raw
from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.meta import read_meta, write_meta
from mirix_desktop.memory.records import from_ms, now_utc, to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.housekeeping import HousekeepingRun

log = logging.getLogger("mirix.app.retention")

GB = 1_000_000_000
LAST_RUN_KEY = "retention_last_run"
CAP_REACHED_KEY = "space_cap_reached_at"
# Rows per transaction: capture writing beside a run waits at most one batch.
FIRST_BATCH = 64
MAX_BATCH = 2000
# Past retention, what is older goes through forget this much at a time.
FORGET_STEP = timedelta(days=1)
# The growth per day is taken over this many days at most.
FORECAST_DAYS = 7


@dataclass(frozen=True)
class AgedCounts:
    """What went past retention_days (forget's counts)."""

    frames: int = 0
    thumbnails: int = 0
    lines: int = 0
    memories: int = 0
    conversations: int = 0


@dataclass(frozen=True)
class RetentionReport:
    """One run of retention and the space cap."""

    at: datetime
    seconds: float
    bytes_before: int
    bytes_after: int
    retention_days: int
    cutoff: datetime | None = None  # past retention_days: what was older went
    aged: AgedCounts = field(default_factory=AgedCounts)
    cap_bytes: int | None = None
    thumbnails: int = 0  # thumbnails removed under the cap
    frames: int = 0  # frames removed under the cap
    lines: int = 0  # their OCR lines
    over_cap: bool = False  # still above the cap: the newest day and memories need more
    cap_first_reached: bool = False

    @property
    def removed_anything(self) -> bool:
        aged = self.aged
        return bool(
            self.thumbnails
            or self.frames
            or aged.frames
            or aged.thumbnails
            or aged.memories
            or aged.conversations
        )

    def summary(self) -> str:
        """What the run did, in one sentence for `status` and the settings page."""
        parts: list[str] = []
        aged = self.aged
        if aged.frames or aged.memories or aged.conversations:
            assert self.cutoff is not None
            parts.append(
                f"removed what was older than {self.retention_days} days "
                f"({_count(aged.frames, 'screen capture')}, {_count(aged.memories, 'memory')}"
                f", {_count(aged.conversations, 'chat')})"
            )
        if self.thumbnails or self.frames:
            cap = _gb(self.cap_bytes or 0)
            what = [_count(self.thumbnails, "thumbnail")] if self.thumbnails else []
            if self.frames:
                what.append(f"{_count(self.frames, 'screen capture')} with their text")
            parts.append(f"removed the oldest {' and '.join(what)} to stay under the {cap} cap")
        if not parts:
            parts.append("nothing to remove")
        freed = self.bytes_before - self.bytes_after
        text = "; ".join(parts)
        if freed > 0:
            text += f"; {_size(freed)} freed"
        return text[0].upper() + text[1:] + "."

    def warning(self) -> str | None:
        """What needs the person: a cap below what the newest day and memories need."""
        if not self.over_cap or self.cap_bytes is None:
            return None
        return (
            f"The space cap ({_gb(self.cap_bytes)}) is below what your memories and the "
            f"newest day of screen captures need ({_size(self.bytes_after)}). The newest day "
            "is always kept: raise storage.max_gb, or set storage.retention_days."
        )

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["cutoff"] = None if self.cutoff is None else self.cutoff.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RetentionReport:
        values = dict(data)
        values["at"] = datetime.fromisoformat(str(values["at"]))
        cutoff = values.get("cutoff")
        values["cutoff"] = None if cutoff is None else datetime.fromisoformat(str(cutoff))
        aged = values.get("aged")
        values["aged"] = AgedCounts(**aged) if isinstance(aged, dict) else AgedCounts()
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SpaceForecast:
    """Space used now, its growth, and when the cap is reached at that rate."""

    bytes_used: int
    bytes_per_day: float | None  # None: less than an hour of captures to go by
    days_until_cap: float | None  # None: no cap, or no growth to go by; 0: reached
    free_bytes: int

    def describe(self) -> str:
        """One sentence for the settings page."""
        text = f"{_size(self.bytes_used)} used, {_size(self.free_bytes)} free on the disk"
        if self.bytes_per_day is not None:
            text += f"; about {_size(int(self.bytes_per_day))} a day"
        if self.days_until_cap is not None:
            if self.days_until_cap <= 0:
                text += "; the cap is reached: the oldest screen captures make room"
            else:
                text += f"; at this rate the cap is reached in about {_days(self.days_until_cap)}"
        return text + "."


def run_retention(
    store: MemoryStore, settings: Settings, *, now: datetime | None = None
) -> RetentionReport:
    """Applies retention_days, then max_gb (see the module doc); keeps and returns the report."""
    now = now or now_utc()
    began = time.perf_counter()
    storage = settings.storage
    with store.read() as conn:
        before = raw.store_space(conn).used_bytes
    cutoff = None
    aged = AgedCounts()
    if storage.retention_days > 0:
        cutoff = now - timedelta(days=storage.retention_days)
        aged = _forget_before(store, cutoff, storage.retention_days)
    cap = int(storage.max_gb * GB) if storage.max_gb > 0 else None
    thumbs = frames = lines = 0
    over = first = False
    if cap is not None:
        thumbs, frames, lines, over = _enforce_cap(store, cap)
        first = _cap_first_reached(store, now, reached=bool(thumbs or frames or over))
    with store.read() as conn:
        if thumbs or frames:
            raw.checkpoint(conn)
        after = raw.store_space(conn).used_bytes
    report = RetentionReport(
        at=now,
        seconds=time.perf_counter() - began,
        bytes_before=before,
        bytes_after=after,
        retention_days=storage.retention_days,
        cutoff=cutoff,
        aged=aged,
        cap_bytes=cap,
        thumbnails=thumbs,
        frames=frames,
        lines=lines,
        over_cap=over,
        cap_first_reached=first,
    )
    _keep(store, report)
    log.info("retention: %s (%.1f s)", report.summary(), report.seconds)
    return report


def last_retention(store: MemoryStore) -> RetentionReport | None:
    """The last run kept in the store (None: retention never ran)."""
    with store.read() as conn:
        text = read_meta(conn, LAST_RUN_KEY)
    if text is None:
        return None
    try:
        return RetentionReport.from_json(json.loads(text))
    except (ValueError, TypeError, KeyError):
        log.warning("the last retention run kept in the store cannot be read")
        return None


def space_forecast(
    store: MemoryStore, settings: Settings, *, now: datetime | None = None
) -> SpaceForecast:
    """Space used, growth per day over the last `FORECAST_DAYS` days, days until the cap.

    The growth is the store's use in proportion to the frames captured
    lately: (bytes used) x (frames in the last days / all frames) per day.
    """
    now = now or now_utc()
    with store.read() as conn:
        used = raw.store_space(conn).used_bytes
        span = raw.frame_span(conn)
        total = raw.frames_since(conn, span[0]) if span else 0
        rate: float | None = None
        if span is not None and total:
            days = min(float(FORECAST_DAYS), (to_ms(now) - span[0]) / 86_400_000)
            if days >= 1 / 24:
                recent = raw.frames_since(conn, to_ms(now - timedelta(days=days)))
                rate = used * recent / total / days
    free = shutil.disk_usage(store.path.parent).free
    cap = settings.storage.max_gb * GB
    until: float | None = None
    if cap > 0 and used >= cap:
        until = 0.0
    elif cap > 0 and rate:
        until = (cap - used) / rate
    return SpaceForecast(bytes_used=used, bytes_per_day=rate, days_until_cap=until, free_bytes=free)


class RetentionWork:
    """Retention as the daemon's housekeeping (`pipeline/housekeeping.py`)."""

    name = "retention"

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def run(self, settings: Settings) -> HousekeepingRun:
        report = run_retention(self.store, settings)
        notice = None
        if report.cap_first_reached:
            notice = (
                f"Your memories reached the {_gb(report.cap_bytes or 0)} space cap. From now "
                "on the oldest thumbnails, then the oldest screen captures, make room; your "
                "memories and the newest day stay."
            )
        return HousekeepingRun(
            at=report.at.isoformat(),
            summary=report.summary(),
            notice=notice,
            warning=report.warning(),
        )


# -- the steps ----------------------------------------------------------------------------
def _forget_before(store: MemoryStore, cutoff: datetime, days: int) -> AgedCounts:
    """Forgets what is older than `cutoff`, a day at a time from the oldest, so that
    capture beside it waits for one day's deletion at most, never for a month's."""
    cutoff_ms = to_ms(cutoff)
    with store.read() as conn:
        oldest = raw.oldest_time(conn)
    if oldest is None or oldest >= cutoff_ms:
        return AgedCounts()
    # Imported here: forget is the heavier module, and most runs have nothing past retention.
    from mirix_desktop.app.forget import ForgetFilter, forget

    totals = dict.fromkeys(("frames", "thumbnails", "lines", "memories", "conversations"), 0)
    while oldest is not None and oldest < cutoff_ms:
        # A day from the oldest thing left (empty stretches are skipped).
        until = min(cutoff, from_ms(oldest) + FORGET_STEP)
        # No vacuum: it would hold the store for minutes on the daemon's
        # connection; the zeroed pages are reused by new captures.
        counts = forget(store, ForgetFilter(until=until), actor="daemon", compact=False).counts
        for name in totals:
            totals[name] += getattr(counts, name)
        # What forget kept before `until` (if anything) is not looked at again.
        with store.read() as conn:
            oldest = raw.oldest_time(conn, to_ms(until))
    aged = AgedCounts(**totals)
    audit.record(
        store,
        "retention",
        {"retention_days": days, "before": cutoff.isoformat(), **asdict(aged)},
        actor="daemon",
    )
    return aged


def _enforce_cap(store: MemoryStore, cap: int) -> tuple[int, int, int, bool]:
    """(thumbnails, frames, lines removed, still over the cap)."""
    with store.read() as conn:
        used = raw.store_space(conn).used_bytes
        span = raw.frame_span(conn)
    if used <= cap:
        return 0, 0, 0, False
    if span is None:
        return 0, 0, 0, True
    # The newest day (local time) of captures is never removed.
    keep_from = to_ms(
        from_ms(span[1]).astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    )
    before = used
    thumbs, _, used = _drop_until(
        store, cap, used, partial(raw.drop_thumbnails, before_ms=keep_from), cascades=False
    )
    frames, lines, used = _drop_until(
        store, cap, used, partial(raw.drop_frames, before_ms=keep_from)
    )
    if thumbs or frames:
        audit.record(
            store,
            "space_cap",
            {
                "max_gb": round(cap / GB, 3),
                "thumbnails": thumbs,
                "frames": frames,
                "lines": lines,
                "bytes_before": before,
                "bytes_after": used,
                "over_cap": used > cap,
            },
            actor="daemon",
        )
    return thumbs, frames, lines, used > cap


def _drop_until(
    store: MemoryStore,
    cap: int,
    used: int,
    step: Callable[..., tuple[int, int]],
    *,
    cascades: bool = True,
) -> tuple[int, int, int]:
    """Runs `step` (oldest first) in batches until the store uses at most `cap` bytes
    or nothing is left to drop: (items dropped, their extra count, bytes used after).

    The first batch is small; the next ones are sized by the bytes each item
    freed so far, so a run stops close to the cap instead of a batch past it.
    """
    dropped = extra = 0
    batch = FIRST_BATCH
    while used > cap:
        with _batch(store, cascades=cascades) as conn:
            done, more = step(conn, limit=batch)
            now_used = raw.store_space(conn).used_bytes
        if not done:
            break
        dropped, extra = dropped + done, extra + more
        freed, used = used - now_used, now_used
        # Pages are freed as cells leave them: a batch may free none yet.
        batch = math.ceil((used - cap) / (freed / done)) if freed > 0 else 2 * batch
        batch = max(1, min(MAX_BATCH, batch))
    return dropped, extra, used


@contextlib.contextmanager
def _batch(store: MemoryStore, *, cascades: bool) -> Iterator[Connection]:
    if cascades:
        with store.transaction() as conn:
            yield conn
    else:
        with store.read() as conn, raw.without_cascades(conn):
            yield conn


def _cap_first_reached(store: MemoryStore, now: datetime, *, reached: bool) -> bool:
    if not reached:
        return False
    with store.transaction() as conn:
        if read_meta(conn, CAP_REACHED_KEY) is not None:
            return False
        write_meta(conn, CAP_REACHED_KEY, now.isoformat())
    return True


def _keep(store: MemoryStore, report: RetentionReport) -> None:
    with store.transaction() as conn:
        write_meta(conn, LAST_RUN_KEY, json.dumps(report.to_json()))


# -- words ----------------------------------------------------------------------------------
def _count(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n:,} {plural}"


def _size(n: int) -> str:
    if n >= GB:
        return f"{n / GB:.1f} GB"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    return f"{max(0, n) / 1000:.0f} kB"


def _gb(n: int) -> str:
    return f"{n / GB:g} GB"


def _days(days: float) -> str:
    if days < 1:
        return "less than a day"
    if days < 1.5:
        return "1 day"
    return f"{days:.0f} days"
