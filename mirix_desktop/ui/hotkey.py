"""The global hotkey that opens the quick query box, and giving focus back afterwards.

One chord (`ui.hotkey`, default Ctrl+Alt+Space) is registered with the
system, and only that chord: this process never sees any other key.

- **X11**: a passive `XGrabKey` of the chord on the root window, on a
  connection of our own (python-xlib), with the same chord plus NumLock,
  CapsLock and both, since X matches modifier masks exactly. The X server
  sends us a KeyPress only when that chord is pressed; the connection's
  socket is watched by a QSocketNotifier on the GUI thread. A chord another
  client already grabbed fails with BadAccess: reported as "taken".
- **Windows**: `RegisterHotKey` (user32, through ctypes) with MOD_NOREPEAT;
  WM_HOTKEY reaches Qt's event dispatcher and a native event filter.
  ERROR_HOTKEY_ALREADY_REGISTERED is "taken". Written, not tested here.
- **macOS**: Carbon's `RegisterEventHotKey` with an event handler on the
  application target (still how global hotkeys are done without
  accessibility rights); eventHotKeyExistsErr is "taken". Written, not
  tested here.
- **Wayland** (and any other platform) has no global grab for clients: the
  box opens from a desktop shortcut bound to `mirix-desktop query`.

`probe_hotkey` grabs and releases the chord once, with no event loop, for
`doctor`. `FocusKeeper` records the active window before the box shows and
activates it again when the box closes (X11's _NET_ACTIVE_WINDOW; Windows'
foreground window).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from mirix_desktop.chord import Chord, ChordError, parse_chord
from mirix_desktop.ui.qt import QObject, QtCore, QtGui, Signal

log = logging.getLogger("mirix.ui.hotkey")

Outcome = Literal["registered", "taken", "unsupported", "off", "failed"]
# Holding the chord repeats its key; one press opens the box once.
REPEAT_GAP_S = 0.3


@dataclass(frozen=True)
class HotkeyResult:
    """What registering the chord came to, in a person's words."""

    outcome: Outcome
    chord: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.outcome == "registered"


def taken_text(chord: str, config_file: object) -> str:
    """The notice for a chord another program holds: what to change, and where."""
    return (
        f"{chord} is already used by another program, so it cannot open MIRIX Quick Query. "
        f"Choose another chord in ui.hotkey in {config_file} (for example "
        f'hotkey = "Ctrl+Alt+M" under [ui]) and restart MIRIX, or bind a shortcut of '
        "your desktop to `mirix-desktop query`."
    )


def unsupported_text() -> str:
    return (
        "This desktop gives programs no global hotkey (Wayland): bind a shortcut in your "
        "desktop's keyboard settings to the command `mirix-desktop query`."
    )


def _backend_name(display_name: str | None) -> str:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    if display_name is not None:
        return "x11"
    platform = QtGui.QGuiApplication.platformName()
    if platform == "xcb" and os.environ.get("DISPLAY"):
        return "x11"
    return "none"


class GlobalHotkey(QObject):
    """One registered chord; `activated` fires on the GUI thread when it is pressed.

    `display_name` forces the X11 back end on that display (tests, or an app
    on another platform plugin); by default the back end follows the platform.
    """

    activated = Signal()

    def __init__(
        self, chord_text: str, parent: QObject | None = None, *, display_name: str | None = None
    ) -> None:
        super().__init__(parent)
        self.chord_text = chord_text
        self._display_name = display_name
        self._backend: _Backend | None = None
        self._last = 0.0

    def register(self) -> HotkeyResult:
        """Registers the chord; the result says whether it worked and, if not, why."""
        self.unregister()
        if not self.chord_text.strip():
            return HotkeyResult("off", "", "no hotkey configured (ui.hotkey is empty)")
        try:
            chord = parse_chord(self.chord_text)
        except ChordError as exc:
            return HotkeyResult("failed", self.chord_text, str(exc))
        name = _backend_name(self._display_name)
        backend: _Backend
        if name == "x11":
            backend = _X11Backend(chord, self._display_name, self._fire)
        elif name == "windows":
            backend = _WindowsBackend(chord, self._fire)
        elif name == "macos":
            backend = _MacBackend(chord, self._fire)
        else:
            return HotkeyResult("unsupported", str(chord), unsupported_text())
        result = backend.register()
        if result.ok:
            self._backend = backend
            log.info("global hotkey %s registered (%s)", chord, name)
        else:
            log.warning("global hotkey %s not registered: %s", chord, result.detail)
        return result

    def unregister(self) -> None:
        if self._backend is not None:
            self._backend.unregister()
            self._backend = None

    @property
    def registered(self) -> bool:
        return self._backend is not None

    @property
    def backend(self) -> object | None:
        """The platform back end in use (tests look at what it received)."""
        return self._backend

    def _fire(self) -> None:
        now = time.monotonic()
        if now - self._last < REPEAT_GAP_S:
            return
        self._last = now
        self.activated.emit()


