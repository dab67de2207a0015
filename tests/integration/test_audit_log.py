"""The audit log inside the store: append, read back newest first, only flat details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirix_desktop.app import audit
from mirix_desktop.memory import connection, keys, migrations
from mirix_desktop.memory.audit import MAX_TEXT, append_audit, read_audit
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE

OPEN = keys.KeySource(passphrase=PASSPHRASE)


def test_record_and_read_back_newest_first(store: MemoryStore) -> None:
    with store.transaction() as conn:
        append_audit(conn, "export", {"format": "jsonl", "memories": 3}, actor="cli", at=100.0)
        append_audit(conn, "import", {"added": 2, "skipped": 1}, actor="app", at=200.0)
    audit.record(store, "vault_read", {"memory_id": 7}, actor="cli")

    got = audit.entries(store)
    assert [e.action for e in got] == ["vault_read", "import", "export"]
    assert got[0].details == {"memory_id": 7}
    assert got[0].actor == "cli"
    assert got[1] == audit.AuditEntry(got[1].id, 200.0, "app", "import", {"added": 2, "skipped": 1})
    assert [e.action for e in audit.entries(store, since=150.0)][-1] == "import"
    assert [e.action for e in audit.entries(store, limit=1)] == ["vault_read"]


def test_details_are_flat_and_long_text_is_cut(store: MemoryStore) -> None:
    with pytest.raises(TypeError, match="is a dict"):
        audit.record(store, "export", {"nested": {"body": "x"}})
    audit.record(store, "export", {"apps": ["Firefox", "Terminal"], "path": "p" * 1000})
    (entry,) = audit.entries(store)
    assert entry.details["apps"] == ["Firefox", "Terminal"]
    assert isinstance(entry.details["path"], str)
    assert len(entry.details["path"]) == MAX_TEXT


def test_unknown_action_or_actor_is_refused(store: MemoryStore) -> None:
    with pytest.raises(ValueError, match="action"):
        audit.record(store, "exprot", {})
    with pytest.raises(ValueError, match="actor"):
        audit.record(store, "export", {}, actor="someone")
    assert audit.entries(store) == []


def test_a_store_of_schema_6_gets_the_audit_table(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    store_path.parent.mkdir(parents=True)
    key, _ = keys.create_key(store_path, OPEN)
    conn = connection.connect(store_path, key, cache_mb=16, busy_timeout_s=1)
    migrations.migrate(conn, store_path, upto=6)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "audit_log" not in tables
    conn.close()

    with MemoryStore.open(store_path, OPEN, embedder) as store:
        with store.read() as c:
            assert migrations.schema_version(c) == migrations.SCHEMA_VERSION
        audit.record(store, "key_change", {"mode": "passphrase"})
        with store.read() as c:
            raw = c.execute("SELECT details FROM audit_log").fetchone()[0]
            assert json.loads(raw) == {"mode": "passphrase"}
            assert [e.action for e in read_audit(c)] == ["key_change"]
