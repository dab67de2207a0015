"""The API key field: kept in the (in-memory stand-in for the) OS keyring, never shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.config import Settings
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.ui.api_key_field import ApiKeyField
from mirix_desktop.ui.qt import Qt, QtWidgets
from tests.helpers.keyring_backend import MemoryKeyring

URL = "http://gpu-box:8080/v1"
SECRET = "sk-test-5f3a9c1e"


@dataclass
class SettingsOnly:
    paths: AppPaths
    settings: Settings = field(default_factory=Settings)


def make_field(qtbot: QtBot, tmp_path: Path, url: str = URL) -> ApiKeyField:
    services = SettingsOnly(resolve_paths(tmp_path / "data"))
    services.settings.openai.base_url = url
    services.settings.openai.api_key_env = "TEST_LLM_KEY"
    widget = ApiKeyField(services)  # type: ignore[arg-type]
    qtbot.add_widget(widget)
    widget.show()
    qtbot.wait_until(lambda: not widget.state_label.text().startswith("Looking"), timeout=5000)
    return widget


def shown_text(widget: QtWidgets.QWidget) -> str:
    """Every text a person can read or copy in the widget."""
    texts = [label.text() for label in widget.findChildren(QtWidgets.QLabel)]
    texts += [edit.text() for edit in widget.findChildren(QtWidgets.QLineEdit)]
    texts += [w.toolTip() for w in widget.findChildren(QtWidgets.QWidget)]
    return "\n".join(texts)


def test_saving_keeps_the_key_in_the_keyring_and_never_shows_it(
    qtbot: QtBot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    widget = make_field(qtbot, tmp_path)
    assert widget.state_label.text() == f"No key for {URL} is kept in the system keyring."
    assert not widget.clear_button.isEnabled()
    assert widget.key_edit.echoMode() == QtWidgets.QLineEdit.EchoMode.Password
    assert not widget.save_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(widget.key_edit, SECRET)
    with qtbot.wait_signal(widget.key_changed, timeout=5000) as changed:
        qtbot.mouseClick(widget.save_button, Qt.MouseButton.LeftButton)
    assert changed.args == [True]
    assert memory_keyring.secrets == {("mirix-desktop", f"openai:{URL}"): SECRET}
    assert widget.state_label.text() == f"A key for {URL} is kept in the system keyring."
    assert widget.stored is True
    assert widget.key_edit.text() == ""
    assert SECRET not in shown_text(widget)
    assert widget.clear_button.isEnabled()


def test_a_stored_key_is_found_and_removed(
    qtbot: QtBot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.secrets[("mirix-desktop", f"openai:{URL}")] = SECRET
    widget = make_field(qtbot, tmp_path, URL + "/")  # the same server
    assert widget.stored is True
    assert SECRET not in shown_text(widget)
    with qtbot.wait_signal(widget.key_changed, timeout=5000) as changed:
        qtbot.mouseClick(widget.clear_button, Qt.MouseButton.LeftButton)
    assert changed.args == [False]
    assert memory_keyring.secrets == {}
    assert widget.state_label.text().startswith("No key for")
    assert widget.status.text() == "The key is removed from the system keyring."


def test_the_key_shown_follows_the_server_in_the_form(
    qtbot: QtBot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.secrets[("mirix-desktop", "openai:http://other:1234/v1")] = SECRET
    widget = make_field(qtbot, tmp_path)
    assert widget.stored is False
    widget.set_server("http://other:1234/v1")
    qtbot.wait_until(lambda: widget.stored is True, timeout=5000)
    assert "http://other:1234/v1" in widget.state_label.text()


def test_without_a_secure_keyring_it_points_to_the_environment_variable(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The autouse fixture leaves only keyring's "fail" backend: a headless machine.
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    widget = make_field(qtbot, tmp_path)
    assert widget.stored is None
    assert "no secure system keyring" in widget.state_label.text()
    env = widget.env_label.text()
    assert "TEST_LLM_KEY" in env and "openai.api_key_env" in env and "it is set now" in env
    assert not widget.key_edit.isVisible() and not widget.save_button.isEnabled()
    assert SECRET not in shown_text(widget)
    widget.save()  # nothing to save into: refused without a call
    assert widget.status.kind is None
