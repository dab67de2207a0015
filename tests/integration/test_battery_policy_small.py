"""The battery policy's benchmark, small (tests/benchmarks/battery_policy.py): a simulated
minute of typing with real OCR costs less CPU on battery, by policy."""

from __future__ import annotations

from pathlib import Path

from mirix_desktop.memory.embedder import StaticEmbedder
from tests.benchmarks.battery_policy import simulate


def test_on_battery_capture_costs_less_cpu(tmp_path: Path, embedder: StaticEmbedder) -> None:
    mains = simulate("slower", plugged=True, minutes=1, embedder=embedder, work=tmp_path)
    slower = simulate("slower", plugged=False, minutes=1, embedder=embedder, work=tmp_path)
    keyframes = simulate("keyframes", plugged=False, minutes=1, embedder=embedder, work=tmp_path)
    print("", mains.row(), slower.row(), keyframes.row(), sep="\n")
    assert (mains.ticks, mains.frames) == (30, 30)  # every 2 s, the screen changing each time
    assert (slower.ticks, slower.frames) == (6, 6)  # every 10 s
    assert (keyframes.ticks, keyframes.frames) == (30, 2)  # every 2 s, kept every 30 s
    assert slower.cpu_s < 0.6 * mains.cpu_s
    assert keyframes.cpu_s < 0.8 * mains.cpu_s
