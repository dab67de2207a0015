"""Small named values kept in the store's `meta` table (inside the encrypted file).

Used for settings that belong with the data rather than the config file,
such as the hash of the MCP server's HTTP token. Every function runs on the
caller's connection (see `MemoryStore`'s locking rule).
"""

from __future__ import annotations

from mirix_desktop.memory.connection import Connection


def read_meta(conn: Connection, key: str) -> str | None:
    """The value kept under `key` (None: nothing kept)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def write_meta(conn: Connection, key: str, value: str) -> None:
    """Keeps `value` under `key`, replacing what was there; the caller holds the transaction."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
