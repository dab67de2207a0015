"""Changing the passphrase and moving the key between the keyring and a passphrase.

The crash-safety of each step is in test_rekey_kill.py; here: the change
itself, the refusals (capture running, a wrong current passphrase, a change
under way in another thread) and the audit entry; the CLI is in
test_passphrase_cli.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mirix_desktop.app import audit
from mirix_desktop.app import passphrase as key_change
from mirix_desktop.app.services import AppServices
from mirix_desktop.errors import (
    KeyUnavailable,
    PassphraseWait,
    StoreError,
    StoreLocked,
    WrongPassphrase,
)
from mirix_desktop.memory import keys, rekey
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import CoreMemory
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.control import DaemonLock
from tests.helpers.keyring_backend import MemoryKeyring

OLD = "old passphrase one"
NEW = "new passphrase two"
CANARY = "canary-passphrase-51c2 the ferry leaves at dawn"


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppServices:
    monkeypatch.setenv("MIRIX_PASSPHRASE", OLD)
    made = AppServices.create(tmp_path / "data")
    made.store().add(CoreMemory(value=CANARY))
    monkeypatch.delenv("MIRIX_PASSPHRASE")
    return made


def _reads_canary(store_file: Path, source: KeySource, embedder: StaticEmbedder) -> bool:
    with MemoryStore.open(store_file, source, embedder) as store:
        assert store.integrity_check() == "ok"
        return [m.body for m in store.list()] == [CANARY]


def test_a_new_passphrase_opens_the_store_and_the_old_one_no_longer(
    services: AppServices, embedder: StaticEmbedder
) -> None:
    store_file = services.paths.store_file
    done = key_change.change_passphrase(services, KeySource(passphrase=OLD), NEW)
    assert (done.mode_before, done.mode_after) == ("passphrase", "passphrase")
    with pytest.raises(WrongPassphrase):
        MemoryStore.open(store_file, KeySource(passphrase=OLD), embedder)
    assert _reads_canary(store_file, KeySource(passphrase=NEW), embedder)
    # This process goes on with the new key, and the change is in the audit log, no secret.
    assert keys.check_value(done.key) == keys.read_keyinfo(store_file)["check"]
    [entry] = audit.entries(services.store())
    assert (entry.action, entry.actor) == ("key_change", "cli")
    assert entry.details == {"mode_before": "passphrase", "mode_after": "passphrase"}
    services.close()


def test_keyring_and_passphrase_both_ways(
    services: AppServices, embedder: StaticEmbedder, memory_keyring: MemoryKeyring
) -> None:
    store_file = services.paths.store_file
    to_keyring = key_change.move_to_keyring(services, KeySource(passphrase=OLD))
    assert (to_keyring.mode_before, to_keyring.mode_after) == ("passphrase", "keyring")
    [(_, user)] = memory_keyring.secrets
    assert keys.read_keyinfo(store_file)["keyring_user"] == user
    assert _reads_canary(store_file, KeySource(), embedder)  # nothing asked
    with pytest.raises(WrongPassphrase):
        keys.unlock_key(store_file, KeySource(key=keys.derive_key(OLD, b"x" * 16)))

    back = key_change.move_to_passphrase(services, KeySource(), NEW)
    assert (back.mode_before, back.mode_after) == ("keyring", "passphrase")
    assert memory_keyring.secrets == {}  # the keyring entry is gone with the key
    assert _reads_canary(store_file, KeySource(passphrase=NEW), embedder)
    with pytest.raises(WrongPassphrase):
        MemoryStore.open(store_file, KeySource(passphrase=OLD), embedder)
    modes = [e.details["mode_after"] for e in audit.entries(services.store())]
    assert modes == ["passphrase", "keyring"]  # newest first
    services.close()


def test_refused_while_capture_runs(services: AppServices, embedder: StaticEmbedder) -> None:
    store_file = services.paths.store_file
    daemon = DaemonLock(services.paths.data_dir / "daemon.lock")
    daemon.acquire()  # as a running daemon holds it
    try:
        with pytest.raises(key_change.CaptureRunning, match=r"Capture is running \(pid \d+\)"):
            key_change.change_passphrase(services, KeySource(passphrase=OLD), NEW)
    finally:
        daemon.release()
    assert not rekey.pending_path(store_file).exists()
    assert _reads_canary(store_file, KeySource(passphrase=OLD), embedder)
    services.close()


def test_a_wrong_current_passphrase_changes_nothing_and_waits(services: AppServices) -> None:
    store_file = services.paths.store_file
    before = keys.read_keyinfo(store_file)
    for _ in range(3):
        with pytest.raises(WrongPassphrase, match="passphrase is wrong"):
            key_change.change_passphrase(services, KeySource(passphrase="not it at all"), NEW)
    # The next try is not even checked: the wait after wrong ones applies here too.
    with pytest.raises(PassphraseWait, match="try again in"):
        key_change.change_passphrase(services, KeySource(passphrase=OLD), NEW)
    assert keys.read_keyinfo(store_file) == before
    assert not rekey.pending_path(store_file).exists()
    services.close()


def test_a_short_new_passphrase_is_refused(services: AppServices) -> None:
    with pytest.raises(KeyUnavailable, match="too short"):
        key_change.change_passphrase(services, KeySource(passphrase=OLD), "short")
    services.close()


def test_no_unlock_settles_a_change_while_it_is_under_way(
    services: AppServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another thread (or process) unlocking mid-change must not roll the change back."""
    store_file = services.paths.store_file
    seen: list[BaseException | None] = []

    def other_unlock(step: str) -> None:
        if step != "checkpoint_old":
            return

        def run() -> None:
            try:
                keys.unlock_key(store_file, KeySource(passphrase=OLD))
                seen.append(None)
            except StoreLocked as exc:
                seen.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()

    monkeypatch.setattr(rekey, "after_step", other_unlock)
    key_change.change_passphrase(services, KeySource(passphrase=OLD), NEW)
    assert len(seen) == 1 and isinstance(seen[0], StoreLocked)
    assert "being changed by another" in str(seen[0])
    assert keys.unlock_key(store_file, KeySource(passphrase=NEW)) is not None
    services.close()


def test_too_little_free_space_is_refused_before_anything_changes(
    services: AppServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_file = services.paths.store_file
    before = keys.read_keyinfo(store_file)
    real = rekey.shutil.disk_usage

    def nearly_full(path: object) -> object:
        usage = real(path)  # type: ignore[arg-type]
        return usage._replace(free=store_file.stat().st_size // 2)

    monkeypatch.setattr(rekey.shutil, "disk_usage", nearly_full)
    with pytest.raises(StoreError, match=r"needs .* MB free"):
        key_change.change_passphrase(services, KeySource(passphrase=OLD), NEW)
    assert keys.read_keyinfo(store_file) == before
    assert not rekey.pending_path(store_file).exists()
    assert keys.unlock_key(store_file, KeySource(passphrase=OLD))
    services.close()
