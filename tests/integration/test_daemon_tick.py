"""One capture tick of the daemon, with a fake desktop and clock: what `status` counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import NullProbe
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.daemon import Daemon
from tests.helpers.screens import pixels, screen, text_lines


class _ChangingScreen:
    """A monitor whose picture changes on every grab."""

    def __init__(self) -> None:
        self.grabs = 0

    def grab(self) -> list[MonitorShot]:
        self.grabs += 1
        image = pixels(screen(text_lines(3), footer=f"grab number {self.grabs}"))
        return [MonitorShot(1, Rect(0, 0, 1280, 800), image)]

    def close(self) -> None:
        pass


def test_frames_today_starts_again_after_midnight(tmp_path: Path, store: MemoryStore) -> None:
    now = [datetime(2026, 11, 2, 23, 59, 50).astimezone()]
    daemon = Daemon(
        resolve_paths(tmp_path / "data"),
        Settings(),
        store,
        probe_factory=NullProbe,
        grabber_factory=_ChangingScreen,  # type: ignore[arg-type]
        clock=lambda: now[0],
    )
    daemon.tick()
    daemon.tick()
    assert daemon.status.frames_today == 2
    now[0] += timedelta(seconds=20)  # past midnight, local time
    daemon.tick()
    assert daemon.status.frames_today == 1
    assert daemon.status.frames_total == 3
    daemon.pipeline.close()
