"""The daemon's events, as a UI follows them: started, state, frame, queue, error, stopped."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import NullProbe, WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.errors import CaptureUnavailable
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.control import ControlFile
from mirix_desktop.pipeline.daemon import Daemon
from mirix_desktop.pipeline.events import DaemonEvent, JsonLinesSink
from tests.helpers.screens import pixels, screen

TITLE = "Zanzibar acquisition plan.odt - LibreOffice Writer"
SCREEN_TEXT = "Confidential: Zanzibar offer of 4.2 million"


class _EditorProbe(NullProbe):
    def windows(self) -> list[WindowInfo]:
        return [WindowInfo(app="libreoffice", title=TITLE, rect=Rect(0, 0, 1280, 800), active=True)]


class _TypingScreen:
    """A document that grows by one line on every grab."""

    def __init__(self) -> None:
        self.grabs = 0

    def grab(self) -> list[MonitorShot]:
        self.grabs += 1
        lines = [f"{SCREEN_TEXT}, draft {n}" for n in range(self.grabs)]
        return [MonitorShot(1, Rect(0, 0, 1280, 800), pixels(screen(lines)))]

    def close(self) -> None:
        pass


class _LockedStream(io.StringIO):
    """A pipe's worth of lines, readable while the daemon writes."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            return super().write(text)

    def events(self) -> list[DaemonEvent]:
        with self.lock:
            lines = self.getvalue().splitlines()
        parsed = [DaemonEvent.from_line(line) for line in lines]
        assert None not in parsed, lines
        return [event for event in parsed if event is not None]


def _wait(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _last_queue_depth(events: list[DaemonEvent]) -> int | None:
    depths = [e.status.queue_depth for e in events if e.kind == "queue"]
    return depths[-1] if depths else None


def _last_frame_count(events: list[DaemonEvent]) -> int | None:
    counts = [e.status.frames_total for e in events if e.kind == "frame"]
    return counts[-1] if counts else None


def _daemon(tmp_path: Path, store: MemoryStore, stream: _LockedStream, **kwargs: object) -> Daemon:
    settings = Settings()
    settings.capture.interval_s = 0.25  # the shortest allowed
    paths = resolve_paths(tmp_path / "data")
    paths.ensure()
    return Daemon(paths, settings, store, events=JsonLinesSink(stream), **kwargs)  # type: ignore[arg-type]


def test_a_ui_can_follow_capture_pause_and_stop(tmp_path: Path, store: MemoryStore) -> None:
    stream = _LockedStream()
    daemon = _daemon(
        tmp_path, store, stream, probe_factory=_EditorProbe, grabber_factory=_TypingScreen
    )
    started = time.monotonic()
    daemon.start()
    try:
        _wait(lambda: any(e.status.frames_total >= 6 for e in stream.events()))
        ControlFile(daemon.paths.data_dir / "control.json").pause(None)
        # Paused, and OCR has caught up: the last queue event says so.
        _wait(lambda: any(e.status.state == "paused" for e in stream.events()))
        _wait(lambda: _last_queue_depth(stream.events()) == 0)
        # A change the throttle held back is still reported.
        total = daemon.status_snapshot().frames_total
        _wait(lambda: _last_frame_count(stream.events()) == total)
    finally:
        daemon.stop()
    elapsed = time.monotonic() - started
    events = stream.events()
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds.count("started") == 1
    assert kinds[-1] == "stopped" and not events[-1].status.running
    states = [e.status.state for e in events if e.kind == "state"]
    assert states[:1] == ["capturing"] and "paused" in states
    paused = next(e for e in events if e.kind == "state" and e.status.state == "paused")
    assert paused.status.reason == "paused by you until resumed"
    frames = [e for e in events if e.kind == "frame"]
    # Four frames a second are captured and read: their events are throttled.
    assert len(frames) <= elapsed / 0.5 + 2
    # Counts and states only: never what was on the screen, nor its titles.
    text = stream.getvalue()
    assert "Zanzibar" not in text and "LibreOffice" not in text and "4.2 million" not in text


class _NoDisplay:
    def __init__(self) -> None:
        raise CaptureUnavailable("the display :99 went away")


@pytest.mark.expected_log("mirix.daemon", "WARNING", r"the display")
def test_an_error_is_an_event_with_its_message(tmp_path: Path, store: MemoryStore) -> None:
    stream = _LockedStream()
    daemon = _daemon(tmp_path, store, stream, probe_factory=_NoDisplay)
    daemon.start()
    try:
        _wait(lambda: any(e.kind == "error" for e in stream.events()))
    finally:
        daemon.stop()
    events = stream.events()
    error = next(e for e in events if e.kind == "error")
    assert error.message == "the display :99 went away"
    assert error.status.last_error == "the display :99 went away"
    state = next(e for e in events if e.kind == "state")
    assert state.status.state == "display unavailable"
