"""Disk space as the settings window's Storage page shows it.

What MIRIX's files take now (the memories file and its write-ahead log,
the logs, the downloaded models), what is free on the disk, the forecast of
`app/retention.py` ("at this rate the cap is reached in about N days") and
the last retention run. Gathered in one call, on a worker: sizing a models
folder and opening the store take time.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mirix_desktop.app.retention import (
    RetentionReport,
    SpaceForecast,
    last_retention,
    space_forecast,
)
from mirix_desktop.app.texts import for_window
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths

log = logging.getLogger("mirix.app.space")

GB = 1_000_000_000
MB = 1_000_000


@dataclass(frozen=True)
class DiskUse:
    """Bytes of each kind of MIRIX file, and free on the disk holding the memories."""

    store_bytes: int  # the memories file
    wal_bytes: int  # its write-ahead log (and shared-memory index)
    log_bytes: int
    model_bytes: int
    free_bytes: int

    @property
    def memories_bytes(self) -> int:
        return self.store_bytes + self.wal_bytes


@dataclass(frozen=True)
class SpaceReport:
    disk: DiskUse
    forecast: SpaceForecast | None
    last_run: RetentionReport | None
    # Why there is no forecast (the store cannot be opened), in words.
    problem: str | None = None


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tree_size(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def _existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def disk_use(paths: AppPaths) -> DiskUse:
    store = paths.store_file
    wal = sum(_file_size(store.with_name(store.name + suffix)) for suffix in ("-wal", "-shm"))
    try:
        free = shutil.disk_usage(_existing(paths.data_dir)).free
    except OSError:
        free = 0
    return DiskUse(
        store_bytes=_file_size(store),
        wal_bytes=wal,
        log_bytes=_tree_size(paths.data_dir / "logs"),
        model_bytes=_tree_size(paths.models_dir),
        free_bytes=free,
    )


def space_report(
    paths: AppPaths, settings: Settings, open_store: Callable[[], MemoryStore]
) -> SpaceReport:
    """The files' sizes always; the forecast and last run when the store opens.

    `open_store` is not called when there is no memories file yet (it would create one).
    """
    disk = disk_use(paths)
    if not paths.store_file.exists():
        return SpaceReport(disk, None, None, "Nothing is recorded yet.")
    try:
        store = open_store()
        forecast = space_forecast(store, settings)
        last_run = last_retention(store)
    except KnownError as exc:
        log.info("no space forecast: %s", exc.message)
        return SpaceReport(disk, None, None, for_window(exc.message))
    return SpaceReport(disk, forecast, last_run)


def size_words(n: int) -> str:
    """'3.2 GB', '41.0 MB', '12 kB'."""
    if n >= GB:
        return f"{n / GB:.1f} GB"
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{max(0, n) / 1000:.0f} kB"


def days_words(days: float) -> str:
    if days < 1:
        return "less than a day"
    if days < 1.5:
        return "about 1 day"
    return f"about {days:.0f} days"


def cap_words(max_gb: float) -> str:
    """'5 GB', '2.5 GB', '1,000 GB', '300 MB': a cap as the person set it, without noise."""
    if max_gb >= 1:
        return f"{max_gb:,.1f}".rstrip("0").rstrip(".") + " GB"
    return f"{max_gb * 1000:,.1f}".rstrip("0").rstrip(".") + " MB"


def forecast_words(forecast: SpaceForecast, settings: Settings) -> str:
    """'About 40 MB a day; at this rate the 5 GB cap is reached in about 95 days.'"""
    cap_gb = settings.storage.max_gb
    cap = f"the {cap_words(cap_gb)} cap"
    if forecast.days_until_cap is not None and forecast.days_until_cap <= 0:
        return (
            f"The memories file has reached {cap}: the oldest thumbnails, then the oldest "
            "screen captures, make room for new ones."
        )
    no_cap = " No space cap is set." if cap_gb <= 0 else ""
    if forecast.bytes_per_day is None:
        return f"Too little is recorded yet to tell how fast the memories file grows.{no_cap}"
    if forecast.bytes_per_day <= 0:
        return f"Nothing was recorded in the last days, so the file is not growing.{no_cap}"
    rate = f"About {size_words(int(forecast.bytes_per_day))} a day"
    if cap_gb <= 0 or forecast.days_until_cap is None:
        return f"{rate}; no space cap is set."
    return f"{rate}; at this rate {cap} is reached in {days_words(forecast.days_until_cap)}."
