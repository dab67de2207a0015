"""Commands load when they run: the tray app starts without the pipeline, OCR or the assistant."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from mirix_desktop.cli.main import COMMANDS, cli, load_command
from tests.conftest import REPO

# What the tray app's process must not import before it is used: the daemon is
# another process, and the chat window brings the assistant and models itself.
NOT_IN_THE_APP = (
    "scipy",
    "torch",
    "sentence_transformers",
    "model2vec",
    "tesserocr",
    "mirix_desktop.capture",
    "mirix_desktop.ocr",
    "mirix_desktop.llm",
    "mirix_desktop.assistant",
    "mirix_desktop.pipeline.daemon",
    "mirix_desktop.cli.capture_commands",
)


def _imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def _loaded(modules: set[str], name: str) -> bool:
    return any(module == name or module.startswith(name + ".") for module in modules)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_matches_each_command(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    # The summary `--help` lists is the one the command itself would give, at any width.
    stand_in = click.Command(name, help=COMMANDS[name][2])
    for limit in (20, 45, 60, 80, 200):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_help_lists_every_command_without_importing_them() -> None:
    code = (
        "from click.testing import CliRunner\n"
        "from mirix_desktop.cli.main import cli\n"
        "result = CliRunner().invoke(cli, ['--help'], terminal_width=80)\n"
        "assert result.exit_code == 0, result.output\n"
        "open(1, 'w', closefd=False).write(result.output)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"{code}import sys\nprint('\\n'.join(sys.modules))"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    help_text, modules = result.stdout.split("Commands:")[1], set(result.stdout.split())
    for name, (module, _, summary) in COMMANDS.items():
        assert f"  {name} " in help_text
        assert summary.split()[0] in help_text
        assert f"mirix_desktop.cli.{module}" not in modules


def test_the_tray_app_path_imports_no_pipeline_ocr_or_assistant() -> None:
    modules = _imported_after(
        "import mirix_desktop.cli.main, mirix_desktop.cli.run_command, mirix_desktop.ui.app\n"
        "import mirix_desktop.ui.tray, mirix_desktop.ui.status_window, mirix_desktop.ui.supervisor"
    )
    assert "mirix_desktop.cli.run_command" in modules
    loaded = [name for name in NOT_IN_THE_APP if _loaded(modules, name)]
    assert loaded == []


def test_a_command_runs_once_asked_for_and_unknown_names_still_fail() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--help"])
    assert result.exit_code == 0, result.output
    assert "--no-ui" in result.output
    result = runner.invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command 'no-such-command'" in result.output
