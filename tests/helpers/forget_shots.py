"""Screenshots of forget in the app, to look at: the timeline with a range selected, its
context menu, and the confirmation with its counts (for a range and for everything).

    .venv/bin/python -m tests.helpers.forget_shots /work/notes/shots
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from mirix_desktop.app.forget import ForgetFilter
from mirix_desktop.config import Settings
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.ui.forget_dialog import ForgetDialog
from mirix_desktop.ui.qt import QtCore, QtWidgets
from mirix_desktop.ui.theme import apply_theme
from mirix_desktop.ui.timeline_window import TimelineWindow
from tests.benchmarks.common import embedder
from tests.helpers.timeline_day import KNOWN_DAY, at, write_known_day


class _Services:
    def __init__(self, store: MemoryStore) -> None:
        self.settings = Settings()
        self.paths = resolve_paths(store.path.parent)
        self._store = store

    def store(self) -> MemoryStore:
        return self._store


def _settle(app: QtWidgets.QApplication, done: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.perf_counter() + timeout_s
    while not done() and time.perf_counter() < deadline:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
    for _ in range(10):
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.02)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication([])
    apply_theme(app)
    directory = Path(tempfile.mkdtemp(prefix="forget-shots-"))
    store = MemoryStore.open(directory / "mirix.db", KeySource(passphrase="shots only"), embedder())
    write_known_day(store)
    services = _Services(store)

    window = TimelineWindow(services, today=lambda: KNOWN_DAY)
    shown: list[object] = []
    window.moment_shown.connect(shown.append)
    window.show()
    _settle(app, lambda: bool(shown))
    window.axis.set_view(to_ms(at(8, 30)), to_ms(at(11, 0)))
    window.axis.set_range((to_ms(at(9, 10)), to_ms(at(9, 40))))
    _settle(app, lambda: True)
    window.grab().save(str(out / "forget-timeline-range.png"))
    lane_y = window.axis.lanes_top() + window.axis.lane_height() // 2
    menu = window.axis.forget_menu(QtCore.QPointF(window.axis.plot_rect().left() + 40, lane_y))
    menu.adjustSize()
    menu.grab().save(str(out / "forget-timeline-menu.png"))

    for name, flt in (
        ("forget-dialog-range.png", ForgetFilter(since=at(9, 10), until=at(9, 40))),
        ("forget-dialog-everything.png", ForgetFilter(everything=True)),
    ):
        dialog = ForgetDialog(services, flt, window)
        dialog.show()
        dialog.start()
        _settle(app, dialog.forget_button.isEnabled)
        dialog.grab().save(str(out / name))
        dialog.reject()
    window.shutdown()
    store.close()
    print(f"saved to {out}")


if __name__ == "__main__":
    main()
