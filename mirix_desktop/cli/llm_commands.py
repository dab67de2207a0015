"""`mirix-desktop doctor` and `llm set-key | clear-key`: is the model set up and answering?"""

from __future__ import annotations

import time

import click

from mirix_desktop.cli.ask_command import apply_model_flags, model_options
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.errors import KnownError
from mirix_desktop.llm.base import ChatMessage, GenerationOptions
from mirix_desktop.llm.providers import choose_provider, make_chat_model

# Enough to prove the model answers, small enough for a laptop CPU.
_PROBE = [
    ChatMessage("system", "You are a health check. Reply with one word."),
    ChatMessage("user", "Say OK."),
]
_PROBE_TIMEOUT_S = 30.0


def _line(name: str, ok: bool, detail: str) -> None:
    mark = click.style("ok  ", fg="green") if ok else click.style("FAIL", fg="red")
    click.echo(f"{mark} {name:<10} {detail}")


@click.command()
@model_options
@pass_app
def doctor(app: AppContext, provider: str | None, model: str | None, base_url: str | None) -> None:
    """Check the set-up: config, store, OCR, and whether the model answers."""
    problems = 0
    _line("config", True, str(app.paths.config_file))
    try:
        info = app.store().info()
        _line("store", True, f"{info.path} ({info.memories} memories, key: {info.key_mode})")
    except KnownError as exc:
        problems += 1
        _line("store", False, exc.message)
    try:
        from mirix_desktop.ocr.engine import make_engine

        engine = make_engine(app.settings.ocr.engine, app.settings.ocr.languages)
        _line("ocr", True, f"{type(engine).__name__} ({app.settings.ocr.languages})")
    except KnownError as exc:
        problems += 1
        _line("ocr", False, exc.message)

    try:
        requested = apply_model_flags(app.settings, provider, model, base_url)
        chosen = choose_provider(app.settings, requested)
        chat_model = make_chat_model(app.settings, app.paths.models_dir, requested)
    except KnownError as exc:
        problems += 1
        _line("model", False, exc.message)
    else:
        if chat_model is None:
            _line(
                "model",
                True,
                f"provider {chosen}: no language model; answers quote your memories. "
                "Configure local_model.model or openai.model for written answers.",
            )
        else:
            started = time.perf_counter()
            try:
                budget = min(app.settings.llm.timeout_s, _PROBE_TIMEOUT_S)
                options = GenerationOptions(max_tokens=8, temperature=0.0, timeout_s=budget)
                reply = "".join(chat_model.stream(_PROBE, options)).strip()
                seconds = time.perf_counter() - started
                _line(
                    "model",
                    True,
                    f"provider {chosen}: {chat_model.name} answered in {seconds:.1f} s "
                    f"({reply[:40]!r}); context {chat_model.context_tokens} tokens",
                )
            except KnownError as exc:
                problems += 1
                _line("model", False, f"provider {chosen}: {chat_model.name}: {exc.message}")
            finally:
                chat_model.close()
    if problems:
        raise click.exceptions.Exit(1)


@click.group()
def llm() -> None:
    """Settings of the remote model that are not kept in the config file."""


@llm.command("set-key")
@click.option("--base-url", help="The server the key is for (default: openai.base_url).")
@pass_app
def set_key(app: AppContext, base_url: str | None) -> None:
    """Store the remote server's API key in the OS keyring (never in the config file)."""
    from mirix_desktop.llm.api_key import store_api_key

    url = base_url or app.settings.openai.base_url
    key = click.prompt(f"API key for {url}", hide_input=True, err=True).strip()
    if not key:
        raise click.BadParameter("the key is empty")
    store_api_key(url, key)
    click.echo(f"Stored the API key for {url} in the OS keyring.")


@llm.command("clear-key")
@click.option("--base-url", help="The server the key is for (default: openai.base_url).")
@pass_app
def clear_key(app: AppContext, base_url: str | None) -> None:
    """Remove the remote server's API key from the OS keyring."""
    from mirix_desktop.llm.api_key import delete_api_key

    url = base_url or app.settings.openai.base_url
    if delete_api_key(url):
        click.echo(f"Removed the API key for {url}.")
    else:
        click.echo(f"The keyring held no API key for {url}.")
