"""Key chords as a person writes them in the config: "Ctrl+Alt+Space", "Super+F12".

Parsed here, with no Qt and no display, so a bad `ui.hotkey` is a config
error at start (and in `doctor`) rather than a silent failure to grab; the
platform back ends in ui/hotkey.py turn a `Chord` into their own key codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Spelling -> the one name each modifier has in a Chord.
_MODIFIERS = {
    "ctrl": "ctrl",
    "control": "ctrl",
    "alt": "alt",
    "option": "alt",
    "shift": "shift",
    "super": "super",
    "meta": "super",
    "win": "super",
    "cmd": "super",
    "command": "super",
}
MODIFIER_ORDER = ("ctrl", "alt", "shift", "super")
# Named keys every back end can map; single letters and digits are also keys.
NAMED_KEYS = {
    "space": "Space",
    "return": "Return",
    "enter": "Return",
    "tab": "Tab",
    "escape": "Escape",
    "esc": "Escape",
    "backspace": "BackSpace",
    "insert": "Insert",
    "delete": "Delete",
    "home": "Home",
    "end": "End",
    "pageup": "Page_Up",
    "pagedown": "Page_Down",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "pause": "Pause",
    "print": "Print",
    "slash": "slash",
    "period": "period",
    "comma": "comma",
    "semicolon": "semicolon",
    "minus": "minus",
    "equal": "equal",
    "grave": "grave",
}
_FUNCTION_KEY = re.compile(r"^f([1-9]|1[0-9]|2[0-4])$")


@dataclass(frozen=True)
class Chord:
    """Modifiers (a subset of MODIFIER_ORDER) and one key, named as X11 keysyms name it."""

    modifiers: frozenset[str]
    key: str  # "Space", "a", "7", "F12", "Page_Up"

    def __str__(self) -> str:
        names = [m.capitalize() for m in MODIFIER_ORDER if m in self.modifiers]
        return "+".join([*names, self.key.replace("_", "")])


class ChordError(ValueError):
    """A chord that cannot be a global hotkey; the message says why."""


def parse_chord(text: str) -> Chord:
    """The chord `text` names; ChordError (a ValueError) saying what is wrong otherwise."""
    parts = [part.strip() for part in text.split("+")]
    if len(parts) < 2 or any(not part for part in parts):
        raise ChordError(
            f"{text!r} is not a key chord: write modifiers and one key joined by '+', "
            "e.g. 'Ctrl+Alt+Space'"
        )
    *modifier_names, key_name = parts
    modifiers: set[str] = set()
    for name in modifier_names:
        modifier = _MODIFIERS.get(name.lower())
        if modifier is None:
            raise ChordError(
                f"{name!r} in {text!r} is not a modifier (use Ctrl, Alt, Shift or Super)"
            )
        modifiers.add(modifier)
    key = _key(key_name)
    if key is None:
        raise ChordError(
            f"{key_name!r} in {text!r} is not a key that can be grabbed (use a letter, a "
            "digit, F1-F24, Space, Return, Tab, Escape, Insert, Delete, Home, End, "
            "PageUp, PageDown or an arrow)"
        )
    if not modifiers - {"shift"} and not key.startswith("F"):
        # Shift+A alone would take a capital letter away from every program.
        raise ChordError(f"{text!r} would take a key people type: include Ctrl, Alt or Super")
    return Chord(frozenset(modifiers), key)


def _key(name: str) -> str | None:
    lowered = name.lower()
    if len(name) == 1 and name.isascii() and name.isalnum():
        return lowered
    if _FUNCTION_KEY.match(lowered):
        return lowered.upper()
    return NAMED_KEYS.get(lowered)
