"""The consolidation log (table `consolidation_log`): what was consolidated, at what cost.

Each step is recorded with the model time it took, so the daily budget and
"not yet done" survive a restart. The choice of the next memory to
consolidate lives here too: it is a question about the log. Every function
runs on the caller's connection (see `MemoryStore`'s locking rule).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from mirix_desktop.memory.connection import Connection
from mirix_desktop.memory.records import to_ms

ConsolidationKind = Literal["episode", "resource"]
ConsolidationOutcome = Literal["done", "failed"]

# A memory is done once a step succeeded, or after `max_attempts` failures.
_NOT_TRIED = """NOT EXISTS (SELECT 1 FROM consolidation_log l WHERE l.memory_id = m.id
                AND (l.outcome = 'done' OR (SELECT count(*) FROM consolidation_log f
                     WHERE f.memory_id = m.id AND f.outcome = 'failed') >= ?))"""


def seconds_spent(conn: Connection, day: str) -> float:
    """Model time spent on `day` (local date, YYYY-MM-DD)."""
    row = conn.execute(
        "SELECT coalesce(sum(seconds), 0) FROM consolidation_log WHERE day = ?", (day,)
    ).fetchone()
    return float(row[0])


def next_episode(
    conn: Connection, *, skip_app: str, max_attempts: int, settled_before: datetime
) -> int | None:
    """The oldest closed episode not yet done (episodes of `skip_app` never are).

    Closed: nothing extended it since `settled_before`, or a later episode
    started after it ended.
    """
    row = conn.execute(
        f"""SELECT m.id FROM memories m
            WHERE m.type = 'episodic' AND coalesce(m.app, '') != ? AND {_NOT_TRIED}
              AND (m.updated_at <= ? OR EXISTS (
                    SELECT 1 FROM memories n WHERE n.type = 'episodic' AND n.id > m.id
                      AND coalesce(n.app, '') != ? AND n.time >= coalesce(m.end_time, m.time)))
            ORDER BY m.id LIMIT 1""",
        (skip_app, max_attempts, to_ms(settled_before), skip_app),
    ).fetchone()
    return int(row[0]) if row else None


def next_resource(conn: Connection, *, max_attempts: int, settled_before: datetime) -> int | None:
    """The oldest resource unchanged since `settled_before` and not yet done."""
    row = conn.execute(
        f"""SELECT m.id FROM memories m
            WHERE m.type = 'resource' AND m.updated_at <= ? AND {_NOT_TRIED}
            ORDER BY m.id LIMIT 1""",
        (to_ms(settled_before), max_attempts),
    ).fetchone()
    return int(row[0]) if row else None


def record_step(
    conn: Connection,
    *,
    day: str,
    memory_id: int,
    kind: ConsolidationKind,
    seconds: float,
    outcome: ConsolidationOutcome,
    at: datetime,
) -> None:
    conn.execute(
        "INSERT INTO consolidation_log (day, memory_id, kind, seconds, outcome, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (day, memory_id, kind, seconds, outcome, to_ms(at)),
    )
