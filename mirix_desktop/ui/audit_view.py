"""The audit log as a page of the settings window: what was done with the data, newest first.

A table of time, who (command line, app, daemon, MCP server), what (export,
forget, vault item shown, ...) and the details in one line (filters and
counts: the log never holds content). A period box narrows it; Refresh reads
again. Every read runs on a worker (ui/workers.py); a result that arrives
after a newer request is dropped.
"""

from __future__ import annotations

import functools
import itertools
import json
from datetime import datetime, timedelta
from typing import Any, Protocol

from mirix_desktop.app import audit
from mirix_desktop.memory.audit import AuditEntry
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.qt import QtCore, QtGui, QtWidgets, Signal
from mirix_desktop.ui.workers import Workers

# The period box: label, how far back (None: everything).
PERIODS: tuple[tuple[str, timedelta | None], ...] = (
    ("Last 7 days", timedelta(days=7)),
    ("Last 30 days", timedelta(days=30)),
    ("Last 24 hours", timedelta(days=1)),
    ("Everything", None),
)
MAX_ROWS = 1000
HEADERS = ("Time", "By", "What", "Details")
EMPTY = "Nothing recorded in this period."
INTRO = (
    "Every export, import, forget, retention run, vault item shown, settings or key change, "
    "and read by another program (MCP) is recorded here, inside your encrypted store. "
    "The log keeps filters and counts, never what was read."
)


class AuditServices(Protocol):
    """What the page needs of the application layer (AppServices has it)."""

    def store(self) -> MemoryStore: ...


def time_text(entry: AuditEntry) -> str:
    return datetime.fromtimestamp(entry.at).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def row_texts(entry: AuditEntry) -> tuple[str, str, str, str]:
    """The four cells of an entry's row."""
    return (
        time_text(entry),
        audit.ACTOR_NAMES.get(entry.actor, entry.actor),
        audit.ACTION_NAMES.get(entry.action, entry.action),
        audit.describe(entry.details),
    )


class AuditView(QtWidgets.QWidget):
    """See the module docstring. `loaded(list[AuditEntry])` fires when a read is shown."""

    loaded = Signal(object)

    def __init__(self, services: AuditServices, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName("auditView")
        self.workers = Workers(self, max_threads=1)
        self._generation = itertools.count(1)
        self._wanted = 0
        self.entries: list[AuditEntry] = []

        intro = QtWidgets.QLabel(INTRO)
        intro.setWordWrap(True)

        self.period = QtWidgets.QComboBox()
        for label, _ in PERIODS:
            self.period.addItem(label)
        self.period.setAccessibleName("Period")
        self.period.currentIndexChanged.connect(lambda _index: self.refresh())
        self.refresh_button = QtWidgets.QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.status = QtWidgets.QLabel("")
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QtWidgets.QHBoxLayout()
        shown_label = QtWidgets.QLabel("Show:")
        shown_label.setBuddy(self.period)
        bar.addWidget(shown_label)
        bar.addWidget(self.period)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.refresh_button)

        self.table = QtWidgets.QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setAccessibleName("Audit log")
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        rows = self.table.verticalHeader()
        rows.setVisible(False)
        rows.setDefaultSectionSize(self.fontMetrics().lineSpacing() + 10)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(HEADERS) - 1, QtWidgets.QHeaderView.ResizeMode.Stretch)

        self.empty = QtWidgets.QLabel(EMPTY)
        self.empty.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)  # drawn in the palette's muted text colour
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self._shown_once = False

    # -- reading -----------------------------------------------------------------------------
    def since(self) -> float | None:
        """The start of the chosen period, in seconds since the epoch (None: everything)."""
        span = PERIODS[max(self.period.currentIndex(), 0)][1]
        return None if span is None else (datetime.now().astimezone() - span).timestamp()

    def refresh(self) -> None:
        """Reads the log again on a worker; the table shows it when it arrives."""
        generation = next(self._generation)
        self._wanted = generation
        since = self.since()
        self.status.setText("Reading…")

        def work() -> list[AuditEntry]:
            return audit.entries(self.services.store(), since=since, limit=MAX_ROWS)

        self.workers.run(
            "audit log",
            work,
            functools.partial(self._show, generation),
            functools.partial(self._failed, generation),
        )

    def _show(self, generation: int, found: Any) -> None:
        if generation != self._wanted:
            return
        self.entries = list(found)
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            for column, text in enumerate(row_texts(entry)):
                item = QtWidgets.QTableWidgetItem(text)
                if column == len(HEADERS) - 1:
                    item.setToolTip(json.dumps(entry.details, ensure_ascii=False, indent=1))
                self.table.setItem(row, column, item)
        self.stack.setCurrentWidget(self.table if self.entries else self.empty)
        count = len(self.entries)
        more = " (the newest)" if count >= MAX_ROWS else ""
        self.status.setText(f"{count} entr{'y' if count == 1 else 'ies'}{more}")
        self.loaded.emit(self.entries)

    def _failed(self, generation: int, text: str) -> None:
        if generation != self._wanted:
            return
        self.status.setText(f"Could not read the audit log: {text}")

    # -- life --------------------------------------------------------------------------------
    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        # Read when the page is first shown (not when it is built with the window).
        if not self._shown_once:
            self._shown_once = True
            self.refresh()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Waits for a read in progress (before the store closes); True if none is left."""
        return self.workers.wait(timeout_ms)
