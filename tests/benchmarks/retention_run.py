"""Retention and the space cap on the generated 30-day store: how long each kind of run takes.

A copy of tests/benchmarks/timeline_store.py's store (30 days, ~585k frames
with thumbnails and OCR lines, ~12k episodes; 2.7 GB) is opened and
`app.retention.run_retention` run on it as the daemon would:
- an hourly run with nothing to do (no retention, no cap: the default);
- the first run after setting retention_days to 23 (7 days go, through forget);
- the next hourly run (an hour more goes);
- a cap of 75 % of the space used (the oldest thumbnails go), then the run after it;
- a cap of 30 % (the rest of the thumbnails, then the oldest frames with their lines);
- a cap below what the newest day needs (all older frames go; the day is kept, and said);
and the space forecast the settings page reads. The copy is deleted at the end.

    .venv/bin/python -m tests.benchmarks.retention_run [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from mirix_desktop.app.retention import GB, RetentionReport, run_retention, space_forecast
from mirix_desktop.config import Settings
from mirix_desktop.memory import retention as raw
from tests.benchmarks.common import REPO, embedder, open_store
from tests.benchmarks.timeline_store import ensure_store


def _settings(**storage: object) -> Settings:
    return Settings.model_validate({"storage": {"min_free_gb": 0, **storage}})


def _show(label: str, report: RetentionReport) -> None:
    print(
        f"{label:44s} {report.seconds:7.2f} s  {report.bytes_before / GB:.2f} -> "
        f"{report.bytes_after / GB:.2f} GB  {report.summary()}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the copy (its path is printed)")
    args = parser.parse_args()
    source, days = ensure_store(30)
    work = Path(tempfile.mkdtemp(prefix="retention-", dir=REPO / ".cache" / "bench"))
    started = time.perf_counter()
    for file in source.parent.iterdir():
        if file.name.startswith("mirix.db"):
            shutil.copy2(file, work / file.name)
    print(f"copied the {len(days)}-day store in {time.perf_counter() - started:.0f} s: {work}")
    try:
        with open_store(work / "mirix.db", embedder()) as store:
            # Noon of the day after the last generated day: "now".
            now = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time()).astimezone()
            now = now.replace(hour=12)
            with store.read() as conn:
                used = raw.store_space(conn).used_bytes
                began = time.perf_counter()
                layers = raw.layer_bytes(conn)
                layer_s = time.perf_counter() - began
            print(
                f"store: {used / GB:.2f} GB used, {layers.frame_count:,} frames; estimated "
                f"thumbnails {layers.thumbnails / GB:.2f} GB, frames+lines "
                f"{layers.frames / GB:.2f} GB, memories {layers.memories / GB:.2f} GB "
                f"({layer_s * 1000:.0f} ms)"
            )
            began = time.perf_counter()
            forecast = space_forecast(store, _settings(max_gb=round(used * 1.2 / GB, 2)), now=now)
            print(f"space forecast ({(time.perf_counter() - began) * 1000:.0f} ms): "
                  f"{forecast.describe()}")  # fmt: skip

            _show("hourly run, nothing set", run_retention(store, _settings(), now=now))
            _show(
                "retention_days=23, first run (7 days go)",
                run_retention(store, _settings(retention_days=23), now=now),
            )
            _show(
                "retention_days=23, the next hour",
                run_retention(store, _settings(retention_days=23), now=now + timedelta(hours=1)),
            )
            with store.read() as conn:
                used = raw.store_space(conn).used_bytes
            cap = round(used * 0.75 / GB, 3)
            _show(
                f"max_gb={cap} (75 %), first run",
                run_retention(store, _settings(max_gb=cap), now=now + timedelta(hours=1)),
            )
            _show(
                f"max_gb={cap}, the next hour",
                run_retention(store, _settings(max_gb=cap), now=now + timedelta(hours=2)),
            )
            with store.read() as conn:
                used = raw.store_space(conn).used_bytes
            cap = round(used * 0.3 / GB, 3)
            _show(
                f"max_gb={cap} (30 %: thumbnails, then frames)",
                run_retention(store, _settings(max_gb=cap), now=now + timedelta(hours=2)),
            )
            report = run_retention(store, _settings(max_gb=0.01), now=now + timedelta(hours=3))
            _show("max_gb=0.01 (below the newest day)", report)
            print(f"  {report.warning()}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
