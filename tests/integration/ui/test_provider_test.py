"""The Assistant page's Test button against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.config import Settings
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.ui.provider_test import ProviderTestButton
from mirix_desktop.ui.qt import Qt
from tests.helpers.fake_openai import FakeOpenAIServer
from tests.helpers.keyring_backend import MemoryKeyring


@dataclass
class PathServices:
    paths: AppPaths
    settings: Settings


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def form(server: FakeOpenAIServer) -> Settings:
    """What the settings window's form holds: not the services' (saved) settings."""
    settings = Settings()
    settings.llm.provider = "openai"
    settings.openai.base_url = server.base_url
    settings.openai.model = server.model
    settings.openai.api_key_env = "TEST_LLM_KEY"
    return settings


@pytest.fixture
def make_button(
    qtbot: QtBot, tmp_path: Path
) -> Callable[[Callable[[], Settings]], ProviderTestButton]:
    def make(getter: Callable[[], Settings]) -> ProviderTestButton:
        saved = Settings()  # extractive: the button must test the form, not this
        button = ProviderTestButton(PathServices(resolve_paths(tmp_path / "data"), saved), getter)  # type: ignore[arg-type]
        qtbot.add_widget(button)
        button.show()
        return button

    return make


def click_and_wait(qtbot: QtBot, button: ProviderTestButton) -> tuple[bool, str]:
    with qtbot.wait_signal(button.tested, timeout=15_000) as blocker:
        qtbot.mouseClick(button.button, Qt.MouseButton.LeftButton)
    ok, text = blocker.args
    assert button.status.text() == text
    assert button.button.isEnabled() and button.button.text() == "&Test"
    return ok, text


def test_ok_says_how_fast_and_which_model_answered_the_unsaved_settings(
    qtbot: QtBot,
    make_button: Callable[[Callable[[], Settings]], ProviderTestButton],
    server: FakeOpenAIServer,
    form: Settings,
    memory_keyring: MemoryKeyring,
) -> None:
    memory_keyring.secrets[("mirix-desktop", f"openai:{server.base_url}")] = "sk-kept"
    # The first byte waits whatever the reply's chunking: its time must be counted.
    server.reply("OK", first_byte_delay_s=0.1)
    button = make_button(lambda: form)
    ok, text = click_and_wait(qtbot, button)
    assert ok, text
    match = re.fullmatch(r"OK — answered in (\d+) ms by fake-model", text)
    assert match is not None, text
    assert int(match[1]) >= 100  # the answer's own time is counted
    assert button.status.kind == "ok"
    request = server.requests[-1]
    assert request.path == "/v1/chat/completions"
    assert request.body["max_tokens"] <= 8  # a tiny request
    assert request.headers["authorization"] == "Bearer sk-kept"


def test_a_refused_key_says_401_and_where_the_key_goes(
    qtbot: QtBot,
    make_button: Callable[[Callable[[], Settings]], ProviderTestButton],
    server: FakeOpenAIServer,
    form: Settings,
) -> None:
    server.fail(401, "Incorrect API key provided")
    ok, text = click_and_wait(qtbot, make_button(lambda: form))
    assert not ok
    assert text.startswith(f"The model server at {server.base_url} needs an API key"), text
    assert "HTTP 401" in text and "Incorrect API key provided" in text
    assert "TEST_LLM_KEY" in text and "mirix-desktop llm" not in text  # no CLI in a window


def test_a_wrong_url_says_nothing_answers_there(
    qtbot: QtBot,
    make_button: Callable[[Callable[[], Settings]], ProviderTestButton],
    form: Settings,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    form.openai.base_url = f"http://127.0.0.1:{port}/v1"
    ok, text = click_and_wait(qtbot, make_button(lambda: form))
    assert not ok
    assert text == (
        f"Cannot reach the model server at http://127.0.0.1:{port}/v1: connection refused "
        "(is the server running, on that port?)"
    )


def test_a_url_that_is_not_a_url_is_named(
    qtbot: QtBot,
    make_button: Callable[[Callable[[], Settings]], ProviderTestButton],
    form: Settings,
) -> None:
    form.openai.base_url = "localhost:11434"
    ok, text = click_and_wait(qtbot, make_button(lambda: form))
    assert not ok
    assert "'localhost:11434' is not an http:// or https:// URL" in text


def test_a_server_too_slow_to_answer_is_a_timeout(
    qtbot: QtBot,
    make_button: Callable[[Callable[[], Settings]], ProviderTestButton],
    server: FakeOpenAIServer,
    form: Settings,
) -> None:
    server.reply("OK", first_byte_delay_s=3)
    form.llm.timeout_s = 0.3
    ok, text = click_and_wait(qtbot, make_button(lambda: form))
    assert not ok
    assert text == (
        f"The model server at {server.base_url} did not answer within the timeout of 0.3 s."
    )


def test_no_model_chosen_is_said_without_a_request(
    qtbot: QtBot,
    make_button: Callable[[Callable[[], Settings]], ProviderTestButton],
    server: FakeOpenAIServer,
    form: Settings,
) -> None:
    form.llm.provider = "extractive"
    ok, text = click_and_wait(qtbot, make_button(lambda: form))
    assert ok and text.startswith("No model is chosen")
    assert server.requests == []


def test_a_local_model_that_is_not_downloaded_is_named(
    qtbot: QtBot,
    make_button: Callable[[Callable[[], Settings]], ProviderTestButton],
    form: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIRIX_MODELS_DIR", str(tmp_path / "models"))
    form.llm.provider = "local"
    form.local_model.model = "qwen2.5-0.5b"
    ok, text = click_and_wait(qtbot, make_button(lambda: form))
    assert not ok
    assert "the model qwen2.5-0.5b is not downloaded" in text
    assert "models pull" not in text
