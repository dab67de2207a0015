"""Grabbing the monitors' pixels with mss.

mss reads the X server's (or Windows'/macOS') framebuffer through ctypes in a
couple of milliseconds per 1080p monitor, as BGRA bytes; the arrays handed on
are views of those bytes, not copies. A display that goes away or a monitor
unplugged between two grabs becomes `CaptureUnavailable`, which the capture
loop shows and retries, rather than a crash.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from mirix_desktop.capture.changes import Pixels
from mirix_desktop.errors import CaptureUnavailable
from mirix_desktop.geometry import Rect

log = logging.getLogger("mirix.capture.screen")


@dataclass(frozen=True)
class MonitorShot:
    """One monitor's picture: HxWx4 BGRA pixels and where it sits on the virtual screen."""

    monitor: int  # 1-based, as mss numbers them
    rect: Rect
    pixels: Pixels


def _grab_errors() -> tuple[type[BaseException], ...]:
    from mss.exception import ScreenShotError

    return (ScreenShotError, OSError, ValueError)


class ScreenGrabber:
    """Grabs every monitor. Not thread-safe: one grabber per capture thread."""

    def __init__(self) -> None:
        self._mss: Any = None

    def _session(self) -> Any:
        if self._mss is None:
            import mss

            # mss 10.2 renamed the factory `mss.mss()` to the class `mss.MSS`.
            factory = getattr(mss, "MSS", None) or mss.mss
            try:
                self._mss = factory()
            except _grab_errors() as exc:
                raise CaptureUnavailable(f"cannot open the screen for capture: {exc}") from exc
        return self._mss

    def monitors(self) -> list[Rect]:
        session = self._session()
        return [Rect(m["left"], m["top"], m["width"], m["height"]) for m in session.monitors[1:]]

    def grab(self) -> list[MonitorShot]:
        session = self._session()
        shots = []
        try:
            for number, monitor in enumerate(session.monitors[1:], start=1):
                raw = session.grab(monitor)
                pixels = np.frombuffer(raw.bgra, dtype=np.uint8).reshape(raw.height, raw.width, 4)
                rect = Rect(monitor["left"], monitor["top"], raw.width, raw.height)
                shots.append(MonitorShot(number, rect, pixels))
        except _grab_errors() as exc:  # the display went away or a monitor was unplugged
            self.close()
            raise CaptureUnavailable(f"the screen could not be captured: {exc}") from exc
        if not shots:
            raise CaptureUnavailable("no monitor is connected")
        return shots

    def close(self) -> None:
        if self._mss is not None:
            try:
                self._mss.close()
            except _grab_errors():  # closing a dead display connection may fail; it is gone
                log.debug("closing the screen session failed", exc_info=True)
            self._mss = None
