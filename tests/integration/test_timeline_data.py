"""The timeline's data read back from a real store: a known day, a moment, search, resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from mirix_desktop.app import timeline
from mirix_desktop.app.timeline import AppTime, Gap, MomentMissing, MomentRef
from mirix_desktop.config import Settings
from mirix_desktop.memory import frames as frame_rows
from mirix_desktop.memory import timeline as rows
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from tests.helpers.timeline_data_day import (
    CODE_TITLE,
    DAY,
    DOCS_TITLE,
    RARE_LINE,
    Line,
    add_frames,
    at,
    jpeg,
    write_known_day,
)

LATER = datetime(2030, 1, 1).astimezone()


@dataclass
class _Services:
    store_: MemoryStore
    settings: Settings

    def store(self) -> MemoryStore:
        return self.store_


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day).astimezone()


def test_a_known_day_has_its_lanes_blocks_gaps_and_time_per_app(store: MemoryStore) -> None:
    write_known_day(store)
    day = timeline.load_day(store, DAY, now=LATER)
    assert day.start == _midnight(DAY) and day.end == _midnight(DAY + timedelta(days=1))
    assert day.lanes == ["code", "firefox"]  # busiest first
    assert [(b.start, b.end, b.app, b.title) for b in day.blocks] == [
        (at(9, 0), at(9, 15), "code", CODE_TITLE),
        (at(9, 15), at(9, 27), "firefox", DOCS_TITLE),
        (at(9, 37), at(9, 40), "firefox", DOCS_TITLE),
        (at(10, 0), at(10, 5), "code", CODE_TITLE),
    ]
    assert all(b.memory_id is not None for b in day.blocks)
    assert day.gaps == [
        Gap(_midnight(DAY), at(9, 0), "no capture"),
        Gap(at(9, 27), at(9, 37), "paused"),
        Gap(at(9, 40), at(10, 0), "no capture"),
    ]
    assert day.apps == [AppTime("code", 1200.0), AppTime("firefox", 900.0)]
    assert len(day.frames) == 450 + 360 + 90 + 150
    assert not day.empty


def test_today_leaves_the_time_since_the_last_capture_out(store: MemoryStore) -> None:
    write_known_day(store)
    day = timeline.load_day(store, DAY, now=at(10, 30))
    # 10:05-10:30 is not called "no capture": that capture may not be written yet.
    assert day.gaps[-1] == Gap(at(9, 40), at(10, 0), "no capture")
    # A capture-off interval still open at "now" ends there.
    early = timeline.load_day(store, DAY, now=at(9, 30))
    assert Gap(at(9, 27), at(9, 30), "paused") in early.gaps


def test_the_episode_going_on_now_shows_from_its_frames(store: MemoryStore) -> None:
    # Episodes are written when they end: the one going on has only frames yet.
    write_known_day(store)
    add_frames(
        store, at(10, 6), at(10, 8), "gnome-terminal", "make test", [Line("$ make", 10, 10, 80, 16)]
    )
    day = timeline.load_day(store, DAY, now=at(10, 8))
    assert "gnome-terminal" in day.lanes
    ongoing = [b for b in day.blocks if b.app == "gnome-terminal"]
    assert [(b.start, b.memory_id) for b in ongoing] == [(at(10, 6), None)]
    assert [b for b in day.blocks if b.memory_id is not None] == [
        b for b in timeline.load_day(store, DAY, now=LATER).blocks if b.memory_id is not None
    ]
    terminal = next(a for a in day.apps if a.app == "gnome-terminal")
    assert terminal.seconds == pytest.approx(120.0)


def test_without_episodes_blocks_come_from_runs_of_frames(store: MemoryStore) -> None:
    write_known_day(store, episodes=False)
    day = timeline.load_day(store, DAY, now=LATER)
    assert [(b.start, b.end, b.app) for b in day.blocks] == [
        (at(9, 0), at(9, 15), "code"),
        (at(9, 15), at(9, 27), "firefox"),
        (at(9, 37), at(9, 40), "firefox"),
        (at(10, 0), at(10, 5), "code"),
    ]
    assert all(b.memory_id is None for b in day.blocks)
    assert [a.app for a in day.apps] == ["code", "firefox"]
    # Each frame counts until the next one, at most a minute.
    assert 900 <= day.apps[0].seconds <= 1260
    assert Gap(at(9, 40), at(10, 0), "no capture") in day.gaps


def test_lanes_are_the_eight_busiest_apps_then_other(store: MemoryStore) -> None:
    for n in range(10):
        minutes = 10 - n  # app0 busiest
        add_frames(store, at(11, 0) + timedelta(minutes=11 * n),
                   at(11, 0) + timedelta(minutes=11 * n + minutes), f"app{n}", "w", [])  # fmt: skip
    day = timeline.load_day(store, DAY, now=LATER)
    assert day.lanes == [f"app{n}" for n in range(8)] + ["other"]
    assert day.lane_of("app9") == "other" and day.lane_of("app0") == "app0"


def test_one_app_filters_lanes_blocks_and_frames_but_not_the_chart(store: MemoryStore) -> None:
    write_known_day(store)
    day = timeline.load_day(store, DAY, "firefox", now=LATER)
    assert day.lanes == ["firefox"]
    assert {b.app for b in day.blocks} == {"firefox"} and len(day.blocks) == 2
    assert set(day.frames.apps) == {"firefox"} and len(day.frames) == 450
    assert [a.app for a in day.apps] == ["code", "firefox"]
    assert Gap(at(9, 27), at(9, 37), "paused") in day.gaps


def test_an_empty_day_is_empty_with_no_gaps(store: MemoryStore) -> None:
    write_known_day(store)
    day = timeline.load_day(store, DAY + timedelta(days=1), now=LATER)
    assert day.empty
    assert (day.lanes, day.blocks, day.gaps, day.apps, len(day.frames)) == ([], [], [], [], 0)


def test_a_moment_has_its_picture_and_lines_with_boxes(store: MemoryStore) -> None:
    known = write_known_day(store)
    moment = timeline.load_moment(store, known.rare_frame)
    assert moment.problem is None
    assert (moment.at, moment.app, moment.title) == (at(9, 20), "firefox", DOCS_TITLE)
    assert moment.url == "https://docs.example/budget"
    assert (moment.width, moment.height) == (1280, 800)
    assert moment.thumbnail is not None and moment.thumbnail.startswith(b"\xff\xd8")
    assert [(ln.text, ln.x, ln.y, ln.width, ln.height) for ln in moment.lines] == [
        ("Quarterly plan", 10, 20, 280, 24),
        (RARE_LINE, 10, 50, 620, 24),
    ]


def _bare_frame(store: MemoryStore, thumbnail: bytes | None, *, read: bool = True) -> int:
    with store.transaction() as conn:
        frame_id = frame_rows.insert_frame(
            conn,
            frame_rows.NewFrame(
                at(12, 0), 0, "gimp", "x.xcf", None, "h", 1280, 800, thumbnail, 1.0
            ),
        )
        if read:
            frame_rows.save_ocr(conn, frame_id, [Line("layer one", 1, 2, 90, 10)])
    return frame_id


def test_a_missing_or_damaged_picture_is_a_problem_in_plain_words(store: MemoryStore) -> None:
    missing = timeline.load_moment(store, _bare_frame(store, None))
    assert missing.thumbnail is None and missing.problem == "no picture was kept of this moment"
    assert [ln.text for ln in missing.lines] == ["layer one"]  # the text is still there
    for damaged in (jpeg()[:60], b"not a picture at all"):
        moment = timeline.load_moment(store, _bare_frame(store, damaged))
        assert moment.thumbnail is None
        assert moment.problem == "the picture of this moment cannot be read (damaged)"
    unread = timeline.load_moment(store, _bare_frame(store, jpeg(), read=False))
    assert unread.problem == "its text has not been read yet"


def test_a_frame_that_is_gone_raises_moment_missing(store: MemoryStore) -> None:
    with pytest.raises(MomentMissing, match="no longer in the store"):
        timeline.load_moment(store, 12345)


def test_resolve_prefers_the_frame_then_the_memory_then_the_time(store: MemoryStore) -> None:
    known = write_known_day(store)
    ref = MomentRef(at(9, 0), frame_id=known.rare_frame)
    assert timeline.resolve(store, ref) == (DAY, known.rare_frame)
    firefox_episode = known.episode_ids[1]
    day, frame = timeline.resolve(store, MomentRef(LATER, memory_id=firefox_episode))
    assert day == DAY and frame == known.frame_ids[450]  # the episode's first frame, 09:15
    day, frame = timeline.resolve(store, MomentRef(at(9, 21), memory_id=firefox_episode))
    assert frame == known.frame_ids[450 + 180]  # inside the span: the time itself (09:21)
    day, frame = timeline.resolve(store, MomentRef(at(9, 30), frame_id=999_999))
    assert frame == known.frame_ids[450 + 359]  # 09:26:58, nearer than 09:37
    assert timeline.resolve(store, MomentRef(at(9, 30) + timedelta(days=3))) == (
        DAY + timedelta(days=3),
        None,
    )
    assert timeline.frame_near(store, at(9, 30)) == known.frame_ids[450 + 359]


def test_search_maps_a_hit_to_the_frame_whose_lines_hold_the_words(
    store: MemoryStore,
) -> None:
    known = write_known_day(store)
    services = _Services(store, Settings())
    matches = timeline.search_timeline(services, "Zanzibar", DAY)
    assert matches.reason is None
    assert [(m.frame_id, m.at, m.memory_id) for m in matches] == [
        (known.rare_frame, at(9, 20), known.episode_ids[1])
    ]
    assert matches[0].words == ["zanzibar"]
    assert timeline.search_timeline(services, "Zanzibar", None)[0].frame_id == known.rare_frame
    other_day = timeline.search_timeline(services, "Zanzibar", DAY + timedelta(days=1))
    assert list(other_day) == [] and other_day.reason is not None
    assert "nothing on the screen matches" in other_day.reason


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(", '"unbalanced', "budget*", "NEAR(budget, 12400", "^:-+", "AND OR NOT"],
)
def test_fts_syntax_is_never_an_error(store: MemoryStore, query: str) -> None:
    write_known_day(store)
    matches = timeline.search_timeline(_Services(store, Settings()), query, DAY)
    assert isinstance(matches, list)
    if not matches:
        assert matches.reason


def test_only_stop_words_or_only_symbols_say_why_nothing_is_found(store: MemoryStore) -> None:
    write_known_day(store)
    services = _Services(store, Settings())
    for query, words in (("the and of", "common words"), ('" * (', "nothing to search")):
        matches = timeline.search_timeline(services, query, DAY)
        assert list(matches) == []
        assert matches.reason is not None and words in matches.reason


def test_frames_between_reads_a_range_by_time_without_pictures(store: MemoryStore) -> None:
    known = write_known_day(store)
    with store.read() as conn:
        found = rows.frames_between(conn, to_ms(at(9, 26, 56)), to_ms(at(9, 37, 4)))
        only_code = rows.frames_between(conn, to_ms(at(9, 0)), to_ms(at(11, 0)), app="code")
    assert [f.id for f in found] == known.frame_ids[450 + 358 : 450 + 362]
    assert [(f.at_ms, f.app, f.title, f.url) for f in found[:1]] == [
        (to_ms(at(9, 26, 56)), "firefox", DOCS_TITLE, "https://docs.example/budget")
    ]
    assert len(only_code) == 600 and {f.app for f in only_code} == {"code"}
    assert not any(isinstance(value, bytes) for f in found for value in f)
