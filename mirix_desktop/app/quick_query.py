"""The quick query box's results, as a person reads them: no Qt, no SQL.

A query typed into the box becomes a handful of results (`QuickResults`):
for each memory its app and the app's colour (the timeline's, so the two
windows agree), its title, when it was ("today 09:15", "yesterday 14:02",
"Mon 14:02", "Mon 3 Nov", "3 Nov 2024"), and a snippet with the query's words
marked. A time phrase in the query ("yesterday afternoon") is shown as a
chip and filters the search, as everywhere else (memory/timephrases.py).

Nothing a person can type is an error here: a query of only stop words or
only search syntax (`"`, `*`, `NEAR(`) has no words to look for and gives
no results and a hint, never an exception or "every memory".
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

# The timeline's colours, so an app looks the same in both windows.
from mirix_desktop.app.timeline import app_colour
from mirix_desktop.config import Settings
from mirix_desktop.memory.records import MemoryType
from mirix_desktop.memory.search import SearchEngine, SearchHit, SearchQuery, keyword_terms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.memory.timephrases import parse_time_phrases

RESULTS = 8
SNIPPET_CHARS = 160
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Endings taken off both sides before two words are compared: the store's
# index is porter-stemmed, so "crashes" found "crash"; the marks should agree.
_ENDINGS = ("ingly", "edly", "ing", "ed", "es", "s", "ly")
NO_WORDS_HINT = "Type a word to search for."


@dataclass(frozen=True)
class QuickHit:
    """One result row."""

    id: int
    type: MemoryType
    at: datetime  # aware, UTC inside
    app: str | None
    colour: str  # "#rrggbb", the app's
    title: str
    when: str  # "yesterday 14:02"
    snippet: str  # plain text
    marks: tuple[tuple[int, int], ...] = ()  # [start, end) of matched words in `snippet`

    def snippet_html(self) -> str:
        """The snippet as HTML, escaped, with the matched words in <b>."""
        return marked_html(self.snippet, self.marks)


@dataclass(frozen=True)
class QuickResults:
    """What one query came to."""

    query: str
    hits: list[QuickHit] = field(default_factory=list)
    chip: str | None = None  # the time phrase found: "yesterday afternoon"
    since: datetime | None = None
    until: datetime | None = None
    hint: str | None = None  # why there are no results, when it is not "nothing matched"
    seconds: float = 0.0

    @property
    def chip_tooltip(self) -> str | None:
        if self.chip is None:
            return None
        return f"Searching {describe_span(self.since, self.until)}"


def quick_search(
    store: MemoryStore,
    settings: Settings,
    query: str,
    *,
    limit: int = RESULTS,
    now: datetime | None = None,
    snippet_chars: int = SNIPPET_CHARS,
) -> QuickResults:
    """The results for `query` (hybrid search, time phrases as a filter); snippets of at most
    `snippet_chars` (a box row's width), around the first matched word."""
    started = time.perf_counter()
    now = now or datetime.now().astimezone()
    text = query.strip()
    if not text:
        return QuickResults(query)
    parsed = parse_time_phrases(text, now)
    span = parsed.time_range
    chip = span.phrase if span is not None else None
    since = span.since if span is not None else None
    until = span.until if span is not None else None
    terms = keyword_terms(parsed.text)
    if not terms and span is None:
        # Only stop words or search syntax: nothing to look for. (The engine
        # would answer with the newest memories, which is not what was asked.)
        return QuickResults(query, [], None, None, None, NO_WORDS_HINT, _since(started))
    engine = SearchEngine(store, candidates=settings.search.candidates)
    result = engine.search(SearchQuery(text=text, limit=limit, now=now))
    hits = [_quick_hit(hit, terms, now, snippet_chars) for hit in result.hits]
    # A box that shows why each result matched: when some results hold the
    # words, the others (found by meaning alone, often noise) are left out.
    worded = [hit for hit in hits if hit.marks or mark_spans(hit.title, terms)]
    hits = worded or hits
    return QuickResults(query, hits, chip, since, until, None, _since(started))


def _quick_hit(hit: SearchHit, terms: Sequence[str], now: datetime, chars: int) -> QuickHit:
    snippet = _shorten(hit.snippet, terms, chars)
    return QuickHit(
        hit.id,
        hit.type,
        hit.time,
        hit.app,
        app_colour(hit.app),
        hit.title or _untitled(hit.type),
        relative_time(hit.time, now),
        snippet,
        tuple(mark_spans(snippet, terms)),
    )


def _since(started: float) -> float:
    return time.perf_counter() - started


def _untitled(memory_type: MemoryType) -> str:
    return f"({memory_type.value.replace('_', ' ')} memory)"


# -- time ------------------------------------------------------------------------------------
def relative_time(at: datetime, now: datetime) -> str:
    """When `at` was, in the local time of `now`: "today 09:15", "yesterday 14:02",
    "Mon 14:02" (this past week), "Mon 3 Nov" (this year), "3 Nov 2024"."""
    local = at.astimezone(now.tzinfo)
    days = (now.date() - local.date()).days
    clock = f"{local:%H:%M}"
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    if 1 < days < 7:
        return f"{local:%a} {clock}"
    if local.year == now.year:
        return f"{local:%a} {local.day} {local:%b}"
    return f"{local.day} {local:%b %Y}"


def describe_span(since: datetime | None, until: datetime | None) -> str:
    """A time range in words: "from Tue 4 Nov 12:00 to 18:00"."""

    def moment(value: datetime) -> str:
        local = value.astimezone()
        return f"{local:%a} {local.day} {local:%b %H:%M}"

    if since and until:
        end = until.astimezone()
        same_day = since.astimezone().date() == end.date()
        return f"from {moment(since)} to {f'{end:%H:%M}' if same_day else moment(until)}"
    if since:
        return f"from {moment(since)} on"
    if until:
        return f"until {moment(until)}"
    return "all the time"


# -- snippets and marks ------------------------------------------------------------------------
def _stem(word: str) -> str:
    for ending in _ENDINGS:
        if len(word) - len(ending) >= 3 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def mark_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where the words of `text` that match a query term are: [start, end) pairs.

    A word matches a term when their stems agree ("crashes" and "crash") or
    the word begins with the term (a word still being typed: "quil").
    """
    wanted = [(term.lower(), _stem(term.lower())) for term in terms if term]
    if not wanted:
        return []
    # Either way a matching word begins with a term's stem: most words fail
    # that one cheap test and are never stemmed (marks are made per keystroke).
    stems = tuple(t_stem for _, t_stem in wanted)
    spans = []
    for match in _WORD.finditer(text):
        word = match.group(0).lower().split("'")[0]
        if not word.startswith(stems):
            continue
        stem = _stem(word)
        if any(stem == t_stem or word.startswith(term) for term, t_stem in wanted):
            spans.append((match.start(), match.start() + len(word)))
    return spans


def marked_html(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` escaped for HTML, with each span in <b>; spans out of order or overlapping are
    ignored rather than trusted."""
    out: list[str] = []
    last = 0
    for start, end in spans:
        if start < last or end <= start or end > len(text):
            continue
        out.append(html.escape(text[last:start]))
        out.append(f"<b>{html.escape(text[start:end])}</b>")
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def _shorten(snippet: str, terms: Sequence[str], limit: int = SNIPPET_CHARS) -> str:
    """One line of at most `limit` characters, around the first matched word."""
    text = " ".join(snippet.split())
    if len(text) <= limit:
        return text
    spans = mark_spans(text, terms)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - limit // 4, len(text) - limit))
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    part = text[start : start + limit - 2].rstrip()
    return ("…" if start > 0 else "") + part + ("…" if start + len(part) < len(text) else "")


__all__ = [
    "NO_WORDS_HINT",
    "QuickHit",
    "QuickResults",
    "app_colour",
    "describe_span",
    "mark_spans",
    "marked_html",
    "quick_search",
    "relative_time",
]
