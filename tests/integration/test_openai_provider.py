"""The OpenAI-compatible provider against a real HTTP server on the loopback interface."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from mirix_desktop.errors import LlmAuthError, LlmError, LlmTimeout
from mirix_desktop.llm.base import ChatMessage, GenerationOptions
from mirix_desktop.llm.openai_provider import OpenAIChatModel
from tests.helpers.fake_openai import FakeOpenAIServer, MalformedKind, RecordedRequest

MESSAGES = [
    ChatMessage("system", "You answer from the user's screen memories."),
    ChatMessage("user", "What was I reading yesterday?"),
]
ANSWER = "You were reading about tide tables in Brittany."
# Short enough to keep the suite fast, long enough not to flake on a busy machine.
SHORT_TIMEOUT_S = 1.5


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def model(server: FakeOpenAIServer) -> Iterator[OpenAIChatModel]:
    chat = OpenAIChatModel(server.base_url, server.model, api_key="sk-test-123")
    yield chat
    chat.close()


def collect(
    chat: OpenAIChatModel, options: GenerationOptions | None = None
) -> tuple[list[str], LlmError | None]:
    """The chunks yielded before the stream ended, and the error it ended with."""
    chunks: list[str] = []
    try:
        for chunk in chat.stream(MESSAGES, options or GenerationOptions(timeout_s=10)):
            chunks.append(chunk)
    except LlmError as exc:
        return chunks, exc
    return chunks, None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_streams_the_answer_in_order_and_sends_the_request(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    server.reply(ANSWER, chunk_chars=5)
    options = GenerationOptions(max_tokens=77, temperature=0.35, timeout_s=10)

    chunks = list(model.stream(MESSAGES, options))

    assert "".join(chunks) == ANSWER
    assert len(chunks) == -(-len(ANSWER) // 5)
    [request] = server.chat_requests
    assert request.method == "POST"
    assert request.body["model"] == server.model
    assert request.body["messages"] == [m.to_json() for m in MESSAGES]
    assert request.body["max_tokens"] == 77
    assert request.body["temperature"] == pytest.approx(0.35)
    assert request.body["stream"] is True
    assert request.headers["authorization"] == "Bearer sk-test-123"


def test_reply_can_depend_on_the_request(server: FakeOpenAIServer, model: OpenAIChatModel) -> None:
    def echo(request: RecordedRequest) -> str:
        return "echo: " + request.body["messages"][-1]["content"]

    server.reply(echo)
    assert "".join(model.stream(MESSAGES, GenerationOptions())) == (
        "echo: What was I reading yesterday?"
    )


def test_name_and_token_counting() -> None:
    chat = OpenAIChatModel("http://127.0.0.1:9/v1", "qwen2.5:3b", api_key=None, context_tokens=4096)
    try:
        assert chat.name == "openai:qwen2.5:3b"
        assert chat.context_tokens == 4096
        assert chat.count_tokens("a" * 350) > chat.count_tokens("a" * 35) > 0
    finally:
        chat.close()


def test_local_server_without_a_key_gets_a_placeholder(server: FakeOpenAIServer) -> None:
    chat = OpenAIChatModel(server.base_url, server.model, api_key=None)
    try:
        assert "".join(chat.stream(MESSAGES, GenerationOptions())) == "Hello from the fake model."
    finally:
        chat.close()
    assert server.chat_requests[0].headers["authorization"].startswith("Bearer ")


@pytest.mark.parametrize(
    ("url", "model_name", "complaint"),
    [
        ("localhost:11434/v1", "m", "not an http:// or https:// URL"),
        ("ftp://gpu-box/v1", "m", "not an http:// or https:// URL"),
        ("http://gpu-box:8080/v1", "", "no model name"),
    ],
)
def test_unusable_settings_are_refused_up_front(url: str, model_name: str, complaint: str) -> None:
    with pytest.raises(LlmError, match=complaint):
        OpenAIChatModel(url, model_name, api_key=None)


def test_openai_without_a_key_fails_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a request was attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    chat = OpenAIChatModel("https://api.openai.com/v1", "gpt-4o-mini", api_key=None)
    try:
        with pytest.raises(LlmAuthError, match=r"none is set.*llm set-key.*OPENAI_API_KEY"):
            list(chat.stream(MESSAGES, GenerationOptions()))
    finally:
        chat.close()


def test_server_down_is_reported_quickly_with_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    chat = OpenAIChatModel(url, "some-model", api_key=None)
    started = time.monotonic()
    try:
        with pytest.raises(LlmError, match="cannot reach the model server") as caught:
            list(chat.stream(MESSAGES, GenerationOptions(timeout_s=30)))
    finally:
        chat.close()
    assert url in caught.value.message
    assert "connection refused" in caught.value.message
    assert not isinstance(caught.value, LlmTimeout)
    assert time.monotonic() - started < 5


def test_unknown_host_is_reported_with_the_url() -> None:
    chat = OpenAIChatModel("http://no-such-host.invalid:8080/v1", "m", api_key=None)
    try:
        with pytest.raises(LlmError, match=r"cannot reach .*no-such-host\.invalid"):
            list(chat.stream(MESSAGES, GenerationOptions(timeout_s=10)))
    finally:
        chat.close()


def test_slow_first_byte_times_out_near_the_timeout(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    server.reply(ANSWER, first_byte_delay_s=SHORT_TIMEOUT_S * 4)
    started = time.monotonic()
    chunks, error = collect(model, GenerationOptions(timeout_s=SHORT_TIMEOUT_S))
    elapsed = time.monotonic() - started

    assert isinstance(error, LlmTimeout)
    assert server.base_url in error.message and "1.5 s" in error.message
    assert chunks == []
    assert SHORT_TIMEOUT_S * 0.9 <= elapsed < SHORT_TIMEOUT_S * 3


def test_trickling_server_is_cut_off_at_the_deadline_after_the_partial_answer(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    # Each chunk comes well within the read timeout, the whole answer does not.
    server.reply("one two three four five six seven eight", chunk_chars=4, chunk_delay_s=0.4)
    started = time.monotonic()
    chunks, error = collect(model, GenerationOptions(timeout_s=SHORT_TIMEOUT_S))
    elapsed = time.monotonic() - started

    assert isinstance(error, LlmTimeout)
    assert "did not finish" in error.message and server.base_url in error.message
    assert 2 <= len(chunks) < 10
    assert "one two three four five six seven eight".startswith("".join(chunks))
    assert SHORT_TIMEOUT_S <= elapsed < SHORT_TIMEOUT_S * 3


def test_refused_key_is_an_auth_error_that_says_how_to_fix_it(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    server.fail(401, "Incorrect API key provided: sk-test-***", code="invalid_api_key")
    chunks, error = collect(model)
    assert isinstance(error, LlmAuthError)
    assert chunks == []
    assert "refused the API key" in error.message
    assert "Incorrect API key provided" in error.message
    assert "mirix-desktop llm set-key" in error.message and "OPENAI_API_KEY" in error.message
    assert server.base_url in error.message


def test_forbidden_names_the_configured_environment_variable(server: FakeOpenAIServer) -> None:
    server.fail(403, "project has no access")
    chat = OpenAIChatModel(server.base_url, "m", api_key=None, api_key_env="MY_LLM_KEY")
    try:
        chunks, error = collect(chat)
    finally:
        chat.close()
    assert chunks == []
    assert isinstance(error, LlmAuthError)
    assert "needs an API key" in error.message and "MY_LLM_KEY" in error.message


def test_unknown_model_is_named(server: FakeOpenAIServer, model: OpenAIChatModel) -> None:
    server.fail(404, "model 'fake-model' not found, try pulling it first", code="model_not_found")
    chunks, error = collect(model)
    assert chunks == []
    assert isinstance(error, LlmError) and not isinstance(error, LlmAuthError)
    assert "no model 'fake-model'" in error.message
    assert "try pulling it first" in error.message


def test_server_error_gives_the_status_and_a_short_server_text(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    server.fail(500, "CUDA error: out of memory " + "x" * 1000)
    chunks, error = collect(model)
    assert chunks == []
    assert isinstance(error, LlmError) and not isinstance(error, LlmTimeout)
    assert "HTTP 500" in error.message and "CUDA error: out of memory" in error.message
    assert server.base_url in error.message
    assert len(error.message) < 400


def test_html_error_page_from_a_proxy(server: FakeOpenAIServer, model: OpenAIChatModel) -> None:
    server.fail(502, body=b"<html><body>502 Bad Gateway</body></html>", content_type="text/html")
    chunks, error = collect(model)
    assert chunks == []
    assert isinstance(error, LlmError)
    assert "HTTP 502" in error.message and "Bad Gateway" in error.message


@pytest.mark.parametrize("kind", ["bad-json", "no-choices"])
def test_malformed_chunk_raises_after_the_partial_answer(
    server: FakeOpenAIServer, model: OpenAIChatModel, kind: MalformedKind
) -> None:
    server.malformed(kind, after_chunks=3, reply="abcdefghijklmnopqrstuvwxyz")
    chunks, error = collect(model)
    assert "".join(chunks) == "abcdefghijkl"
    assert isinstance(error, LlmError)
    assert error.message.startswith("the model server sent a malformed stream")
    assert server.base_url in error.message


def test_html_instead_of_a_stream_is_malformed(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    server.malformed("html")
    chunks, error = collect(model)
    assert chunks == []
    assert isinstance(error, LlmError)
    assert "malformed stream" in error.message and "text/html" in error.message


def test_stream_that_ends_without_a_finish_reason_is_incomplete(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    server.malformed("no-finish", after_chunks=2, reply="abcdefghijkl")
    chunks, error = collect(model)
    assert "".join(chunks) == "abcdefgh"
    assert isinstance(error, LlmError)
    assert "before the answer was complete" in error.message


def test_empty_stream_is_malformed(server: FakeOpenAIServer, model: OpenAIChatModel) -> None:
    server.malformed("empty")
    chunks, error = collect(model)
    assert chunks == []
    assert isinstance(error, LlmError) and "malformed stream" in error.message


def test_error_event_inside_the_stream(server: FakeOpenAIServer, model: OpenAIChatModel) -> None:
    server.malformed("error-event", after_chunks=2, reply="abcdefghijkl")
    chunks, error = collect(model)
    assert "".join(chunks) == "abcdefgh"
    assert isinstance(error, LlmError)
    assert "out of memory" in error.message and server.base_url in error.message


def test_connection_cut_mid_stream_raises_after_the_partial_answer(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    server.reply("abcdefghijklmnopqrstuvwxyz", chunk_chars=4, cut_after_chunks=2)
    chunks, error = collect(model)
    assert "".join(chunks) == "abcdefgh"
    assert isinstance(error, LlmError) and not isinstance(error, LlmTimeout)
    assert "broke during the answer" in error.message and server.base_url in error.message


def test_model_is_usable_again_after_a_failure(
    server: FakeOpenAIServer, model: OpenAIChatModel
) -> None:
    server.reply("abcdefghijkl", cut_after_chunks=1)
    assert collect(model)[1] is not None
    server.reply("all good")
    assert collect(model) == (["all ", "good"], None)


def test_abandoning_the_stream_closes_it(server: FakeOpenAIServer, model: OpenAIChatModel) -> None:
    server.reply("abcdefghijkl" * 10, chunk_delay_s=0.05)
    stream = model.stream(MESSAGES, GenerationOptions())
    assert next(stream) == "abcd"
    stream.close()  # a ResourceWarning here would fail the test (filterwarnings = error)
    server.reply("fine")
    assert "".join(model.stream(MESSAGES, GenerationOptions())) == "fine"


def test_fake_server_answers_non_streaming_requests_and_lists_models(
    server: FakeOpenAIServer,
) -> None:
    import openai

    server.reply("whole answer")
    with openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
        completion = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
        models = client.models.list()
    assert completion.choices[0].message.content == "whole answer"
    assert [m.id for m in models.data] == [server.model]
    assert [r.path for r in server.requests] == ["/v1/chat/completions", "/v1/models"]
