"""A restart (after a crash or a clean stop) stores nothing twice.

Found by the kill trials (`tests/benchmarks/kill_trials.py`): after a
restart the first picture is read whole, and a document longer than one
resource chunk (a full editor or terminal) had the lines of its earlier
chunks appended again to its newest one.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import MemoryType
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.memories import CHUNK_CHARS, line_key
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.conftest import PASSPHRASE
from tests.helpers.screens import pixels, screen

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EDITOR = WindowInfo("code", "ledger.txt - Visual Studio Code", Rect(0, 0, 1280, 800), True)


def _contents(store: MemoryStore) -> list[str]:
    chunks = sorted(store.list([MemoryType.RESOURCE], limit=100), key=lambda r: r.id)
    return [str(chunk.model().type_fields()["content"]) for chunk in chunks]


def _read_screen(store: MemoryStore, image: MonitorShot, at: datetime) -> None:
    pipeline = Pipeline(store, Settings())
    assert pipeline.submit(image, [EDITOR], at).state == "queued"
    pipeline.drain()
    pipeline.close()


def test_a_long_document_shown_again_after_a_restart_gains_no_line_twice(
    store_path: Path, embedder: StaticEmbedder
) -> None:
    lines = [
        f"entry {i:02d}: the harbour ledger lists {i * 13} crates of amber tea for the depot"
        for i in range(28)
    ]
    picture = pixels(screen(lines))
    image = MonitorShot(1, Rect(0, 0, picture.shape[1], picture.shape[0]), picture)
    key = KeySource(passphrase=PASSPHRASE)
    with MemoryStore.open(store_path, key, embedder) as first:
        _read_screen(first, image, T0)
        before = _contents(first)
    assert sum(map(len, before)) > CHUNK_CHARS and len(before) >= 2  # a document of two chunks
    # The daemon starts again, with the same editor on screen: read whole.
    with MemoryStore.open(store_path, key, embedder) as second:
        _read_screen(second, image, T0 + timedelta(seconds=30))
        after = _contents(second)
    keys = Counter(line_key(text) for content in after for text in content.splitlines())
    assert [k for k, n in keys.items() if n > 1] == []
    assert after == before
