"""The jobs of an `ingest` that died are done by the running daemon, not left for its restart.

Found by the kill trials (`tests/benchmarks/kill_trials.py`): an ingest killed
beside a running daemon left its queued image waiting until the daemon next
started, which may be weeks.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import NullProbe, WindowInfo
from mirix_desktop.config import CaptureSettings, Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline import daemon as daemon_module
from mirix_desktop.pipeline.daemon import Daemon
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.helpers.screens import pixels, screen, text_lines


def _dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def _waiting_jobs(store: MemoryStore) -> int:
    with store.read() as conn:
        return int(conn.execute("SELECT count(*) FROM capture_jobs WHERE failed = 0").fetchone()[0])


def test_the_running_daemon_takes_over_a_dead_ingests_jobs(
    tmp_path: Path, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daemon_module, "ORPHAN_CHECK_S", 0.2)
    settings = Settings(capture=CaptureSettings(enabled=False))  # its own queue stays empty
    daemon = Daemon(resolve_paths(tmp_path / "data"), settings, store, probe_factory=NullProbe)
    daemon.start()
    try:
        # An ingest queued an image, then died before reading it.
        ingest = Pipeline(store, settings, owner=_dead_pid())
        picture = pixels(screen(text_lines(4)))
        shot = MonitorShot(0, Rect(0, 0, picture.shape[1], picture.shape[0]), picture)
        window = WindowInfo("scanner", "scan.png", None, True)
        assert ingest.submit(shot, [window], datetime(2026, 11, 2, tzinfo=UTC)).state == "queued"
        assert _waiting_jobs(store) == 1
        deadline = time.monotonic() + 30
        while _waiting_jobs(store) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _waiting_jobs(store) == 0
        with store.read() as conn:
            assert conn.execute("SELECT ocr_state FROM frames").fetchall() == [("done",)]
    finally:
        daemon.stop()
