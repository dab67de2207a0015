"""Window texts never tell a person to run a CLI command; what the error is stays."""

from __future__ import annotations

import pytest

from mirix_desktop.app.texts import for_window
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError
from mirix_desktop.llm.catalogue import resolve_model
from mirix_desktop.llm.providers import make_chat_model


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "No local model is configured. Download one with `mirix-desktop models pull "
            "qwen2.5-0.5b` and set local_model.model in the config file (or pass --model).",
            "No local model is configured.",
        ),
        (
            "the server at http://x/v1 refused the API key (401). Store a key with "
            "`mirix-desktop llm set-key`, or set the environment variable OPENAI_API_KEY.",
            "the server at http://x/v1 refused the API key (401).",
        ),
        (
            "the model server did not answer within 60 s",
            "the model server did not answer within 60 s.",
        ),
    ],
)
def test_command_sentences_are_left_out(message: str, expected: str) -> None:
    assert for_window(message) == expected


def test_real_error_messages_lose_their_commands(tmp_path: object) -> None:
    settings = Settings()
    settings.llm.provider = "local"
    with pytest.raises(KnownError) as no_model:
        make_chat_model(settings, tmp_path)  # type: ignore[arg-type]
    with pytest.raises(KnownError) as unknown:
        resolve_model("qwen2.5-0.5b", tmp_path)  # type: ignore[arg-type]
    for error in (no_model.value, unknown.value):
        assert "mirix-desktop" in error.message
        shown = for_window(error.message)
        assert "mirix-desktop" not in shown and "--" not in shown
        assert len(shown) > 10
