"""The audit log's cost: one entry written, the newest read back, the space a 100k-entry log takes.

    .venv/bin/python -m tests.benchmarks.audit_log [--entries 100000] [--writes 1000]

On a fresh encrypted store: the mean time of `app.audit.record` (its own
transaction, as each MCP call and vault read pays it), then with `--entries`
entries of an MCP call's size (one every 30 s going back), the time to read
the newest 1000 (the `audit` command and the settings page) and the last
7 days' newest 1000, and the bytes per entry the store grew by.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mirix_desktop.app import audit
from mirix_desktop.memory.audit import append_audit
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import MODELS_DIR

DETAILS: dict[str, object] = {
    "tool": "search_memory",
    "client": "claude-ai",
    "result": "ok",
    "count": 5,
    "args": ["limit", "query"],
    "ms": 41,
}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mirix.db"
        store = MemoryStore.open(path, KeySource(passphrase="bench"), StaticEmbedder(MODELS_DIR))
        with store.read() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        empty = _size(path)
        started = time.perf_counter()
        for _ in range(args.writes):
            audit.record(store, "mcp_read", DETAILS, actor="mcp")
        write_ms = (time.perf_counter() - started) / args.writes * 1000
        now = time.time()
        with store.transaction() as conn:
            for i in range(args.entries - args.writes):
                append_audit(conn, "mcp_read", DETAILS, actor="mcp", at=now - i * 30)
        started = time.perf_counter()
        newest = audit.entries(store, limit=1000)
        newest_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        week = audit.entries(store, since=now - 7 * 86400, limit=1000)
        week_ms = (time.perf_counter() - started) * 1000
        with store.read() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        grown = _size(path) - empty
        store.close()
    print(f"record(): {write_ms:.2f} ms per entry (mean of {args.writes})")
    print(
        f"{args.entries} entries: newest {len(newest)} read in {newest_ms:.0f} ms, "
        f"last 7 days' newest {len(week)} in {week_ms:.0f} ms; "
        f"{grown / args.entries:.0f} bytes per entry"
    )


if __name__ == "__main__":
    main()
