"""What every command shares: paths, settings, and the store opened on demand."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from mirix_desktop.config import Settings, load_settings
from mirix_desktop.memory.embedder import make_embedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths, resolve_paths


def _prompt_passphrase(message: str, confirm: bool) -> str:
    return str(click.prompt(message, hide_input=True, confirmation_prompt=confirm, err=True))


@dataclass
class AppContext:
    paths: AppPaths
    settings: Settings
    _store: MemoryStore | None = field(default=None, repr=False)

    @classmethod
    def create(cls, data_dir: Path | None) -> AppContext:
        paths = resolve_paths(data_dir)
        return cls(paths=paths, settings=load_settings(paths.config_file))

    def store(self) -> MemoryStore:
        if self._store is None:
            self.paths.ensure()
            interactive = sys.stdin.isatty()
            embedder = make_embedder(
                self.settings.embedding.model,
                self.paths.models_dir,
                self.settings.embedding.batch_size,
            )
            self._store = MemoryStore.open(
                self.paths.store_file,
                KeySource.from_environment(_prompt_passphrase if interactive else None),
                embedder,
                self.settings.store,
            )
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


pass_app = click.make_pass_decorator(AppContext)
