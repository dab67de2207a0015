"""`make bench` runs modules that exist: the Makefile's and every one `run_all` lists."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from tests.benchmarks.run_all import BENCHMARKS

ROOT = Path(__file__).resolve().parents[2]


def test_every_listed_benchmark_is_a_module() -> None:
    missing = [
        b.name for b in BENCHMARKS if importlib.util.find_spec(f"tests.benchmarks.{b.name}") is None
    ]
    assert not missing


def test_the_makefile_runs_modules_that_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    modules = re.findall(r"-m (tests\.benchmarks\.\w+)", makefile)
    assert modules, "make bench runs no benchmark module"
    assert all(importlib.util.find_spec(m) is not None for m in modules), modules
