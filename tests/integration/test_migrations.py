"""Migrations from an empty store and from an older schema."""

import json
from pathlib import Path

from mirix_desktop.memory import connection, keys, migrations
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE

OPEN = keys.KeySource(passphrase=PASSPHRASE)


def test_empty_store_gets_every_migration_in_order(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    with MemoryStore.open(store_path, OPEN, embedder) as store:
        names = [r[0] for r in store.conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert names == [m.__name__ for m in migrations.MIGRATIONS]
        assert migrations.schema_version(store.conn) == migrations.SCHEMA_VERSION
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
        assert {
            "memories",
            "memory_fts",
            "memory_vec",
            "memory_vectors",
            "frames",
            "ocr_lines",
            "conversations",
            "messages",
        } <= tables


def test_store_of_an_older_schema_is_migrated_and_keeps_its_memories(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    # Build the store the way the first release did: schema 1, no vectors yet.
    store_path.parent.mkdir(parents=True)
    key, _ = keys.create_key(store_path, OPEN)
    conn = connection.connect(store_path, key, cache_mb=16, busy_timeout_s=1)
    migrations.migrate(conn, store_path, upto=1)
    conn.execute(
        "INSERT INTO memories (type, time, end_time, app, title, body, fields, thread,"
        " created_at, updated_at) VALUES ('semantic', 1700000000000, NULL, NULL, 'Kyoto',"
        " 'The old capital of Japan is Kyoto', ?, NULL, 1700000000000, 1700000000000)",
        (
            json.dumps(
                {
                    "name": "Kyoto",
                    "summary": "The old capital of Japan is Kyoto",
                    "details": None,
                    "source": None,
                    "created": "2023-11-14T22:13:20Z",
                }
            ),
        ),
    )
    conn.close()

    with MemoryStore.open(store_path, OPEN, embedder) as store:
        assert migrations.schema_version(store.conn) == migrations.SCHEMA_VERSION
        applied = [r[0] for r in store.conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert applied == [m.__name__ for m in migrations.MIGRATIONS]
        # Old memories are embedded on the way in: found by keyword and by meaning.
        assert store.vectors.count() == 1
        engine = SearchEngine(store, mode="vector")
        hit = engine.search(SearchQuery("former Japanese capital city")).hits[0]
        assert hit.title == "Kyoto"
        assert store.get(hit.id).model().name == "Kyoto"  # type: ignore[attr-defined]


def test_migrating_twice_is_a_no_op(store_path: Path, embedder: StaticEmbedder) -> None:
    with MemoryStore.open(store_path, OPEN, embedder) as store:
        assert migrations.migrate(store.conn, store_path) == []
