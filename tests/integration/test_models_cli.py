"""`mirix-desktop models`: pulls from a loopback stand-in for the Hub, as a user runs them."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mirix_desktop.cli.main import cli
from mirix_desktop.llm.catalogue import CATALOGUE
from tests.helpers.fake_hub import FakeHub

QWEN = next(entry for entry in CATALOGUE if entry.name == "qwen2.5-0.5b")
# A few hundred KB that look like a GGUF to the magic check.
PAYLOAD = b"GGUF" + hashlib.sha256(b"seed").digest() * 10_000
MODEL_ERROR_EXIT = 7


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "models"
    monkeypatch.setenv("MIRIX_MODELS_DIR", str(directory))
    return directory


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "models", *args])


def test_pull_downloads_the_file_and_says_how_to_use_it(
    tmp_path: Path, models_dir: Path, hub: FakeHub
) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    result = run(tmp_path, "pull", "qwen2.5-0.5b")
    assert result.exit_code == 0, result.output
    target = models_dir / QWEN.filename
    assert result.stdout.strip() == str(target)
    assert target.read_bytes() == PAYLOAD
    assert str(tmp_path / "data" / "config.toml") in result.stderr
    assert 'model = "qwen2.5-0.5b"' in result.stderr
    # Nothing else: no partial file, no huggingface_hub bookkeeping.
    assert sorted(p.name for p in models_dir.rglob("*")) == [QWEN.filename]
    assert "Already downloaded" not in result.stderr


def test_pull_with_progress_draws_a_bar_on_stderr(
    tmp_path: Path, models_dir: Path, hub: FakeHub
) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    result = run(tmp_path, "pull", "--progress", "qwen2.5-0.5b")
    assert result.exit_code == 0, result.output
    assert "100%" in result.stderr and QWEN.filename in result.stderr
    assert "100%" not in result.stdout


def test_a_corrupted_download_is_rejected_and_leaves_no_file(
    tmp_path: Path, models_dir: Path, hub: FakeHub
) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD).corrupt = True
    result = run(tmp_path, "pull", "qwen2.5-0.5b")
    assert result.exit_code == MODEL_ERROR_EXIT, result.output
    assert "checksum mismatch" in result.output
    assert hashlib.sha256(PAYLOAD).hexdigest() in result.output
    assert hub.downloads(QWEN.filename) == 1
    assert list(models_dir.iterdir()) == []


def test_a_file_missing_on_the_hub_is_a_clear_error(
    tmp_path: Path, models_dir: Path, hub: FakeHub
) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD).missing = True
    result = run(tmp_path, "pull", "qwen2.5-0.5b")
    assert result.exit_code == MODEL_ERROR_EXIT, result.output
    assert f"{QWEN.filename} is not in {QWEN.repo_id}" in result.output
    assert "404" in result.output
    assert "Traceback" not in result.output
    assert not (models_dir / QWEN.filename).exists()


def test_an_unreachable_hub_is_a_network_error(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    result = run(tmp_path, "pull", "qwen2.5-0.5b")
    assert result.exit_code == MODEL_ERROR_EXIT, result.output
    assert f"network error talking to http://127.0.0.1:{port}" in result.output
    assert not (models_dir / QWEN.filename).exists()


def test_pulling_again_downloads_nothing(tmp_path: Path, models_dir: Path, hub: FakeHub) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    assert run(tmp_path, "pull", "qwen2.5-0.5b").exit_code == 0
    first = (models_dir / QWEN.filename).stat()
    again = run(tmp_path, "pull", "qwen2.5-0.5b")
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == str(models_dir / QWEN.filename)
    assert "Already downloaded" in again.stderr
    assert hub.downloads(QWEN.filename) == 1
    second = (models_dir / QWEN.filename).stat()
    assert (second.st_ino, second.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)


def test_pull_of_an_unknown_name_lists_the_catalogue(tmp_path: Path, models_dir: Path) -> None:
    result = run(tmp_path, "pull", "gpt-5")
    assert result.exit_code == MODEL_ERROR_EXIT
    assert "unknown model 'gpt-5'" in result.output and "llama3.2-3b" in result.output


def test_list_shows_what_is_downloaded(tmp_path: Path, models_dir: Path, hub: FakeHub) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    assert run(tmp_path, "pull", "qwen2.5-0.5b").exit_code == 0
    result = run(tmp_path, "list")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows.keys() == {entry.name for entry in CATALOGUE}
    assert rows["qwen2.5-0.5b"][3] == "yes"
    assert rows["llama3.2-1b"][3] == "no"
    listed = json.loads(run(tmp_path, "list", "--json").stdout)
    downloaded = {row["name"]: row["downloaded"] for row in listed}
    assert downloaded["qwen2.5-0.5b"] is True and downloaded["qwen2.5-3b"] is False


def test_path_prints_the_models_dir_and_model_files(
    tmp_path: Path, models_dir: Path, hub: FakeHub
) -> None:
    assert run(tmp_path, "path").stdout.strip() == str(models_dir)
    missing = run(tmp_path, "path", "qwen2.5-0.5b")
    assert missing.exit_code == 1
    assert "mirix-desktop models pull qwen2.5-0.5b" in missing.output
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    assert run(tmp_path, "pull", "qwen2.5-0.5b").exit_code == 0
    found = run(tmp_path, "path", "qwen2.5-0.5b")
    assert found.exit_code == 0, found.output
    assert found.stdout.strip() == str(models_dir / QWEN.filename)
    assert os.path.samefile(found.stdout.strip(), models_dir / QWEN.filename)


def test_pull_works_after_the_bundled_embedder_switched_the_hub_offline(
    tmp_path: Path, models_dir: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loading the bundled MiniLM sets HF_HUB_OFFLINE, which huggingface_hub
    # freezes at import: in one process (the daemon, a test run) a later pull
    # must still work.
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    result = run(tmp_path, "pull", "qwen2.5-0.5b")
    assert result.exit_code == 0, result.output
    assert constants.HF_HUB_OFFLINE is True  # restored for the embedder


def test_offline_mode_the_user_asked_for_is_respected(
    tmp_path: Path, models_dir: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mirix_desktop import platform_support

    monkeypatch.setattr(platform_support, "_USER_OFFLINE", True)
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    result = run(tmp_path, "pull", "qwen2.5-0.5b")
    assert result.exit_code == MODEL_ERROR_EXIT
    assert "HF_HUB_OFFLINE" in result.output
    assert hub.downloads(QWEN.filename) == 0
