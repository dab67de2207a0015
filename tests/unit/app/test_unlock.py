"""The key rules behind the setup and unlock windows (no Qt)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3

from mirix_desktop.app import unlock
from mirix_desktop.errors import KeyUnavailable, NotAStore, UnencryptedStore, WrongPassphrase
from mirix_desktop.memory import connection, keys
from mirix_desktop.paths import AppPaths, resolve_paths
from tests.helpers.keyring_backend import MemoryKeyring

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return resolve_paths(tmp_path / "data")


def _make_store(paths: AppPaths, passphrase: str = PASSPHRASE) -> bytes:
    """A real encrypted store file with one table, keyed like the app does it."""
    key = unlock.create_key(paths, passphrase)
    conn = connection.connect(paths.store_file, key, cache_mb=8, busy_timeout_s=1)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return key


# Paths opened by Python code while `_watching` is active (an audit hook cannot be
# removed, so one hook is installed for the module and switched on and off).
_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], str | Path):
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@contextmanager
def _watching() -> Iterator[list[str]]:
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}


def test_a_new_data_dir_is_new(paths: AppPaths) -> None:
    assert unlock.store_kind(paths) == "new"


def test_passphrase_store_round_trip(paths: AppPaths) -> None:
    key = _make_store(paths)
    assert unlock.store_kind(paths) == "passphrase"
    assert unlock.unlock_with_passphrase(paths, PASSPHRASE) == key


def test_a_wrong_passphrase_never_touches_the_store_file(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _make_store(paths)
    before = _snapshot(paths.data_dir)
    assert "mirix.db" in before
    connects: list[object] = []
    real_connect = sqlcipher3.connect
    monkeypatch.setattr(
        sqlcipher3, "connect", lambda *a, **k: connects.append(a) or real_connect(*a, **k)
    )
    with _watching() as opened:
        with pytest.raises(WrongPassphrase):
            unlock.unlock_with_passphrase(paths, "not the passphrase")
        with pytest.raises(WrongPassphrase):
            unlock.unlock_with_passphrase(paths, "")
    # Only the key info was read: the store was neither opened nor connected to.
    assert connects == []
    assert str(paths.store_file) not in opened
    assert str(keys.keyinfo_path(paths.store_file)) in opened
    # Same files (no -wal/-shm appeared), same bytes, same modification times;
    # only the count of wrong tries was written, beside them.
    after = _snapshot(paths.data_dir)
    assert after.pop(keys.attempts_path(paths.store_file).name)
    assert after == before
    assert unlock.unlock_with_passphrase(paths, PASSPHRASE) == key


def test_keyring_store_when_a_secure_keyring_exists(
    paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    assert unlock.keyring_available()
    key = unlock.create_key(paths, None)
    assert unlock.store_kind(paths) == "keyring"
    assert key.hex() in memory_keyring.secrets.values()
    assert unlock.unlock_with_keyring(paths) == key


def test_no_keyring_means_no_key_without_a_passphrase(paths: AppPaths) -> None:
    assert not unlock.keyring_available()
    with pytest.raises(KeyUnavailable, match="passphrase"):
        unlock.create_key(paths, None)
    assert not keys.keyinfo_path(paths.store_file).exists()


def test_a_short_passphrase_is_refused(paths: AppPaths) -> None:
    with pytest.raises(KeyUnavailable, match="too short"):
        unlock.create_key(paths, "short")
    assert unlock.store_kind(paths) == "new"


def test_keyring_unlock_of_a_passphrase_store_is_unavailable(paths: AppPaths) -> None:
    _make_store(paths)
    with pytest.raises(KeyUnavailable):
        unlock.unlock_with_keyring(paths)


def test_a_store_without_key_info_is_named_not_treated_as_new(paths: AppPaths) -> None:
    _make_store(paths)
    keys.keyinfo_path(paths.store_file).unlink()
    with pytest.raises(NotAStore, match="key info") as caught:
        unlock.store_kind(paths)
    assert caught.value.path == paths.store_file


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"", NotAStore), (b"SQLite format 3\x00" + b"\x00" * 4080, UnencryptedStore)],
)
def test_a_damaged_store_is_named(paths: AppPaths, content: bytes, error: type[Exception]) -> None:
    paths.ensure()
    paths.store_file.write_bytes(content)
    with pytest.raises(error):
        unlock.store_kind(paths)
    assert paths.store_file.read_bytes() == content


def test_key_info_left_without_its_store_keeps_its_kind(paths: AppPaths) -> None:
    _make_store(paths)
    paths.store_file.unlink()
    assert unlock.store_kind(paths) == "passphrase"


def test_passphrase_problems_in_plain_words() -> None:
    assert unlock.passphrase_problem("", "") == "Choose a passphrase."
    assert "too short" in (unlock.passphrase_problem("abc", "abc") or "")
    assert "not the same" in (unlock.passphrase_problem("long enough", "long enougH") or "")
    assert unlock.passphrase_problem("long enough", "long enough") is None


def test_retry_delay_grows_then_caps_and_resets(paths: AppPaths) -> None:
    _make_store(paths)
    clock = [1000.0]
    wrong, right = keys.KeySource(passphrase="no"), keys.KeySource(passphrase=PASSPHRASE)
    waits = []
    for _ in range(9):
        with pytest.raises(WrongPassphrase):
            keys.unlock_key(paths.store_file, wrong, clock=lambda: clock[0])
        waits.append(unlock.next_try_wait(paths, now=clock[0]))
        clock[0] += 60
    assert waits == [0, 0, 2, 4, 8, 16, 30, 30, 30]
    keys.unlock_key(paths.store_file, right, clock=lambda: clock[0])
    with pytest.raises(WrongPassphrase):
        keys.unlock_key(paths.store_file, wrong, clock=lambda: clock[0])
    assert unlock.next_try_wait(paths, now=clock[0]) == 0
