"""Properties of query parsing and FTS query building: no user string breaks a search.

Every question typed into `search`, `ask` or the chat becomes an FTS5 MATCH
expression; FTS5 has its own query syntax (quotes, NEAR, *, column filters,
AND/OR/NOT), and a syntax error there would be a traceback for the user.
The expressions are run against a real FTS5 table with the store's tokenizer,
and whole searches against a small real store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3
from hypothesis import example, given
from hypothesis import strategies as st

from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import EpisodicMemory
from mirix_desktop.memory.search import (
    STOPWORDS,
    SearchEngine,
    SearchQuery,
    fts_query,
    keyword_terms,
)
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

# FTS5's own syntax, the words of time phrases, and text in other scripts.
_SYNTAX = st.sampled_from(
    [
        '"', "'", "*", "^", ":", "(", ")", "-", "+", "{", "}", "[", "]", ",", ".", "NEAR",
        "NEAR(", "AND", "OR", "NOT", "title:", "body:", "memory_fts", "\\", "''", '""', "\x00",
        "rank", "bm25(", "yesterday", "last week", "in march", "3 days ago", "on monday",
        "2026-11-20", "é", "ß", "İ", "ǅ", "ﬁ", "日本語", "١٢٣", "🙂", "\u200b", "\ufeff",
    ]
)  # fmt: skip
USER_TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(_SYNTAX, st.text(max_size=6)), max_size=12).map(" ".join),
    st.lists(st.one_of(_SYNTAX, st.text(max_size=3)), max_size=12).map("".join),
)
# Terms as they could reach fts_query from elsewhere (the AND plan, snippets).
TERMS = st.lists(st.text(min_size=1).filter(lambda t: "\x00" not in t), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def fts() -> Iterator[Any]:
    """An in-memory FTS5 table like the store's, with a few rows."""
    conn = sqlcipher3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE memory_fts USING fts5 "
        "(title, body, tokenize='porter unicode61 remove_diacritics 2')"
    )
    conn.executemany(
        "INSERT INTO memory_fts (title, body) VALUES (?, ?)",
        [
            ("Budget", "The Q3 budget table for the capybara shelter"),
            ("Near", "near or and not: the words of FTS5 syntax, quoted"),
            ("Café", "Zürich naïve café 日本語 İstanbul"),
        ],
    )
    yield conn
    conn.close()


def _match(conn: Any, expression: str) -> list[Any]:
    rows: list[Any] = conn.execute(
        "SELECT rowid, bm25(memory_fts), snippet(memory_fts, 1, '', '', '…', 32) "
        "FROM memory_fts WHERE memory_fts MATCH ?",
        (expression,),
    ).fetchall()
    return rows


@given(USER_TEXT)
@example('NEAR("a" b) OR * column:value "quoted')
@example('" OR "')
@example("title:budget")
@example("\x00budget")
def test_keyword_terms_are_words_without_stopwords_or_duplicates(text: str) -> None:
    terms = keyword_terms(text)
    assert len(terms) == len(set(terms))
    for term in terms:
        assert term and term not in STOPWORDS
        assert all(char.isalnum() for char in term), term


@given(USER_TEXT)
@example('NEAR("a" b) OR * column:value "quoted')
@example('budget" OR title:"x')
@example("AND OR NOT")
@example("ﬁle ǅ İ")
def test_the_match_expression_of_any_question_is_valid_fts5(fts: Any, text: str) -> None:
    terms = keyword_terms(text)
    if terms:
        _match(fts, fts_query(terms))
        # On big stores the two rarest terms must appear together.
        _match(fts, " AND ".join(fts_query([term]) for term in terms[:2]))


@given(TERMS)
@example(['"'])
@example(['a" OR "b'])
@example(["*"])
@example(["NEAR(a b)"])
@example([" "])
def test_any_terms_are_quoted_into_literals(fts: Any, terms: list[str]) -> None:
    _match(fts, fts_query(terms))


@given(TERMS)
def test_a_quoted_term_finds_the_rows_holding_it(fts: Any, terms: list[str]) -> None:
    # Quoting keeps meaning: "budget" plus anything still finds the budget row.
    rows = _match(fts, fts_query([*terms, "budget"]))
    assert 1 in {row[0] for row in rows}


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory, embedder: StaticEmbedder) -> Iterator[Any]:
    """Searches over a small real store: as built, and with the big-store plans forced."""
    path: Path = tmp_path_factory.mktemp("search-properties") / "mirix.db"
    store = MemoryStore.open(path, KeySource(passphrase=PASSPHRASE), embedder)
    texts = [
        "Edited the Q3 budget table in LibreOffice",
        "Read about capybara shelters near the river",
        "Chat with Sam: where did you buy that red bicycle?",
        "Terminal: pytest -k 'near and not slow' passed",
        "Café in Zürich, naïve art, 日本語のテキスト",
    ]
    store.add_many(
        [
            EpisodicMemory(summary=text, thread="t", started_at=NOW.replace(day=day))
            for day, text in enumerate(texts, start=10)
        ]
    )
    yield [SearchEngine(store), SearchEngine(store, postings_budget=0)]
    store.close()


@given(USER_TEXT)
@example("what did I do yesterday?")
@example('"budget" NEAR/2 table*')
@example("in march 0000")
@example("in december 9999")
@example("in the last 999999999999 days")
@example("99999999999 weeks ago")
@example("İİİ on monday")
def test_searching_any_text_does_not_raise(engines: list[SearchEngine], text: str) -> None:
    for engine in engines:
        result = engine.search(SearchQuery(text, limit=5, now=NOW))
        range_ = result.time_range
        if range_ is not None and range_.since is not None and range_.until is not None:
            assert range_.since <= range_.until
