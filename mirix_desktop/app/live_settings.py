"""Which options take effect at once, and which wait for MIRIX to start again.

Two processes use the settings. The capture daemon re-reads config.toml
when it changes and applies `pipeline.live_config.DAEMON_LIVE` (interval,
idle pause, thumbnails, exclusions, redaction, retention and the disk
limits, battery policy). The tray app applies `APP_LIVE` to its own
`Settings` (the hotkey is registered again, the chat rebuilds its model for
a new provider, model or server; search options apply to the next query).
Everything else (the store's cache, the embedding model, OCR, consolidation,
the MCP server, episode gaps) is read once at start: the settings window
says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mirix_desktop.config import Settings
from mirix_desktop.pipeline.live_config import DAEMON_LIVE, is_live

APP_LIVE: frozenset[str] = frozenset(
    {
        "ui.hotkey",
        "llm",
        "local_model.model",
        "openai.base_url",
        "openai.model",
        "openai.api_key_env",
        "openai.context_tokens",
        "search",
    }
)
LIVE: frozenset[str] = DAEMON_LIVE | APP_LIVE
# Options whose change the tray app itself must act on (not only read later).
HOTKEY = "ui.hotkey"
PROVIDER_KEYS: frozenset[str] = frozenset(
    {"llm.provider", "local_model.model", "openai.base_url", "openai.model", "openai.api_key_env"}
)


def applies_live(key: str) -> bool:
    """Whether "section.option" takes effect without restarting MIRIX."""
    return is_live(key, LIVE)


def needing_restart(keys: Iterable[str]) -> list[str]:
    """The keys of `keys` that take effect only at the next start, in their order."""
    return [key for key in keys if not applies_live(key)]


def flatten(changes: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    """{"capture": {"interval_s": 5}} -> {"capture.interval_s": 5}."""
    return {
        f"{section}.{name}": value
        for section, opts in changes.items()
        for name, value in opts.items()
    }


def apply_in_app(settings: Settings, values: Mapping[str, object]) -> list[str]:
    """Sets the live options among `values` ("section.option" -> validated value) in place.

    Returns the keys applied. Options that need a restart are left as the
    app started with them: half-applying them (a new embedding model with
    the old index) would be worse than waiting.
    """
    applied: list[str] = []
    for key, value in values.items():
        if not applies_live(key) or value is None:
            continue
        section, name = key.split(".", 1)
        target = getattr(settings, section, None)
        if target is None or name not in type(target).model_fields:
            continue
        if getattr(target, name) != value:
            setattr(target, name, value)
            applied.append(key)
    return applied
