"""Shared helpers of the benchmarks: temp stores, timing, printing."""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mirix_desktop.memory.embedder import MiniLMEmbedder, StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = Path(os.environ.get("MIRIX_MODELS_DIR", REPO / ".cache" / "models"))
PASSPHRASE = KeySource(passphrase="benchmark passphrase")


def embedder(name: str = "static-minilm") -> StaticEmbedder | MiniLMEmbedder:
    model = MiniLMEmbedder() if name == "minilm" else StaticEmbedder(MODELS_DIR)
    model.embed(["warm up"])
    return model


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def open_store(path: Path, model: StaticEmbedder | MiniLMEmbedder) -> MemoryStore:
    return MemoryStore.open(path, PASSPHRASE, model)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def describe_ms(values: Sequence[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
        f"mean {statistics.fmean(ms):.1f} ms (n={len(ms)})"
    )
