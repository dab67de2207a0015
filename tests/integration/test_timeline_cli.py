"""`mirix-desktop timeline`: a day's episodes, capture gaps and time per app, from the store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mirix_desktop.cli.main import cli
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers.timeline_data_day import CODE_TITLE, DAY, DOCS_TITLE, write_known_day

ENV = {"MIRIX_PASSPHRASE": PASSPHRASE}


def _run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "timeline", *args], env=ENV if env is None else env
    )
    return result.exit_code, result.output


def test_a_day_prints_its_episodes_gaps_and_time_per_app(
    store: MemoryStore, store_path: Path
) -> None:
    write_known_day(store)
    code, out = _run(store_path.parent, "--date", DAY.isoformat())
    assert code == 0, out
    assert "1050 frames, 4 episodes" in out
    assert f"09:00-09:15  code  {CODE_TITLE}" in out
    assert f"09:15-09:27  firefox  {DOCS_TITLE}" in out
    assert "09:27-09:37  paused" in out and "09:40-10:00  no capture" in out
    per_app = out.split("Time per app")[1].split()
    assert per_app == ["code", "20", "min", "firefox", "15", "min"]


def test_json_has_the_day_and_an_app_filter(store: MemoryStore, store_path: Path) -> None:
    write_known_day(store)
    code, out = _run(store_path.parent, "--date", DAY.isoformat(), "--app", "firefox", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["date"] == DAY.isoformat() and data["app"] == "firefox"
    assert [e["app"] for e in data["episodes"]] == ["firefox", "firefox"]
    assert data["frames"] == 450
    assert {"reason": "paused"}.items() <= data["gaps"][1].items()
    assert [a["app"] for a in data["apps"]] == ["code", "firefox"]
    assert data["apps"][0]["seconds"] == 1200.0


def test_a_day_with_no_frames_says_so_and_succeeds(store: MemoryStore, store_path: Path) -> None:
    write_known_day(store)
    code, out = _run(store_path.parent, "--date", "2026-03-11")
    assert code == 0
    assert out.strip() == "No frames were captured on Wednesday 2026-03-11."


def test_a_bad_date_is_a_clear_error_before_any_passphrase(tmp_path: Path) -> None:
    # No passphrase at all: the date is refused first, the store never opened.
    code, out = _run(tmp_path / "data", "--date", "2026-13-45", env={})
    assert code == 2
    assert "Invalid value for --date" in out and "2026-13-45" in out
    assert not (tmp_path / "data" / "mirix.db").exists()
