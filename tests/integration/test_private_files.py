"""Every file mirix-desktop makes in its data dir is the user's alone: files 0600, dirs 0700.

The daemon runs for real (no display: it waits and says why, having made its
lock, log, status and store), the CLI pauses it and is refused a wrong
passphrase, and the config writer adds a rule; then the data dir is walked.
Run under umask 022, the usual one, which leaves new files 0644 unless the
code says otherwise. Models are not in the walk: they are public weights
(`MIRIX_MODELS_DIR` points elsewhere here), see models/README.md.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from mirix_desktop.app.config_writer import add_exclusions
from mirix_desktop.logfiles import PrivateRotatingFileHandler
from mirix_desktop.privacy.exclusions import PrivacyRule
from tests.conftest import MODELS_DIR, PASSPHRASE, REPO


def _env(data_dir: Path, passphrase: str = PASSPHRASE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRIX_")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(
        MIRIX_DATA_DIR=str(data_dir),
        MIRIX_PASSPHRASE=passphrase,
        MIRIX_MODELS_DIR=str(MODELS_DIR),
        PYTHONPATH=str(REPO),
    )
    return env


def _umask_022() -> None:
    os.umask(0o022)


def _mirix(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mirix_desktop", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_umask_022,
    )


def _state(data_dir: Path) -> str | None:
    try:
        return str(json.loads((data_dir / "status.json").read_text())["state"])
    except (OSError, ValueError, KeyError):
        return None


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.lstat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def test_the_data_dir_and_everything_in_it_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "mirix_desktop", "run", "--no-ui"],
        env=_env(data_dir),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_umask_022,
    )
    try:
        deadline = time.monotonic() + 60
        while _state(data_dir) != "display unavailable":
            assert daemon.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        assert _mirix(_env(data_dir), "pause", "--for", "1h").returncode == 0
        assert _mirix(_env(data_dir, "not the passphrase"), "memory", "list").returncode == 4
        add_exclusions(data_dir / "config.toml", [PrivacyRule(field="app", pattern="vault")])
        modes = _modes(data_dir)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    made = {"daemon.lock", "logs/daemon.log", "status.json", "control.json", "config.toml",
            "mirix.db", "mirix.db.keyinfo", "mirix.db.attempts"}  # fmt: skip
    assert made <= set(modes), sorted(modes)
    wider = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (data_dir / name).is_dir() else 0o600)
    }
    assert wider == {}
    # What the stopped daemon left is still private.
    assert {oct(m) for m in _modes(data_dir).values()} <= {"0o600", "0o700"}


def test_rotated_logs_and_older_wider_ones_are_private(tmp_path: Path) -> None:
    path = tmp_path / "daemon.log"
    old = tmp_path / "daemon.log.2"
    old.write_text("left by an earlier version\n")
    old.chmod(0o644)
    previous = os.umask(0o022)
    try:
        handler = PrivateRotatingFileHandler(path, max_bytes=200, backups=3)
        try:
            for number in range(20):
                handler.emit(_record(f"line {number} " + "x" * 40))
        finally:
            handler.close()
    finally:
        os.umask(previous)
    logs = sorted(tmp_path.glob("daemon.log*"))
    assert [p.name for p in logs] == ["daemon.log", "daemon.log.1", "daemon.log.2", "daemon.log.3"]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in logs} == {
        p.name: "0o600" for p in logs
    }


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("mirix.test", logging.INFO, __file__, 1, message, None, None)
