"""Opening the store's key from a window: which kind of store, unlock, create, retry waits.

The first-run and unlock windows call these instead of `memory.keys`
directly, so the rules live here without Qt: a wrong passphrase is caught by
the key info's HMAC before anything touches the store file, a new key goes to
the OS keyring only when a secure one exists, and repeated wrong tries wait
longer and longer before the next one. The waits are `memory.keys`'s, kept
beside the store, so the CLI, the unlock window and a restarted app share them.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

from mirix_desktop.errors import KeyUnavailable, WrongPassphrase
from mirix_desktop.memory import connection, keys
from mirix_desktop.paths import AppPaths
from mirix_desktop.platform_support import secure_keyring

log = logging.getLogger("mirix.app.unlock")

StoreKind = Literal["new", "keyring", "passphrase"]

# Shorter passphrases fall to a guessing attack on a stolen copy of the store
# within days even with scrypt; eight characters is the floor, not advice.
MIN_PASSPHRASE_LENGTH = 8


def store_kind(paths: AppPaths) -> StoreKind:
    """Whether the store is still to be made, or how its key is kept.

    Raises a `StoreError` naming the file when a store exists that cannot be
    ours or lost its key info: treating it as "new" would write a new key
    beside memories that then nobody can open.
    """
    store = paths.store_file
    if store.exists():
        # Reads the header only: a damaged file is named before anyone types.
        connection.check_existing_file(store)
        return keys.recorded_mode(store)
    if keys.keyinfo_path(store).exists():
        # The store file was removed but its key is recorded: the store is
        # recreated with that same key, so the person unlocks it as before.
        return keys.recorded_mode(store)
    return "new"


def keyring_available() -> bool:
    """True when a secure OS keyring backend can hold the store key."""
    return secure_keyring() is not None


def unlock_with_passphrase(paths: AppPaths, passphrase: str) -> bytes:
    """The store key derived from `passphrase`; `WrongPassphrase` if it is not the one.

    Only the key info file is read: the check is an HMAC recorded there, so a
    wrong try never opens, locks or modifies the store file.
    """
    if not passphrase:
        raise WrongPassphrase(paths.store_file, "an empty passphrase opens nothing")
    return keys.unlock_key(paths.store_file, keys.KeySource(passphrase=passphrase))


def next_try_wait(paths: AppPaths, now: float | None = None) -> float:
    """Seconds before a passphrase may be tried again, after wrong ones (0: now)."""
    return keys.read_attempts(paths.store_file).wait_s(time.time() if now is None else now)


def unlock_with_keyring(paths: AppPaths) -> bytes:
    """The store key from the OS keyring; `KeyUnavailable` if it cannot be had."""
    return keys.unlock_key(paths.store_file, keys.KeySource())


def passphrase_problem(passphrase: str, repeated: str) -> str | None:
    """Why a new passphrase cannot be used, in plain words; None if it can."""
    if not passphrase:
        return "Choose a passphrase."
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        return f"The passphrase is too short: use at least {MIN_PASSPHRASE_LENGTH} characters."
    if passphrase != repeated:
        return "The two passphrases are not the same. Type the same one twice."
    return None


def create_key(paths: AppPaths, passphrase: str | None) -> bytes:
    """Makes the key of a new store and records how to find it again.

    With `passphrase=None` the key is random and kept in the OS keyring,
    which must then be a secure one (`KeyUnavailable` otherwise: a window has
    to ask for a passphrase instead). With a passphrase the key is derived
    from it with scrypt.
    """
    if passphrase is None:
        if not keyring_available():
            raise KeyUnavailable(
                "There is no secure system keyring to keep the key in; choose a passphrase."
            )
    else:
        problem = passphrase_problem(passphrase, passphrase)
        if problem is not None:
            raise KeyUnavailable(problem)
    paths.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key, mode = keys.create_key(paths.store_file, keys.KeySource(passphrase=passphrase))
    log.info("store key created for %s (%s)", paths.store_file, mode)
    return key
