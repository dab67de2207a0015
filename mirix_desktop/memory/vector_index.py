"""Vector KNN that scales: a 1-bit vec0 index for the first pass, float rescoring.

`memory_vec` (sqlite-vec vec0) holds one sign bit per dimension plus the
filter columns (type, time span, app), so a first pass over a million
memories reads ~48 MB instead of ~1.5 GB of floats, and filters apply during
the scan rather than after it. `memory_vectors` keeps the float32 vectors; the
candidates of the first pass are rescored exactly with them.

vec0's KNN costs time linear in k (measured: k=1000 is 12x k=100), and the
rescoring wants ~1000 candidates. So unfiltered queries, the common case, run
their first pass over an in-memory copy of the bit vectors with numpy's
popcount (`_BitMirror`), read straight from vec0's chunk tables in ~0.1 s per
million, then only the chunks that changed. Filtered queries use vec0, whose
metadata filters prune during the scan, unless the caller knows the few ids
the filter rejects (the assistant's: all but core memory and the vault).

Both tables are derived data: their shape follows the embedding model, which
is recorded in `meta`. A different model drops them and the store re-embeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mirix_desktop.memory.embedder import Vectors
from mirix_desktop.memory.filters import MemoryFilter
from mirix_desktop.memory.forget import generation as forget_generation

log = logging.getLogger("mirix.memory.vector_index")

# How many bit-level candidates per wanted result; measured in
# tests/benchmarks/bench_search.py (recall of the float top-10 vs cost).
OVERSAMPLE = 10
MIN_CANDIDATES = 100


@dataclass(frozen=True)
class VectorRow:
    id: int
    type: str
    time: int
    end_time: int
    app: str


@dataclass(frozen=True)
class _Chunk:
    """One vec0 chunk as the mirror last read it: its valid slots' ids and bits."""

    validity: bytes
    ids: npt.NDArray[np.int64]
    words: npt.NDArray[np.uint64]  # (64-bit words per vector, ids): one row per word


