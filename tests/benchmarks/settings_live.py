"""How soon a running daemon follows a setting saved to config.toml (p50/p95).

    python -m tests.benchmarks.settings_live            # 10 trials
    python -m tests.benchmarks.settings_live --trials 20

A daemon (a throw-away encrypted store, a fake desktop whose picture changes
on every look) runs with `capture.interval_s = 60`. Each trial writes
`interval_s = 0.5` with `write_options` (what the settings window's Apply
does) and times the wait until the daemon's next look, then writes 60 again
and lets it settle. The daemon polls the file between ticks (every
`live_config.CHECK_EVERY_S`), so the wait is that poll plus one tick.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args(argv)

    from mirix_desktop.app.config_writer import write_options
    from mirix_desktop.capture.screen import MonitorShot
    from mirix_desktop.capture.session import NullProbe
    from mirix_desktop.config import load_settings
    from mirix_desktop.geometry import Rect
    from mirix_desktop.memory.embedder import StaticEmbedder
    from mirix_desktop.memory.keys import KeySource
    from mirix_desktop.memory.store import MemoryStore
    from mirix_desktop.paths import resolve_paths
    from mirix_desktop.pipeline.daemon import Daemon
    from mirix_desktop.pipeline.live_config import CHECK_EVERY_S
    from tests.conftest import MODELS_DIR, PASSPHRASE
    from tests.helpers.screens import pixels, screen, text_lines

    class Monitor:
        def __init__(self) -> None:
            self.looks: list[float] = []
            self.lock = threading.Lock()

        def grab(self) -> list[MonitorShot]:
            with self.lock:
                self.looks.append(time.monotonic())
                number = len(self.looks)
            image = pixels(screen(text_lines(2), footer=f"look {number}"))
            return [MonitorShot(1, Rect(0, 0, 1280, 800), image)]

        def close(self) -> None:
            pass

    with tempfile.TemporaryDirectory() as tmp:
        paths = resolve_paths(Path(tmp) / "data")
        paths.ensure()
        paths.config_file.write_text("# mine\n[capture]\ninterval_s = 60.0  # slow\n")
        store = MemoryStore.open(
            paths.store_file, KeySource(passphrase=PASSPHRASE), StaticEmbedder(MODELS_DIR)
        )
        monitor = Monitor()
        daemon = Daemon(
            paths,
            load_settings(paths.config_file),
            store,
            probe_factory=NullProbe,
            grabber_factory=lambda: monitor,  # type: ignore[arg-type,return-value]
        )
        daemon.start()
        waits: list[float] = []
        try:
            while not monitor.looks:
                time.sleep(0.01)
            for _ in range(args.trials):
                time.sleep(0.3)
                seen = len(monitor.looks)
                saved = time.monotonic()
                write_options(paths.config_file, {"capture": {"interval_s": 0.5}})
                while len(monitor.looks) == seen:
                    time.sleep(0.005)
                waits.append(monitor.looks[seen] - saved)
                write_options(paths.config_file, {"capture": {"interval_s": 60.0}})
                time.sleep(CHECK_EVERY_S + 0.8)  # the slow interval is in force again
        finally:
            daemon.stop()
            store.close()
    ordered = sorted(waits)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"saved interval -> next look of the running daemon: p50 {statistics.median(waits):.2f} s, "
        f"p95 {p95:.2f} s, max {max(waits):.2f} s ({args.trials} trials; old interval 60 s, "
        f"new 0.5 s; the daemon looks at config.toml every {CHECK_EVERY_S:g} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
