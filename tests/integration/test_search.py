"""Hybrid search behaviour a user notices: matches, meaning, filters, context."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mirix_desktop.memory import search as search_module
from mirix_desktop.memory.embedder import StaticEmbedder, Vectors
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import (
    CoreMemory,
    EpisodicMemory,
    KnowledgeVaultItem,
    MemoryType,
    ResourceMemory,
    SemanticMemory,
)
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE

NOW = datetime(2026, 11, 19, 16, 0, tzinfo=UTC)


def episode(text: str, app: str, hours_ago: float, thread: str | None = None) -> EpisodicMemory:
    start = NOW - timedelta(hours=hours_ago)
    return EpisodicMemory(
        summary=text,
        app=app,
        started_at=start,
        ended_at=start + timedelta(minutes=20),
        thread=thread,
    )


@pytest.fixture
def filled(store: MemoryStore) -> MemoryStore:
    store.add_many(
        [
            episode("Reviewed ticket PROJ-4521 about the login page crash", "Firefox", 2),
            episode("Wrote the quarterly budget spreadsheet totals", "LibreOffice Calc", 26),
            episode("Read a paper on dense passage retrieval for open-domain QA", "Evince", 30),
            episode("Chatted with Dana about the weekend hiking trip", "Signal", 50),
            ResourceMemory(
                content="Installing Python packages with pip and virtual environments",
                title="pip docs",
                app="Firefox",
                first_seen=NOW - timedelta(hours=5),
            ),
        ]
    )
    return store


def search(store: MemoryStore, text: str, **options: object) -> list[str]:
    engine = SearchEngine(store, mode=options.pop("mode", "hybrid"))  # type: ignore[arg-type]
    query = SearchQuery(text, now=NOW, **options)  # type: ignore[arg-type]
    return [store.get(h.id).body for h in engine.search(query).hits]


def test_keyword_match_comes_first(filled: MemoryStore) -> None:
    assert "PROJ-4521" in search(filled, "PROJ-4521 ticket")[0]


def test_meaning_without_shared_words(filled: MemoryStore) -> None:
    query = "scientific article about searching documents"
    assert "dense passage retrieval" in search(filled, query, mode="vector")[0]
    assert "dense passage retrieval" in search(filled, query)[0]


def test_stemming_matches_word_forms(filled: MemoryStore) -> None:
    assert "pip" in search(filled, "install package", mode="keyword")[0]


def test_type_app_and_time_filters(filled: MemoryStore) -> None:
    assert search(filled, "pip packages", types=[MemoryType.EPISODIC], mode="keyword") == []
    firefox = SearchEngine(filled).search(SearchQuery("page", apps=["Firefox"], now=NOW)).hits
    assert firefox and {filled.get(h.id).app for h in firefox} == {"Firefox"}
    recent = search(filled, "budget spreadsheet", since=NOW - timedelta(hours=10))
    assert not any("budget" in body for body in recent)
    older = search(filled, "budget spreadsheet", until=NOW - timedelta(hours=20))
    assert "budget" in older[0]


def test_time_phrase_in_the_question_filters(filled: MemoryStore) -> None:
    engine = SearchEngine(filled)
    result = engine.search(SearchQuery("what was I working on yesterday", now=NOW))
    assert result.time_range is not None and result.time_range.phrase == "yesterday"
    bodies = [filled.get(h.id).body for h in result.hits]
    assert bodies and all("budget" in b or "retrieval" in b for b in bodies)
    # The hike was two days ago: outside "yesterday", however well it matches.
    assert not any("hiking" in body for body in search(filled, "hiking trip yesterday"))
    assert "hiking" in search(filled, "hiking trip")[0]


def test_neighbour_context_finds_the_reply(store: MemoryStore) -> None:
    thread = "chat with Sam"
    store.add_many(
        [
            EpisodicMemory(summary="Sam: morning! coffee later?", thread=thread),
            EpisodicMemory(summary="Sam: where did you buy that red bicycle?", thread=thread),
            EpisodicMemory(summary="Me: at a flea market in Utrecht last spring", thread=thread),
            EpisodicMemory(summary="Sam: nice, see you at noon", thread=thread),
            EpisodicMemory(summary="Bicycle repair shop opening hours and prices"),
            EpisodicMemory(summary="Red paint colours for the kitchen wall"),
        ]
    )
    question = SearchQuery("where was the red bicycle bought", limit=3, now=NOW)
    with_context = [store.get(h.id).body for h in SearchEngine(store).search(question).hits]
    without = [
        store.get(h.id).body
        for h in SearchEngine(store, neighbour_weights=(0, 0)).search(question).hits
    ]
    assert any("flea market" in b for b in with_context)
    assert not any("flea market" in b for b in without)


def test_deleted_memory_leaves_both_indexes(filled: MemoryStore) -> None:
    hit = SearchEngine(filled).search(SearchQuery("PROJ-4521", now=NOW)).hits[0]
    filled.delete(hit.id)
    assert not any("PROJ-4521" in b for b in search(filled, "PROJ-4521 login crash"))
    assert filled.vectors.count() == filled.count() == 4


def test_vault_secret_is_not_searchable(store: MemoryStore) -> None:
    store.add(KnowledgeVaultItem(caption="home router", secret_value="tiger-lily-9000"))
    assert search(store, "tiger lily 9000", mode="keyword") == []
    assert search(store, "router") == ["note\nhome router"]


def test_json_form_has_the_documented_fields(filled: MemoryStore) -> None:
    hit = SearchEngine(filled).search(SearchQuery("budget", now=NOW)).hits[0]
    assert set(hit.to_json()) == {
        "id",
        "type",
        "time",
        "end_time",
        "app",
        "title",
        "snippet",
        "score",
    }


class RenamedEmbedder:
    """The same vectors under another model name: forces an index rebuild."""

    def __init__(self, inner: StaticEmbedder) -> None:
        self.inner = inner
        self.model_id = "renamed-model"
        self.dim = inner.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed(texts)


@pytest.mark.expected_log("mirix.memory.vector_index", "WARNING", r"embedding model changed")
def test_changed_embedding_model_rebuilds_the_vector_index(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    with MemoryStore.open(store_path, KeySource(passphrase=PASSPHRASE), embedder) as store:
        store.add_many([SemanticMemory(name=f"n{i}", summary=f"fact {i}") for i in range(5)])
    renamed = RenamedEmbedder(embedder)
    with MemoryStore.open(store_path, KeySource(passphrase=PASSPHRASE), renamed) as store:
        assert store.vectors.count() == 5
        model = store.conn.execute("SELECT value FROM meta WHERE key = 'vector_model'").fetchone()
        assert model[0] == "renamed-model"


def test_keyword_pass_on_a_big_store_takes_the_rarest_terms(store: MemoryStore) -> None:
    store.add_many([EpisodicMemory(summary=f"status update number {i}") for i in range(40)])
    rare = store.add(EpisodicMemory(summary="status of the Zanzibar shipment"))
    engine = SearchEngine(store, postings_budget=10)  # this store counts as "big"
    # "updates" is stemmed like the index: 40 memories, too many to add to zanzibar's 1.
    assert engine._keyword_plans(["status", "updates", "zanzibar"]) == ['"zanzibar"']
    # Every term common: the two rarest together, then the rarest alone.
    assert engine._keyword_plans(["status", "update"]) == ['"update" AND "status"', '"update"']
    assert engine.search(SearchQuery("status update zanzibar", limit=1)).hits[0].id == rare
    # A store smaller than the budget keeps every term.
    assert SearchEngine(store)._keyword_plans(["status", "zanzibar"]) == ['"status" OR "zanzibar"']


def test_common_terms_that_never_meet_still_find_matches(store: MemoryStore) -> None:
    store.add_many([EpisodicMemory(summary=f"alpha note {i}") for i in range(20)])
    store.add_many([EpisodicMemory(summary=f"beta note {i}") for i in range(25)])
    engine = SearchEngine(store, mode="keyword", postings_budget=10)
    bodies = [store.get(h.id).body for h in engine.search(SearchQuery("alpha beta")).hits]
    assert bodies and all(body.startswith("alpha") for body in bodies)


def test_a_type_filter_rejecting_few_ranks_as_the_filtered_passes_would(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = ["login page crash", "quarterly budget totals", "hiking trip", "pip packages"]
    # Of different lengths, so that each ranks with its own score.
    store.add_many(
        [
            episode(f"{topics[n % 4]}, then {topics[n % 3]}{' and so on' * n}", "A", n)
            for n in range(40)
        ]
    )
    # Core memories and a vault caption that match best of all: the assistant's
    # search leaves them out, and they must not crowd out what it keeps.
    store.add_many([CoreMemory(value=f"{topic}; {topic}") for topic in topics])
    store.add(KnowledgeVaultItem(caption="login page crash", secret_value="s3cret"))
    kept = [t for t in MemoryType if t not in (MemoryType.CORE, MemoryType.KNOWLEDGE_VAULT)]
    questions = ("login page crash", "budget totals hiking", "pip packages")

    def ranked(types: Sequence[MemoryType]) -> list[list[tuple[int, float]]]:
        engine = SearchEngine(store, candidates=10)
        return [
            [(h.id, h.score) for h in engine.search(SearchQuery(q, types=types, now=NOW)).hits]
            for q in questions
        ]

    unfiltered = [i for hits in ranked(()) for i, _ in hits]
    rejected = {i for i in unfiltered if store.get(i).type not in kept}
    assert rejected  # unfiltered, they rank among the candidates
    dropping = ranked(kept)
    monkeypatch.setattr(search_module, "MAX_REJECTED", 0)  # the filtered passes
    assert dropping == ranked(kept)
    assert not rejected & {i for hits in dropping for i, _ in hits}
