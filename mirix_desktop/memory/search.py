"""Hybrid search: FTS5 BM25 and vector KNN, fused, smoothed over neighbours.

The recipe, tuned on LoCoMo dev (README, "Retrieval quality"):

1. Keyword: the query's non-stopword terms, each quoted, joined with OR, over
   the porter-stemmed FTS5 index; top `candidates` by bm25.
2. Vector: the query's embedding against the 1-bit index, rescored with the
   float vectors; top `candidates` by cosine.
3. Each list's scores are min-max normalised over its own candidates, then
   fused = keyword + 0.5 * vector.
4. Neighbour smoothing: a memory also gets 0.5x the fused score of the memory
   just before/after it in the same thread, and 0.3x of those two away. What
   the user saw or said next to a match is context for it (a reply, the next
   lines of a page); this alone adds ~0.06 recall@10.

Filters (type, time range, app) apply inside both first passes. Time phrases
in the question become a time range (timephrases.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.filters import MemoryFilter
from mirix_desktop.memory.records import MemoryRecord, MemoryType, to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.memory.timephrases import TimeRange, parse_time_phrases

SearchMode = Literal["hybrid", "keyword", "vector"]

VECTOR_WEIGHT = 0.5
NEIGHBOUR_WEIGHTS = (0.5, 0.3)  # one and two steps away in the same thread
# FTS5 scores every memory that holds any OR'd term and has no top-k early
# exit, so on big stores the keyword pass takes the query's rarest terms while
# their memories add up to at most this many; if even the rarest term is
# commoner than that, the two rarest must appear together (AND). Measured in
# tests/benchmarks/search_latency.py: at 1M memories hybrid p95 went from
# 627 ms (all terms) to 131 ms. Stores smaller than the budget keep every term.
POSTINGS_BUDGET = 10_000
_SNIPPET_CHARS = 240
# A filter by type alone that rejects at most this many memories (the
# assistant's: everything but core memory and the vault) is applied by
# dropping them from unfiltered first passes, which take that many more: the
# same candidates, without the filtered passes' cost (a row lookup per
# keyword match, vec0's filtered scan: together ~40 ms of a 100k search).
MAX_REJECTED = 1000

_STOPWORD_TEXT = """
a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he
    he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've
    if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of
    off on once only or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those through
    to too under until up very was wasn't we we'd we'll we're we've were weren't what what's
    when when's where where's which while who who's whom why why's with won't would wouldn't
    you you'd you'll you're you've your yours yourself yourselves s t d ll m re ve y also just
    will"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def keyword_terms(text: str) -> list[str]:
    """The query's search terms: lowercase words, no stopwords, no duplicates."""
    terms: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        if token in STOPWORDS:
            continue
        word = token.split("'")[0]  # "caroline's" -> "caroline"
        if word and word not in STOPWORDS and word not in terms:
            terms.append(word)
    return terms


def fts_query(terms: Sequence[str]) -> str:
    # Quoting makes every term a literal: no FTS5 syntax from user input.
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


@dataclass(frozen=True)
class SearchQuery:
    text: str
    types: Sequence[MemoryType] = ()
    since: datetime | None = None
    until: datetime | None = None
    apps: Sequence[str] = ()
    limit: int = 10
    parse_time: bool = True
    now: datetime | None = None
    exclude_apps: Sequence[str] = ()  # never returned (the MCP server's `mcp.exclude_apps`)