def probe_hotkey(chord_text: str, display_name: str | None = None) -> HotkeyResult:
    """Grabs the chord and lets it go at once: can the app have it? (for `doctor`)

    Needs no event loop. While the app itself holds the chord this says
    "taken": `doctor` says so in its words.
    """
    if not chord_text.strip():
        return HotkeyResult("off", "", "no hotkey configured (ui.hotkey is empty)")
    try:
        chord = parse_chord(chord_text)
    except ChordError as exc:
        return HotkeyResult("failed", chord_text, str(exc))
    if sys.platform in ("win32", "darwin"):
        return HotkeyResult(
            "unsupported", str(chord), "not checked here: the app registers it at start"
        )
    name = display_name or os.environ.get("DISPLAY")
    if not name:
        return HotkeyResult("unsupported", str(chord), "no X11 display here. " + unsupported_text())
    backend = _X11Backend(chord, name, lambda: None, watch=False)
    result = backend.register()
    backend.unregister()
    return result


# -- back ends -------------------------------------------------------------------------------
class _Backend:
    def register(self) -> HotkeyResult:
        raise NotImplementedError

    def unregister(self) -> None:
        raise NotImplementedError


# X11 keysym names of the Chord's named keys that differ from them.
_X11_KEYSYMS = {"Space": "space"}


