"""The in-memory bit mirror agrees with sqlite-vec and follows the store."""

import random
from pathlib import Path

import numpy as np
import pytest

from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.filters import MemoryFilter
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import CoreMemory, SemanticMemory
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.memory.vector_index import _BitMirror
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


def mirrored(mirror: _BitMirror) -> dict[int, tuple[int, ...]]:
    """Each id the mirror holds, with its bit words."""
    mirror.refresh()
    return {
        int(id_): tuple(int(word[row]) for word in mirror.words)
        for row, id_ in enumerate(mirror.ids)
    }


def reread(store: MemoryStore) -> dict[int, tuple[int, ...]]:
    """What a mirror reading every chunk afresh holds."""
    return mirrored(_BitMirror(store.conn, "memory_vec", store.vectors.dim))


def test_the_mirror_follows_updates_deletions_and_new_chunks(store: MemoryStore) -> None:
    fill(store, 2200)  # chunks 1-2 full, chunk 3 the newest
    mirror = store.vectors.mirror
    assert mirrored(mirror) == reread(store)
    # A memory updated in the newest chunk: vec0 reuses its slot, so the chunk's
    # validity bitmap and rowids look as before while the vector changed.
    store.update(2150, SemanticMemory(name="changed", summary="quantum chromodynamics lecture"))
    assert mirrored(mirror) == reread(store)
    # Chunk 3 full, then a memory updated in it and a chunk 4 started before the
    # next search: chunk 3, the newest no more, changed all the same.
    fill(store, 3072 - 2200, seed=4)
    assert mirrored(mirror) == reread(store)
    store.update(3000, SemanticMemory(name="changed", summary="violin concerto in D major"))
    fill(store, 10, seed=5)
    assert mirrored(mirror) == reread(store)
    # Deletions in old chunks clear their validity bits.
    for memory_id in (3, 700, 1500):
        store.delete(memory_id)
    assert mirrored(mirror) == reread(store)
    assert 700 not in mirrored(mirror)


def test_knn_dropping_known_rejected_ids_matches_vec0s_filtered_pass(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, 400)
    # Core memories that say what the queries say: the nearest of all, rejected.
    queries = ["socket crash ticket", "garden recipe travel", "kernel compiler login"]
    store.add_many([CoreMemory(value=text) for text in queries * 4])
    rejected = frozenset(
        r[0] for r in store.conn.execute("SELECT id FROM memories WHERE type = 'core'")
    )
    where = MemoryFilter(types=("semantic",))
    rescored: list[list[int]] = []
    rescore = store.vectors.rescore
    monkeypatch.setattr(
        store.vectors,
        "rescore",
        lambda query, ids: rescored.append(list(ids)) or rescore(query, ids),
    )
    bits = {i: np.packbits(v > 0) for i, v in store.vectors.vectors(range(1, 500)).items()}
    for text in queries:
        query = store.embedder.embed([text])[0]
        dropped = store.vectors.knn(query, 10, rejected=rejected)
        filtered = store.vectors.knn(query, 10, where)
        assert not rejected & {i for i, _ in dropped}
        assert dropped == filtered
        # The same candidates as vec0's filtered pass (ties aside), as many.
        mine, vec0s = rescored[-2:]
        query_bits = np.packbits(query > 0)
        assert sorted(hamming(bits[i], query_bits) for i in mine) == sorted(
            hamming(bits[i], query_bits) for i in vec0s
        )
