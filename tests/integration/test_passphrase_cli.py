"""`mirix-desktop passphrase change | use-keyring | use-passphrase`: prompts, refusals, waits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mirix_desktop.app.services import AppServices
from mirix_desktop.cli.main import cli
from mirix_desktop.memory import keys
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import CoreMemory
from mirix_desktop.pipeline.control import DaemonLock
from tests.helpers.keyring_backend import MemoryKeyring

OLD = "old passphrase one"
NEW = "new passphrase two"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MIRIX_PASSPHRASE", OLD)
    made = AppServices.create(tmp_path / "data")
    made.store().add(CoreMemory(value="kept"))
    made.close()
    monkeypatch.delenv("MIRIX_PASSPHRASE")
    return made.paths.data_dir


def _cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env, input=stdin)
    return result.exit_code, result.output


def test_cli_change_asks_the_current_then_the_new_twice(data_dir: Path) -> None:
    code, out = _cli(data_dir, "passphrase", "change", stdin=f"{OLD}\n{NEW}\n{NEW}\n")
    assert code == 0, out
    assert "Passphrase changed" in out and "old passphrase no longer opens it" in out
    assert _cli(data_dir, "memory", "list", env={"MIRIX_PASSPHRASE": NEW})[0] == 0
    code, out = _cli(data_dir, "memory", "list", env={"MIRIX_PASSPHRASE": OLD})
    assert code == 4 and "passphrase is wrong" in out


def test_cli_change_with_a_wrong_current_passphrase(data_dir: Path) -> None:
    for _ in range(3):
        code, out = _cli(data_dir, "passphrase", "change", stdin=f"wrong one\n{NEW}\n{NEW}\n")
        assert code == 4 and "passphrase is wrong" in out
        assert "New passphrase" not in out  # the new one is not asked for nothing
    code, out = _cli(data_dir, "passphrase", "change", stdin=f"{OLD}\n{NEW}\n{NEW}\n")
    assert code == 4 and "too many wrong passphrases: try again in" in out
    # Once the wait is over, the old passphrase still opens the store.
    later = time.time() + 60
    assert keys.unlock_key(data_dir / "mirix.db", KeySource(passphrase=OLD), clock=lambda: later)


def test_cli_new_passphrases_that_differ_are_asked_again(data_dir: Path) -> None:
    code, out = _cli(
        data_dir, "passphrase", "change", stdin=f"{OLD}\n{NEW}\nsomething else\n{NEW}\n{NEW}\n"
    )
    assert code == 0, out
    assert "do not match" in out.lower() or "match" in out.lower()
    assert _cli(data_dir, "memory", "list", env={"MIRIX_PASSPHRASE": NEW})[0] == 0


def test_cli_moves_to_the_keyring_and_back(data_dir: Path, memory_keyring: MemoryKeyring) -> None:
    code, out = _cli(data_dir, "passphrase", "use-keyring", env={"MIRIX_PASSPHRASE": OLD})
    assert code == 0, out
    assert "now kept in the OS keyring" in out
    assert len(memory_keyring.secrets) == 1
    assert _cli(data_dir, "memory", "list")[0] == 0  # no passphrase anywhere
    code, out = _cli(data_dir, "passphrase", "use-passphrase", stdin=f"{NEW}\n{NEW}\n")
    assert code == 0, out
    assert memory_keyring.secrets == {}
    assert _cli(data_dir, "memory", "list", env={"MIRIX_PASSPHRASE": NEW})[0] == 0


def test_cli_refuses_while_capture_runs(data_dir: Path) -> None:
    daemon = DaemonLock(data_dir / "daemon.lock")
    daemon.acquire()
    try:
        code, out = _cli(data_dir, "passphrase", "change", stdin=f"{OLD}\n{NEW}\n{NEW}\n")
    finally:
        daemon.release()
    assert code == 5 and "Capture is running" in out
    assert "Current passphrase" not in out  # refused before anything is asked


def test_cli_use_keyring_without_a_keyring_asks_nothing(data_dir: Path) -> None:
    code, out = _cli(data_dir, "passphrase", "use-keyring", stdin=f"{OLD}\n")
    assert code == 4 and "no secure OS keyring" in out
    assert "Current passphrase" not in out
