"""Giving freed heap memory back to the system, so a daemon running all day keeps no peaks.

glibc's malloc keeps what is freed inside its arenas for reuse, and gives
back to the system only the free top of the main heap. The daemon allocates
and frees big buffers all day on two threads (8 MB screen frames, the
pictures tesseract reads, SQLite pages), so free pages pile up between
live ones and the resident size creeps upward over hours without a leak.
`malloc_trim(0)` returns every free page of every arena (`madvise`), in a
few milliseconds; the OCR worker calls `HeapTrimmer.maybe_trim` when its
queue is empty, at most once every `every_s`.

Elsewhere (musl, macOS, Windows) there is no `malloc_trim` and this does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import time
from collections.abc import Callable

log = logging.getLogger("mirix.pipeline.heap")

TRIM_EVERY_S = 60.0


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda pad: int(trim(pad))


class HeapTrimmer:
    def __init__(
        self, every_s: float = TRIM_EVERY_S, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.every_s = every_s
        self._monotonic = monotonic
        self._trim = _malloc_trim()
        self._last = monotonic()
        self.trims = 0

    @property
    def available(self) -> bool:
        return self._trim is not None

    def maybe_trim(self) -> bool:
        """Trims if the last trim is `every_s` old; True when it did."""
        if self._trim is None or self._monotonic() - self._last < self.every_s:
            return False
        self._trim(0)
        self._last = self._monotonic()
        self.trims += 1
        return True


__all__ = ["TRIM_EVERY_S", "HeapTrimmer"]
