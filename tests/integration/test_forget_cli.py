"""`mirix-desktop forget`: dry run, confirmation, --yes, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mirix_desktop.cli import forget_command
from mirix_desktop.cli.main import cli
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers.forget_store import DAY1, DAY2, canary, seed_day

ENV = {"MIRIX_PASSPHRASE": PASSPHRASE}
DAY1_ARGS = ["--since", "2026-11-20", "--until", "2026-11-20 23:59"]


def _run(data_dir: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "forget", *args], env=ENV, input=stdin
    )
    return result.exit_code, result.output


@pytest.fixture
def two_days(store: MemoryStore, store_path: Path) -> Path:
    seed_day(store, DAY1, canary("a"))
    seed_day(store, DAY2, canary("b"))
    store.close()
    return store_path.parent


def _frames(data_dir: Path, embedder: StaticEmbedder) -> int:
    key = KeySource(passphrase=PASSPHRASE)
    with MemoryStore.open(data_dir / "mirix.db", key, embedder) as opened, opened.read() as conn:
        return int(conn.execute("SELECT count(*) FROM frames").fetchone()[0])


def test_dry_run_prints_the_counts_and_deletes_nothing(
    two_days: Path, embedder: StaticEmbedder
) -> None:
    code, out = _run(two_days, *DAY1_ARGS, "--dry-run")
    assert code == 0, out
    assert "Would forget from 2026-11-20 00:00 to 23:59" in out
    assert "30 frames (30 thumbnails), 90 OCR lines, 4 memories, 1 conversation" in out
    assert _frames(two_days, embedder) == 60


def test_yes_forgets_and_says_what_and_how_much_space(
    two_days: Path, embedder: StaticEmbedder
) -> None:
    code, out = _run(two_days, *DAY1_ARGS, "--yes")
    assert code == 0, out
    assert out.startswith("Forgot 30 frames (30 thumbnails), 90 OCR lines, 4 memories")
    assert "The store went from" in out
    assert _frames(two_days, embedder) == 30


def test_without_a_terminal_and_without_yes_it_refuses(
    two_days: Path, embedder: StaticEmbedder
) -> None:
    code, out = _run(two_days, "--app", "firefox")
    assert code == 2
    assert "asks for confirmation at a terminal" in out and "--yes" in out
    assert "Nothing was deleted" in out
    assert _frames(two_days, embedder) == 60


@pytest.mark.parametrize(("answer", "frames"), [("n\n", 60), ("y\n", 0)])
def test_at_a_terminal_it_asks_first(
    two_days: Path,
    embedder: StaticEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    frames: int,
) -> None:
    monkeypatch.setattr(forget_command, "_interactive", lambda: True)
    code, out = _run(two_days, "--app", "FIREFOX", stdin=answer)
    assert code == 0, out
    assert "This forgets the app 'FIREFOX': 60 frames" in out
    assert "It cannot be undone" in out
    assert _frames(two_days, embedder) == frames


def test_everything_names_what_goes(
    two_days: Path, embedder: StaticEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forget_command, "_interactive", lambda: True)
    code, out = _run(two_days, "--everything", stdin="y\n")
    assert code == 0, out
    assert "EVERYTHING in the store: 60 frames" in out
    assert "knowledge vault included" in out
    assert _frames(two_days, embedder) == 0


def test_no_filter_is_refused_before_the_store_opens(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "forget"], env={})
    assert result.exit_code == 2
    assert "Nothing to forget: give --since/--until" in result.output
    assert not (tmp_path / "mirix.db").exists()


def test_a_bad_time_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "forget", "--since", "someday soon"], env={}
    )
    assert result.exit_code == 2
    assert "--since" in result.output


def test_nothing_matching_is_said(two_days: Path) -> None:
    code, out = _run(two_days, "--title", "no such window", "--yes")
    assert code == 0
    assert "Nothing matches windows titled with 'no such window'" in out
