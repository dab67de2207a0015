"""The MCP `search_memory` round trip over stdio at 100k memories, with the SDK's own client.

    .venv/bin/python -m tests.benchmarks.mcp_roundtrip [--dir .cache/bench/quick-query-100k]
        [--size 100000] [--queries 50]

The store is quick_query.py's (chat_first_chunk.py's builder: search_latency's
corpus grown to `--size` memories, encrypted; `--dir` keeps it, and a store
already there is reused). `python -m mirix_desktop mcp` is started as a
subprocess by `mcp.client.stdio.stdio_client`, as Claude Desktop would; a
`ClientSession` initializes it and calls `search_memory` (limit 10) with
queries of 2-4 words drawn from stored memories.

The store file is read once first, so the OS page cache holds it, as for a
running daemon (search_latency.py's figures are on a warm cache too); without
that, the first run after other work pays for disk reads (p95 over 200 ms).

- start: from the spawn to `initialize` answered (the store opens later, on
  the first call, which is reported on its own).
- round trip: `call_tool` sent to its result decoded, after a few calls to
  warm up; one call at a time, as a client makes them.
- in process: the same queries through `search_memories` (what the tool
  calls) on the same store in this process, for the transport's share.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.benchmarks.chat_first_chunk import PASSPHRASE, build_store
from tests.benchmarks.common import MODELS_DIR, REPO, describe_ms, temp_dir

WARM_UP = 5
LIMIT = 10


def keywords(phrase: str) -> str:
    """A builder's question reduced to its words (quick_query.py's reading)."""
    for lead in ("what did I read about ", "where did I see ", "find the notes on "):
        phrase = phrase.replace(lead, "")
    return phrase.strip("? ")


def warm_page_cache(path: Path) -> None:
    with path.open("rb") as file:
        while file.read(1 << 20):
            pass


def load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


async def round_trips(
    directory: Path, queries: list[str]
) -> tuple[float, float, list[float], list[int]]:
    """(start s, first call s, round trips s, result counts) of one stdio session."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(directory)),
        "MIRIX_DATA_DIR": str(directory),
        "MIRIX_PASSPHRASE": PASSPHRASE,
        "MIRIX_MODELS_DIR": str(MODELS_DIR),
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mirix_desktop", "mcp"], env=env, cwd=str(REPO)
    )
    spawned = time.perf_counter()
    async with stdio_client(params) as streams, ClientSession(*streams[:2]) as session:
        await session.initialize()
        start = time.perf_counter() - spawned
        started = time.perf_counter()
        first = await session.call_tool("search_memory", {"query": queries[0], "limit": LIMIT})
        first_s = time.perf_counter() - started
        assert not first.is_error, first.content
        timings: list[float] = []
        counts: list[int] = []
        for number, query in enumerate(queries[1:]):
            started = time.perf_counter()
            result = await session.call_tool("search_memory", {"query": query, "limit": LIMIT})
            elapsed = time.perf_counter() - started
            assert not result.is_error, result.content
            if number >= WARM_UP:
                timings.append(elapsed)
                data = result.structured_content or {}
                counts.append(int(data.get("count", 0)))
    return start, first_s, timings, counts


def in_process(directory: Path, queries: list[str]) -> list[float]:
    """The same searches as the tool makes, without the transport."""
    from mirix_desktop.app.records import search_memories
    from mirix_desktop.app.services import AppServices

    services = AppServices.create(directory)
    try:
        store = services.store()
        now = datetime.now().astimezone()
        timings: list[float] = []
        for number, query in enumerate(queries):
            started = time.perf_counter()
            search_memories(store, services.settings, query, limit=LIMIT, now=now)
            if number > WARM_UP:
                timings.append(time.perf_counter() - started)
        return timings
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--dir", type=Path, help="keep the store here and reuse it")
    args = parser.parse_args()
    directory = args.dir or temp_dir("mirix-mcp-bench-")
    directory.mkdir(parents=True, exist_ok=True)
    os.environ.update(MIRIX_PASSPHRASE=PASSPHRASE, MIRIX_MODELS_DIR=str(MODELS_DIR))
    try:
        # The builder gives `queries` + its own warm-up count: the first call and
        # WARM_UP more warm up, the rest are timed.
        phrases = build_store(directory, args.size, args.queries + WARM_UP + 1)
        queries = [keywords(p) for p in phrases][: args.queries + WARM_UP + 1]
        store_mb = (directory / "mirix.db").stat().st_size / 1e6
        warm_page_cache(directory / "mirix.db")
        load_start = load()
        print(f"load average at the start: {load_start} (1, 5, 15 min)", flush=True)
        start, first, timings, counts = asyncio.run(round_trips(directory, queries))
        local = in_process(directory, queries)
        load_end = load()
    finally:
        if not args.dir:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"store: {store_mb:,.0f} MB; queries like {queries[WARM_UP + 1]!r}")
    print(f"server start (spawn to initialize answered): {start * 1000:.0f} ms")
    print(f"first search_memory (opens the store: scrypt, SQLCipher): {first * 1000:.0f} ms")
    print(
        f"search_memory round trip over stdio: {describe_ms(timings)}, "
        f"max {max(timings) * 1000:.1f} ms; {sum(counts) / len(counts):.1f} results a call"
    )
    print(f"the same searches in process (search_memories): {describe_ms(local)}")
    print(
        f"\n{os.cpu_count()} cores; load average at the start {load_start}, at the end {load_end}"
    )


if __name__ == "__main__":
    main()
