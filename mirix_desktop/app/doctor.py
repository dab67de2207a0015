"""The set-up checks: config, store, OCR, the hotkey, and whether the chosen model answers.

Each check is a function returning a `Check`; a failure is a check with
`ok=False` and the known error's message, never an exception. `run_checks`
yields them one by one (the model check may take seconds: the CLI prints
each as it comes), `doctor_checks` gathers them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from mirix_desktop.app.services import AppServices, apply_model_choice
from mirix_desktop.errors import KnownError
from mirix_desktop.llm.base import ChatMessage, GenerationOptions
from mirix_desktop.llm.providers import choose_provider

# Enough to prove the model answers, small enough for a laptop CPU.
_PROBE = [
    ChatMessage("system", "You are a health check. Reply with one word."),
    ChatMessage("user", "Say OK."),
]
_PROBE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ModelChoice:
    """A model chosen for this run only (the CLI's --provider/--model/--base-url)."""

    provider: str | None = None
    model: str | None = None
    base_url: str | None = None


def check_config(services: AppServices) -> Check:
    # Reaching here means the settings loaded: a bad file fails AppServices.create.
    return Check("config", True, str(services.paths.config_file))


def check_store(services: AppServices) -> Check:
    try:
        info = services.store().info()
    except KnownError as exc:
        return Check("store", False, exc.message)
    return Check("store", True, f"{info.path} ({info.memories} memories, key: {info.key_mode})")


def check_ocr(services: AppServices) -> Check:
    from mirix_desktop.ocr.engine import make_engine

    ocr = services.settings.ocr
    try:
        engine = make_engine(ocr.engine, ocr.languages)
    except KnownError as exc:
        return Check("ocr", False, exc.message)
    return Check("ocr", True, f"{type(engine).__name__} ({ocr.languages})")


def check_hotkey(services: AppServices) -> Check:
    """Can the quick query hotkey (`ui.hotkey`) be grabbed? Taken by another program: a failure."""
    chord = services.settings.ui.hotkey
    try:
        from mirix_desktop.ui.hotkey import probe_hotkey, taken_text
    except ImportError as exc:  # no Qt here: no app of ours would run either
        return Check("hotkey", True, f"not checked: Qt does not load ({exc})")
    result = probe_hotkey(chord)
    if result.outcome == "taken":
        # While the app runs, the app itself is who holds it.
        return Check(
            "hotkey",
            False,
            f"{taken_text(result.chord, services.paths.config_file)} "
            "(If MIRIX itself is running, this is its own grab.)",
        )
    if result.outcome == "registered":
        return Check("hotkey", True, f"{result.chord} can be grabbed")
    if result.outcome == "failed":
        return Check("hotkey", False, f"ui.hotkey {chord!r}: {result.detail}")
    return Check("hotkey", True, f"{result.chord or 'none'}: {result.detail}")


def check_model(services: AppServices, choice: ModelChoice | None = None) -> Check:
    """Builds the chosen model and asks it for one word (at most 30 s)."""
    choice = choice or ModelChoice()
    settings = services.settings
    try:
        requested = apply_model_choice(settings, choice.provider, choice.model, choice.base_url)
        chosen = choose_provider(settings, requested)
        chat_model = services.chat_model(requested)
    except KnownError as exc:
        return Check("model", False, exc.message)
    if chat_model is None:
        return Check(
            "model",
            True,
            f"provider {chosen}: no language model; answers quote your memories. "
            "Configure local_model.model or openai.model for written answers.",
        )
    started = time.perf_counter()
    try:
        budget = min(settings.llm.timeout_s, _PROBE_TIMEOUT_S)
        options = GenerationOptions(max_tokens=8, temperature=0.0, timeout_s=budget)
        reply = "".join(chat_model.stream(_PROBE, options)).strip()
        seconds = time.perf_counter() - started
        return Check(
            "model",
            True,
            f"provider {chosen}: {chat_model.name} answered in {seconds:.1f} s "
            f"({reply[:40]!r}); context {chat_model.context_tokens} tokens",
        )
    except KnownError as exc:
        return Check("model", False, f"provider {chosen}: {chat_model.name}: {exc.message}")
    finally:
        chat_model.close()


def run_checks(services: AppServices, choice: ModelChoice | None = None) -> Iterator[Check]:
    """The checks in order, each yielded when it is done."""
    yield check_config(services)
    yield check_store(services)
    yield check_ocr(services)
    yield check_hotkey(services)
    yield check_model(services, choice)


def doctor_checks(services: AppServices, choice: ModelChoice | None = None) -> list[Check]:
    return list(run_checks(services, choice))
