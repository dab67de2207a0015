"""The e2e harness itself: a private X display and text windows that behave like real apps.

The daemon's end-to-end tests trust these helpers to put known text in front of it, so
these tests check what X clients (the daemon included) would see, independently of the
helpers' own bookkeeping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import psutil
import pytest
from PIL import Image
from Xlib import X
from Xlib import display as xlib_display
from Xlib import error as xlib_error

from tests.helpers.text_window import TextWindow
from tests.helpers.xdisplay import XDisplay, XDisplayError, xvfb_display

pytestmark = pytest.mark.skipif(
    shutil.which("Xvfb") is None, reason="Xvfb is not installed (apt install xvfb)"
)

SENTENCE = "Pelicans quietly inspect seventeen purple umbrellas"


@pytest.fixture
def display() -> Iterator[XDisplay]:
    with xvfb_display() as opened:
        yield opened


@pytest.fixture
def xconn(display: XDisplay) -> Iterator[xlib_display.Display]:
    conn = xlib_display.Display(display.name)
    yield conn
    conn.close()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll a condition; the window manager updates X state asynchronously."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def active_window(conn: xlib_display.Display) -> int | None:
    atom = conn.intern_atom("_NET_ACTIVE_WINDOW")
    prop = conn.screen().root.get_full_property(atom, X.AnyPropertyType)
    if prop is None or not prop.value or not prop.value[0]:
        return None
    return int(prop.value[0])


def active_client(conn: xlib_display.Display, candidates: set[int]) -> int | None:
    """The candidate that is the active window or lies inside it (a WM frame)."""
    active = active_window(conn)
    if active is None:
        return None
    if active in candidates:
        return active
    stack = [conn.create_resource_object("window", active)]
    while stack:
        try:
            children = stack.pop().query_tree().children
        except xlib_error.BadWindow:
            continue
        for child in children:
            if child.id in candidates:
                return int(child.id)
            stack.append(child)
    return None


def net_wm_name(conn: xlib_display.Display, window_id: int) -> str | None:
    window = conn.create_resource_object("window", window_id)
    prop = window.get_full_property(
        conn.intern_atom("_NET_WM_NAME"), conn.intern_atom("UTF8_STRING")
    )
    if prop is None:
        return None
    value = prop.value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def window_box(conn: xlib_display.Display, window_id: int) -> tuple[int, int, int, int]:
    """The window's client area on screen as (left, top, right, bottom)."""
    window = conn.create_resource_object("window", window_id)
    geometry = window.get_geometry()
    origin = window.translate_coords(conn.screen().root, 0, 0)
    left, top = -origin.x, -origin.y
    return left, top, left + geometry.width, top + geometry.height


def ocr_words(display: XDisplay, tmp_path: Path, box: tuple[int, int, int, int]) -> set[str]:
    """Words tesseract reads in one window's part of a full-screen screenshot."""
    shot = tmp_path / "screen.png"
    display.screenshot(shot)
    # On the whole 1920x1080 screen tesseract's layout analysis sometimes splits a line
    # into columns and drops words ("eleven o" for "eleven orange lanterns"); a crop to
    # the window, as the daemon's active-window OCR sees it, reads reliably.
    crop = tmp_path / "window.png"
    with Image.open(shot) as image:
        image.crop(box).save(crop)
    result = subprocess.run(
        ["tesseract", str(crop), "stdout"],
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {word.lower() for word in re.findall(r"[A-Za-z]+", result.stdout)}


def sentence_words(text: str) -> set[str]:
    return {word.lower() for word in text.split()}


def test_text_window_is_active_named_and_readable(
    display: XDisplay, xconn: xlib_display.Display, tmp_path: Path
) -> None:
    with TextWindow(display, "Harness Notes", "mirixharness", SENTENCE) as window:
        ids = {window.window_id}
        assert wait_until(lambda: active_client(xconn, ids) == window.window_id), (
            f"active window is {active_window(xconn)}, not {window.window_id}"
        )
        assert net_wm_name(xconn, window.window_id) == "Harness Notes"
        assert display.active_window_title() == "Harness Notes"
        wm_class = xconn.create_resource_object("window", window.window_id).get_wm_class()
        assert wm_class == ("mirixharness", "mirixharness")

        # openbox puts the frame, not the client area, at the requested position.
        left, top, right, bottom = window_box(xconn, window.window_id)
        assert (right - left, bottom - top) == (1200, 800)
        assert 100 <= left < 110 and 100 <= top < 140
        box = (left, top, right, bottom)
        assert sentence_words(SENTENCE) <= ocr_words(display, tmp_path, box)

        replacement = "Walruses calmly juggle eleven orange lanterns"
        window.set_text(f"{replacement}\nsecond line")
        words = ocr_words(display, tmp_path, box)
        assert sentence_words(replacement) <= words
        assert not sentence_words(SENTENCE) & words


def test_dark_window_text_is_readable(
    display: XDisplay, xconn: xlib_display.Display, tmp_path: Path
) -> None:
    with TextWindow(display, "Dark Notes", "mirixdark", SENTENCE, dark=True) as window:
        box = window_box(xconn, window.window_id)
        assert sentence_words(SENTENCE) <= ocr_words(display, tmp_path, box)


def test_set_title_is_seen_by_x(display: XDisplay, xconn: xlib_display.Display) -> None:
    with TextWindow(display, "Before", "mirixtitle", SENTENCE) as window:
        window.set_title("After — Überschrift")
        assert net_wm_name(xconn, window.window_id) == "After — Überschrift"
        assert display.active_window_title() == "After — Überschrift"


def test_activate_switches_active_window(display: XDisplay, xconn: xlib_display.Display) -> None:
    with (
        TextWindow(display, "First", "mirixfirst", "first window") as first,
        TextWindow(display, "Second", "mirixsecond", "second window") as second,
    ):
        ids = {first.window_id, second.window_id}
        # The newest window takes focus, as on a desktop.
        assert wait_until(lambda: active_client(xconn, ids) == second.window_id)

        first.activate()
        assert wait_until(lambda: active_client(xconn, ids) == first.window_id)
        assert display.active_window_title() == "First"

        second.activate()
        assert wait_until(lambda: active_client(xconn, ids) == second.window_id)
        assert display.active_window_title() == "Second"


def test_display_leaves_no_processes_behind() -> None:
    me = psutil.Process()
    before = set(me.children(recursive=True))
    with xvfb_display(800, 600) as display, TextWindow(display, "Brief", "mirixbrief", "short"):
        started = set(me.children(recursive=True)) - before
        programs = sorted(Path(child.cmdline()[0]).name for child in started)
        assert programs == sorted(["Xvfb", "openbox", Path(sys.executable).name])
    # is_running() also compares start times, so a recycled pid does not count.
    assert not any(child.is_running() for child in started)
    assert set(me.children(recursive=True)) == before


def test_missing_xvfb_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(XDisplayError, match="Xvfb is not installed"), xvfb_display():
        pass


def test_display_without_window_manager(tmp_path: Path) -> None:
    with (
        xvfb_display(1600, 1000, window_manager=False) as display,
        TextWindow(display, "Bare", "mirixbare", SENTENCE) as window,
    ):
        assert display.active_window_title() is None
        with closing(xlib_display.Display(display.name)) as conn:
            box = window_box(conn, window.window_id)
        assert box == (100, 100, 1300, 900)
        assert sentence_words(SENTENCE) <= ocr_words(display, tmp_path, box)
