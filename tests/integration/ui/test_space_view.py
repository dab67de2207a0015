"""The Storage page's space panel over a real encrypted store with a few days of captures."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.retention import GB, run_retention
from mirix_desktop.app.space import size_words
from mirix_desktop.config import Settings, StorageSettings
from mirix_desktop.errors import StoreError
from mirix_desktop.memory import frames as frame_rows
from mirix_desktop.memory import retention as raw
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.ui.qt import Qt
from mirix_desktop.ui.space_view import SpaceView, when_words

DAYS = 3
PER_DAY = 30
THUMB = 8000


@dataclass
class StoreServices:
    paths: AppPaths
    settings: Settings
    opened: MemoryStore | None = None
    problem: Exception | None = None
    opens: list[int] = field(default_factory=list)

    def store(self) -> MemoryStore:
        self.opens.append(1)
        if self.problem is not None:
            raise self.problem
        assert self.opened is not None
        return self.opened


def fill(store: MemoryStore) -> None:
    """DAYS days of captures up to now, with thumbnails."""
    now = datetime.now().astimezone()
    for day in range(DAYS):
        start = now - timedelta(days=DAYS - 1 - day, hours=1)
        with store.transaction() as conn:
            for i in range(PER_DAY):
                frame_rows.insert_frame(
                    conn,
                    frame_rows.NewFrame(
                        captured_at=start + timedelta(seconds=10 * i),
                        monitor=0,
                        app="editor",
                        window_title=f"day {day}",
                        url=None,
                        image_hash=f"{day:08x}{i:08x}",
                        width=1920,
                        height=1080,
                        thumbnail=os.urandom(THUMB),
                        changed_share=0.1,
                    ),
                )


def used(store: MemoryStore) -> int:
    with store.read() as conn:
        return raw.store_space(conn).used_bytes


def storage(**values: object) -> Settings:
    return Settings(storage=StorageSettings.model_validate({"min_free_gb": 0, **values}))


def make_view(qtbot: QtBot, services: StoreServices) -> SpaceView:
    view = SpaceView(services)  # type: ignore[arg-type]
    qtbot.add_widget(view)
    view.show()
    qtbot.wait_until(lambda: view.report is not None and not view.busy, timeout=10_000)
    return view


@pytest.fixture
def filled(store: MemoryStore) -> MemoryStore:
    fill(store)
    return store


@pytest.fixture
def services(filled: MemoryStore, store_path: Path) -> StoreServices:
    paths = resolve_paths(store_path.parent)
    logs = paths.data_dir / "logs"
    logs.mkdir()
    (logs / "daemon.log").write_bytes(b"x" * 42_000)
    return StoreServices(paths, storage(), filled)


def test_shows_the_files_free_space_and_when_the_cap_is_reached(
    qtbot: QtBot, services: StoreServices, filled: MemoryStore
) -> None:
    # About nine more days at a third of the store a day; a round number of MB.
    cap_mb = math.ceil(used(filled) * 4 / 1e6)
    services.settings = storage(max_gb=cap_mb / 1000)
    view = make_view(qtbot, services)
    store_file = services.paths.store_file
    on_disk = sum(
        p.stat().st_size
        for p in (store_file, Path(f"{store_file}-wal"), Path(f"{store_file}-shm"))
        if p.exists()
    )
    report = view.report
    assert report is not None and report.disk.memories_bytes == on_disk
    assert report.forecast is not None
    assert view.memories_label.text() == (
        f"{size_words(report.forecast.bytes_used)} in use (the file and its write-ahead log "
        f"take {size_words(on_disk)} on the disk)"
    )
    assert view.logs_label.text() == "42 kB"
    assert re.fullmatch(r"\d+(\.\d)? [kMG]B", view.free_label.text())
    text = view.forecast_label.text()
    match = re.fullmatch(
        rf"About [\d.]+ [kM]B a day; at this rate the {cap_mb} MB cap is reached in about "
        r"(\d+) days\.",
        text,
    )
    assert match is not None, text
    assert 5 <= int(match[1]) <= 14, text
    assert view.last_run_label.text().startswith("Not run yet.")
    assert view.warning.kind is None


def test_the_forecast_follows_the_unsaved_cap(
    qtbot: QtBot, services: StoreServices, filled: MemoryStore
) -> None:
    view = make_view(qtbot, services)
    assert view.forecast_label.text().endswith("; no space cap is set.")
    with qtbot.wait_signal(view.refreshed, timeout=10_000):
        view.refresh(storage(max_gb=used(filled) / 2 / GB))
    assert view.forecast_label.text().startswith("The memories file has reached the ")
    # The Refresh button measures again with the same (form's) settings.
    with qtbot.wait_signal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton)
    assert view.forecast_label.text().startswith("The memories file has reached the ")


def test_the_last_clean_up_and_a_cap_too_small_are_shown(
    qtbot: QtBot, services: StoreServices, filled: MemoryStore
) -> None:
    tiny = storage(max_gb=1000 / GB)
    report = run_retention(filled, tiny)
    assert report.over_cap
    view = make_view(qtbot, services)
    text = view.last_run_label.text()
    when = when_words(report.at)
    # Retention's own words (app/retention.py), after when it ran.
    assert text == f"{when[0].upper()}{when[1:]}: {report.summary()}", text
    assert report.summary().startswith("Removed the oldest ")
    assert view.warning.kind == "error"
    assert view.warning.text() == report.warning()


def test_before_anything_is_recorded_the_store_is_not_created(qtbot: QtBot, tmp_path: Path) -> None:
    services = StoreServices(resolve_paths(tmp_path / "fresh"), storage())
    view = make_view(qtbot, services)
    assert services.opens == []
    assert not services.paths.store_file.exists()
    assert view.memories_label.text() == "0 kB"
    assert view.forecast_label.text() == "Nothing is recorded yet."


def test_a_store_that_cannot_open_still_shows_the_sizes(
    qtbot: QtBot, services: StoreServices
) -> None:
    services.problem = StoreError(services.paths.store_file, "it is locked by another program")
    view = make_view(qtbot, services)
    assert "it is locked by another program" in view.forecast_label.text()
    assert view.logs_label.text() == "42 kB"
    assert view.memories_label.text() != "…"


def test_when_words_reads_like_a_person() -> None:
    now = datetime(2026, 11, 20, 15, 0).astimezone()
    assert when_words(now.replace(hour=3, minute=12), now) == "today at 03:12"
    assert when_words(now - timedelta(days=1), now) == "yesterday at 15:00"
    assert when_words(now - timedelta(days=17), now) == "3 Nov 2026 at 15:00"
