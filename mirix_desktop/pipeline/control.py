"""The daemon's small files beside the store: its lock, the pause switch and its status.

- `daemon.lock`: an exclusive lock held while a daemon runs, so two never
  capture into one store; it records the pid for `status`.
- `control.json`: written by `pause`/`resume` (and the tray later), read by
  the daemon every tick. It works whether or not a daemon runs: a pause set
  before start is honoured.
- `status.json`: written by the daemon when its state changes and every few
  seconds; `status` reads it without unlocking the store. It holds counts,
  states and error messages, never screen text or window titles.
All are 0600 and replaced atomically.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import psutil

from mirix_desktop.errors import DaemonRunning, InvalidQuery
from mirix_desktop.memory.records import now_utc

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '1h30m', '2d' -> a timedelta; anything else is an error."""
    compact = text.strip().replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise InvalidQuery(f"cannot read the duration {text!r}: use e.g. 30s, 15m, 1h30m or 2d")
    seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in _DURATION.findall(compact))
    if seconds <= 0:
        raise InvalidQuery("the duration must be longer than zero")
    return timedelta(seconds=seconds)


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, default=str)
    os.replace(temp, path)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Pause:
    """Capture paused until `until` (None: until resumed)."""

    until: datetime | None
    since: datetime

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until


class ControlFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._cached: Pause | None = None

    def pause(self, duration: timedelta | None, now: datetime | None = None) -> Pause:
        now = now or now_utc()
        pause = Pause(until=None if duration is None else now + duration, since=now)
        _write_atomic(
            self.path,
            {
                "paused": True,
                "until": None if pause.until is None else pause.until.isoformat(),
                "since": now.isoformat(),
            },
        )
        return pause

    def resume(self) -> None:
        _write_atomic(self.path, {"paused": False})

    def read(self) -> Pause | None:
        """The pause in force (cheap when the file has not changed)."""
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            self._mtime, self._cached = None, None
            return None
        if mtime != self._mtime:
            self._mtime = mtime
            data = _read(self.path) or {}
            self._cached = None
            if data.get("paused"):
                until = data.get("until")
                self._cached = Pause(
                    until=datetime.fromisoformat(until) if until else None,
                    since=datetime.fromisoformat(data.get("since") or now_utc().isoformat()),
                )
        return self._cached


@dataclass
class Status:
    """What `status` shows. `state` is "capturing" or the reason capture is not running."""

    state: str = "starting"
    reason: str | None = None
    pid: int = field(default_factory=os.getpid)
    started_at: str | None = None
    updated_at: str | None = None
    paused_until: str | None = None
    frames_today: int = 0
    frames_total: int = 0
    queue_depth: int = 0
    failed_jobs: int = 0
    degraded: bool = False
    monitors: int = 0
    ocr_engine: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    running: bool = True
    on_battery: bool = False
    # The last retention run (when, and what it removed, in words: never silent),
    # a warning while the space cap cannot be kept, and the one-time notice
    # that the cap was reached (`space_notice_at` tells one notice from the next).
    retention_at: str | None = None
    retention_summary: str | None = None
    space_warning: str | None = None
    space_notice: str | None = None
    space_notice_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class StatusFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, status: Status) -> None:
        status.updated_at = now_utc().isoformat()
        _write_atomic(self.path, status.to_json())

    def read(self) -> Status | None:
        data = _read(self.path)
        if data is None:
            return None
        known = {k: v for k, v in data.items() if k in Status.__dataclass_fields__}
        return Status(**known)


class DaemonLock:
    """An exclusive lock on `daemon.lock` for as long as the daemon runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = _open_private(self.path)
        try:
            _lock(handle)
        except OSError as exc:
            handle.close()
            pid = self.holder()
            who = f" (pid {pid})" if pid else ""
            raise DaemonRunning(
                f"a mirix-desktop daemon is already running for {self.path.parent}{who}; "
                "stop it first, or use another --data-dir"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def holder(self) -> int | None:
        """The pid of the running daemon, or None when no daemon holds the lock."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        if not text.isdigit() or not psutil.pid_exists(int(text)):
            return None
        if self._handle is None and self._free():
            return None
        return int(text)

    def _free(self) -> bool:
        try:
            with _open_private(self.path) as handle:
                _lock(handle)
                _unlock(handle)
        except OSError:
            return False
        return True

    def release(self) -> None:
        if self._handle is not None:
            _unlock(self._handle)
            self._handle.close()
            self._handle = None


def _open_private(path: Path) -> IO[str]:
    """The lock file for reading and writing, created 0600 (and narrowed if it was wider)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform != "win32":  # pragma: no branch
            os.fchmod(fd, 0o600)
        return open(fd, "r+", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


if sys.platform == "win32":  # pragma: no cover - Windows only
    import msvcrt

    def _lock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
