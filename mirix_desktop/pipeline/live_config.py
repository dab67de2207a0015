"""The running daemon follows config.toml: options that can change live do, at once.

The settings window (and a person with an editor) writes config.toml; the
daemon is another process. `ConfigWatcher.poll()` looks at the file's
identity (inode, size, modification time: an atomic replace changes the
inode) and, when it changed, loads it the way the daemon was started
(`config.load_settings`: file, then MIRIX_* variables) and copies the
options in `DAEMON_LIVE` into the daemon's own `Settings` object, in place,
so every part holding that object or one of its sections (the submitter
holds `settings.capture`) sees the new values. Options that need a restart
are left alone and logged once per change.

A file with an error keeps the settings in force and logs a warning naming
the bad keys only, never their values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from mirix_desktop.config import Settings, load_settings
from mirix_desktop.errors import ConfigError

log = logging.getLogger("mirix.daemon.config")

# How often the capture loop looks at the file between two ticks.
CHECK_EVERY_S = 1.0

# What the daemon applies without a restart, as "section.option". A section
# name alone means every option of it (so options added there later follow).
DAEMON_LIVE: frozenset[str] = frozenset(
    {
        "capture.enabled",
        "capture.interval_s",
        "capture.idle_pause_s",
        "capture.thumbnail_width",
        "capture.keyframe_queue",
        "capture.keyframe_interval_s",
        "capture.max_queue",
        "capture.on_battery",
        "capture.battery_interval_s",
        "privacy",
        "storage",
    }
)


def is_live(key: str, live: frozenset[str] = DAEMON_LIVE) -> bool:
    """Whether "section.option" is in `live` (by name, or by its whole section)."""
    return key in live or key.split(".", 1)[0] in live


def changed_keys(old: Settings, new: Settings) -> list[str]:
    """The "section.option" names whose values differ, in schema order."""
    keys: list[str] = []
    for section in type(old).model_fields:
        before, after = getattr(old, section), getattr(new, section)
        for name in type(before).model_fields:
            if getattr(before, name) != getattr(after, name):
                keys.append(f"{section}.{name}")
    return keys


def copy_options(target: Settings, source: Settings, keys: list[str]) -> None:
    """Sets each of `keys` in `target` (in place) to its value in `source`."""
    for key in keys:
        section, name = key.split(".", 1)
        setattr(getattr(target, section), name, getattr(getattr(source, section), name))


@dataclass(frozen=True)
class Reload:
    """What one change of the file did: options applied, options waiting for a restart."""

    applied: tuple[str, ...]
    need_restart: tuple[str, ...]


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _bad_keys(exc: ConfigError) -> str:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        keys = sorted({".".join(str(part) for part in err["loc"][:2]) for err in cause.errors()})
        return "invalid value for " + ", ".join(keys)
    return "it is not valid TOML or cannot be read"


class ConfigWatcher:
    """Applies the live options of `config_file` to `settings` when the file changes."""

    def __init__(
        self,
        config_file: Path,
        settings: Settings,
        *,
        load: Callable[[Path], Settings] = load_settings,
        live: frozenset[str] = DAEMON_LIVE,
    ) -> None:
        self.config_file = config_file
        self.settings = settings
        self._load = load
        self._live = live
        self._seen = _identity(config_file)

    def poll(self) -> Reload | None:
        """Reloads the file if it changed; None when it did not (or could not be used)."""
        identity = _identity(self.config_file)
        if identity == self._seen:
            return None
        self._seen = identity
        try:
            new = self._load(self.config_file)
        except ConfigError as exc:
            log.warning(
                "config.toml changed but has an error (%s): the current settings stay in force",
                _bad_keys(exc),
            )
            return None
        keys = changed_keys(self.settings, new)
        applied = [key for key in keys if is_live(key, self._live)]
        waiting = [key for key in keys if not is_live(key, self._live)]
        copy_options(self.settings, new, applied)
        if applied:
            log.info("settings applied live: %s", ", ".join(applied))
        if waiting:
            log.info("settings that apply at the next start: %s", ", ".join(waiting))
        return Reload(tuple(applied), tuple(waiting))
