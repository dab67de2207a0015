"""Bad files and bad keys get a clear message, and nothing is overwritten."""

import sqlite3
import threading
from pathlib import Path

import pytest

from mirix_desktop.errors import (
    NewerSchema,
    NotAStore,
    StoreLocked,
    UnencryptedStore,
    WrongPassphrase,
)
from mirix_desktop.memory import migrations
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import CoreMemory
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers.files import snapshot

OPEN = KeySource(passphrase=PASSPHRASE)


def make_store(path: Path, embedder: StaticEmbedder) -> None:
    with MemoryStore.open(path, OPEN, embedder) as store:
        store.add(CoreMemory(value="something worth keeping"))


def test_wrong_passphrase_leaves_every_file_identical(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    make_store(store_path, embedder)
    before = snapshot(store_path.parent)
    with pytest.raises(WrongPassphrase, match=r"mirix.db.*passphrase is wrong"):
        MemoryStore.open(store_path, KeySource(passphrase="not it"), embedder)
    after = snapshot(store_path.parent)
    # The one file written: the count of wrong tries, which slows down the next ones.
    assert after.pop("mirix.db.attempts")
    assert after == before


def test_random_bytes_are_not_a_store(tmp_path: Path, embedder: StaticEmbedder) -> None:
    path = tmp_path / "mirix.db"
    path.write_bytes(bytes(range(256)) * 64)
    before = snapshot(tmp_path)
    with pytest.raises(NotAStore, match=rf"{path}: there is no key info file"):
        MemoryStore.open(path, OPEN, embedder)
    assert snapshot(tmp_path) == before


def test_garbage_with_a_valid_key_is_not_a_store(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    make_store(store_path, embedder)
    for suffix in ("-wal", "-shm"):
        store_path.with_name(store_path.name + suffix).unlink(missing_ok=True)
    store_path.write_bytes(b"\x42" * 8192)
    before = snapshot(store_path.parent)
    with pytest.raises(NotAStore, match="not a mirix-desktop store or it is corrupt"):
        MemoryStore.open(store_path, OPEN, embedder)
    assert snapshot(store_path.parent) == before


def test_plaintext_sqlite_is_refused(tmp_path: Path, embedder: StaticEmbedder) -> None:
    path = tmp_path / "mirix.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    before = snapshot(tmp_path)
    with pytest.raises(UnencryptedStore, match="plaintext SQLite"):
        MemoryStore.open(path, OPEN, embedder)
    assert snapshot(tmp_path) == before


def test_empty_file_is_refused(tmp_path: Path, embedder: StaticEmbedder) -> None:
    path = tmp_path / "mirix.db"
    path.touch()
    with pytest.raises(NotAStore, match="empty"):
        MemoryStore.open(path, OPEN, embedder)
    assert path.stat().st_size == 0


def test_truncated_store_is_refused(store_path: Path, embedder: StaticEmbedder) -> None:
    make_store(store_path, embedder)
    data = store_path.read_bytes()
    store_path.write_bytes(data[: len(data) // 2 + 100])
    before = snapshot(store_path.parent)
    with pytest.raises(NotAStore, match="truncated"):
        MemoryStore.open(store_path, OPEN, embedder)
    assert snapshot(store_path.parent) == before


def test_newer_schema_is_refused_with_both_versions(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    with MemoryStore.open(store_path, OPEN, embedder) as store:
        store.conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 5}")
    before = snapshot(store_path.parent)
    newer = migrations.SCHEMA_VERSION + 5
    with pytest.raises(
        NewerSchema, match=rf"schema version {newer}.*schema version {migrations.SCHEMA_VERSION}"
    ):
        MemoryStore.open(store_path, OPEN, embedder)
    assert snapshot(store_path.parent) == before


def test_locked_store_times_out_with_a_clear_message(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    from mirix_desktop.config import StoreSettings

    settings = StoreSettings(busy_timeout_s=0.3)
    holder = MemoryStore.open(store_path, OPEN, embedder, settings)
    writer = MemoryStore.open(store_path, OPEN, embedder, settings)
    kept = holder.add(CoreMemory(value="committed before the lock"))
    holder.conn.execute("BEGIN IMMEDIATE")
    holder.conn.execute("INSERT INTO meta (key, value) VALUES ('held', 'yes')")
    try:
        with pytest.raises(StoreLocked, match="busy"):
            writer.add(CoreMemory(value="cannot get in"))
    finally:
        holder.conn.execute("ROLLBACK")
    # Once the lock is gone the writer works, and nothing was lost or half-written.
    writer.add(CoreMemory(value="after the lock"))
    assert [r.body for r in writer.list()] == ["after the lock", "committed before the lock"]
    assert writer.get(kept).body == "committed before the lock"
    assert writer.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    holder.close()
    writer.close()


def test_concurrent_writers_with_waiting_do_not_corrupt(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    stores = [MemoryStore.open(store_path, OPEN, embedder) for _ in range(2)]
    errors: list[BaseException] = []

    def write(store: MemoryStore, tag: str) -> None:
        try:
            for i in range(20):
                store.add(CoreMemory(value=f"{tag} {i}"))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, f"w{n}")) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[0].count() == 40
    assert stores[0].vectors.count() == 40
    for store in stores:
        store.close()
