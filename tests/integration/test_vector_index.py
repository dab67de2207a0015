"""The in-memory bit mirror agrees with sqlite-vec and follows the store."""

import random
from pathlib import Path

import numpy as np

from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.filters import MemoryFilter
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import SemanticMemory
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE

WORDS = [
    *"socket timeout budget paper retrieval python window invoice meeting garden".split(),
    *"bicycle recipe compiler kernel ticket login crash music travel camera".split(),
]


def fill(store: MemoryStore, count: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    store.add_many(
        [SemanticMemory(name=f"m{i}", summary=" ".join(rng.sample(WORDS, 5))) for i in range(count)]
    )


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.unpackbits(np.bitwise_xor(a, b)).sum())


def test_mirror_matches_sqlite_vec_across_chunks_and_deletions(store: MemoryStore) -> None:
    fill(store, 2500)  # three vec0 chunks of 1024
    for memory_id in range(5, 2500, 7):
        store.delete(memory_id)
    live = {r[0] for r in store.conn.execute("SELECT id FROM memories")}
    store.vectors.mirror.refresh()
    assert set(store.vectors.mirror.ids.tolist()) == live

    bits = {i: np.packbits(v > 0) for i, v in store.vectors.vectors(sorted(live)).items()}
    for text in ("socket crash", "garden recipe travel", "kernel compiler"):
        query = np.packbits(store.embedder.embed([text])[0] > 0)
        mirror = store.vectors.mirror.nearest(query, 40)
        vec0 = [
            r[0]
            for r in store.conn.execute(
                "SELECT rowid FROM memory_vec WHERE embedding MATCH vec_bit(?) AND k = 40",
                (query.tobytes(),),
            )
        ]
        # Ties in Hamming distance may be broken differently: compare distances.
        assert sorted(hamming(bits[i], query) for i in mirror) == sorted(
            hamming(bits[i], query) for i in vec0
        )


def test_filtered_and_unfiltered_paths_agree_on_the_best_match(store: MemoryStore) -> None:
    fill(store, 300)
    query = store.embedder.embed(["login crash ticket"])[0]
    unfiltered = store.vectors.knn(query, 5)
    filtered = store.vectors.knn(query, 5, MemoryFilter(types=("semantic",)))
    assert unfiltered[0] == filtered[0]
    exact = sorted(
        (
            (i, float(v @ query))
            for i, v in store.vectors.vectors(
                [r[0] for r in store.conn.execute("SELECT id FROM memories")]
            ).items()
        ),
        key=lambda item: -item[1],
    )
    assert unfiltered[0][0] == exact[0][0]


def test_writes_from_another_process_are_seen(
    store: MemoryStore, store_path: Path, embedder: StaticEmbedder
) -> None:
    fill(store, 50)
    engine = SearchEngine(store, mode="vector")
    engine.search(SearchQuery("anything"))  # loads the mirror
    with MemoryStore.open(store_path, KeySource(passphrase=PASSPHRASE), embedder) as other:
        new_id = other.add(SemanticMemory(name="new", summary="quantum chromodynamics lecture"))
    hits = engine.search(SearchQuery("quantum chromodynamics lecture")).hits
    assert hits[0].id == new_id
