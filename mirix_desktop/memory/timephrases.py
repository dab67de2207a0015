"""Turns time phrases in a question into a time filter.

"what was the ticket number yesterday afternoon?" searches for "ticket
number" between 12:00 and 18:00 of yesterday, in the user's local time.
Ranges ("last week", "this morning", "in the last 3 days", "on Monday",
"in March") are recognised by rules here, because dateparser answers with a
point in time, not a span; explicit dates ("on November 20", "2026-11-20")
are resolved by dateparser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
PARTS_OF_DAY = {
    "morning": (time(5), time(12)),
    "afternoon": (time(12), time(18)),
    "evening": (time(18), time(23, 59, 59)),
    "night": (time(20), time(23, 59, 59)),
}
_UNITS = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_PART = r"(?:\s+(?:in\s+the\s+)?(?P<part>morning|afternoon|evening|night))?"
# Prepositions that lead into a time phrase: part of the match, not of the phrase.
_LEAD_WORDS = r"(?:on|in|from|during|at|since)"
_LEAD = r"(?:\b" + _LEAD_WORDS + r"\s+)?"
_LEAD_WORD = re.compile(r"^" + _LEAD_WORDS + r"\s+", re.IGNORECASE)


@dataclass(frozen=True)
class TimeRange:
    since: datetime | None
    until: datetime | None
    phrase: str

    def to_json(self) -> dict[str, str | None]:
        """The documented JSON form (README: `search --json`, `ask --json`)."""
        return {
            "phrase": self.phrase,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    time_range: TimeRange | None


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _day_range(day: datetime, part: str | None) -> tuple[datetime, datetime]:
    start = _day_start(day)
    if part:
        begin, end = PARTS_OF_DAY[part]
        return (
            start.replace(hour=begin.hour, minute=begin.minute),
            start.replace(hour=end.hour, minute=end.minute, second=end.second),
        )
    return start, start + timedelta(days=1) - timedelta(microseconds=1)


def _month_range(year: int, month: int, now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    following = start.replace(year=year + (month == 12), month=month % 12 + 1)
    return start, following - timedelta(microseconds=1)


def _relative_day(match: re.Match[str], now: datetime) -> tuple[datetime, datetime]:
    word = match.group("day")
    part = match.groupdict().get("part")
    if word == "last night":
        return _day_range(now - timedelta(days=1), "night")
    if word == "tonight":
        return _day_range(now, "night")
    day = now - timedelta(days=1) if word == "yesterday" else now
    return _day_range(day, part)


def _this_part(match: re.Match[str], now: datetime) -> tuple[datetime, datetime]:
    return _day_range(now, match.group("part"))


def _weekday(match: re.Match[str], now: datetime) -> tuple[datetime, datetime]:
    target = WEEKDAYS.index(match.group("weekday"))
    back = (now.weekday() - target) % 7  # the most recent such day, today included
    if match.group("mod") == "last" and back == 0:
        back = 7  # "last Monday" said on a Monday is a week ago
    return _day_range(now - timedelta(days=back), match.group("part"))


def _calendar_span(match: re.Match[str], now: datetime) -> tuple[datetime, datetime]:
    modifier, unit = match.group("mod"), match.group("unit")
    today = _day_start(now)
    if unit == "week":
        start = today - timedelta(days=today.weekday())
        if modifier in ("last", "past", "previous"):
            return start - timedelta(weeks=1), start - timedelta(microseconds=1)
        return start, now
    if unit == "month":
        if modifier in ("last", "past", "previous"):
            year, month = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
            return _month_range(year, month, now)
        return today.replace(day=1), now
    # year
    if modifier in ("last", "past", "previous"):
        start = today.replace(year=now.year - 1, month=1, day=1)
        return start, today.replace(month=1, day=1) - timedelta(microseconds=1)
    return today.replace(month=1, day=1), now


def _last_n(match: re.Match[str], now: datetime) -> tuple[datetime, datetime]:
    count = _number(match.group("n"))
    return now - count * _UNITS[match.group("unit")], now


def _ago(match: re.Match[str], now: datetime) -> tuple[datetime, datetime]:
    count = _number(match.group("n"))
    unit = match.group("unit")
    moment = now - count * _UNITS[unit]
    if unit in ("day", "week"):
        if unit == "day":
            return _day_range(moment, None)
        start = _day_start(moment) - timedelta(days=moment.weekday())
        return start, start + timedelta(weeks=1) - timedelta(microseconds=1)
    half = _UNITS[unit] / 2
    return moment - half, min(now, moment + half)


def _month_name(match: re.Match[str], now: datetime) -> tuple[datetime, datetime]:
    month = next(i for i, name in enumerate(MONTHS, 1) if name.startswith(match.group("month")[:3]))
    year = (
        int(match.group("year"))
        if match.group("year")
        else (now.year if month <= now.month else now.year - 1)
    )
    return _month_range(year, month, now)


def _explicit_date(match: re.Match[str], now: datetime) -> tuple[datetime, datetime] | None:
    import dateparser

    parsed = dateparser.parse(
        match.group("date"),
        settings={"PREFER_DATES_FROM": "past", "RELATIVE_BASE": now.replace(tzinfo=None)},
    )
    if parsed is None:
        return None
    parsed = parsed.replace(tzinfo=now.tzinfo)
    return _day_range(parsed, match.group("part"))


_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "few": 3,
    "couple of": 2,
}


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


_N = r"(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of)"
_U = r"(?P<unit>minute|hour|day|week)s?"

_RULES = [
    (
        re.compile(
            _LEAD
            + r"\b(?:(?:in|during|over|within)\s+)?(?:the\s+)?(?:last|past)\s+"
            + _N
            + r"\s+"
            + _U
            + r"\b"
        ),
        _last_n,
    ),
    (re.compile(_LEAD + r"\b" + _N + r"\s+" + _U + r"\s+ago\b"), _ago),
    (re.compile(r"\b(?P<day>last night|tonight)\b"), _relative_day),
    (re.compile(_LEAD + r"\b(?P<day>yesterday|today)\b" + _PART), _relative_day),
    (
        re.compile(r"\b(?:(?:early|late)\s+)?this\s+(?P<part>morning|afternoon|evening)\b"),
        _this_part,
    ),
    (
        re.compile(
            _LEAD
            + r"\b(?:(?P<mod>last|this)\s+)?(?P<weekday>"
            + "|".join(WEEKDAYS)
            + r")\b"
            + _PART
        ),
        _weekday,
    ),
    (
        re.compile(_LEAD + r"\b(?P<mod>last|this|past|previous)\s+(?P<unit>week|month|year)\b"),
        _calendar_span,
    ),
    (
        re.compile(
            _LEAD + r"\b(?P<date>\d{4}-\d{2}-\d{2}|" + _MONTH_RE + r"\s+\d{1,2}(?:st|nd|rd|th)?"
            r"(?:,?\s+\d{4})?|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
            + _MONTH_RE
            + r"(?:,?\s+\d{4})?)\b"
            + _PART
        ),
        _explicit_date,
    ),
    (
        re.compile(
            r"\b(?:in|during)\s+(?P<month>" + "|".join(MONTHS) + r")(?:\s+(?P<year>\d{4}))?\b"
        ),
        _month_name,
    ),
]


def parse_time_phrases(query: str, now: datetime | None = None) -> ParsedQuery:
    """Finds the first time phrase in `query`; returns the rest of the text and the range."""
    now = now or datetime.now().astimezone()
    if now.tzinfo is None:
        now = now.astimezone()
    # Lowered letter by letter, so that offsets in it are offsets in `query`:
    # "İ".lower() is two characters.
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in query)
    for pattern, resolve in _RULES:
        match = pattern.search(lowered)
        if not match:
            continue
        try:
            span = resolve(match, now)
        except (OverflowError, ValueError):
            # A span no calendar holds ("in the last 10^12 days", "in March 0000").
            continue
        if span is None:
            continue
        rest = (query[: match.start()] + " " + query[match.end() :]).strip()
        rest = re.sub(r"\s{2,}", " ", rest).strip(" ,")
        since, until = span
        phrase = _LEAD_WORD.sub("", query[match.start() : match.end()].strip())
        # Nothing is stored after now; a span wholly in the future stays as it is.
        return ParsedQuery(
            rest, TimeRange(since, min(until, now) if since <= now else until, phrase)
        )
    return ParsedQuery(query, None)
