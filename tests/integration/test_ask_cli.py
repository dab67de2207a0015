"""`ask`, `chats`, `memory edit` and `doctor` as a user types them (no model configured)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mirix_desktop.cli.main import cli
from tests.conftest import PASSPHRASE


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), *args], env={"MIRIX_PASSPHRASE": PASSPHRASE}, input=stdin
    )


def add(data_dir: Path, *args: str) -> int:
    result = run(data_dir, "memory", "add", *args)
    assert result.exit_code == 0, result.output
    return int(result.output.strip())


def test_ask_streams_an_answer_with_sources(data_dir: Path) -> None:
    budget = add(
        data_dir,
        *("--type", "resource", "--app", "firefox", "--title", "Q3 budget"),
        *("--text", "The marketing budget for Q3 is 12,400 EUR.", "--at", "2026-11-20T14:02"),
    )
    result = run(data_dir, "ask", "what", "is", "the", "Q3", "marketing", "budget?")
    assert result.exit_code == 0, result.output
    assert "12,400 EUR" in result.output
    assert f"[1] memory {budget} · 2026-11-20 14:02 · resource · firefox · Q3 budget" in (
        result.output
    )


def test_ask_json_and_conversations(data_dir: Path) -> None:
    add(data_dir, "--type", "episodic", "--text", "Renewed the TLS certificate for api.example")
    result = run(data_dir, "ask", "--json", "when did I renew the TLS certificate?")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["status"] == "complete"
    assert payload["model"] == "extractive"
    assert payload["citations"][0]["type"] == "episodic"
    conversation = payload["conversation_id"]

    follow = run(data_dir, "ask", "--continue", "--json", "for which host?")
    assert json.loads(follow.output)["conversation_id"] == conversation

    listed = run(data_dir, "chats", "list")
    assert f"[{conversation}]" in listed.output and "4 messages" in listed.output
    shown = run(data_dir, "chats", "show", str(conversation))
    assert "when did I renew the TLS certificate?" in shown.output
    assert run(data_dir, "chats", "show", "99").exit_code != 0


def test_remember_then_list_edit_delete(data_dir: Path) -> None:
    told = run(data_dir, "ask", "--json", "remember that my manager is Dana")
    memory_id = json.loads(told.output)["remembered"]["memory_id"]
    listed = run(data_dir, "memory", "list", "--type", "core")
    assert "my manager is Dana" in listed.output

    edited = run(data_dir, "memory", "edit", str(memory_id), "--text", "my manager is Priya")
    assert edited.exit_code == 0, edited.output
    shown = json.loads(run(data_dir, "memory", "show", str(memory_id), "--json").output)
    assert shown["text"] == "my manager is Priya"
    assert shown["type"] == "core"
    searched = run(data_dir, "search", "manager Priya")
    assert f"[{memory_id}]" in searched.output

    too_long = run(data_dir, "memory", "edit", str(memory_id), "--text", "x" * 3000)
    assert too_long.exit_code == 2
    assert "limit" in too_long.output
    no_tty = run(data_dir, "memory", "edit", str(memory_id))
    assert no_tty.exit_code == 2 and "--text" in no_tty.output

    assert run(data_dir, "memory", "delete", str(memory_id)).exit_code == 0
    assert "my manager" not in run(data_dir, "memory", "list", "--type", "core").output


def test_model_flags_without_a_model_are_explained(data_dir: Path) -> None:
    local = run(data_dir, "ask", "--provider", "local", "anything?")
    assert local.exit_code == 2
    assert "models pull" in local.output
    remote = run(data_dir, "ask", "--provider", "openai", "anything?")
    assert remote.exit_code == 2
    assert "openai.model" in remote.output


def model_line(result: Result) -> str:
    """doctor's model check (no display here: the display check fails, tests/integration/
    test_doctor_cli.py runs doctor on Xvfb)."""
    return next(line for line in result.output.splitlines() if " model " in line)


def test_doctor_without_a_model(data_dir: Path) -> None:
    result = run(data_dir, "doctor")
    assert model_line(result).startswith("ok   model")
    assert "provider extractive" in result.output


def test_doctor_reports_a_remote_model_that_answers_and_one_that_is_down(data_dir: Path) -> None:
    from tests.helpers.fake_openai import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        server.reply("OK")
        result = run(data_dir, "doctor", "--base-url", server.base_url, "--model", server.model)
        assert model_line(result).startswith("ok   model"), result.output
        assert f"openai:{server.model} answered" in result.output
        assert server.chat_requests[-1].body["max_tokens"] == 8
        url = server.base_url
    down = run(data_dir, "doctor", "--base-url", url, "--model", "m")
    assert down.exit_code == 1
    assert model_line(down).startswith("FAIL model") and "127.0.0.1" in down.output
