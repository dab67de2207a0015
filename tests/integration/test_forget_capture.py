"""A capture pipeline that goes on through a forget writes nothing forgotten back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mirix_desktop.app.forget import ForgetFilter, forget
from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.helpers.screens import pixels, screen

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _shot(lines: list[str]) -> MonitorShot:
    image = pixels(screen(lines))
    height, width = image.shape[:2]
    return MonitorShot(1, Rect(0, 0, width, height), image)


def test_the_builder_starts_afresh_after_a_forget(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings())
    editor = WindowInfo("code", "plan.py - Visual Studio Code", Rect(0, 0, 1280, 800), True)
    forgotten = [f"secret merger codename walrus item {n}" for n in range(6)]
    pipeline.submit(_shot(forgotten), [editor], T0)
    pipeline.drain()
    assert any("walrus" in r.body for r in store.list(limit=10))

    forget(store, ForgetFilter(since=T0 - timedelta(minutes=1)))
    assert store.count() == 0

    # The next frame: a new window above (a new document, inserted first, which
    # would get the forgotten memory's id again) and the editor below it.
    browser = WindowInfo("firefox", "News - Mozilla Firefox", Rect(0, 0, 1280, 300), False)
    lower = WindowInfo("code", "plan.py - Visual Studio Code", Rect(0, 300, 1280, 500), True)
    fresh = [f"ordinary headline number {n} today" for n in range(6)]
    fresh += [f"def handler_{n}(): return plain value" for n in range(8)]
    pipeline.submit(_shot(fresh), [browser, lower], T0 + timedelta(seconds=4))
    pipeline.drain()
    pipeline.processor.flush(T0 + timedelta(seconds=20))

    bodies = [r.body for r in store.list(limit=20)]
    assert any("headline" in body for body in bodies)
    assert not any("walrus" in body for body in bodies)
