"""The single-instance socket: commands reach the app, one app per data dir, bad data dropped."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.ui.ipc import IpcServer, send_command, server_name


@pytest.fixture(autouse=True)
def _no_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sockets go into each test's data dir, not the session's shared runtime dir.
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def server(qtbot: QtBot, data_dir: Path) -> Iterator[IpcServer]:
    running = IpcServer(data_dir, read_timeout_ms=300)
    assert running.listen()
    yield running
    running.close()


class _InThread:
    """Runs a blocking client beside the Qt event loop that serves it."""

    def __init__(self, qtbot: QtBot, call: Callable[[], Any]) -> None:
        self._qtbot = qtbot
        self.result: Any = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        self.result = call()

    def wait(self) -> Any:
        self._qtbot.waitUntil(lambda: not self._thread.is_alive(), timeout=5000)
        return self.result


def _raw_exchange(name: str, payload: bytes) -> bytes:
    """Sends bytes as a foreign client would and returns all the server says before hanging up."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(5)
        client.connect(name)
        client.sendall(payload)
        received = b""
        while chunk := client.recv(4096):
            received += chunk
        return received


def test_a_command_reaches_the_running_app(qtbot: QtBot, server: IpcServer, data_dir: Path) -> None:
    with qtbot.waitSignal(server.command_received, timeout=5000) as received:
        client = _InThread(qtbot, lambda: send_command(data_dir, "show", {"window": "chat"}))
    assert received.args == ["show", {"window": "chat"}]
    assert client.wait() is True


def test_a_quit_is_confirmed_although_it_closes_the_server(
    qtbot: QtBot, server: IpcServer, data_dir: Path
) -> None:
    server.command_received.connect(lambda command, args: server.close())
    with qtbot.waitSignal(server.command_received, timeout=5000):
        client = _InThread(qtbot, lambda: send_command(data_dir, "quit"))
    assert client.wait() is True
    assert not Path(server.name).exists()


def test_without_an_app_a_command_is_not_delivered(data_dir: Path) -> None:
    assert send_command(data_dir, "show", {"window": "chat"}, timeout_ms=500) is False


