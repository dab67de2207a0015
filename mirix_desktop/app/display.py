"""Whether a display can be reached here: for `run` (before Qt, which would abort
the process without one), `query` and `doctor`.

The X probe opens a plain socket instead of python-xlib, which leaks the
socket of a failed connection.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from contextlib import suppress
from pathlib import Path

X_CONNECT_TIMEOUT_S = 2.0
_X_DISPLAY_NAME = re.compile(r"^(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?$")


def x11_problem(name: str) -> str | None:
    """Why no X server answers at DISPLAY `name`, or None when one does."""
    match = _X_DISPLAY_NAME.match(name)
    if match is None:
        return f"DISPLAY={name} is not an X display name"
    host, number = match["host"], int(match["number"])
    try:
        if host in ("", "unix"):
            path = f"/tmp/.X11-unix/X{number}"
            # The file, or on Linux the same name in the abstract namespace.
            for address in (path, "\0" + path):
                with suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
                    probe.settimeout(X_CONNECT_TIMEOUT_S)
                    probe.connect(address)
                    return None
            raise OSError(f"nothing listens on {path}")
        with socket.create_connection((host, 6000 + number), timeout=X_CONNECT_TIMEOUT_S):
            return None
    except OSError as exc:
        return f"cannot connect to the X display {name}: {exc}"


def display_problem() -> str | None:
    """Why no window could be shown here, or None when a display seems reachable."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None  # Windows and macOS always have their desktop
    if os.environ.get("QT_QPA_PLATFORM"):
        return None  # a platform chosen on purpose (offscreen, vnc...)
    wayland = os.environ.get("WAYLAND_DISPLAY")
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    # A relative WAYLAND_DISPLAY lives in the runtime dir; an absolute one stays as it is.
    if (
        wayland
        and (os.path.isabs(wayland) or runtime)
        and (Path(runtime or "/") / wayland).exists()
    ):
        return None
    x11 = os.environ.get("DISPLAY")
    if x11:
        return x11_problem(x11)
    if wayland:
        return f"the Wayland display {wayland} cannot be found"
    return "neither DISPLAY nor WAYLAND_DISPLAY is set"
