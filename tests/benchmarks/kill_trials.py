"""Crash safety: the real daemon SIGKILLed at random points during capture and ingest.

    python -m tests.benchmarks.kill_trials [--trials 20] [--seed 17] [--keep]

Starts a private X display (Xvfb + openbox), a text window whose text keeps
changing and the real daemon (`mirix-desktop run --no-ui`, 1 s interval,
on a temp data dir), then runs the trials of `tests/helpers/kill_harness.py`:
each runs an `ingest` of rendered screenshots beside the daemon, kills the
daemon (and about half the time the ingest) with SIGKILL after a seeded
random delay (every fourth trial: inside a memory write, before COMMIT),
checks the store the crash left, restarts the daemon (a third of the time
killing it again while it starts), lets the queue drain with the screen
still, and checks again. Prints the trials survived, where the kills landed
(from the processes' stacks) and, per check, the trials that failed it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from tests.helpers.kill_harness import run_trials
from tests.helpers.xdisplay import xvfb_display


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--max-delay", type=float, default=7.0, help="seconds, at most")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mirix-kill-"))
    try:
        with xvfb_display() as display:
            report = run_trials(
                display, args.trials, seed=args.seed, workdir=workdir, max_delay_s=args.max_delay
            )
        print(report.text())
    finally:
        if args.keep:
            print(f"data dir and process log kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
