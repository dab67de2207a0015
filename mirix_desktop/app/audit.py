"""The audit log for the application: record what was done with the data, and read it back.

`record` writes one entry in its own transaction, so call it outside any
`store.transaction()` (SQLite does not nest them). To write an entry in
the same transaction as the change it describes, call
`memory.audit.append_audit(conn, ...)` inside that transaction instead.

`details` hold filters, counts and names of settings: never the content of a
memory, a vault secret or a setting's value that could be one (an API key).
The memory layer refuses nested values and cuts long text (memory/audit.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from mirix_desktop.memory.audit import AuditEntry, append_audit, read_audit
from mirix_desktop.memory.store import MemoryStore

log = logging.getLogger("mirix.app.audit")

ACTIONS = frozenset(
    {
        "export",
        "import",
        "forget",
        "forget_everything",
        "retention",
        "space_cap",
        "vault_read",
        "settings_change",
        "key_change",
        "mcp_read",
        "mcp_write",
    }
)
ACTORS = frozenset({"cli", "app", "daemon", "mcp"})

# How each action reads in a table (the CLI's and the settings window's).
ACTION_NAMES = {
    "export": "Export",
    "import": "Import",
    "forget": "Forget",
    "forget_everything": "Forget everything",
    "retention": "Retention run",
    "space_cap": "Space cap",
    "vault_read": "Vault item shown",
    "settings_change": "Settings changed",
    "key_change": "Key changed",
    "mcp_read": "Read by an MCP client",
    "mcp_write": "Written by an MCP client",
}
ACTOR_NAMES = {"cli": "command line", "app": "app", "daemon": "daemon", "mcp": "MCP server"}

__all__ = [
    "ACTIONS",
    "ACTION_NAMES",
    "ACTORS",
    "ACTOR_NAMES",
    "AuditEntry",
    "describe",
    "entries",
    "entry_json",
    "record",
]


def record(
    store: MemoryStore, action: str, details: Mapping[str, object], *, actor: str = "cli"
) -> None:
    """Adds an entry to the store's audit log, in its own transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; one of {sorted(ACTIONS)}")
    if actor not in ACTORS:
        raise ValueError(f"unknown audit actor {actor!r}; one of {sorted(ACTORS)}")
    with store.transaction() as conn:
        append_audit(conn, action, details, actor=actor)
    log.debug("audit: %s by %s", action, actor)


def entries(
    store: MemoryStore, *, since: float | None = None, limit: int = 1000
) -> list[AuditEntry]:
    """The entries at or after `since` (seconds since the epoch), newest first."""
    with store.read() as conn:
        return read_audit(conn, since=since, limit=limit)


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe(details: Mapping[str, object]) -> str:
    """The details on one line, `key: value; ...`, leaving out what is empty."""
    return "; ".join(
        f"{key.replace('_', ' ')}: {_value(value)}"
        for key, value in details.items()
        if value is not None and value != "" and value != []
    )


def entry_json(entry: AuditEntry) -> dict[str, object]:
    """The documented JSON form of an entry (`mirix-desktop audit --json`)."""
    return {
        "id": entry.id,
        "at": datetime.fromtimestamp(entry.at, tz=UTC).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "details": entry.details,
    }
