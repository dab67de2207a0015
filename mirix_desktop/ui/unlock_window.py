"""The "MIRIX — Unlock" dialog: the passphrase asked at start, and store problems shown.

A wrong passphrase is said in plain words and the person tries again; after
a few wrong tries the Unlock button waits (a growing delay, with a countdown).
The wait is kept beside the store (`memory/keys.py`), so closing the window
or starting the app again does not skip it: the window opens counting down.
The key is derived with scrypt (~0.1 s) on a worker thread, so the window
keeps painting. A store that cannot be opened at all (key info missing, a
damaged or newer file) is named, and the only way out is Quit: nothing is
overwritten.

`BackgroundCall` (run one function off the GUI thread, result by signal) is
shared with the first-run window.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from mirix_desktop.app.unlock import next_try_wait, store_kind, unlock_with_passphrase
from mirix_desktop.errors import KnownError, PassphraseWait, StoreError, WrongPassphrase
from mirix_desktop.paths import AppPaths
from mirix_desktop.ui.qt import QObject, Qt, QtCore, QTimer, QtWidgets, Signal

log = logging.getLogger("mirix.ui.unlock")

WRONG_PASSPHRASE = "That passphrase does not open your memories. Try again."
_WRONG_WAIT = "That passphrase does not open your memories. You can try again in {} s."
_EARLIER_WAIT = "Too many wrong passphrases were tried. You can try again in {} s."
_TICK_MS = 250


class BackgroundCall(QObject):
    """Runs one function on Qt's thread pool; reports through signals on the GUI thread."""

    succeeded = Signal(object)
    failed = Signal(object)  # the exception

    def start(self, function: Callable[[], Any]) -> None:
        def work() -> None:
            try:
                value = function()
            except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, which decides
                self._report(self.failed, exc)
            else:
                self._report(self.succeeded, value)

        QtCore.QThreadPool.globalInstance().start(work)

    def _report(self, signal: Any, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            # The window was closed and deleted while the work ran: nobody to tell.
            log.debug("background result dropped: its receiver is gone")


def describe_problem(error: KnownError) -> str:
    """A store error in plain words, naming the file."""
    if isinstance(error, StoreError):
        problem = error.problem.rstrip(".")
        return (
            f"MIRIX cannot open this file:\n{error.path}\n\n"
            f"{problem[:1].upper()}{problem[1:]}.\n\n"
            "Nothing was changed, and MIRIX will not overwrite it."
        )
    return error.message


def heading_label(text: str, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QLabel:
    """A section heading: the palette's text, a larger bold font (scales with the UI)."""
    label = QtWidgets.QLabel(text, parent)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.25)
    label.setFont(font)
    label.setWordWrap(True)
    return label


def text_label(text: str, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def path_label(path: Path, parent: QtWidgets.QWidget) -> QtWidgets.QLabel:
    """A file path on its own indented line, selectable so it can be copied."""
    label = text_label(str(path), parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setIndent(parent.fontMetrics().averageCharWidth() * 2)
    return label


def icon_row(
    icon: QtWidgets.QStyle.StandardPixmap, label: QtWidgets.QLabel, widget: QtWidgets.QWidget
) -> tuple[QtWidgets.QWidget, QtWidgets.QLabel]:
    """`label` with the style's icon before it (a warning, an error); returns (row, icon)."""
    row = QtWidgets.QWidget(widget)
    layout = QtWidgets.QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    picture = QtWidgets.QLabel(row)
    size = widget.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_SmallIconSize)
    picture.setPixmap(widget.style().standardIcon(icon).pixmap(size, size))
    picture.setAlignment(Qt.AlignmentFlag.AlignTop)
    layout.addWidget(picture, 0, Qt.AlignmentFlag.AlignTop)
    layout.addWidget(label, 1)
    return row, picture


class UnlockWindow(QtWidgets.QDialog):
    """Asks for the store passphrase; `key()` is the unlocked key after `accept()`.

    `problem` (or one found when looking at the store) turns the dialog into
    a notice naming the file, with Quit only.
    """

    def __init__(
        self,
        paths: AppPaths,
        *,
        unlock: Callable[[str], bytes] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait_left: Callable[[], float] | None = None,
        problem: KnownError | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("MIRIX — Unlock")
        self._paths = paths
        self._unlock = unlock or partial(unlock_with_passphrase, paths)
        self._clock = clock
        # Seconds before the next try, from the wrong tries recorded beside the store.
        self._wait_left = wait_left or partial(next_try_wait, paths)
        self._key: bytes | None = None
        self._wait_until: float | None = None
        self._after_wrong = False  # the wait follows a wrong passphrase typed here
        self._checking = False
        self._problem: KnownError | None = None

        self._heading = heading_label("Unlock your memories", self)
        self._intro = QtWidgets.QWidget(self)
        intro = QtWidgets.QVBoxLayout(self._intro)
        intro.setContentsMargins(0, 0, 0, 0)
        intro.addWidget(text_label("Your memories are kept encrypted in this file:", self._intro))
        store = path_label(paths.store_file, self._intro)
        store.setAccessibleName("Store file")
        # Unwrapped: a top-level dialog does not grow for a label that wraps
        # after it was sized, and a path is read best on one line anyway.
        store.setWordWrap(False)
        intro.addWidget(store)
        intro.addWidget(text_label("Type your passphrase to open them.", self._intro))
        self._passphrase = QtWidgets.QLineEdit(self)
        self._passphrase.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self._passphrase.setAccessibleName("Passphrase")
        self._passphrase_label = QtWidgets.QLabel("&Passphrase:", self)
        self._passphrase_label.setBuddy(self._passphrase)
        self._message = text_label("", self)
        self._message.setAccessibleName("Message")
        self._message_row, self._message_icon = icon_row(
            QtWidgets.QStyle.StandardPixmap.SP_MessageBoxWarning, self._message, self
        )
        self._message_row.hide()

        self._buttons = QtWidgets.QDialogButtonBox(self)
        self._unlock_button = self._buttons.addButton(
            "&Unlock", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole
        )
        self._quit_button = self._buttons.addButton(
            "&Quit", QtWidgets.QDialogButtonBox.ButtonRole.RejectRole
        )
        self._unlock_button.setDefault(True)
        self._unlock_button.setAutoDefault(True)
        self._quit_button.setAutoDefault(False)
        # The buttons are wired one by one: the box's accepted() would close
        # the dialog before the passphrase is checked.
        self._unlock_button.clicked.connect(self._try_unlock)
        self._quit_button.clicked.connect(self.reject)

        form = QtWidgets.QFormLayout()
        form.addRow(self._passphrase_label, self._passphrase)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self._heading)
        layout.addWidget(self._intro)
        layout.addLayout(form)
        layout.addWidget(self._message_row)
        layout.addStretch(1)
        layout.addWidget(self._buttons)
        self.setTabOrder(self._passphrase, self._unlock_button)
        self.setTabOrder(self._unlock_button, self._quit_button)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)

        self._ticker = QTimer(self)
        self._ticker.setInterval(_TICK_MS)
        self._ticker.timeout.connect(self._refresh_wait)
        self._worker = BackgroundCall(self)
        self._worker.succeeded.connect(self._unlocked)
        self._worker.failed.connect(self._failed)

        if problem is None:
            try:
                store_kind(paths)
            except KnownError as exc:
                problem = exc
        if problem is not None:
            self.show_problem(problem)
        else:
            self._start_wait(self._wait_left(), after_wrong=False)
        self._passphrase.setFocus()

    # -- public ------------------------------------------------------------------
    def key(self) -> bytes | None:
        """The store key once the dialog was accepted; None before or after Quit."""
        return self._key if self.result() == QtWidgets.QDialog.DialogCode.Accepted else None

    def problem(self) -> KnownError | None:
        """The error shown instead of the passphrase field, if any."""
        return self._problem

    def show_problem(self, error: KnownError) -> None:
        """Shows why the store cannot be opened; Quit is then the only button."""
        self._problem = error
        self._wait_until = None
        self._ticker.stop()
        self._heading.setText("MIRIX cannot open your memories")
        for widget in (self._intro, self._passphrase, self._passphrase_label, self._unlock_button):
            widget.hide()
        critical = QtWidgets.QStyle.StandardPixmap.SP_MessageBoxCritical
        size = self.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_SmallIconSize)
        self._message_icon.setPixmap(self.style().standardIcon(critical).pixmap(size, size))
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._say(describe_problem(error))
        self._quit_button.setDefault(True)
        self._quit_button.setFocus()
        self.adjustSize()

    @property
    def waiting(self) -> bool:
        """True while the Unlock button waits after repeated wrong passphrases."""
        return self._wait_until is not None

    # -- internals ---------------------------------------------------------------
    def _try_unlock(self) -> None:
        if self._checking or self._problem is not None or self.waiting:
            return
        passphrase = self._passphrase.text()
        if not passphrase:
            # Not a wrong try: nothing was typed yet, so no wait is earned.
            self._say("Type your passphrase, then press Unlock.")
            self._passphrase.setFocus()
            return
        self._checking = True
        self._passphrase.setEnabled(False)
        self._unlock_button.setEnabled(False)
        self._say("Checking the passphrase…", icon=False)
        self._worker.start(partial(self._unlock, passphrase))

    def _unlocked(self, key: object) -> None:
        self._checking = False
        assert isinstance(key, bytes)
        self._key = key
        self._passphrase.clear()
        self.accept()

    def _failed(self, error: object) -> None:
        self._checking = False
        self._passphrase.setEnabled(True)
        if isinstance(error, WrongPassphrase):
            # The failure is recorded beside the store by now: its wait is read back.
            told = error.wait_s if isinstance(error, PassphraseWait) else 0.0
            self._passphrase.selectAll()
            self._passphrase.setFocus()
            self._start_wait(
                max(told, self._wait_left()), after_wrong=not isinstance(error, PassphraseWait)
            )
            return
        if isinstance(error, KnownError):
            self.show_problem(error)
            return
        # A bug, not the person's doing: logged in full, shown without a crash.
        if isinstance(error, BaseException):
            log.error("unlocking failed unexpectedly", exc_info=error)
        self.show_problem(KnownError(f"Unlocking failed unexpectedly: {error}"))

    def _start_wait(self, seconds: float, *, after_wrong: bool) -> None:
        self._after_wrong = after_wrong
        if seconds > 0:
            self._wait_until = self._clock() + seconds
            self._ticker.start()
        self._refresh_wait()

    def _refresh_wait(self) -> None:
        if self._wait_until is not None:
            left = self._wait_until - self._clock()
            if left > 0:
                self._unlock_button.setEnabled(False)
                template = _WRONG_WAIT if self._after_wrong else _EARLIER_WAIT
                self._say(template.format(math.ceil(left)))
                return
        self._wait_until = None
        self._ticker.stop()
        self._unlock_button.setEnabled(True)
        if self._after_wrong:
            self._say(WRONG_PASSPHRASE)
        else:
            self._message_row.hide()

    def _say(self, text: str, *, icon: bool = True) -> None:
        self._message.setText(text)
        self._message_icon.setVisible(icon)
        self._message_row.show()
