"""`run` and `show chat` from a terminal: hand over to the running app, or say why not."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytestqt.qtbot import QtBot

from mirix_desktop.cli.main import cli
from mirix_desktop.cli.run_command import read_key_line
from mirix_desktop.errors import KeyUnavailable
from mirix_desktop.ui.ipc import IpcServer
from tests.conftest import REPO

# Before pytest-qt makes the QApplication (at the first test): no display is needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _sockets_in_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def test_a_second_run_and_show_chat_hand_over_to_the_running_app(
    qtbot: QtBot, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    server = IpcServer(data_dir)
    assert server.listen()
    received: list[tuple[str, dict[str, object]]] = []
    server.command_received.connect(lambda command, args: received.append((command, args)))
    environment = {k: v for k, v in os.environ.items() if k != "MIRIX_PASSPHRASE"}
    environment["PYTHONPATH"] = str(REPO)

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "mirix_desktop", "--data-dir", str(data_dir), *args],
            env=environment,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    try:
        second_run, show = start("run"), start("show", "chat")
        qtbot.waitUntil(lambda: None not in (second_run.poll(), show.poll()), timeout=60_000)
        run_out, run_err = second_run.communicate()
        show_out, show_err = show.communicate()
    finally:
        server.close()
    assert second_run.returncode == 0, run_err
    assert run_out == "mirix-desktop is already running; showed its chat window.\n"
    assert show.returncode == 0, show_err
    assert "chat window" in show_out
    assert received == [("show", {"window": "chat"})] * 2
    assert not (data_dir / "status.json").exists()  # no daemon was started


def test_show_chat_without_a_running_app_says_how_to_start_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "show", "chat"])
    assert result.exit_code == 1
    assert "not running" in result.output
    assert "mirix-desktop run" in result.output


def test_run_without_a_display_points_to_the_headless_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "run"])
    assert result.exit_code == 6, result.output
    assert "display" in result.output
    assert "mirix-desktop run --no-ui" in result.output


def test_run_with_an_unreachable_x_display_points_to_the_headless_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPLAY", ":97")  # no X server there
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "run"])
    assert result.exit_code == 6, result.output
    assert ":97" in result.output


def test_run_with_a_display_starts_the_tray_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Path | None] = []

    def run_app(data_dir: Path | None) -> int:
        started.append(data_dir)
        return 0

    monkeypatch.setitem(sys.modules, "mirix_desktop.ui.app", types.SimpleNamespace(run_app=run_app))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "run"])
    assert result.exit_code == 0, result.output
    assert started == [data_dir]


@pytest.mark.parametrize("line", [b"", b"\n", b"not hex\n", b"\xff\xfe\n"])
def test_a_supervised_daemon_without_a_key_line_is_refused(line: bytes) -> None:
    with pytest.raises(KeyUnavailable, match="stdin"):
        read_key_line(io.BytesIO(line))


def test_the_key_line_is_the_only_thing_read_from_stdin() -> None:
    stream = io.BytesIO(b"00ff10\nmore input\n")
    assert read_key_line(stream) == b"\x00\xff\x10"
    assert stream.read() == b"more input\n"
