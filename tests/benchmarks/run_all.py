"""`make bench`: the benchmarks behind the README's figures, one after another.

Each benchmark is its own script (`python -m tests.benchmarks.NAME --help`)
printing its figures; this runs a chosen set in turn and says which failed.
Without arguments it runs the quick set (about 15 minutes on 2 cores); `--all`
adds the long runs (the 8-hour endurance replay, LoCoMo, a million-memory
search), `--list` shows them all with their commands.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    args: tuple[str, ...]
    measures: str
    quick: bool


BENCHMARKS = [
    Benchmark("app_launch", ("--warm", "8", "--idle", "20"), "tray launch time, idle RSS", True),
    Benchmark("gui_stall", (), "longest GUI stall while capture runs", True),
    Benchmark("capture_replay", (), "capture word recall and CPU", True),
    Benchmark("search_latency", ("--sizes", "10000,100000"), "search p50/p95", True),
    Benchmark("timeline_data", (), "timeline day and moment loads (30-day store)", True),
    Benchmark("timeline_window", (), "timeline open, select, scrub repaint", True),
    Benchmark("quick_query", (), "quick query keystroke to results, hotkey to box", True),
    Benchmark("address_bar_ocr", (), "web-vault address bars recognised", True),
    Benchmark(
        "mcp_roundtrip",
        ("--dir", ".cache/bench/quick-query-100k"),
        "MCP search_memory round trip at 100k memories",
        True,
    ),
    Benchmark("kill_trials", ("--trials", "20", "--seed", "17"), "SIGKILL crash safety", True),
    Benchmark(
        "rekey_kills",
        ("--random", "12", "--mb", "100"),
        "key change killed at every step; re-key time",
        True,
    ),
    Benchmark("settings_open", ("--runs", "30"), "settings window open, each page", True),
    Benchmark("forget_day", (), "forget one day of the 30-day store; bytes reclaimed", False),
    Benchmark("retention_run", (), "retention and space-cap runs on the 30-day store", False),
    Benchmark("export_import", (), "export and import throughput (30-day store)", True),
    Benchmark("audit_log", (), "audit entry write and read at 100k entries", True),
    Benchmark("battery_policy", ("--minutes", "60"), "capture CPU on mains vs battery", False),
    Benchmark("settings_live", (), "a saved setting reaching the running daemon", True),
    Benchmark("fuzz_ingest", (), "malformed images through ingest", False),
    Benchmark("redaction_suite", (), "rendered secrets stored in clear, false positives", False),
    Benchmark("redaction_fp_wide", (), "redaction false positives, stdlib and terminal", False),
    Benchmark("endurance", ("--hours", "8", "--speed", "10"), "8 h of capture at 10x", False),
    Benchmark("search_latency", ("--sizes", "1000000"), "search at a million memories", False),
    Benchmark("locomo_recall", (), "LoCoMo evidence recall@10", False),
    Benchmark("locomo_grounding", (), "LoCoMo answer grounding", False),
    Benchmark("ask_latency", (), "answer latency by provider", False),
]


def command(bench: Benchmark) -> list[str]:
    return [sys.executable, "-m", f"tests.benchmarks.{bench.name}", *bench.args]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only these benchmarks")
    parser.add_argument("--all", action="store_true", help="the long runs too")
    parser.add_argument("--list", action="store_true", help="list them and exit")
    options = parser.parse_args(argv)
    known = {b.name for b in BENCHMARKS}
    unknown = [n for n in options.names if n not in known]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; --list shows them")
    if options.list:
        for bench in BENCHMARKS:
            kind = "quick" if bench.quick else "long "
            print(f"{kind}  {bench.measures:<50} {' '.join(command(bench)[1:])}")
        return 0
    if options.names:
        chosen = [b for b in BENCHMARKS if b.name in options.names]
    else:
        chosen = [b for b in BENCHMARKS if b.quick or options.all]
    failed = []
    for bench in chosen:
        print(f"\n== {bench.name}: {bench.measures}", flush=True)
        started = time.monotonic()
        code = subprocess.call(command(bench))
        print(f"== {bench.name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(bench.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
