"""Where a store's 256-bit key comes from, and how a wrong one is caught early.

Two key modes, recorded per store in a small sidecar file (`<store>.keyinfo`,
mode 0600, no secrets in it):

* ``keyring``: a random key kept in the OS keyring (Secret Service, Keychain,
  Windows Credential Locker). Plaintext or "null" keyring backends are never
  used: the point of the key is lost if it lies on disk next to the store.
* ``passphrase``: a key derived from the user's passphrase with scrypt and a
  random salt stored in the sidecar. Used when no secure keyring exists
  (headless Linux, CI) or when ``MIRIX_PASSPHRASE`` is set.

The sidecar also holds an HMAC of a fixed label under the key, so a wrong
passphrase is reported before SQLCipher ever touches the store file.

Wrong passphrases are counted in a second sidecar (`<store>.attempts`, 0600,
the count and the time of the last one): after two, the next passphrase is
not even checked until a growing wait has passed (`RETRY_DELAYS_S`), and
starting again does not skip it. This slows down someone guessing at the
keyboard (the CLI, the unlock window); against a stolen copy of the files,
scrypt's cost is what counts. A right passphrase clears the count.

A change of key (memory/rekey.py) writes the new key info to
`<store>.keyinfo.new` first and swaps it in once the store is re-keyed;
`unlock_key` settles a change that was interrupted before it does anything
else, so whichever key opens the store is the one recorded afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mirix_desktop.errors import KeyUnavailable, NotAStore, PassphraseWait, WrongPassphrase
from mirix_desktop.platform_support import secure_keyring

log = logging.getLogger("mirix.memory.keys")

PASSPHRASE_ENV = "MIRIX_PASSPHRASE"
KEYRING_SERVICE = "mirix-desktop"
_CHECK_LABEL = b"mirix-desktop key check v1"
_KEY_BYTES = 32
# scrypt cost: ~32 MiB and ~0.1 s here; enough to make offline guessing slow.
_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1

# Seconds to wait after the 1st, 2nd, 3rd... consecutive wrong passphrase
# before the next one is checked. Two typos are free; after that the wait
# doubles up to half a minute.
RETRY_DELAYS_S = (0.0, 0.0, 2.0, 4.0, 8.0, 16.0, 30.0)

KeyMode = Literal["keyring", "passphrase"]
# Asks the user for a passphrase; `confirm` means "new passphrase, ask twice".
PassphrasePrompt = Callable[[str, bool], str]


@dataclass(frozen=True)
class KeySource:
    """What the caller can offer to unlock or create a store."""

    passphrase: str | None = None
    prompt: PassphrasePrompt | None = None
    # A key already unlocked elsewhere (the tray app hands it to the daemon it
    # starts over an inherited pipe); still checked against the key info.
    key: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, prompt: PassphrasePrompt | None = None) -> KeySource:
        return cls(passphrase=os.environ.get(PASSPHRASE_ENV) or None, prompt=prompt)


def keyinfo_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".keyinfo")


def attempts_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".attempts")


def retry_delay(failures: int) -> float:
    """The wait after `failures` consecutive wrong passphrases."""
    if failures <= 0:
        return 0.0
    return RETRY_DELAYS_S[min(failures, len(RETRY_DELAYS_S)) - 1]


@dataclass(frozen=True)
class Attempts:
    """Consecutive wrong passphrases for a store; the last one's time (Unix seconds)."""

    failures: int = 0
    last_failure_at: float = 0.0

    def wait_s(self, now: float) -> float:
        """Seconds before the next passphrase may be checked."""
        delay = retry_delay(self.failures)
        # A clock set back makes the wait no longer than the rule.
        return max(0.0, min(delay, self.last_failure_at + delay - now))


