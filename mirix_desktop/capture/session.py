"""What the desktop session shows: visible windows, the active one, idle time, lock state.

One interface, `DesktopProbe`, with an implementation per platform:
- X11 through python-xlib and EWMH (`_NET_ACTIVE_WINDOW`,
  `_NET_CLIENT_LIST_STACKING`, `WM_CLASS`, `_NET_WM_NAME`, `_NET_WM_PID` and
  the process name), idle time and blanking from the MIT-SCREEN-SAVER
  extension, and logind's LockedHint where there is one;
- Windows (ctypes/user32) and macOS (pyobjc Quartz/AppKit), import-guarded:
  they are written against the platform APIs but not exercised by this
  repository's CI, which runs on Linux only.
Browsers do not expose the page URL to any of these APIs; the pipeline reads
it from the browser's address bar text instead (see pipeline.windows).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Protocol

import psutil

from mirix_desktop.errors import CaptureUnavailable
from mirix_desktop.geometry import Rect

log = logging.getLogger("mirix.capture.session")

# logind is asked about the lock at most this often: it is a process spawn.
_LOCK_CHECK_INTERVAL_S = 10.0


@dataclass(frozen=True)
class WindowInfo:
    """A visible top-level window. `rect` is in virtual-screen pixels.

    `rect` is the window's own content; `frame` adds what the window manager
    draws around it (title bar, borders), where it says so. The title bar
    shows the title, so an excluded window is masked by its frame.
    """

    app: str | None
    title: str | None
    rect: Rect | None
    active: bool = False
    process: str | None = None
    url: str | None = None
    frame: Rect | None = None

    @property
    def outline(self) -> Rect | None:
        """Everything of the window on screen: its frame if known, else its rect."""
        return self.frame or self.rect


class DesktopProbe(Protocol):
    def windows(self) -> list[WindowInfo]:
        """Visible top-level windows, top-most first; the active one flagged."""
        ...

    def idle_seconds(self) -> float | None:
        """Seconds since the last keyboard or mouse input; None if unknown."""
        ...

    def screen_locked(self) -> bool:
        """True while the screen is locked or blanked by the screensaver."""
        ...

    def close(self) -> None: ...


def _process_name(pid: int | None) -> str | None:
    if not pid:
        return None
    try:
        return psutil.Process(pid).name()
    except (psutil.Error, OSError):
        return None


class NullProbe:
    """No desktop (ingest, tests): no windows, never idle or locked."""

    def windows(self) -> list[WindowInfo]:
        return []

    def idle_seconds(self) -> float | None:
        return None

    def screen_locked(self) -> bool:
        return False

    def close(self) -> None:
        pass


class X11Probe:
    """EWMH window list and screensaver state of an X11 display."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import X, display, error

        self._X = X
        self._errors: tuple[type[BaseException], ...] = (
            error.XError,
            error.ConnectionClosedError,
            OSError,
        )
        # A window closed between listing and asking about it is simply gone.
        self._vanished: tuple[type[BaseException], ...] = (error.BadWindow, error.BadDrawable)
        try:
            self._display = display.Display(display_name)
        except (error.DisplayError, OSError) as exc:
            name = display_name or os.environ.get("DISPLAY") or "(DISPLAY is not set)"
            raise CaptureUnavailable(f"cannot connect to the X display {name}: {exc}") from exc
        self._root = self._display.screen().root
        self._atoms: dict[str, int] = {}
        self._screensaver = self._display.has_extension("MIT-SCREEN-SAVER")
        self._logind_session = os.environ.get("XDG_SESSION_ID")
        self._loginctl = shutil.which("loginctl")
        self._lock_checked_at = 0.0
        self._locked_hint = False

    def _atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self._display.intern_atom(name)
        return self._atoms[name]

    def _property(self, window: Any, name: str) -> Any:
        prop = window.get_full_property(self._atom(name), self._X.AnyPropertyType)
        return None if prop is None else prop.value

    def _text(self, window: Any) -> str | None:
        value = self._property(window, "_NET_WM_NAME")
        if value is None:
            value = self._property(window, "WM_NAME")
        if value is None:
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)

    def _wm_class(self, window: Any) -> str | None:
        value = window.get_wm_class()
        if not value:
            return None
        # (instance, class): the class ("firefox", "Code", "KeePassXC") names the app.
        return str(value[1] or value[0])

    def _client_ids(self) -> list[int]:
        stacking = self._property(self._root, "_NET_CLIENT_LIST_STACKING")
        if stacking is not None:
            return list(reversed(list(stacking)))
        # No EWMH window manager: the root's children, top-most last.
        return [child.id for child in reversed(self._root.query_tree().children)]

    def _active_id(self) -> int | None:
        value = self._property(self._root, "_NET_ACTIVE_WINDOW")
        if value is not None and len(value) and value[0]:
            return int(value[0])
        focus = self._display.get_input_focus().focus
        return int(focus.id) if hasattr(focus, "id") else None

    def windows(self) -> list[WindowInfo]:
        try:
            return self._windows()
        except self._errors as exc:
            raise CaptureUnavailable(f"the X display stopped answering: {exc}") from exc

    def _windows(self) -> list[WindowInfo]:
        active = self._active_id()
        hidden = self._atom("_NET_WM_STATE_HIDDEN")
        skipped_types = {
            self._atom("_NET_WM_WINDOW_TYPE_DOCK"),
            self._atom("_NET_WM_WINDOW_TYPE_DESKTOP"),
        }
        found = []
        for window_id in self._client_ids():
            window = self._display.create_resource_object("window", window_id)
            try:
                if window.get_attributes().map_state != self._X.IsViewable:
                    continue
                states = self._property(window, "_NET_WM_STATE")
                if states is not None and hidden in list(states):
                    continue
                types = self._property(window, "_NET_WM_WINDOW_TYPE")
                if types is not None and skipped_types & set(types):
                    continue
                wm_class = self._wm_class(window)
                if wm_class is None:
                    continue
                geometry = window.get_geometry()
                origin = self._root.translate_coords(window, 0, 0)
                pid = self._property(window, "_NET_WM_PID")
                rect = Rect(origin.x, origin.y, geometry.width, geometry.height)
                found.append(
                    WindowInfo(
                        app=wm_class,
                        title=self._text(window),
                        rect=rect,
                        active=window_id == active,
                        process=_process_name(int(pid[0]) if pid is not None else None),
                        frame=self._frame(window, rect),
                    )
                )
            except self._vanished:
                continue
        return found

    def _frame(self, window: Any, rect: Rect) -> Rect | None:
        """The rect grown by the decorations the window manager declares (EWMH)."""
        extents = self._property(window, "_NET_FRAME_EXTENTS")
        if extents is None or len(extents) != 4:
            return None
        left, right, top, bottom = (int(v) for v in extents)
        if not any((left, right, top, bottom)):
            return None
        return Rect(
            rect.x - left, rect.y - top, rect.width + left + right, rect.height + top + bottom
        )

    def idle_seconds(self) -> float | None:
        if not self._screensaver:
            return None
        try:
            info = self._root.screensaver_query_info()
        except self._errors as exc:
            raise CaptureUnavailable(f"the X display stopped answering: {exc}") from exc
        return float(info.idle) / 1000.0

    def screen_locked(self) -> bool:
        if self._screensaver:
            from Xlib.ext import screensaver

            try:
                if self._root.screensaver_query_info().state == screensaver.StateOn:
                    return True
            except self._errors as exc:
                raise CaptureUnavailable(f"the X display stopped answering: {exc}") from exc
        return self._logind_locked()

    def _logind_locked(self) -> bool:
        if not (self._logind_session and self._loginctl):
            return False
        now = time.monotonic()
        if now - self._lock_checked_at >= _LOCK_CHECK_INTERVAL_S:
            self._lock_checked_at = now
            try:
                out = subprocess.run(
                    [self._loginctl, "show-session", self._logind_session, "-p", "LockedHint"],
                    capture_output=True,
                    text=True,
                    timeout=2,
                    check=False,
                ).stdout
                self._locked_hint = out.strip().endswith("=yes")
            except (OSError, subprocess.TimeoutExpired):
                self._locked_hint = False
        return self._locked_hint

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self._display.close()


