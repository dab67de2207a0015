"""The endurance run, small: three minutes of replayed capture through the real daemon.

The full run (`python -m tests.benchmarks.endurance`, 8 simulated hours)
measures RSS growth; this one checks what must hold exactly at any length:
the daemon's process ends capture with the open files and threads it had
after warm-up, its queue stays bounded and drains, everything queued was
written, and its log holds no warning or error.
"""

from __future__ import annotations

from pathlib import Path

from mirix_desktop.config import Settings
from tests.benchmarks.endurance import run

# 3 simulated minutes at 18x: a look every 0.11 s, 10 s of capture.
HOURS = 3 / 60
SPEED = 18.0


def test_three_minutes_of_capture_leak_no_files_or_threads(tmp_path: Path) -> None:
    result = run(
        HOURS,
        SPEED,
        tmp_path / "data",
        warmup=0.3,  # the first look is read whole: OCR and the embedder settle in
        sample_s=0.2,
        window_s=2.0,
        say=lambda _text: None,
    )
    assert result.exit_code == 0
    warm = (result.warmup_s, result.warmup_s + result.window_s)
    end = (result.capture_s - result.window_s, result.capture_s)
    drained_fds = min(s.fds for s in result.after_drain)
    assert result.fds_at(*warm) == result.fds_at(*end) == drained_fds
    drained_threads = min(s.threads for s in result.after_drain)
    assert result.threads_at(*warm) == result.threads_at(*end) == drained_threads
    # Loosely: a short run is mostly noise (a frame is 8 MB); the full run measures it.
    assert result.rss_end < 1.5 * result.rss_after_warmup

    assert result.drained
    assert result.max_queue <= Settings().capture.max_queue
    child = result.child
    assert child["frames_fed"] >= 30  # the daemon really looked, time and again
    assert child["frame_rows"] == child["frames_total"] > 10
    assert child["memories"].get("resource", 0) >= 2
    assert child["failed_jobs"] == 0
    assert result.log_problems == []
