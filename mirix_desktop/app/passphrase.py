"""Changing the store's passphrase, or moving its key between the OS keyring and a passphrase.

Each is a re-key of the store in place (memory/rekey.py: a crash at any step
leaves the old or the new key valid). The rules here:

- the current key is asked for first (`old`: a passphrase, the keyring, or a
  key already unlocked), through `keys.unlock_key`, so the wait after wrong
  passphrases applies as at any unlock;
- a new passphrase follows `unlock.passphrase_problem` (eight characters at
  least), like the first-run window's;
- nothing else writes meanwhile: the change holds `daemon.lock`, so it is
  refused while a capture daemon runs (`CaptureRunning`, naming its pid) and
  no daemon starts during it. The tray app stops its own daemon first and
  starts it again with the new key (ui/passphrase_panel.py);
- `services` lets go of its open store before, and holds the new key after
  (`services.use_key`), so the process goes on with the new key;
- an audit entry "key_change" records the modes before and after, never a key
  or a passphrase.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mirix_desktop.app.services import AppServices
from mirix_desktop.app.unlock import (
    MIN_PASSPHRASE_LENGTH,
    keyring_available,
    passphrase_problem,
)
from mirix_desktop.errors import DaemonRunning, KeyUnavailable, KnownError
from mirix_desktop.memory import keys, rekey
from mirix_desktop.memory.keys import KeyMode, KeySource
from mirix_desktop.paths import AppPaths
from mirix_desktop.pipeline.control import DaemonLock

log = logging.getLogger("mirix.app.passphrase")


class CaptureRunning(DaemonRunning):
    """The store's key cannot change while a capture daemon has the store open."""


class SamePassphrase(KnownError):
    """The new passphrase is the old one."""


@dataclass(frozen=True)
class KeyChange:
    """What a change did: the new key (for `use_key` and the daemon), the modes, the time."""

    key: bytes = field(repr=False)
    mode_before: KeyMode
    mode_after: KeyMode
    seconds: float


def current_mode(paths: AppPaths) -> KeyMode:
    """How the store's key is kept now ("keyring" or "passphrase")."""
    return keys.recorded_mode(paths.store_file)


def daemon_lock(paths: AppPaths) -> DaemonLock:
    return DaemonLock(paths.data_dir / "daemon.lock")


def capture_holder(paths: AppPaths) -> int | None:
    """The pid of a capture daemon that has the store open, or None."""
    return daemon_lock(paths).holder()


def refuse_while_capturing(paths: AppPaths) -> None:
    """`CaptureRunning` if a capture daemon has the store open (checked again during the change)."""
    pid = capture_holder(paths)
    if pid is not None:
        raise _capture_running(pid)


def _capture_running(pid: int | None) -> CaptureRunning:
    return CaptureRunning(
        f"Capture is running{f' (pid {pid})' if pid else ''} and has the store open: stop it "
        "first (quit the tray app, or stop `mirix-desktop run --no-ui`), then change the key; "
        "the settings window does this for you."
    )


def change_passphrase(
    services: AppServices, old: KeySource, new_passphrase: str, *, actor: str = "cli"
) -> KeyChange:
    """A new passphrase for a store whose key is a passphrase."""
    _check_new_passphrase(new_passphrase)
    if current_mode(services.paths) != "passphrase":
        raise KeyUnavailable(
            "The store's key is kept in the OS keyring, not made from a passphrase: use "
            "`mirix-desktop passphrase use-passphrase` to protect it with one instead."
        )
    if old.passphrase is not None and old.passphrase == new_passphrase:
        raise SamePassphrase("The new passphrase is the same as the current one; nothing changed.")
    return _change(services, old, lambda: keys.new_passphrase_info(new_passphrase), actor)


def move_to_keyring(services: AppServices, old: KeySource, *, actor: str = "cli") -> KeyChange:
    """A random key kept in the OS keyring instead of the passphrase (no passphrase after)."""
    if current_mode(services.paths) == "keyring":
        raise KeyUnavailable("The store's key is already kept in the OS keyring; nothing changed.")
    if not keyring_available():
        raise KeyUnavailable(
            "There is no secure OS keyring in this session (is the Secret Service running?); "
            "the store keeps its passphrase."
        )
    return _change(services, old, keys.new_keyring_info, actor)


def move_to_passphrase(
    services: AppServices, old: KeySource, new_passphrase: str, *, actor: str = "cli"
) -> KeyChange:
    """A key made from `new_passphrase` instead of the keyring's (its entry is deleted)."""
    _check_new_passphrase(new_passphrase)
    if current_mode(services.paths) == "passphrase":
        raise KeyUnavailable(
            "The store is already protected by a passphrase: use `mirix-desktop passphrase "
            "change` to choose another one."
        )
    return _change(services, old, lambda: keys.new_passphrase_info(new_passphrase), actor)


def strength_hint(passphrase: str) -> str:
    """A rough word on a new passphrase, for the window as it is typed (no secret kept).

    People pick predictable characters, so length counts for little on its
    own: four or more words (or 20 characters) is "strong", three words (or
    14 characters) "fair", anything shorter "weak".
    """
    if not passphrase:
        return ""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        return f"Too short: at least {MIN_PASSPHRASE_LENGTH} characters."
    words = sum(1 for part in passphrase.split() if len(part) >= 3)
    if words >= 4 or len(passphrase) >= 20:
        return "Strong."
    if words >= 3 or len(passphrase) >= 14:
        return "Fair: one more word would make it strong."
    return "Weak: use three or four unrelated words."


def _check_new_passphrase(passphrase: str) -> None:
    problem = passphrase_problem(passphrase, passphrase)
    if problem is not None:
        raise KeyUnavailable(problem)


def _change(
    services: AppServices,
    old: KeySource,
    make_new: Callable[[], tuple[bytes, dict[str, Any]]],
    actor: str,
) -> KeyChange:
    paths = services.paths
    store_path = paths.store_file
    started = time.perf_counter()
    lock = daemon_lock(paths)
    try:
        lock.acquire()
    except DaemonRunning as exc:
        raise _capture_running(lock.holder()) from exc
    try:
        # The old key first: a wrong passphrase is caught (and waited for) here.
        old_key = keys.unlock_key(store_path, old)
        mode_before = keys.recorded_mode(store_path)
        new_key, new_info = make_new()
        # This process's own connection is under the old key: let it go.
        services.close()
        rekey.rekey(store_path, old_key, new_key, new_info)
        # A window's worker may have opened it again meanwhile, under the old key.
        services.close()
        services.use_key(new_key)
    finally:
        lock.release()
    mode_after = keys.recorded_mode(store_path)
    seconds = time.perf_counter() - started
    log.info("store key changed (%s -> %s) in %.1f s", mode_before, mode_after, seconds)
    if store_path.exists():
        from mirix_desktop.app import audit

        try:
            audit.record(
                services.store(),
                "key_change",
                {"mode_before": mode_before, "mode_after": mode_after},
                actor=actor,
            )
        except KnownError as exc:
            # The change is done and in force: say so, not that it failed.
            log.warning("the key change is done but not in the audit log: %s", exc)
    return KeyChange(new_key, mode_before, mode_after, seconds)
