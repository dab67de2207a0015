"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions API.

Tests point an OpenAI-compatible client (our `OpenAIChatModel`, or the `openai`
SDK itself) at `server.base_url` and script what the server does, instead of
patching the code under test. It serves:

* ``POST /v1/chat/completions`` — with ``"stream": true``, a chunked
  ``text/event-stream`` of ``data: {chunk}`` events in the real
  ``chat.completion.chunk`` format (a first chunk carrying the role, one chunk
  per piece of text, a last chunk with ``finish_reason`` "stop"), then
  ``data: [DONE]``; without it, one ``chat.completion`` JSON object.
* ``GET /v1/models`` — the one model the server pretends to host.

Every request is recorded (method, path, headers, parsed JSON body) in
`server.requests`, so a test can assert what was sent.

Usage::

    with FakeOpenAIServer() as server:
        server.reply("Hello there", chunk_chars=3, chunk_delay_s=0.1)
        ... client with base_url=server.base_url ...
        assert server.requests[-1].body["stream"] is True

Scripting (each call replaces the previous script; it applies to every
following chat request until changed):

* ``reply(text_or_function, chunk_chars=, first_byte_delay_s=, chunk_delay_s=,
  cut_after_chunks=)`` — answer with this text (or ``function(request) ->
  text``); wait before the first byte and between chunks; with
  ``cut_after_chunks=N`` close the connection after N text chunks, mid-body.
* ``fail(status, message, body=, content_type=)`` — answer with an HTTP error;
  by default an OpenAI-style ``{"error": {...}}`` JSON body.
