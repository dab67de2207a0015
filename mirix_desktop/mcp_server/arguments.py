"""Tool arguments as a client sends them, checked: times, time ranges, days, one-of pairs.

A model reads these messages and retries, so each one says what is wrong and
what works. Everything here raises `InvalidQuery` (a `KnownError`), which the
tools turn into an MCP tool error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from mirix_desktop.app.when import parse_moment
from mirix_desktop.errors import InvalidQuery

MAX_LIMIT = 50
# Longer text is refused before any work: a search of 2,000 characters is
# already a page, a date or a phrase ('last tuesday afternoon') is short, and
# a message quoting a huge value back would be as huge.
MAX_QUERY_CHARS = 2000
MAX_WHEN_CHARS = 100
MAX_APP_CHARS = 200
# A timeline over more than this is refused: a client wanting a month reads it
# in weeks, and the server never builds a huge answer at once.
MAX_TIMELINE_DAYS = 31


@dataclass(frozen=True)
class Span:
    """A time range in aware datetimes: [start, end)."""

    start: datetime
    end: datetime


def bounded(value: str, name: str, most: int) -> str:
    """`value` if it has at most `most` characters; else an InvalidQuery saying so."""
    if len(value) > most:
        raise InvalidQuery(f"{name} too long ({len(value):,} characters; at most {most:,}).")
    return value


def moment(value: str | None, now: datetime, name: str, *, end: bool = False) -> datetime | None:
    """An ISO date/time or a phrase ("yesterday"), or None when not given."""
    if value is None or not value.strip():
        return None
    bounded(value, name, MAX_WHEN_CHARS)
    try:
        return parse_moment(value.strip(), now, end=end)
    except InvalidQuery as exc:
        raise InvalidQuery(f"{name}: {exc.message}") from exc


def time_range(
    since: str | None, until: str | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """`since` and `until` parsed, checked to be in order."""
    start = moment(since, now, "since")
    stop = moment(until, now, "until", end=True)
    if start is not None and stop is not None and start > stop:
        raise InvalidQuery(
            f"since ({start.isoformat()}) is after until ({stop.isoformat()}): swap them."
        )
    return start, stop


def local_day(day: date) -> Span:
    """Local midnight to the next local midnight."""
    start = datetime.combine(day, time()).astimezone()
    return Span(start, datetime.combine(day + timedelta(days=1), time()).astimezone())


def timeline_span(day: str | None, since: str | None, until: str | None, now: datetime) -> Span:
    """`date` alone, or `since`/`until`; neither: today. At most MAX_TIMELINE_DAYS."""
    if day and (since or until):
        raise InvalidQuery("Give either date or since/until, not both.")
    if day:
        try:
            return local_day(date.fromisoformat(day.strip()))
        except ValueError:
            pass
        found = moment(day, now, "date")
        assert found is not None  # `day` is not blank here
        return local_day(found.astimezone().date())
    if not since and not until:
        return local_day(now.astimezone().date())
    start, stop = time_range(since, until, now)
    stop = stop or now
    start = start or stop - timedelta(days=1)
    if stop - start > timedelta(days=MAX_TIMELINE_DAYS):
        raise InvalidQuery(
            f"The range is {(stop - start).days} days long; at most {MAX_TIMELINE_DAYS} days "
            "are given at once: ask for it in parts."
        )
    return Span(start, stop)


def one_of(first: tuple[str, object | None], second: tuple[str, object | None]) -> None:
    """Exactly one of two arguments must be given."""
    (first_name, first_value), (second_name, second_value) = first, second
    if (first_value is None) == (second_value is None):
        raise InvalidQuery(f"Give exactly one of {first_name} or {second_name}.")
