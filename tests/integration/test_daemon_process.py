"""The daemon as a process without a display: it stays up, says why, and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import MODELS_DIR, PASSPHRASE, REPO


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRIX_")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(
        MIRIX_DATA_DIR=str(data_dir),
        MIRIX_PASSPHRASE=PASSPHRASE,
        MIRIX_MODELS_DIR=str(MODELS_DIR),
        PYTHONPATH=str(REPO),
    )
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mirix_desktop", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _status(data_dir: Path) -> dict[str, object]:
    path = data_dir / "status.json"
    if not path.exists():
        return {}
    try:
        data: dict[str, object] = json.loads(path.read_text())
    except ValueError:  # caught mid-replace on a slow disk: try again
        return {}
    return data


def test_without_a_display_the_daemon_waits_and_says_why(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = _env(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "mirix_desktop", "run", "--no-ui"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while _status(data_dir).get("state") != "display unavailable":
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, _status(data_dir)
            time.sleep(0.2)
        status = _status(data_dir)
        assert "DISPLAY" in str(status["reason"])
        assert status["running"] is True
        # A second daemon on the same data dir is refused, naming the first.
        second = _cli(env, "run", "--no-ui")
        assert second.returncode == 5
        assert f"pid {process.pid}" in second.stderr
        shown = _cli(env, "status")
        assert "display unavailable" in shown.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0].decode(errors="replace")
    assert process.returncode == 0, output
    assert "Stopped." in output
    final = _status(data_dir)
    assert final["state"] == "stopped" and final["running"] is False
    after = _cli(env, "status", "--json")
    assert json.loads(after.stdout)["state"] == "not running"
