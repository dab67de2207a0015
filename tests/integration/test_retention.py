"""Retention and the space cap on a real (encrypted) store: what goes, in what order, what stays.

A store of five local days, each with frames (a 6 kB thumbnail and three
OCR lines apiece) and an episode. The cap is set from what the store
measures, so each test asks for a known amount to go.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from mirix_desktop.app import audit
from mirix_desktop.app.retention import (
    GB,
    RetentionWork,
    last_retention,
    run_retention,
    space_forecast,
)
from mirix_desktop.config import Settings, StorageSettings
from mirix_desktop.memory import frames as frame_rows
from mirix_desktop.memory import retention as raw
from mirix_desktop.memory.records import EpisodicMemory, MemoryType, to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ocr.engine import OcrLine

DAYS = 5
PER_DAY = 40
THUMB = 6000
# Noon of the newest day; "now" is a little later.
NEWEST = datetime(2026, 11, 20, 12, 0).astimezone()
NOW = NEWEST + timedelta(hours=2)


def _day(n: int) -> datetime:
    """Noon of day n (0: the oldest)."""
    return NEWEST - timedelta(days=DAYS - 1 - n)


def _fill(store: MemoryStore) -> None:
    for n in range(DAYS):
        start = _day(n)
        with store.transaction() as conn:
            for i in range(PER_DAY):
                at = start + timedelta(seconds=10 * i)
                frame_id = frame_rows.insert_frame(
                    conn,
                    frame_rows.NewFrame(
                        captured_at=at,
                        monitor=0,
                        app="editor",
                        window_title=f"day {n}",
                        url=None,
                        image_hash=f"{n:08x}{i:08x}",
                        width=1920,
                        height=1080,
                        thumbnail=os.urandom(THUMB),
                        changed_share=0.1,
                    ),
                )
                frame_rows.save_ocr(
                    conn,
                    frame_id,
                    [
                        OcrLine(f"day {n} frame {i} line {k} " * 10, 0, 20 * k, 400, 18, 90.0)
                        for k in range(3)
                    ],
                )
        store.add(
            EpisodicMemory(
                started_at=start,
                ended_at=start + timedelta(seconds=10 * PER_DAY),
                title=f"day {n}",
                app="editor",
                summary=f"worked on day {n}",
            )
        )


def _per_day(store: MemoryStore) -> list[tuple[int, int, int]]:
    """Per day, oldest first: (frames, frames with a thumbnail, OCR lines)."""
    out = []
    with store.read() as conn:
        for n in range(DAYS):
            start = to_ms(_day(n) - timedelta(hours=1))
            end = to_ms(_day(n) + timedelta(hours=1))
            frames, thumbs = conn.execute(
                "SELECT count(*), count(thumbnail) FROM frames "
                "WHERE captured_at >= ? AND captured_at < ?",
                (start, end),
            ).fetchone()
            lines = conn.execute(
                "SELECT count(*) FROM ocr_lines JOIN frames f ON f.id = frame_id "
                "WHERE f.captured_at >= ? AND f.captured_at < ?",
                (start, end),
            ).fetchone()[0]
            out.append((frames, thumbs, lines))
    return out


def _used(store: MemoryStore) -> int:
    with store.read() as conn:
        return raw.store_space(conn).used_bytes


def _settings(**storage: object) -> Settings:
    return Settings(storage=StorageSettings.model_validate({"min_free_gb": 0, **storage}))


@pytest.fixture
def filled(store: MemoryStore) -> MemoryStore:
    _fill(store)
    return store


def test_no_cap_and_no_retention_removes_nothing_and_says_so(filled: MemoryStore) -> None:
    before = _per_day(filled)
    report = run_retention(filled, _settings(), now=NOW)
    assert _per_day(filled) == before
    assert report.summary() == "Nothing to remove."
    assert not report.removed_anything
    kept = last_retention(filled)
    assert kept is not None and kept.summary() == "Nothing to remove." and kept.at == NOW


def _thumbnail_flags(store: MemoryStore) -> list[bool]:
    """Whether each frame, oldest first, still has its thumbnail."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT thumbnail IS NOT NULL FROM frames ORDER BY captured_at, id"
        ).fetchall()
    return [bool(r[0]) for r in rows]