class _X11Backend(_Backend):
    """XGrabKey of one chord (and its lock variants) on the root window, own connection."""

    def __init__(
        self,
        chord: Chord,
        display_name: str | None,
        fire: Callable[[], None],
        *,
        watch: bool = True,
    ) -> None:
        self.chord = chord
        self.display_name = display_name
        self.fire = fire
        self.watch = watch
        self.conn: Any = None
        self.keycode = 0
        self.masks: list[int] = []
        self.notifier: QtCore.QSocketNotifier | None = None
        # The key code of every key event this connection got: only the chord's
        # keys, while its grab is active (tests check it).
        self.key_events: list[int] = []

    def register(self) -> HotkeyResult:
        from Xlib import XK, X
        from Xlib import display as xdisplay
        from Xlib import error as xerror

        chord = str(self.chord)
        try:
            self.conn = xdisplay.Display(self.display_name)
        except (xerror.DisplayError, xerror.ConnectionClosedError, OSError) as exc:
            return HotkeyResult("failed", chord, f"cannot connect to the X display: {exc}")
        conn = self.conn
        keysym = XK.string_to_keysym(_X11_KEYSYMS.get(self.chord.key, self.chord.key))
        self.keycode = conn.keysym_to_keycode(keysym) if keysym else 0
        if not self.keycode:
            self._close()
            return HotkeyResult("failed", chord, f"this keyboard has no {self.chord.key} key")
        masks = _modifier_masks(conn)
        base = 0
        for modifier in self.chord.modifiers:
            base |= masks[modifier]
        # X matches the modifier state exactly: the chord with NumLock or
        # CapsLock on is another chord, grabbed too.
        locks = [0, X.LockMask, masks["numlock"], X.LockMask | masks["numlock"]]
        self.masks = sorted({base | lock for lock in locks})
        root = conn.screen().root
        catcher = xerror.CatchError(xerror.BadAccess)
        for mask in self.masks:
            root.grab_key(self.keycode, mask, False, X.GrabModeAsync, X.GrabModeAsync, catcher)
        conn.sync()  # errors arrive asynchronously: wait for the server's verdict
        if catcher.get_error() is not None:
            # Release the variants that did succeed, and the connection.
            self._ungrab()
            self._close()
            return HotkeyResult("taken", chord, f"{chord} is already grabbed by another program")
        if self.watch:
            self.notifier = QtCore.QSocketNotifier(conn.fileno(), QtCore.QSocketNotifier.Type.Read)
            self.notifier.activated.connect(self._read_events)
        return HotkeyResult("registered", chord, f"{chord} (X11 key grab)")

    def _read_events(self) -> None:
        from Xlib import X
        from Xlib import error as xerror

        conn = self.conn
        if conn is None:
            return
        try:
            while conn.pending_events():
                event = conn.next_event()
                if event.type in (X.KeyPress, X.KeyRelease):
                    self.key_events.append(int(event.detail))
                if event.type == X.KeyPress and event.detail == self.keycode:
                    self.fire()
        except (xerror.ConnectionClosedError, OSError) as exc:
            log.warning("the X connection of the hotkey closed: %s", exc)
            self._stop_watching()
            self.conn = None

    def unregister(self) -> None:
        self._stop_watching()
        self._ungrab()
        self._close()

    def _stop_watching(self) -> None:
        if self.notifier is not None:
            self.notifier.setEnabled(False)
            self.notifier.deleteLater()
            self.notifier = None

    def _ungrab(self) -> None:
        if self.conn is None or not self.keycode:
            return
        from Xlib import error as xerror

        root = self.conn.screen().root
        try:
            for mask in self.masks:
                root.ungrab_key(self.keycode, mask)
            self.conn.sync()
        except (xerror.ConnectionClosedError, OSError):
            pass

    def _close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                log.debug("closing the hotkey's X connection failed", exc_info=True)
            self.conn = None


def _modifier_masks(conn: Any) -> dict[str, int]:
    """Which X modifier bit Alt, Super and NumLock sit on with this keyboard map."""
    from Xlib import XK, X

    masks = {"ctrl": X.ControlMask, "shift": X.ShiftMask, "alt": X.Mod1Mask, "super": X.Mod4Mask}
    wanted = {"alt": ("Alt_L", "Alt_R"), "super": ("Super_L", "Super_R"), "numlock": ("Num_Lock",)}
    bits = [X.ShiftMask, X.LockMask, X.ControlMask, X.Mod1Mask, X.Mod2Mask, X.Mod3Mask]
    bits += [X.Mod4Mask, X.Mod5Mask]
    mapping = conn.get_modifier_mapping()
    found: dict[str, int] = {}
    for name, keysym_names in wanted.items():
        codes = {conn.keysym_to_keycode(XK.string_to_keysym(n)) for n in keysym_names} - {0}
        for index, keycodes in enumerate(mapping):
            if index >= 3 and codes & {int(code) for code in keycodes if code}:
                found[name] = bits[index]
                break
    masks.update({k: v for k, v in found.items() if k != "numlock"})
    masks["numlock"] = found.get("numlock", X.Mod2Mask)
    return masks


# -- Windows: RegisterHotKey (written, untested here) -----------------------------------------
_WIN_MODIFIERS = {"alt": 0x0001, "ctrl": 0x0002, "shift": 0x0004, "super": 0x0008}
_MOD_NOREPEAT = 0x4000
_WM_HOTKEY = 0x0312
_ERROR_HOTKEY_ALREADY_REGISTERED = 1409
_WIN_KEYS = {
    "Space": 0x20,
    "Return": 0x0D,
    "Tab": 0x09,
    "Escape": 0x1B,
    "BackSpace": 0x08,
    "Insert": 0x2D,
    "Delete": 0x2E,
    "Home": 0x24,
    "End": 0x23,
    "Page_Up": 0x21,
    "Page_Down": 0x22,
    "Left": 0x25,
    "Up": 0x26,
    "Right": 0x27,
    "Down": 0x28,
    "Pause": 0x13,
    "Print": 0x2C,
    "slash": 0xBF,
    "period": 0xBE,
    "comma": 0xBC,
    "semicolon": 0xBA,
    "minus": 0xBD,
    "equal": 0xBB,
    "grave": 0xC0,
}


