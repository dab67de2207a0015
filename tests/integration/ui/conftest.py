"""Chat window tests: offscreen Qt, a real encrypted store, real providers on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.config import Settings
from mirix_desktop.llm.base import ChatModel
from mirix_desktop.llm.providers import make_chat_model
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.ui.chat_window import ChatWindow

# Before pytest-qt creates the QApplication (on the first qtbot/qapp use).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@dataclass
class StoreServices:
    """The part of AppServices the chat window uses, over the test's store."""

    paths: AppPaths
    settings: Settings
    opened: MemoryStore
    models_built: int = 0

    def store(self) -> MemoryStore:
        return self.opened

    def chat_model(self, requested: str | None = None) -> ChatModel | None:
        self.models_built += 1
        return make_chat_model(self.settings, self.paths.models_dir, requested)


@pytest.fixture
def services(store: MemoryStore, store_path: Path) -> StoreServices:
    settings = Settings()
    settings.llm.provider = "extractive"
    return StoreServices(resolve_paths(store_path.parent), settings, store)


@pytest.fixture
def make_window(qtbot: QtBot, services: StoreServices) -> Iterator[Callable[[], ChatWindow]]:
    made: list[ChatWindow] = []

    def make() -> ChatWindow:
        window = ChatWindow(services)
        qtbot.add_widget(window)
        made.append(window)
        return window

    yield make
    for window in made:
        # Answers still running end (kept partial) before the store closes.
        assert window.shutdown(timeout_s=30)