def test_the_cap_takes_the_oldest_thumbnails_first(filled: MemoryStore) -> None:
    used = _used(filled)
    # About a day and a half of thumbnails must go.
    cap = used - int(1.5 * PER_DAY * THUMB)
    report = run_retention(filled, _settings(max_gb=cap / GB), now=NOW)
    flags = _thumbnail_flags(filled)
    assert len(flags) == DAYS * PER_DAY  # no frame removed
    gone = flags.count(False)
    # Oldest first: the frames without a thumbnail are exactly the oldest ones.
    assert flags == [False] * gone + [True] * (len(flags) - gone)
    assert PER_DAY < gone < (DAYS - 1) * PER_DAY  # more than a day, not all old ones
    assert report.thumbnails == gone and report.frames == 0
    # The rows written back without their thumbnail kept their lines (no cascade).
    assert [lines for _, _, lines in _per_day(filled)] == [3 * PER_DAY] * DAYS
    assert _used(filled) <= cap
    assert report.bytes_after <= cap < report.bytes_before
    assert "thumbnail" in report.summary() and "cap" in report.summary()
    (entry,) = [e for e in audit.entries(filled) if e.action == "space_cap"]
    assert entry.actor == "daemon" and entry.details["thumbnails"] == report.thumbnails
    # A second run at the same cap has nothing to do.
    assert not run_retention(filled, _settings(max_gb=cap / GB), now=NOW).removed_anything


def _frame_times(store: MemoryStore) -> list[int]:
    with store.read() as conn:
        return [r[0] for r in conn.execute("SELECT captured_at FROM frames ORDER BY captured_at")]


def test_then_frames_with_their_lines_oldest_first_and_memories_stay(
    filled: MemoryStore,
) -> None:
    times = _frame_times(filled)
    used = _used(filled)
    # More than all old thumbnails free (each at most two 4 kB pages): some frames go too.
    cap = used - (DAYS - 1) * PER_DAY * 2 * 4096 - 30_000
    report = run_retention(filled, _settings(max_gb=cap / GB), now=NOW)
    days = _per_day(filled)
    assert [thumbs for _, thumbs, _ in days[:-1]] == [0] * (DAYS - 1)  # thumbnails first
    left = _frame_times(filled)
    assert 0 < len(times) - len(left) < (DAYS - 1) * PER_DAY
    assert left == times[len(times) - len(left) :]  # the oldest frames went
    assert [lines for _, _, lines in days] == [3 * frames for frames, _, _ in days]
    assert days[-1] == (PER_DAY, PER_DAY, 3 * PER_DAY)  # the newest day untouched
    assert report.frames == len(times) - len(left) and report.lines == 3 * report.frames
    assert not report.over_cap and _used(filled) <= cap
    assert len(filled.of_type(MemoryType.EPISODIC)) == DAYS  # memories only go past retention
    assert "screen capture" in report.summary()


def test_a_cap_below_the_newest_day_keeps_it_and_says_so(filled: MemoryStore) -> None:
    report = run_retention(filled, _settings(max_gb=0.0001), now=NOW)
    days = _per_day(filled)
    assert [frames for frames, _, _ in days[:-1]] == [0] * (DAYS - 1)
    assert days[-1] == (PER_DAY, PER_DAY, 3 * PER_DAY)
    assert report.over_cap
    warning = report.warning()
    assert warning is not None and "newest day" in warning and "0.0001 GB" in warning
    assert len(filled.of_type(MemoryType.EPISODIC)) == DAYS


def test_the_cap_reached_is_told_the_first_time_only(filled: MemoryStore) -> None:
    work = RetentionWork(filled)
    settings = _settings(max_gb=(_used(filled) - 2 * PER_DAY * THUMB) / GB)
    first = work.run(settings)
    assert first.notice is not None and "space cap" in first.notice
    assert "thumbnail" in first.summary
    assert work.run(settings).summary == "Nothing to remove."
    # Reached again, lower: more goes, and nobody is told a second time.
    second = work.run(_settings(max_gb=(_used(filled) - 2 * PER_DAY * THUMB) / GB))
    assert "thumbnail" in second.summary
    assert second.notice is None