* ``malformed(kind, after_chunks=)`` — a broken stream: ``"bad-json"`` (a
  ``data: {not json`` event), ``"no-choices"`` (a chunk without ``choices``),
  ``"error-event"`` (a ``data: {"error": ...}`` event, as some servers send
  when generation fails mid-stream), ``"no-finish"`` (a clean ``[DONE]`` but
  no chunk with a ``finish_reason``: a truncated answer) after N good text
  chunks; ``"empty"`` (an event stream with nothing but ``[DONE]``); or
  ``"html"`` (a 200 response whose body is an HTML page, like a captive
  portal or a proxy).

Delays wake up early when the server stops, so shutdown is quick even while a
test's client has given up on a slow answer.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

log = logging.getLogger("tests.fake_openai")

DEFAULT_MODEL = "fake-model"
DEFAULT_REPLY = "Hello from the fake model."

MalformedKind = Literal["bad-json", "no-choices", "error-event", "no-finish", "empty", "html"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    # Header names lower-cased.
    headers: dict[str, str]
    # The parsed JSON body; None when there was no body or it was not JSON.
    body: Any


Reply = str | Callable[[RecordedRequest], str]


@dataclass(frozen=True)
class _Script:
    reply: Reply = DEFAULT_REPLY
    chunk_chars: int = 4
    first_byte_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    cut_after_chunks: int | None = None
    status: int = 200
    error_body: bytes = b""
    error_content_type: str = "application/json"
    malformed: MalformedKind | None = None
    malformed_after_chunks: int = 0


@dataclass
class _State:
    model: str
    script: _Script = field(default_factory=_Script)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close (they wake up from delays when
    # `stopping` is set), so no thread outlives the test.
    daemon_threads = False
    block_on_close = True

    def __init__(self, state: _State) -> None:
        self.state = state
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, closed stream) is what many tests do
        # on purpose; anything else is a bug in this helper and is logged.
        log.exception("fake OpenAI server: error while handling %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake OpenAI server: " + format, *args)

    # -- request handling -------------------------------------------------

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/") == "/v1/models":
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {
                            "id": self.server.state.model,
                            "object": "model",
                            "created": 0,
                            "owned_by": "fake",
                        }
                    ],
                },
            )
        else:
            self._send_error_json(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = self._record(body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error_json(404, f"no route {self.path}", "not_found")
            return
        state = self.server.state
        with state.lock:
            script = state.script
        if not self._sleep(script.first_byte_delay_s):
            return
        if script.status != 200:
            self._send_bytes(script.status, script.error_body, script.error_content_type)
            return
        if script.malformed == "html":
            page = b"<!DOCTYPE html><html><body><h1>Welcome to the proxy</h1></body></html>"
            self._send_bytes(200, page, "text/html; charset=utf-8")
            return
        text = script.reply(request) if callable(script.reply) else script.reply
        model = body.get("model", state.model) if isinstance(body, dict) else state.model
        with contextlib.suppress(ConnectionError):
            if isinstance(body, dict) and body.get("stream"):
                self._stream(script, text, model)
            else:
                self._send_json(200, _completion(text, model))

    def _stream(self, script: _Script, text: str, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        created = int(time.time())
        if script.malformed == "empty":
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")
            return
        self._event(_chunk(model, created, {"role": "assistant", "content": ""}))
        pieces = [text[i : i + script.chunk_chars] for i in range(0, len(text), script.chunk_chars)]
        for index, piece in enumerate(pieces):
            if script.cut_after_chunks is not None and index == script.cut_after_chunks:
                self._cut()
                return
            if script.malformed is not None and index == script.malformed_after_chunks:
                self._send_malformed(script.malformed, model, created)
                return
            if index and not self._sleep(script.chunk_delay_s):
                return
            self._event(_chunk(model, created, {"content": piece}))
        if script.malformed is not None and script.malformed_after_chunks >= len(pieces):
            self._send_malformed(script.malformed, model, created)
            return
        if script.cut_after_chunks is not None and script.cut_after_chunks >= len(pieces):
            self._cut()
            return
        self._event(_chunk(model, created, {}, finish_reason="stop"))
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    def _send_malformed(self, kind: MalformedKind, model: str, created: int) -> None:
        if kind == "bad-json":
            self._write_chunk(b"data: {not json\n\n")
        elif kind == "no-choices":
            chunk = _chunk(model, created, {"content": "x"})
            del chunk["choices"]
            self._event(chunk)
        elif kind == "error-event":
            self._event({"error": {"message": "generation failed: out of memory", "code": 500}})
        # "no-finish": nothing more than the end marker.
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    # -- low-level writing ------------------------------------------------

    def _record(self, body: Any) -> RecordedRequest:
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        with self.server.state.lock:
            self.server.state.requests.append(request)
        return request

    def _sleep(self, seconds: float) -> bool:
        """Waits; False if the server is stopping meanwhile."""
        return not (seconds > 0 and self.server.state.stopping.wait(seconds))

    def _event(self, payload: dict[str, Any]) -> None:
        self._write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        # HTTP/1.1 chunked framing, as real servers stream; an empty chunk ends the body.
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        # Close mid-body: the client sees the chunked body end without its terminator.
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json")

    def _send_error_json(self, status: int, message: str, code: str) -> None:
        self._send_json(status, _error_payload(message, code))

    def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        with contextlib.suppress(ConnectionError):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        self.close_connection = True


def _error_payload(message: str, code: str | None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }


def _chunk(
    model: str, created: int, delta: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": max(1, len(text) // 4),
            "total_tokens": 1 + max(1, len(text) // 4),
        },
    }


class FakeOpenAIServer:
    """An OpenAI-compatible server on a random loopback port; see the module docstring."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self._state = _State(model=model)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifetime ---------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        if self._server is not None:
            return self
        self._state.stopping.clear()
        self._server = _Server(self._state)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- where and what ---------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake OpenAI server is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The API root to give a client, e.g. http://127.0.0.1:41234/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        return self._state.model

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    # -- scripting --------------------------------------------------------

    def reply(
        self,
        text: Reply = DEFAULT_REPLY,
        *,
        chunk_chars: int = 4,
        first_byte_delay_s: float = 0.0,
        chunk_delay_s: float = 0.0,
        cut_after_chunks: int | None = None,
    ) -> None:
        """Answers with `text` (or `text(request)`), streamed `chunk_chars` at a time."""
        if chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        self._set(
            _Script(
                reply=text,
                chunk_chars=chunk_chars,
                first_byte_delay_s=first_byte_delay_s,
                chunk_delay_s=chunk_delay_s,
                cut_after_chunks=cut_after_chunks,
            )
        )

    def fail(
        self,
        status: int,
        message: str = "",
        *,
        code: str | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
        first_byte_delay_s: float = 0.0,
    ) -> None:
        """Answers chat requests with HTTP `status` and an OpenAI-style error body."""
        if body is None:
            body = json.dumps(_error_payload(message or f"error {status}", code)).encode()
        self._set(
            _Script(
                status=status,
                error_body=body,
                error_content_type=content_type,
                first_byte_delay_s=first_byte_delay_s,
            )
        )

    def malformed(
        self, kind: MalformedKind, *, after_chunks: int = 0, reply: Reply = DEFAULT_REPLY
    ) -> None:
        """Streams `after_chunks` good chunks of `reply`, then breaks the stream as `kind`."""
        self._set(_Script(reply=reply, malformed=kind, malformed_after_chunks=after_chunks))

    def _set(self, script: _Script) -> None:
        with self._state.lock:
            self._state.script = script
