"""The settings window: schema-built pages, writing config.toml kindly, bad input refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.app.services import AppServices
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings, load_settings
from mirix_desktop.paths import resolve_paths
from mirix_desktop.privacy.exclusions import PrivacyRule
from mirix_desktop.ui.qt import Qt, QtWidgets
from mirix_desktop.ui.settings_fields import HotkeyEdit, NumberBox
from mirix_desktop.ui.settings_window import PAGES, SettingsWindow

CONFIG = """\
# My MIRIX. Keep this comment.
[capture]
# slow laptop
interval_s = 3.0  # seconds

[privacy]
redact_emails = true
[[privacy.exclude]]
field = "app"
pattern = "Signal"
regex = false
"""
WINDOWS = [
    WindowInfo(app="Signal", title="Signal — Alice", rect=None),
    WindowInfo(app="firefox", title="My Bank — Mozilla Firefox", rect=None),
    WindowInfo(app="firefox", title="Online banking help — Mozilla Firefox", rect=None),
    WindowInfo(app="code", title="notes.md — Visual Studio Code", rect=None),
]


@pytest.fixture
def services(tmp_path: Path) -> AppServices:
    paths = resolve_paths(tmp_path / "data")
    paths.ensure()
    paths.config_file.write_text(CONFIG)
    return AppServices(paths, load_settings(paths.config_file, environ={}))


def _open(qtbot: QtBot, services: AppServices) -> SettingsWindow:
    window = SettingsWindow(services, windows=lambda: list(WINDOWS), extras=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_every_option_has_a_field_with_its_description_on_a_page(
    qtbot: QtBot, services: AppServices
) -> None:
    window = _open(qtbot, services)
    assert window.windowTitle() == "MIRIX — Settings"
    assert [window.page_list.item(i).text() for i in range(window.page_list.count())] == list(PAGES)
    schema = {
        f"{section}.{name}"
        for section, field in Settings.model_fields.items()
        for name in field.annotation.model_fields  # type: ignore[union-attr]
    }
    for page in PAGES:
        window.show_page(page)
    assert set(window.fields) | {"privacy.exclude"} == schema
    interval = window.field("capture.interval_s")
    assert interval.value() == 3.0  # from the file
    assert "Seconds between two looks at the screen" in interval.help.text()
    assert "capture.interval_s" in interval.help.text()
    assert "starts again" in window.field("ocr.engine").help.text()  # needs a restart
    assert window.exclusions is not None
    assert window.exclusions.value() == [PrivacyRule(field="app", pattern="Signal")]


def test_apply_writes_the_change_keeps_comments_and_applies_it_in_the_app(
    qtbot: QtBot, services: AppServices
) -> None:
    window = _open(qtbot, services)
    box = window.field("capture.interval_s").editor
    assert isinstance(box, NumberBox)
    box.setValue(7.5)
    window.field("ocr.engine").editor.setCurrentIndex(2)  # type: ignore[attr-defined]
    assert set(window.pending()) == {"capture.interval_s", "ocr.engine"}
    qtbot.mouseClick(window.apply_button, Qt.MouseButton.LeftButton)
    text = services.paths.config_file.read_text()
    assert text.startswith("# My MIRIX. Keep this comment.\n[capture]\n# slow laptop\n")
    assert "interval_s = 7.5  # seconds" in text
    assert 'pattern = "Signal"' in text and "redact_emails = true" in text
    on_disk = load_settings(services.paths.config_file, environ={})
    assert on_disk.capture.interval_s == 7.5 and on_disk.ocr.engine == "pytesseract"
    # Live options apply in the app at once; the OCR engine waits for a restart.
    assert services.settings.capture.interval_s == 7.5
    assert services.settings.ocr.engine == "auto"
    assert window.restart_note.isVisibleTo(window)
    assert "ocr.engine" in window.restart_note.text()
    assert "interval" not in window.restart_note.text()
    assert window.pending() == {}


def test_a_hand_edited_file_with_mistakes_shows_each_key_and_keeps_the_rest(
    qtbot: QtBot, services: AppServices
) -> None:
    services.paths.config_file.write_text(
        CONFIG.replace("interval_s = 3.0", 'interval_s = "fast"\nsnapshot = true')
        + '\n[ui]\nhotkey = "A"\n\n[shortcuts]\nquery = "Ctrl+K"\n'
    )
    window = _open(qtbot, services)
    shown = window.problems.text()
    assert window.problems.isVisibleTo(window)
    for key, problem in (
        ("capture.interval_s", "must be a valid number"),
        ("capture.snapshot", "not an option MIRIX knows"),
        ("ui.hotkey", "is not a key chord"),
        ("shortcuts", "not a section MIRIX knows"),
    ):
        assert f"{key}: " in shown and problem in shown, (key, shown)
    # The rest of the file is kept: its valid values are shown.
    assert window.field("privacy.redact_emails").value() is True
    assert window.exclusions is not None and len(window.exclusions.value()) == 1
    # Saving writes the values shown in place of the bad ones: the file loads again.
    qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    fixed = load_settings(services.paths.config_file, environ={})
    assert fixed.capture.interval_s == services.settings.capture.interval_s
    assert fixed.ui.hotkey == "Ctrl+Alt+Space" and fixed.privacy.redact_emails is True
    assert "# My MIRIX. Keep this comment." in services.paths.config_file.read_text()


def test_a_file_that_is_not_toml_opens_but_is_never_overwritten(
    qtbot: QtBot, services: AppServices
) -> None:
    services.paths.config_file.write_text("[capture\ninterval_s = 3\n")
    window = _open(qtbot, services)
    assert "(the whole file): is not valid TOML" in window.problems.text()
    assert not window.save_button.isEnabled() and not window.apply_button.isEnabled()
    assert window.apply() is False
    assert services.paths.config_file.read_text() == "[capture\ninterval_s = 3\n"


def test_a_regex_that_does_not_compile_is_refused_with_the_reason(
    qtbot: QtBot, services: AppServices
) -> None:
    window = _open(qtbot, services)
    editor = window.exclusions
    assert editor is not None
    window.show_page("Privacy")
    editor.field.setCurrentIndex(editor.field.findData("title"))
    editor.regex.setChecked(True)
    qtbot.keyClicks(editor.pattern, "bank(ing")
    assert editor.test_label.text().startswith("Not a rule yet:")
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.problem.isVisibleTo(window)
    assert "not a valid regular expression" in editor.problem.text()
    assert "missing )" in editor.problem.text()
    assert len(editor.value()) == 1 and window.pending() == {}
    # Fixed, the test box lists the open windows it leaves out; then it is added.
    editor.pattern.setText(r"\bbank\b")
    matches = [editor.matches.item(i).text() for i in range(editor.matches.count())]
    assert matches == ["firefox — My Bank — Mozilla Firefox"]
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.value()[-1] == PrivacyRule(field="title", pattern=r"\bbank\b", regex=True)
    assert not editor.problem.isVisibleTo(window)


def test_a_rule_from_a_window_open_now(qtbot: QtBot, services: AppServices) -> None:
    window = _open(qtbot, services)
    editor = window.exclusions
    assert editor is not None
    editor.open_windows.setCurrentIndex(3)  # Visual Studio Code
    qtbot.mouseClick(editor.use_app, Qt.MouseButton.LeftButton)
    assert editor.pattern.text() == "code" and editor.field.currentData() == "app"
    assert editor.matches.count() == 1
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.apply_button, Qt.MouseButton.LeftButton)
    rules = load_settings(services.paths.config_file, environ={}).privacy.exclude
    assert rules == [
        PrivacyRule(field="app", pattern="Signal"),
        PrivacyRule(field="app", pattern="code"),
    ]
    assert services.settings.privacy.exclude == rules  # exclusions apply live


def test_the_hotkey_is_recorded_by_pressing_it(qtbot: QtBot, services: AppServices) -> None:
    window = _open(qtbot, services)
    window.show_page("Shortcuts")
    field = window.field("ui.hotkey")
    edit = field.editor
    assert isinstance(edit, HotkeyEdit)
    ctrl_alt = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    qtbot.keyClick(edit, Qt.Key.Key_M, ctrl_alt)
    assert edit.text() == "Ctrl+Alt+M"
    assert field.value() == edit.text() and field.problem_text is None
    # A key people type is refused and the chord stays.
    qtbot.keyClick(edit, Qt.Key.Key_A)
    assert edit.text() == "Ctrl+Alt+M"
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert field.problem_text is not None and "Ctrl, Alt or Super" in field.problem_text
    assert field.value() == edit.text()
    qtbot.keyClick(edit, Qt.Key.Key_F12, Qt.KeyboardModifier.MetaModifier)
    assert edit.text() == "Super+F12"
    qtbot.mouseClick(window.apply_button, Qt.MouseButton.LeftButton)
    assert load_settings(services.paths.config_file, environ={}).ui.hotkey == "Super+F12"
    assert services.settings.ui.hotkey == "Super+F12"


def test_a_refused_value_blocks_saving_and_says_which(qtbot: QtBot, services: AppServices) -> None:
    window = _open(qtbot, services)
    languages = window.field("ocr.languages")
    edit = languages.editor
    assert isinstance(edit, QtWidgets.QLineEdit)
    edit.clear()
    qtbot.keyClicks(edit, "eng deu")
    assert languages.problem.isVisibleTo(window)
    assert window.apply() is False
    assert "ocr.languages" in window.status.text()
    assert window.stack.currentIndex() == PAGES.index("Capture")
    assert services.paths.config_file.read_text() == CONFIG


def test_test_and_model_choice_use_the_values_in_the_window(
    qtbot: QtBot, services: AppServices
) -> None:
    window = _open(qtbot, services)
    model = window.field("openai.model").editor
    assert isinstance(model, QtWidgets.QLineEdit)
    qtbot.keyClicks(model, "llama3.1:8b")
    window._model_chosen("qwen2.5-0.5b")  # what the model picker emits
    current = window.current_settings()
    assert current.openai.model == "llama3.1:8b"
    assert current.local_model.model == "qwen2.5-0.5b"
    assert current.capture.interval_s == 3.0  # the rest as running
    assert services.settings.openai.model == ""  # nothing applied before Apply
    assert set(window.pending()) == {"openai.model", "local_model.model"}
