"""The composition root: paths, settings, the store, the embedder and the chat models.

The CLI (through `cli/context.py`), the tray app and its windows all start
from one `AppServices`. It asks nothing of the person itself: a passphrase
prompt is injected (a terminal prompt in the CLI, none in the windows, which
unlock first and hand over the key with `use_key`). Everything heavy (the
store, the embedding model) is opened on first use, so building one is cheap.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Self

from mirix_desktop.config import Settings, load_settings
from mirix_desktop.errors import ConfigError
from mirix_desktop.paths import AppPaths, resolve_paths

# The store, the embedder and the model providers are imported on first use:
# the tray app starts (and a CLI command runs) without numpy, SQLCipher or
# the LLM clients until it needs them.
if TYPE_CHECKING:
    from mirix_desktop.app.settings_model import Problem
    from mirix_desktop.llm.base import ChatModel
    from mirix_desktop.memory.embedder import Embedder
    from mirix_desktop.memory.keys import KeySource, PassphrasePrompt
    from mirix_desktop.memory.store import MemoryStore


class AppServices:
    """What every command and window shares; one per process and data dir."""

    def __init__(
        self, paths: AppPaths, settings: Settings, *, prompt: PassphrasePrompt | None = None
    ) -> None:
        self.paths = paths
        self.settings = settings
        self._prompt = prompt
        # Keys of config.toml left out because of a mistake (`create(tolerant=True)`).
        self.config_problems: list[Problem] = []
        self._key: bytes | None = None
        self._store: MemoryStore | None = None
        self._embedder: Embedder | None = None
        # Worker threads of the windows may ask for the store at the same
        # moment: it must be opened (and the key derived) once.
        self._lock = threading.Lock()

    @classmethod
    def create(
        cls,
        data_dir: Path | None = None,
        *,
        prompt: PassphrasePrompt | None = None,
        tolerant: bool = False,
    ) -> Self:
        """Reads the paths and settings (ConfigError for a bad config file); opens nothing.

        `tolerant`: a config file with mistakes gives the settings of its valid
        options, and `config_problems` names the others.
        """
        paths = resolve_paths(data_dir)
        if not tolerant:
            return cls(paths, load_settings(paths.config_file), prompt=prompt)
        from mirix_desktop.app.settings_model import load_tolerant

        settings, problems = load_tolerant(paths.config_file)
        services = cls(paths, settings, prompt=prompt)
        services.config_problems = problems
        return services

    # -- the key and the store ------------------------------------------------------------
    def use_key(self, key: bytes) -> None:
        """A key the windows unlocked: the store opens with it (still checked against it)."""
        self._key = key

    def key_source(self) -> KeySource:
        """A handed-over key, else MIRIX_PASSPHRASE, else the keyring or the prompt."""
        from mirix_desktop.memory.keys import KeySource

        if self._key is not None:
            return KeySource(key=self._key)
        return KeySource.from_environment(self._prompt)

    def embedder(self) -> Embedder:
        """The embedding model the settings name (its weights load on first use)."""
        with self._lock:
            return self._embedder_locked()

    def _embedder_locked(self) -> Embedder:
        if self._embedder is None:
            from mirix_desktop.memory.embedder import make_embedder

            embedding = self.settings.embedding
            self._embedder = make_embedder(
                embedding.model, self.paths.models_dir, embedding.batch_size
            )
        return self._embedder

    def store(self) -> MemoryStore:
        """The encrypted store, opened on first use and then shared."""
        with self._lock:
            if self._store is None:
                from mirix_desktop.memory.store import MemoryStore

                self.paths.ensure()
                self._store = MemoryStore.open(
                    self.paths.store_file,
                    self.key_source(),
                    self._embedder_locked(),
                    self.settings.store,
                )
            return self._store

    # -- models -----------------------------------------------------------------------------
    def chat_model(self, requested: str | None = None) -> ChatModel | None:
        """The chosen provider's model, not loaded yet; None means the extractive answer.

        The caller owns it and closes it; a ConfigError says what is missing.
        """
        from mirix_desktop.llm.providers import make_chat_model

        return make_chat_model(self.settings, self.paths.models_dir, requested)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def apply_model_choice(
    settings: Settings, provider: str | None, model: str | None, base_url: str | None
) -> str | None:
    """Points the settings at another model for this process; returns the provider asked for.

    A base URL alone means a remote server; a model name goes to the provider
    that would answer. The config file is not touched: it holds the lasting choice.
    """
    if base_url and provider is None:
        provider = "openai"
    if base_url:
        settings.openai.base_url = base_url
    if model:
        from mirix_desktop.llm.providers import choose_provider

        chosen = choose_provider(settings, provider)
        if chosen == "local":
            settings.local_model.model = model
        elif chosen == "openai":
            settings.openai.model = model
        else:
            raise ConfigError(
                "--model needs a provider that uses one: add --provider local or "
                "--provider openai (or configure one)."
            )
    return provider
