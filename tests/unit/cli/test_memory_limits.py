"""`memory add` / `memory edit` with a text over a type's limit: a usage error, not a traceback."""

from pathlib import Path

from click.testing import CliRunner, Result

from mirix_desktop.cli.main import cli
from tests.conftest import PASSPHRASE

TOO_LONG = "x" * 2001


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), *args], env={"MIRIX_PASSPHRASE": PASSPHRASE}
    )


def assert_limit_error(result: Result) -> None:
    # A click usage error exits 2 through SystemExit; a crash leaves its exception here.
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert "--text" in result.output and "2000 characters" in result.output
    assert "Traceback" not in result.output


def test_a_core_memory_over_2000_characters_is_refused_clearly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert_limit_error(run(data_dir, "memory", "add", "--type", "core", "--text", TOO_LONG))
    listed = run(data_dir, "memory", "list", "--json")
    assert listed.exit_code == 0 and listed.output.strip() == "[]"
    # Exactly the limit is fine.
    fits = run(data_dir, "memory", "add", "--type", "core", "--text", "y" * 2000)
    assert fits.exit_code == 0, fits.output


def test_editing_a_core_memory_past_its_limit_is_refused_and_keeps_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    added = run(data_dir, "memory", "add", "--type", "core", "--text", "I prefer tea")
    assert added.exit_code == 0, added.output
    memory_id = added.output.strip()
    assert_limit_error(run(data_dir, "memory", "edit", memory_id, "--text", TOO_LONG))
    shown = run(data_dir, "memory", "show", memory_id)
    assert "value: I prefer tea" in shown.output
