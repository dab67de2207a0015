"""Which model answers: the provider chosen by settings or a flag, built lazily.

`auto` means: the local model if one is configured, else the remote one if
configured, else no model (the extractive answer), so a fresh install answers
out of the box and configuring a model is all it takes to switch. Provider
modules are imported only when chosen: llama.cpp and the openai SDK cost
start-up time the extractive path does not need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from mirix_desktop.config import Settings
from mirix_desktop.errors import ConfigError
from mirix_desktop.llm.base import ChatModel

Provider = Literal["extractive", "local", "openai"]
PROVIDERS: tuple[Provider, ...] = ("extractive", "local", "openai")


def choose_provider(settings: Settings, requested: str | None = None) -> Provider:
    choice = requested or settings.llm.provider
    if choice == "auto":
        if settings.local_model.model:
            return "local"
        if settings.openai.model:
            return "openai"
        return "extractive"
    if choice not in PROVIDERS:
        raise ConfigError(f"Unknown provider {choice!r}; choose one of {', '.join(PROVIDERS)}.")
    return choice


def make_chat_model(
    settings: Settings, models_dir: Path, requested: str | None = None
) -> ChatModel | None:
    """The chosen provider's model, not yet loaded; None for the extractive answer."""
    provider = choose_provider(settings, requested)
    if provider == "extractive":
        return None
    if provider == "local":
        if not settings.local_model.model:
            raise ConfigError(
                "No local model is configured. Download one with "
                "`mirix-desktop models pull qwen2.5-0.5b` and set local_model.model in the "
                "config file (or pass --model)."
            )
        from mirix_desktop.llm.catalogue import resolve_model
        from mirix_desktop.llm.local_provider import LocalChatModel

        local = settings.local_model
        return LocalChatModel(
            resolve_model(local.model, models_dir),
            context_tokens=local.context_tokens,
            threads=local.threads,
            gpu_layers=local.gpu_layers,
        )
    if not settings.openai.model:
        raise ConfigError(
            "No remote model is configured: set openai.model (and openai.base_url for a "
            "server other than OpenAI) in the config file, or pass --model and --base-url."
        )
    from mirix_desktop.llm.api_key import resolve_api_key
    from mirix_desktop.llm.openai_provider import OpenAIChatModel

    remote = settings.openai
    return OpenAIChatModel(
        remote.base_url,
        remote.model,
        resolve_api_key(remote),
        context_tokens=remote.context_tokens,
        api_key_env=remote.api_key_env,
    )
