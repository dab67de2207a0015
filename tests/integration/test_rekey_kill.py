"""A key change killed (SIGKILL) at every step opens with exactly one key, the data intact.

Each case runs the change in a child process (tests/helpers/rekey_child.py)
that kills itself right after one step of memory/rekey.py, or a moment into
`PRAGMA rekey`. Then, on a copy of the files, the store file is probed with
the old and the new key bytes: exactly one opens it. On the files themselves
the store is opened the ordinary way with that side's passphrase or keyring
key: it opens, `integrity_check` is ok, the canary memory reads back, the
interrupted change is settled (no pending key info, the key info names the
valid key, the keyring holds that key's entry only), and the other side's
passphrase is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
import sqlcipher3

from mirix_desktop.errors import WrongPassphrase
from mirix_desktop.memory import keys, rekey
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import CoreMemory
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import MODELS_DIR, REPO
from tests.helpers.keyring_backend import MemoryKeyring

OLD = "old passphrase one"
NEW = "new passphrase two"
CANARY = "canary-rekey-7f3a the ferry leaves at dawn"
SERVICE = keys.KEYRING_SERVICE


@dataclass
class Case:
    operation: str  # change | use-keyring | use-passphrase
    old_mode: str
    new_mode: str


CASES = {
    "change": Case("change", "passphrase", "passphrase"),
    "use-keyring": Case("use-keyring", "passphrase", "keyring"),
    "use-passphrase": Case("use-passphrase", "keyring", "passphrase"),
}


def _steps(case: Case) -> list[str]:
    steps = list(rekey.STEPS)
    if case.new_mode != "keyring":
        steps.remove("keyring_new")
    return steps


# Every operation killed after every step: the full matrix runs in
# `python -m tests.benchmarks.rekey_kills`; the default run kills the
# passphrase change after each step and each keyring move at its keyring step.
ALL_PARAMS = [(op, step) for op, case in CASES.items() for step in _steps(case)]
PARAMS = [(op, step) for op, step in ALL_PARAMS if op == "change"] + [
    ("use-keyring", "keyring_new"),
    ("use-passphrase", "checkpoint_old"),
    ("use-passphrase", "keyring_old"),
]


def _make_store(
    data_dir: Path, case: Case, embedder: StaticEmbedder, *, filler: int = 0
) -> tuple[bytes, MemoryKeyring]:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    source = KeySource(passphrase=OLD if case.old_mode == "passphrase" else None)
    store = MemoryStore.open(data_dir / "mirix.db", source, embedder)
    try:
        store.add(CoreMemory(value=CANARY))
        if filler:
            with store.transaction() as conn:
                # Bulk, so that the re-key takes a while (and spills its cache).
                conn.execute("CREATE TABLE filler (x BLOB)")
                conn.executemany("INSERT INTO filler VALUES (randomblob(3000))", [()] * filler)
        key = keys.unlock_key(store.path, source)
    finally:
        store.close()
    return key, backend


def _run_child(
    data_dir: Path,
    case: Case,
    step: str,
    backend: MemoryKeyring,
    delay: float | None = None,
    *,
    open_with: str | None = None,
) -> tuple[str, dict[str, str], bytes | None]:
    """Runs the case's change (or, with `open_with`, an unlock) killed after `step`."""
    request = {
        "old": OLD if case.old_mode == "passphrase" else None,
        "new": NEW if case.new_mode == "passphrase" else None,
        "keyring": {user: secret for (_, user), secret in backend.secrets.items()},
        "open": open_with,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRIX_")}
    env["MIRIX_MODELS_DIR"] = str(MODELS_DIR)
    operation = "open" if open_with is not None else case.operation
    args = [sys.executable, "-m", "tests.helpers.rekey_child", str(data_dir), operation, step]
    if delay is not None:
        args.append(str(delay))
    done = subprocess.run(
        args, input=json.dumps(request), env=env, cwd=REPO, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    keyring_now: dict[str, str] = {user: secret for (_, user), secret in backend.secrets.items()}
    new_key = None
    for line in lines:
        if line.startswith("KEYRING "):
            keyring_now = json.loads(line[len("KEYRING ") :])
        elif line.startswith("NEWKEY "):
            new_key = bytes.fromhex(line[len("NEWKEY ") :])
    outcome = "done" if "DONE" in lines else "killed"
    if outcome == "killed":
        assert done.returncode == -9, done.stderr
        if delay is not None and "STEP rekey" not in lines:
            outcome = "killed inside the re-key"  # after the step, before the commit
    else:
        assert done.returncode == 0, done.stderr
    return outcome, keyring_now, new_key


def _raw_opens(data_dir: Path, key: bytes, scratch: Path) -> bool:
    """Whether `key` opens the store file, tried on a copy (so nothing is settled)."""
    copy = scratch / f"probe-{key.hex()[:8]}"
    shutil.copytree(data_dir, copy)
    conn = sqlcipher3.connect(str(copy / "mirix.db"), isolation_level=None)
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()
    return True


def _check_after(
    data_dir: Path,
    case: Case,
    old_key: bytes,
    new_key: bytes | None,
    keyring_now: dict[str, str],
    embedder: StaticEmbedder,
    scratch: Path,
) -> str:
    """Exactly one key opens; the ordinary open with it works and settles; returns the side."""
    old_opens = _raw_opens(data_dir, old_key, scratch)
    new_opens = new_key is not None and _raw_opens(data_dir, new_key, scratch)
    assert old_opens != new_opens, f"old opens: {old_opens}, new opens: {new_opens}"
    side = "old" if old_opens else "new"
    valid_key = old_key if old_opens else new_key
    assert valid_key is not None
    mode = case.old_mode if side == "old" else case.new_mode
    other_mode = case.new_mode if side == "old" else case.old_mode

    backend = MemoryKeyring()
    for user, secret in keyring_now.items():
        backend.secrets[(SERVICE, user)] = secret
    keyring.set_keyring(backend)
    store_file = data_dir / "mirix.db"
    if other_mode == "passphrase" and mode == "passphrase":
        # The other side's passphrase is refused, and changes nothing.
        with pytest.raises(WrongPassphrase):
            MemoryStore.open(
                store_file, KeySource(passphrase=OLD if side == "new" else NEW), embedder
            )
    if mode == "passphrase":
        source = KeySource(passphrase=NEW if side == "new" else OLD)
    else:
        source = KeySource()
    with MemoryStore.open(store_file, source, embedder) as store:
        assert store.integrity_check() == "ok"
        assert [m.body for m in store.list()] == [CANARY]
    # Settled: no change pending, the key info names the valid key and its mode.
    assert not rekey.pending_path(store_file).exists()
    info = keys.read_keyinfo(store_file)
    assert info["check"] == keys.check_value(valid_key)
    assert info["mode"] == mode
    assert "previous_check" not in info and "stale_keyring_user" not in info
    # No secret left behind in the keyring: only the valid key's entry, if it is kept there.
    expected = {info["keyring_user"]} if mode == "keyring" else set()
    assert {user for (_, user) in backend.secrets} == expected
    if mode == "keyring":
        assert backend.secrets[(SERVICE, info["keyring_user"])] == valid_key.hex()
    return side


# Steps after which the change must be in force (the store opens with the new key only).
_NEW_FROM = rekey.STEPS.index("rekey")


@pytest.mark.parametrize(("operation", "step"), PARAMS)
def test_a_change_killed_after_a_step_opens_with_one_key(
    operation: str, step: str, tmp_path: Path, embedder: StaticEmbedder
) -> None:
    case = CASES[operation]
    data_dir = tmp_path / "data"
    old_key, backend = _make_store(data_dir, case, embedder)
    outcome, keyring_now, new_key = _run_child(data_dir, case, step, backend)
    assert outcome == "killed"
    side = _check_after(data_dir, case, old_key, new_key, keyring_now, embedder, tmp_path)
    assert side == ("new" if rekey.STEPS.index(step) >= _NEW_FROM else "old")


def test_a_change_killed_inside_the_rekey_statement_opens_with_one_key(
    tmp_path: Path, embedder: StaticEmbedder
) -> None:
    """Killed while `PRAGMA rekey` writes pages under the new key, its commit not yet written.

    The pages spill into the WAL (empty after step 3) once the re-key's cache
    is full: the kill must land after that and before the commit; the delay
    is moved until it does.
    """
    case = CASES["change"]
    delay = 0.1
    wal = 0
    for attempt in range(6):
        data_dir = tmp_path / f"try{attempt}" / "data"
        old_key, backend = _make_store(data_dir, case, embedder, filler=3000)
        outcome, keyring_now, new_key = _run_child(data_dir, case, "checkpoint_old", backend, delay)
        wal_file = data_dir / "mirix.db-wal"
        wal = wal_file.stat().st_size if wal_file.exists() else 0
        if outcome == "killed inside the re-key" and wal > 0:
            break
        delay = delay * 1.6 if outcome == "killed inside the re-key" else delay / 2
    assert outcome == "killed inside the re-key" and wal > 0, (outcome, wal, delay)
    # The child reports the step after `PRAGMA rekey` returns: on a loaded
    # machine the kill can land after its commit frame is written and before
    # the report. The WAL was empty before the re-key, so a commit frame in it
    # is the re-key's: the new key then, the old one without.
    committed = _wal_has_commit(data_dir / "mirix.db-wal")
    side = _check_after(data_dir, case, old_key, new_key, keyring_now, embedder, tmp_path)
    assert side == ("new" if committed else "old")


def _wal_has_commit(wal_file: Path) -> bool:
    """Whether a WAL file holds a commit frame (SQLite's WAL format: a 32-byte header
    with the page size at bytes 8-12, then frames of a 24-byte header, whose bytes
    4-8 are the database size after a commit and 0 otherwise, and a page)."""
    data = wal_file.read_bytes()
    page_size = int.from_bytes(data[8:12], "big")
    frame = 24 + page_size
    return any(
        int.from_bytes(data[offset + 4 : offset + 8], "big") != 0
        for offset in range(32, len(data) - frame + 1, frame)
    )
