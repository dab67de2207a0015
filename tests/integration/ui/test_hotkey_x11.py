"""The global hotkey on a real X server (Xvfb): only the chord is grabbed, and only it fires.

xdotool presses keys through XTEST, as a keyboard would. A second X client
stands for "another program" that took the chord first.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from Xlib import XK, X
from Xlib import display as xlib_display

from mirix_desktop.ui.hotkey import GlobalHotkey, probe_hotkey, taken_text
from tests.helpers.xdisplay import XDisplay, xvfb_display

pytestmark = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("xdotool") is None,
    reason="Xvfb and xdotool are needed (apt install xvfb xdotool)",
)
# Nothing fired within this long after a key was pressed: it never will.
QUIET_MS = 400


@pytest.fixture(scope="module")
def display() -> Iterator[XDisplay]:
    # With its window manager: Xvfb resets (refusing connections meanwhile) each
    # time its last client leaves, and the window manager stays connected.
    with xvfb_display(800, 600) as running:
        yield running


def press(display: XDisplay, *keys: str) -> None:
    subprocess.run(["xdotool", "key", *keys], env=display.env, check=True, timeout=10)


@pytest.fixture
def hotkey(qtbot: QtBot, display: XDisplay) -> Iterator[tuple[GlobalHotkey, list[float]]]:
    grabbed = GlobalHotkey("Ctrl+Alt+Space", display_name=display.name)
    fired: list[float] = []
    grabbed.activated.connect(lambda: fired.append(time.monotonic()))
    result = grabbed.register()
    assert result.outcome == "registered", result
    try:
        yield grabbed, fired
    finally:
        grabbed.unregister()


def key_events(grabbed: GlobalHotkey) -> list[str]:
    """The keys of every key event the hotkey's X connection received."""
    backend = grabbed.backend
    assert backend is not None
    conn = xlib_display.Display(backend.display_name)  # type: ignore[attr-defined]
    try:
        return [
            _keysym_name(conn.keycode_to_keysym(code, 0))
            for code in backend.key_events  # type: ignore[attr-defined]
        ]
    finally:
        conn.close()


def test_the_chord_fires_and_other_keys_are_never_seen(
    qtbot: QtBot, display: XDisplay, hotkey: tuple[GlobalHotkey, list[float]]
) -> None:
    grabbed, fired = hotkey
    press(display, "ctrl+alt+a", "space", "ctrl+space", "alt+space", "h", "e", "y")
    qtbot.wait(QUIET_MS)
    assert fired == []
    assert key_events(grabbed) == [], "the app must not receive keys other than its chord"

    press(display, "ctrl+alt+space")
    qtbot.waitUntil(lambda: len(fired) == 1, timeout=5000)
    # While its grab is active (until space is let go) the chord's own keys
    # reach this process; nothing else ever does.
    seen = key_events(grabbed)
    assert seen[0] == "space"
    assert set(seen) <= {"space", "Control_L", "Alt_L"}, seen


def test_the_chord_fires_with_numlock_and_capslock_on(
    qtbot: QtBot, display: XDisplay, hotkey: tuple[GlobalHotkey, list[float]]
) -> None:
    _, fired = hotkey
    for lock in ("Num_Lock", "Caps_Lock"):
        press(display, lock)  # on
        try:
            qtbot.wait(int(1000 * 0.35))  # past the repeat filter
            count = len(fired)
            press(display, "ctrl+alt+space")
            qtbot.waitUntil(lambda count=count: len(fired) == count + 1, timeout=5000)
        finally:
            press(display, lock)  # off again
    press(display, "Num_Lock", "Caps_Lock")
    try:
        qtbot.wait(400)
        count = len(fired)
        press(display, "ctrl+alt+space")
        qtbot.waitUntil(lambda: len(fired) == count + 1, timeout=5000)
    finally:
        press(display, "Num_Lock", "Caps_Lock")


@pytest.mark.expected_log("mirix.ui.hotkey", "WARNING", r"already grabbed by another program")
def test_a_chord_another_client_grabbed_is_reported_taken(
    qtbot: QtBot, display: XDisplay, tmp_path: object
) -> None:
    other = xlib_display.Display(display.name)
    try:
        root = other.screen().root
        keycode = other.keysym_to_keycode(XK.string_to_keysym("space"))
        root.grab_key(keycode, X.ControlMask | X.Mod1Mask, False, X.GrabModeAsync, X.GrabModeAsync)
        other.sync()

        grabbed = GlobalHotkey("Ctrl+Alt+Space", display_name=display.name)
        result = grabbed.register()
        assert result.outcome == "taken", result
        assert not grabbed.registered
        assert probe_hotkey("Ctrl+Alt+Space", display.name).outcome == "taken"
        # Another chord is free.
        assert probe_hotkey("Ctrl+Alt+M", display.name).outcome == "registered"
        notice = taken_text(result.chord, "/home/me/.config/mirix-desktop/config.toml")
        assert "Ctrl+Alt+Space is already used by another program" in notice
        assert "ui.hotkey in /home/me/.config/mirix-desktop/config.toml" in notice
    finally:
        other.close()
    # Once the other program let go, the chord can be had.
    assert probe_hotkey("Ctrl+Alt+Space", display.name).outcome == "registered"


def test_unregister_lets_the_chord_go(qtbot: QtBot, display: XDisplay) -> None:
    grabbed = GlobalHotkey("Ctrl+Alt+Space", display_name=display.name)
    assert grabbed.register().ok
    assert probe_hotkey("Ctrl+Alt+Space", display.name).outcome == "taken"
    grabbed.unregister()
    assert probe_hotkey("Ctrl+Alt+Space", display.name).outcome == "registered"


def _keysym_name(keysym: int) -> str:
    names = [name for name in dir(XK) if name.startswith("XK_") and getattr(XK, name) == keysym]
    return names[0][3:] if names else str(keysym)
