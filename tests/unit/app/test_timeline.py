"""The timeline's pure parts: app colours, match boxes, a day's frames, query problems, days."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from mirix_desktop.app.timeline import (
    DayFrames,
    FrameStamp,
    LineBox,
    app_colour,
    day_bounds,
    match_boxes,
    query_problem,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_an_apps_colour_is_the_same_in_every_process() -> None:
    colour = app_colour("firefox")
    assert colour.startswith("#") and len(colour) == 7
    assert app_colour("Firefox ") == colour
    code = "from mirix_desktop.app.timeline import app_colour; print(app_colour('firefox'))"
    for seed in ("1", "2"):  # str hashes differ between these processes; the colour must not
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == colour


def test_apps_get_different_colours_and_no_app_is_grey() -> None:
    names = ["firefox", "code", "slack", "gnome-terminal", "libreoffice", "thunderbird"]
    assert len({app_colour(n) for n in names}) >= 4
    assert app_colour(None) == app_colour("other") == app_colour("unknown")
    assert app_colour(None) not in {app_colour(n) for n in names}


def test_match_boxes_estimate_a_words_span_by_its_share_of_the_line() -> None:
    line = LineBox("The marketing budget for Q3", 100, 40, 270, 20)  # 10 px a character
    assert match_boxes([line], ["budget"]) == [(240, 40, 60, 20)]
    assert match_boxes([line], ["BUDGET"]) == [(240, 40, 60, 20)]
    # "budgets" marks "budget"; "budg" marks the whole word it begins.
    assert match_boxes([line], ["budgets"]) == [(240, 40, 60, 20)]
    assert match_boxes([line], ["budg"]) == [(240, 40, 60, 20)]
    # Inside another word is not a match.
    assert match_boxes([line], ["get"]) == []
    two = [line, LineBox("budget, budget", 0, 80, 140, 20)]
    assert match_boxes(two, ["budget"]) == [(240, 40, 60, 20), (0, 80, 60, 20), (80, 80, 60, 20)]
    assert match_boxes(two, []) == []


def _frames() -> DayFrames:
    times = tuple(int((T0 + timedelta(seconds=2 * i)).timestamp() * 1000) for i in range(5))
    return DayFrames(
        (11, 12, 13, 14, 15), times, ("a", "a", "b", None, "b"), ("x", "x", "y", None, "y")
    )


def test_day_frames_answer_nearest_between_and_index_of() -> None:
    frames = _frames()
    assert len(frames) == 5 and list(frames.times_ms) == list(frames.at_ms)
    assert frames[2] == FrameStamp(T0 + timedelta(seconds=4), 13, "b", "y")
    assert [f.frame_id for f in frames[1:3]] == [12, 13]
    assert frames.nearest(T0 - timedelta(hours=1)) == 0
    assert frames.nearest(T0 + timedelta(seconds=4.9)) == 2
    assert frames.nearest(T0 + timedelta(seconds=5.1)) == 3
    assert frames.nearest(T0 + timedelta(hours=1)) == 4
    assert frames.between(T0 + timedelta(seconds=2), T0 + timedelta(seconds=6)) == range(1, 3)
    assert frames.index_of(14) == 3 and frames.index_of(99) is None
    assert DayFrames().nearest(T0) is None
    assert [f.frame_id for f in frames.only("b")] == [13, 15]
    assert [f.frame_id for f in frames.only("unknown")] == [14]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("the and of", "common words"),
        ("What is it?", "common words"),
        ('"', "nothing to search"),
        ("* ( ) ^", "nothing to search"),
        ("", "nothing to search"),
    ],
)
def test_queries_that_can_find_nothing_say_why(query: str, problem: str) -> None:
    found = query_problem(query)
    assert found is not None and problem in found


@pytest.mark.parametrize("query", ["budget", "NEAR(budget", '"budget"', "budget*", "the budget"])
def test_queries_with_a_word_have_no_problem(query: str) -> None:
    assert query_problem(query) is None


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("berlin")
def test_a_day_is_local_midnight_to_midnight_even_when_the_clock_changes() -> None:
    start, end = day_bounds(date(2026, 3, 29))  # clocks go forward: a 23-hour day
    assert start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=23)
    start, end = day_bounds(date(2026, 10, 25))  # and back: 25 hours
    assert end - start == timedelta(hours=25)
