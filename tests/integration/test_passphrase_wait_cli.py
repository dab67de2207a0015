"""The wait after wrong passphrases holds across processes: a new CLI run is refused too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mirix_desktop.cli.main import cli
from mirix_desktop.errors import WrongPassphrase
from mirix_desktop.memory import keys
from tests.conftest import MODELS_DIR, PASSPHRASE, REPO


def _cli(data_dir: Path, passphrase: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), *args], env={"MIRIX_PASSPHRASE": passphrase}
    )
    return result.exit_code, result.output


def test_wrong_passphrases_make_a_new_process_wait(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _cli(data_dir, PASSPHRASE, "memory", "add", "--type", "core", "--text", "kept")[0] == 0
    code, output = _cli(data_dir, "not the passphrase", "memory", "list")
    assert code == 4 and "passphrase is wrong" in output
    # Four more, as if typed a while apart, the last one just now: 16 s to wait.
    store = data_dir / "mirix.db"
    for ago in (40.0, 30.0, 20.0, 0.0):
        with pytest.raises(WrongPassphrase):
            keys.unlock_key(
                store, keys.KeySource(passphrase="no"), clock=lambda a=ago: time.time() - a
            )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRIX_")}
    env.update(MIRIX_PASSPHRASE=PASSPHRASE, MIRIX_MODELS_DIR=str(MODELS_DIR))
    later = subprocess.run(
        [sys.executable, "-m", "mirix_desktop", "--data-dir", str(data_dir), "memory", "list"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert later.returncode == 4, later.stderr
    assert "too many wrong passphrases: try again in" in later.stderr
    assert "kept" not in later.stdout
    assert keys.read_attempts(store).failures == 5
