"""A `ChatModel` over any OpenAI-compatible chat-completions endpoint.

One provider covers Ollama, LM Studio, vLLM, the llama.cpp server and OpenAI
itself: only `base_url` differs. This module owns the translation of
everything that can go wrong on the wire (endpoint down, key refused, unknown
model, server error, broken or malformed stream, too slow) into `LlmError`s
that name the endpoint and say what to do; no exception of the SDK or of its
HTTP library escapes.

Time: an answer gets `options.timeout_s` from the request to its last chunk.
The SDK's retries are off (a retry would silently double the wait), every
socket operation has that timeout, and the deadline is checked between
chunks, so a server that trickles tokens is cut off. A server that goes
silent mid-answer is cut off by the read timeout, so the worst case is that
silence plus the time already spent.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import openai
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from mirix_desktop.errors import LlmAuthError, LlmError, LlmTimeout
from mirix_desktop.llm.base import ChatMessage, GenerationOptions, estimate_tokens

log = logging.getLogger("mirix.llm.openai")

DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
# Local servers ignore the key, but the SDK refuses to start without one.
_PLACEHOLDER_KEY = "no-key-needed"
# Hosts that cannot work without a key: fail before sending anything.
_KEYED_HOSTS = frozenset({"api.openai.com"})
# Connecting to a running server takes milliseconds; waiting long only delays
# the "is it running?" message.
_CONNECT_TIMEOUT_S = 10.0
_SERVER_TEXT_CHARS = 200
# How the resolver says a name does not resolve: Linux, macOS, Linux offline.
_DNS_FAILURE_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
)


class OpenAIChatModel:
    """Streams answers from an OpenAI-compatible server at `base_url` (its API root)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        context_tokens: int = 8192,
        *,
        api_key_env: str = DEFAULT_API_KEY_ENV,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LlmError(
                f"the model server address {base_url!r} is not an http:// or https:// URL "
                "(e.g. http://localhost:11434/v1)"
            )
        if not model:
            raise LlmError(
                f"no model name is configured for the server at {base_url} "
                "(set `model` in the [openai] section)"
            )
        self._base_url = base_url.rstrip("/")
        self._host = parts.hostname
        self._model = model
        self._api_key = api_key or None
        self._api_key_env = api_key_env
        self._context_tokens = context_tokens
        self._client = openai.OpenAI(
            base_url=self._base_url,
            api_key=self._api_key or _PLACEHOLDER_KEY,
            max_retries=0,
            timeout=_timeout(GenerationOptions().timeout_s),
        )

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    @property
    def context_tokens(self) -> int:
        return self._context_tokens

    @property
    def base_url(self) -> str:
        return self._base_url

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def close(self) -> None:
        self._client.close()

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        """Yields the answer's text chunks; raises LlmError (after any partial text)."""
        if self._api_key is None and self._host in _KEYED_HOSTS:
            raise LlmAuthError(
                f"{self._base_url} needs an API key and none is set. {self._how_to_set_key()}"
            )
        deadline = time.monotonic() + options.timeout_s
        payload: list[ChatCompletionMessageParam] = [
            _message_param(message) for message in messages
        ]
        try:
            response = self._client.chat.completions.create(
                model=self._model,
                messages=payload,
                max_tokens=options.max_tokens,
                temperature=options.temperature,
                stream=True,
                timeout=_timeout(options.timeout_s),
            )
        except openai.OpenAIError as exc:
            raise self._translate(exc, options) from exc
        with response:
            self._check_content_type(response)
            chunks = iter(response)
            received = finished = False
            while True:
                if time.monotonic() > deadline:
                    raise self._timed_out(options, partial=received)
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except openai.OpenAIError as exc:
                    raise self._translate(exc, options, answering=True, partial=received) from exc
                except ValueError as exc:
                    # The SDK hands out the json module's error for a chunk that is not JSON.
                    raise self._malformed(f"an event is not valid JSON ({exc})") from exc
                received = True
                text, done = self._read_chunk(chunk)
                finished = finished or done
                if text:
                    yield text
        if not received:
            raise self._malformed("it ended without a single chunk")
        if not finished:
            raise LlmError(
                f"the model server at {self._base_url} ended the stream before the answer "
                "was complete (no finish reason was sent)"
            )

    # -- reading the stream -----------------------------------------------

    def _check_content_type(self, stream: openai.Stream[ChatCompletionChunk]) -> None:
        # The SDK's event parser skips lines that are not events, so an HTML page
        # or a plain JSON answer would otherwise look like an empty answer.
        content_type = stream.response.headers.get("content-type", "")
        if content_type and "event-stream" not in content_type:
            try:
                sample = _shorten(stream.response.read().decode("utf-8", "replace"))
            except Exception:  # noqa: BLE001 - the body is only quoted in the message
                sample = ""
            raise self._malformed(
                f"expected text/event-stream but got {content_type.split(';')[0]}: {sample!r}"
            )

    def _read_chunk(self, chunk: ChatCompletionChunk) -> tuple[str, bool]:
        """The text of one chunk and whether it is the last; malformed chunks raise."""
        # The SDK builds chunks without validation, so fields may be missing or of any type.
        choices: Any = getattr(chunk, "choices", None)
        if not isinstance(choices, list):
            raise self._malformed(f"a chunk has no choices: {_describe(chunk)}")
        if not choices:
            # Some servers send a last chunk with only usage statistics.
            return "", False
        choice: Any = choices[0]
        delta: Any = getattr(choice, "delta", None)
        content: Any = getattr(delta, "content", None) if delta is not None else None
        if content is not None and not isinstance(content, str):
            raise self._malformed(f"a chunk's content is not text: {_describe(chunk)}")
        return content or "", getattr(choice, "finish_reason", None) is not None

    # -- errors -------------------------------------------------------------

    def _translate(
        self,
        exc: openai.OpenAIError,
        options: GenerationOptions,
        *,
        answering: bool = False,
        partial: bool = False,
    ) -> LlmError:
        """The LlmError for an SDK error; `answering`: raised while reading the answer's body."""
        url = self._base_url
        if isinstance(exc, openai.APITimeoutError):
            return self._timed_out(options, partial=partial)
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            problem = "needs an API key" if self._api_key is None else "refused the API key"
            return LlmAuthError(
                f"the model server at {url} {problem} ({_status(exc)}). {self._how_to_set_key()}"
            )
        if isinstance(exc, openai.NotFoundError):
            return LlmError(
                f"the model server at {url} has no model {self._model!r} "
                f"({_status(exc)}). Check the model name, and that the URL is "
                "the server's OpenAI API root (it usually ends in /v1)"
            )
        if isinstance(exc, openai.APIStatusError):
            verb = "failed" if exc.status_code >= 500 else "rejected the request"
            return LlmError(f"the model server at {url} {verb} with {_status(exc)}")
        if isinstance(exc, openai.APIConnectionError):
            if answering:
                return LlmError(
                    f"the connection to the model server at {url} broke during the answer: "
                    f"{_connection_reason(exc)}"
                )
            return LlmError(f"cannot reach the model server at {url}: {_connection_reason(exc)}")
        if isinstance(exc, openai.APIError):
            # An `{"error": ...}` event inside the stream.
            said = _server_text(exc) or _shorten(exc.message)
            return LlmError(f"the model server at {url} reported an error: {said}")
        return LlmError(f"the request to the model server at {url} failed: {exc}")

    def _timed_out(self, options: GenerationOptions, *, partial: bool) -> LlmTimeout:
        what = "did not finish its answer" if partial else "did not answer"
        return LlmTimeout(
            f"the model server at {self._base_url} {what} within the timeout of "
            f"{options.timeout_s:g} s"
        )

    def _malformed(self, detail: str) -> LlmError:
        return LlmError(f"the model server sent a malformed stream ({self._base_url}): {detail}")

    def _how_to_set_key(self) -> str:
        return (
            f"Store a key with `mirix-desktop llm set-key`, or set the environment variable "
            f"{self._api_key_env}."
        )


