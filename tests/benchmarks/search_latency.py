"""Hybrid search latency, insert throughput, file size and cold start at scale.

Memories of realistic length are blocks of 3-15 consecutive lines (about
20-150 words) of Python's own standard library source and documentation, as
OCR would read them off an editor or a docs page; each file is a thread. The
store is built once, growing through the sizes asked for, in batches of 500
through `MemoryStore.add_many` (embedding included) into an encrypted file.
At each size: 200 queries of 2-4 words drawn from stored memories, k=10,
through `SearchEngine.search` (the path the CLI and UI use), after 200 other
queries in each mode have warmed SQLite's page cache.

    .venv/bin/python -m tests.benchmarks.search_latency [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

from mirix_desktop.memory.records import ResourceMemory
from mirix_desktop.memory.search import SearchEngine, SearchQuery, keyword_terms
from mirix_desktop.memory.store import MemoryStore
from tests.benchmarks.common import MODELS_DIR, describe_ms, embedder, open_store, temp_dir

BATCH = 500
QUERIES = 200


def source_files() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.rglob("*.py") if "test" not in p.parts and p.stat().st_size)
    return files


def memory_blocks(seed: int = 7) -> Iterator[tuple[str, str]]:
    """Endless (thread, text) blocks cycling through the standard library."""
    rng = random.Random(seed)
    files = source_files()
    round_no = 0
    while True:
        for path in files:
            lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()]
            lines = [ln for ln in lines if ln]
            position = rng.randrange(0, 5) if round_no else 0
            while position < len(lines):
                size = rng.randint(3, 15)
                block = " ".join(lines[position : position + size])
                position += size
                if len(block) >= 40:
                    yield f"{path.name}#{round_no}", block[:1500]
        round_no += 1


def store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def grow(store: MemoryStore, blocks: Iterator[tuple[str, str]], target: int) -> tuple[int, float]:
    added, started = 0, time.perf_counter()
    while store.count() < target:
        batch = [next(blocks) for _ in range(min(BATCH, target - store.count()))]
        store.add_many(
            [
                ResourceMemory(
                    content=text, title=thread.split("#")[0], app="editor", thread=thread
                )
                for thread, text in batch
            ]
        )
        added += len(batch)
    return added, time.perf_counter() - started


def sample_queries(store: MemoryStore, rng: random.Random) -> list[str]:
    top = store.conn.execute("SELECT max(id) FROM memories").fetchone()[0]
    queries: list[str] = []
    while len(queries) < QUERIES:
        row = store.conn.execute(
            "SELECT body FROM memories WHERE id = ?", (rng.randint(1, top),)
        ).fetchone()
        words = [w for w in keyword_terms(row[0]) if w.isalpha() and len(w) > 3]
        if len(words) >= 4:
            queries.append(" ".join(rng.sample(words, rng.randint(2, 4))))
    return queries


def measure(store: MemoryStore, queries: list[str], mode: str) -> list[float]:
    engine = SearchEngine(store, mode=mode)  # type: ignore[arg-type]
    timings = []
    for text in queries:
        started = time.perf_counter()
        engine.search(SearchQuery(text, limit=10, parse_time=False))
        timings.append(time.perf_counter() - started)
    return timings


def cold_start(data_dir: Path, query: str) -> float:
    env = dict(
        os.environ, MIRIX_PASSPHRASE="benchmark passphrase", MIRIX_MODELS_DIR=str(MODELS_DIR)
    )
    cli = Path(sys.executable).with_name("mirix-desktop")
    started = time.perf_counter()
    done = subprocess.run(
        [str(cli), "--data-dir", str(data_dir), "search", query, "--limit", "1"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    assert done.stdout.strip(), "cold-start search found nothing"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--keep", action="store_true", help="keep the store directory")
    parser.add_argument("--dir", type=Path, help="measure (and grow) a store kept by --keep")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    model = embedder()
    directory = args.dir or temp_dir("mirix-bench-")
    path = directory / "mirix.db"
    store = open_store(path, model)
    blocks = memory_blocks()
    rng = random.Random(11)
    for size in sizes:
        added, seconds = grow(store, blocks, size)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # Warm SQLite's page cache as a running daemon has it, with other queries
        # than the measured ones.
        warm_up = sample_queries(store, rng)
        for mode in ("hybrid", "keyword", "vector"):
            measure(store, warm_up, mode)
        queries = sample_queries(store, rng)
        hybrid = measure(store, queries, "hybrid")
        keyword = measure(store, queries, "keyword")
        vector = measure(store, queries, "vector")
        size_mb = store_bytes(path) / 1e6
        start = cold_start(directory, queries[0])
        rate = f"{added / seconds:,.0f}/s" if added else "n/a (store reused)"
        print(
            f"{size:>9,} memories: insert {rate} | file {size_mb:,.0f} MB "
            f"({size_mb / size * 1e5:,.0f} MB per 100k) | cold start {start:.2f} s",
            flush=True,
        )
        print(f"    hybrid  {describe_ms(hybrid)}", flush=True)
        print(f"    keyword {describe_ms(keyword)}", flush=True)
        print(f"    vector  {describe_ms(vector)}", flush=True)
    store.close()
    if args.keep or args.dir:
        print(f"store kept in {directory}")
    else:
        for file in directory.glob("*"):
            if file.is_file():
                file.unlink()
    print(f"\nembedder {model.model_id}; {os.cpu_count()} cores; encrypted store (SQLCipher)")


if __name__ == "__main__":
    main()
