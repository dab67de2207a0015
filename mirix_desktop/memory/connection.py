"""Opens a verified, encrypted SQLCipher connection with sqlite-vec loaded.

The checks here run before any write, so a file that is not ours (plaintext
SQLite, truncated, garbage) is refused and never overwritten.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TypeAlias

import sqlcipher3
import sqlite_vec

from mirix_desktop.errors import NotAStore, StoreLocked, UnencryptedStore

log = logging.getLogger("mirix.memory.connection")

# A sqlcipher3 connection; the package ships no type hints.
Connection: TypeAlias = Any

_SQLITE_HEADER = b"SQLite format 3\x00"
_PAGE_SIZE = 4096  # SQLCipher 4 default


def check_existing_file(path: Path) -> None:
    """Refuses files that cannot be one of our encrypted stores."""
    size = path.stat().st_size
    if size == 0:
        raise NotAStore(path, "the file is empty; it is not a mirix-desktop store")
    with path.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header == _SQLITE_HEADER:
        raise UnencryptedStore(
            path, "this is a plaintext SQLite database, not an encrypted mirix-desktop store"
        )
    if size % _PAGE_SIZE:
        raise NotAStore(
            path,
            f"the file is truncated or not a store (size {size} is not a whole number of "
            f"{_PAGE_SIZE}-byte pages)",
        )


def library_cipher_version() -> str:
    """SQLCipher's version in the SQLite library in use; "" if it does not encrypt."""
    conn = sqlcipher3.connect(":memory:")
    try:
        row = conn.execute("PRAGMA cipher_version").fetchone()
    finally:
        conn.close()
    return str(row[0]) if row and row[0] else ""


def connect(path: Path, key: bytes, *, cache_mb: int, busy_timeout_s: float) -> Any:
    """Returns a connection to `path` keyed with `key`, verified and tuned."""
    conn = sqlcipher3.connect(
        str(path), timeout=busy_timeout_s, check_same_thread=False, isolation_level=None
    )
    try:
        # Raw-key form: SQLCipher skips its own PBKDF2, our key is already derived.
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        version = conn.execute("PRAGMA cipher_version").fetchone()
        if not version or not version[0]:
            raise UnencryptedStore(path, "the SQLite library in use has no encryption; refused")
        conn.execute("PRAGMA cipher_log_level = NONE")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            raise _classify(path, exc) from exc
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("%s: WAL journal not available (got %s)", path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Deleted rows (OCR'd job pixels, forgotten memories) are zeroed, not
        # left in free pages.
        conn.execute("PRAGMA secure_delete = ON")
        # A new store frees the pages of what is forgotten with an incremental
        # vacuum (seconds) instead of a full one (minutes on GBs). An older
        # store takes the mode at its first full VACUUM (memory/forget.py).
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        # Encrypted pages are decrypted on every cache miss: keep the hot
        # vector and index pages in SQLite's own cache.
        conn.execute(f"PRAGMA cache_size = -{cache_mb * 1024}")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
        conn.enable_load_extension(False)
    except BaseException:
        conn.close()
        raise
    return conn


def _classify(path: Path, exc: Exception) -> Exception:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreLocked(path, "the store is locked by another mirix-desktop process")
    if "not a database" in text:
        return NotAStore(path, "the file is not a mirix-desktop store or it is corrupt")
    if "malformed" in text:
        return NotAStore(path, "the store is damaged (database disk image is malformed)")
    return NotAStore(path, f"the store cannot be read: {exc}")


def classify_error(path: Path, exc: Exception) -> Exception:
    """Maps a sqlcipher3 error raised later in a session to a known error."""
    return _classify(path, exc)
