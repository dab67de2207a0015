"""Daemon status as read from its files and as told to a person at a window."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mirix_desktop.app.status import DAEMON_STATES, read_status, status_view
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.pipeline import daemon
from mirix_desktop.pipeline.control import ControlFile, DaemonLock, Status, StatusFile

NOW = datetime(2026, 11, 20, 13, 0).astimezone()
UNTIL = datetime(2026, 11, 20, 14, 30).astimezone()


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    resolved = resolve_paths(tmp_path / "data")
    resolved.ensure()
    return resolved


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _write(paths: AppPaths, status: Status) -> None:
    StatusFile(paths.data_dir / "status.json").write(status)


# -- read_status ---------------------------------------------------------------------------
def test_a_daemon_that_died_without_a_word_is_reported_as_crashed(paths: AppPaths) -> None:
    pid = _dead_pid()
    _write(paths, Status(state="capturing", pid=pid, running=True))
    (paths.data_dir / "daemon.lock").write_text(str(pid))
    status = read_status(paths)
    assert status.state == "not running" and status.running is False
    assert "crashed" in (status.reason or "")
    view = status_view(status, NOW)
    assert view.state == "stopped"
    assert view.headline == "Capture stopped: the recorder quit unexpectedly"


def test_a_running_daemon_keeps_its_own_word(paths: AppPaths) -> None:
    lock = DaemonLock(paths.data_dir / "daemon.lock")
    lock.acquire()
    try:
        _write(paths, Status(state="capturing", reason=None))
        status = read_status(paths)
    finally:
        lock.release()
    assert status.state == "capturing" and status.running is True


def test_a_clean_stop_is_not_called_a_crash(paths: AppPaths) -> None:
    _write(paths, Status(state="stopped", reason=None, pid=_dead_pid(), running=False))
    status = read_status(paths)
    assert status.state == "not running" and status.reason is None
    assert status_view(status, NOW).headline == "Capture stopped"


def test_no_daemon_yet_and_a_pause_set_before_start(paths: AppPaths) -> None:
    ControlFile(paths.data_dir / "control.json").pause(timedelta(hours=1))
    status = read_status(paths)
    assert status.state == "not running" and status.pid == 0
    assert status.paused_until is not None
    view = status_view(status)
    assert view.state == "stopped"
    assert view.headline == "Capture stopped: the recorder has not started yet"
    assert view.reason is not None and view.reason.startswith("Capture is paused until ")


# -- status_view: every state the daemon writes --------------------------------------------
# (state, the daemon's own reason, tray state, headline, words the reason must hold)
CASES = [
    ("capturing", None, "recording", "Recording", None),
    (
        "capturing",
        "OCR is behind: 12 frames are waiting",
        "recording",
        "Recording",
        "main moments",
    ),
    (
        "paused",
        f"paused by you until {UNTIL.isoformat()}",
        "paused",
        "Paused until 14:30",
        "Paused by you",
    ),
    ("paused", "paused by you until resumed", "paused", "Paused until you resume", "by you"),
    (
        "disabled",
        "capture.enabled is false in the config",
        "paused",
        "Capture is off",
        "Capture is switched off in the settings",
    ),
    (
        "idle",
        "no keyboard or mouse input for 312 s",
        "paused",
        "Paused while you are away",
        "for 5 minutes",
    ),
    ("locked", "the screen is locked", "paused", "Paused while the screen is locked", "locked"),
    (
        "excluded",
        "the active window is excluded: password manager (KeePassXC)",
        "excluded",
        "Not recording this window",
        "Password manager (KeePassXC)",
    ),
    (
        "excluded",
        "the active window is excluded: your rule: title contains 'Payroll'",
        "excluded",
        "Not recording this window",
        "One of your exclusions (title contains 'Payroll')",
    ),
    (
        "display unavailable",
        "cannot connect to the X display :0: Can't open display",
        "error",
        "Capture stopped: the screen cannot be read",
        "display",
    ),
    (
        "display unavailable",
        "this is a Wayland session without XWayland's DISPLAY; screen capture needs X11 "
        "(log in to an X11 session, or run under XWayland)",
        "error",
        "Capture stopped: the screen cannot be read",
        "Wayland",
    ),
    (
        "store unavailable",
        "the disk is full; nothing was written",
        "error",
        "Capture stopped: memories cannot be saved",
        "disk is full",
    ),
    (
        "store unavailable",
        "the store is busy: another process kept it locked too long",
        "error",
        "Capture stopped: memories cannot be saved",
        "Another program",
    ),
    ("starting", None, "starting", "Starting…", None),
    ("stopped", None, "stopped", "Capture stopped", None),
    (
        "not running",
        "the daemon stopped without saying so (crashed or killed)",
        "stopped",
        "Capture stopped: the recorder quit unexpectedly",
        None,
    ),
]


@pytest.mark.parametrize(("state", "reason", "tray", "headline", "words"), CASES)
def test_every_state_reads_in_plain_words(
    state: str, reason: str | None, tray: str, headline: str, words: str | None
) -> None:
    paused = UNTIL.isoformat() if reason and UNTIL.isoformat() in reason else None
    view = status_view(Status(state=state, reason=reason, paused_until=paused), NOW)
    assert (view.state, view.headline) == (tray, headline)
    if words is None:
        assert view.reason is None
    else:
        assert view.reason is not None and words in view.reason
    for text in (view.headline, view.reason or "", view.tooltip()):
        # A window user is never sent to a terminal or a config key.
        for jargon in ("mirix-desktop", "`", "config", "capture.enabled", "daemon", "OCR is"):
            assert jargon not in text


def test_every_state_the_daemon_writes_is_mapped() -> None:
    source = Path(daemon.__file__).read_text(encoding="utf-8")
    written = set(re.findall(r'_(?:set_state|stopped)\(\s*"([^"]+)"', source))
    written |= set(re.findall(r'self\.status\.state[^=\n]*=\s*"([^"]+)"', source))
    assert {"capturing", "paused", "excluded", "stopped"} <= written
    assert written <= set(DAEMON_STATES)
    for state in DAEMON_STATES:
        assert status_view(Status(state=state), NOW).headline != "Capture state unknown"


def test_a_broken_text_reader_is_an_error_until_a_frame_is_read() -> None:
    broken = Status(state="capturing", last_error="OCR unavailable: tesseract is not installed")
    view = status_view(broken, NOW)
    assert view.state == "error" and "text reader" in (view.reason or "")
    broken.ocr_engine = "tesserocr"
    assert status_view(broken, NOW).state == "recording"


def test_a_pause_into_another_day_names_the_day() -> None:
    tomorrow = UNTIL + timedelta(days=1)
    status = Status(state="paused", reason="paused by you", paused_until=tomorrow.isoformat())
    view = status_view(status, NOW)
    assert view.paused_until == tomorrow
    assert view.headline.startswith("Paused until ") and str(tomorrow.day) in view.headline
    assert view.headline.endswith("14:30")


def test_tooltip_shows_state_frames_and_queue() -> None:
    view = status_view(Status(state="capturing", frames_today=123, queue_depth=0), NOW)
    assert view.tooltip() == "MIRIX — Recording\n123 frames today · 0 waiting"
    paused = status_view(Status(state="locked", frames_today=1, queue_depth=4), NOW)
    assert paused.tooltip() == (
        "MIRIX — Paused while the screen is locked\nThe screen is locked.\n"
        "1 frame today · 4 waiting"
    )
