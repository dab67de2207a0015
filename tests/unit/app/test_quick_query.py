"""The quick query's results as data: relative times, marked snippets, the time chip, odd input."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mirix_desktop.app.quick_query import (
    NO_WORDS_HINT,
    mark_spans,
    marked_html,
    quick_search,
    relative_time,
)
from mirix_desktop.app.timeline import app_colour
from mirix_desktop.config import Settings
from mirix_desktop.memory.records import ResourceMemory
from mirix_desktop.memory.store import MemoryStore

# A Thursday, in the local zone of the test run.
NOW = datetime(2026, 11, 5, 16, 30).astimezone()


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (NOW.replace(hour=9, minute=15), "today 09:15"),
        (NOW - timedelta(days=1, hours=2, minutes=28), "yesterday 14:02"),
        (NOW.replace(hour=0, minute=5), "today 00:05"),
        (NOW - timedelta(days=3), "Mon 16:30"),
        (NOW - timedelta(days=9), "Tue 27 Oct"),
        (NOW - timedelta(days=400), "1 Oct 2025"),
    ],
)
def test_relative_time_reads_like_a_person(at: datetime, expected: str) -> None:
    assert relative_time(at, NOW) == expected


def test_relative_time_uses_the_local_day_of_a_utc_time() -> None:
    local_morning = NOW.replace(hour=0, minute=30)
    assert relative_time(local_morning.astimezone(tz=None).astimezone(), NOW).startswith("today")


def test_marks_stemmed_and_prefix_words_and_escapes_html() -> None:
    text = "<script>Crashes & crash</script> quillwort ferry"
    spans = mark_spans(text, ["crash", "quil"])
    assert [text[a:b] for a, b in spans] == ["Crashes", "crash", "quillwort"]
    marked = marked_html(text, spans)
    assert "<script>" not in marked
    assert marked.startswith("&lt;script&gt;<b>Crashes</b> &amp; <b>crash</b>&lt;/script&gt;")
    assert "<b>quillwort</b> ferry" in marked
    # Spans that overlap or run past the text are not trusted.
    assert marked_html("abc", [(0, 2), (1, 3), (2, 9)]) == "<b>ab</b>c"


def test_results_carry_app_colour_time_title_and_marked_snippet(store: MemoryStore) -> None:
    seen = NOW - timedelta(days=1, hours=2)
    memory_id = store.add(
        ResourceMemory(
            content="The pelican ferry Quillwort leaves pier eleven at dawn",
            title="Harbour log - Mousepad",
            app="mousepad",
            first_seen=seen,
            last_seen=seen,
        )
    )
    results = quick_search(store, Settings(), "quillwort ferry", now=NOW)
    assert results.hint is None and results.chip is None
    hit = results.hits[0]
    assert hit.id == memory_id
    assert hit.app == "mousepad" and hit.colour == app_colour("mousepad")
    assert hit.title == "Harbour log - Mousepad"
    assert hit.when == f"yesterday {seen.astimezone():%H:%M}"
    assert "<b>Quillwort</b>" in hit.snippet_html() and "<b>ferry</b>" in hit.snippet_html()


def test_a_time_phrase_becomes_a_chip_and_filters(store: MemoryStore) -> None:
    yesterday_afternoon = (NOW - timedelta(days=1)).replace(hour=15, minute=0)
    this_morning = NOW.replace(hour=9, minute=0)
    old, new = store.add_many(
        [
            ResourceMemory(
                content="ticket JIRA-4521 login crash",
                title="JIRA",
                app="firefox",
                first_seen=yesterday_afternoon,
                last_seen=yesterday_afternoon,
            ),
            ResourceMemory(
                content="ticket JIRA-9000 other crash",
                title="JIRA",
                app="firefox",
                first_seen=this_morning,
                last_seen=this_morning,
            ),
        ]
    )
    results = quick_search(store, Settings(), "ticket yesterday afternoon", now=NOW)
    assert results.chip == "yesterday afternoon"
    assert results.since is not None and results.since.hour == 12
    assert results.until is not None and results.until.hour == 18
    assert results.chip_tooltip is not None and "12:00 to 18:00" in results.chip_tooltip
    assert [hit.id for hit in results.hits] == [old]
    assert new not in [
        hit.id for hit in quick_search(store, Settings(), "ticket yesterday", now=NOW).hits
    ]


@pytest.mark.parametrize("query", ['"', "*", "the of and", '" * ( "', ")", "AND OR NOT"])
def test_stop_words_and_search_syntax_give_no_error_and_no_results(
    store: MemoryStore, query: str
) -> None:
    store.add(ResourceMemory(content="near the harbour", title="notes", app="editor"))
    results = quick_search(store, Settings(), query, now=NOW)
    assert results.hits == []
    assert results.hint == NO_WORDS_HINT


def test_an_empty_query_is_quietly_nothing(store: MemoryStore) -> None:
    results = quick_search(store, Settings(), "   ", now=NOW)
    assert results.hits == [] and results.hint is None


@pytest.mark.parametrize("query", ["NEAR(", 'NEAR("harbour" *', "harbour*", '"harbour'])
def test_search_syntax_around_real_words_is_searched_as_words(
    store: MemoryStore, query: str
) -> None:
    memory_id = store.add(ResourceMemory(content="near the harbour", title="notes", app="editor"))
    results = quick_search(store, Settings(), query, now=NOW)
    assert [hit.id for hit in results.hits] == [memory_id]
    assert results.hint is None


def test_results_without_the_words_are_left_out_when_others_have_them(store: MemoryStore) -> None:
    worded = store.add(ResourceMemory(content="the dredger Marigold at berth seven", app="a"))
    store.add(ResourceMemory(content="Used Screen: i i", title="Screen", app="b"))
    results = quick_search(store, Settings(), "marigold", now=NOW)
    assert [hit.id for hit in results.hits] == [worded]
    # With no result holding the words, what meaning found is still shown.
    assert quick_search(store, Settings(), "zzzunmatched", now=NOW).hits
