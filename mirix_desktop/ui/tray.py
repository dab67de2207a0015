"""The tray icon: capture state at a glance, the app's menu, and notices when capture stops.

`TrayController` owns a QSystemTrayIcon and its menu. It knows nothing about the
daemon: the app feeds it `StatusView`s (`update_status`) and listens to its
signals (`pause_requested`, `chat_requested`, ...). `StatusNotices` decides
which status changes deserve a desktop notification, so capture never stops
silently and a crash loop does not bury the desktop in bubbles; it is plain
Python with an injectable clock, shared with the no-tray `StatusWindow`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from mirix_desktop.app.status import StatusView, TrayState
from mirix_desktop.ui.icons import tray_icon
from mirix_desktop.ui.qt import QObject, QtGui, QTimer, QtWidgets, Signal

log = logging.getLogger("mirix.ui.tray")

APP_TITLE = "MIRIX"
# One notification per this many seconds at most; later ones wait (coalesced).
NOTICE_INTERVAL_S = 30.0
NOTICE_SHOWN_MS = 10_000


@dataclass(frozen=True)
class PauseChoice:
    """One way to pause, as the menu and the status window offer it."""

    menu_text: str
    button_text: str
    duration: timedelta | None  # None: until resumed


PAUSE_CHOICES = (
    PauseChoice("Pause for 15 minutes", "Pause &15 min", timedelta(minutes=15)),
    PauseChoice("Pause for 1 hour", "Pause 1 &h", timedelta(hours=1)),
    PauseChoice("Pause until resumed", "Pause &until resumed", None),
)

# States in which capture runs (or is deliberately held) and is no longer failing.
_HEALTHY: frozenset[TrayState] = frozenset({"recording", "paused", "excluded"})


def can_pause(state: TrayState) -> bool:
    """Pausing makes sense whenever a daemon may capture: not when capture is off."""
    # While paused the choices stay on, so "15 minutes" can become "until resumed".
    return state != "stopped"


def can_resume(state: TrayState) -> bool:
    return state == "paused"


@dataclass(frozen=True)
class Notice:
    """A notification: `title` is one line (the tray adds the app's name), `text` may be empty."""

    kind: Literal["error", "recovered", "info"]
    title: str
    text: str


class StatusNotices:
    """Turns a stream of status views into the few notices a person should see.

    It keeps what the person was last told (a failure, or that all is well)
    and what is true now, and a notice is the difference between the two:
    - entering "error" is one notice with the reason; the same failure seen
      again (the daemon restarting into it) is not news; a different one is;
    - getting back to recording/paused/excluded is one "recovered" notice;
      "starting" and "stopped" in between change nothing;
    - at most one notice per `min_interval_s`: one that comes too soon waits
      (`due()`) and is replaced by newer news, so a flapping daemon yields one
      bubble per interval with the latest truth; a failure that came and went
      unseen is still told ("stopped for a moment"), never dropped silently.
    """

    def __init__(
        self,
        *,
        min_interval_s: float = NOTICE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._error: StatusView | None = None  # the failure going on now
        self._told: str | None = None  # the failure last notified (its headline), if any
        self._missed: str | None = None  # a failure that came and went before it was told
        self._pending: Notice | None = None
        self._last_shown: float | None = None
        self._info: Notice | None = None  # a one-time notice (the space cap reached)
        self._info_id: str | None = None  # the last one taken, so it is told once

    def observe(self, view: StatusView) -> Notice | None:
        """Records a view; returns a notice to show now, if one is due."""
        if view.state == "error":
            self._error = view
        elif view.state in _HEALTHY and self._error is not None:
            if self._error.headline != self._told:
                self._missed = self._error.headline
            self._error = None
        if view.notice and view.notice_id is not None and view.notice_id != self._info_id:
            self._info_id = view.notice_id
            self._info = Notice("info", "Space cap reached", view.notice)
        # Failures and recoveries first; a one-time notice waits its turn.
        self._pending = self._news(view) or self._info
        return self.due()

    def _news(self, view: StatusView) -> Notice | None:
        if self._error is not None:
            # The headline names the failure; the reason explains it.
            if self._error.headline == self._told:
                return None
            return Notice("error", self._error.headline, self._error.reason or "")
        if view.state not in _HEALTHY or (self._told is None and self._missed is None):
            return None
        missed = self._missed if self._missed != self._told else None
        text = f"Now: {view.headline}."
        if missed is not None:
            text = f"It stopped for a moment ({missed}). {text}"
        return Notice("recovered", "Capture recovered", text)

    def due(self) -> Notice | None:
        """The waiting notice, if the rate limit lets it out now (it is then consumed)."""
        if self._pending is None or self.seconds_until_due() > 0:
            return None
        notice, self._pending = self._pending, None
        if notice.kind == "info":
            self._info = None
        else:
            self._told = self._error.headline if notice.kind == "error" and self._error else None
            self._missed = None
        self._last_shown = self._clock()
        return notice

    def seconds_until_due(self) -> float:
        if self._last_shown is None:
            return 0.0
        return max(0.0, self._last_shown + self._min_interval_s - self._clock())

    @property
    def pending(self) -> Notice | None:
        return self._pending


class NoticeScheduler(QObject):
    """Feeds views to `StatusNotices` and emits each notice when the rate limit lets it out."""

    notice_due = Signal(object)  # Notice

    def __init__(self, notices: StatusNotices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._notices = notices
        # Wakes up when a rate-limited notice may go out.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.deliver_due)

    def observe(self, view: StatusView) -> None:
        self._emit(self._notices.observe(view))
        self._schedule()

    def deliver_due(self) -> None:
        """Emits the waiting notice if it is due now (the timer calls this)."""
        self._emit(self._notices.due())
        self._schedule()

    def _emit(self, notice: Notice | None) -> None:
        if notice is not None:
            self.notice_due.emit(notice)

    def _schedule(self) -> None:
        if self._notices.pending is None:
            self._timer.stop()
            return
        # +1 ms: a timer firing a hair early would find the notice not yet due.
        self._timer.start(int(self._notices.seconds_until_due() * 1000) + 1)


MenuSection = Literal["windows", "app"]


class TrayController(QObject):
    """The tray icon and its menu.

    Menu, top to bottom: the state (disabled, for desktops that never show
    tooltips), Ask…, Chat, | pause choices, Resume, | Open data folder, Quit.
    Later windows go in with `add_action`: "Timeline" in the "windows" section
    (after Chat), "Settings" in the "app" section (after Open data folder).
    A left click on the icon opens the chat.
    """

    ask_requested = Signal()
    chat_requested = Signal()
    pause_requested = Signal(object)  # timedelta | None (until resumed)
    resume_requested = Signal()
    open_data_folder_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        min_notice_interval_s: float = NOTICE_INTERVAL_S,
    ) -> None:
        super().__init__(parent)
        self._state: TrayState = "starting"
        self.notices = NoticeScheduler(
            StatusNotices(min_interval_s=min_notice_interval_s, clock=clock), self
        )
        self.notices.notice_due.connect(self._on_notice)
        self._tray = QtWidgets.QSystemTrayIcon(tray_icon(self._state), self)
        self._tray.setToolTip(f"{APP_TITLE} — starting")
        self._tray.activated.connect(self._on_activated)
        # A QMenu needs a widget parent or none; this object keeps it alive.
        self._menu = QtWidgets.QMenu()
        self._build_menu()
        self._tray.setContextMenu(self._menu)

    def _build_menu(self) -> None:
        menu = self._menu
        self.status_action = menu.addAction("Starting…")
        self.status_action.setEnabled(False)
        menu.addSeparator()
        self.ask_action = menu.addAction("Ask…")
        self.ask_action.triggered.connect(self.ask_requested)
        self.chat_action = menu.addAction("Chat")
        self.chat_action.triggered.connect(self.chat_requested)
        self._windows_end = menu.addSeparator()
        self.pause_actions: list[QtGui.QAction] = []
        for choice in PAUSE_CHOICES:
            action = menu.addAction(choice.menu_text)
            action.triggered.connect(self._pause_emitter(choice.duration))
            self.pause_actions.append(action)
        self.resume_action = menu.addAction("Resume")
        self.resume_action.triggered.connect(self.resume_requested)
        menu.addSeparator()
        self.open_data_folder_action = menu.addAction("Open data folder")
        self.open_data_folder_action.triggered.connect(self.open_data_folder_requested)
        self._app_end = menu.addSeparator()
        self.quit_action = menu.addAction("Quit")
        self.quit_action.triggered.connect(self.quit_requested)
        self._enable_for(self._state)

    def _pause_emitter(self, duration: timedelta | None) -> Callable[[], None]:
        def emit() -> None:
            self.pause_requested.emit(duration)

        return emit

    def add_action(self, action: QtGui.QAction, *, section: MenuSection) -> None:
        """Adds a later menu entry: "windows" (Timeline) or "app" (Settings)."""
        before = self._windows_end if section == "windows" else self._app_end
        self._menu.insertAction(before, action)

    @property
    def menu(self) -> QtWidgets.QMenu:
        return self._menu

    @property
    def system_tray_icon(self) -> QtWidgets.QSystemTrayIcon:
        return self._tray

    @property
    def state(self) -> TrayState:
        return self._state

    def show(self) -> None:
        self._tray.show()

    def hide(self) -> None:
        self._tray.hide()

    def update_status(self, view: StatusView) -> None:
        """Icon, tooltip, menu enablement, and a notice when capture fails or recovers."""
        # Views arrive every few seconds; a panel redraws (and a StatusNotifier
        # host gets a D-Bus message) only when something it shows changed.
        if view.state != self._state:
            log.info("tray state %s -> %s", self._state, view.state)
            self._state = view.state
            self._tray.setIcon(tray_icon(view.state))
        tooltip = view.tooltip()
        if tooltip != self._tray.toolTip():
            self._tray.setToolTip(tooltip)
        self.status_action.setText(view.headline)
        self._enable_for(view.state)
        self.notices.observe(view)

    def _enable_for(self, state: TrayState) -> None:
        for action in self.pause_actions:
            action.setEnabled(can_pause(state))
        self.resume_action.setEnabled(can_resume(state))

    def notify(self, title: str, text: str, *, warning: bool = False) -> None:
        """A desktop notification from the tray icon (not rate-limited: callers decide)."""
        icon = (
            QtWidgets.QSystemTrayIcon.MessageIcon.Warning
            if warning
            else QtWidgets.QSystemTrayIcon.MessageIcon.Information
        )
        log.info("notification: %s — %s", title, text)
        self._tray.showMessage(title, text, icon, NOTICE_SHOWN_MS)

    def _on_notice(self, notice: Notice) -> None:
        self.notify(f"{APP_TITLE}: {notice.title}", notice.text, warning=notice.kind == "error")

    def _on_activated(self, reason: QtWidgets.QSystemTrayIcon.ActivationReason) -> None:
        # Trigger is the primary click; a double click also sends Trigger first,
        # so reacting to both would open the chat twice.
        if reason == QtWidgets.QSystemTrayIcon.ActivationReason.Trigger:
            self.chat_requested.emit()