def _timeout(seconds: float) -> openai.Timeout:
    return openai.Timeout(seconds, connect=min(seconds, _CONNECT_TIMEOUT_S))


def _message_param(message: ChatMessage) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


def _shorten(text: str, limit: int = _SERVER_TEXT_CHARS) -> str:
    if text.lstrip().startswith("<"):
        # An HTML error page from a proxy: its words, not its markup.
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status(exc: openai.APIStatusError) -> str:
    said = _server_text(exc)
    return f"HTTP {exc.status_code}: {said}" if said else f"HTTP {exc.status_code}"


def _server_text(exc: openai.APIError) -> str:
    """What the server said ('' if nothing), without the SDK's 'Error code: ...' prefix."""
    body: Any = exc.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, str) and message:
            return _shorten(message)
        return _shorten(json.dumps(body))
    if isinstance(body, str):
        return _shorten(body)
    return ""


def _connection_reason(exc: BaseException) -> str:
    """Why a connection failed, in words, from the exception and its causes."""
    seen: BaseException | None = exc
    causes: list[BaseException] = []
    while seen is not None and len(causes) < 10:
        causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError) or "connection refused" in str(cause).lower():
            return "connection refused (is the server running, on that port?)"
        if isinstance(cause, socket.gaierror) or any(
            words in str(cause).lower() for words in _DNS_FAILURE_WORDS
        ):
            return "its host name cannot be resolved (check the URL, and the network)"
    # The SDK's own errors only say "Connection error."; the transport's say why.
    for cause in causes:
        if not isinstance(cause, openai.OpenAIError) and str(cause):
            return _shorten(str(cause))
    return str(exc) or type(exc).__name__


def _describe(chunk: object) -> str:
    dump = getattr(chunk, "model_dump_json", None)
    try:
        text = dump() if callable(dump) else repr(chunk)
    except Exception:  # noqa: BLE001 - only used to describe a chunk that is already bad
        text = repr(chunk)
    return _shorten(str(text), 120)
