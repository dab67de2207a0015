"""Key changes killed at every step and at random moments inside `PRAGMA rekey`, and the
re-key's time on a larger store.

    .venv/bin/python -m tests.benchmarks.rekey_kills [--random N] [--mb SIZE]

Every operation (change, use-keyring, use-passphrase) is killed after each
of its steps; then `--random` changes of a ~4.5 MB store are killed at a
random moment up to the re-key's own duration. Each trial checks what
tests/integration/test_rekey_kill.py checks (exactly one key opens, the data
intact, the change settled on the next open). Last, a store of `--mb` MB is
re-keyed once without a kill, timed.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import keyring

from mirix_desktop.app import passphrase as key_change
from mirix_desktop.app.services import AppServices
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from tests.conftest import MODELS_DIR
from tests.helpers.keyring_backend import MemoryKeyring
from tests.integration.test_rekey_kill import (
    ALL_PARAMS,
    CASES,
    NEW,
    OLD,
    _check_after,
    _make_store,
    _run_child,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--random", type=int, default=20)
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    embedder = StaticEmbedder(MODELS_DIR)
    rng = random.Random(15)
    sides: dict[str, int] = {"old": 0, "new": 0}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n, (operation, step) in enumerate(ALL_PARAMS):
            case = CASES[operation]
            data_dir = root / f"step{n}" / "data"
            old_key, backend = _make_store(data_dir, case, embedder)
            outcome, keyring_now, new_key = _run_child(data_dir, case, step, backend)
            assert outcome == "killed", (operation, step)
            side = _check_after(
                data_dir, case, old_key, new_key, keyring_now, embedder, data_dir.parent
            )
            sides[side] += 1
            print(f"{operation:15} killed after {step:15} -> opens with the {side} key")
        random_sides: dict[str, int] = {}
        for n in range(args.random):
            case = CASES["change"]
            data_dir = root / f"random{n}" / "data"
            old_key, backend = _make_store(data_dir, case, embedder, filler=1500)
            delay = rng.uniform(0.0, 0.4)
            outcome, keyring_now, new_key = _run_child(
                data_dir, case, "checkpoint_old", backend, delay
            )
            side = _check_after(
                data_dir, case, old_key, new_key, keyring_now, embedder, data_dir.parent
            )
            where = {"done": "not killed", "killed": "killed after the commit"}.get(
                outcome, "killed inside the re-key"
            )
            random_sides[f"{where}: {side} key"] = random_sides.get(f"{where}: {side} key", 0) + 1
        print(f"step kills: {len(ALL_PARAMS)} trials, one key each time {sides}")
        print(f"random kills inside the re-key: {args.random} trials, one key each time "
              f"{random_sides}")  # fmt: skip

        keyring.set_keyring(MemoryKeyring())
        services = AppServices.create(root / "big")
        os.environ["MIRIX_PASSPHRASE"] = OLD
        opened = services.store()
        with opened.transaction() as conn:
            conn.execute("CREATE TABLE filler (x BLOB)")
            conn.executemany("INSERT INTO filler VALUES (randomblob(4000))", [()] * (args.mb * 256))
        size = services.paths.store_file.stat().st_size
        del os.environ["MIRIX_PASSPHRASE"]
        started = time.perf_counter()
        done = key_change.change_passphrase(services, KeySource(passphrase=OLD), NEW)
        total = time.perf_counter() - started
        services.close()
        print(
            f"re-key of a {size / 1e6:.0f} MB store: {done.seconds:.1f} s "
            f"({size / 1e6 / total:.0f} MB/s, scrypt and the audit entry included)"
        )


if __name__ == "__main__":
    main()
