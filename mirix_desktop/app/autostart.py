"""Starting mirix-desktop at log-in on Linux desktops: the XDG autostart entry.

`enable` writes `$XDG_CONFIG_HOME/autostart/mirix-desktop.desktop` (by default
`~/.config/autostart/`), which GNOME, KDE, Xfce, Cinnamon, MATE, LXQt and
most other desktops run when the session starts; `disable` removes it. Both
are idempotent and say what they did.

The entry runs this very install by its absolute path (the venv's
`mirix-desktop` script or the frozen program): a session's PATH rarely holds
a venv or `~/.local/bin`. A data dir chosen for the command is written into
it, so the app started at log-in opens the same store.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mirix_desktop.assets import asset_path
from mirix_desktop.errors import KnownError

ENTRY_NAME = "mirix-desktop.desktop"
# The Qt app's WM_CLASS (QApplication's application name, argv[0] "mirix-desktop"):
# docks group the windows under the entry by it.
WM_CLASS = "mirix-desktop"

# Characters that make the desktop-entry spec's Exec key want an argument quoted.
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


class AutostartUnavailable(KnownError):
    """No autostart folder can be found or written: the message says what to do instead."""

    exit_code = 6


@dataclass(frozen=True)
class AutostartChange:
    """What `enable` or `disable` did to the entry at `path`."""

    path: Path
    action: Literal["created", "updated", "unchanged", "removed", "absent"]

    @property
    def changed(self) -> bool:
        return self.action in ("created", "updated", "removed")


def autostart_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/autostart`, else `$HOME/.config/autostart` (the XDG base dir rules)."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        raise AutostartUnavailable(
            "XDG autostart is for Linux desktops. On macOS add mirix-desktop to "
            "System Settings > General > Login Items; on Windows put a shortcut to "
            "`mirix-desktop run` in the Startup folder (Win+R, shell:startup)."
        )
    config_home = env.get("XDG_CONFIG_HOME", "")
    # The spec says a relative XDG_CONFIG_HOME is invalid and to be ignored.
    if config_home and Path(config_home).is_absolute():
        return Path(config_home) / "autostart"
    home = env.get("HOME", "")
    if home and Path(home).is_absolute():
        return Path(home) / ".config" / "autostart"
    raise AutostartUnavailable(
        "No XDG config folder: neither XDG_CONFIG_HOME nor HOME is set to an absolute "
        "path. Set one (e.g. `export XDG_CONFIG_HOME=$HOME/.config`) and run this again, "
        "or add `mirix-desktop run` to your desktop's startup applications by hand."
    )


def launch_command() -> list[str]:
    """How this install of mirix-desktop is started, as absolute as can be found."""
    if getattr(sys, "frozen", False):  # the PyInstaller folder: the program itself
        return [sys.executable]
    # The console script beside this interpreter (a venv's bin/, pipx), not resolved:
    # the venv's python is a symlink to the system one.
    beside = Path(sys.executable).parent / "mirix-desktop"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    on_path = shutil.which("mirix-desktop")
    if on_path:
        return [str(Path(on_path).absolute())]
    return [sys.executable, "-m", "mirix_desktop"]


def exec_argument(argument: str) -> str:
    """One argument as the Exec key wants it: quoted when needed, `%` doubled, string-escaped."""
    if any(ord(char) < 0x20 for char in argument):
        raise ValueError(f"cannot put a control character in a desktop entry: {argument!r}")
    argument = argument.replace("%", "%%")  # a lone % starts a field code (%f, %u, ...)
    if any(char in _EXEC_RESERVED for char in argument) or not argument:
        argument = '"' + re.sub(r'(["`$\\])', r"\\\1", argument) + '"'
    # The string-value escape is applied on top of the quoting: "\\" in the file is one "\".
    return argument.replace("\\", "\\\\")


def desktop_entry(command: Sequence[str], icon: str) -> str:
    """The autostart entry's text: starts `command run` (the tray app) at log-in."""
    exec_line = " ".join(exec_argument(part) for part in [*command, "run"])
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=MIRIX\n"
        "GenericName=Screen memory\n"
        "Comment=Your screen history, remembered locally and encrypted\n"
        f"Exec={exec_line}\n"
        f"Icon={icon}\n"
        "Terminal=false\n"
        "Categories=Utility;\n"
        f"StartupWMClass={WM_CLASS}\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def autostart_entry(data_dir: Path | None = None) -> str:
    """The entry `enable` writes for this install, and for `data_dir` when one was chosen."""
    command = launch_command()
    if data_dir is not None:
        command += ["--data-dir", str(data_dir.expanduser().absolute())]
    # The icon by path: it shows even when the hicolor icon was never installed.
    return desktop_entry(command, str(asset_path("icons", "mirix.svg")))


def enable(
    data_dir: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> AutostartChange:
    """Writes the autostart entry (again, if it differs); nothing happens if it is current."""
    path = autostart_dir(environ) / ENTRY_NAME
    text = autostart_entry(data_dir)
    try:
        if path.is_file():
            if path.read_text(encoding="utf-8") == text:
                return AutostartChange(path, "unchanged")
            action: Literal["created", "updated"] = "updated"
        else:
            action = "created"
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed: a session starting now never reads half an entry.
        partial = path.with_name(f".{ENTRY_NAME}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise AutostartUnavailable(f"Cannot write {path}: {exc.strerror or exc}") from exc
    return AutostartChange(path, action)


def disable(*, environ: Mapping[str, str] | None = None) -> AutostartChange:
    """Removes the autostart entry; nothing happens if there is none."""
    path = autostart_dir(environ) / ENTRY_NAME
    try:
        path.unlink()
    except FileNotFoundError:
        return AutostartChange(path, "absent")
    except OSError as exc:
        raise AutostartUnavailable(f"Cannot remove {path}: {exc.strerror or exc}") from exc
    return AutostartChange(path, "removed")


def is_enabled(*, environ: Mapping[str, str] | None = None) -> bool:
    """Whether an autostart entry for mirix-desktop exists."""
    return (autostart_dir(environ) / ENTRY_NAME).is_file()