def test_space_forecast_grows_by_the_days_frames(filled: MemoryStore) -> None:
    cap_gb = (_used(filled) + 100_000) / GB
    forecast = space_forecast(filled, _settings(max_gb=cap_gb), now=NOW)
    assert forecast.bytes_used == _used(filled)
    assert forecast.bytes_per_day is not None
    # Five equal days: a fifth of the store a day, within the frames' share.
    assert forecast.bytes_per_day == pytest.approx(forecast.bytes_used / DAYS, rel=0.35)
    assert forecast.days_until_cap is not None and 0 < forecast.days_until_cap < 1
    assert forecast.free_bytes > 0
    assert "at this rate the cap is reached in about" in forecast.describe()
    reached = space_forecast(filled, _settings(max_gb=0.0001), now=NOW)
    assert reached.days_until_cap == 0


def test_layer_estimates_add_up_to_the_store(filled: MemoryStore) -> None:
    with filled.read() as conn:
        layers = raw.layer_bytes(conn)
        used = raw.store_space(conn).used_bytes
    assert layers.frame_count == DAYS * PER_DAY
    assert layers.thumbnails + layers.frames + layers.memories == used
    # The thumbnails are most of this store; the estimate is within a fifth.
    assert layers.thumbnails == pytest.approx(DAYS * PER_DAY * THUMB, rel=0.2)


def test_past_retention_days_everything_older_goes_and_status_says_so(
    filled: MemoryStore,
) -> None:
    report = run_retention(filled, _settings(retention_days=2), now=NOW)
    days = _per_day(filled)
    # Cut-off: NOW - 2 days = the third day's noon + 2 h: days 0-2 are older.
    assert [frames for frames, _, _ in days] == [0, 0, 0, PER_DAY, PER_DAY]
    assert [lines for _, _, lines in days] == [0, 0, 0, 3 * PER_DAY, 3 * PER_DAY]
    titles = sorted(m.title or "" for m in filled.of_type(MemoryType.EPISODIC))
    assert titles == ["day 3", "day 4"]
    assert report.cutoff == NOW - timedelta(days=2)
    assert (report.aged.frames, report.aged.memories) == (3 * PER_DAY, 3)
    assert "older than 2 days" in report.summary()
    actions = [(e.action, e.actor) for e in audit.entries(filled)]
    assert ("retention", "daemon") in actions
    assert actions.count(("forget", "daemon")) == 3  # a day at a time: capture waits less
    kept = last_retention(filled)
    assert kept is not None and kept.aged.frames == 3 * PER_DAY
    # Nothing older is left: the next run does nothing.
    again = run_retention(filled, _settings(retention_days=2), now=NOW)
    assert not again.removed_anything


def test_small_thumbnails_kept_inside_their_rows_give_their_space_back(
    store: MemoryStore,
) -> None:
    # 2.5 kB: stored inside the frame's row, not in overflow pages. Setting them
    # to NULL would leave each shrunken row alone in its page: no space back.
    count, size = 300, 2500
    with store.transaction() as conn:
        for i in range(count):
            frame_rows.insert_frame(
                conn,
                frame_rows.NewFrame(
                    captured_at=_day(0) + timedelta(seconds=i),
                    monitor=0,
                    app="editor",
                    window_title="old",
                    url=None,
                    image_hash=f"{i:016x}",
                    width=1920,
                    height=1080,
                    thumbnail=os.urandom(size),
                    changed_share=0.1,
                ),
            )
    used = _used(store)
    with store.read() as conn, raw.without_cascades(conn):
        done, freed = raw.drop_thumbnails(conn, to_ms(NEWEST), limit=count)
    assert (done, freed) == (count, count * size)
    assert used - _used(store) >= 0.8 * count * size
