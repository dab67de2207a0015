"""Screenshots of the timeline window, to look at: a busy day, an empty day, light and dark, 200 %.

The busy day is the last day of the generated benchmark store
(tests/benchmarks/timeline_store.py), with a search for "sqlite" marked on
it and one of its matches selected; the empty day is the day before that
store begins. Run once per look (the scale is fixed when Qt starts):

    MIRIX_UI_THEME=light .venv/bin/python -m tests.helpers.timeline_shots busy OUT.png
    MIRIX_UI_THEME=dark QT_SCALE_FACTOR=2 \
        .venv/bin/python -m tests.helpers.timeline_shots empty OUT.png
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from mirix_desktop.config import Settings
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.ui.qt import QtCore, QtWidgets
from mirix_desktop.ui.theme import apply_theme
from mirix_desktop.ui.timeline_window import TimelineWindow
from tests.benchmarks.timeline_store import open_bench_store


class _Services:
    def __init__(self, store: MemoryStore) -> None:
        self.settings = Settings()
        self.paths = resolve_paths(store.path.parent)
        self._store = store

    def store(self) -> MemoryStore:
        return self._store


def _settle(app: QtWidgets.QApplication, done: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.perf_counter() + timeout_s
    while not done() and time.perf_counter() < deadline:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
    for _ in range(20):  # the thumbnail strip and the last paints
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.02)


def main() -> None:
    kind, out = sys.argv[1], sys.argv[2]
    app = QtWidgets.QApplication(["mirix-desktop"])
    apply_theme(app)
    store, days = open_bench_store()
    window = TimelineWindow(_Services(store), today=lambda: days[-1])
    window.resize(
        window.fontMetrics().averageCharWidth() * 190, window.fontMetrics().lineSpacing() * 46
    )
    if kind == "empty":
        window.show_day(days[0] - timedelta(days=1))
    window.show()
    _settle(app, lambda: window.index is not None)
    if kind == "busy":
        window.search_box.setText("sqlite")
        window._on_search_submitted(False)
        _settle(
            app, lambda: bool(window.matches) or window.match_label.text() not in ("", "Searching…")
        )
        window.axis.zoom(3)
        _settle(app, lambda: window.moment_view.shown is not None)
    window.grab().save(out)
    print(f"{out}: {window.width()}x{window.height()} logical, day {window.day}, "
          f"{len(window.matches)} matches")  # fmt: skip
    window.shutdown()
    store.close()


if __name__ == "__main__":
    main()
