"""The single-instance socket: one tray app per data dir, and how others reach it.

A second `mirix-desktop run` and `mirix-desktop show chat` talk to the running
app through a QLocalServer. Its name is a hash of the user and the resolved
data dir, so two data dirs (or two users) never meet. Only the user can reach
it: on Unix the socket lives in a 0700 directory (XDG_RUNTIME_DIR, else
`DATA_DIR/run`) and is itself 0700; on Windows the named pipe gets a DACL for
the user alone (QLocalServer.UserAccessOption).

The protocol is JSON lines with a version. A client sends one request,

    {"v": 1, "command": "show", "args": {"window": "chat"}}

and the server answers `{"v": 1, "ok": true}` as it hands the command to
the app, then hangs up. Anything else (not JSON, another version, the wrong
shapes, a line too long, silence past the timeout) is logged and the
connection dropped; the app never sees it.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import stat
import sys
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mirix_desktop.errors import IpcUnavailable
from mirix_desktop.ui.qt import QObject, QTimer, QtNetwork, Signal

log = logging.getLogger("mirix.ui.ipc")

PROTOCOL_VERSION = 1
# A request or answer is a few dozen bytes; this bounds what a bad client costs.
MAX_LINE_BYTES = 64 * 1024
READ_TIMEOUT_MS = 2000
# Is anybody listening? A live app accepts within microseconds.
PROBE_TIMEOUT_MS = 500
# Blocking waits are sliced: PySide6 keeps the GIL while it waits, and a slice
# lets other Python threads of this process (a server in tests) run between.
_WAIT_SLICE_MS = 50
# sun_path is 108 bytes on Linux, 104 on macOS; keep one for the terminating NUL.
_MAX_SOCKET_PATH = 103

QLocalServer = QtNetwork.QLocalServer
QLocalSocket = QtNetwork.QLocalSocket
_CONNECTED = QLocalSocket.LocalSocketState.ConnectedState


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a container)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def _is_private_dir(path: Path) -> bool:
    """A real directory of ours that nobody else may enter."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )


def _socket_dir(data_dir: Path) -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and _is_private_dir(Path(runtime)):
        return Path(runtime)
    return data_dir / "run"


def server_name(data_dir: Path) -> str:
    """The app's socket for `data_dir`: a full path on Unix, a pipe name on Windows.

    Computing it creates nothing; `IpcServer.listen` makes the directory.
    """
    resolved = Path(data_dir).expanduser().resolve()
    identity = f"{_user()}\n{resolved}".encode("utf-8", "surrogateescape")
    base = "mirix-" + hashlib.sha256(identity).hexdigest()[:16]
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return base
    path = _socket_dir(resolved) / f"{base}.sock"
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        # A deep data dir: a per-user directory in the temp dir, checked when used.
        path = Path(tempfile.gettempdir()) / f"mirix-desktop-{os.getuid()}" / f"{base}.sock"
    return str(path)


def _prepare_socket_dir(name: str) -> None:
    """Creates the socket's directory 0700; refuses one that others can enter."""
    if sys.platform == "win32":  # pragma: no cover - pipes have no directory
        return
    directory = Path(name).parent
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = directory.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            # mkdir's mode is masked by the umask, and an old directory may be wider.
            os.chmod(directory, 0o700)
    except OSError as exc:
        raise IpcUnavailable(f"cannot create {directory} for the app's socket: {exc}") from exc
    if not _is_private_dir(directory):
        raise IpcUnavailable(
            f"{directory} is not a private directory of this user: the app's socket "
            "cannot be made there"
        )


def _answers(name: str, timeout_ms: int = PROBE_TIMEOUT_MS) -> bool:
    """Whether an app listens on `name` (a socket file alone proves nothing)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    connected = socket.waitForConnected(timeout_ms)
    socket.abort()
    return connected


def _encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")


def parse_request(line: bytes) -> tuple[str, dict[str, Any]] | None:
    """The (command, args) a request line holds; None (logged) for anything else."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        log.warning("ignoring a request that is not JSON (%d bytes)", len(line))
        return None
    if not isinstance(data, dict):
        log.warning("ignoring a request that is not a JSON object")
        return None
    version = data.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:
        log.warning(
            "ignoring a request of protocol version %r (this app speaks %d)",
            version,
            PROTOCOL_VERSION,
        )
        return None
    command, args = data.get("command"), data.get("args", {})
    if not isinstance(command, str) or not command or not isinstance(args, dict):
        log.warning("ignoring a request without a command name and an args object")
        return None
    return command, args


