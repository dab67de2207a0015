"""Which file a model setting means, and what `pull` does beyond the CLI's cases."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from mirix_desktop.errors import ModelDownloadError, ModelFileError
from mirix_desktop.llm.catalogue import CATALOGUE, CatalogueModel, pull, resolve_model
from tests.helpers.fake_hub import FakeHub

GGUF = b"GGUF" + bytes(range(256)) * 64
QWEN = next(entry for entry in CATALOGUE if entry.name == "qwen2.5-0.5b")


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "models"
    directory.mkdir()
    return directory


def test_catalogue_names_are_unique_and_point_at_gguf_files() -> None:
    names = [entry.name for entry in CATALOGUE]
    assert len(names) == len(set(names)) >= 5
    assert all(entry.filename.lower().endswith(".gguf") for entry in CATALOGUE)
    assert all(entry.sha256 is None or len(entry.sha256) == 64 for entry in CATALOGUE)


def test_a_downloaded_catalogue_name_resolves_to_its_file(models_dir: Path) -> None:
    (models_dir / QWEN.filename).write_bytes(GGUF)
    assert resolve_model("qwen2.5-0.5b", models_dir) == models_dir / QWEN.filename
    assert resolve_model(" Qwen2.5-0.5B ", models_dir) == models_dir / QWEN.filename


def test_a_catalogue_name_not_downloaded_says_which_command_fixes_it(models_dir: Path) -> None:
    with pytest.raises(ModelFileError) as caught:
        resolve_model("llama3.2-1b", models_dir)
    message = caught.value.message
    assert str(models_dir / "Llama-3.2-1B-Instruct-Q4_K_M.gguf") in message
    assert "mirix-desktop models pull llama3.2-1b" in message


def test_a_file_name_resolves_inside_the_models_dir(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (models_dir / "my-model.gguf").write_bytes(GGUF)
    monkeypatch.chdir(tmp_path)
    assert resolve_model("my-model.gguf", models_dir) == models_dir / "my-model.gguf"


def test_paths_resolve_with_the_home_dir_expanded(models_dir: Path, tmp_path: Path) -> None:
    # conftest points HOME at tmp_path / "home".
    home_model = tmp_path / "home" / "llms" / "mine.gguf"
    home_model.parent.mkdir(parents=True)
    home_model.write_bytes(GGUF)
    assert resolve_model("~/llms/mine.gguf", models_dir) == home_model
    assert resolve_model(str(home_model), models_dir) == home_model


def test_a_missing_path_is_named_in_the_error(models_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(ModelFileError, match="no such model file") as caught:
        resolve_model(str(missing), models_dir)
    assert str(missing) in caught.value.message


@pytest.mark.parametrize(
    "content", [b"", b"GGU", b"PK\x03\x04 a zip file", b"<html>404 not found</html>"]
)
def test_a_file_that_is_not_a_gguf_is_refused(models_dir: Path, content: bytes) -> None:
    (models_dir / "fake.gguf").write_bytes(content)
    with pytest.raises(ModelFileError, match="is not a GGUF model file") as caught:
        resolve_model("fake.gguf", models_dir)
    assert str(models_dir / "fake.gguf") in caught.value.message


def test_a_directory_is_not_a_model(models_dir: Path) -> None:
    (models_dir / "folder.gguf").mkdir()
    with pytest.raises(ModelFileError, match="is not a file"):
        resolve_model("folder.gguf", models_dir)


def test_an_empty_setting_is_an_error(models_dir: Path) -> None:
    with pytest.raises(ModelFileError, match="no local model"):
        resolve_model("  ", models_dir)


def test_pull_of_an_unknown_name_lists_the_known_ones(models_dir: Path, hub: FakeHub) -> None:
    with pytest.raises(ModelDownloadError) as caught:
        pull("gpt-5", models_dir, progress=False)
    assert "gpt-5" in caught.value.message
    assert all(entry.name in caught.value.message for entry in CATALOGUE)
    assert hub.requests == []


def _pinned(sha256: str) -> CatalogueModel:
    return CatalogueModel(
        name="pinned",
        repo_id="example/pinned-GGUF",
        filename="pinned.gguf",
        size_mb=1,
        context_tokens=2048,
        description="A test model.",
        sha256=sha256,
    )


def test_a_pinned_checksum_that_matches_is_accepted(models_dir: Path, hub: FakeHub) -> None:
    hub.add("example/pinned-GGUF", "pinned.gguf", GGUF)
    entry = _pinned(hashlib.sha256(GGUF).hexdigest())
    path = pull("pinned", models_dir, progress=False, catalogue=[entry])
    assert path.read_bytes() == GGUF


def test_a_pinned_checksum_the_hub_no_longer_matches_is_refused_before_downloading(
    models_dir: Path, hub: FakeHub
) -> None:
    hub.add("example/pinned-GGUF", "pinned.gguf", GGUF)
    pinned = "ab" * 32
    with pytest.raises(ModelDownloadError) as caught:
        pull("pinned", models_dir, progress=False, catalogue=[_pinned(pinned)])
    assert pinned in caught.value.message
    assert hashlib.sha256(GGUF).hexdigest() in caught.value.message
    assert hub.downloads("pinned.gguf") == 0
    assert os.listdir(models_dir) == []


def test_a_connection_dropped_once_is_retried_and_the_file_is_whole(
    models_dir: Path, hub: FakeHub
) -> None:
    hub_file = hub.add(QWEN.repo_id, QWEN.filename, GGUF)
    hub_file.drop_at, hub_file.drops = len(GGUF) // 3, 1
    path = pull(QWEN.name, models_dir, progress=False)
    assert path.read_bytes() == GGUF
    # huggingface_hub retries by itself (resuming with a Range once it has whole chunks).
    assert hub.downloads(QWEN.filename) == 2
    assert os.listdir(models_dir) == [QWEN.filename]


def test_a_stale_local_file_is_replaced(models_dir: Path, hub: FakeHub) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, GGUF)
    (models_dir / QWEN.filename).write_bytes(b"GGUF an older, different file")
    path = pull(QWEN.name, models_dir, progress=False)
    assert path.read_bytes() == GGUF
    assert hub.downloads(QWEN.filename) == 1


def test_a_file_larger_than_the_free_space_is_not_downloaded(
    models_dir: Path, hub: FakeHub
) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, GGUF).advertised_size = 10**18
    with pytest.raises(ModelDownloadError, match="not enough disk space"):
        pull(QWEN.name, models_dir, progress=False)
    assert hub.downloads(QWEN.filename) == 0
    assert os.listdir(models_dir) == []
