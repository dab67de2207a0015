"""The rows of the durable capture-job queue (table `capture_jobs`).

A job is opaque here: a kind and a payload of bytes, optionally tied to a
frame and to an owner (the pid of a one-off `ingest` run; NULL for the
daemon). What a job means and how it is encoded is `pipeline/jobs.py`'s.
Every function runs on the caller's connection: inside its transaction, or
`store.read()` for the ones that only read (see `MemoryStore`'s locking rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mirix_desktop.memory.connection import Connection

# Attempts before a job is given up (kept, marked failed, its pixels dropped).
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    frame_id: int | None
    payload: bytes
    attempts: int


def put(
    conn: Connection,
    kind: str,
    payload: bytes,
    frame_id: int | None,
    now_ms: int,
    owner: int | None = None,
) -> int:
    """Queues a job; returns its id."""
    cursor = conn.execute(
        "INSERT INTO capture_jobs (kind, frame_id, payload, created_at, owner) "
        "VALUES (?, ?, ?, ?, ?)",
        (kind, frame_id, payload, now_ms, owner),
    )
    return int(cursor.lastrowid)


def oldest_pending(conn: Connection, owner: int | None = None) -> JobRow | None:
    """The oldest job of `owner` (None: the daemon's) not given up."""
    row = conn.execute(
        "SELECT id, kind, frame_id, payload, attempts FROM capture_jobs "
        "WHERE failed = 0 AND owner IS ? ORDER BY id LIMIT 1",
        (owner,),
    ).fetchone()
    if row is None:
        return None
    job_id, kind, frame_id, payload, attempts = row
    return JobRow(job_id, kind, frame_id, bytes(payload), attempts)


def finish(conn: Connection, job_id: int) -> None:
    """A job done: deleted, in the transaction that stored what it produced."""
    conn.execute("DELETE FROM capture_jobs WHERE id = ?", (job_id,))


def record_failure(conn: Connection, job_id: int, error: str, *, give_up: bool = False) -> bool:
    """Records a failed attempt; returns True when the job is given up.

    A given-up job keeps its record (the error `status` shows) but not its
    pixels, and its frame is marked failed.
    """
    row = conn.execute("SELECT attempts FROM capture_jobs WHERE id = ?", (job_id,)).fetchone()
    attempts = (row[0] if row else 0) + 1
    failed = give_up or attempts >= MAX_ATTEMPTS
    conn.execute(
        "UPDATE capture_jobs SET attempts = ?, failed = ?, last_error = ?, "
        "payload = CASE WHEN ? THEN x'' ELSE payload END WHERE id = ?",
        (attempts, int(failed), error, int(failed), job_id),
    )
    if failed:
        conn.execute(
            "UPDATE frames SET ocr_state = 'failed' WHERE id = "
            "(SELECT frame_id FROM capture_jobs WHERE id = ?)",
            (job_id,),
        )
    return failed


def pending_count(conn: Connection, owner: int | None = None) -> int:
    """Jobs of `owner` (None: the daemon's) waiting, given-up ones not counted."""
    return int(
        conn.execute(
            "SELECT count(*) FROM capture_jobs WHERE failed = 0 AND owner IS ?", (owner,)
        ).fetchone()[0]
    )


def failed_count(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM capture_jobs WHERE failed = 1").fetchone()[0])


def adopt_orphans(conn: Connection, alive: Callable[[int], bool]) -> int:
    """Hands the jobs of owners no longer `alive` to the daemon; returns how many."""
    owners = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT owner FROM capture_jobs WHERE owner IS NOT NULL"
        ).fetchall()
    ]
    adopted = 0
    for owner in owners:
        if not alive(owner):
            adopted += conn.execute(
                "UPDATE capture_jobs SET owner = NULL WHERE owner = ?", (owner,)
            ).rowcount
    return adopted
