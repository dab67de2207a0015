"""packaging/linux: the menu entry, the systemd user unit and install.sh are valid and agree
with the app (its window class, its commands, its exit codes)."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mirix_desktop.app import autostart
from mirix_desktop.cli.main import load_command
from mirix_desktop.errors import ConfigError, KeyUnavailable, WrongPassphrase
from tests.conftest import REPO

LINUX = REPO / "packaging" / "linux"
DESKTOP_FILE = LINUX / "mirix-desktop.desktop"
UNIT_FILE = LINUX / "mirix-desktop.service"
HAS_VALIDATE = shutil.which("desktop-file-validate") is not None


def read_ini(path: Path, *, strict: bool = True) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=strict)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser


def desktop_file_validate(path: Path) -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


@pytest.mark.skipif(not HAS_VALIDATE, reason="desktop-file-utils is not installed")
def test_the_menu_entry_passes_desktop_file_validate() -> None:
    desktop_file_validate(DESKTOP_FILE)


def test_the_menu_entry_starts_the_tray_app_under_its_window_class() -> None:
    entry = read_ini(DESKTOP_FILE)["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "MIRIX"
    assert entry["Exec"] == "mirix-desktop run"
    assert entry["Icon"] == "mirix-desktop"
    assert entry["Categories"].endswith(";")
    # Docks match windows to the entry by WM_CLASS (X11) or app id (Wayland): the
    # Qt app's application and desktop-file names (checked with xprop under Xvfb:
    # WM_CLASS "mirix-desktop", "mirix-desktop").
    assert entry["StartupWMClass"] == autostart.WM_CLASS == DESKTOP_FILE.stem
    app_source = (REPO / "mirix_desktop" / "ui" / "app.py").read_text(encoding="utf-8")
    assert f'setApplicationName("{DESKTOP_FILE.stem}")' in app_source
    assert f'setDesktopFileName("{DESKTOP_FILE.stem}")' in app_source


def test_the_menu_entry_and_the_autostart_entry_agree() -> None:
    menu = read_ini(DESKTOP_FILE)["Desktop Entry"]
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(autostart.desktop_entry(["/opt/mirix-desktop"], "mirix-desktop"))
    started = parser["Desktop Entry"]
    for key in ("Name", "GenericName", "Comment", "Categories", "StartupWMClass", "Terminal"):
        assert started[key] == menu[key], key
    assert started["Exec"] == "/opt/mirix-desktop run"


def test_the_systemd_unit_runs_the_headless_daemon() -> None:
    unit = read_ini(UNIT_FILE)
    assert unit.sections() == ["Unit", "Service", "Install"]
    service = unit["Service"]
    program, *arguments = shlex.split(service["ExecStart"])
    assert program.endswith("/mirix-desktop")
    assert arguments == ["run", "--no-ui"]
    run = load_command("run")
    assert {"--no-ui"} <= {opt for param in run.params for opt in getattr(param, "opts", [])}
    # The passphrase file is optional and private to the user.
    assert service["EnvironmentFile"].startswith("-%h/")
    assert service["Restart"] == "on-failure"
    # Restarting does not fix a bad config or a wrong or missing key.
    prevented = {int(code) for code in service["RestartPreventExitStatus"].split()}
    assert prevented == {ConfigError.exit_code, WrongPassphrase.exit_code, KeyUnavailable.exit_code}
    assert unit["Install"]["WantedBy"] == "graphical-session.target"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is missing")
def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart is executable: point it at one that is.
    program = tmp_path / "bin" / "mirix-desktop"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    text = UNIT_FILE.read_text(encoding="utf-8").replace(
        "ExecStart=%h/.local/bin/mirix-desktop", f"ExecStart={program}"
    )
    unit = tmp_path / "mirix-desktop.service"
    unit.write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "mirix-desktop.service" not in result.stderr, result.stderr


def test_install_sh_installs_the_entry_icons_and_unit_and_removes_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    program = tmp_path / "opt" / "mirix-desktop"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PYTHON": sys.executable,
        "QT_QPA_PLATFORM": "offscreen",
    }
    script = str(LINUX / "install.sh")
    subprocess.run(
        [script, "--bin", str(program), "--systemd"],
        env=env, check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    data = home / ".local" / "share"
    entry_path = data / "applications" / "mirix-desktop.desktop"
    entry = read_ini(entry_path)["Desktop Entry"]
    assert entry["Exec"] == f"{program} run"
    assert entry["TryExec"] == str(program)
    if HAS_VALIDATE:
        desktop_file_validate(entry_path)
    hicolor = data / "icons" / "hicolor"
    assert (hicolor / "scalable" / "apps" / "mirix-desktop.svg").read_bytes() == (
        REPO / "mirix_desktop" / "assets" / "icons" / "mirix.svg"
    ).read_bytes()
    for size in (16, 32, 48, 256):
        png = hicolor / f"{size}x{size}" / "apps" / "mirix-desktop.png"
        header = png.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(header[16:20], "big") == size  # IHDR width
    unit = read_ini(home / ".config" / "systemd" / "user" / "mirix-desktop.service")
    assert unit["Service"]["ExecStart"] == f"{program} run --no-ui"

    subprocess.run(
        [script, "--uninstall"], env=env, check=True, capture_output=True, text=True, timeout=60
    )
    left = [path for path in home.rglob("*mirix-desktop*") if path.is_file()]
    assert left == []
