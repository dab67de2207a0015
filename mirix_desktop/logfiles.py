"""The log files in `DATA_DIR/logs`: rotated, and readable by the user alone.

The daemon (`daemon.log`) and the tray app (`app.log`) log here. Logs hold
errors, states and counts, not what was on screen, yet they sit beside the
store and say when the person used the computer: like every file
mirix-desktop makes, they are 0600 in 0700 directories. The mode is set
when a file is opened, so the files rotation starts anew are private too,
and an older file left wider by an earlier version is narrowed.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from io import TextIOWrapper
from pathlib import Path

MAX_BYTES = 1_000_000
BACKUPS = 3
_FORMAT = "%(asctime)s %(name)s %(levelname)s: %(message)s"


def _private(path: Path | str) -> None:
    if sys.platform != "win32":  # pragma: no branch - Windows has no POSIX modes
        os.chmod(path, 0o600)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files only the user can read (0600)."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        for number in range(1, backups + 1):
            backup = Path(f"{self.baseFilename}.{number}")
            if backup.exists():
                _private(backup)

    def _open(self) -> TextIOWrapper:
        # Created 0600 rather than chmod-ed after: no moment when others may read it.
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            if sys.platform != "win32":  # pragma: no branch
                os.fchmod(fd, 0o600)
            return open(fd, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


def log_to_file(data_dir: Path, name: str) -> PrivateRotatingFileHandler:
    """Logs INFO and above of every logger to `data_dir/logs/name`; returns the handler."""
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if sys.platform != "win32":  # pragma: no branch
        os.chmod(log_dir, 0o700)
    handler = PrivateRotatingFileHandler(log_dir / name)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    mirix = logging.getLogger("mirix")
    if mirix.getEffectiveLevel() > logging.INFO:
        mirix.setLevel(logging.INFO)
    return handler
