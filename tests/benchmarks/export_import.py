"""Export and import throughput, in memories per second, on the generated 30-day store.

The store of tests/benchmarks/timeline_store.py (30 days, ~12k episodes and
their documents) is exported whole as JSONL and as Markdown, as `mirix-desktop
export` does; the JSONL file is then imported into a new, empty store (each
memory embedded and indexed, all in one transaction), and imported a second
time, which adds nothing (the stable ids). The exported files and the new
store are deleted at the end.

    .venv/bin/python -m tests.benchmarks.export_import
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from mirix_desktop.app.export import ExportFilter, ExportFormat, export_memories, import_memories
from mirix_desktop.memory.store import MemoryStore
from tests.benchmarks.common import embedder, open_store, temp_dir
from tests.benchmarks.timeline_store import open_bench_store


def _timed_export(source_store: MemoryStore, target: Path, export_format: ExportFormat) -> int:
    started = time.perf_counter()
    count = export_memories(source_store, target, export_format, ExportFilter())
    seconds = time.perf_counter() - started
    size_mb = target.stat().st_size / 1e6
    print(
        f"export {export_format.value}: {count} memories in {seconds:.2f} s "
        f"= {count / seconds:,.0f} memories/s ({size_mb:.1f} MB)"
    )
    return count


def main() -> None:
    source, _days = open_bench_store()
    scratch = temp_dir("mirix-bench-export-")
    try:
        jsonl = scratch / "all.jsonl"
        count = _timed_export(source, jsonl, ExportFormat.JSONL)
        _timed_export(source, scratch / "all.md", ExportFormat.MARKDOWN)
        source.close()
        target = open_store(scratch / "target.db", embedder())
        try:
            started = time.perf_counter()
            first = import_memories(target, jsonl)
            seconds = time.perf_counter() - started
            print(
                f"import jsonl into an empty store: {first.added} added in {seconds:.2f} s "
                f"= {first.added / seconds:,.0f} memories/s (embedding and indexing included)"
            )
            started = time.perf_counter()
            again = import_memories(target, jsonl)
            seconds = time.perf_counter() - started
            print(
                f"import the same file again: {again.added} added, {again.skipped} already there, "
                f"in {seconds:.2f} s = {count / seconds:,.0f} memories/s"
            )
            assert first.added == count and again.added == 0
        finally:
            target.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
