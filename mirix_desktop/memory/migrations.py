"""Schema migrations: named, ordered functions recorded in the store.

`PRAGMA user_version` holds the schema version (the number of migrations
applied), so an older build can refuse a newer file before writing anything.
Migrations only ever get appended; a released one is never edited.
The vector tables are not here: they are derived data whose shape depends on
the embedding model (see vector_index.py) and are rebuilt when it changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mirix_desktop.errors import NewerSchema

Migration = Callable[[Any], None]


def m001_memories(conn: Any) -> None:
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
    # One row per memory of any of the six types. Columns every type has are
    # real columns (filters and sorting use them); the type's own fields are
    # a JSON object validated by the pydantic model of the type (records.py).
    conn.execute(
        """
        CREATE TABLE memories (
            id          INTEGER PRIMARY KEY,
            type        TEXT NOT NULL CHECK (type IN ('core', 'episodic', 'semantic',
                                 'procedural', 'resource', 'knowledge_vault')),
            time        INTEGER NOT NULL,   -- ms since the epoch (UTC): when it starts
            end_time    INTEGER,            -- ms: when it ends (episodes, resources)
            app         TEXT,
            title       TEXT,
            body        TEXT NOT NULL,      -- searchable text derived from the fields
            fields      TEXT NOT NULL,      -- JSON: the type's own fields
            thread      TEXT,               -- what it was seen in, e.g. a document or chat
            created_at  INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX memories_type_time ON memories (type, time)")
    conn.execute("CREATE INDEX memories_time ON memories (time)")
    conn.execute("CREATE INDEX memories_app_time ON memories (app, time)")
    conn.execute("CREATE INDEX memories_thread ON memories (thread, id)")
    # External-content FTS5 index over title and body; triggers keep it in
    # step with `memories` inside the same transaction.
    conn.execute(
        """
        CREATE VIRTUAL TABLE memory_fts USING fts5 (
            title, body, content='memories', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )
        """
    )
    conn.execute(
        """
        CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
            INSERT INTO memory_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
        END
        """
    )
    conn.execute(
        """
        CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
            INSERT INTO memory_fts (memory_fts, rowid, title, body)
            VALUES ('delete', old.id, old.title, old.body);
        END
        """
    )
    conn.execute(
        """
        CREATE TRIGGER memories_fts_update AFTER UPDATE OF title, body ON memories BEGIN
            INSERT INTO memory_fts (memory_fts, rowid, title, body)
            VALUES ('delete', old.id, old.title, old.body);
            INSERT INTO memory_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
        END
        """
    )


def m002_raw_layer(conn: Any) -> None:
    # What the capture saw, below the memories: frames and their OCR lines.
    conn.execute(
        """
        CREATE TABLE frames (
            id            INTEGER PRIMARY KEY,
            captured_at   INTEGER NOT NULL,  -- ms since the epoch (UTC)
            monitor       INTEGER NOT NULL DEFAULT 0,
            app           TEXT,
            window_title  TEXT,
            url           TEXT,
            image_hash    TEXT,
            width         INTEGER,
            height        INTEGER,
            thumbnail     BLOB
        )
        """
    )
    conn.execute("CREATE INDEX frames_time ON frames (captured_at)")
    conn.execute(
        """
        CREATE TABLE ocr_lines (
            id          INTEGER PRIMARY KEY,
            frame_id    INTEGER NOT NULL REFERENCES frames (id) ON DELETE CASCADE,
            line_no     INTEGER NOT NULL,
            text        TEXT NOT NULL,
            x           INTEGER NOT NULL,
            y           INTEGER NOT NULL,
            width       INTEGER NOT NULL,
            height      INTEGER NOT NULL,
            confidence  REAL
        )
        """
    )
    conn.execute("CREATE INDEX ocr_lines_frame ON ocr_lines (frame_id, line_no)")


def m003_conversations(conn: Any) -> None:
    conn.execute(
        """
        CREATE TABLE conversations (
            id          INTEGER PRIMARY KEY,
            title       TEXT,
            started_at  INTEGER NOT NULL
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE messages (
            id               INTEGER PRIMARY KEY,
            conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role             TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
            content          TEXT NOT NULL,
            citations        TEXT NOT NULL DEFAULT '[]',  -- JSON list of memory ids
            created_at       INTEGER NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX messages_conversation ON messages (conversation_id, id)")


def m004_capture_queue(conn: Any) -> None:
    # Pending capture work, durable so a crash or restart resumes it. A job's
    # payload holds the changed regions' pixels until OCR has read them; it is
    # deleted then (secure_delete zeroes the freed pages).
    conn.execute(
        """
        CREATE TABLE capture_jobs (
            id          INTEGER PRIMARY KEY,
            kind        TEXT NOT NULL CHECK (kind IN ('frame', 'activity')),
            frame_id    INTEGER REFERENCES frames (id) ON DELETE CASCADE,
            payload     BLOB NOT NULL,
            created_at  INTEGER NOT NULL,
            attempts    INTEGER NOT NULL DEFAULT 0,
            failed      INTEGER NOT NULL DEFAULT 0,  -- 1: gave up after repeated errors
            last_error  TEXT,
            owner       INTEGER  -- pid of an `ingest`/`capture --once`; NULL: the daemon's
        )
        """
    )
    conn.execute("CREATE INDEX capture_jobs_pending ON capture_jobs (failed, owner, id)")
    # 'queued' until OCR has read the frame, then 'done' (or 'failed').
    conn.execute("ALTER TABLE frames ADD COLUMN ocr_state TEXT NOT NULL DEFAULT 'done'")
    conn.execute("ALTER TABLE frames ADD COLUMN changed_share REAL")


def m005_answer_status(conn: Any) -> None:
    # An answer cut off by a timeout or a broken stream is kept, marked
    # 'partial' (or 'failed' when nothing came), with the error and the model
    # that wrote it. A user message points at the memory that makes the
    # exchange searchable.
    conn.execute(
        "ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'complete' "
        "CHECK (status IN ('complete', 'partial', 'failed'))"
    )
    conn.execute("ALTER TABLE messages ADD COLUMN error TEXT")
    conn.execute("ALTER TABLE messages ADD COLUMN model TEXT")
    conn.execute("ALTER TABLE messages ADD COLUMN memory_id INTEGER")
    # Consolidation's daily budget and what it has done, so a restart neither
    # overspends nor redoes work.
    conn.execute(
        """
        CREATE TABLE consolidation_log (
            id          INTEGER PRIMARY KEY,
            day         TEXT NOT NULL,           -- local date, YYYY-MM-DD
            memory_id   INTEGER,                 -- the memory consolidated (if any)
            kind        TEXT NOT NULL,           -- 'episode', 'resource'
            seconds     REAL NOT NULL,           -- model time spent
            outcome     TEXT NOT NULL,           -- 'done', 'failed'
            created_at  INTEGER NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX consolidation_log_day ON consolidation_log (day)")
    conn.execute("CREATE INDEX consolidation_log_memory ON consolidation_log (memory_id)")


def m006_capture_off(conn: Any) -> None:
    # Why capture was off, as intervals the timeline draws: an open one has
    # no end yet. "not_running" spans a daemon's last heartbeat (in `meta`)
    # to its next start.
    conn.execute(
        """
        CREATE TABLE capture_off (
            id      INTEGER PRIMARY KEY,
            start   INTEGER NOT NULL,   -- ms since the epoch (UTC)
            end     INTEGER,            -- ms; NULL while capture is still off
            reason  TEXT NOT NULL CHECK (reason IN ('paused', 'idle', 'locked',
                                         'excluded', 'not_running'))
        )
        """
    )
    conn.execute("CREATE INDEX capture_off_start ON capture_off (start)")
    # The timeline reads a day of frames (20k+) without their thumbnails: this
    # covering index answers it without touching the table rows, which hold
    # the thumbnail inline (one row per page). It also serves what
    # frames_time did, which is dropped so writes keep one time index.
    conn.execute("CREATE INDEX frames_timeline ON frames (captured_at, app, window_title, url)")
    conn.execute("DROP INDEX frames_time")


def m007_audit_log(conn: Any) -> None:
    # Who did what with the data (exports, imports, forgets, retention, vault
    # reads, settings and key changes, other programs' reads), inside the
    # encrypted file. `details` is a JSON object of filters, counts and
    # setting names: never the content of a memory.
    conn.execute(
        """
        CREATE TABLE audit_log (
            id       INTEGER PRIMARY KEY,
            at       REAL NOT NULL,   -- seconds since the epoch (UTC)
            actor    TEXT NOT NULL,   -- 'cli', 'app', 'daemon', 'mcp'
            action   TEXT NOT NULL,
            details  TEXT NOT NULL    -- JSON object
        )
        """
    )
    conn.execute("CREATE INDEX audit_log_at ON audit_log (at)")


def m008_capture_off_disk_full(conn: Any) -> None:
    # Capture also pauses while the disk has less free space than
    # storage.min_free_gb: a reason of its own. SQLite cannot change a CHECK,
    # so the table is rebuilt with its rows (and its index).
    conn.execute(
        """
        CREATE TABLE capture_off_new (
            id      INTEGER PRIMARY KEY,
            start   INTEGER NOT NULL,   -- ms since the epoch (UTC)
            end     INTEGER,            -- ms; NULL while capture is still off
            reason  TEXT NOT NULL CHECK (reason IN ('paused', 'idle', 'locked',
                                         'excluded', 'not_running', 'disk_full'))
        )
        """
    )
    conn.execute(
        "INSERT INTO capture_off_new (id, start, end, reason) "
        "SELECT id, start, end, reason FROM capture_off"
    )
    conn.execute("DROP TABLE capture_off")
    conn.execute("ALTER TABLE capture_off_new RENAME TO capture_off")
    conn.execute("CREATE INDEX capture_off_start ON capture_off (start)")


MIGRATIONS: list[Migration] = [
    m001_memories,
    m002_raw_layer,
    m003_conversations,
    m004_capture_queue,
    m005_answer_status,
    m006_capture_off,
    m007_audit_log,
    m008_capture_off_disk_full,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: Any) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: Any, path: Path, upto: int | None = None) -> list[str]:
    """Applies the missing migrations (up to `upto`, for tests); returns their names."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise NewerSchema(
            path,
            f"the store has schema version {current}, written by a newer mirix-desktop; "
            f"this build reads schema version {SCHEMA_VERSION} at most. "
            "Upgrade mirix-desktop to open it (the file was not changed).",
        )
    target = MIGRATIONS[:upto] if upto is not None else MIGRATIONS
    if current >= len(target):
        return []
    applied_now: list[str] = []
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations "
        "(name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    for number, migration in enumerate(target, start=1):
        if migration.__name__ in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while this one waited.
            if conn.execute(
                "SELECT 1 FROM _migrations WHERE name = ?", (migration.__name__,)
            ).fetchone():
                conn.execute("COMMIT")
                continue
            migration(conn)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (migration.__name__, int(time.time() * 1000)),
            )
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied_now.append(migration.__name__)
    return applied_now
