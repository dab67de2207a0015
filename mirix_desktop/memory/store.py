"""The encrypted memory store: one SQLCipher file holding every memory type.

`MemoryStore.open()` unlocks (or creates) the store, verifies it is
encrypted, migrates it and makes sure the vector index matches the embedding
model. Writes embed their text first, outside the transaction, so the write
lock is held only for the inserts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlcipher3

from mirix_desktop.config import StoreSettings
from mirix_desktop.errors import MemoryNotFound, StoreError, StoreLocked
from mirix_desktop.memory import connection, keys, migrations
from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.embedder import Embedder
from mirix_desktop.memory.records import (
    RECORD_COLUMNS,
    MemoryFields,
    MemoryRecord,
    MemoryType,
    now_utc,
    to_ms,
)
from mirix_desktop.memory.vector_index import VectorIndex, VectorRow

log = logging.getLogger("mirix.memory.store")

# The embedder sees at most this much of a memory: MiniLM reads 256 tokens,
# and the static model's mean only blurs with more.
_EMBED_CHARS = 2000


@dataclass
class PreparedMemory:
    """A memory turned into its row values and vector, ready to write."""

    type: str
    time: int
    end_time: int | None
    app: str | None
    title: str | None
    body: str
    fields: str
    thread: str | None
    now: int
    vector: Any = None


@dataclass(frozen=True)
class StoreInfo:
    path: Path
    key_mode: str
    schema_version: int
    memories: int
    vectors: int
    embedding_model: str
    cipher_version: str


class MemoryStore:
    """All reads and writes of memories. Use `MemoryStore.open()`.

    Locking rule. One store (one connection) serves several threads: the
    daemon's capture, OCR and idle workers, the app's search and answer
    workers. Every use of `conn` goes through the store, inside
    `store.read()` (reads, or a single statement that commits on its own)
    or `store.transaction()` (writes); both hold `store.lock`, so statements
    of two threads never interleave, and a reader never sees another
    thread's transaction half done. The lock is re-entrant: store methods
    called inside either context take it again. Results are fetched inside
    the context, never iterated after it. Slow work that needs no
    connection (embedding text, calling a model) happens outside it.
    """

    def __init__(self, conn: Connection, path: Path, embedder: Embedder) -> None:
        self.conn = conn
        self.path = path
        self.embedder = embedder
        self.vectors = VectorIndex(conn, embedder.model_id, embedder.dim)
        self.lock = threading.RLock()

    # -- opening -----------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path,
        key_source: keys.KeySource,
        embedder: Embedder,
        settings: StoreSettings | None = None,
    ) -> MemoryStore:
        settings = settings or StoreSettings()
        path = path.expanduser()
        if path.exists():
            connection.check_existing_file(path)
            key = keys.unlock_key(path, key_source)
        elif keys.keyinfo_path(path).exists():
            # The store was removed but its key info is left: reuse that key
            # rather than replacing the record of it.
            key = keys.unlock_key(path, key_source)
        else:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key, mode = keys.create_key(path, key_source)
            log.info("creating a new encrypted store at %s (key: %s)", path, mode)
        conn = connection.connect(
            path, key, cache_mb=settings.cache_mb, busy_timeout_s=settings.busy_timeout_s
        )
        # Encrypted or not, the store is nobody else's business.
        path.chmod(0o600)
        store = cls(conn, path, embedder)
        try:
            with store._errors():
                applied = migrations.migrate(conn, path)
                if applied:
                    log.info("%s: applied migrations %s", path, ", ".join(applied))
                if store.vectors.ensure():
                    store.reindex_vectors()
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        with self.lock:  # not under another thread's statement
            self.conn.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turns SQLite's environmental failures into known errors naming the file."""
        try:
            yield
        except sqlcipher3.OperationalError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                raise StoreLocked(
                    self.path, "the store is busy: another process kept it locked too long"
                ) from exc
            if "full" in text:
                raise StoreError(self.path, "the disk is full; nothing was written") from exc
            raise
        except sqlcipher3.DatabaseError as exc:
            raise connection.classify_error(self.path, exc) from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """The connection, held for this thread alone (see the locking rule)."""
        with self.lock, self._errors():
            yield self.conn

    def limit_cache(self, cache_mb: int) -> None:
        """Caps this connection's page cache at `cache_mb` MiB; pages over it are freed.

        `StoreSettings.cache_mb` suits search, whose vector and index pages
        should stay decrypted in memory. A process that only writes (the
        daemon) touches each new page and rarely again: there a large cache
        keeps the whole growing database in memory, ~1 MB more per ten minutes
        of capture, for nothing.
        """
        with self.read() as conn:
            conn.execute(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The connection inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception)."""
        with self.lock, self._errors():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # -- writing -----------------------------------------------------------------
    def add(self, memory: MemoryFields) -> int:
        return self.add_many([memory])[0]

    def add_many(self, memories: Sequence[MemoryFields]) -> list[int]:
        """Stores memories with their vectors in one transaction; returns their ids."""
        if not memories:
            return []
        prepared = self.prepare(memories)
        with self.transaction() as conn:
            return self.write_prepared(conn, prepared)

    def update(self, memory_id: int, memory: MemoryFields) -> None:
        """Replaces a memory's fields (and vector), keeping its id."""
        prepared = self.prepare([memory])
        with self.transaction() as conn:
            self.write_prepared(conn, prepared, [memory_id])

    def prepare(self, memories: Sequence[MemoryFields]) -> list[PreparedMemory]:
        """Rows and vectors for memories; the slow part, done before a transaction."""
        now = to_ms(now_utc())
        rows = []
        for memory in memories:
            start, end = memory.span()
            rows.append(
                PreparedMemory(
                    type=memory.memory_type.value,
                    time=to_ms(start),
                    end_time=to_ms(end) if end is not None else None,
                    app=memory.app,
                    title=memory.display_title(),
                    body=memory.search_text(),
                    fields=json.dumps(memory.type_fields()),
                    thread=memory.thread,
                    now=now,
                )
            )
        vectors = self.embedder.embed([_embedding_text(r.title, r.body) for r in rows])
        for row, vector in zip(rows, vectors, strict=True):
            row.vector = vector
        return rows

    def write_prepared(
        self, conn: Connection, prepared: Sequence[PreparedMemory], ids: Sequence[int | None] = ()
    ) -> list[int]:
        """Inserts (id None) or replaces (id given) memories, in `conn`'s transaction."""
        targets = list(ids) or [None] * len(prepared)
        written: list[int] = []
        for row, memory_id in zip(prepared, targets, strict=True):
            values = (
                row.type, row.time, row.end_time, row.app, row.title, row.body,
                row.fields, row.thread,
            )  # fmt: skip
            if memory_id is None:
                cursor = conn.execute(
                    "INSERT INTO memories (type, time, end_time, app, title, body, fields, "
                    "thread, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, row.now, row.now),
                )
                written.append(int(cursor.lastrowid))
            else:
                cursor = conn.execute(
                    "UPDATE memories SET type = ?, time = ?, end_time = ?, app = ?, title = ?, "
                    "body = ?, fields = ?, thread = ?, updated_at = ? WHERE id = ?",
                    (*values, row.now, memory_id),
                )
                if cursor.rowcount == 0:
                    raise MemoryNotFound(f"No memory with id {memory_id}.")
                self.vectors.delete([memory_id])
                written.append(memory_id)
        self.vectors.put(
            [
                VectorRow(
                    id_,
                    r.type,
                    r.time,
                    r.end_time if r.end_time is not None else r.time,
                    r.app or "",
                )
                for id_, r in zip(written, prepared, strict=True)
            ],
            np.stack([r.vector for r in prepared]),
        )
        return written

    def delete(self, memory_id: int) -> None:
        with self.transaction() as conn:
            cursor = conn.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
            if cursor.rowcount == 0:
                raise MemoryNotFound(f"No memory with id {memory_id}.")
            self.vectors.delete([memory_id])

    def reindex_vectors(self, batch: int = 512) -> int:
        """Embeds every memory again (after a model change); returns the count."""
        total = 0
        last_id = 0
        while True:
            with self.read() as conn:
                rows = conn.execute(
                    "SELECT id, type, time, end_time, app, title, body FROM memories "
                    "WHERE id > ? ORDER BY id LIMIT ?",
                    (last_id, batch),
                ).fetchall()
            if not rows:
                return total
            vectors = self.embedder.embed([_embedding_text(r[5], r[6]) for r in rows])
            with self.transaction():
                self.vectors.put(
                    [
                        VectorRow(r[0], r[1], r[2], r[3] if r[3] is not None else r[2], r[4] or "")
                        for r in rows
                    ],
                    vectors,
                )
            total += len(rows)
            last_id = rows[-1][0]

    # -- reading -----------------------------------------------------------------
    def get(self, memory_id: int) -> MemoryRecord:
        with self.read() as conn:
            row = conn.execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE id = ?", (memory_id,)
            ).fetchone()
        if row is None:
            raise MemoryNotFound(f"No memory with id {memory_id}.")
        return MemoryRecord.from_row(row)

    def get_many(self, ids: Sequence[int]) -> dict[int, MemoryRecord]:
        found: dict[int, MemoryRecord] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            with self.read() as conn:
                rows = conn.execute(
                    f"SELECT {RECORD_COLUMNS} FROM memories "
                    f"WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            found.update((row[0], MemoryRecord.from_row(row)) for row in rows)
        return found

    def of_type(self, memory_type: MemoryType) -> list[MemoryRecord]:
        """Every memory of one type, oldest first: for the small ones (vault, core)."""
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE type = ? ORDER BY id",
                (memory_type.value,),
            ).fetchall()
        return [MemoryRecord.from_row(row) for row in rows]

    def recent_in_thread(
        self, thread: str, memory_type: MemoryType, limit: int
    ) -> list[MemoryRecord]:
        """The newest `limit` memories of `memory_type` in `thread`, oldest first
        (a document's last chunks)."""
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE thread = ? AND type = ? "
                "ORDER BY id DESC LIMIT ?",
                (thread, memory_type.value, limit),
            ).fetchall()
        return [MemoryRecord.from_row(row) for row in reversed(rows)]

    def list(
        self, types: Sequence[MemoryType] = (), limit: int = 50, offset: int = 0
    ) -> list[MemoryRecord]:
        """Memories, newest first, optionally of some types only."""
        sql = f"SELECT {RECORD_COLUMNS} FROM memories"
        params: list[Any] = []
        if types:
            sql += f" WHERE type IN ({','.join('?' * len(types))})"
            params.extend(t.value for t in types)
        sql += " ORDER BY time DESC, id DESC LIMIT ? OFFSET ?"
        params.extend([limit, offset])
        with self.read() as conn:
            return [MemoryRecord.from_row(r) for r in conn.execute(sql, params).fetchall()]

    def count(self) -> int:
        with self.read() as conn:
            return int(conn.execute("SELECT count(*) FROM memories").fetchone()[0])

    def integrity_check(self) -> str:
        """SQLite's `PRAGMA integrity_check` of the whole file: "ok", or the problems found."""
        with self.read() as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(row[0]) for row in rows)

    def info(self) -> StoreInfo:
        info = keys.keyinfo_path(self.path)
        mode = json.loads(info.read_text(encoding="utf-8")).get("mode", "?")
        with self.read() as conn:
            return StoreInfo(
                path=self.path,
                key_mode=mode,
                schema_version=migrations.schema_version(conn),
                memories=self.count(),
                vectors=self.vectors.count(),
                embedding_model=self.embedder.model_id,
                cipher_version=conn.execute("PRAGMA cipher_version").fetchone()[0],
            )


def _embedding_text(title: str | None, body: str) -> str:
    text = f"{title}\n{body}" if title else body
    return text[:_EMBED_CHARS]
