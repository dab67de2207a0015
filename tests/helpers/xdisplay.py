"""A private X display for end-to-end tests: an Xvfb server, optionally managed by openbox.

This module owns the lifetime of those two processes and of the scratch directory they
and their clients use (runtime dir, window-manager config, server logs). Tests get an
`XDisplay` whose `env` points child processes at the display and nowhere else.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import mss
import mss.tools
from Xlib import Xatom
from Xlib import display as xlib_display
from Xlib import error as xlib_error

SERVER_START_TIMEOUT = 10.0
WM_START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

# Our own file, passed with --config-file, so neither ~/.config/openbox nor the
# distribution's rc.xml decides where focus goes: new windows take it, the (unused)
# pointer never moves it, and one desktop keeps _NET_ACTIVE_WINDOW unambiguous.
_OPENBOX_RC = """\
<?xml version="1.0" encoding="UTF-8"?>
<openbox_config xmlns="http://openbox.org/3.4/rc">
  <focus>
    <focusNew>yes</focusNew>
    <followMouse>no</followMouse>
  </focus>
  <desktops>
    <number>1</number>
  </desktops>
</openbox_config>
"""


class XDisplayError(RuntimeError):
    """The X server or window manager could not be started."""


@dataclass
class XDisplay:
    """A running display: its name, an environment for clients, and a way to stop it."""

    name: str
    env: dict[str, str]
    _stop: Callable[[], None] = field(repr=False, default=lambda: None)

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the whole screen."""
        with _open_mss(self.name) as grabber:
            shot = grabber.grab(grabber.monitors[0])
            mss.tools.to_png(shot.rgb, shot.size, output=str(path))

    def active_window_title(self) -> str | None:
        """The title of the window the window manager reports as active, if any."""
        result = subprocess.run(
            ["xdotool", "getactivewindow", "getwindowname"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if result.returncode != 0:
            return None
        return result.stdout.rstrip("\n")

    def stop(self) -> None:
        """Stop the window manager and the server; safe to call more than once."""
        self._stop()


@contextmanager
def xvfb_display(
    width: int = 1920, height: int = 1080, *, window_manager: bool = True
) -> Iterator[XDisplay]:
    """Run Xvfb (and openbox) for the duration of the block, then kill both."""
    if shutil.which("Xvfb") is None:
        raise XDisplayError("Xvfb is not installed; install the xvfb package to run e2e tests")
    if window_manager and shutil.which("openbox") is None:
        raise XDisplayError("openbox is not installed; install the openbox package")

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mirix-x-")))
        runtime_dir = scratch / "runtime"
        # Qt warns (and the suite fails on warnings) unless XDG_RUNTIME_DIR is 0700.
        runtime_dir.mkdir(mode=0o700)

        processes: list[subprocess.Popen[bytes]] = []

        def stop() -> None:
            # The window manager first, so it does not report a lost server connection.
            while processes:
                _terminate(processes.pop())

        stack.callback(stop)

        server = _start_server(scratch, width, height, processes)
        name = f":{server}"
        env = _client_env(name, runtime_dir)
        _check_connection(name, scratch / "xvfb.log")
        if window_manager:
            _start_window_manager(scratch, env, processes)
        yield XDisplay(name=name, env=env, _stop=stop)


def _start_server(
    scratch: Path, width: int, height: int, processes: list[subprocess.Popen[bytes]]
) -> int:
    """Start Xvfb on a display number of its choosing and return that number."""
    read_fd, write_fd = os.pipe()
    try:
        with open(scratch / "xvfb.log", "wb") as log:
            server = subprocess.Popen(
                [
                    "Xvfb",
                    # Xvfb writes the display number it claimed here once it accepts
                    # connections, which avoids races between parallel test runs.
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    f"{width}x{height}x24",
                    "-nolisten",
                    "tcp",
                    # Without it Xvfb resets when its last client leaves, which a
                    # start-up check closing its connection can trigger under load.
                    "-noreset",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                # Its own process group, so a Ctrl-C in the terminal reaches pytest only
                # and the context exit stays in charge of stopping the server.
                start_new_session=True,
            )
        processes.append(server)
        os.close(write_fd)
        write_fd = -1
        with os.fdopen(read_fd, "rb") as reader:
            read_fd = -1
            line = _read_line(reader, SERVER_START_TIMEOUT)
    finally:
        for fd in (read_fd, write_fd):
            if fd >= 0:
                os.close(fd)
    if not line.strip().isdigit():
        raise XDisplayError(
            f"Xvfb did not report a display number (exit code {server.poll()}):\n"
            + _tail(scratch / "xvfb.log")
        )
    return int(line)


def _read_line(reader: IO[bytes], timeout: float) -> bytes:
    """One line from a pipe, or what arrived before EOF or the deadline."""
    data = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(reader, selectors.EVENT_READ)
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                break
            chunk = os.read(reader.fileno(), 64)
            if not chunk:
                break
            data += chunk
    return data.split(b"\n", 1)[0]


def _client_env(name: str, runtime_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # A Wayland session on the host would otherwise win over DISPLAY for Qt and GTK.
    for key in ("WAYLAND_DISPLAY", "WAYLAND_SOCKET", "XAUTHORITY", "QT_QPA_PLATFORMTHEME"):
        env.pop(key, None)
    env.update(
        DISPLAY=name,
        QT_QPA_PLATFORM="xcb",
        XDG_SESSION_TYPE="x11",
        XDG_RUNTIME_DIR=str(runtime_dir),
    )
    return env


def _check_connection(name: str, log: Path) -> None:
    # Xvfb reports its number on -displayfd only once it accepts connections, so one
    # attempt suffices. Polling would be worse than useless: python-xlib leaks the
    # sockets of a failed attempt, and the suite turns ResourceWarnings into errors.
    try:
        xlib_display.Display(name).close()
    except (xlib_error.DisplayError, ConnectionError) as exc:
        raise XDisplayError(
            f"Xvfb on {name} does not accept connections ({exc}):\n" + _tail(log)
        ) from exc


def _start_window_manager(
    scratch: Path, env: dict[str, str], processes: list[subprocess.Popen[bytes]]
) -> None:
    config = scratch / "openbox-rc.xml"
    config.write_text(_OPENBOX_RC, encoding="utf-8")
    wm_env = dict(env)
    # openbox still looks up menus and themes in the XDG dirs; keep those per-display too.
    for key in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        wm_env[key] = str(scratch / key.lower())
    log_path = scratch / "openbox.log"
    with open(log_path, "wb") as log:
        wm = subprocess.Popen(
            ["openbox", "--sm-disable", "--config-file", str(config)],
            env=wm_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    processes.append(wm)

    deadline = time.monotonic() + WM_START_TIMEOUT
    while not _wm_running(env["DISPLAY"]):
        if wm.poll() is not None or time.monotonic() > deadline:
            raise XDisplayError(
                f"openbox did not start on {env['DISPLAY']} (exit code {wm.poll()}):\n"
                + _tail(log_path)
            )
        time.sleep(0.05)


def _wm_running(name: str) -> bool:
    """Whether an EWMH window manager has announced itself on the root window."""
    conn = xlib_display.Display(name)
    try:
        check = conn.intern_atom("_NET_SUPPORTING_WM_CHECK")
        prop = conn.screen().root.get_full_property(check, Xatom.WINDOW)
        if prop is None or not prop.value:
            return False
        # The announcement is only current if the child window points back to itself;
        # a stale property from a dead WM would not.
        child = conn.create_resource_object("window", int(prop.value[0]))
        try:
            own = child.get_full_property(check, Xatom.WINDOW)
        except xlib_error.BadWindow:
            return False
        return own is not None and bool(own.value) and int(own.value[0]) == child.id
    finally:
        conn.close()


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """Stop a process and reap it, escalating to SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return "(no log)"


def _open_mss(name: str) -> Any:
    # mss 10.2 deprecates the mss.mss() factory (a warning, so an error in the suite) in
    # favour of the MSS class, which older releases within our range lack.
    factory = getattr(mss, "MSS", None) or mss.mss
    return factory(display=name)