def windows_virtual_key(key: str) -> int | None:
    """The Windows virtual-key code of a Chord key."""
    if len(key) == 1:
        return ord(key.upper())  # VK_A..VK_Z and VK_0..VK_9 are their ASCII codes
    if key.startswith("F") and key[1:].isdigit():
        return 0x70 + int(key[1:]) - 1  # VK_F1 = 0x70 ... VK_F24 = 0x87
    return _WIN_KEYS.get(key)


class _WindowsBackend(_Backend):
    """RegisterHotKey on the GUI thread's queue; WM_HOTKEY through a native event filter."""

    _next_id = 0xB000

    def __init__(self, chord: Chord, fire: Callable[[], None]) -> None:
        self.chord = chord
        self.fire = fire
        _WindowsBackend._next_id += 1
        self.hotkey_id = _WindowsBackend._next_id
        self.filter: Any = None

    def register(self) -> HotkeyResult:
        if sys.platform == "win32":
            return self._register()
        return HotkeyResult("unsupported", str(self.chord), "RegisterHotKey is Windows only")

    def unregister(self) -> None:
        if sys.platform == "win32":
            self._unregister()

    if sys.platform == "win32":

        def _register(self) -> HotkeyResult:
            import ctypes

            chord = str(self.chord)
            vk = windows_virtual_key(self.chord.key)
            if vk is None:
                return HotkeyResult("failed", chord, f"no Windows key code for {self.chord.key}")
            modifiers = _MOD_NOREPEAT
            for modifier in self.chord.modifiers:
                modifiers |= _WIN_MODIFIERS[modifier]
            user32 = ctypes.WinDLL("user32", use_last_error=True)
            # A null window: WM_HOTKEY goes to this (the GUI) thread's message queue.
            if not user32.RegisterHotKey(None, self.hotkey_id, modifiers, vk):
                code = ctypes.get_last_error()
                if code == _ERROR_HOTKEY_ALREADY_REGISTERED:
                    return HotkeyResult("taken", chord, f"{chord} is registered by another program")
                return HotkeyResult("failed", chord, f"RegisterHotKey failed (error {code})")
            self.filter = _make_windows_filter(self.hotkey_id, self.fire)
            app = QtCore.QCoreApplication.instance()
            if app is not None:
                app.installNativeEventFilter(self.filter)
            return HotkeyResult("registered", chord, f"{chord} (RegisterHotKey)")

        def _unregister(self) -> None:
            import ctypes

            ctypes.WinDLL("user32").UnregisterHotKey(None, self.hotkey_id)
            app = QtCore.QCoreApplication.instance()
            if app is not None and self.filter is not None:
                app.removeNativeEventFilter(self.filter)
            self.filter = None


def _make_windows_filter(hotkey_id: int, fire: Callable[[], None]) -> Any:
    import ctypes.wintypes

    class HotkeyFilter(QtCore.QAbstractNativeEventFilter):
        def nativeEventFilter(self, event_type: Any, message: Any) -> Any:
            if bytes(event_type) == b"windows_generic_MSG":
                msg = ctypes.wintypes.MSG.from_address(int(message))
                if msg.message == _WM_HOTKEY and msg.wParam == hotkey_id:
                    fire()
                    return True, 0
            return False, 0

    return HotkeyFilter()


