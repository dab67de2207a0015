"""The capture-off reason "disk_full" (capture paused for want of disk space) in an older store:
the migration widens the table's CHECK and keeps every interval recorded before."""

from __future__ import annotations

from pathlib import Path

from mirix_desktop.memory import connection, keys, migrations
from mirix_desktop.memory import timeline as capture_off
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE

OPEN = keys.KeySource(passphrase=PASSPHRASE)
BEFORE = migrations.MIGRATIONS.index(migrations.m008_capture_off_disk_full)


def test_a_store_from_before_keeps_its_intervals_and_takes_disk_full(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    store_path.parent.mkdir(parents=True)
    key, _ = keys.create_key(store_path, OPEN)
    conn = connection.connect(store_path, key, cache_mb=16, busy_timeout_s=1)
    migrations.migrate(conn, store_path, upto=BEFORE)
    capture_off.add_off(conn, 1000, 2000, "paused")
    capture_off.add_off(conn, 3000, 4000, "not_running")
    conn.execute("INSERT INTO capture_off (start, reason) VALUES (5000, 'locked')")
    conn.close()

    with MemoryStore.open(store_path, OPEN, embedder) as store:
        with store.transaction() as c:
            capture_off.open_off(c, 6000, "disk_full")  # closes the open "locked" one
        with store.read() as c:
            rows = capture_off.off_between(c, 0, 10_000)
            indexes = {r[1] for r in c.execute("PRAGMA index_list(capture_off)")}
    assert [(r.start_ms, r.end_ms, r.reason) for r in rows] == [
        (1000, 2000, "paused"),
        (3000, 4000, "not_running"),
        (5000, 6000, "locked"),
        (6000, None, "disk_full"),
    ]
    assert "capture_off_start" in indexes
