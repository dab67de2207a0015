"""Shared fixtures: isolation from the user's files, keys, embedder, stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from tests.helpers.fake_hub import FakeHub
from tests.helpers.keyring_backend import MemoryKeyring

REPO = Path(__file__).resolve().parent.parent
# The static embedding model is distilled once per checkout and shared.
MODELS_DIR = REPO / ".cache" / "models"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("MIRIX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIRIX_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    # No OS keyring unless a test asks for one: like a headless machine.
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture(scope="session")
def embedder() -> StaticEmbedder:
    model = StaticEmbedder(MODELS_DIR)
    model.embed(["warm up"])
    return model


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "mirix.db"


@pytest.fixture
def store(store_path: Path, embedder: StaticEmbedder) -> Iterator[MemoryStore]:
    opened = MemoryStore.open(store_path, KeySource(passphrase=PASSPHRASE), embedder)
    yield opened
    opened.close()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A fake Hugging Face Hub on 127.0.0.1, which model downloads are pointed at."""
    with FakeHub() as running:
        monkeypatch.setenv("HF_ENDPOINT", running.url)
        yield running
