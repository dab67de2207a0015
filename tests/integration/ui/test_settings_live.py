"""The settings window against a running daemon: the file keeps its comments, the
interval and the exclusions apply live (issue 15: "the settings window writes a file
that keeps comments and applies the interval live")."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from mirix_desktop.app.services import AppServices
from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import NullProbe, WindowInfo
from mirix_desktop.config import load_settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.pipeline.daemon import Daemon
from mirix_desktop.ui.qt import Qt
from mirix_desktop.ui.settings_fields import NumberBox
from mirix_desktop.ui.settings_window import SettingsWindow
from tests.helpers.screens import pixels, screen, text_lines

CONFIG = """\
# Hand-written settings: this comment must survive.
[capture]
# one look a minute while I test
interval_s = 60.0  # seconds
idle_pause_s = 0

[privacy]
redact_emails = false
"""
ACTIVE = WindowInfo(
    app="libreoffice",
    title="Budget.ods - LibreOffice Calc",
    rect=Rect(0, 0, 1280, 800),
    active=True,
)


class _Desk(NullProbe):
    def windows(self) -> list[WindowInfo]:
        return [ACTIVE]


class _Screen:
    """A monitor whose picture changes on every grab; counts the grabs."""

    def __init__(self) -> None:
        self.grabs = 0
        self.lock = threading.Lock()

    def grab(self) -> list[MonitorShot]:
        with self.lock:
            self.grabs += 1
            number = self.grabs
        image = pixels(screen(text_lines(2), footer=f"grab number {number}"))
        return [MonitorShot(1, Rect(0, 0, 1280, 800), image)]

    def close(self) -> None:
        pass


def _paths(tmp_path: Path) -> AppPaths:
    paths = resolve_paths(tmp_path / "data")
    paths.ensure()
    paths.config_file.write_text(CONFIG)
    return paths


def _daemon(paths: AppPaths, store: MemoryStore, monitor: _Screen) -> Daemon:
    settings = load_settings(paths.config_file, environ={})
    return Daemon(paths, settings, store, probe_factory=_Desk, grabber_factory=lambda: monitor)  # type: ignore[arg-type,return-value]


def _window(qtbot: QtBot, paths: AppPaths) -> SettingsWindow:
    services = AppServices(paths, load_settings(paths.config_file, environ={}))
    window = SettingsWindow(services, windows=lambda: [ACTIVE], extras=False)
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_window_writes_a_file_keeping_comments_and_the_interval_applies_live(
    qtbot: QtBot, tmp_path: Path, store: MemoryStore
) -> None:
    paths = _paths(tmp_path)
    monitor = _Screen()
    daemon = _daemon(paths, store, monitor)
    daemon.start()
    try:
        qtbot.waitUntil(lambda: monitor.grabs >= 1, timeout=10_000)
        time.sleep(1.5)
        assert monitor.grabs == 1  # one look a minute: no second one yet

        window = _window(qtbot, paths)
        box = window.field("capture.interval_s").editor
        assert isinstance(box, NumberBox)
        box.setValue(0.25)
        qtbot.mouseClick(window.apply_button, Qt.MouseButton.LeftButton)
        applied = time.monotonic()

        text = paths.config_file.read_text()
        assert text.startswith("# Hand-written settings: this comment must survive.\n")
        assert "# one look a minute while I test\ninterval_s = 0.25  # seconds\n" in text
        # The daemon, 60 s from its next look, takes the new interval within seconds.
        qtbot.waitUntil(lambda: monitor.grabs >= 5, timeout=15_000)
        assert time.monotonic() - applied < 15
        assert daemon.settings.capture.interval_s == 0.25
    finally:
        daemon.stop()


def test_an_exclusion_added_in_the_window_stops_capture_of_that_window_at_once(
    qtbot: QtBot, tmp_path: Path, store: MemoryStore
) -> None:
    paths = _paths(tmp_path)
    paths.config_file.write_text(CONFIG.replace("interval_s = 60.0", "interval_s = 0.5"))
    monitor = _Screen()
    daemon = _daemon(paths, store, monitor)
    daemon.start()
    try:
        qtbot.waitUntil(lambda: daemon.status_snapshot().state == "capturing", timeout=10_000)
        window = _window(qtbot, paths)
        editor = window.exclusions
        assert editor is not None
        qtbot.mouseClick(editor.use_app, Qt.MouseButton.LeftButton)  # the open window's app
        qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(window.apply_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: daemon.status_snapshot().state == "excluded", timeout=10_000)
        assert "libreoffice" in (daemon.status_snapshot().reason or "")
        grabs = monitor.grabs
        time.sleep(1.5)
        assert monitor.grabs == grabs  # nothing of that window is looked at any more
    finally:
        daemon.stop()


class _StoreServices(AppServices):
    def __init__(self, paths: AppPaths, opened: MemoryStore) -> None:
        super().__init__(paths, load_settings(paths.config_file, environ={}))
        self.opened = opened

    def store(self) -> MemoryStore:
        return self.opened


def test_a_saved_change_is_in_the_audit_log_by_name_never_by_value(
    qtbot: QtBot, tmp_path: Path, store: MemoryStore
) -> None:
    from mirix_desktop.app.audit import entries

    paths = _paths(tmp_path)
    window = SettingsWindow(_StoreServices(paths, store), windows=lambda: [])
    qtbot.addWidget(window)
    window.field("openai.base_url").editor.setText("http://gpu-box.example:8080/v1")  # type: ignore[attr-defined]
    window.field("openai.base_url")._edited()
    window.field("capture.interval_s").editor.setValue(9)  # type: ignore[attr-defined]
    assert window.apply()
    qtbot.waitUntil(lambda: any(e.action == "settings_change" for e in entries(store)))
    (entry,) = [e for e in entries(store) if e.action == "settings_change"]
    assert entry.actor == "app"
    assert entry.details == {"options": ["capture.interval_s", "openai.base_url"]}
    assert "gpu-box" not in str(entry.details)