def read_attempts(store_path: Path) -> Attempts:
    """The wrong passphrases recorded for a store (none when nothing readable is recorded)."""
    try:
        data = json.loads(attempts_path(store_path).read_text(encoding="utf-8"))
        return Attempts(int(data["failures"]), float(data["last_failure_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Attempts()


def record_failure(store_path: Path, now: float) -> None:
    path = attempts_path(store_path)
    failures = read_attempts(store_path).failures + 1
    try:
        write_sidecar(path, {"failures": failures, "last_failure_at": now})
    except OSError as exc:
        log.warning("cannot record the wrong passphrase in %s: %s", path, exc)


def clear_attempts(store_path: Path) -> None:
    path = attempts_path(store_path)
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot clear %s: %s", path, exc)


def check_value(key: bytes) -> str:
    """The HMAC recorded in the key info, by which a key is recognised without the store."""
    return hmac.new(key, _CHECK_LABEL, hashlib.sha256).hexdigest()


def derive_key(
    passphrase: str, salt: bytes, n: int = _SCRYPT_N, r: int = _SCRYPT_R, p: int = _SCRYPT_P
) -> bytes:
    """Turns a passphrase into a 256-bit key with scrypt."""
    return Scrypt(salt=salt, length=_KEY_BYTES, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def write_sidecar(path: Path, info: dict[str, Any], *, new: bool = False) -> None:
    """Writes a sidecar atomically, 0600; with `new`, FileExistsError if another process won.

    Two processes may create the same store at once (the daemon and a first
    search): only one key may be recorded, so creation links the finished
    file into place, which fails if the other got there first.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(info, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        if new:
            os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_keyinfo(path: Path, store_path: Path) -> dict[str, Any]:
    if not path.exists():
        raise NotAStore(
            store_path,
            f"there is no key info file ({path.name}) beside it: either it is not a "
            "mirix-desktop store, or that file was moved away (restore it from your backup)",
        )
    return read_key_sidecar(path, store_path, "key info file")


def read_key_sidecar(path: Path, store_path: Path, what: str) -> dict[str, Any]:
    """A key info sidecar (the current one or a pending one); NotAStore if unreadable."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotAStore(store_path, f"its {what} {path} is unreadable: {exc}") from exc
    if not isinstance(info, dict) or info.get("mode") not in ("keyring", "passphrase"):
        raise NotAStore(store_path, f"its {what} {path} is not valid")
    return info


def read_keyinfo(store_path: Path) -> dict[str, Any]:
    """The recorded key info of a store (no secrets); NotAStore if missing or invalid."""
    return _read_keyinfo(keyinfo_path(store_path), store_path)


def new_passphrase_info(passphrase: str) -> tuple[bytes, dict[str, Any]]:
    """A key derived from `passphrase` with a fresh salt, and the key info recording it."""
    if not passphrase:
        raise KeyUnavailable("An empty passphrase cannot protect the store.")
    salt = secrets.token_bytes(16)
    key = derive_key(passphrase, salt)
    info: dict[str, Any] = {
        "version": 1,
        "mode": "passphrase",
        "kdf": {
            "name": "scrypt",
            "salt": salt.hex(),
            "n": _SCRYPT_N,
            "r": _SCRYPT_R,
            "p": _SCRYPT_P,
        },
        "check": check_value(key),
    }
    return key, info


def new_keyring_info() -> tuple[bytes, dict[str, Any]]:
    """A random key and the key info naming a new keyring entry (the key is not stored yet)."""
    key = secrets.token_bytes(_KEY_BYTES)
    info: dict[str, Any] = {
        "version": 1,
        "mode": "keyring",
        "keyring_user": f"store-{secrets.token_hex(8)}",
        "check": check_value(key),
    }
    return key, info


def ask_passphrase(source: KeySource, store_path: Path, *, new: bool) -> str:
    if source.passphrase:
        return source.passphrase
    if source.prompt is not None:
        message = f"New passphrase for {store_path}" if new else f"Passphrase for {store_path}"
        return source.prompt(message, new)
    raise KeyUnavailable(
        f"No passphrase for {store_path}: no secure OS keyring is available and this session "
        f"is not interactive. Set {PASSPHRASE_ENV} to the store's passphrase "
        f"(e.g. `export {PASSPHRASE_ENV}=...`) and run the command again."
    )


def unlock_key(
    store_path: Path, source: KeySource, *, clock: Callable[[], float] = time.time
) -> bytes:
    """Returns the key of an existing store, verified against its key info.

    A passphrase is not checked while the wait after wrong ones lasts
    (`PassphraseWait`, saying how long); `clock` is the wall clock (Unix time).
    A change of key that was interrupted is settled first (memory/rekey.py).
    """
    from mirix_desktop.memory import rekey

    if rekey.change_pending(store_path):
        return rekey.resume(store_path, source, clock)
    key = _unlock_recorded(store_path, source, clock)
    # The keyring entry of a key replaced by a change that stopped before deleting it.
    try:
        rekey.drop_stale_keyring_entry(store_path)
    except OSError as exc:
        log.warning("cannot tidy the key info of %s after a key change: %s", store_path, exc)
    return key


def _unlock_recorded(store_path: Path, source: KeySource, clock: Callable[[], float]) -> bytes:
    info = _read_keyinfo(keyinfo_path(store_path), store_path)
    if source.key is not None:
        if not hmac.compare_digest(check_value(source.key), info["check"]):
            raise WrongPassphrase(store_path, "the key handed over does not open this store")
        return source.key
    if info["mode"] == "passphrase":
        kdf = info["kdf"]
        wait = read_attempts(store_path).wait_s(clock())
        if wait > 0:
            raise PassphraseWait(
                store_path,
                f"too many wrong passphrases: try again in {math.ceil(wait)} s "
                "(the store is unchanged)",
                wait,
            )
        passphrase = ask_passphrase(source, store_path, new=False)
        key = derive_key(passphrase, bytes.fromhex(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
        if not hmac.compare_digest(check_value(key), info["check"]):
            record_failure(store_path, clock())
            raise WrongPassphrase(store_path, "the passphrase is wrong (the store is unchanged)")
        clear_attempts(store_path)
        return key
    backend = secure_keyring()
    if backend is None:
        raise KeyUnavailable(
            f"The key of {store_path} is kept in the OS keyring, but no secure keyring "
            "backend is available in this session (is the Secret Service running?)."
        )
    stored = backend.get_password(KEYRING_SERVICE, info["keyring_user"])
    if not stored:
        raise KeyUnavailable(
            f"The key of {store_path} is not in the OS keyring "
            f"(service {KEYRING_SERVICE!r}, user {info['keyring_user']!r})."
        )
    key = bytes.fromhex(stored)
    if not hmac.compare_digest(check_value(key), info["check"]):
        raise WrongPassphrase(store_path, "the key in the OS keyring does not open this store")
    return key


def create_key(store_path: Path, source: KeySource) -> tuple[bytes, KeyMode]:
    """Makes the key of a new store and records how to find it again."""
    mode: KeyMode
    backend = None if source.passphrase else secure_keyring()
    if backend is not None:
        key, info = new_keyring_info()
        backend.set_password(KEYRING_SERVICE, info["keyring_user"], key.hex())
        mode = "keyring"
        log.info("new store key kept in the OS keyring (%s)", type(backend).__name__)
    else:
        key, info = new_passphrase_info(ask_passphrase(source, store_path, new=True))
        mode = "passphrase"
    try:
        write_sidecar(keyinfo_path(store_path), info, new=True)
    except FileExistsError:
        # Another process created the store meanwhile: use its key.
        if mode == "keyring" and backend is not None:
            backend.delete_password(KEYRING_SERVICE, info["keyring_user"])
        return unlock_key(store_path, source), recorded_mode(store_path)
    # Wrong tries recorded for a store that was deleted are not this one's.
    clear_attempts(store_path)
    return key, mode


def recorded_mode(store_path: Path) -> KeyMode:
    """How an existing store's key is kept; NotAStore if its key info is missing or invalid.

    While a change of key is unsettled (memory/rekey.py), "passphrase" if
    either side needs one: the keyring is tried first anyway.
    """
    modes = {_read_keyinfo(keyinfo_path(store_path), store_path).get("mode")}
    pending = store_path.with_name(store_path.name + ".keyinfo.new")
    if pending.exists():
        with contextlib.suppress(OSError, ValueError, AttributeError):
            modes.add(json.loads(pending.read_text(encoding="utf-8")).get("mode"))
    return "passphrase" if "passphrase" in modes else "keyring"
