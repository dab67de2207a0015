"""MIRIX's own windows (chat, timeline, quick query) are masked but never stop capture.

They show what the store already holds; captured again, old screen text would
come back as new memories at a new time. Unlike an excluded window, an active
one of them must not stop capture: the person is using MIRIX, not hiding.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import NullProbe, WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.daemon import Daemon
from tests.helpers.screens import LINE_HEIGHT, pixels, screen

# The chat fills the top of the screen; the editor below it is what the person works on.
CHAT_LINES = [f"Quokka answer from the MIRIX chat, line {n}" for n in range(8)]
EDITOR_LINES = [f"Wombat budget table, row {n} of the report" for n in range(8)]
CHAT_HEIGHT = 40 + LINE_HEIGHT * len(CHAT_LINES)
EDITOR_TITLE = "budget.ods - LibreOffice Calc"


class _ChatOverEditor(NullProbe):
    def windows(self) -> list[WindowInfo]:
        return [
            WindowInfo(
                app="Mirix-desktop",
                title="MIRIX — Chat",
                rect=Rect(0, 0, 1280, CHAT_HEIGHT),
                active=True,
            ),
            WindowInfo(app="libreoffice", title=EDITOR_TITLE, rect=Rect(0, 0, 1280, 800)),
        ]


class _Screen:
    def grab(self) -> list[MonitorShot]:
        image = screen([*CHAT_LINES, *EDITOR_LINES])
        return [MonitorShot(1, Rect(0, 0, 1280, 800), pixels(image))]

    def close(self) -> None:
        pass


def test_an_active_mirix_window_is_masked_and_capture_goes_on(
    tmp_path: Path, store: MemoryStore
) -> None:
    now = [datetime(2026, 11, 20, 10, 0).astimezone()]
    daemon = Daemon(
        resolve_paths(tmp_path / "data"),
        Settings(),
        store,
        probe_factory=_ChatOverEditor,
        grabber_factory=_Screen,  # type: ignore[arg-type]
        clock=lambda: now[0],
    )
    for _ in range(4):
        daemon.tick()
        assert daemon.status.state == "capturing"
        now[0] += timedelta(minutes=1)
    assert daemon.status.frames_total == 1  # the screen did not change
    with store.read() as conn:
        # The activity the episodes are made of names the editor, not the chat.
        queued = " ".join(bytes(r[0]).decode("latin-1") for r in conn.execute(
            "SELECT payload FROM capture_jobs WHERE kind = 'activity'"))  # fmt: skip
    assert EDITOR_TITLE in queued and "MIRIX" not in queued
    daemon.pipeline.drain()
    daemon.pipeline.processor.flush(now[0])
    daemon.pipeline.close()
    with store.read() as conn:
        lines = " ".join(r[0] for r in conn.execute("SELECT text FROM ocr_lines"))
        frame_apps = [r[0] for r in conn.execute("SELECT app FROM frames")]
        memories = " ".join(
            f"{r[0]} {r[1]}" for r in conn.execute("SELECT title, body FROM memories")
        )
    assert "Wombat" in lines  # the editor below the chat is read
    assert "Quokka" not in lines + memories  # the chat is not
    assert frame_apps == ["libreoffice"]
    assert "MIRIX" not in memories and "Wombat" in memories
