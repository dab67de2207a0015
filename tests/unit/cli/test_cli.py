"""The command line, as a user types it (click's runner, real store files)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mirix_desktop.cli.main import cli
from tests.conftest import PASSPHRASE


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(data_dir: Path, *args: str, passphrase: str | None = PASSPHRASE) -> Result:
    env = {"MIRIX_PASSPHRASE": passphrase} if passphrase else {}
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)


def add(data_dir: Path, *args: str) -> int:
    result = run(data_dir, "memory", "add", *args)
    assert result.exit_code == 0, result.output
    return int(result.output.strip())


def test_add_search_show_delete(data_dir: Path) -> None:
    first = add(
        data_dir,
        "--type",
        "episodic",
        "--text",
        "Edited the Q3 budget table",
        "--app",
        "LibreOffice",
        "--title",
        "report.docx",
        "--at",
        "2026-11-20T10:00",
    )
    add(
        data_dir,
        "--type",
        "resource",
        "--text",
        "JIRA-4521 login page crashes on Safari",
        "--app",
        "Firefox",
    )

    result = run(data_dir, "search", "budget", "table", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    top = payload["results"][0]
    assert top["id"] == first and top["app"] == "LibreOffice" and top["title"] == "report.docx"
    assert top["type"] == "episodic" and top["time"].startswith("2026-11-20")
    assert set(top) == {"id", "type", "time", "end_time", "app", "title", "snippet", "score"}

    shown = run(data_dir, "memory", "show", str(first))
    assert "Q3 budget" in shown.output and "LibreOffice" in shown.output

    assert run(data_dir, "memory", "delete", str(first)).exit_code == 0
    listed = json.loads(run(data_dir, "memory", "list", "--json").output)
    assert [m["type"] for m in listed] == ["resource"]
    missing = run(data_dir, "memory", "show", str(first))
    assert missing.exit_code != 0 and f"No memory with id {first}" in missing.output


def test_search_filters_from_the_command_line(data_dir: Path) -> None:
    add(data_dir, "--type", "semantic", "--text", "Rust borrow checker rules", "--title", "Rust")
    add(
        data_dir,
        "--type",
        "episodic",
        "--text",
        "Fought the borrow checker",
        "--app",
        "VS Code",
        "--at",
        "2026-01-05T09:00",
    )
    only_semantic = json.loads(
        run(data_dir, "search", "borrow checker", "--type", "semantic", "--json").output
    )["results"]
    assert [r["type"] for r in only_semantic] == ["semantic"]
    by_app = json.loads(run(data_dir, "search", "borrow", "--app", "VS Code", "--json").output)
    assert [r["app"] for r in by_app["results"]] == ["VS Code"]
    in_january = json.loads(
        run(
            data_dir, "search", "borrow", "--since", "2026-01-01", "--until", "2026-01-31", "--json"
        ).output
    )["results"]
    assert [r["type"] for r in in_january] == ["episodic"]
    limited = json.loads(run(data_dir, "search", "borrow", "--limit", "1", "--json").output)
    assert len(limited["results"]) == 1


def test_human_output_and_empty_result(data_dir: Path) -> None:
    add(data_dir, "--type", "core", "--text", "My name is Ada", "--title", "human")
    text = run(data_dir, "search", "name").output
    assert "core" in text and "My name is Ada" in text
    assert "No memories match." in run(data_dir, "search", "zebra", "--type", "episodic").output


def test_vault_list_hides_the_secret_and_show_reveals_it(data_dir: Path) -> None:
    item = add(
        data_dir, "--type", "knowledge_vault", "--text", "pw-123-xyz", "--title", "NAS login"
    )
    assert "pw-123-xyz" not in run(data_dir, "memory", "list", "--json").output
    assert "pw-123-xyz" in run(data_dir, "memory", "show", str(item)).output


def test_wrong_passphrase_exit_code_and_message(data_dir: Path) -> None:
    add(data_dir, "--type", "core", "--text", "kept")
    result = run(data_dir, "memory", "list", passphrase="wrong")
    assert result.exit_code == 4
    assert "passphrase is wrong" in result.output and "mirix.db" in result.output


def test_no_passphrase_non_interactive_names_the_variable(data_dir: Path) -> None:
    result = run(data_dir, "memory", "list", passphrase=None)
    assert result.exit_code == 4
    assert "MIRIX_PASSPHRASE" in result.output
    assert not (data_dir / "mirix.db").exists()


def test_bad_arguments_are_usage_errors(data_dir: Path) -> None:
    bad_time = run(data_dir, "search", "x", "--since", "the day after never")
    assert bad_time.exit_code == 2 and "--since" in bad_time.output
    bad_type = run(data_dir, "memory", "add", "--type", "dream", "--text", "x")
    assert bad_type.exit_code == 2
    empty = run(data_dir, "memory", "add", "--type", "core", "--text", "  ")
    assert empty.exit_code == 2 and "empty" in empty.output
    vault = run(data_dir, "memory", "add", "--type", "knowledge_vault", "--text", "secret")
    assert vault.exit_code == 2 and "caption" in vault.output


def test_bad_config_file_is_reported(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "config.toml").write_text("[search]\nlimit = 3\n")
    result = run(data_dir, "memory", "list")
    assert result.exit_code == 2 and "search.limit" in result.output


def test_run_is_not_stopped_by_a_config_file_with_a_mistake(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "config.toml").write_text("[search]\nlimit = 3\n")
    # Any other command refuses the file and names the key (above); `run` goes on
    # with the rest of it: here it gets as far as its own argument check.
    result = run(data_dir, "run", "--supervised")
    assert result.exit_code == 2, result.output
    assert "--supervised goes with --no-ui" in result.output
    assert "search.limit" not in result.output
