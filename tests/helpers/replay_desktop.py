"""A desktop made of replayed frames, fed to a daemon in another process over a pipe.

The endurance run measures the daemon's process alone, so the frames are
rendered elsewhere (`FrameSender`, in the measuring process) and cross a
`multiprocessing` pipe: a small header per tick (the windows, and whether
the pixels changed) and the BGRA pixels only when they changed.

In the daemon's process `ReplayFeed` is both the desktop probe and the
screen grabber: each tick the daemon asks `windows()` once, before it grabs,
so that call takes the next frame off the pipe and `grab()` returns its
pixels. After the sender's end mark the last frame stays on screen (a still
screen, so the queue can drain). If no frame comes within `wait_s` the last
one is shown again and counted as starved: a slow renderer must not hang
the daemon's capture thread.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from multiprocessing.connection import Connection

import numpy as np

from mirix_desktop.capture.changes import Pixels, pixels_from_image
from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.geometry import Rect
from tests.benchmarks.replay_frames import (
    FRAME_SECONDS,
    SCREEN_H,
    SCREEN_W,
    START,
    ReplayFrame,
    replay_frames,
)

SCREEN = Rect(0, 0, SCREEN_W, SCREEN_H)
# Frames per loop: the replay benchmark's session.
LOOP_FRAMES = 320

Header = tuple[list[WindowInfo], bool] | None  # None: no more frames


def windows_of(frame: ReplayFrame) -> list[WindowInfo]:
    return [
        WindowInfo(app=w.app, title=w.title, rect=Rect(*w.rect), active=w.active, url=w.url)
        for w in frame.windows
    ]


def looped_frames(loop_frames: int = LOOP_FRAMES) -> Iterator[ReplayFrame]:
    """The replay session again and again, each loop with its own seed.

    The seed picks other files, pages, commands and scroll positions, so the
    text keeps changing and the store keeps growing, as a day's work would;
    only each loop's first frames (the same editor opening) repeat.
    """
    for seed in itertools.count():
        yield from replay_frames(loop_frames, seed=seed)


class SimClock:
    """Simulated time running `speed` times faster than the wall, from the replay's start."""

    def __init__(self, speed: float, monotonic: Callable[[], float]) -> None:
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def __call__(self) -> datetime:
        return START + timedelta(seconds=(self._monotonic() - self._origin) * self.speed)

    def elapsed_s(self) -> float:
        """Simulated seconds since the start."""
        return (self._monotonic() - self._origin) * self.speed


class FrameSender:
    """Renders the looped replay and sends it down `conn` until told to stop (a thread)."""

    def __init__(self, conn: Connection, frames: Iterator[ReplayFrame] | None = None) -> None:
        self.conn = conn
        self.frames = frames if frames is not None else looped_frames()
        self.sent = 0  # frames sent
        self.changed = 0  # of them, with new pixels
        self.render_s = 0.0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frame-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        """Stops rendering and sends the end mark: the screen stays as it is."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import time

        previous: Pixels | None = None
        try:
            for frame in self.frames:
                if self._stop.is_set():
                    break
                started = time.process_time()
                pixels = pixels_from_image(frame.image)
                changed = previous is None or not np.array_equal(previous, pixels)
                self.render_s += time.process_time() - started
                # Blocks until the daemon's grab takes the previous frame: at
                # most one frame is rendered ahead.
                self.conn.send((windows_of(frame), changed))
                if changed:
                    self.conn.send_bytes(pixels.data.cast("B"))
                    previous = pixels
                self.sent += 1
                self.changed += changed
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError) as exc:
            self.error = exc  # the daemon's process is gone; the run says so
            return
        try:
            self.conn.send(None)
        except OSError as exc:
            self.error = exc


class ReplayFeed:
    """The daemon's desktop: probe and grabber in one, reading frames off `conn`."""

    def __init__(self, conn: Connection, *, wait_s: float = 5.0) -> None:
        self.conn = conn
        self.wait_s = wait_s
        self.frames = 0  # frames taken off the pipe
        self.starved = 0  # ticks that showed the last frame again for want of a new one
        self.ended = False
        self._windows: list[WindowInfo] = []
        self._pixels: Pixels = np.zeros((SCREEN_H, SCREEN_W, 4), dtype=np.uint8)
        # Called on the capture thread: after each frame taken (with the count), at the end.
        self.on_frame: Callable[[int], None] | None = None
        self.on_end: Callable[[], None] | None = None

    # DesktopProbe
    def windows(self) -> list[WindowInfo]:
        if not self.ended:
            self._next()
        return self._windows

    def idle_seconds(self) -> float | None:
        return 0.0  # the replayed user never leaves

    def screen_locked(self) -> bool:
        return False

    def close(self) -> None:
        pass  # the pipe outlives the daemon's desktop (it is reopened after an error)

    # ScreenGrabber
    def grab(self) -> list[MonitorShot]:
        return [MonitorShot(1, SCREEN, self._pixels)]

    def _next(self) -> None:
        if not self.conn.poll(self.wait_s):
            self.starved += 1
            return
        header: Header = self.conn.recv()
        if header is None:
            self.ended = True
            if self.on_end is not None:
                self.on_end()
            return
        self._windows, changed = header
        if changed:
            data = self.conn.recv_bytes()
            self._pixels = np.frombuffer(data, dtype=np.uint8).reshape(SCREEN_H, SCREEN_W, 4)
        self.frames += 1
        if self.on_frame is not None:
            self.on_frame(self.frames)


__all__ = ["FRAME_SECONDS", "FrameSender", "ReplayFeed", "SimClock", "looped_frames"]
