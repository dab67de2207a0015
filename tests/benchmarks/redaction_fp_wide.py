"""Redaction false positives on a wide corpus: the standard library and real terminal output.

`redaction_suite` judges false positives on 484 chosen lines; this judges the
rules on about a quarter of a million lines nobody chose: 700 modules of this
Python's standard library (tests and idlelib left out; a seeded shuffle, so
the same modules each run) and the output of commands run here and now
(`ps aux`, `ls -la` of system directories, `dpkg -l`, `pip list`, this
repository's `git log --stat`). Lines are redacted 40 to a screen, as the
pipeline reads them, and a line counts when redaction changed it. Terminal
output differs between machines, so the figure moves a little from one to
another; `--show` prints every changed line to judge.

    .venv/bin/python -m tests.benchmarks.redaction_fp_wide [--modules 700] [--show]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from mirix_desktop.privacy.redaction import Redactor
from tests.benchmarks.common import REPO

SCREEN = 40
COMMANDS = (
    ["ps", "aux"],
    ["ls", "-la", "/usr/lib", "/usr/bin", "/etc"],
    ["dpkg", "-l"],
    ["git", "-C", str(REPO), "log", "--stat", "-n", "300"],
)


def stdlib_lines(modules: int) -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        path
        for path in root.rglob("*.py")
        if not {"test", "tests", "idlelib", "site-packages"} & set(path.parts)
    )
    random.Random(1).shuffle(files)
    lines: list[str] = []
    for path in files[:modules]:
        try:
            lines += path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
    return lines


def terminal_lines() -> list[str]:
    lines: list[str] = []
    for command in [*COMMANDS, [sys.executable, "-m", "pip", "list"]]:
        if shutil.which(command[0]) is None:
            continue
        result = subprocess.run(command, capture_output=True, text=True, errors="replace")
        lines += result.stdout.splitlines()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=700)
    parser.add_argument("--show", action="store_true", help="print each changed line")
    args = parser.parse_args()
    redactor = Redactor()
    started = time.perf_counter()
    for name, lines in (("stdlib", stdlib_lines(args.modules)), ("terminal", terminal_lines())):
        lines = [line.rstrip() for line in lines if line.strip()]
        changed = 0
        for start in range(0, len(lines), SCREEN):
            screen = lines[start : start + SCREEN]
            out, _count = redactor.redact_lines(screen)
            for before, after in zip(screen, out, strict=True):
                if before != after:
                    changed += 1
                    if args.show:
                        print(f"  {before[:160]!r}\n  -> {after[:160]!r}")
        share = 100 * changed / max(1, len(lines))
        print(f"{name:9} {len(lines):7,} lines: {changed} changed ({share:.3f}%)")
    print(f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