class _Client:
    """One connection: one request line within the timeout, one answer, then hang up."""

    def __init__(self, server: IpcServer, socket: QtNetwork.QLocalSocket, timeout_ms: int) -> None:
        # Weak: the socket's connections keep this object alive, and they must not
        # keep the server alive too (it would then be deleted from inside its child).
        self._server = weakref.ref(server)
        self.socket = socket
        self.buffer = bytearray()
        self.done = False
        self.timer = QTimer(socket)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._on_timeout)
        self.timer.start(timeout_ms)
        socket.readyRead.connect(self._on_ready_read)
        socket.disconnected.connect(self._on_disconnected)

    def _on_ready_read(self) -> None:
        if self.done:
            self.socket.readAll()  # after the answer: nothing more is read
            return
        self.buffer += bytes(self.socket.readAll().data())
        end = self.buffer.find(b"\n")
        if end < 0:
            if len(self.buffer) > MAX_LINE_BYTES:
                log.warning("ignoring a request longer than %d bytes", MAX_LINE_BYTES)
                self._drop()
            return
        request = parse_request(bytes(self.buffer[:end]))
        if request is None:
            self._drop()
            return
        server = self._server()
        if server is None:
            self._drop()
            return
        self.done = True
        self.timer.stop()
        command, args = request
        log.info("command from another process: %s %s", command, args)
        # Answered before it is handled: a handler may close the server (a "quit"),
        # and the few bytes are in the kernel's buffer by then.
        self.socket.write(_encode({"v": PROTOCOL_VERSION, "ok": True}))
        self.socket.flush()
        server.command_received.emit(command, args)
        if self.socket.state() == _CONNECTED:
            # Leaves once the answer is written; `disconnected` cleans up.
            self.socket.disconnectFromServer()

    def _on_timeout(self) -> None:
        log.warning("a client sent no complete request within %d ms", self.timer.interval())
        self._drop()

    def _drop(self) -> None:
        self.done = True
        self.timer.stop()
        self.socket.abort()

    def _on_disconnected(self) -> None:
        self.timer.stop()
        server = self._server()
        if server is not None:
            server._forget(self)


class IpcServer(QObject):
    """The running app's end of the socket: turns requests into `command_received`."""

    command_received = Signal(str, dict)  # ("show", {"window": "chat"}); ("quit", {})

    def __init__(
        self,
        data_dir: Path,
        parent: QObject | None = None,
        *,
        read_timeout_ms: int = READ_TIMEOUT_MS,
    ) -> None:
        super().__init__(parent)
        self.name = server_name(data_dir)
        self._read_timeout_ms = read_timeout_ms
        self._clients: list[_Client] = []
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_new_connection)

    def listen(self) -> bool:
        """Starts serving; False when another app already answers for this data dir.

        IpcUnavailable when the socket cannot be made at all (the app can run
        on without single-instance).
        """
        if self._server.isListening():
            return True
        _prepare_socket_dir(self.name)
        # With UserAccessOption, Qt's listen() replaces a live socket without
        # complaint (QTBUG-48635): asking first is what keeps one app per data dir.
        if _answers(self.name):
            log.info("another mirix-desktop app answers on %s", self.name)
            return False
        # Nothing answered: a socket file still there is a crashed app's.
        QLocalServer.removeServer(self.name)
        if not self._server.listen(self.name):
            raise IpcUnavailable(f"cannot listen on {self.name}: {self._server.errorString()}")
        log.debug("listening on %s", self._server.fullServerName())
        return True

    def close(self) -> None:
        """Stops listening (removing the socket file) and drops open connections."""
        self._server.close()
        for client in list(self._clients):
            client.socket.abort()
        self._clients.clear()

    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            client = _Client(self, socket, self._read_timeout_ms)
            self._clients.append(client)
            if socket.bytesAvailable():
                client._on_ready_read()

    def _forget(self, client: _Client) -> None:
        if client in self._clients:
            self._clients.remove(client)
        client.socket.deleteLater()


def _wait_until(
    socket: QtNetwork.QLocalSocket,
    wait: Callable[[int], bool],
    done: Callable[[], bool],
    deadline: float,
) -> bool:
    """Calls `wait(ms)` in slices until `done()`; False at the deadline or when the socket fails."""
    while not done():
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            return False
        # A slice that times out leaves the socket connected; a hang-up or an error does not.
        if not wait(min(left_ms, _WAIT_SLICE_MS)) and socket.state() != _CONNECTED:
            return done()
    return True


def send_command(
    data_dir: Path, command: str, args: dict[str, Any] | None = None, timeout_ms: int = 2000
) -> bool:
    """Hands `command` to the app running for `data_dir`; True once it confirmed.

    False when no app runs, or it does not answer within `timeout_ms` (the
    whole exchange). Blocking, and needs no QApplication or event loop: for
    the CLI.
    """
    name = server_name(data_dir)
    deadline = time.monotonic() + timeout_ms / 1000
    socket = QLocalSocket()
    try:
        socket.connectToServer(name)
        if not _wait_until(
            socket, socket.waitForConnected, lambda: socket.state() == _CONNECTED, deadline
        ):
            log.debug("no app answers on %s: %s", name, socket.errorString())
            return False
        socket.write(_encode({"v": PROTOCOL_VERSION, "command": command, "args": args or {}}))
        if not _wait_until(
            socket, socket.waitForBytesWritten, lambda: socket.bytesToWrite() == 0, deadline
        ):
            log.info("the app on %s did not take the command %r", name, command)
            return False
        answered = _wait_until(
            socket,
            socket.waitForReadyRead,
            lambda: socket.canReadLine() or socket.bytesAvailable() > MAX_LINE_BYTES,
            deadline,
        )
        line = bytes(socket.readLine(MAX_LINE_BYTES).data()) if answered else b""
    finally:
        socket.abort()
    try:
        answer = json.loads(line) if line.endswith(b"\n") else None
    except ValueError:
        answer = None
    if answer is None:
        log.info("the app on %s did not answer the command %r", name, command)
        return False
    if not isinstance(answer, dict) or answer.get("v") != PROTOCOL_VERSION:
        log.warning("the app on %s answered something this version cannot read", name)
        return False
    return answer.get("ok") is True
