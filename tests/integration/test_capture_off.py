"""The daemon records why capture was off: paused, idle, locked, excluded, not running."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory import timeline as capture_off
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.control import ControlFile
from mirix_desktop.pipeline.daemon import Daemon
from tests.helpers.screens import pixels, screen, text_lines

T0 = datetime(2026, 11, 2, 10, 0).astimezone()
EDITOR = WindowInfo("code", "notes.py - Visual Studio Code", Rect(0, 0, 1280, 800), True)
VAULT = WindowInfo("keepassxc", "Passwords.kdbx - KeePassXC", Rect(0, 0, 1280, 800), True)


class _Screen:
    def __init__(self) -> None:
        self.grabs = 0

    def grab(self) -> list[MonitorShot]:
        self.grabs += 1
        image = pixels(screen(text_lines(3), footer=f"grab number {self.grabs}"))
        return [MonitorShot(1, Rect(0, 0, 1280, 800), image)]

    def close(self) -> None:
        pass


class _Desk:
    """A desktop whose idle time, lock and active window the test sets."""

    idle = 0.0
    locked = False
    active = EDITOR

    def windows(self) -> list[WindowInfo]:
        return [self.active]

    def idle_seconds(self) -> float | None:
        return self.idle

    def screen_locked(self) -> bool:
        return self.locked

    def close(self) -> None:
        pass


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def _daemon(tmp_path: Path, store: MemoryStore, clock: _Clock, desk: _Desk) -> Daemon:
    paths = resolve_paths(tmp_path / "data")
    paths.ensure()
    return Daemon(
        paths,
        Settings(),
        store,
        probe_factory=lambda: desk,  # type: ignore[arg-type,return-value]
        grabber_factory=_Screen,  # type: ignore[arg-type]
        clock=clock,
    )


def _wait_paused(daemon: Daemon) -> None:
    deadline = time.monotonic() + 30
    while daemon.status_snapshot().state != "paused":
        assert time.monotonic() < deadline, "the daemon never said it was paused"
        time.sleep(0.02)


def _offs(store: MemoryStore) -> list[tuple[int, int | None, str]]:
    with store.read() as conn:
        rows = capture_off.off_between(conn, 0, 2**62)
    return [(r.start_ms, r.end_ms, r.reason) for r in rows]


def test_a_pause_is_an_interval_from_the_tick_it_began_to_the_one_it_ended(
    tmp_path: Path, store: MemoryStore
) -> None:
    clock, desk = _Clock(), _Desk()
    daemon = _daemon(tmp_path, store, clock, desk)
    control = ControlFile(daemon.paths.data_dir / "control.json")
    daemon.tick()
    assert _offs(store) == []
    control.pause(None, now=clock.advance(10))
    daemon.tick()
    paused_at = to_ms(clock.now)
    assert _offs(store) == [(paused_at, None, "paused")]  # open while paused
    clock.advance(30)
    daemon.tick()  # still paused: the same interval
    control.resume()
    daemon.tick()
    assert _offs(store) == [(paused_at, to_ms(clock.now), "paused")]
    daemon.pipeline.close()


def test_idle_locked_and_an_excluded_window_each_have_their_interval(
    tmp_path: Path, store: MemoryStore
) -> None:
    clock, desk = _Clock(), _Desk()
    daemon = _daemon(tmp_path, store, clock, desk)
    daemon.tick()
    desk.idle = 600.0
    clock.advance(2)
    daemon.tick()
    idle_at = to_ms(clock.now)
    desk.idle, desk.locked = 0.0, True
    clock.advance(60)
    daemon.tick()
    locked_at = to_ms(clock.now)
    desk.locked, desk.active = False, VAULT
    clock.advance(60)
    daemon.tick()
    excluded_at = to_ms(clock.now)
    desk.active = EDITOR
    clock.advance(60)
    daemon.tick()
    assert _offs(store) == [
        (idle_at, locked_at, "idle"),
        (locked_at, excluded_at, "locked"),
        (excluded_at, to_ms(clock.now), "excluded"),
    ]
    daemon.pipeline.close()


def test_a_restart_records_the_time_no_daemon_ran(tmp_path: Path, store: MemoryStore) -> None:
    clock, desk = _Clock(), _Desk()
    first = _daemon(tmp_path, store, clock, desk)
    # Paused, so the capture thread does nothing but say so.
    ControlFile(first.paths.data_dir / "control.json").pause(None, now=clock.now)
    first.start()
    _wait_paused(first)
    first.stop()
    stopped_at = to_ms(clock.now)
    with store.read() as conn:
        assert capture_off.last_beat(conn) == stopped_at
    clock.advance(3600)
    second = _daemon(tmp_path, store, clock, desk)
    second.start()
    _wait_paused(second)
    second.stop()
    restarted_at = to_ms(clock.now)
    offs = _offs(store)
    assert (stopped_at, restarted_at, "not_running") in offs
    # The first run's pause ended when it stopped; the second run's began at its start.
    assert offs[0] == (to_ms(T0), stopped_at, "paused")
    assert offs[-1] == (restarted_at, restarted_at, "paused")


def test_a_quick_restart_is_not_a_gap(tmp_path: Path, store: MemoryStore) -> None:
    clock, desk = _Clock(), _Desk()
    ControlFile(tmp_path / "data" / "control.json").pause(None, now=clock.now)
    for _ in range(2):
        daemon = _daemon(tmp_path, store, clock, desk)
        daemon.start()
        daemon.stop()
        clock.advance(20)
    assert all(reason != "not_running" for _, _, reason in _offs(store))


def test_the_heartbeat_is_written_at_most_every_30_seconds(
    tmp_path: Path, store: MemoryStore
) -> None:
    clock, desk = _Clock(), _Desk()
    daemon = _daemon(tmp_path, store, clock, desk)
    daemon.tick()
    first = to_ms(clock.now)
    clock.advance(5)
    daemon.tick()
    with store.read() as conn:
        assert capture_off.last_beat(conn) == first  # not again within 30 s (monotonic)
    daemon.pipeline.close()
