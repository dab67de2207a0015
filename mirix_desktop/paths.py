"""Where mirix-desktop keeps its files.

Defaults follow the platform conventions (platformdirs); `--data-dir` or
`MIRIX_DATA_DIR` moves everything (store, key info, models, config) under one
directory, which is also how tests isolate themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "mirix-desktop"
DATA_DIR_ENV = "MIRIX_DATA_DIR"
MODELS_DIR_ENV = "MIRIX_MODELS_DIR"


@dataclass(frozen=True)
class AppPaths:
    """The directories and files of one mirix-desktop installation."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path

    @property
    def store_file(self) -> Path:
        return self.data_dir / "mirix.db"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def models_dir(self) -> Path:
        """Model files; MIRIX_MODELS_DIR shares one copy between data dirs (tests)."""
        override = os.environ.get(MODELS_DIR_ENV)
        return Path(override).expanduser() if override else self.data_dir / "models"

    def ensure(self) -> None:
        for directory in (self.data_dir, self.config_dir, self.cache_dir):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)


def resolve_paths(data_dir: Path | str | None = None) -> AppPaths:
    """Returns the paths, honouring an explicit data dir, then MIRIX_DATA_DIR."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    if chosen:
        root = Path(chosen).expanduser().resolve()
        return AppPaths(data_dir=root, config_dir=root, cache_dir=root / "cache")
    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
