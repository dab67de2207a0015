"""A key change in a process that kills itself (SIGKILL) after a given step.

    python -m tests.helpers.rekey_child DATA_DIR OPERATION STEP [DELAY_S] < request.json

OPERATION is change | use-keyring | use-passphrase, or open (an unlock with
the passphrase `open` of the request, which settles an interrupted change);
STEP one of `memory.rekey.STEPS` or "rollback_keyring" (the process kills
itself right after it), or "none".
With DELAY_S the kill comes DELAY_S seconds after STEP instead, from a
thread: STEP "checkpoint_old" with a delay lands inside `PRAGMA rekey`.

stdin is a JSON object: {"old": passphrase or null (the keyring), "new":
passphrase or null, "keyring": {user: secret} or null, "open": passphrase}. The OS keyring of
this process is an in-memory one standing for the real keyring daemon, which
outlives a killed client: every change to it is printed at once on stdout
(`KEYRING {json}`), so the test knows what it holds after the kill, without a
keyring file on disk. The new key is printed too (`NEWKEY hex`) for the
test's byte-level probe.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import keyring

from tests.helpers.keyring_backend import MemoryKeyring


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class ReportingKeyring(MemoryKeyring):
    """MemoryKeyring that reports its whole content after every change."""

    def _report(self) -> None:
        _say("KEYRING " + json.dumps({user: value for (_, user), value in self.secrets.items()}))

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        self._report()

    def delete_password(self, service: str, username: str) -> None:
        super().delete_password(service, username)
        self._report()


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    data_dir, operation, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    delay = float(sys.argv[4]) if len(sys.argv) > 4 else None
    request: dict[str, Any] = json.loads(sys.stdin.read())
    if request.get("keyring") is not None:
        backend = ReportingKeyring()
        for user, secret in request["keyring"].items():
            backend.secrets[("mirix-desktop", user)] = secret
        keyring.set_keyring(backend)

    from mirix_desktop.app import passphrase
    from mirix_desktop.app.services import AppServices
    from mirix_desktop.memory import keys, rekey
    from mirix_desktop.memory.keys import KeySource

    def reported(make: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            key, info = make(*args)
            _say(f"NEWKEY {key.hex()}")
            return key, info

        return wrapper

    keys.new_passphrase_info = reported(keys.new_passphrase_info)
    keys.new_keyring_info = reported(keys.new_keyring_info)

    def after(name: str) -> None:
        _say(f"STEP {name}")
        if name != step:
            return
        if delay is None:
            _kill()
        else:
            threading.Timer(delay, _kill).start()

    rekey.after_step = after
    services = AppServices.create(data_dir)
    old = KeySource(passphrase=request["old"])
    if operation == "open":  # an unlock, which settles an interrupted change
        keys.unlock_key(services.paths.store_file, KeySource(passphrase=request["open"]))
    elif operation == "change":
        passphrase.change_passphrase(services, old, request["new"])
    elif operation == "use-keyring":
        passphrase.move_to_keyring(services, old)
    else:
        passphrase.move_to_passphrase(services, old, request["new"])
    if delay is not None:
        time.sleep(delay + 1)  # the kill was meant to land inside: say it did not
    _say("DONE")


if __name__ == "__main__":
    main()
