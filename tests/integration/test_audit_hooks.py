"""What writes the audit log: export, import, vault reads (memory show, edit, export, the
assistant); `mirix-desktop audit` as a table and as JSON; details never hold content."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from mirix_desktop.app import audit
from mirix_desktop.assistant.assistant import Assistant
from mirix_desktop.cli import export_commands, memory_commands
from mirix_desktop.cli.main import cli
from mirix_desktop.config import Settings
from mirix_desktop.memory.records import EpisodicMemory, KnowledgeVaultItem
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE

ENV = {"MIRIX_PASSPHRASE": PASSPHRASE}
BODY_CANARY = "body-canary-91c2e"
TITLE_CANARY = "title-canary-5d0b"
SECRET = "vault-canary-44aa"


def _run(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=ENV, input=stdin)
    return result.exit_code, result.output


def _fill(store: MemoryStore) -> tuple[int, int]:
    at = datetime(2026, 11, 20, 9).astimezone()
    episode, vault = store.add_many(
        [
            EpisodicMemory(
                started_at=at,
                ended_at=at,
                title=TITLE_CANARY,
                summary=f"Read {BODY_CANARY} in the docs",
                app="firefox",
            ),
            KnowledgeVaultItem(caption="Bank PIN", secret_value=SECRET, created=at),
        ]
    )
    return episode, vault


def _audit_text(store: MemoryStore) -> str:
    """Every byte of the audit table, as text."""
    with store.read() as conn:
        rows = conn.execute("SELECT at, actor, action, details FROM audit_log").fetchall()
    return json.dumps(rows)


def test_export_records_filters_and_counts_never_content(
    store: MemoryStore, store_path: Path, tmp_path: Path
) -> None:
    _fill(store)
    out = tmp_path / "out.md"
    code, text = _run(
        store_path.parent, "export", "--format", "markdown", "--app", "firefox",
        "--since", "2026-11-01", "-o", str(out),
    )  # fmt: skip
    assert code == 0, text
    assert BODY_CANARY in out.read_text(encoding="utf-8")  # it did go out
    (entry,) = audit.entries(store)
    assert (entry.action, entry.actor) == ("export", "cli")
    assert entry.details["memories"] == 1
    assert entry.details["format"] == "markdown"
    assert entry.details["apps"] == ["firefox"]
    assert str(entry.details["since"]).startswith("2026-11-01")
    assert entry.details["file"] == str(out)
    assert entry.details["include_vault"] is False
    table = _audit_text(store)
    for content in (BODY_CANARY, TITLE_CANARY, SECRET, "Bank PIN"):
        assert content not in table


def test_import_records_counts_and_a_damaged_file_nothing(
    store: MemoryStore, store_path: Path, tmp_path: Path
) -> None:
    _fill(store)
    out = tmp_path / "out.jsonl"
    assert _run(store_path.parent, "export", "-o", str(out))[0] == 0
    assert _run(store_path.parent, "import", str(out))[0] == 0
    entry = audit.entries(store)[0]
    assert entry.action == "import"
    assert entry.details == {"added": 0, "skipped": 1, "file": str(out)}

    # A damaged file imports nothing, so nothing is recorded either.
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(out.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    code, _ = _run(store_path.parent, "import", str(damaged))
    assert code == 2
    assert [e.action for e in audit.entries(store)] == ["import", "export"]
    assert BODY_CANARY not in _audit_text(store)


def test_memory_show_of_a_vault_item_is_a_vault_read(store: MemoryStore, store_path: Path) -> None:
    episode, vault = _fill(store)
    code, text = _run(store_path.parent, "memory", "show", str(episode))
    assert code == 0 and BODY_CANARY in text
    assert audit.entries(store) == []  # not a vault item: nothing to record
    code, text = _run(store_path.parent, "memory", "show", str(vault))
    assert code == 0 and SECRET in text
    (entry,) = audit.entries(store)
    assert (entry.action, entry.actor, entry.details) == ("vault_read", "cli", {"memory_id": vault})
    assert SECRET not in _audit_text(store)


def test_memory_edit_of_a_vault_item_in_an_editor_is_a_vault_read(
    store: MemoryStore, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, vault = _fill(store)
    shown: list[str] = []

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(memory_commands, "sys", SimpleNamespace(stdin=Terminal()))
    monkeypatch.setattr(memory_commands.click, "edit", lambda text: shown.append(text))
    code, text = _run(store_path.parent, "memory", "edit", str(vault))
    assert code == 0 and "Nothing changed" in text
    assert shown == [SECRET]  # the editor was given the secret
    (entry,) = audit.entries(store)
    assert entry.action == "vault_read"
    assert entry.details == {"memory_id": vault, "via": "edit"}


def test_export_with_the_vault_is_a_vault_read(
    store: MemoryStore, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    monkeypatch.setattr(export_commands, "_interactive", lambda: True)
    out = tmp_path / "vault.jsonl"
    code, text = _run(
        store_path.parent, "export", "--include-vault", "-o", str(out), stdin=PASSPHRASE + "\n"
    )
    assert code == 0, text
    vault_read, export = audit.entries(store)
    assert vault_read.action == "vault_read"
    assert vault_read.details == {"via": "export", "items": 1}
    assert export.details["include_vault"] is True and export.details["vault_items"] == 1
    assert SECRET not in _audit_text(store)


def test_the_assistant_giving_a_named_vault_item_is_a_vault_read(store: MemoryStore) -> None:
    _, vault = _fill(store)
    assistant = Assistant(store, None, Settings(), actor="app")
    assistant.ask("what is my bank pin?")
    (entry,) = [e for e in audit.entries(store) if e.action == "vault_read"]
    assert entry.actor == "app"
    assert entry.details == {"memory_id": vault, "via": "assistant"}
    assistant.ask("what did I read in the docs?")  # names no vault item
    assert len([e for e in audit.entries(store) if e.action == "vault_read"]) == 1


def test_audit_command_prints_a_table_json_and_honours_since(
    store: MemoryStore, store_path: Path
) -> None:
    data_dir = store_path.parent
    code, text = _run(data_dir, "audit")
    assert code == 0 and text.strip() == "No audit entries yet."
    now = datetime.now().astimezone().timestamp()
    with store.transaction() as conn:
        audit.append_audit(conn, "export", {"memories": 3}, actor="cli", at=now - 3 * 86400)
    audit.record(store, "mcp_read", {"tool": "search_memory", "count": 2}, actor="mcp")

    code, text = _run(data_dir, "audit")
    assert code == 0, text
    header, newest, oldest = text.splitlines()
    assert header.split() == ["TIME", "ACTOR", "ACTION", "DETAILS"]
    assert newest.split()[2:] == ["mcp", "mcp_read", "tool:", "search_memory;", "count:", "2"]
    assert oldest.split()[2:] == ["cli", "export", "memories:", "3"]
    # The columns line up: each starts where its header does.
    assert newest.index("mcp_read") == header.index("ACTION") == oldest.index("export")

    code, text = _run(data_dir, "audit", "--since", "yesterday", "--json")
    assert code == 0, text
    (shown,) = json.loads(text)
    assert shown["action"] == "mcp_read" and shown["actor"] == "mcp"
    assert shown["details"] == {"tool": "search_memory", "count": 2}
    assert datetime.fromisoformat(shown["at"]).timestamp() == pytest.approx(now, abs=60)

    code, text = _run(data_dir, "audit", "--since", "not a time")
    assert code == 2 and "--since" in text