class WindowsProbe:  # pragma: no cover - needs Windows
    """user32 through ctypes: foreground window, z-ordered visible windows, last input."""

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._ctypes = ctypes
        self._wintypes = wintypes
        self._user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        self._kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]

    def windows(self) -> list[WindowInfo]:
        ctypes, wintypes, user32 = self._ctypes, self._wintypes, self._user32
        foreground = user32.GetForegroundWindow()
        found: list[WindowInfo] = []
        handle = user32.GetTopWindow(None)
        while handle:
            if user32.IsWindowVisible(handle) and not user32.IsIconic(handle):
                length = user32.GetWindowTextLengthW(handle)
                if length:
                    buffer = ctypes.create_unicode_buffer(length + 1)
                    user32.GetWindowTextW(handle, buffer, length + 1)
                    rect = wintypes.RECT()
                    user32.GetWindowRect(handle, ctypes.byref(rect))
                    pid = wintypes.DWORD()
                    user32.GetWindowThreadProcessId(handle, ctypes.byref(pid))
                    process = _process_name(pid.value)
                    app = process.removesuffix(".exe") if process else None
                    found.append(
                        WindowInfo(
                            app=app,
                            title=buffer.value,
                            rect=Rect(
                                rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top
                            ),
                            active=handle == foreground,
                            process=process,
                        )
                    )
            handle = user32.GetWindow(handle, 2)  # GW_HWNDNEXT: next lower in z-order
        return found

    def idle_seconds(self) -> float | None:
        import ctypes

        class LastInput(ctypes.Structure):
            _fields_ = (("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint))

        info = LastInput()
        info.cbSize = ctypes.sizeof(info)
        if not self._user32.GetLastInputInfo(ctypes.byref(info)):
            return None
        return float(self._kernel32.GetTickCount() - info.dwTime) / 1000.0

    def screen_locked(self) -> bool:
        # The secure desktop (lock screen) has no foreground window for us.
        return not self._user32.GetForegroundWindow()

    def close(self) -> None:
        pass


class MacProbe:  # pragma: no cover - needs macOS
    """Quartz window list (front to back) and HID idle time; needs pyobjc."""

    def __init__(self) -> None:
        try:
            import Quartz
        except ImportError as exc:
            raise CaptureUnavailable(
                "window information on macOS needs pyobjc: pip install pyobjc-framework-Quartz"
            ) from exc
        self._quartz = Quartz

    def windows(self) -> list[WindowInfo]:
        quartz = self._quartz
        options = (
            quartz.kCGWindowListOptionOnScreenOnly | quartz.kCGWindowListExcludeDesktopElements
        )
        found = []
        for index, info in enumerate(quartz.CGWindowListCopyWindowInfo(options, 0) or []):
            if info.get("kCGWindowLayer", 0) != 0:
                continue
            bounds = info.get("kCGWindowBounds", {})
            found.append(
                WindowInfo(
                    app=info.get("kCGWindowOwnerName"),
                    title=info.get("kCGWindowName"),
                    rect=Rect(
                        int(bounds.get("X", 0)),
                        int(bounds.get("Y", 0)),
                        int(bounds.get("Width", 0)),
                        int(bounds.get("Height", 0)),
                    ),
                    active=index == 0,
                    process=_process_name(info.get("kCGWindowOwnerPID")),
                )
            )
        return found

    def idle_seconds(self) -> float | None:
        quartz = self._quartz
        return float(
            quartz.CGEventSourceSecondsSinceLastEventType(
                quartz.kCGEventSourceStateCombinedSessionState, quartz.kCGAnyInputEventType
            )
        )

    def screen_locked(self) -> bool:
        session = self._quartz.CGSessionCopyCurrentDictionary() or {}
        return bool(session.get("CGSSessionScreenIsLocked", False))

    def close(self) -> None:
        pass


def open_probe() -> DesktopProbe:
    """The probe for this platform; raises CaptureUnavailable when there is no desktop."""
    if sys.platform.startswith("win"):
        return WindowsProbe()
    if sys.platform == "darwin":
        return MacProbe()
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        raise CaptureUnavailable(
            "this is a Wayland session without XWayland's DISPLAY; screen capture needs X11 "
            "(log in to an X11 session, or run under XWayland)"
        )
    return X11Probe()
