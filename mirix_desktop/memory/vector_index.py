"""Vector KNN that scales: a 1-bit vec0 index for the first pass, float rescoring.

`memory_vec` (sqlite-vec vec0) holds one sign bit per dimension plus the
filter columns (type, time span, app), so a first pass over a million
memories reads ~32 MB instead of ~1 GB of floats, and filters apply during the
scan rather than after it. `memory_vectors` keeps the float32 vectors; the
candidates of the first pass are rescored exactly with them.

Both tables are derived data: their shape follows the embedding model, which
is recorded in `meta`. A different model drops them and the store re-embeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mirix_desktop.memory.embedder import Vectors

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
class VectorFilter:
    types: Sequence[str] = ()
    since: int | None = None
    until: int | None = None
    apps: Sequence[str] = ()


class VectorIndex:
    def __init__(self, conn: Any, model_id: str, dim: int) -> None:
        self.conn = conn
        self.model_id = model_id
        self.dim = dim

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

    def delete(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        self.conn.executemany("DELETE FROM memory_vec WHERE rowid = ?", [(i,) for i in ids])
        self.conn.executemany("DELETE FROM memory_vectors WHERE id = ?", [(i,) for i in ids])

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM memory_vectors").fetchone()[0])

    def knn(
        self, query: Vectors, k: int, where: VectorFilter | None = None
    ) -> list[tuple[int, float]]:
        """Returns up to k (memory id, cosine similarity), best first."""
        where = where or VectorFilter()
        candidates = max(k * OVERSAMPLE, MIN_CANDIDATES)
        clauses = ["embedding MATCH vec_bit(?)", "k = ?"]
        params: list[Any] = [np.packbits(query.reshape(-1) > 0).tobytes(), candidates]
        if where.types:
            clauses.append(f"type IN ({','.join('?' * len(where.types))})")
            params.extend(where.types)
        if where.apps:
            clauses.append(f"app IN ({','.join('?' * len(where.apps))})")
            params.extend(where.apps)
        if where.until is not None:
            clauses.append("time <= ?")
            params.append(where.until)
        if where.since is not None:
            clauses.append("end_time >= ?")
            params.append(where.since)
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
        found = self.vectors(ids)
        if not found:
            return []
        order = list(found)
        matrix = np.stack([found[i] for i in order])
        scores = matrix @ query.reshape(-1)
        ranked = np.argsort(-scores, kind="stable")
        return [(order[i], float(scores[i])) for i in ranked]

    def vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        result: dict[int, Vectors] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.conn.execute(
                f"SELECT id, vector FROM memory_vectors WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for id_, blob in rows:
                result[id_] = np.frombuffer(blob, dtype=np.float32)
        return result
