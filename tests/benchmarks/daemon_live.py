"""The running daemon under Xvfb: CPU on a static screen and while typing, and latency.

    python -m tests.benchmarks.daemon_live [--seconds 60] [--trials 20]

Starts a private X display (Xvfb + openbox), a text window and the real
daemon (`mirix-desktop run --no-ui`, default settings: 2 s interval); CPU is
the daemon process's user+system time over the window, as % of one core.
Latency: a new unique word is put on screen, then the store is searched
(from this process, like the CLI would) every 100 ms until it is found.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from tests.benchmarks.common import MODELS_DIR, REPO, embedder, percentile
from tests.helpers.text_window import TextWindow
from tests.helpers.xdisplay import xvfb_display

_WORDS = "amber basil cedar delta ember fjord garnet harbor iris juniper kelp lotus".split()


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="mirix-live-"))
    text = "\n".join(f"def handler_{i}(request):  # serves the {w} endpoint" for i, w in
                     enumerate(_WORDS))  # fmt: skip
    with xvfb_display() as display, TextWindow(display, "app.py - Mousepad", "mousepad", text) as w:
        env = dict(display.env, MIRIX_DATA_DIR=str(data_dir), MIRIX_PASSPHRASE="bench",
                   MIRIX_MODELS_DIR=str(MODELS_DIR), PYTHONPATH=str(REPO))  # fmt: skip
        daemon = subprocess.Popen(
            [sys.executable, "-m", "mirix_desktop", "run", "--no-ui"],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            status = data_dir / "status.json"
            while not status.exists() or json.loads(status.read_text())["state"] != "capturing":
                time.sleep(0.2)
            time.sleep(10)  # the first full-frame OCR and the embedder warm-up
            process = psutil.Process(daemon.pid)
            start = _cpu(process)
            time.sleep(args.seconds)
            static = (_cpu(process) - start) / args.seconds * 100
            print(f"static screen: {static:.2f}% of one core over {args.seconds:.0f} s")

            typed = text + "\n# "
            start, began = _cpu(process), time.monotonic()
            count = 0
            while time.monotonic() - began < args.seconds:
                typed += "abcdefghij klmnop qrstuv wxyz "[count % 30]
                count += 1
                w.set_text(typed)
                time.sleep(0.2)  # about 5 characters a second
            typing = (_cpu(process) - start) / (time.monotonic() - began) * 100
            print(f"typing (~5 chars/s): {typing:.1f}% of one core over {args.seconds:.0f} s")

            store = MemoryStore.open(data_dir / "mirix.db", KeySource(passphrase="bench"),
                                     embedder())  # fmt: skip
            engine = SearchEngine(store)
            latencies = []
            for trial in range(args.trials):
                # Letters only: OCR confuses 0/O and 1/l, and the probe must be exact.
                word = f"{_WORDS[trial % len(_WORDS)]}{'bcdfghjkmnpqrstvwxyz'[trial % 20]}oz"
                w.set_text(f"{text}\nnote {trial}: the release codeword is {word} today")
                shown = time.monotonic()
                while True:
                    result = engine.search(SearchQuery(text=word))
                    bodies = [result.records[h.id].body for h in result.hits]
                    if any(word in body for body in bodies):
                        latencies.append((time.monotonic() - shown) * 1000)
                        break
                    if time.monotonic() - shown > 30:
                        latencies.append(30_000.0)  # counted as 30 s: not found
                        break
                    time.sleep(0.1)
                time.sleep(1.0)
            store.close()
            print(
                f"screen-to-search latency over {len(latencies)} trials: "
                f"p50 {percentile(latencies, 50) / 1000:.2f} s, "
                f"p95 {percentile(latencies, 95) / 1000:.2f} s, max {max(latencies) / 1000:.2f} s"
            )
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)


if __name__ == "__main__":
    main()
