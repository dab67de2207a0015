"""Time filters typed by a person: ISO dates and times, or phrases."""

from __future__ import annotations

from datetime import datetime

import pytest

from mirix_desktop.app.when import parse_moment
from mirix_desktop.errors import InvalidQuery

NOW = datetime(2026, 11, 20, 15, 0).astimezone()


def test_iso_dates_and_times() -> None:
    assert parse_moment("2026-11-19T10:30", NOW) == datetime(2026, 11, 19, 10, 30).astimezone()
    assert parse_moment("2026-11-19", NOW) == datetime(2026, 11, 19).astimezone()
    end = parse_moment("2026-11-19", NOW, end=True)
    assert (end.date().day, end.hour, end.minute) == (19, 23, 59)


def test_phrases_give_the_start_or_the_end_of_their_span() -> None:
    start = parse_moment("yesterday", NOW)
    end = parse_moment("yesterday", NOW, end=True)
    assert start.date().day == 19 and start < end <= NOW


def test_nonsense_says_what_works() -> None:
    with pytest.raises(InvalidQuery, match="ISO form"):
        parse_moment("the day after never", NOW)
