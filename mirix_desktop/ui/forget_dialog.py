"""The forget confirmation: what would go (counted on a worker), then the forget on a worker.

`confirm_and_forget(parent, services, flt)` is the one way in (the timeline's
"Forget…" and "Forget everything from this app", the settings window's
"Forget everything…"). It shows the dialog at once with a busy bar while the
plan is counted, names the filter and the counts of frames, OCR lines,
memories and conversations, and forgets only when "Forget" is pressed; the
busy bar runs again while the store is rewritten. Returns True once
something was forgotten.
"""

from __future__ import annotations

from typing import Protocol

from mirix_desktop.app.forget import (
    ForgetCounts,
    ForgetFilter,
    ForgetReport,
    forget,
    plan_forget,
    what_goes,
)
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.qt import QtCore, QtWidgets
from mirix_desktop.ui.sizing import text_size
from mirix_desktop.ui.workers import Workers

TITLE = "MIRIX — Forget"


class Services(Protocol):
    """What the dialog needs of the application layer (AppServices has it)."""

    def store(self) -> MemoryStore: ...


class ForgetDialog(QtWidgets.QDialog):
    """Counts, asks, forgets; `report` is set once the forget is done."""

    def __init__(
        self, services: Services, flt: ForgetFilter, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("forgetDialog")
        self.setModal(True)
        self.services = services
        self.filter = flt
        self.counts: ForgetCounts | None = None
        self.report: ForgetReport | None = None
        self.workers = Workers(self, max_threads=1)

        self.heading = QtWidgets.QLabel()
        self.heading.setObjectName("forgetHeading")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("forgetMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy = QtWidgets.QProgressBar()
        self.busy.setObjectName("forgetBusy")
        self.busy.setRange(0, 0)  # busy: no percentage is known
        self.busy.setTextVisible(False)
        self.buttons = QtWidgets.QDialogButtonBox()
        self.forget_button = self.buttons.addButton(
            "Forget", QtWidgets.QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.forget_button.setObjectName("forgetButton")
        self.forget_button.setEnabled(False)
        self.forget_button.setAutoDefault(False)
        self.cancel_button = self.buttons.addButton(
            QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setDefault(True)
        self.forget_button.clicked.connect(self.start_forget)
        self.cancel_button.clicked.connect(self.reject)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.resize(text_size(self, 72, 12))

    # -- the steps ------------------------------------------------------------------------
    def start(self) -> None:
        """Counts what the filter covers, on a worker."""
        self.heading.setText(f"Forget {self.filter.describe()}?")
        self.message.setText("Counting what would be forgotten…")
        flt, services = self.filter, self.services
        self.workers.run(
            "forget plan", lambda: plan_forget(services.store(), flt), self._planned, self._failed
        )

    def _planned(self, counts: ForgetCounts) -> None:
        self.counts = counts
        self.busy.hide()
        if counts.total == 0:
            self.message.setText(f"Nothing matches {self.filter.describe()}: nothing to forget.")
            self.cancel_button.setText("Close")
            return
        goes = what_goes(self.filter, counts) if self.filter.everything else f"{counts.describe()}."
        self.message.setText(
            f"This deletes {goes}\n\n"
            "The store file is then rewritten so the deleted text is gone from it, not only "
            "hidden. This cannot be undone."
        )
        self.forget_button.setEnabled(True)

    def start_forget(self) -> None:
        """Forgets, on a worker, with the busy bar; closes the dialog when done."""
        self.forget_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.heading.setText(f"Forgetting {self.filter.describe()}…")
        self.message.setText(
            "Deleting, then rewriting the store file. On a large store this takes a while."
        )
        self.busy.show()
        flt, services = self.filter, self.services
        self.workers.run(
            "forget",
            lambda: forget(services.store(), flt, actor="app"),
            self._forgotten,
            self._failed,
        )

    def _forgotten(self, report: ForgetReport) -> None:
        self.report = report
        self.accept()

    def _failed(self, text: str) -> None:
        self.busy.hide()
        self.heading.setText("Forget failed")
        self.message.setText(text)
        self.forget_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Close")

    def reject(self) -> None:
        # Not while the forget runs: the store is being rewritten.
        if self.workers.busy and not self.cancel_button.isEnabled():
            return
        super().reject()


def confirm_and_forget(
    parent: QtWidgets.QWidget | None, services: Services, flt: ForgetFilter
) -> bool:
    """Asks with the counts and forgets (see the module docstring); True if done."""
    dialog = ForgetDialog(services, flt, parent)
    dialog.start()
    dialog.exec()
    report = dialog.report
    if report is not None and parent is not None and not report.compacted and report.note:
        QtWidgets.QMessageBox.information(parent, TITLE, f"Forgotten. Note: {report.note}.")
    return report is not None
