"""The composition root: which key opens the store, and one store per process."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mirix_desktop.app.services import AppServices
from mirix_desktop.errors import KeyUnavailable, WrongPassphrase
from mirix_desktop.memory.keys import keyinfo_path, unlock_key
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE


def _make_store(data_dir: Path) -> bytes:
    services = AppServices.create(data_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIRIX_PASSPHRASE", PASSPHRASE)
        services.store()
        key = unlock_key(services.paths.store_file, services.key_source())
    services.close()
    return key


def test_creating_opens_nothing(tmp_path: Path) -> None:
    services = AppServices.create(tmp_path / "data")
    assert services.paths.data_dir == (tmp_path / "data").resolve()
    assert not services.paths.data_dir.exists()


def test_a_handed_over_key_comes_before_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _make_store(tmp_path / "data")
    monkeypatch.setenv("MIRIX_PASSPHRASE", "not the passphrase")
    services = AppServices.create(tmp_path / "data")
    with pytest.raises(WrongPassphrase):
        services.store()
    services.use_key(key)
    assert services.key_source().key == key and services.key_source().passphrase is None
    services.store().info()
    services.close()


def test_without_key_or_passphrase_the_prompt_is_asked(tmp_path: Path) -> None:
    _make_store(tmp_path / "data")
    asked: list[str] = []

    def prompt(message: str, confirm: bool) -> str:
        asked.append(message)
        return PASSPHRASE

    services = AppServices.create(tmp_path / "data", prompt=prompt)
    services.store()
    services.close()
    assert len(asked) == 1 and "mirix.db" in asked[0]
    with pytest.raises(KeyUnavailable):
        AppServices.create(tmp_path / "data").store()


def test_threads_asking_at_once_share_one_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRIX_PASSPHRASE", PASSPHRASE)
    services = AppServices.create(tmp_path / "data")
    opened: list[MemoryStore] = []
    start = threading.Barrier(4)

    def open_store() -> None:
        start.wait()
        opened.append(services.store())

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(opened) == 4 and all(store is opened[0] for store in opened)
        assert keyinfo_path(services.paths.store_file).exists()
    finally:
        services.close()


def test_chat_model_follows_the_settings(tmp_path: Path) -> None:
    services = AppServices.create(tmp_path / "data")
    assert services.chat_model() is None  # nothing configured: the extractive answer
    assert services.chat_model("extractive") is None
