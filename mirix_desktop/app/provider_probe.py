"""One tiny request to the model the settings name: does it answer, and how fast.

The settings window's "Test" button runs it on a worker with the settings
as they are in the form (not saved yet), so a wrong URL, a refused key or a
server too slow to answer shows before the person saves. What failed comes
back as the provider's `LlmError` (its message says what and where) or a
`ConfigError` for settings that name no model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from mirix_desktop.config import Settings
from mirix_desktop.llm.base import ChatMessage, GenerationOptions
from mirix_desktop.llm.providers import Provider, choose_provider, make_chat_model

PROBE = (
    ChatMessage("system", "You are a connection test. Reply with one word."),
    ChatMessage("user", "Say OK."),
)
# A test should not keep the person waiting for a whole answer's timeout.
PROBE_TIMEOUT_S = 20.0
PROBE_TOKENS = 8


@dataclass(frozen=True)
class ProviderProbe:
    """A provider that answered: who, which model, how long the answer took, what it said."""

    provider: Provider
    model: str  # as the person names it: the server's model, or the local file
    milliseconds: int
    reply: str

    def describe(self) -> str:
        return f"OK — answered in {self.milliseconds} ms by {self.model}"


def probe_provider(settings: Settings, models_dir: Path) -> ProviderProbe | None:
    """Asks the chosen provider's model for one word; None: no model is chosen (extractive).

    The time runs from the request to the end of the answer; for a local
    model that includes loading it, as for the first question after a restart.
    """
    provider = choose_provider(settings)
    model = make_chat_model(settings, models_dir)
    if model is None:
        return None
    started = time.perf_counter()
    try:
        budget = min(settings.llm.timeout_s, PROBE_TIMEOUT_S)
        options = GenerationOptions(max_tokens=PROBE_TOKENS, temperature=0.0, timeout_s=budget)
        reply = "".join(model.stream(PROBE, options)).strip()
        elapsed = time.perf_counter() - started
    finally:
        model.close()
    name = model.name.split(":", 1)[-1]
    return ProviderProbe(provider, name, round(elapsed * 1000), reply)
