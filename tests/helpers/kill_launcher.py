"""`python -m mirix_desktop ARGS...` as the kill harness starts it, with two test hooks.

    python -m tests.helpers.kill_launcher STACKS_FILE ARGS...

- SIGUSR1 writes every thread's stack to STACKS_FILE (`faulthandler`, from
  C, without stopping the process): the harness sends it just before its
  SIGKILL, to tell where the kill landed;
- with `KILL_HARNESS_STOP_FILE=PATH` in the environment, the process stops
  itself (SIGSTOP) inside its next memory write once PATH exists (it removes
  PATH), after the rows are written and before the transaction commits, so a
  kill lands there for sure (a random one rarely does: a write takes
  milliseconds); it writes its stacks first, after a `STOPPED` line.

Nothing else differs from `python -m mirix_desktop`.
"""

from __future__ import annotations

import faulthandler
import os
import runpy
import signal
import sys
from typing import Any

STOP_FILE = "KILL_HARNESS_STOP_FILE"


STOPPED = b"--- stopped in a memory write ---\n"


def _stop_in_write(armed: str, stacks: Any) -> None:
    from mirix_desktop.memory.store import MemoryStore

    original = MemoryStore.write_prepared

    def write_prepared(self: MemoryStore, *args: Any, **kwargs: Any) -> Any:
        ids = original(self, *args, **kwargs)
        try:
            os.unlink(armed)
        except FileNotFoundError:
            return ids  # not armed (or disarmed by the harness meanwhile)
        stacks.write(STOPPED)
        faulthandler.dump_traceback(file=stacks, all_threads=True)
        os.kill(os.getpid(), signal.SIGSTOP)  # the harness kills it here
        return ids

    MemoryStore.write_prepared = write_prepared  # type: ignore[method-assign]


def main() -> None:
    stacks = open(sys.argv[1], "ab", buffering=0)  # noqa: SIM115 - lives as long as the process
    faulthandler.register(signal.SIGUSR1, file=stacks, all_threads=True)
    armed = os.environ.pop(STOP_FILE, "")
    if armed:
        _stop_in_write(armed, stacks)
    sys.argv = ["mirix_desktop", *sys.argv[2:]]
    runpy.run_module("mirix_desktop", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