@dataclass(frozen=True)
class SearchHit:
    id: int
    type: MemoryType
    time: datetime
    end_time: datetime | None
    app: str | None
    title: str | None
    snippet: str
    score: float

    def to_json(self) -> dict[str, Any]:
        """The documented, stable JSON form (README, "search --json")."""
        return {
            "id": self.id,
            "type": self.type.value,
            "time": self.time.isoformat(),
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "app": self.app,
            "title": self.title,
            "snippet": self.snippet,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    text: str
    time_range: TimeRange | None = None
    records: dict[int, MemoryRecord] = field(default_factory=dict)


def _minmax(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return dict.fromkeys(scores, 1.0)
    return {k: (v - low) / (high - low) for k, v in scores.items()}


class SearchEngine:
    """Runs searches over one store, from any thread.

    Each pass reads inside `store.read()` (the store's locking rule), so a
    search never sees another thread's write half done; embedding the
    question happens outside the lock.
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        mode: SearchMode = "hybrid",
        candidates: int = 100,
        vector_weight: float = VECTOR_WEIGHT,
        neighbour_weights: Sequence[float] = NEIGHBOUR_WEIGHTS,
        postings_budget: int = POSTINGS_BUDGET,
    ) -> None:
        self.store = store
        self.mode = mode
        self.candidates = candidates
        self.vector_weight = vector_weight
        self.neighbour_weights = tuple(neighbour_weights)
        self.postings_budget = postings_budget

    def search(self, query: SearchQuery) -> SearchResult:
        text, since, until, time_range = query.text, query.since, query.until, None
        if query.parse_time:
            parsed = parse_time_phrases(query.text, query.now)
            if parsed.time_range is not None:
                text, time_range = parsed.text, parsed.time_range
                since = max(filter(None, (since, time_range.since)), default=None)
                until = min(filter(None, (until, time_range.until)), default=None)
        where = MemoryFilter(
            types=tuple(t.value for t in query.types),
            since=to_ms(since) if since else None,
            until=to_ms(until) if until else None,
            apps=tuple(query.apps),
            exclude_apps=tuple(query.exclude_apps),
        )
        terms = keyword_terms(text)
        if not terms:
            # Nothing to match ("what did I do yesterday?"): the newest in range.
            return self._recent(where, query.limit, text, time_range)

        rejected = self._rejected(where)
        keyword = self._keyword(terms, where, rejected) if self.mode != "vector" else {}
        vector = self._vector(text, where, rejected) if self.mode != "keyword" else {}
        fused: dict[int, float] = dict(_minmax(keyword))
        for id_, score in _minmax(vector).items():
            fused[id_] = fused.get(id_, 0.0) + self.vector_weight * score
        scores = self._smooth(fused) if any(self.neighbour_weights) else fused

        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        records = self.store.get_many([id_ for id_, _ in ranked[: query.limit * 3]])
        chosen = [
            (id_, score)
            for id_, score in ranked[: query.limit * 3]
            if id_ in records and where.accepts(records[id_])
        ][: query.limit]
        snippets = self._snippets(terms, [id_ for id_, _ in chosen])
        hits = [self._hit(records[id_], score, snippets.get(id_)) for id_, score in chosen]
        return SearchResult(hits, text, time_range, {h.id: records[h.id] for h in hits})

    # -- the two first passes --------------------------------------------------------
    def _document_frequencies(self, conn: Connection, terms: Sequence[str]) -> dict[str, int]:
        """How many memories hold each term, stemmed by the index's own tokenizer.

        Writes the terms to a temp table: `conn` must be held (`store.read()`).
        """
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_stems USING fts5 "
            "(t, tokenize='porter unicode61 remove_diacritics 2')"
        )
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_stems_vocab "
            "USING fts5vocab(temp, query_stems, instance)"
        )
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.memory_fts_vocab "
            "USING fts5vocab(main, memory_fts, row)"
        )
        conn.execute("DELETE FROM temp.query_stems")
        conn.executemany(
            "INSERT INTO temp.query_stems (rowid, t) VALUES (?, ?)", list(enumerate(terms))
        )
        stems = dict(conn.execute("SELECT doc, term FROM temp.query_stems_vocab"))
        frequencies: dict[str, int] = {}
        for index, term in enumerate(terms):
            row = conn.execute(
                "SELECT doc FROM temp.memory_fts_vocab WHERE term = ?", (stems.get(index, term),)
            ).fetchone()
            frequencies[term] = int(row[0]) if row else 0
        return frequencies

    def _keyword_plans(self, terms: Sequence[str]) -> list[str]:
        """FTS5 queries to try in turn: all terms OR'd, or a cheaper plan on big stores."""
        with self.store.read() as conn:
            # max(id) bounds the count and, unlike count(*), costs no scan.
            total = int(conn.execute("SELECT max(id) FROM memories").fetchone()[0] or 0)
            if len(terms) < 2 or total <= self.postings_budget:
                return [fts_query(terms)]
            frequencies = self._document_frequencies(conn, terms)
        rarest_first = sorted(terms, key=lambda t: frequencies[t])
        if frequencies[rarest_first[0]] > self.postings_budget:
            both = " AND ".join(fts_query([t]) for t in rarest_first[:2])
            return [both, fts_query(rarest_first[:1])]
        kept: list[str] = []
        postings = 0
        for term in rarest_first:
            if kept and postings + frequencies[term] > self.postings_budget:
                break
            kept.append(term)
            postings += frequencies[term]
        return [fts_query(kept)]

    def _rejected(self, where: MemoryFilter) -> frozenset[int] | None:
        """Every memory `where` rejects, if it filters by type alone and rejects few."""
        if not where.active:
            return frozenset()
        if where.apps or where.exclude_apps or where.since is not None or where.until is not None:
            return None
        others = [t.value for t in MemoryType if t.value not in where.types]
        if not others:
            return frozenset()
        with self.store.read() as conn:
            rows = conn.execute(
                f"SELECT id FROM memories WHERE type IN ({','.join('?' * len(others))}) LIMIT ?",
                [*others, MAX_REJECTED + 1],
            ).fetchall()
        return frozenset(r[0] for r in rows) if len(rows) <= MAX_REJECTED else None

    def _keyword(
        self, terms: Sequence[str], where: MemoryFilter, rejected: frozenset[int] | None
    ) -> dict[int, float]:
        if rejected is not None:
            # FTS5 alone: no lookup of each match's memory row.
            sql = (
                "SELECT rowid, bm25(memory_fts, 2.0, 1.0) AS rank FROM memory_fts "
                "WHERE memory_fts MATCH ? ORDER BY rank LIMIT ?"
            )
            params: list[Any] = []
            limit = self.candidates + len(rejected)
        else:
            clauses, params = where.sql("m.")
            sql = (
                "SELECT memory_fts.rowid, bm25(memory_fts, 2.0, 1.0) AS rank FROM memory_fts "
                "JOIN memories m ON m.id = memory_fts.rowid WHERE memory_fts MATCH ? AND "
                + " AND ".join(clauses)
                + " ORDER BY rank LIMIT ?"
            )
            limit = self.candidates
        with self.store.read() as conn:
            for plan in self._keyword_plans(terms):
                rows = conn.execute(sql, [plan, *params, limit]).fetchall()
                if rows:
                    break
        if rejected:
            rows = [row for row in rows if row[0] not in rejected][: self.candidates]
        return {id_: -rank for id_, rank in rows}

    def _vector(
        self, text: str, where: MemoryFilter, rejected: frozenset[int] | None
    ) -> dict[int, float]:
        # Embedding needs no connection: done before taking the store's lock.
        query_vector = self.store.embedder.embed([text])[0]
        with self.store.read():
            if where.active and rejected is not None:
                found = self.store.vectors.knn(query_vector, self.candidates, rejected=rejected)
            else:
                found = self.store.vectors.knn(query_vector, self.candidates, where)
        return dict(found)

    # -- neighbour smoothing ---------------------------------------------------------
    def _smooth(self, fused: dict[int, float]) -> dict[int, float]:
        if not fused:
            return {}
        reach = len(self.neighbour_weights)
        ids = list(fused)
        smoothed = dict(fused)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            with self.store.read() as conn:
                rows = conn.execute(
                    f"""SELECT m.id,
                          (SELECT group_concat(id) FROM (
                             SELECT p.id FROM memories p WHERE p.thread = m.thread AND p.id < m.id
                             ORDER BY p.id DESC LIMIT {reach})),
                          (SELECT group_concat(id) FROM (
                             SELECT n.id FROM memories n WHERE n.thread = m.thread AND n.id > m.id
                             ORDER BY n.id LIMIT {reach}))
                        FROM memories m
                        WHERE m.thread IS NOT NULL AND m.id IN ({",".join("?" * len(chunk))})""",
                    chunk,
                ).fetchall()
            for id_, before, after in rows:
                source = fused[id_]
                for side in (before, after):
                    if not side:
                        continue
                    neighbours = [int(n) for n in side.split(",")]
                    if side is before:
                        neighbours.sort(reverse=True)  # nearest first
                    else:
                        neighbours.sort()
                    for weight, neighbour in zip(self.neighbour_weights, neighbours, strict=False):
                        smoothed[neighbour] = smoothed.get(neighbour, 0.0) + weight * source
        return smoothed

    # -- presentation ------------------------------------------------------------------
    def _snippets(self, terms: Sequence[str], ids: Sequence[int]) -> dict[int, str]:
        if not terms or not ids:
            return {}
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT rowid, snippet(memory_fts, 1, '', '', '…', 32) FROM memory_fts "
                f"WHERE memory_fts MATCH ? AND rowid IN ({','.join('?' * len(ids))})",
                [fts_query(terms), *ids],
            ).fetchall()
        return {id_: text for id_, text in rows if text}

    def _hit(self, record: MemoryRecord, score: float, snippet: str | None) -> SearchHit:
        if not snippet:
            body = " ".join(record.body.split())
            snippet = body if len(body) <= _SNIPPET_CHARS else body[: _SNIPPET_CHARS - 1] + "…"
        return SearchHit(
            record.id,
            record.type,
            record.time,
            record.end_time,
            record.app,
            record.title,
            snippet,
            score,
        )

    def _recent(
        self, where: MemoryFilter, limit: int, text: str, time_range: TimeRange | None
    ) -> SearchResult:
        """An empty question ("what did I do yesterday?"): the newest memories in range."""
        clauses, params = where.sql("m.")
        clause = " AND ".join(clauses)
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT m.id FROM memories m"
                + (f" WHERE {clause}" if clause else "")
                + " ORDER BY m.time DESC, m.id DESC LIMIT ?",
                [*params, limit],
            ).fetchall()
        records = self.store.get_many([r[0] for r in rows])
        hits = [self._hit(records[r[0]], 0.0, None) for r in rows]
        return SearchResult(hits, text, time_range, records)


def describe_range(time_range: TimeRange | None) -> str:
    if time_range is None:
        return ""
    parts = []
    if time_range.since:
        parts.append(f"from {time_range.since:%Y-%m-%d %H:%M}")
    if time_range.until:
        parts.append(f"until {time_range.until:%Y-%m-%d %H:%M}")
    return f"{time_range.phrase!r} → " + " ".join(parts)


__all__ = ["SearchEngine", "SearchHit", "SearchQuery", "SearchResult"]
