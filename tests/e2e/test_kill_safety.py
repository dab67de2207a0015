"""Crash safety, small: the real daemon SIGKILLed three times during capture and ingest.

The full run (20 trials and more) is `python -m tests.benchmarks.kill_trials`;
the trials and their checks are `tests/helpers/kill_harness.py`'s.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mirix_desktop.memory.embedder import StaticEmbedder
from tests.helpers.kill_harness import CHECKS, run_trials
from tests.helpers.xdisplay import xvfb_display

pytestmark = pytest.mark.skipif(
    shutil.which("Xvfb") is None, reason="Xvfb is not installed (apt install xvfb)"
)


def test_three_kills_lose_nothing_and_store_nothing_twice(
    tmp_path: Path, embedder: StaticEmbedder
) -> None:
    with xvfb_display() as display:
        report = run_trials(
            display,
            3,
            seed=3,
            workdir=tmp_path,
            embedder=embedder,
            say=lambda _line: None,
            max_delay_s=3.0,
            ingest_images=3,
        )
    assert report.failures_by_check() == dict.fromkeys(CHECKS, 0), report.text()
    assert report.survived == 3
    results = report.results
    # The trials did what they claim: ingests and a start were cut short,
    # and the kills left work in the queue that the restarts finished.
    assert any(r.killed_ingest for r in results), report.text()
    assert results[1].killed_while_starting
    assert any(r.queued_at_kill for r in results), report.text()
    assert results[-1].memories > 0 and results[-1].frames > 0
