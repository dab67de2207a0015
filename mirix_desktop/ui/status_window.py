"""The small "MIRIX" window that stands in for the tray icon when the desktop has no tray host.

It shows what the tray would (the state icon, headline, reason, frames today,
queue) and offers the same actions as buttons, with the same signals as
`TrayController` and the same `update_status(view)`, so the app wires either
one the same way. It follows the system palette and font (no colours or pixel
sizes of its own), works from the keyboard (mnemonics, a plain tab order) and
grows with QT_SCALE_FACTOR.

Closing it from the window manager minimises it instead: with no tray icon this
window is the only sign that capture runs, so it should not vanish while the
daemon keeps recording. Quit quits.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from mirix_desktop.app.status import StatusView, TrayState
from mirix_desktop.ui.icons import app_icon, tray_icon
from mirix_desktop.ui.qt import QtCore, QtGui, QtWidgets, Signal
from mirix_desktop.ui.tray import (
    APP_TITLE,
    NOTICE_INTERVAL_S,
    PAUSE_CHOICES,
    Notice,
    NoticeScheduler,
    StatusNotices,
    can_pause,
    can_resume,
)

# The state icon's side, in lines of the window's font, so it scales with it.
_ICON_LINES = 2.2


class StatusWindow(QtWidgets.QWidget):
    """The tray's stand-in: state and actions in one small window."""

    ask_requested = Signal()
    chat_requested = Signal()
    timeline_requested = Signal()
    pause_requested = Signal(object)  # timedelta | None (until resumed)
    resume_requested = Signal()
    open_data_folder_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        min_notice_interval_s: float = NOTICE_INTERVAL_S,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(app_icon())
        self._state: TrayState = "starting"

        self.icon_label = QtWidgets.QLabel()
        self.headline_label = QtWidgets.QLabel("Starting…")
        headline_font = QtGui.QFont(self.font())
        headline_font.setPointSizeF(headline_font.pointSizeF() * 1.25)
        headline_font.setBold(True)
        self.headline_label.setFont(headline_font)
        self.headline_label.setWordWrap(True)
        self.reason_label = QtWidgets.QLabel()
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.reason_label.hide()
        self.counts_label = QtWidgets.QLabel()
        # Notices (an error that cleared, messages from the app) stay until replaced.
        self.notice_label = QtWidgets.QLabel()
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.notice_label.hide()

        self.ask_button = self._button("&Ask…", self.ask_requested.emit)
        self.chat_button = self._button("&Chat", self.chat_requested.emit)
        self.timeline_button = self._button("&Timeline", self.timeline_requested.emit)
        self.pause_buttons = [
            self._button(choice.button_text, self._pause_emitter(choice.duration))
            for choice in PAUSE_CHOICES
        ]
        self.resume_button = self._button("&Resume", self.resume_requested.emit)
        self.open_data_folder_button = self._button(
            "Open &data folder", self.open_data_folder_requested.emit
        )
        self.settings_button = self._button("&Settings…", self.settings_requested.emit)
        self.quit_button = self._button("&Quit", self.quit_requested.emit)
        self._layout()

        self.notices = NoticeScheduler(
            StatusNotices(min_interval_s=min_notice_interval_s, clock=clock), self
        )
        self.notices.notice_due.connect(self._on_notice)
        self._enable_for(self._state)
        self._show_icon()

    def _button(self, text: str, on_click: Callable[[], None]) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        # Tab reaches every button on every platform (macOS defaults to text fields only).
        button.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        button.setAutoDefault(True)  # Enter presses the focused button, like Space
        button.clicked.connect(on_click)
        return button

    def _pause_emitter(self, duration: timedelta | None) -> Callable[[], None]:
        def emit() -> None:
            self.pause_requested.emit(duration)

        return emit

    def _layout(self) -> None:
        text = QtWidgets.QVBoxLayout()
        text.setSpacing(self.fontMetrics().height() // 4)
        for label in (self.headline_label, self.reason_label, self.counts_label):
            text.addWidget(label)
        header = QtWidgets.QHBoxLayout()
        # The icon sits beside the headline, not in the middle of a long reason.
        header.addWidget(self.icon_label, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        header.addLayout(text, 1)

        windows = QtWidgets.QHBoxLayout()
        windows.addWidget(self.ask_button)
        windows.addWidget(self.chat_button)
        windows.addWidget(self.timeline_button)
        windows.addStretch(1)
        capture = QtWidgets.QHBoxLayout()
        for button in [*self.pause_buttons, self.resume_button]:
            capture.addWidget(button)
        capture.addStretch(1)
        app = QtWidgets.QHBoxLayout()
        app.addWidget(self.open_data_folder_button)
        app.addWidget(self.settings_button)
        app.addStretch(1)
        app.addWidget(self.quit_button)

        outer = QtWidgets.QVBoxLayout(self)
        outer.addLayout(header)
        outer.addWidget(self.notice_label)
        outer.addSpacing(self.fontMetrics().height() // 2)
        outer.addLayout(windows)
        outer.addLayout(capture)
        outer.addLayout(app)
        # The window may grow with the text, but never below what the buttons need.
        outer.setSizeConstraint(QtWidgets.QLayout.SizeConstraint.SetMinimumSize)

        order = [
            self.ask_button,
            self.chat_button,
            self.timeline_button,
            *self.pause_buttons,
            self.resume_button,
            self.open_data_folder_button,
            self.settings_button,
            self.quit_button,
        ]
        for first, second in itertools.pairwise(order):
            QtWidgets.QWidget.setTabOrder(first, second)

    @property
    def state(self) -> TrayState:
        return self._state

    def update_status(self, view: StatusView) -> None:
        """Shows the view and enables the actions that make sense in its state."""
        self._state = view.state
        self.headline_label.setText(view.headline)
        self.reason_label.setText(view.reason or "")
        self.reason_label.setVisible(bool(view.reason))
        self.counts_label.setText(counts_text(view))
        self._enable_for(view.state)
        self._show_icon()
        self.notices.observe(view)

    def _enable_for(self, state: TrayState) -> None:
        for button in self.pause_buttons:
            button.setEnabled(can_pause(state))
        self.resume_button.setEnabled(can_resume(state))

    def _show_icon(self) -> None:
        side = round(self.fontMetrics().height() * _ICON_LINES)
        pixmap = tray_icon(self._state).pixmap(QtCore.QSize(side, side), self.devicePixelRatioF())
        self.icon_label.setPixmap(pixmap)
        self.icon_label.setFixedSize(side, side)

    def notify(self, title: str, text: str, *, warning: bool = False) -> None:
        """Shows a message in the window and asks the desktop to draw attention to it."""
        # Notices stay until the next one: the time says how old this one is.
        stamp = datetime.now().astimezone()
        self.notice_label.setText(
            f"<b>{_escape(title)}</b> ({stamp:%H:%M})<br>{_escape(text)}".removesuffix("<br>")
        )
        self.notice_label.show()
        if warning:
            QtWidgets.QApplication.alert(self)

    def _on_notice(self, notice: Notice) -> None:
        if notice.kind == "error":
            # The headline already says why; only draw the eye to the window.
            self.notice_label.hide()
            QtWidgets.QApplication.alert(self)
        else:
            self.notify(notice.title, notice.text)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        # A new screen (another scale) or font: redraw the icon at the new size.
        if event.type() in (
            QtCore.QEvent.Type.FontChange,
            QtCore.QEvent.Type.DevicePixelRatioChange,
        ):
            self._show_icon()
        super().changeEvent(event)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if event.spontaneous():
            event.ignore()
            self.showMinimized()
            return
        super().closeEvent(event)


def counts_text(view: StatusView) -> str:
    """ "123 frames today · 0 waiting", worded as the tray tooltip words it."""
    frames = "1 frame" if view.frames_today == 1 else f"{view.frames_today} frames"
    return f"{frames} today · {view.queue_depth} waiting"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
