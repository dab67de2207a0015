"""The SQL of export and import: memories read in time order by filter, and by time span.

`app.export` owns the file formats and the stable ids; this module only
reads rows, so the export never holds the store's lock for more than a page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from mirix_desktop.memory.records import RECORD_COLUMNS, MemoryRecord, MemoryType
from mirix_desktop.memory.store import MemoryStore

_PAGE = 500


def iter_memories(
    store: MemoryStore,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    apps: Sequence[str] = (),
    types: Sequence[MemoryType] = (),
) -> Iterator[MemoryRecord]:
    """Memories matching every filter given, oldest first, a page per lock hold."""
    where: list[str] = []
    params: list[Any] = []
    if since_ms is not None:
        where.append("time >= ?")
        params.append(since_ms)
    if until_ms is not None:
        where.append("time <= ?")
        params.append(until_ms)
    if apps:
        where.append(f"app IN ({','.join('?' * len(apps))})")
        params.extend(apps)
    if types:
        where.append(f"type IN ({','.join('?' * len(types))})")
        params.extend(t.value for t in types)
    # Keyset paging on (time, id): stable while the daemon keeps adding rows.
    after: tuple[int, int] = (-(2**62), -1)
    while True:
        clauses = [*where, "(time > ? OR (time = ? AND id > ?))"]
        sql = (
            f"SELECT {RECORD_COLUMNS} FROM memories WHERE {' AND '.join(clauses)} "
            "ORDER BY time, id LIMIT ?"
        )
        with store.read() as conn:
            rows = conn.execute(sql, [*params, after[0], after[0], after[1], _PAGE]).fetchall()
        for row in rows:
            yield MemoryRecord.from_row(row)
        if len(rows) < _PAGE:
            return
        after = (rows[-1][2], rows[-1][0])


def memories_between(conn: Any, start_ms: int, end_ms: int) -> list[MemoryRecord]:
    """Every memory starting in [start_ms, end_ms], in the caller's transaction."""
    rows = conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM memories WHERE time BETWEEN ? AND ? ORDER BY time, id",
        (start_ms, end_ms),
    ).fetchall()
    return [MemoryRecord.from_row(row) for row in rows]
