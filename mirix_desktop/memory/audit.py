"""The audit log (table `audit_log`): who did what with the data, and when.

One row per export, import, forget, retention run, vault read, settings or
key change, and read by another program (the MCP server). `details` is a
JSON object of filters, counts and names of settings: never the content of a
memory. Only flat values are accepted (text, numbers, booleans, None, and
lists of those), and text is cut to `MAX_TEXT` characters, so a memory's
body cannot slip in whole by accident. Every function runs on the caller's
connection (see `MemoryStore`'s locking rule): `append_audit` inside the
caller's transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from mirix_desktop.memory.connection import Connection

# The longest text kept in a detail (a filter, an app's name, a file path).
MAX_TEXT = 200

Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float  # seconds since the epoch (UTC)
    actor: str
    action: str
    details: dict[str, object]


def _scalar(key: str, value: object) -> Scalar:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"
    raise TypeError(
        f"audit detail {key!r} is a {type(value).__name__}: only text, numbers, booleans, "
        "None and lists of those are kept"
    )


def clean_details(details: Mapping[str, object]) -> dict[str, object]:
    """`details` as kept: flat values, long text cut; TypeError on anything else."""
    cleaned: dict[str, object] = {}
    for key, value in details.items():
        if not isinstance(key, str):
            raise TypeError(f"audit detail keys are text, not {type(key).__name__}")
        if isinstance(value, list | tuple):
            cleaned[key] = [_scalar(key, item) for item in value]
        else:
            cleaned[key] = _scalar(key, value)
    return cleaned


def append_audit(
    conn: Connection,
    action: str,
    details: Mapping[str, object],
    *,
    actor: str,
    at: float | None = None,
) -> int:
    """Adds an entry inside the caller's transaction; returns its id."""
    # The caller's order is kept: the most telling detail first reads best in a table.
    text = json.dumps(clean_details(details), ensure_ascii=False)
    cursor = conn.execute(
        "INSERT INTO audit_log (at, actor, action, details) VALUES (?, ?, ?, ?)",
        (time.time() if at is None else float(at), actor, action, text),
    )
    return int(cursor.lastrowid)


def _details(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": True}
    return value if isinstance(value, dict) else {"unreadable": True}


def read_audit(
    conn: Connection, *, since: float | None = None, limit: int = 1000
) -> list[AuditEntry]:
    """Entries at or after `since` (seconds since the epoch), newest first."""
    where, params = ("", ()) if since is None else ("WHERE at >= ?", (float(since),))
    rows = conn.execute(
        f"SELECT id, at, actor, action, details FROM audit_log {where} "
        "ORDER BY at DESC, id DESC LIMIT ?",
        (*params, int(limit)),
    ).fetchall()
    return [
        AuditEntry(int(r[0]), float(r[1]), str(r[2]), str(r[3]), _details(str(r[4]))) for r in rows
    ]