class _BitMirror:
    """An in-memory copy of vec0's bit vectors, for a fast first pass.

    Read from vec0's shadow tables (`<table>_chunks`: rowids and a validity
    bitmap per chunk; `<table>_vector_chunks00`: the packed vectors of the
    chunk), the layout of sqlite-vec 0.1.x; tests compare its answers with
    vec0's own KNN so a change of layout cannot go unnoticed.

    A refresh re-reads only the chunks that may have changed, so a store that
    grows by one memory (an answer saved, a frame captured) costs the next
    search about a millisecond instead of a full reload (~15 ms per 100k).
    vec0 inserts only into its newest chunk, reusing a deleted slot there
    (same rowid, new vector: its validity bitmap looks unchanged), and a
    delete clears a slot's validity bit: so the newest chunk of the last
    refresh and any later one are re-read, older ones when their bitmap
    changed. vec0's in-place UPDATE of a vector would go unseen; the store
    never updates one (it deletes and inserts).
    """

    def __init__(self, conn: Any, table: str, dim: int) -> None:
        self.conn = conn
        self.table = table
        self.bytes_per_vector = dim // 8
        self.ids = np.zeros(0, dtype=np.int64)
        # Column-major 64-bit words: one contiguous array per word is faster
        # to XOR and popcount than a row-major matrix.
        self.words: list[npt.NDArray[np.uint64]] = []
        self.version: int | None = None
        self.dirty = True
        self._chunks: dict[int, _Chunk] = {}
        self._newest = 0  # the newest chunk at the last refresh
        self.generation: int | None = None  # the store's forget generation at the last refresh

    def _current_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def refresh(self) -> None:
        version = self._current_version()
        if not self.dirty and version == self.version:
            return
        # A forget (here or in another process) may have removed vectors and
        # vacuumed the file: nothing read before it is trusted.
        generation = forget_generation(self.conn)
        if generation != self.generation:
            self._chunks, self._newest, self.generation = {}, 0, generation
            self._rebuild()
        headers: dict[int, bytes] = dict(
            self.conn.execute(f"SELECT chunk_id, validity FROM {self.table}_chunks")
        )
        kept = {
            chunk_id: chunk
            for chunk_id, chunk in self._chunks.items()
            if chunk_id < self._newest and headers.get(chunk_id) == chunk.validity
        }
        stale = [chunk_id for chunk_id in headers if chunk_id not in kept]
        for start in range(0, len(stale), 500):
            part = stale[start : start + 500]
            rows = self.conn.execute(
                f"SELECT c.chunk_id, c.size, c.validity, c.rowids, v.vectors "
                f"FROM {self.table}_chunks c "
                f"JOIN {self.table}_vector_chunks00 v ON v.rowid = c.chunk_id "
                f"WHERE c.chunk_id IN ({','.join('?' * len(part))})",
                part,
            )
            for chunk_id, size, validity, rowids, packed in rows:
                kept[chunk_id] = self._read_chunk(size, validity, rowids, packed)
        if stale or kept.keys() != self._chunks.keys():
            self._chunks = dict(sorted(kept.items()))
            self._rebuild()
        self._newest = max(headers, default=0)
        self.version, self.dirty = version, False

    def _read_chunk(self, size: int, validity: bytes, rowids: bytes, packed: bytes) -> _Chunk:
        valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        valid = valid[:size].astype(bool)
        chunk_ids = np.frombuffer(rowids, dtype=np.int64)[:size]
        chunk_vectors = np.frombuffer(packed, dtype=np.uint8).reshape(-1, self.bytes_per_vector)
        vectors = np.ascontiguousarray(chunk_vectors[:size][valid])
        words = np.ascontiguousarray(vectors.view(np.uint64).T)
        return _Chunk(bytes(validity), chunk_ids[valid], words)

    def _rebuild(self) -> None:
        chunks = [chunk for chunk in self._chunks.values() if len(chunk.ids)]
        if chunks:
            self.ids = np.concatenate([chunk.ids for chunk in chunks])
            words = np.concatenate([chunk.words for chunk in chunks], axis=1)
            self.words = list(words)
        else:
            self.ids = np.zeros(0, dtype=np.int64)
            self.words = []

    def nearest(self, query_bits: npt.NDArray[np.uint8], count: int) -> list[int]:
        """Ids of the `count` vectors closest in Hamming distance, nearest first."""
        self.refresh()
        if not len(self.ids):
            return []
        query_words = np.frombuffer(query_bits.tobytes(), dtype=np.uint64)
        distance = np.zeros(len(self.ids), dtype=np.uint16)
        for column, word in zip(self.words, query_words, strict=True):
            distance += np.bitwise_count(column ^ word).astype(np.uint16)
        if count < len(distance):
            chosen = np.argpartition(distance, count)[:count]
        else:
            chosen = np.arange(len(distance))
        chosen = chosen[np.argsort(distance[chosen], kind="stable")]
        return [int(i) for i in self.ids[chosen]]


