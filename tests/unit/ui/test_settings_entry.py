"""Where the settings window opens from: the tray menu, the status window, `show settings`;
and what the tray app itself does with a saved hotkey."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.services import AppServices
from mirix_desktop.config import Settings
from mirix_desktop.paths import resolve_paths
from mirix_desktop.ui.app import DesktopApp
from mirix_desktop.ui.qt import Qt, QtWidgets
from mirix_desktop.ui.settings_window import SettingsWindow


@pytest.fixture
def desktop(qtbot: QtBot, tmp_path: Path, qapp: QtWidgets.QApplication) -> DesktopApp:
    paths = resolve_paths(tmp_path / "data")
    paths.ensure()
    made = DesktopApp(AppServices(paths, Settings()), qapp)  # type: ignore[arg-type]
    yield made  # type: ignore[misc]
    if made.settings_window is not None:
        made.settings_window.close()
        made.settings_window.deleteLater()
    made.ipc.close()
    made.surface.hide()


def test_the_tray_menu_has_settings_before_quit(
    qtbot: QtBot, tmp_path: Path, qapp: QtWidgets.QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QtWidgets.QSystemTrayIcon, "isSystemTrayAvailable", lambda: True)
    paths = resolve_paths(tmp_path / "data")
    desktop = DesktopApp(AppServices(paths, Settings()), qapp)  # type: ignore[arg-type]
    try:
        texts = [action.text() for action in desktop.surface.menu.actions()]
        assert texts.index("Open data folder") < texts.index("Settings…") < texts.index("Quit")
        action = desktop.surface.menu.actions()[texts.index("Settings…")]
        action.trigger()
        assert isinstance(desktop.settings_window, SettingsWindow)
        assert desktop.settings_window.isVisible()
    finally:
        if desktop.settings_window is not None:
            desktop.settings_window.close()
        desktop.ipc.close()


def test_the_status_window_button_and_show_settings_open_one_window(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    qtbot.mouseClick(desktop.surface.settings_button, Qt.MouseButton.LeftButton)
    first = desktop.settings_window
    assert isinstance(first, SettingsWindow) and first.isVisible()
    first.close()
    desktop._on_command("show", {"window": "settings"})
    assert desktop.settings_window is first and first.isVisible()


class _Hotkey:
    def __init__(self) -> None:
        self.chord_text = "Ctrl+Alt+Space"
        self.registered: list[str] = []

    def unregister(self) -> None:
        pass

    def register(self) -> object:
        self.registered.append(self.chord_text)

        class _Result:
            ok = True
            outcome = "registered"

        return _Result()


def test_a_saved_hotkey_is_registered_again_at_once(qtbot: QtBot, desktop: DesktopApp) -> None:
    desktop.hotkey = _Hotkey()
    desktop.show_settings()
    window = desktop.settings_window
    assert isinstance(window, SettingsWindow)
    edit = window.field("ui.hotkey").editor
    qtbot.keyClick(
        edit, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.mouseClick(window.apply_button, Qt.MouseButton.LeftButton)
    assert desktop.hotkey.registered == ["Ctrl+Shift+K"]
    assert desktop.services.settings.ui.hotkey == "Ctrl+Shift+K"


class _Model:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def close(self) -> None:
        self.closed = True


class _PickerServices:
    def __init__(self, paths: object, settings: Settings) -> None:
        self.paths = paths
        self.settings = settings
        self.built: list[str] = []

    def store(self) -> object:
        raise AssertionError("the picker needs no store")

    def chat_model(self, requested: str | None = None) -> _Model:
        name = f"{requested}:{self.settings.openai.model}"
        self.built.append(name)
        return _Model(name)


def test_a_saved_provider_or_model_is_used_by_the_chat_at_once(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from mirix_desktop.ui.provider_picker import ProviderPicker
    from mirix_desktop.ui.workers import Workers

    settings = Settings()
    settings.llm.provider = "openai"
    settings.openai.model = "first"
    services = _PickerServices(resolve_paths(tmp_path / "data"), settings)
    workers = Workers()
    picker = ProviderPicker(services, workers)  # type: ignore[arg-type]
    qtbot.addWidget(picker)
    with qtbot.wait_signal(picker.changed, timeout=5000):
        picker.start()
    first = picker.slot().built()
    assert services.built == ["openai:first"] and first is not None
    # What the settings window's Apply does: the settings object changes in place.
    settings.openai.model = "second"
    with qtbot.wait_signal(picker.changed, timeout=5000):
        picker.settings_changed()
    assert services.built == ["openai:first", "openai:second"]
    assert picker.provider == "openai" and "second" in picker.combo.currentText()
    qtbot.waitUntil(lambda: first.closed, timeout=5000)  # type: ignore[attr-defined]
    assert workers.wait(5000)


def test_a_start_with_a_bad_config_file_says_so_and_shows_settings(
    qtbot: QtBot, tmp_path: Path, qapp: QtWidgets.QApplication
) -> None:
    paths = resolve_paths(tmp_path / "data")
    paths.ensure()
    paths.config_file.write_text('[capture]\ninterval_s = "fast"\nidle_pause_s = 60\n')
    services = AppServices.create(tmp_path / "data", tolerant=True)
    assert [p.key for p in services.config_problems] == ["capture.interval_s"]
    assert services.settings.capture.idle_pause_s == 60
    desktop = DesktopApp(services, qapp)
    told: list[tuple[str, str]] = []
    desktop.surface.notify = lambda title, text, warning=False: told.append((title, text))
    try:
        desktop.tell_config_problems()
        window = desktop.settings_window
        assert isinstance(window, SettingsWindow) and window.isVisible()
        assert "capture.interval_s: must be a valid number" in window.problems.text()
        assert told and "capture.interval_s" in told[0][1] and "fast" not in told[0][1]
    finally:
        if desktop.settings_window is not None:
            desktop.settings_window.close()
        desktop.ipc.close()


def test_the_passphrase_panel_can_stop_and_restart_the_apps_capture(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    from mirix_desktop.ui.passphrase_panel import PassphrasePanel

    calls: list[str] = []

    class _Supervisor:
        def stop(self) -> None:
            calls.append("stop")

        def start(self) -> None:
            calls.append("start")

        def set_key(self, key: bytes) -> None:
            calls.append(f"key {key.hex()}")

    desktop.show_settings()  # before the daemon runs
    window = desktop.settings_window
    assert isinstance(window, SettingsWindow)
    window.show_page("Data")
    (panel,) = window.findChildren(PassphrasePanel)
    desktop.supervisor = _Supervisor()  # the daemon started later
    capture = panel._capture
    assert capture is not None
    capture.stop()
    capture.set_key(b"\x01")
    capture.start()
    assert calls == ["stop", "key 01", "start"]