# -- macOS: Carbon RegisterEventHotKey (written, untested here) ------------------------------
_MAC_MODIFIERS = {"super": 0x0100, "shift": 0x0200, "alt": 0x0800, "ctrl": 0x1000}
_EVENT_HOTKEY_EXISTS = -9878
# Virtual key codes of the ANSI layout (HIToolbox/Events.h, kVK_*).
_MAC_KEYS = {
    **dict(
        zip("asdfhgzxcv", [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09], strict=True)
    ),
    **dict(zip("bqweryt", [0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11], strict=True)),
    **dict(zip("123465", [0x12, 0x13, 0x14, 0x15, 0x16, 0x17], strict=True)),
    **dict(zip("97", [0x19, 0x1A], strict=True)),
    **dict(
        zip("80ouipljkn", [0x1C, 0x1D, 0x1F, 0x20, 0x22, 0x23, 0x25, 0x26, 0x28, 0x2D], strict=True)
    ),
    "m": 0x2E,
    "equal": 0x18,
    "minus": 0x1B,
    "semicolon": 0x29,
    "comma": 0x2B,
    "slash": 0x2C,
    "period": 0x2F,
    "grave": 0x32,
    "Return": 0x24,
    "Tab": 0x30,
    "Space": 0x31,
    "BackSpace": 0x33,
    "Escape": 0x35,
    "Delete": 0x75,
    "Home": 0x73,
    "End": 0x77,
    "Page_Up": 0x74,
    "Page_Down": 0x79,
    "Left": 0x7B,
    "Right": 0x7C,
    "Down": 0x7D,
    "Up": 0x7E,
    "F1": 0x7A,
    "F2": 0x78,
    "F3": 0x63,
    "F4": 0x76,
    "F5": 0x60,
    "F6": 0x61,
    "F7": 0x62,
    "F8": 0x64,
    "F9": 0x65,
    "F10": 0x6D,
    "F11": 0x67,
    "F12": 0x6F,
    "F13": 0x69,
    "F14": 0x6B,
    "F15": 0x71,
    "F16": 0x6A,
    "F17": 0x40,
    "F18": 0x4F,
    "F19": 0x50,
    "F20": 0x5A,
}


def _four_cc(code: str) -> int:
    return int.from_bytes(code.encode("ascii"), "big")


class _MacBackend(_Backend):
    """RegisterEventHotKey on the application event target; kEventHotKeyPressed calls back."""

    def __init__(self, chord: Chord, fire: Callable[[], None]) -> None:
        self.chord = chord
        self.fire = fire
        self.hotkey_ref: Any = None
        self.handler_ref: Any = None
        self.callback: Any = None  # kept alive: Carbon holds only its address

    def register(self) -> HotkeyResult:
        if sys.platform == "darwin":
            return self._register()
        return HotkeyResult("unsupported", str(self.chord), "Carbon exists only on macOS")

    def unregister(self) -> None:
        if sys.platform == "darwin":
            self._unregister()

    if sys.platform == "darwin":

        def _register(self) -> HotkeyResult:
            import ctypes

            chord = str(self.chord)

            key = _MAC_KEYS.get(self.chord.key)
            if key is None:
                return HotkeyResult("failed", chord, f"no macOS key code for {self.chord.key}")
            modifiers = 0
            for modifier in self.chord.modifiers:
                modifiers |= _MAC_MODIFIERS[modifier]
            carbon = ctypes.CDLL("/System/Library/Frameworks/Carbon.framework/Carbon")

            class EventTypeSpec(ctypes.Structure):
                _fields_ = [("eventClass", ctypes.c_uint32), ("eventKind", ctypes.c_uint32)]

            class EventHotKeyID(ctypes.Structure):
                _fields_ = [("signature", ctypes.c_uint32), ("id", ctypes.c_uint32)]

            handler_type = ctypes.CFUNCTYPE(
                ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p
            )

            def on_event(_call: Any, _event: Any, _data: Any) -> int:
                self.fire()
                return 0

            self.callback = handler_type(on_event)
            carbon.GetApplicationEventTarget.restype = ctypes.c_void_p
            target = ctypes.c_void_p(carbon.GetApplicationEventTarget())
            spec = EventTypeSpec(_four_cc("keyb"), 5)  # kEventClassKeyboard, kEventHotKeyPressed
            handler_ref = ctypes.c_void_p()
            status = carbon.InstallEventHandler(
                target, self.callback, 1, ctypes.byref(spec), None, ctypes.byref(handler_ref)
            )
            if status != 0:
                return HotkeyResult("failed", chord, f"InstallEventHandler failed ({status})")
            self.handler_ref = handler_ref
            hotkey_ref = ctypes.c_void_p()
            status = carbon.RegisterEventHotKey(
                ctypes.c_uint32(key),
                ctypes.c_uint32(modifiers),
                EventHotKeyID(_four_cc("MIRX"), 1),
                target,
                ctypes.c_uint32(0),
                ctypes.byref(hotkey_ref),
            )
            if status == _EVENT_HOTKEY_EXISTS:
                self.unregister()
                return HotkeyResult("taken", chord, f"{chord} is registered by another program")
            if status != 0:
                self.unregister()
                return HotkeyResult("failed", chord, f"RegisterEventHotKey failed ({status})")
            self.hotkey_ref = hotkey_ref
            return HotkeyResult("registered", chord, f"{chord} (Carbon hot key)")

        def _unregister(self) -> None:
            import ctypes

            carbon = ctypes.CDLL("/System/Library/Frameworks/Carbon.framework/Carbon")
            if self.hotkey_ref is not None:
                carbon.UnregisterEventHotKey(self.hotkey_ref)
                self.hotkey_ref = None
            if self.handler_ref is not None:
                carbon.RemoveEventHandler(self.handler_ref)
                self.handler_ref = None