class VectorIndex:
    def __init__(self, conn: Any, model_id: str, dim: int) -> None:
        self.conn = conn
        self.model_id = model_id
        self.dim = dim
        self.mirror = _BitMirror(conn, "memory_vec", dim)

    def ensure(self) -> bool:
        """Creates the tables for this model; returns True if vectors must be (re)built."""
        meta = dict(
            self.conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('vector_model', 'vector_dim')"
            ).fetchall()
        )
        wanted = {"vector_model": self.model_id, "vector_dim": str(self.dim)}
        if meta == wanted:
            return False
        if meta:
            log.warning(
                "embedding model changed (%s -> %s): rebuilding the vector index",
                meta.get("vector_model"),
                self.model_id,
            )
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("DROP TABLE IF EXISTS memory_vec")
            self.conn.execute("DROP TABLE IF EXISTS memory_vectors")
            self.conn.execute(
                f"""CREATE VIRTUAL TABLE memory_vec USING vec0 (
                        embedding bit[{self.dim}],
                        type text, time integer, end_time integer, app text)"""
            )
            self.conn.execute(
                "CREATE TABLE memory_vectors (id INTEGER PRIMARY KEY, vector BLOB NOT NULL)"
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", wanted.items()
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return True

    def put(self, rows: Sequence[VectorRow], vectors: Vectors) -> None:
        """Writes vectors for rows; the caller holds the transaction."""
        if len(rows) != len(vectors):
            raise ValueError("one vector per row")
        bits = np.packbits(vectors > 0, axis=1)
        self.conn.executemany(
            "INSERT INTO memory_vec (rowid, embedding, type, time, end_time, app) "
            "VALUES (?, vec_bit(?), ?, ?, ?, ?)",
            [
                (r.id, bits[i].tobytes(), r.type, r.time, r.end_time, r.app)
                for i, r in enumerate(rows)
            ],
        )
        self.conn.executemany(
            "INSERT INTO memory_vectors (id, vector) VALUES (?, ?)",
            [(r.id, vectors[i].astype(np.float32).tobytes()) for i, r in enumerate(rows)],
        )
        self.mirror.dirty = True

    def delete(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        self.conn.executemany("DELETE FROM memory_vec WHERE rowid = ?", [(i,) for i in ids])
        self.conn.executemany("DELETE FROM memory_vectors WHERE id = ?", [(i,) for i in ids])
        self.mirror.dirty = True

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM memory_vectors").fetchone()[0])

    def knn(
        self,
        query: Vectors,
        k: int,
        where: MemoryFilter | None = None,
        *,
        rejected: AbstractSet[int] | None = None,
    ) -> list[tuple[int, float]]:
        """Returns up to k (memory id, cosine similarity), best first.

        `rejected`, instead of `where`: every id the filter rejects, when the
        caller found them few (the assistant leaves out core memory and the
        vault). The mirror's pass then serves the filtered query too: it takes
        that many more candidates and drops them, the candidates vec0's
        filtered scan would give, without its cost (~30 ms per 100k).
        """
        where = where or MemoryFilter()
        query_bits = np.packbits(query.reshape(-1) > 0)
        filtered_candidates = max(k * 2, MIN_CANDIDATES)
        if rejected is not None:
            nearest = self.mirror.nearest(query_bits, filtered_candidates + len(rejected))
            ids = [i for i in nearest if i not in rejected][:filtered_candidates]
            return self.rescore(query, ids)[:k] if ids else []
        if not where.active:
            ids = self.mirror.nearest(query_bits, max(k * OVERSAMPLE, MIN_CANDIDATES))
            return self.rescore(query, ids)[:k] if ids else []
        # Filtered: vec0 applies the filters during its scan; its cost grows
        # with k, so it gets fewer candidates than the mirror would.
        clauses = ["embedding MATCH vec_bit(?)", "k = ?"]
        params: list[Any] = [query_bits.tobytes(), filtered_candidates]
        # vec0's metadata columns: end_time is already the span's end.
        filters, filter_params = where.sql(end_column="end_time", vec0=True)
        clauses.extend(filters)
        params.extend(filter_params)
        ids = [
            row[0]
            for row in self.conn.execute(
                f"SELECT rowid FROM memory_vec WHERE {' AND '.join(clauses)}", params
            )
        ]
        if not ids:
            return []
        return self.rescore(query, ids)[:k]

    def rescore(self, query: Vectors, ids: Sequence[int]) -> list[tuple[int, float]]:
        """Exact cosine similarity of `query` to the float vectors of `ids`, best first."""
        found = self._blobs(ids)
        if not found:
            return []
        order = list(found)
        # One buffer for all the vectors (copied: a fresh, aligned array like
        # np.stack's): stacking ~1000 small arrays cost a quick query ~5 ms.
        joined = np.frombuffer(b"".join(found.values()), dtype=np.float32)
        matrix = joined.reshape(len(order), -1).copy()
        scores = matrix @ query.reshape(-1)
        ranked = np.argsort(-scores, kind="stable")
        return [(order[i], float(scores[i])) for i in ranked]

    def vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        return {
            id_: np.frombuffer(blob, dtype=np.float32) for id_, blob in self._blobs(ids).items()
        }

    def _blobs(self, ids: Sequence[int]) -> dict[int, bytes]:
        result: dict[int, bytes] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.conn.execute(
                f"SELECT id, vector FROM memory_vectors WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            result.update(rows)
        return result
