"""Properties of time phrases: any text parses without an error, into an ordered range.

`parse_time_phrases` reads the question of every search and ask;
`parse_moment` reads --since/--until/--at and the windows' date fields,
where anything it cannot read must be an `InvalidQuery` saying what works.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from mirix_desktop.app.when import parse_moment
from mirix_desktop.errors import InvalidQuery
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.timephrases import parse_time_phrases

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

PHRASES = [
    "yesterday",
    "today",
    "yesterday afternoon",
    "last night",
    "tonight",
    "this morning",
    "last week",
    "this month",
    "last year",
    "past week",
    "in the last 3 days",
    "in the past 2 hours",
    "in the last couple of weeks",
    "5 minutes ago",
    "an hour ago",
    "two weeks ago",
    "on monday",
    "last friday evening",
    "in march",
    "in december 2025",
    "on november 3",
    "on 3rd of may 2024",
    "2026-11-02",
    "on 2027-01-01",
]
_WORDS = st.sampled_from(
    [
        *PHRASES,
        "the",
        "budget",
        "in",
        "on",
        "at",
        "since",
        "last",
        "ago",
        "0000",
        "9999",
        "99999999999999",
        "13",
        "february 30",
        "2026-13-45",
        "0001-01-01",
        "İ",
        "١٢٣",
        "\x00",
        ",",
    ]
)
QUESTIONS = st.one_of(
    st.text(), st.lists(st.one_of(_WORDS, st.text(max_size=5)), max_size=10).map(" ".join)
)
ZONES = st.one_of(
    st.just(UTC),
    st.sampled_from(
        [ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")]
    ),
    st.builds(
        timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
    ),
)
NOWS = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
    ZONES,
)


@given(QUESTIONS, NOWS)
@example("in the last 999999999999 days", NOW)  # more days than any date holds
@example("99999999999 weeks ago", NOW)
@example("in march 0000", NOW)  # no year 0
@example("in december 9999", NOW)  # its end is in the year 10000
@example("on 2027-01-01", NOW)  # a future day: its range is not cut at now
def test_any_question_parses_into_an_ordered_range(text: str, now: datetime) -> None:
    parsed = parse_time_phrases(text, now)
    found = parsed.time_range
    if found is None:
        assert parsed.text == text
        return
    assert found.since is not None and found.until is not None
    assert found.since <= found.until
    assert found.until <= now or found.since > now  # nothing after now, unless all of it is
    to_ms(found.since), to_ms(found.until)  # both can be stored and compared
    assert found.phrase and found.phrase in text


@given(
    st.sampled_from(PHRASES),
    st.text(alphabet="İ xz", max_size=6),
    st.text(alphabet="İ xz", max_size=6),
)
@example("yesterday", "İ ", "")  # "İ".lower() is two characters
def test_the_phrase_found_is_the_one_in_the_question(phrase: str, before: str, after: str) -> None:
    text = f"{before} {phrase} {after}"
    parsed = parse_time_phrases(text, NOW)
    assert parsed.time_range is not None
    lead = ("on ", "in ")
    expected = next((phrase[len(w) :] for w in lead if phrase.startswith(w)), phrase)
    assert parsed.time_range.phrase == expected
    assert phrase not in parsed.text


@given(st.one_of(QUESTIONS, st.datetimes().map(lambda d: d.isoformat())), NOWS, st.booleans())
@example("0001-01-01", NOW, False)  # the local time of a naive year-1 date is year 0
@example("0001-01-01T00:30+01:00", NOW, False)  # year 0 in UTC: no timestamp
@example("9999-12-31", NOW, True)
@example("2026-11-20T14:30+99:00", NOW, False)
def test_a_moment_is_a_storable_date_or_an_invalid_query(
    value: str, now: datetime, end: bool
) -> None:
    try:
        moment = parse_moment(value, now, end=end)
    except InvalidQuery as exc:
        assert value[:20] in exc.message or repr(value)[:20] in exc.message
        return
    assert moment.tzinfo is not None
    to_ms(moment)
