"""XDG autostart: enable writes a valid entry running this install, disable removes it."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mirix_desktop.app import autostart
from mirix_desktop.assets import asset_path
from mirix_desktop.cli.main import cli


def parse_entry(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def exec_argv(exec_value: str) -> list[str]:
    """The argv a launcher runs for an Exec value, by the desktop entry spec's rules."""
    # The string escapes first ("\\" is one backslash), then the quoting.
    text = exec_value.replace("\\\\", "\\")
    argv: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == " ":
            index += 1
            continue
        if text[index] == '"':
            index += 1
            word = ""
            while text[index] != '"':
                if text[index] == "\\":
                    index += 1
                word += text[index]
                index += 1
            index += 1
        else:
            end = text.find(" ", index)
            end = len(text) if end == -1 else end
            word = text[index:end]
            assert not set(word) & set("\"'\\$`"), f"unquoted reserved character in {word!r}"
            index = end
        # A lone % starts a field code (%f, %u, ...): a literal one is doubled.
        assert re.fullmatch(r"(?:[^%]|%%)*", word), f"a lone % in {word!r}"
        argv.append(word.replace("%%", "%"))
    return argv


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_enable_writes_an_entry_that_runs_this_install(config_home: Path) -> None:
    change = autostart.enable()
    assert change.action == "created"
    assert change.path == config_home / "autostart" / "mirix-desktop.desktop"
    entry = parse_entry(change.path.read_text(encoding="utf-8"))
    assert entry["Type"] == "Application"
    assert entry["Name"] == "MIRIX"
    assert entry["StartupWMClass"] == "mirix-desktop"
    assert entry["Icon"] == str(asset_path("icons", "mirix.svg"))
    argv = exec_argv(entry["Exec"])
    assert argv[-1] == "run"
    # The test venv's console script, by its absolute path (a session's PATH lacks the venv).
    assert argv[:-1] == [str(Path(sys.executable).parent / "mirix-desktop")]
    assert Path(argv[0]).is_absolute()


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils")
def test_the_autostart_entry_passes_desktop_file_validate(config_home: Path) -> None:
    path = autostart.enable(Path('/data dir/with $pecial "chars" 100%')).path
    result = subprocess.run(
        ["desktop-file-validate", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_a_data_dir_is_passed_on_and_quoted(config_home: Path) -> None:
    data_dir = Path('/tmp/my data/"quoted" $HOME `x` back\\slash 100%')
    entry = parse_entry(autostart.enable(data_dir).path.read_text(encoding="utf-8"))
    argv = exec_argv(entry["Exec"])
    assert argv[1:] == ["--data-dir", str(data_dir), "run"]


def test_enabling_twice_changes_nothing_and_a_changed_entry_is_rewritten(
    config_home: Path,
) -> None:
    first = autostart.enable()
    text = first.path.read_text(encoding="utf-8")
    again = autostart.enable()
    assert again.action == "unchanged" and not again.changed
    assert again.path.read_text(encoding="utf-8") == text
    first.path.write_text("[Desktop Entry]\nExec=/old/mirix-desktop run\n", encoding="utf-8")
    assert autostart.enable().action == "updated"
    assert first.path.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in first.path.parent.iterdir()) == ["mirix-desktop.desktop"]


def test_disable_removes_the_entry_and_twice_is_fine(config_home: Path) -> None:
    path = autostart.enable().path
    assert autostart.is_enabled()
    change = autostart.disable()
    assert (change.action, change.path) == ("removed", path)
    assert not path.exists()
    assert not autostart.is_enabled()
    assert autostart.disable().action == "absent"


def test_xdg_config_home_wins_over_home_and_a_relative_one_is_ignored(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert autostart.autostart_dir(env) == tmp_path / "cfg" / "autostart"
    assert autostart.autostart_dir({"HOME": str(home)}) == home / ".config" / "autostart"
    # The XDG base dir spec: a relative path is invalid and is ignored.
    relative = {"HOME": str(home), "XDG_CONFIG_HOME": "relative/cfg"}
    assert autostart.autostart_dir(relative) == home / ".config" / "autostart"


def test_no_xdg_dirs_says_what_to_do() -> None:
    with pytest.raises(autostart.AutostartUnavailable, match="XDG_CONFIG_HOME") as raised:
        autostart.autostart_dir({"XDG_CONFIG_HOME": "", "HOME": ""})
    assert "startup applications" in raised.value.message
    assert raised.value.exit_code == 6


def test_an_unwritable_autostart_dir_is_a_known_error(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "autostart").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(autostart.AutostartUnavailable, match="Cannot write"):
        autostart.enable()


def test_the_frozen_app_starts_itself(
    config_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    program = tmp_path / "dist" / "mirix-desktop" / "mirix-desktop"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(program))
    entry = parse_entry(autostart.enable().path.read_text(encoding="utf-8"))
    assert exec_argv(entry["Exec"]) == [str(program), "run"]


def test_the_command_enables_and_disables_with_clear_messages(
    config_home: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"XDG_CONFIG_HOME": str(config_home), "MIRIX_DATA_DIR": str(tmp_path / "data")}
    path = config_home / "autostart" / "mirix-desktop.desktop"

    result = runner.invoke(cli, ["autostart", "enable"], env=env)
    assert result.exit_code == 0, result.output
    assert "Autostart enabled" in result.output and str(path) in result.output
    # The data dir the command ran with is the one the app opens at log-in.
    argv = exec_argv(parse_entry(path.read_text(encoding="utf-8"))["Exec"])
    assert argv[1:] == ["--data-dir", str(tmp_path / "data"), "run"]

    result = runner.invoke(cli, ["autostart", "enable"], env=env)
    assert "already enabled" in result.output
    result = runner.invoke(cli, ["autostart", "disable"], env=env)
    assert result.exit_code == 0 and "Autostart disabled" in result.output
    assert not path.exists()
    result = runner.invoke(cli, ["autostart", "disable"], env=env)
    assert result.exit_code == 0 and "was not enabled" in result.output


def test_the_command_without_xdg_dirs_fails_with_the_advice(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": "", "HOME": "", "MIRIX_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, ["autostart", "enable"], env=env)
    assert result.exit_code == 6
    assert "XDG_CONFIG_HOME" in result.output
