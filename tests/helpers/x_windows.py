"""Other clients' top-level windows on a test display, as a person would meet them.

Finding a window by title, asking the window manager to close or activate it,
typing into it with xdotool, and saving a picture of it: the end-to-end tests
and the app benchmarks drive the real app this way, from outside its process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import closing
from pathlib import Path

from PIL import Image
from Xlib import X
from Xlib import display as xlib_display
from Xlib import error as xlib_error
from Xlib.protocol import event as xlib_event

from tests.helpers.tray_host import Geometry
from tests.helpers.xdisplay import XDisplay

COMMAND_TIMEOUT = 10.0
# Where `save_shot` also copies each picture, for people to look at after a run. Read
# at import: the suite's isolation fixture removes every MIRIX_* variable from tests.
SHOTS_DIR_ENV = "MIRIX_SHOTS_DIR"
_SHOTS_DIR = os.environ.get(SHOTS_DIR_ENV)


def xdotool(display: XDisplay, *args: str, check: bool = True) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        env=display.env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"xdotool {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def find_windows(display: XDisplay, title: str, *, visible_only: bool = True) -> list[int]:
    """Top-level client windows whose title contains `title` (a regex, as xdotool takes)."""
    args = ["search"]
    if visible_only:
        args.append("--onlyvisible")
    out = xdotool(display, *args, "--name", title, check=False)
    return [int(line) for line in out.split()]


def wait_for_window(display: XDisplay, title: str, timeout: float) -> int:
    """The first visible window with that title, once there is one."""
    deadline = time.monotonic() + timeout
    while True:
        found = find_windows(display, title)
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no visible window titled {title!r} within {timeout:.0f} s")
        time.sleep(0.1)


def is_viewable(display: XDisplay, window_id: int) -> bool:
    with closing(xlib_display.Display(display.name)) as conn:
        try:
            window = conn.create_resource_object("window", window_id)
            return bool(window.get_attributes().map_state == X.IsViewable)
        except xlib_error.BadWindow:
            return False


def frame_geometry(display: XDisplay, window_id: int) -> Geometry:
    """The window with its window-manager frame (title bar, borders), on screen."""
    with closing(xlib_display.Display(display.name)) as conn:
        root = conn.screen().root
        window = conn.create_resource_object("window", window_id)
        # Climb to the ancestor that is a child of root: the WM's frame.
        top = window
        while True:
            parent = top.query_tree().parent
            if parent is None or parent.id == root.id or parent.id == X.NONE:
                break
            top = parent
        geometry = top.get_geometry()
        origin = root.translate_coords(top, 0, 0)
        return Geometry(origin.x, origin.y, geometry.width, geometry.height)


def request_close(display: XDisplay, window_id: int) -> None:
    """Ask the window manager to close the window, as its title bar's × does."""
    with closing(xlib_display.Display(display.name)) as conn:
        root = conn.screen().root
        window = conn.create_resource_object("window", window_id)
        message = xlib_event.ClientMessage(
            window=window,
            client_type=conn.intern_atom("_NET_CLOSE_WINDOW"),
            data=(32, [X.CurrentTime, 2, 0, 0, 0]),
        )
        root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        conn.flush()


def activate(display: XDisplay, window_id: int) -> None:
    xdotool(display, "windowactivate", "--sync", str(window_id))


def type_text(display: XDisplay, text: str) -> None:
    """Type into the focused window, a few milliseconds per key.

    Through XTEST, as a keyboard would: `--window` would send synthetic events,
    which Qt ignores.
    """
    xdotool(display, "type", "--delay", "8", "--", text)


def press(display: XDisplay, key: str) -> None:
    """Press a key (xdotool's name: Return, ctrl+n) in the focused window."""
    xdotool(display, "key", key)


def screen_image(display: XDisplay, scratch: Path) -> Image.Image:
    path = scratch / "screen.png"
    display.screenshot(path)
    with Image.open(path) as image:
        return image.convert("RGB")


def save_shot(image: Image.Image, directory: Path, name: str) -> Path:
    """Save a picture under `directory`, and a copy in $MIRIX_SHOTS_DIR when set."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    image.save(path)
    shots = _SHOTS_DIR
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(shots) / f"e2e-{name}.png")
    return path


def window_shot(display: XDisplay, window_id: int, scratch: Path) -> Image.Image:
    """A picture of the window with its frame, cut from a screenshot."""
    geometry = frame_geometry(display, window_id)
    return screen_image(display, scratch).crop(geometry.box())


def windows_of_type(display: XDisplay, pid: int, kind: str) -> list[Geometry]:
    """Where the process's viewable top-level windows of one kind are.

    `kind` ends an EWMH window type: "POPUP_MENU" (a menu), "TOOLTIP" (a tooltip,
    and the balloon Qt draws for a tray notification where no notification
    service runs), "DIALOG"...
    """
    found: list[Geometry] = []
    with closing(xlib_display.Display(display.name)) as conn:
        root = conn.screen().root
        window_type = conn.intern_atom("_NET_WM_WINDOW_TYPE")
        wanted = conn.intern_atom(f"_NET_WM_WINDOW_TYPE_{kind}")
        wm_pid = conn.intern_atom("_NET_WM_PID")
        for window in root.query_tree().children:
            try:
                if window.get_attributes().map_state != X.IsViewable:
                    continue
                owner = window.get_full_property(wm_pid, X.AnyPropertyType)
                kinds = window.get_full_property(window_type, X.AnyPropertyType)
                if owner is None or int(owner.value[0]) != pid or kinds is None:
                    continue
                if wanted not in [int(value) for value in kinds.value]:
                    continue
                geometry = window.get_geometry()
                origin = root.translate_coords(window, 0, 0)
            except xlib_error.BadWindow:
                continue
            found.append(Geometry(origin.x, origin.y, geometry.width, geometry.height))
    return found
