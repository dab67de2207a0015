"""Settling an interrupted key change is crash-safe too: the unlock that settles it, killed.

A change is killed (tests/helpers/rekey_child.py), then the unlock that
would finish or roll it back is killed in the middle of that as well; the
checks of test_rekey_kill.py then hold: one key opens, the data is intact,
the change settles, no keyring entry is left behind.
"""

from __future__ import annotations

from pathlib import Path

import keyring

from mirix_desktop.memory import rekey
from mirix_desktop.memory.embedder import StaticEmbedder
from tests.helpers.keyring_backend import MemoryKeyring
from tests.integration.test_rekey_kill import (
    CASES,
    NEW,
    OLD,
    _check_after,
    _make_store,
    _run_child,
)


def _backend(secrets: dict[str, str]) -> MemoryKeyring:
    backend = MemoryKeyring()
    for user, secret in secrets.items():
        backend.secrets[("mirix-desktop", user)] = secret
    keyring.set_keyring(backend)
    return backend


def test_finishing_a_change_killed_at_the_swap(tmp_path: Path, embedder: StaticEmbedder) -> None:
    case = CASES["change"]
    data_dir = tmp_path / "data"
    old_key, backend = _make_store(data_dir, case, embedder)
    outcome, secrets, new_key = _run_child(data_dir, case, "rekey", backend)
    assert outcome == "killed"
    # The next unlock finishes the change, and is killed right after the swap.
    outcome, secrets, _ = _run_child(data_dir, case, "swap", _backend(secrets), open_with=NEW)
    assert outcome == "killed"
    assert not rekey.pending_path(data_dir / "mirix.db").exists()
    side = _check_after(data_dir, case, old_key, new_key, secrets, embedder, tmp_path)
    assert side == "new"


def test_rolling_back_a_change_killed_after_the_keyring_entry_went(
    tmp_path: Path, embedder: StaticEmbedder
) -> None:
    case = CASES["use-keyring"]
    data_dir = tmp_path / "data"
    old_key, backend = _make_store(data_dir, case, embedder)
    outcome, secrets, new_key = _run_child(data_dir, case, "keyring_new", backend)
    assert outcome == "killed" and len(secrets) == 1
    # The next unlock (the old passphrase) rolls back, and is killed in the middle of that.
    outcome, secrets, _ = _run_child(
        data_dir, case, "rollback_keyring", _backend(secrets), open_with=OLD
    )
    assert outcome == "killed"
    assert secrets == {}  # the new key's entry went first
    assert rekey.pending_path(data_dir / "mirix.db").exists()  # so this is still to settle
    side = _check_after(data_dir, case, old_key, new_key, secrets, embedder, tmp_path)
    assert side == "old"
