"""`SearchQuery.exclude_apps` (the MCP server's `mcp.exclude_apps`) in each search pass."""

from __future__ import annotations

import pytest

from mirix_desktop.memory.records import MemoryType, build_memory
from mirix_desktop.memory.search import SearchEngine, SearchMode, SearchQuery
from mirix_desktop.memory.store import MemoryStore


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid"])
def test_excluded_apps_are_never_returned(store: MemoryStore, mode: SearchMode) -> None:
    for app in ("Signal", "Firefox", None):
        store.add(build_memory(MemoryType.SEMANTIC, "the zebra launch plan", app=app))
    engine = SearchEngine(store, mode=mode)
    everything = engine.search(SearchQuery("zebra launch plan"))
    assert {hit.app for hit in everything.hits} == {"Signal", "Firefox", None}
    narrowed = engine.search(SearchQuery("zebra launch plan", exclude_apps=["Signal"]))
    # A memory with no app is kept: only the named apps are left out.
    assert {hit.app for hit in narrowed.hits} == {"Firefox", None}
    recent = engine.search(SearchQuery("what did I do", exclude_apps=["Signal", "Firefox"]))
    assert {hit.app for hit in recent.hits} == {None}
