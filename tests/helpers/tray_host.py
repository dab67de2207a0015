"""A system tray host on a test display: `trayer`, and what is embedded in it.

This module owns the lifetime of one trayer process on an `XDisplay` and the X
queries that tell a test whether an icon really sits in the tray: trayer owns
the `_NET_SYSTEM_TRAY_S0` selection (the freedesktop system-tray protocol)
and reparents every icon it accepts into its "panel" window; an embedded icon
is a client window below that panel carrying `_XEMBED_INFO`. Those are read
from the X server, not from the app's own view of itself.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from Xlib import X
from Xlib import display as xlib_display
from Xlib import error as xlib_error
from Xlib.xobject.drawable import Window

from tests.helpers.xdisplay import XDisplay

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
TRAY_HEIGHT = 24
TRAYER_COMMAND = [
    "trayer",
    "--edge", "top",
    "--align", "right",
    "--widthtype", "request",
    "--height", str(TRAY_HEIGHT),
    "--SetDockType", "true",
    "--transparent", "false",
]  # fmt: skip


class TrayHostError(RuntimeError):
    """trayer could not be started or did not claim the tray."""


@dataclass(frozen=True)
class Geometry:
    """A window's rectangle in root (screen) coordinates."""

    x: int
    y: int
    width: int
    height: int

    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), as PIL's crop takes it."""
        return (self.x, self.y, self.x + self.width, self.y + self.height)


@dataclass(frozen=True)
class EmbeddedIcon:
    """A client window the tray host has embedded."""

    window_id: int
    wm_class: tuple[str, str] | None
    # _NET_WM_PID: the process that owns the icon (Qt sets it on its windows).
    pid: int | None
    geometry: Geometry
    viewable: bool


@dataclass
class TrayHost:
    """A running trayer on one display."""

    display: XDisplay
    process: subprocess.Popen[bytes]
    log: Path

    def panel(self) -> Geometry | None:
        """Where trayer's panel (the strip holding the icons) is on screen."""
        with _connect(self.display) as conn:
            panel = _find_panel(conn)
            return None if panel is None else _root_geometry(conn, panel)

    def icons(self) -> list[EmbeddedIcon]:
        """Every client window embedded in the tray, in stacking order."""
        with _connect(self.display) as conn:
            panel = _find_panel(conn)
            if panel is None:
                return []
            xembed = conn.intern_atom("_XEMBED_INFO")
            wm_pid = conn.intern_atom("_NET_WM_PID")
            found: list[EmbeddedIcon] = []
            for window in _descendants(panel):
                try:
                    if window.get_full_property(xembed, X.AnyPropertyType) is None:
                        continue
                    wm_class = window.get_wm_class()
                    pid_prop = window.get_full_property(wm_pid, X.AnyPropertyType)
                    viewable = window.get_attributes().map_state == X.IsViewable
                    geometry = _root_geometry(conn, window)
                except xlib_error.BadWindow:
                    continue  # It went away while we looked.
                found.append(
                    EmbeddedIcon(
                        window_id=window.id,
                        wm_class=None if wm_class is None else (wm_class[0], wm_class[1]),
                        pid=int(pid_prop.value[0]) if pid_prop and len(pid_prop.value) else None,
                        geometry=geometry,
                        viewable=viewable,
                    )
                )
            return found

    def wait_for_icon(self, timeout: float) -> EmbeddedIcon:
        """The first viewable embedded icon of a real size, once there is one."""
        deadline = time.monotonic() + timeout
        while True:
            for icon in self.icons():
                if icon.viewable and icon.geometry.width > 1 and icon.geometry.height > 1:
                    return icon
            if self.process.poll() is not None:
                raise TrayHostError(
                    f"trayer exited (code {self.process.returncode}):\n{_tail(self.log)}"
                )
            if time.monotonic() > deadline:
                raise TrayHostError(f"no icon was embedded in the tray within {timeout:.0f} s")
            time.sleep(0.1)


@contextmanager
def trayer_host(display: XDisplay) -> Iterator[TrayHost]:
    """Run trayer on the display for the duration of the block."""
    if shutil.which("trayer") is None:
        raise TrayHostError("trayer is not installed; install the trayer package")
    with tempfile.TemporaryDirectory(prefix="mirix-trayer-") as scratch:
        log = Path(scratch) / "trayer.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                TRAYER_COMMAND,
                env=display.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_for_selection(display, process, log)
            yield TrayHost(display, process, log)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
            process.wait()


def tray_available(display: XDisplay) -> bool:
    """Whether some client owns the system-tray selection of screen 0."""
    with _connect(display) as conn:
        selection = conn.intern_atom("_NET_SYSTEM_TRAY_S0")
        owner = conn.get_selection_owner(selection)
        return owner not in (X.NONE, None) and getattr(owner, "id", owner) != X.NONE


def _wait_for_selection(display: XDisplay, process: subprocess.Popen[bytes], log: Path) -> None:
    # An app started before trayer owns the selection would find no tray and fall
    # back to its status window; and the panel must be mapped before a test looks.
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if tray_available(display):
            with _connect(display) as conn:
                if _find_panel(conn) is not None:
                    return
        if process.poll() is not None:
            raise TrayHostError(f"trayer exited (code {process.returncode}):\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise TrayHostError(f"trayer did not claim the system tray:\n{_tail(log)}")
        time.sleep(0.05)


@contextmanager
def _connect(display: XDisplay) -> Iterator[xlib_display.Display]:
    with closing(xlib_display.Display(display.name)) as conn:
        yield conn


def _find_panel(conn: xlib_display.Display) -> Window | None:
    """trayer's panel window: WM_CLASS ("panel", "trayer"), mapped."""
    for window in _descendants(conn.screen().root):
        try:
            wm_class = window.get_wm_class()
            if wm_class is None or tuple(wm_class) != ("panel", "trayer"):
                continue
            if window.get_attributes().map_state == X.IsViewable:
                return window
        except xlib_error.BadWindow:
            continue
    return None


def _descendants(window: Window) -> Iterator[Window]:
    try:
        children = window.query_tree().children
    except xlib_error.BadWindow:
        return
    for child in children:
        yield child
        yield from _descendants(child)


def _root_geometry(conn: xlib_display.Display, window: Window) -> Geometry:
    geometry = window.get_geometry()
    # The window's own origin, translated into root coordinates.
    origin = conn.screen().root.translate_coords(window, 0, 0)
    return Geometry(origin.x, origin.y, geometry.width, geometry.height)


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return "(no log)"
