"""`mirix-desktop doctor --json` on a passphrase store, on Xvfb: healthy, and broken piece by piece.

The healthy run is the baseline: on Xvfb with a tray host (trayer) nothing
fails and the exit code is 0. Each broken piece (an OCR language that is
not installed, a model server answering 500, no tray host, no display) then
turns its own check to fail or warn, and a failure alone makes the exit code 1.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mirix_desktop.app.doctor import check_display, check_hotkey, check_tray
from mirix_desktop.app.services import AppServices
from mirix_desktop.cli.main import cli
from mirix_desktop.ui.ipc import server_name
from tests.conftest import PASSPHRASE
from tests.helpers.fake_openai import FakeOpenAIServer
from tests.helpers.tray_host import trayer_host
from tests.helpers.xdisplay import XDisplay, xvfb_display

pytestmark = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("trayer") is None,
    reason="Xvfb and trayer are needed (apt install xvfb trayer)",
)


@pytest.fixture(scope="module")
def display() -> Iterator[XDisplay]:
    with xvfb_display(800, 600) as running:
        yield running


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A passphrase store holding one memory, made by the CLI."""
    where = tmp_path / "data"
    made = run(where, None, "memory", "add", "--type", "semantic", "--text", "doctor test")
    assert made.exit_code == 0, made.output
    return where


def desktop_env(display: XDisplay | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {"MIRIX_PASSPHRASE": PASSPHRASE, "WAYLAND_DISPLAY": None}
    if display is None:
        env.update(DISPLAY=None, XDG_SESSION_TYPE=None)
    else:
        env.update(DISPLAY=display.name, XDG_SESSION_TYPE="x11")
    return env


def run(data_dir: Path, display: XDisplay | None, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=desktop_env(display))


def doctor(data_dir: Path, display: XDisplay | None, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(data_dir, display, "doctor", "--json", *args)
    payload = json.loads(result.output)
    return result.exit_code, payload


def statuses(payload: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in payload["checks"]}


def by_name(payload: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in payload["checks"] if c["name"] == name)
    return found


def test_a_healthy_desktop_exits_0(data_dir: Path, display: XDisplay) -> None:
    with trayer_host(display):
        code, payload = doctor(data_dir, display)
    assert payload["healthy"] is True
    assert code == 0, payload
    assert statuses(payload) == {
        "config": "ok",
        "display": "ok",
        "tray": "ok",
        "hotkey": "ok",
        "keyring": "warn",  # none in the tests: like a headless machine
        "store": "ok",
        "ocr": "ok",
        "embedder": "ok",
        "model": "ok",
        "disk": "ok",
    }
    store = by_name(payload, "store")
    assert "key: passphrase" in store["detail"] and "integrity ok" in store["detail"]
    assert set(store) == {"name", "status", "detail", "fix"}


def test_an_ocr_language_not_installed_fails_with_exit_code_1(
    data_dir: Path, display: XDisplay
) -> None:
    config = data_dir / "config.toml"
    config.write_text('[ocr]\nlanguages = "eng+qqq"\n', encoding="utf-8")
    with trayer_host(display):
        code, payload = doctor(data_dir, display)
    assert [name for name, status in statuses(payload).items() if status == "fail"] == ["ocr"]
    ocr = by_name(payload, "ocr")
    assert "qqq" in ocr["detail"] and "ocr.languages" in ocr["fix"]
    assert payload["healthy"] is False
    assert code == 1


def test_a_model_server_answering_500_fails_with_exit_code_1(
    data_dir: Path, display: XDisplay
) -> None:
    with FakeOpenAIServer() as server, trayer_host(display):
        server.fail(500, "the GPU caught fire")
        url = server.base_url
        code, payload = doctor(data_dir, display, "--base-url", url, "--model", server.model)
        assert server.chat_requests, "the model was not asked"
    assert [name for name, status in statuses(payload).items() if status == "fail"] == ["model"]
    model = by_name(payload, "model")
    assert "500" in model["detail"] and url in model["fix"]
    assert code == 1


def test_without_a_tray_host_the_tray_check_warns(data_dir: Path, display: XDisplay) -> None:
    code, payload = doctor(data_dir, display)
    tray = by_name(payload, "tray")
    assert tray["status"] == "warn"
    assert "_NET_SYSTEM_TRAY_S" in tray["detail"] and "trayer" in tray["fix"]
    assert code == 0  # a warning is not a failure


def test_without_a_display_the_display_fails(data_dir: Path) -> None:
    code, payload = doctor(data_dir, None)
    assert by_name(payload, "display")["status"] == "fail"
    assert by_name(payload, "tray") == {
        "name": "tray",
        "status": "skip",
        "detail": "not checked: no display",
        "fix": None,
    }
    assert statuses(payload)["store"] == "ok"
    assert code == 1


def test_the_tray_selection_owner_is_found(display: XDisplay) -> None:
    assert check_tray(display.env).status == "warn"
    with trayer_host(display):
        check = check_tray(display.env)
    assert check.status == "ok", check
    assert check.detail.startswith("_NET_SYSTEM_TRAY_S0 is owned by")
    assert check_display(display.env).status == "ok"


def test_a_hotkey_another_program_holds_fails(tmp_path: Path, display: XDisplay) -> None:
    from Xlib import XK, X
    from Xlib import display as xlib_display

    services = AppServices.create(tmp_path / "data")
    assert check_hotkey(services, display.env).status == "ok"
    other = xlib_display.Display(display.name)
    try:
        root = other.screen().root
        keycode = other.keysym_to_keycode(XK.string_to_keysym("space"))
        # Ctrl+Alt (Mod1) + Space, as another program would hold it.
        root.grab_key(keycode, X.ControlMask | X.Mod1Mask, False, X.GrabModeAsync, X.GrabModeAsync)
        other.sync()
        check = check_hotkey(services, display.env)
        # With the app of this data dir answering on its socket, the holder is most
        # likely the app itself: not a failure.
        name = server_name(services.paths.data_dir)
        Path(name).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with socket.socket(socket.AF_UNIX) as app:
            app.bind(name)
            try:
                app.listen()
                while_running = check_hotkey(services, display.env)
            finally:
                Path(name).unlink()
    finally:
        other.close()
    assert check.status == "fail", check
    assert check.fix is not None and "ui.hotkey" in check.fix
    assert while_running.status == "skip", while_running
    assert "running MIRIX app" in while_running.detail
