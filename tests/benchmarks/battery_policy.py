"""The battery policy, measured: CPU per simulated hour of typing on mains and on battery.

A real daemon (its capture tick, the submitter's change detection, real
tesseract OCR of what changed, the episode builder, the encrypted store)
runs against a screen where someone types a word every 2 seconds, with a
fake clock and a fake /sys/class/power_supply (plugged in or not). Every
tick is followed by the OCR of what it queued, as the OCR worker would.
CPU is this process's user+system time (and its children's: the tesseract
command when tesserocr is missing) over the simulated span, scaled to one
hour; the figure that matters is the ratio between the policies.

    .venv/bin/python -m tests.benchmarks.battery_policy [--minutes 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import NullProbe
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.daemon import Daemon
from mirix_desktop.pipeline.power import PowerSource
from tests.helpers.screens import pixels, screen, text_lines

T0 = datetime(2026, 11, 2, 10, 0).astimezone()
# The person types: a new word every TYPING_S seconds of simulated time.
TYPING_S = 2.0


class TypingScreen:
    """A 1280x800 editor whose last line grows as the (simulated) person types."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock

    def grab(self) -> list[MonitorShot]:
        words = int((self.clock.now - T0).total_seconds() // TYPING_S)
        lines = text_lines(12)
        typed = " ".join(f"word{n}" for n in range(words))[-90:]
        image = pixels(screen([*lines, typed], footer=f"{words // 12} lines written"))
        return [MonitorShot(1, Rect(0, 0, 1280, 800), image)]

    def close(self) -> None:
        pass


class SimClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def fake_power_supply(root: Path, *, plugged: bool) -> Path:
    """A laptop's /sys/class/power_supply: AC adapter and battery."""
    for name, files in (
        ("AC", {"type": "Mains", "online": "1" if plugged else "0"}),
        ("BAT0", {"type": "Battery", "status": "Charging" if plugged else "Discharging"}),
    ):
        (root / name).mkdir(parents=True, exist_ok=True)
        for key, value in files.items():
            (root / name / key).write_text(value + "\n")
    return root


@dataclass(frozen=True)
class Measured:
    policy: str
    plugged: bool
    ticks: int
    frames: int
    cpu_s: float
    minutes: float

    @property
    def cpu_per_hour(self) -> float:
        return self.cpu_s * 60 / self.minutes

    def row(self) -> str:
        where = "mains" if self.plugged else "battery"
        return (
            f"{where:8s} on_battery={self.policy:9s} {self.ticks:5d} looks, {self.frames:5d} "
            f"frames kept, {self.cpu_per_hour:7.1f} CPU-s per simulated hour"
        )


def _cpu() -> float:
    """User+system CPU of this process and its finished children (a tesseract command)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def simulate(
    policy: str, *, plugged: bool, minutes: float, embedder: StaticEmbedder, work: Path
) -> Measured:
    """A daemon on a typing screen for `minutes` of simulated time."""
    run = Path(tempfile.mkdtemp(prefix=f"battery-{policy}-", dir=work))
    settings = Settings.model_validate(
        {"capture": {"on_battery": policy, "idle_pause_s": 0}, "storage": {"min_free_gb": 0}}
    )
    store = MemoryStore.open(run / "mirix.db", KeySource(passphrase="battery"), embedder)
    clock = SimClock()
    paths = resolve_paths(run / "data")
    paths.ensure()
    power = PowerSource(fake_power_supply(run / "sys", plugged=plugged), ttl_s=0)
    daemon = Daemon(
        paths,
        settings,
        store,
        probe_factory=NullProbe,
        grabber_factory=lambda: TypingScreen(clock),  # type: ignore[arg-type,return-value]
        clock=clock,
        power=power,
    )
    end = T0 + timedelta(minutes=minutes)
    ticks = 0
    cpu = _cpu()
    while clock.now < end:
        daemon.tick()
        daemon.pipeline.drain()  # what the OCR worker does between two ticks
        ticks += 1
        clock.now += timedelta(seconds=daemon.capture_interval())
    cpu = _cpu() - cpu
    frames = daemon.status_snapshot().frames_total
    daemon.pipeline.close()
    store.close()
    shutil.rmtree(run, ignore_errors=True)
    return Measured(policy, plugged, ticks, frames, cpu, minutes)


def measure_all(minutes: float, embedder: StaticEmbedder) -> list[Measured]:
    work = Path(tempfile.mkdtemp(prefix="mirix-battery-"))
    try:
        return [
            simulate("slower", plugged=True, minutes=minutes, embedder=embedder, work=work),
            simulate("slower", plugged=False, minutes=minutes, embedder=embedder, work=work),
            simulate("keyframes", plugged=False, minutes=minutes, embedder=embedder, work=work),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    from tests.benchmarks.common import MODELS_DIR

    os.environ.setdefault("MIRIX_MODELS_DIR", str(MODELS_DIR))
    model = StaticEmbedder(MODELS_DIR)
    model.embed(["warm up"])
    began = time.perf_counter()
    results = measure_all(args.minutes, model)
    for result in results:
        print(result.row())
    mains = results[0].cpu_per_hour
    for result in results[1:]:
        print(
            f"  {result.policy} on battery: {result.cpu_per_hour / mains:.0%} of the CPU on mains"
        )
    print(f"({args.minutes:g} simulated minutes each, {time.perf_counter() - began:.0f} s wall)")


if __name__ == "__main__":
    main()
