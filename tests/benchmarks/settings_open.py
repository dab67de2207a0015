"""Settings window open time (p50/p95), and screenshots of every page.

    python -m tests.benchmarks.settings_open                 # open time, 30 runs
    python -m tests.benchmarks.settings_open --runs 50
    python -m tests.benchmarks.settings_open --shots /work/notes/shots [--theme dark]

Runs offscreen (QT_QPA_PLATFORM=offscreen unless a platform is set) with a
temporary data dir holding a commented config.toml. "Open" is building
the window (every page, from the schema) and showing it until it is
exposed; the widgets of other parts that read the store are left out of the
timing run (`extras=False`) and in for the screenshots when a store exists.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CONFIG = """\
# My MIRIX settings
[capture]
# a bit slower than the default
interval_s = 3.0  # seconds

[privacy]
redact_emails = true
[[privacy.exclude]]
field = "app"
pattern = "Signal"
regex = false
[[privacy.exclude]]
field = "title"
pattern = "(?i)bank"
regex = true
"""

WINDOWS = [
    ("Signal", "Signal — Alice"),
    ("firefox", "My Bank — online banking — Mozilla Firefox"),
    ("code", "settings_window.py — mirix-desktop — Visual Studio Code"),
    ("thunderbird", "Inbox — Thunderbird"),
]


def _shot_store(paths: Any) -> Any:
    """A throw-away store with a few audit entries, so the Data page shows some."""
    from mirix_desktop.app.audit import record
    from mirix_desktop.memory.embedder import StaticEmbedder
    from mirix_desktop.memory.keys import KeySource
    from mirix_desktop.memory.store import MemoryStore
    from tests.conftest import MODELS_DIR, PASSPHRASE

    store = MemoryStore.open(
        paths.store_file, KeySource(passphrase=PASSPHRASE), StaticEmbedder(MODELS_DIR)
    )
    record(store, "settings_change", {"options": ["capture.interval_s"]}, actor="app")
    record(store, "export", {"memories": 1284, "format": "markdown"}, actor="cli")
    record(store, "retention", {"frames": 5120, "days": 30}, actor="daemon")
    return store


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--shots", type=Path, help="save a PNG of every page here")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--suffix", default="", help="added to the screenshot names")
    parser.add_argument("--bad", action="store_true", help="a config file with mistakes")
    parser.add_argument(
        "--extras",
        action="store_true",
        help="time it with the other parts' widgets too (audit log, space, models...) on a store",
    )
    args = parser.parse_args(argv)

    from mirix_desktop.app.services import AppServices

    class _StoreServices(AppServices):
        def __init__(self, paths: Any, settings: Any, opened: Any) -> None:
            super().__init__(paths, settings)
            self.opened = opened

        def store(self) -> Any:
            return self.opened

    from mirix_desktop.capture.session import WindowInfo
    from mirix_desktop.config import Settings
    from mirix_desktop.paths import resolve_paths
    from mirix_desktop.ui.qt import QtWidgets
    from mirix_desktop.ui.settings_window import PAGES, SettingsWindow
    from mirix_desktop.ui.theme import apply_theme

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["mirix-desktop"])
    assert isinstance(app, QtWidgets.QApplication)
    apply_theme(app, args.theme)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "xdg")
        paths = resolve_paths(Path(tmp) / "data")
        paths.ensure()
        text = CONFIG
        if args.bad:
            text += '\n[ui]\nhotkey = "A"\n[capture.extra]\n'
            text = text.replace("interval_s = 3.0", 'interval_s = "fast"\nsnapshot = true')
        paths.config_file.write_text(text, encoding="utf-8")
        services = AppServices(paths, Settings())
        windows = [WindowInfo(app=a, title=t, rect=None) for a, t in WINDOWS]

        if args.shots is not None:
            args.shots.mkdir(parents=True, exist_ok=True)
            store = _shot_store(paths)
            services = _StoreServices(paths, Settings(), store)
            window = SettingsWindow(services, windows=lambda: list(windows))
            window.show()
            app.processEvents()
            if window.exclusions is not None:
                window.exclusions.field.setCurrentIndex(1)  # window title
                window.exclusions.pattern.setText("bank")
            for page in PAGES:
                window.show_page(page)
                # Widgets that read on a worker (space, audit log) fill in, then lay out.
                settle = time.monotonic() + 1.0
                while time.monotonic() < settle:
                    app.processEvents()
                    time.sleep(0.02)
                name = page.lower().replace(" & ", "-").replace(" ", "-")
                out = args.shots / f"settings-{name}-{args.theme}{args.suffix}.png"
                window.grab().save(str(out))
                print(out)
                # The whole page too, below what the window shows at once.
                scroll = window.stack.currentWidget()
                if isinstance(scroll, QtWidgets.QScrollArea) and scroll.widget() is not None:
                    whole = out.with_name(out.name.replace(f"-{args.theme}", f"-full-{args.theme}"))
                    scroll.widget().grab().save(str(whole))
            window.close()
            store.close()
            return 0

        timings: list[float] = []
        page_times: dict[str, list[float]] = {}
        store = None
        if args.extras:
            store = _shot_store(paths)
            services = _StoreServices(paths, Settings(), store)
        for _ in range(args.runs):
            started = time.perf_counter()
            window = SettingsWindow(services, windows=lambda: list(windows), extras=args.extras)
            window.show()
            app.processEvents()
            timings.append(time.perf_counter() - started)
            for page in PAGES[1:]:
                shown = time.perf_counter()
                window.show_page(page)
                app.processEvents()
                page_times.setdefault(page, []).append(time.perf_counter() - shown)
            window.close()
            window.deleteLater()
            app.processEvents()
        print(
            f"settings window open: p50 {statistics.median(timings) * 1000:.0f} ms, "
            f"p95 {_percentile(timings, 0.95) * 1000:.0f} ms, "
            f"first {timings[0] * 1000:.0f} ms ({args.runs} runs, offscreen, "
            f"{'with' if args.extras else 'without'} the other parts' widgets)"
        )
        for page, times in page_times.items():
            print(
                f"  first visit of {page}: p50 {statistics.median(times) * 1000:.0f} ms, "
                f"p95 {_percentile(times, 0.95) * 1000:.0f} ms"
            )
        if store is not None:
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
