"""The daemon and the disk, the battery and retention: pause below the free-disk floor
and go on above it, capture slower or keyframes only on battery, and say what
retention did (status.json, `mirix-desktop status`, the tray's notices)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mirix_desktop.app.retention import RetentionWork
from mirix_desktop.app.status import read_status, status_view
from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import NullProbe
from mirix_desktop.cli.main import cli
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory import timeline as capture_off
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline import daemon as daemon_module
from mirix_desktop.pipeline.daemon import DISK_RESUME_MARGIN, Daemon
from mirix_desktop.pipeline.housekeeping import HousekeepingRun
from mirix_desktop.pipeline.power import PowerSource
from mirix_desktop.ui.tray import StatusNotices
from tests.helpers.screens import pixels, screen, text_lines
from tests.unit.pipeline.test_power import laptop

T0 = datetime(2026, 11, 2, 10, 0).astimezone()
GB = 1_000_000_000


class _Screen:
    """A monitor whose picture changes on every grab (someone typing)."""

    def __init__(self) -> None:
        self.grabs = 0

    def grab(self) -> list[MonitorShot]:
        self.grabs += 1
        image = pixels(screen(text_lines(3), footer=f"grab number {self.grabs}"))
        return [MonitorShot(1, Rect(0, 0, 1280, 800), image)]

    def close(self) -> None:
        pass


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _daemon(
    tmp_path: Path,
    store: MemoryStore,
    settings: Settings,
    clock: _Clock,
    **kwargs: object,
) -> Daemon:
    paths = resolve_paths(tmp_path / "data")
    paths.ensure()
    return Daemon(
        paths,
        settings,
        store,
        probe_factory=NullProbe,
        grabber_factory=_Screen,  # type: ignore[arg-type]
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )


def _offs(store: MemoryStore) -> list[tuple[int, int | None, str]]:
    with store.read() as conn:
        rows = capture_off.off_between(conn, 0, 2**62)
    return [(r.start_ms, r.end_ms, r.reason) for r in rows]


# -- the free-disk floor ------------------------------------------------------------------
def test_below_min_free_gb_capture_pauses_with_its_reason_and_goes_on_above_it(
    tmp_path: Path, store: MemoryStore
) -> None:
    free = [int(0.5 * GB)]
    clock = _Clock()
    daemon = _daemon(tmp_path, store, Settings(), clock, disk_free=lambda: free[0])
    daemon.tick()
    status = daemon.status_snapshot()
    assert status.state == "low disk" and status.frames_today == 0
    assert "0.5 GB free" in (status.reason or "") and "min_free_gb (1 GB)" in (status.reason or "")
    # status.json (what `status` prints) and what the tray shows.
    shown = daemon.status_file.read()
    assert shown is not None and shown.state == "low disk"
    view = status_view(shown)
    assert view.state == "error"  # a notification, like any capture that stopped
    assert view.headline == "Capture paused: the disk is almost full"
    assert view.reason is not None and "Only 0.5 GB is free" in view.reason
    assert _offs(store) == [(to_ms(T0), None, "disk_full")]

    # Just above the floor is not enough: it would flap.
    free[0] = GB + DISK_RESUME_MARGIN // 2
    clock.advance(2)
    daemon.tick()
    assert daemon.status_snapshot().state == "low disk"

    free[0] = GB + 2 * DISK_RESUME_MARGIN
    clock.advance(2)
    daemon.tick()
    assert daemon.status_snapshot().state == "capturing"
    assert daemon.status_snapshot().frames_today == 1
    assert _offs(store) == [(to_ms(T0), to_ms(T0) + 4000, "disk_full")]
    daemon.pipeline.close()


def test_min_free_gb_zero_never_pauses(tmp_path: Path, store: MemoryStore) -> None:
    settings = Settings.model_validate({"storage": {"min_free_gb": 0}})
    daemon = _daemon(tmp_path, store, settings, _Clock(), disk_free=lambda: 0)
    daemon.tick()
    assert daemon.status_snapshot().state == "capturing"
    daemon.pipeline.close()


# -- the battery policy -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "plugged", "interval"),
    [
        ("slower", False, 10.0),
        ("slower", True, 2.0),
        ("same", False, 2.0),
        ("keyframes", False, 2.0),
    ],
)
def test_on_battery_slower_looks_every_battery_interval(
    tmp_path: Path, store: MemoryStore, policy: str, plugged: bool, interval: float
) -> None:
    settings = Settings.model_validate({"capture": {"on_battery": policy}})
    power = PowerSource(laptop(tmp_path / "sys", plugged=plugged), ttl_s=0)
    daemon = _daemon(tmp_path, store, settings, _Clock(), power=power)
    assert daemon.capture_interval() == interval
    assert daemon.status_snapshot().on_battery is (not plugged)
    daemon.pipeline.close()


def _frames_in(tmp_path: Path, store: MemoryStore, policy: str, plugged: bool) -> int:
    settings = Settings.model_validate({"capture": {"on_battery": policy}})
    clock = _Clock()
    power = PowerSource(laptop(tmp_path / f"sys-{policy}-{plugged}", plugged=plugged), ttl_s=0)
    daemon = _daemon(tmp_path, store, settings, clock, power=power)
    before = daemon.status_snapshot().frames_total
    for _ in range(20):  # 40 s of typing, a look every 2 s
        daemon.tick()
        clock.advance(2)
    daemon.pipeline.close()
    return daemon.status_snapshot().frames_total - before


def test_on_battery_keyframes_keeps_one_frame_per_keyframe_interval(
    tmp_path: Path, store: MemoryStore
) -> None:
    assert _frames_in(tmp_path, store, "keyframes", plugged=True) == 20
    # On battery: the first frame, then one every keyframe_interval_s (30 s).
    assert _frames_in(tmp_path, store, "keyframes", plugged=False) == 2


# -- retention in the status ------------------------------------------------------------------
class _Housekeeping:
    name = "retention"

    def __init__(self) -> None:
        self.runs = 0

    def run(self, settings: Settings) -> HousekeepingRun:
        self.runs += 1
        return HousekeepingRun(
            at=f"2026-11-02T1{self.runs}:00:00+00:00",
            summary="Removed the oldest 120 thumbnails to stay under the 1 GB cap; 2.0 MB freed.",
            notice="Your memories reached the 1 GB space cap." if self.runs == 1 else None,
        )


@pytest.mark.expected_log("mirix.daemon", "WARNING", r"reached the 1 GB space cap")
def test_the_status_says_what_retention_did_and_the_cap_is_told_once(
    tmp_path: Path, store: MemoryStore
) -> None:
    work = _Housekeeping()
    daemon = _daemon(tmp_path, store, Settings(), _Clock(), housekeeping=work)
    notices = StatusNotices(min_interval_s=0)
    daemon.housekeep()
    first = read_status(daemon.paths)
    assert first.retention_at == "2026-11-02T11:00:00+00:00"
    assert "120 thumbnails" in (first.retention_summary or "")
    notice = notices.observe(status_view(first))
    assert notice is not None and notice.kind == "info"
    assert "space cap" in notice.text
    assert notices.observe(status_view(first)) is None  # told once
    daemon.housekeep()
    second = read_status(daemon.paths)
    assert second.retention_at == "2026-11-02T12:00:00+00:00"
    assert notices.observe(status_view(second)) is None
    daemon.pipeline.close()


@pytest.mark.expected_log("mirix.daemon", "WARNING", r"space cap")
def test_mirix_desktop_status_shows_the_last_retention_run(
    tmp_path: Path, store: MemoryStore
) -> None:
    settings = Settings.model_validate({"storage": {"max_gb": 0.0001, "min_free_gb": 0}})
    daemon = _daemon(tmp_path, store, settings, _Clock(), housekeeping=RetentionWork(store))
    daemon.housekeep()  # 0.1 MB: below what even an empty store's tables take
    result = CliRunner().invoke(cli, ["--data-dir", str(daemon.paths.data_dir), "status"])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("Retention:"))
    assert "last run" in line and "Nothing to remove." in line
    space = next(ln for ln in result.output.splitlines() if ln.startswith("Space:"))
    assert "newest day is always kept" in space
    told = next(ln for ln in result.output.splitlines() if ln.startswith("Space cap:"))
    assert "reached the 0.0001 GB space cap" in told
    daemon.pipeline.close()


@pytest.mark.expected_log("mirix.daemon", "WARNING", r"reached the 1 GB space cap")
def test_housekeeping_runs_at_start_and_again_when_the_storage_settings_change(
    tmp_path: Path, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daemon_module, "HOUSEKEEPING_FIRST_S", 0.0)
    monkeypatch.setattr(daemon_module, "_HOUSEKEEPING_CHECK_S", 0.05)
    work = _Housekeeping()
    seen: list[float] = []
    run = work.run

    def recording(settings: Settings) -> HousekeepingRun:
        seen.append(settings.storage.max_gb)
        return run(settings)

    work.run = recording  # type: ignore[method-assign]
    settings = Settings()
    daemon = _daemon(tmp_path, store, settings, _Clock(), housekeeping=work)
    daemon.start()
    try:
        deadline = time.monotonic() + 30
        while not seen:
            assert time.monotonic() < deadline, "housekeeping never ran at start"
            time.sleep(0.02)
        settings.storage.max_gb = 5.0  # what the config watcher does on a change
        while len(seen) < 2:
            assert time.monotonic() < deadline, "housekeeping did not follow the new cap"
            time.sleep(0.02)
        time.sleep(0.3)
    finally:
        daemon.stop()
    assert seen == [0.0, 5.0]  # not again until the hour is up