# -- focus: back to the window the person was in ----------------------------------------------
class FocusKeeper:
    """Remembers the active window of another program and activates it again.

    X11: _NET_ACTIVE_WINDOW read from the root window, and a _NET_ACTIVE_WINDOW
    request (source "pager", which window managers honour over their focus-
    stealing rules) to give it back. Windows: Get/SetForegroundWindow.
    Elsewhere it does nothing: the system gives focus back when our window hides.
    """

    def __init__(self, display_name: str | None = None) -> None:
        self._display_name = display_name
        self._conn: Any = None
        self.remembered: int | None = None

    def remember(self, own: set[int] | None = None) -> int | None:
        """Records the active window (not one of `own`, our windows' ids)."""
        found = self._active()
        self.remembered = found if found and found not in (own or set()) else None
        return self.remembered

    def restore(self) -> bool:
        """Activates the remembered window; False when there was none or it is gone."""
        window, self.remembered = self.remembered, None
        if window is None:
            return False
        try:
            return self._activate(window)
        except Exception:
            log.info("could not give focus back to window %#x", window, exc_info=True)
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                log.debug("closing the focus connection failed", exc_info=True)
            self._conn = None

    def _x11(self) -> Any:
        if self._conn is None:
            from Xlib import display as xdisplay

            name = self._display_name or os.environ.get("DISPLAY")
            if not name or sys.platform in ("win32", "darwin"):
                return None
            self._conn = xdisplay.Display(name)
        return self._conn

    def _active(self) -> int | None:
        if sys.platform == "win32":
            import ctypes

            handle = ctypes.WinDLL("user32").GetForegroundWindow()
            return int(handle) if handle else None
        try:
            conn = self._x11()
            if conn is None:
                return None
            from Xlib import X

            root = conn.screen().root
            prop = root.get_full_property(conn.intern_atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
        except Exception:
            log.debug("cannot read the active window", exc_info=True)
            self.close()
            return None
        if prop is None or not prop.value:
            return None
        window = int(prop.value[0])
        return window or None

    def _activate(self, window: int) -> bool:
        if sys.platform == "win32":
            import ctypes

            return bool(ctypes.WinDLL("user32").SetForegroundWindow(window))
        conn = self._x11()
        if conn is None:
            return False
        from Xlib import X
        from Xlib.protocol import event as xevent

        root = conn.screen().root
        target = conn.create_resource_object("window", window)
        message = xevent.ClientMessage(
            window=target,
            client_type=conn.intern_atom("_NET_ACTIVE_WINDOW"),
            data=(32, [2, X.CurrentTime, 0, 0, 0]),
        )
        root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        conn.sync()
        return True
