"""Key chords in the config: what `ui.hotkey` accepts, and the clear error for what it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirix_desktop.chord import Chord, ChordError, parse_chord
from mirix_desktop.config import load_settings
from mirix_desktop.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "modifiers", "key"),
    [
        ("Ctrl+Alt+Space", {"ctrl", "alt"}, "Space"),
        ("control + shift + k", {"ctrl", "shift"}, "k"),
        ("Super+F12", {"super"}, "F12"),
        ("Meta+PageDown", {"super"}, "Page_Down"),
        ("Shift+F5", {"shift"}, "F5"),
    ],
)
def test_chords_people_write(text: str, modifiers: set[str], key: str) -> None:
    assert parse_chord(text) == Chord(frozenset(modifiers), key)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Space", "not a key chord"),
        ("Ctrl+", "not a key chord"),
        ("Hyper+Space", "not a modifier"),
        ("Ctrl+Alt+Foo", "not a key that can be grabbed"),
        ("Shift+a", "include Ctrl, Alt or Super"),
    ],
)
def test_bad_chords_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ChordError, match=says):
        parse_chord(text)


def test_the_default_and_a_bad_config_value(tmp_path: Path) -> None:
    assert load_settings(None, {}).ui.hotkey == "Ctrl+Alt+Space"
    config = tmp_path / "config.toml"
    config.write_text('[ui]\nhotkey = "Ctrl+Alt+Nope"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ui\.hotkey: .*'Nope'") as caught:
        load_settings(config, {})
    assert str(config) in caught.value.message
    assert load_settings(None, {"MIRIX_UI_HOTKEY": ""}).ui.hotkey == ""
