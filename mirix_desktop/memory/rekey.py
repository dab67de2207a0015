"""Re-keying a store in place, so that a crash at any step leaves the old or the new key valid.

The store file is re-encrypted by SQLCipher's `PRAGMA rekey` (raw keys, as
`connection.connect` uses): SQLCipher keeps the file's salt and rewrites
every page under the new key in ONE SQLite write transaction. In WAL mode
those pages go to the `-wal` file and become valid only with the commit
frame, written and fsynced last (`synchronous = FULL` here): a kill before
it leaves frames that recovery ignores (old key); after it, every page's
newest copy is under the new key (new key). That commit is the single
switch point of the file; the sidecars are arranged around it.

The steps (`STEPS`; `after_step` is called after each, a test hook):

1. ``pending``: the new key info is written to `<store>.keyinfo.new` (0600,
   fsynced, then the directory fsynced), holding `previous_check`, the check
   value of the old key, and for a store leaving the keyring the old keyring
   entry's name (`stale_keyring_user`). Its existence means "a change is
   under way"; `<store>.keyinfo` still describes the old key.
2. ``keyring_new`` (new key kept in the keyring): the new random key is
   stored in the OS keyring under a NEW user name, after the pending file
   that names it, so no keyring entry is ever unaccounted for; the old
   entry is untouched.
3. ``checkpoint_old``: `PRAGMA wal_checkpoint(TRUNCATE)` with the old key,
   so the WAL is empty and holds only the re-key's frames from now on (and
   the store is fully in its main file if anything goes wrong later).
4. ``rekey``: `PRAGMA rekey` commits. From here the new key opens the store
   and the old one does not.
5. ``checkpoint_new``: the WAL is checkpointed again and truncated, with the
   new key: the main file is wholly under the new key, the `-shm` index is
   rebuilt by SQLite from the WAL as always (it holds no page data).
6. ``swap``: `<store>.keyinfo.new` replaces `<store>.keyinfo` (one rename,
   then the directory fsynced).
7. ``keyring_old`` (the store left the keyring): the old keyring entry is
   deleted, AFTER the swap, and the key info rewritten without its name.

On every unlock (`keys.unlock_key`), a `<store>.keyinfo.new` means a change
was interrupted: `resume` gathers the keys it can have (a key handed over,
the keyring entries of either side, then a passphrase, checked against
either side's HMAC), probes the store file with each (only page 1 is read),
and settles: the key that opens the file is the valid one; if it is the new
key, steps 5-7 are finished; if it is the old key, the change is rolled
back (the new keyring entry deleted, ``rollback_keyring``, then the pending
file, so a kill in between is rolled back again). A passphrase that matches
a side whose key no longer (or not yet) opens the file gets a message
naming the other side; nothing is deleted then. A keyring entry of the old
key left by a crash in step 7 is deleted at the next unlock
(`drop_stale_keyring_entry`). `<store>.keylock` (an OS lock) is held by a
change and by `resume`, so no unlock settles a change still under way.

Other processes. The caller holds `daemon.lock` (app/passphrase.py), so no
capture daemon runs or starts meanwhile. Another process that has the store
open with the old key (an MCP server, a CLI search) waits while the re-key
holds the write lock, then gets "not a database" at its next statement and
must be started again. It cannot damage the store: every transaction after
another's commit reads its pages afresh (page 1 first), which fails under
the old key before anything is written, and a checkpoint copies raw frames,
whatever the key.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import math
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import sqlcipher3

from mirix_desktop.errors import (
    KeyUnavailable,
    PassphraseWait,
    StoreError,
    StoreLocked,
    WrongPassphrase,
)
from mirix_desktop.memory import keys
from mirix_desktop.memory.connection import check_existing_file, classify_error
from mirix_desktop.platform_support import secure_keyring

log = logging.getLogger("mirix.memory.rekey")

STEPS = (
    "pending",
    "keyring_new",
    "checkpoint_old",
    "rekey",
    "checkpoint_new",
    "swap",
    "keyring_old",
)


def _no_hook(step: str) -> None:
    return None


# Called with each step's name once it is done: tests stop the process there.
after_step: Callable[[str], None] = _no_hook

# The key info before the change ("old") and the pending one ("new").
Side = Literal["old", "new"]
# What a key does to the store file ("absent": there is no file yet).
Probe = Literal["opens", "wrong_key", "absent"]


def pending_path(store_path: Path) -> Path:
    """`<store>.keyinfo.new`: the key info of a change under way."""
    return store_path.with_name(store_path.name + ".keyinfo.new")


def change_pending(store_path: Path) -> bool:
    return pending_path(store_path).exists()


# -- the change ---------------------------------------------------------------------------
def rekey(store_path: Path, old_key: bytes, new_key: bytes, new_info: dict[str, Any]) -> None:
    """Re-keys `store_path` (see `_rekey`) holding `<store>.keylock` throughout."""
    with change_lock(store_path):
        _rekey(store_path, old_key, new_key, new_info)


def _rekey(store_path: Path, old_key: bytes, new_key: bytes, new_info: dict[str, Any]) -> None:
    """Re-keys `store_path` from `old_key` (already verified) to `new_key` (steps above).

    `new_info` is the new key info with its check value (`keys.new_passphrase_info`,
    `keys.new_keyring_info`); for the keyring mode the key goes to the keyring
    here, under `new_info["keyring_user"]`. The caller keeps other writers away.
    """
    info_path = keys.keyinfo_path(store_path)
    old_info = keys.read_keyinfo(store_path)
    if not hmac.compare_digest(keys.check_value(old_key), old_info["check"]):
        raise WrongPassphrase(store_path, "the current key does not open this store")
    if not hmac.compare_digest(keys.check_value(new_key), new_info["check"]):
        raise ValueError("the new key info does not match the new key")
    record = dict(new_info, previous_check=old_info["check"])
    if old_info["mode"] == "keyring":
        record["stale_keyring_user"] = old_info["keyring_user"]
    _check_free_space(store_path)
    pending = pending_path(store_path)
    keys.write_sidecar(pending, record, new=True)
    _sync_dir(info_path.parent)
    after_step("pending")
    committed = False
    try:
        if record["mode"] == "keyring":
            backend = _keyring_or_fail()
            backend.set_password(keys.KEYRING_SERVICE, record["keyring_user"], new_key.hex())
            if backend.get_password(keys.KEYRING_SERVICE, record["keyring_user"]) != new_key.hex():
                raise KeyUnavailable("The OS keyring did not keep the new key; nothing changed.")
            after_step("keyring_new")
        if store_path.exists():
            check_existing_file(store_path)
            conn = _connect(store_path, old_key)
            try:
                _checkpoint(conn, store_path)
                after_step("checkpoint_old")
                try:
                    conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")
                except sqlcipher3.OperationalError as exc:
                    if "full" in str(exc).lower():
                        raise StoreError(
                            store_path,
                            "the disk filled up during the re-key; nothing changed, the old "
                            "key still opens the store",
                        ) from exc
                    raise
                committed = True
                after_step("rekey")
                try:
                    _checkpoint(conn, store_path)
                except sqlcipher3.Error as exc:
                    # The new key is in force: the WAL is emptied later, by any checkpoint.
                    log.info("%s: checkpoint after the re-key failed: %s", store_path, exc)
                after_step("checkpoint_new")
            finally:
                conn.close()
    except BaseException:
        if not committed and _still_old(store_path, old_key):
            _roll_back(store_path)
        raise
    _finish(store_path)


def _still_old(store_path: Path, old_key: bytes) -> bool:
    """True when the file still opens with the old key (so a failed change can be undone)."""
    try:
        return _probe(store_path, old_key) != "wrong_key"
    except Exception as exc:  # noqa: BLE001 - left pending: the next unlock settles it
        log.info("%s: cannot tell which key opens the store now: %s", store_path, exc)
        return False


def _finish(store_path: Path) -> None:
    """Steps 6-7: the pending key info becomes the key info; the old keyring entry goes."""
    pending = pending_path(store_path)
    os.replace(pending, keys.keyinfo_path(store_path))
    _sync_dir(store_path.parent)
    after_step("swap")
    drop_stale_keyring_entry(store_path)
    keys.clear_attempts(store_path)
    log.info("%s: re-keyed (key: %s)", store_path, keys.recorded_mode(store_path))


def drop_stale_keyring_entry(store_path: Path) -> None:
    """Deletes the keyring entry of a key the store no longer uses, once the swap is done."""
    info = keys.read_keyinfo(store_path)
    stale = info.get("stale_keyring_user")
    if "previous_check" not in info and not stale:
        return
    if stale and stale != info.get("keyring_user"):
        backend = secure_keyring()
        if backend is None:
            log.info("%s: the old key's keyring entry stays until a keyring is available",
                     store_path)  # fmt: skip
            return
        try:
            backend.delete_password(keys.KEYRING_SERVICE, stale)
        except Exception as exc:  # noqa: BLE001 - the backends raise their own types
            if backend.get_password(keys.KEYRING_SERVICE, stale) is not None:
                log.info("%s: the old key's keyring entry stays for now: %s", store_path, exc)
                return
    after_step("keyring_old")
    cleaned = {k: v for k, v in info.items() if k not in ("stale_keyring_user", "previous_check")}
    keys.write_sidecar(keys.keyinfo_path(store_path), cleaned)


def _roll_back(store_path: Path) -> None:
    """Undoes steps 1-2 (the file is still under the old key)."""
    pending = pending_path(store_path)
    try:
        record = json.loads(pending.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if isinstance(record, dict) and record.get("mode") == "keyring":
        backend = secure_keyring()
        if backend is not None and record.get("keyring_user"):
            try:
                backend.delete_password(keys.KEYRING_SERVICE, record["keyring_user"])
            except Exception as exc:  # noqa: BLE001 - the backends raise their own types
                log.info("%s: the unused new keyring entry stays: %s", store_path, exc)
        after_step("rollback_keyring")
    # Last: while the pending file is there, a crash here is rolled back again.
    pending.unlink(missing_ok=True)
    _sync_dir(store_path.parent)
    log.info("%s: the interrupted key change was rolled back; the old key stays", store_path)


# -- an interrupted change, settled on the next unlock -------------------------------------
def resume(store_path: Path, source: keys.KeySource, clock: Callable[[], float]) -> bytes:
    """The valid key of a store whose change was interrupted, the change settled on the way.

    Refused (`StoreLocked`) while another process or thread is in the middle of
    the change: settling it then would undo a change still going on.
    """
    with change_lock(store_path):
        if not change_pending(store_path):  # settled while we waited for the lock
            return keys.unlock_key(store_path, source, clock=clock)
        return _resume(store_path, source, clock)


def _resume(store_path: Path, source: keys.KeySource, clock: Callable[[], float]) -> bytes:
    sides: dict[Side, dict[str, Any]] = {
        "old": keys.read_keyinfo(store_path),
        "new": _read_pending(store_path),
    }
    offered: list[tuple[Side, bytes]] = []
    if source.key is not None:
        side = _side_of(sides, source.key)
        if side is None:
            raise WrongPassphrase(store_path, "the key handed over does not open this store")
        offered.append((side, source.key))
    backend = None
    for side, info in sides.items():
        if info["mode"] == "keyring":
            backend = backend or secure_keyring()
            user = info["keyring_user"]
            stored = backend.get_password(keys.KEYRING_SERVICE, user) if backend else None
            if stored and _side_of(sides, bytes.fromhex(stored)) == side:
                offered.append((side, bytes.fromhex(stored)))
    for side, key in offered:
        if _settle(store_path, side, key):
            return key
    if source.key is not None:
        raise WrongPassphrase(store_path, "the key handed over no longer opens this store")
    if not any(info["mode"] == "passphrase" for info in sides.values()):
        raise KeyUnavailable(
            f"A change of the key of {store_path} was interrupted and neither key is in the OS "
            "keyring now: is the keyring unlocked?"
        )
    wait = keys.read_attempts(store_path).wait_s(clock())
    if wait > 0:
        raise PassphraseWait(
            store_path,
            f"too many wrong passphrases: try again in {math.ceil(wait)} s "
            "(the store is unchanged)",
            wait,
        )
    passphrase = keys.ask_passphrase(source, store_path, new=False)
    for side, info in sides.items():
        if info["mode"] != "passphrase":
            continue
        kdf = info["kdf"]
        key = keys.derive_key(passphrase, bytes.fromhex(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
        if _side_of(sides, key) != side:
            continue
        keys.clear_attempts(store_path)
        if _settle(store_path, side, key):
            return key
        raise WrongPassphrase(store_path, _other_side_message(side, sides))
    keys.record_failure(store_path, clock())
    raise WrongPassphrase(store_path, "the passphrase is wrong (the store is unchanged)")


def _other_side_message(side: Side, sides: dict[Side, dict[str, Any]]) -> str:
    """Why a right passphrase of one side of an interrupted change does not open the store."""
    other: Side = "new" if side == "old" else "old"
    where = (
        "the key kept in the OS keyring (which is not available now)"
        if sides[other]["mode"] == "keyring"
        else f"the {other} passphrase"
    )
    if side == "old":
        return (
            "the passphrase was changed (the change was interrupted after it took effect): "
            f"the store opens with {where}"
        )
    return (
        "the change of passphrase was interrupted before it took effect: "
        f"the store still opens with {where}"
    )


def _settle(store_path: Path, side: Side, key: bytes) -> bool:
    """Finishes (new key) or rolls back (old key) if `key` opens the store; False if not."""
    if _probe(store_path, key) == "wrong_key":
        return False
    if side == "new":
        if store_path.exists():
            conn = _connect(store_path, key)
            try:
                _checkpoint(conn, store_path)
            finally:
                conn.close()
        _finish(store_path)
        log.info("%s: an interrupted key change was finished", store_path)
    else:
        _roll_back(store_path)
    return True


def _side_of(sides: dict[Side, dict[str, Any]], key: bytes) -> Side | None:
    check = keys.check_value(key)
    for side, info in sides.items():
        if hmac.compare_digest(check, str(info.get("check", ""))):
            return side
    return None


def _read_pending(store_path: Path) -> dict[str, Any]:
    return keys.read_key_sidecar(pending_path(store_path), store_path, "pending key info")


# -- the lock held during a change ------------------------------------------------------
@contextlib.contextmanager
def change_lock(store_path: Path) -> Iterator[None]:
    """`<store>.keylock` held exclusively; StoreLocked if a change is under way elsewhere.

    An OS lock (flock, per open file): a killed process lets go of it, and
    two threads of one process exclude each other too.
    """
    path = store_path.with_name(store_path.name + ".keylock")
    store_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            _lock_fd(fd)
        except OSError as exc:
            raise StoreLocked(
                store_path,
                "the key of the store is being changed by another mirix-desktop process; "
                "try again when it has finished",
            ) from exc
        try:
            yield
        finally:
            _unlock_fd(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":  # pragma: no cover - Windows only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


# -- the store file ------------------------------------------------------------------------
def _connect(store_path: Path, key: bytes) -> Any:
    conn = sqlcipher3.connect(str(store_path), timeout=30.0, isolation_level=None)
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA cipher_log_level = NONE")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            raise classify_error(store_path, exc) from exc
        conn.execute("PRAGMA busy_timeout = 30000")
        # The re-key's commit frame reaches the disk before the key info moves.
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn


def _probe(store_path: Path, key: bytes) -> Probe:
    """Whether `key` opens the store file (reads page 1 only); other failures raise."""
    if not store_path.exists():
        return "absent"
    conn = sqlcipher3.connect(str(store_path), timeout=30.0, isolation_level=None)
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        if "not a database" in str(exc).lower():
            return "wrong_key"
        raise classify_error(store_path, exc) from exc
    finally:
        conn.close()
    return "opens"


def _checkpoint(conn: Any, store_path: Path) -> None:
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        # Another process reads: the WAL stays, which is correct, only longer.
        log.info("%s: the WAL could not be emptied (a reader is active)", store_path)


def _check_free_space(store_path: Path) -> None:
    """The re-key writes every page once more (into the WAL): that much must be free."""
    if not store_path.exists():
        return
    needed = store_path.stat().st_size + (1 << 20)
    free = shutil.disk_usage(store_path.parent).free
    if free < needed:
        raise StoreError(
            store_path,
            f"changing the key rewrites the whole store, which needs {needed / 1e6:.0f} MB free "
            f"beside it, and only {free / 1e6:.0f} MB are: free some space first (nothing "
            "changed)",
        )


def _keyring_or_fail() -> Any:
    backend = secure_keyring()
    if backend is None:
        raise KeyUnavailable(
            "There is no secure OS keyring in this session to keep the key in "
            "(is the Secret Service running?); nothing changed."
        )
    return backend


def _sync_dir(directory: Path) -> None:
    """Makes a rename or a new file in `directory` survive a power loss (POSIX)."""
    if os.name != "posix":  # pragma: no cover - Windows: rename is durable enough
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
