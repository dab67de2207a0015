"""One download function for `models pull` and the settings window: progress, cancel, result."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mirix_desktop.app.local_models import catalogue_rows, download_model, size_text
from mirix_desktop.assistant.cancel import CancelToken
from mirix_desktop.errors import DownloadCancelled
from mirix_desktop.llm.catalogue import CATALOGUE
from tests.helpers.fake_hub import FakeHub

QWEN = next(entry for entry in CATALOGUE if entry.name == "qwen2.5-0.5b")
PAYLOAD = b"GGUF" + hashlib.sha256(b"app").digest() * 5_000


def test_progress_is_reported_up_to_the_whole_file(tmp_path: Path, hub: FakeHub) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    seen: list[tuple[int, int | None]] = []
    result = download_model(QWEN.name, tmp_path, on_progress=lambda *a: seen.append(a))
    assert result.path == tmp_path / QWEN.filename and not result.already_there
    assert seen[0] == (0, len(PAYLOAD))
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    again = download_model(QWEN.name, tmp_path)
    assert again.already_there and hub.downloads(QWEN.filename) == 1


def test_a_cancel_during_the_download_keeps_nothing(tmp_path: Path, hub: FakeHub) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    token = CancelToken()
    # Cancelled as soon as the first report says the file is on its way.
    with pytest.raises(DownloadCancelled, match="cancelled"):
        download_model(QWEN.name, tmp_path, on_progress=lambda *_: token.cancel(), cancel=token)
    assert list(tmp_path.iterdir()) == []
    assert hub.downloads(QWEN.filename) == 1


def test_a_cancel_keeps_the_previous_file(tmp_path: Path, hub: FakeHub) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    (tmp_path / QWEN.filename).write_bytes(b"GGUF old")
    token = CancelToken()
    with pytest.raises(DownloadCancelled):
        download_model(QWEN.name, tmp_path, on_progress=lambda *_: token.cancel(), cancel=token)
    assert [p.name for p in tmp_path.iterdir()] == [QWEN.filename]
    assert (tmp_path / QWEN.filename).read_bytes() == b"GGUF old"


def test_rows_say_what_is_downloaded(tmp_path: Path) -> None:
    (tmp_path / QWEN.filename).write_bytes(b"GGUF")
    rows = catalogue_rows(tmp_path)
    assert [row.name for row in rows] == [entry.name for entry in CATALOGUE]
    assert [row.downloaded for row in rows] == [e is QWEN for e in CATALOGUE]
    assert size_text(491) == "491 MB" and size_text(1117) == "1.1 GB"