def test_only_the_user_can_reach_the_socket(server: IpcServer, data_dir: Path) -> None:
    path = Path(server.name)
    assert path.parent == data_dir.resolve() / "run"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_a_private_runtime_dir_holds_the_socket(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert Path(server_name(tmp_path / "data")).parent == runtime
    # One that others may enter is not used.
    runtime.chmod(0o755)
    assert Path(server_name(tmp_path / "data")).parent == tmp_path / "data" / "run"


def test_a_second_app_for_the_same_data_dir_does_not_listen(
    qtbot: QtBot, server: IpcServer, data_dir: Path
) -> None:
    second = IpcServer(data_dir / ".." / "data")
    assert second.listen() is False
    # The first one still has its socket and gets the commands.
    with qtbot.waitSignal(server.command_received, timeout=5000):
        client = _InThread(qtbot, lambda: send_command(data_dir, "show", {"window": "chat"}))
    assert client.wait() is True
    second.close()


def test_another_data_dir_has_its_own_app(qtbot: QtBot, server: IpcServer, tmp_path: Path) -> None:
    other_dir = tmp_path / "other"
    assert server_name(other_dir) != server.name
    assert server_name(tmp_path / "other" / ".." / "other") == server_name(other_dir)
    other = IpcServer(other_dir)
    assert other.listen() is True
    try:
        with qtbot.waitSignal(other.command_received, timeout=5000) as received:
            client = _InThread(qtbot, lambda: send_command(other_dir, "quit"))
        assert received.args == ["quit", {}]
        assert client.wait() is True
    finally:
        other.close()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"show chat\n", id="not-json"),
        pytest.param(b"\xff\xfe\xfd\n", id="not-utf8"),
        pytest.param(b'["show"]\n', id="not-an-object"),
        pytest.param(b'{"v": 2, "command": "show", "args": {}}\n', id="newer-version"),
        pytest.param(b'{"v": true, "command": "show", "args": {}}\n', id="version-not-a-number"),
        pytest.param(b'{"command": "show", "args": {}}\n', id="no-version"),
        pytest.param(b'{"v": 1, "command": 3}\n', id="command-not-a-string"),
        pytest.param(b'{"v": 1, "command": "show", "args": []}\n', id="args-not-an-object"),
        pytest.param(b'{"v": 1, "command": "show"' + b" " * 70_000, id="too-long"),
        pytest.param(b'{"v": 1, "command": "sh', id="never-finished"),
    ],
)
@pytest.mark.expected_log("mirix.ui.ipc", "WARNING", r"a client sent no complete request")
@pytest.mark.expected_log("mirix.ui.ipc", "WARNING", r"ignoring a request longer than")
@pytest.mark.expected_log("mirix.ui.ipc", "WARNING", r"ignoring a request of protocol version")
@pytest.mark.expected_log("mirix.ui.ipc", "WARNING", r"ignoring a request that is not")
@pytest.mark.expected_log("mirix.ui.ipc", "WARNING", r"ignoring a request without a command")
def test_invalid_data_is_logged_and_dropped(
    qtbot: QtBot,
    server: IpcServer,
    data_dir: Path,
    payload: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    commands: list[tuple[str, dict[str, Any]]] = []
    server.command_received.connect(lambda command, args: commands.append((command, args)))
    with caplog.at_level(logging.WARNING, logger="mirix.ui.ipc"):
        client = _InThread(qtbot, lambda: _raw_exchange(server.name, payload))
        answer = client.wait()
    assert answer == b""  # hung up without an answer
    assert commands == []
    assert any("ignoring" in m or "no complete request" in m for m in caplog.messages)
    # The app carries on serving.
    with qtbot.waitSignal(server.command_received, timeout=5000):
        client = _InThread(qtbot, lambda: send_command(data_dir, "show", {"window": "chat"}))
    assert client.wait() is True


def test_a_stale_socket_of_a_crashed_app_is_taken_over(qtbot: QtBot, data_dir: Path) -> None:
    name = server_name(data_dir)
    Path(name).parent.mkdir(parents=True, mode=0o700)
    # What a killed app leaves: a socket file nobody listens on.
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(name)
    crashed.close()
    assert os.path.exists(name)
    assert send_command(data_dir, "show", {"window": "chat"}, timeout_ms=500) is False

    server = IpcServer(data_dir)
    assert server.listen() is True
    try:
        with qtbot.waitSignal(server.command_received, timeout=5000):
            client = _InThread(qtbot, lambda: send_command(data_dir, "show", {"window": "chat"}))
        assert client.wait() is True
    finally:
        server.close()
    assert not os.path.exists(name)  # closing removes it


_CONNECT_AS_OTHER = (
    "import socket, sys\n"
    "client = socket.socket(socket.AF_UNIX)\n"
    "try:\n"
    "    client.connect(sys.argv[1])\n"
    "except OSError as exc:\n"
    "    print(type(exc).__name__)\n"
    "else:\n"
    "    print('connected')\n"
)


# The other user runs the system's Python: this one may live in root's home.
_SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


@pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0 or _SYSTEM_PYTHON is None,
    reason="switching to another uid needs root, and a python3 that user can run",
)
def test_a_process_of_another_user_cannot_connect(qtbot: QtBot) -> None:
    # A data dir others may walk through (pytest's own temp dir is 0700, which
    # alone would keep them out): only the socket's directory and mode stop them.
    base = Path(tempfile.mkdtemp(prefix="mirix-ipc-"))
    base.chmod(0o711)
    running = IpcServer(base / "data")
    assert running.listen()
    name = Path(running.name)

    def connect_as_nobody() -> str:
        result = subprocess.run(
            [str(_SYSTEM_PYTHON), "-I", "-c", _CONNECT_AS_OTHER, str(name)],
            user=65534,
            group=65534,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return result.stdout.strip() or result.stderr.strip()

    try:
        assert connect_as_nobody() == "PermissionError"
        # The check can fail: opened up, the same socket lets that user in.
        name.parent.chmod(0o711)
        name.chmod(0o777)
        assert connect_as_nobody() == "connected"
    finally:
        running.close()
        shutil.rmtree(base)
