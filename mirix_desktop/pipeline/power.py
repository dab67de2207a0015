"""Is the computer running on battery? Read from Linux's /sys/class/power_supply.

Each entry there is a power supply with a `type` file: "Mains" (or "USB")
with `online` 1 when plugged in, "Battery" with a `status` ("Discharging",
"Charging", "Full", ...). The computer is on battery when no mains supply
is online and a system battery is discharging; with no battery at all (a
desktop) it is on mains. Batteries of devices (a mouse, a headset: `scope`
"Device") do not count. Elsewhere than Linux, psutil's sensors answer.

The answer is cached for `ttl_s`: the capture loop asks every tick.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

log = logging.getLogger("mirix.pipeline.power")

POWER_SUPPLY = Path("/sys/class/power_supply")
_MAINS_TYPES = frozenset({"mains", "usb", "usb_c", "usb_pd"})


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def on_battery(root: Path = POWER_SUPPLY) -> bool:
    """True when the computer runs on its battery now (see the module doc)."""
    try:
        supplies = sorted(root.iterdir())
    except OSError:
        return False  # no power_supply class: no battery to run on
    discharging = False
    for supply in supplies:
        kind = _read(supply / "type").lower()
        if kind in _MAINS_TYPES and _read(supply / "online") == "1":
            return False
        if kind == "battery" and _read(supply / "scope").lower() != "device":
            discharging = discharging or _read(supply / "status").lower() == "discharging"
    return discharging


def _psutil_on_battery() -> bool:  # pragma: no cover - macOS and Windows
    try:
        battery = psutil.sensors_battery()
    except (AttributeError, NotImplementedError, OSError):
        return False
    return battery is not None and battery.power_plugged is False


class PowerSource:
    """`on_battery()` cached for `ttl_s` seconds; the root is a parameter for tests."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        ttl_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read: Callable[[], bool]
        if root is not None or sys.platform.startswith("linux"):
            path = POWER_SUPPLY if root is None else root
            self._read = lambda: on_battery(path)
        else:  # pragma: no cover - macOS and Windows
            self._read = _psutil_on_battery
        self._ttl_s = ttl_s
        self._clock = clock
        self._at = float("-inf")
        self._value = False

    def on_battery(self) -> bool:
        now = self._clock()
        if now - self._at >= self._ttl_s:
            self._at = now
            value = self._read()
            if value != self._value:
                log.info("power: %s", "on battery" if value else "on mains")
            self._value = value
        return self._value
