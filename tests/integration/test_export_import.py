"""`mirix-desktop export` / `import`: round trip, idempotence, damaged files, the vault, filters."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mirix_desktop.cli import export_commands
from mirix_desktop.cli.main import cli
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import (
    CoreMemory,
    EpisodicMemory,
    KnowledgeVaultItem,
    MemoryRecord,
    ResourceMemory,
)
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers.keyring_backend import MemoryKeyring

OTHER_PASSPHRASE = "another store, another passphrase"
ENV = {"MIRIX_PASSPHRASE": PASSPHRASE}
SECRET = "vault-canary-7f3a"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute).astimezone()


def _fill(store: MemoryStore) -> None:
    store.add_many(
        [
            EpisodicMemory(
                started_at=_at(19, 9),
                ended_at=_at(19, 9, 30),
                title="Fixing the parser",
                summary="Edited parser.py\n# not a heading",
                app="code",
                thread="parser.py",
            ),
            ResourceMemory(
                title="SQLCipher docs",
                url="https://www.zetetic.net/sqlcipher/",
                content="PRAGMA key and cipher settings",
                first_seen=_at(20, 14),
                last_seen=_at(20, 14, 5),
                app="firefox",
            ),
            CoreMemory(label="human", value="Prefers dark themes", created=_at(20, 16)),
            KnowledgeVaultItem(caption="Bank PIN", secret_value=SECRET, created=_at(20, 17)),
        ]
    )


def _run(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), *args], env=ENV if env is None else env, input=stdin
    )
    return result.exit_code, result.output


def _content(record: MemoryRecord) -> tuple[object, ...]:
    return (
        record.type, record.time, record.end_time, record.app, record.title, record.body,
        record.fields, record.thread,
    )  # fmt: skip


@pytest.fixture
def other_dir(tmp_path: Path, embedder: StaticEmbedder) -> Path:
    """A second store, with its own passphrase, empty."""
    data_dir = tmp_path / "other"
    MemoryStore.open(
        data_dir / "mirix.db", KeySource(passphrase=OTHER_PASSPHRASE), embedder
    ).close()
    return data_dir


def _open_other(other_dir: Path, embedder: StaticEmbedder) -> MemoryStore:
    return MemoryStore.open(
        other_dir / "mirix.db", KeySource(passphrase=OTHER_PASSPHRASE), embedder
    )


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_round_trip_gives_the_same_memories_and_a_second_import_adds_nothing(
    store: MemoryStore, store_path: Path, other_dir: Path, embedder: StaticEmbedder, tmp_path: Path
) -> None:
    _fill(store)
    out = tmp_path / "all.jsonl"
    code, text = _run(store_path.parent, "export", "-o", str(out))
    assert code == 0, text
    assert "Exported 3 memories" in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = _lines(out)
    assert [line["type"] for line in lines] == ["episodic", "resource", "core"]
    assert len({line["id"] for line in lines}) == 3

    other_env = {"MIRIX_PASSPHRASE": OTHER_PASSPHRASE}
    code, text = _run(other_dir, "import", str(out), env=other_env)
    assert code == 0, text
    assert "Imported 3 memories (0 already present)" in text
    code, text = _run(other_dir, "import", str(out), env=other_env)
    assert code == 0, text
    assert "Imported 0 memories (3 already present)" in text

    source = sorted(_content(r) for r in store.list(limit=100) if r.type.value != "knowledge_vault")
    with _open_other(other_dir, embedder) as other:
        copied = sorted(_content(r) for r in other.list(limit=100))
        assert other.count() == 3
        # The imported memories are searchable there, not only stored.
        assert other.vectors.count() == 3
    assert copied == source
    # Exported again from the copy, the ids are the same: they follow the content.
    again = tmp_path / "again.jsonl"
    assert _run(other_dir, "export", "-o", str(again), env=other_env)[0] == 0
    assert [line["id"] for line in _lines(again)] == [line["id"] for line in lines]


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 1, "type": "dream", "fields": {}}', "unknown memory type 'dream'"),
        ('{"version": 1, "type": "core", "fields": {"value": 5, "bogus": 1}}', "invalid core"),
        ('{"version": 9, "type": "core", "fields": {"value": "x"}}', "newer mirix-desktop"),
    ],
)
def test_a_damaged_line_names_its_number_and_imports_nothing(
    store: MemoryStore,
    store_path: Path,
    other_dir: Path,
    embedder: StaticEmbedder,
    tmp_path: Path,
    damage: str,
    problem: str,
) -> None:
    _fill(store)
    out = tmp_path / "all.jsonl"
    assert _run(store_path.parent, "export", "-o", str(out))[0] == 0
    good = out.read_text(encoding="utf-8").splitlines()
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("\n".join([good[0], good[1], damage, good[2]]) + "\n", encoding="utf-8")
    code, text = _run(damaged.parent.parent / "other", "import", str(damaged),
                      env={"MIRIX_PASSPHRASE": OTHER_PASSPHRASE})  # fmt: skip
    assert code == 2, text
    assert "line 3:" in text and problem in text and "Nothing was imported" in text
    with _open_other(other_dir, embedder) as other:
        assert other.count() == 0


def test_an_existing_file_is_refused_without_force(
    store: MemoryStore, store_path: Path, tmp_path: Path
) -> None:
    _fill(store)
    out = tmp_path / "notes.md"
    out.write_text("my own notes", encoding="utf-8")
    code, text = _run(store_path.parent, "export", "--format", "markdown", "-o", str(out))
    assert code == 2
    assert "already exists; use --force" in text
    assert out.read_text(encoding="utf-8") == "my own notes"
    code, text = _run(
        store_path.parent, "export", "--format", "markdown", "-o", str(out), "--force"
    )
    assert code == 0, text
    assert "Prefers dark themes" in out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_unwritable_place_is_a_clear_error(
    store: MemoryStore, store_path: Path, tmp_path: Path
) -> None:
    # A read-only directory does not stop root (the test may run as root);
    # a "directory" that is a file stops everyone, through the same path.
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("", encoding="utf-8")
    code, text = _run(store_path.parent, "export", "-o", str(not_a_dir / "x.jsonl"))
    assert code == 3
    assert f"Cannot write in {not_a_dir}: Not a directory." in text


def test_the_vault_needs_include_vault_and_the_passphrase_again(
    store: MemoryStore, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    data_dir = store_path.parent
    plain = tmp_path / "plain.jsonl"
    assert _run(data_dir, "export", "-o", str(plain))[0] == 0
    assert SECRET not in plain.read_text(encoding="utf-8")
    code, text = _run(data_dir, "export", "--type", "knowledge_vault", "-o", str(tmp_path / "v"))
    assert code == 2 and "--include-vault" in text

    vault = tmp_path / "vault.jsonl"
    # No terminal: MIRIX_PASSPHRASE alone does not let the vault out.
    code, text = _run(data_dir, "export", "--include-vault", "-o", str(vault), stdin=PASSPHRASE)
    assert code == 2 and "at a terminal" in text
    assert not vault.exists()

    monkeypatch.setattr(export_commands, "_interactive", lambda: True)
    code, text = _run(data_dir, "export", "--include-vault", "-o", str(vault), stdin="wrong one\n")
    assert code == 4 and "passphrase is wrong" in text
    assert not vault.exists()
    code, text = _run(
        data_dir, "export", "--include-vault", "-o", str(vault), stdin=PASSPHRASE + "\n"
    )
    assert code == 0, text
    assert SECRET not in text  # the typed passphrase and the secret are not echoed
    vault_lines = [line for line in _lines(vault) if line["type"] == "knowledge_vault"]
    assert [line["fields"]["secret_value"] for line in vault_lines] == [SECRET]  # type: ignore[index]


def test_a_keyring_store_asks_a_yes_or_no_for_the_vault(
    memory_keyring: MemoryKeyring, tmp_path: Path, embedder: StaticEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    data_dir = tmp_path / "kr"
    with MemoryStore.open(data_dir / "mirix.db", KeySource(), embedder) as kr_store:
        _fill(kr_store)
    monkeypatch.setattr(export_commands, "_interactive", lambda: True)
    out = tmp_path / "kr.jsonl"
    code, text = _run(data_dir, "export", "--include-vault", "-o", str(out), env={}, stdin="n\n")
    assert code == 2 and "already its owner" in text and not out.exists()
    code, text = _run(data_dir, "export", "--include-vault", "-o", str(out), env={}, stdin="y\n")
    assert code == 0, text
    assert SECRET in out.read_text(encoding="utf-8")


def test_markdown_has_one_section_per_day(
    store: MemoryStore, store_path: Path, tmp_path: Path
) -> None:
    _fill(store)
    out = tmp_path / "days.md"
    assert _run(store_path.parent, "export", "--format", "markdown", "-o", str(out))[0] == 0
    text = out.read_text(encoding="utf-8")
    days = [line for line in text.splitlines() if line.startswith("## ")]
    assert days == ["## 2026-11-19, Thursday", "## 2026-11-20, Friday"]
    thursday, friday = text.split("## 2026-11-20, Friday")
    assert "### 09:00–09:30 · episodic · code · Fixing the parser" in thursday
    assert "\\# not a heading" in thursday  # OCR text cannot make headings
    assert "SQLCipher docs" in friday and "Prefers dark themes" in friday
    assert SECRET not in text and "Bank PIN" not in text


@pytest.mark.parametrize(
    ("args", "types"),
    [
        (["--since", "2026-11-20"], ["resource", "core"]),
        (["--until", "2026-11-19"], ["episodic"]),
        (["--app", "firefox"], ["resource"]),
        (["--type", "core", "--type", "episodic"], ["episodic", "core"]),
    ],
)
def test_filters_choose_what_goes(
    store: MemoryStore, store_path: Path, tmp_path: Path, args: list[str], types: list[str]
) -> None:
    _fill(store)
    out = tmp_path / "some.jsonl"
    code, text = _run(store_path.parent, "export", *args, "-o", str(out))
    assert code == 0, text
    assert [line["type"] for line in _lines(out)] == types


def test_an_existing_file_is_refused_before_the_vault_prompt(
    store: MemoryStore, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exists.jsonl"
    out.write_text("keep", encoding="utf-8")
    monkeypatch.setattr(export_commands, "_interactive", lambda: True)
    code, text = _run(store_path.parent, "export", "--include-vault", "-o", str(out))
    assert code == 2 and "already exists" in text and "Passphrase" not in text


def test_a_file_that_appears_during_the_export_is_not_replaced(
    store: MemoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mirix_desktop.app import export

    _fill(store)
    out = tmp_path / "late.jsonl"
    out.write_text("written meanwhile", encoding="utf-8")
    # As if the file was created after the early check had passed.
    monkeypatch.setattr(export, "check_target", lambda target, *, force: None)
    with pytest.raises(export.ExportRefused, match="already exists"):
        export.export_memories(store, out, export.ExportFormat.JSONL, export.ExportFilter())
    assert out.read_text(encoding="utf-8") == "written meanwhile"


def test_a_failure_while_writing_leaves_the_target_unchanged(
    store: MemoryStore, store_path: Path, other_dir: Path, embedder: StaticEmbedder,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from mirix_desktop.app import export

    _fill(store)
    out = tmp_path / "all.jsonl"
    assert _run(store_path.parent, "export", "-o", str(out))[0] == 0
    with _open_other(other_dir, embedder) as other:

        def vectors_fail(*args: object) -> None:
            raise OSError("disk full")  # after the rows were inserted

        monkeypatch.setattr(other.vectors, "put", vectors_fail)
        with pytest.raises(OSError, match="disk full"):
            export.import_memories(other, out)
        assert other.count() == 0
