"""The kill trials' checks can fail: each catches the damage it names, on a real store."""

from __future__ import annotations

from datetime import UTC, datetime

from mirix_desktop.memory.frames import NewFrame, insert_frame
from mirix_desktop.memory.records import ResourceMemory
from mirix_desktop.memory.store import MemoryStore
from tests.helpers.kill_harness import compare, duplicates, snapshot

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _chunk(content: str) -> ResourceMemory:
    return ResourceMemory(app="code", thread="doc:code:notes", content=content, first_seen=T0)


def _frame(store: MemoryStore) -> int:
    frame = NewFrame(T0, 1, "code", "notes", None, "0", 10, 10, None, 1.0)
    with store.transaction() as conn:
        return insert_frame(conn, frame)


def test_a_memory_lost_or_cut_short_is_caught(store: MemoryStore) -> None:
    grown, cut, gone = (store.add(_chunk(f"first line {n}")) for n in range(3))
    before = snapshot(store)
    store.update(grown, _chunk("first line 0\nsecond line"))
    assert compare(before, snapshot(store)) == []  # growing is allowed
    store.update(cut, _chunk("first"))
    store.delete(gone)
    found = {(f.check, f.detail.split(":")[0]) for f in compare(before, snapshot(store))}
    assert found == {
        ("committed memories kept", f"resource memory {cut}"),
        ("committed memories kept", f"resource memory {gone} is gone"),
    }


def test_duplicates_are_caught(store: MemoryStore) -> None:
    store.add(_chunk("a line long enough to be a line\n" * 40))
    assert {f.check for f in duplicates(store, {})} == {"no line twice in a document"}
    _frame(store)
    _frame(store)
    assert {f.check for f in duplicates(store, {})} == {
        "no line twice in a document",
        "no duplicate frames",
    }
