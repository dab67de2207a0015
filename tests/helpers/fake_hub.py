"""A real HTTP server on 127.0.0.1 that answers like the Hugging Face Hub's file URLs.

Only `/{repo_id}/resolve/{revision}/{filename}` (HEAD and GET), which is all
`hf_hub_download` and `get_hf_file_metadata` ask for. Like the Hub for an LFS
file, the answer carries `X-Repo-Commit`, `X-Linked-Etag` (the file's sha256,
quoted), `X-Linked-Size` and `ETag`; errors carry `X-Error-Code`, which
huggingface_hub turns into its typed exceptions. GET honours `Range: bytes=N-`
so a resumed download can be tested.

Each file can be scripted: served corrupted (other bytes than its advertised
sha256, same length), missing (404), cut after some bytes (the connection
is dropped mid-body, a given number of times), announced with another size, or
held after some bytes until the test releases it.

    with FakeHub() as hub:
        hub.add("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "model.gguf", b"GGUF...")
        os.environ["HF_ENDPOINT"] = hub.url
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import unquote, urlsplit

_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<filename>.+)$")
_RANGE = re.compile(r"^bytes=(?P<start>\d+)-$")


@dataclass
class HubFile:
    data: bytes
    # Serve other bytes (same length) than the sha256 the headers advertise.
    corrupt: bool = False
    # Answer 404 EntryNotFound, as for a file that is not in the repository.
    missing: bool = False
    # Drop the connection once this many bytes of the file have been sent...
    drop_at: int | None = None
    # ...this many times (then serve normally).
    drops: int = 0
    # Claim another size in X-Linked-Size (e.g. more than the disk holds).
    advertised_size: int | None = None
    # Send this many bytes of the body, then wait for `release` (at most 10 s)
    # before the rest: a download that is surely under way, for a cancel.
    hold_at: int | None = None
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def body(self) -> bytes:
        if not self.corrupt:
            return self.data
        middle = len(self.data) // 2
        return (
            self.data[:middle]
            + bytes(b ^ 0xFF for b in self.data[middle : middle + 64])
            + (self.data[middle + 64 :])
        )


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    range: str | None


@dataclass
class _State:
    commit: str
    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeHub:
    """Start with `with FakeHub() as hub:`; `hub.url` is the HF_ENDPOINT to use."""

    def __init__(self, commit: str = "0123456789abcdef0123456789abcdef01234567") -> None:
        self._state = _State(commit=commit)
        handler = type("_BoundHandler", (_Handler,), {"state": self._state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll keeps shutdown() (once per test) quick.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-hub",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def commit(self) -> str:
        return self._state.commit

    def add(self, repo_id: str, filename: str, data: bytes) -> HubFile:
        hub_file = HubFile(data)
        with self._state.lock:
            self._state.files[(repo_id, filename)] = hub_file
        return hub_file

    @property
    def requests(self) -> list[Request]:
        with self._state.lock:
            return list(self._state.requests)

    def downloads(self, filename: str) -> int:
        """GET requests for `filename` (at any revision)."""
        return sum(
            1 for r in self.requests if r.method == "GET" and r.path.endswith("/" + filename)
        )

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    state: _State
    # HTTP/1.0: one request per connection, so a dropped connection is simple
    # and no keep-alive socket outlives the server.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, *, send_body: bool) -> None:
        path = urlsplit(self.path).path
        with self.state.lock:
            self.state.requests.append(Request(self.command, path, self.headers.get("Range")))
        match = _RESOLVE.match(path)
        if match is None:
            self._error(404, "EntryNotFound", "Not found", send_body)
            return
        repo_id, revision = unquote(match["repo"]), unquote(match["revision"])
        filename = unquote(match["filename"])
        with self.state.lock:
            hub_file = self.state.files.get((repo_id, filename))
            known_repo = any(repo == repo_id for repo, _ in self.state.files)
        if not known_repo:
            # The Hub answers 401 for a repository it does not show you.
            self._error(401, "RepoNotFound", "Repository not found", send_body)
        elif revision not in ("main", self.state.commit):
            self._error(404, "RevisionNotFound", "Invalid rev id", send_body)
        elif hub_file is None or hub_file.missing:
            self._error(404, "EntryNotFound", "Entry not found", send_body)
        else:
            self._serve(hub_file, send_body)

    def _serve(self, hub_file: HubFile, send_body: bool) -> None:
        body = hub_file.body()
        total = len(body)
        start = 0
        range_match = _RANGE.match(self.headers.get("Range", ""))
        if send_body and range_match is not None:
            start = min(int(range_match["start"]), total)
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", self.state.commit)
        self.send_header("X-Linked-Etag", f'"{hub_file.sha256}"')
        advertised = hub_file.advertised_size
        self.send_header(
            "X-Linked-Size", str(len(hub_file.data) if advertised is None else advertised)
        )
        self.send_header("ETag", f'"{hub_file.sha256}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(total - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
        self.end_headers()
        if not send_body:
            return
        with self.state.lock:
            drop = hub_file.drop_at is not None and hub_file.drops > 0
            if drop:
                hub_file.drops -= 1
        if drop:
            assert hub_file.drop_at is not None
            self.wfile.write(body[start : max(start, hub_file.drop_at)])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if hub_file.hold_at is not None and start < hub_file.hold_at < total:
            self.wfile.write(body[start : hub_file.hold_at])
            self.wfile.flush()
            hub_file.release.wait(10)
            start = hub_file.hold_at
        self.wfile.write(body[start:])

    def _error(self, status: int, code: str, message: str, send_body: bool) -> None:
        body = f'{{"error": "{message}"}}'.encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
