"""The tray app: composes the windows, the single-instance socket and the daemon's supervisor.

Start-up order is chosen for the person waiting: the tray icon shows first
(in its "starting" state), then the store key is found (first-run setup, the
OS keyring, `MIRIX_PASSPHRASE`, or the unlock window), then the store is
checked and the capture daemon starts as a child process. The chat window
and models are built on first use, so a start costs only Qt and the key.

Every failure a person can meet at start (a locked, damaged or newer store,
no key) ends in a dialog that names the file, never in a traceback; bugs in
a slot are logged to `logs/app.log` and shown once.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirix_desktop.app.services import AppServices
from mirix_desktop.app.status import StatusView, read_status, status_view
from mirix_desktop.app.texts import for_window
from mirix_desktop.errors import (
    IpcUnavailable,
    KeyUnavailable,
    KnownError,
    StoreError,
    WrongPassphrase,
)
from mirix_desktop.logfiles import log_to_file
from mirix_desktop.pipeline.control import ControlFile, Status
from mirix_desktop.ui.icons import app_icon
from mirix_desktop.ui.ipc import IpcServer, send_command
from mirix_desktop.ui.qt import QObject, QtCore, QtGui, QTimer, QtWidgets
from mirix_desktop.ui.theme import apply_theme

if TYPE_CHECKING:  # the timeline brings in the store's modules: loaded when first shown
    from mirix_desktop.app.timeline import MomentRef

log = logging.getLogger("mirix.ui.app")

# Printed (and logged) once the tray icon is visible: the launch benchmark and
# the end-to-end tests wait for this line.
READY_MESSAGE = "mirix-desktop: tray ready"


class DesktopApp(QObject):
    """One running tray app: owns the supervisor, the tray (or its window) and the chat."""

    def __init__(self, services: AppServices, qapp: QtWidgets.QApplication) -> None:
        super().__init__()
        self.services = services
        self.qapp = qapp
        self.started = time.perf_counter()
        self.supervisor: Any = None
        self.chat: Any = None
        self.timeline: Any = None
        self.quick_query: Any = None
        self.hotkey: Any = None
        self.settings_window: Any = None
        self._ready = False  # the store is unlocked: the quick query box can search
        self._pending_query: str | None = None
        self._last_view: StatusView | None = None
        self._crash_shown = False
        self.ipc = IpcServer(services.paths.data_dir, self)
        self.ipc.command_received.connect(self._on_command)
        self.surface = self._make_surface()

    # -- the tray, or a small window where no tray host runs ----------------------------
    def _make_surface(self) -> Any:
        from mirix_desktop.ui.status_window import StatusWindow
        from mirix_desktop.ui.tray import TrayController

        surface: Any
        if QtWidgets.QSystemTrayIcon.isSystemTrayAvailable():
            surface = TrayController(self)
        else:
            log.info("no system tray host: showing the MIRIX status window instead")
            surface = StatusWindow()
        surface.ask_requested.connect(self.ask)
        surface.chat_requested.connect(self.show_chat)
        surface.pause_requested.connect(self._pause)
        surface.resume_requested.connect(self._resume)
        surface.open_data_folder_requested.connect(self._open_data_folder)
        surface.quit_requested.connect(self.quit)
        if isinstance(surface, TrayController):
            timeline = QtGui.QAction("Timeline", surface)
            timeline.triggered.connect(lambda: self.show_timeline())
            surface.add_action(timeline, section="windows")
            settings = QtGui.QAction("Settings…", surface)
            settings.triggered.connect(lambda: self.show_settings())
            surface.add_action(settings, section="app")
        else:
            surface.timeline_requested.connect(lambda: self.show_timeline())
            surface.settings_requested.connect(lambda: self.show_settings())
        surface.update_status(status_view(Status(state="starting")))
        return surface

    def show_surface(self) -> None:
        self.surface.show()
        elapsed = time.perf_counter() - self.started
        log.info("%s in %.3f s", READY_MESSAGE, elapsed)
        print(f"{READY_MESSAGE} ({elapsed:.3f} s)", file=sys.stderr, flush=True)

    # -- the daemon -------------------------------------------------------------------------
    def start_daemon(self, key: bytes) -> None:
        from mirix_desktop.ui.supervisor import DaemonSupervisor

        self.supervisor = DaemonSupervisor(self.services.paths, key, parent=self)
        self.supervisor.status_changed.connect(self._on_status)
        self.supervisor.daemon_failed.connect(self._on_daemon_failed)
        self.supervisor.daemon_recovered.connect(self._on_daemon_recovered)
        self.supervisor.start()

    def _on_status(self, status: Status) -> None:
        view = status_view(status)
        self._last_view = view
        self.surface.update_status(view)

    def _on_daemon_failed(self, why: str) -> None:
        # Shown as an error state, not a bare notification, so the tray's rules
        # apply: one notice per stop, none while a crash loop repeats, one on recovery.
        log.warning("capture daemon stopped: %s", why)
        last = self._last_view
        view = StatusView(
            state="error",
            headline="Capture stopped: the recorder quit unexpectedly",
            reason=f"{why}. MIRIX is restarting it.",
            frames_today=last.frames_today if last else 0,
            queue_depth=last.queue_depth if last else 0,
            paused_until=None,
        )
        self._last_view = view
        self.surface.update_status(view)

    def _on_daemon_recovered(self) -> None:
        # The next status event (recording again) brings the "recovered" notice.
        log.info("capture daemon restarted")

    def _pause(self, duration: timedelta | None) -> None:
        if self.supervisor is not None:
            self.supervisor.pause(duration)
        else:
            ControlFile(self.services.paths.data_dir / "control.json").pause(duration)

    def _resume(self) -> None:
        if self.supervisor is not None:
            self.supervisor.resume()
        else:
            ControlFile(self.services.paths.data_dir / "control.json").resume()

    # -- windows -----------------------------------------------------------------------------
    def show_chat(self) -> None:
        if self.chat is None:
            from mirix_desktop.ui.chat_window import ChatWindow

            self.chat = ChatWindow(self.services, open_moment=self.show_timeline)
            # The chat's modules are loaded now, and a model's client once its provider is ready.
            settle_heap()
            self.chat.picker.changed.connect(lambda _provider: settle_heap())
        self.chat.show()
        self.chat.raise_()
        self.chat.activateWindow()
        # Typing right after "Chat" (or `show chat`) goes into the question.
        self.chat.focus_question()

    def ask(self) -> None:
        self.show_chat()

    def show_timeline(self, ref: MomentRef | None = None) -> None:
        """The timeline window; at the moment `ref` names (a citation, a result), if given."""
        if self.timeline is None:
            from mirix_desktop.ui.timeline_window import TimelineWindow

            self.timeline = TimelineWindow(self.services)
        if ref is not None:
            self.timeline.open_moment(ref)
        self.timeline.show()
        self.timeline.raise_()
        self.timeline.activateWindow()

    def show_settings(self) -> None:
        """The settings window ("Settings…" in the tray menu, `mirix-desktop show settings`)."""
        if self.settings_window is None:
            from mirix_desktop.ui.settings_window import SettingsWindow

            self.settings_window = SettingsWindow(self.services, capture=_CaptureOf(self))
            self.settings_window.applied.connect(self._settings_applied)
        else:
            self.settings_window.reload()
        self.settings_window.show()
        self.settings_window.raise_()
        self.settings_window.activateWindow()

    def tell_config_problems(self) -> None:
        """At start, a config file with mistakes: say so, and show them in Settings."""
        keys = ", ".join(problem.key for problem in self.services.config_problems)
        self.surface.notify(
            "MIRIX: mistakes in config.toml",
            f"{keys} in {self.services.paths.config_file} could not be used: MIRIX uses the "
            "rest. The settings window shows what is wrong.",
            warning=True,
        )
        self.show_settings()

    def _settings_applied(self, values: dict[str, Any]) -> None:
        """What the tray app itself does about saved settings (the daemon reads the file)."""
        from mirix_desktop.app.live_settings import HOTKEY, PROVIDER_KEYS

        if HOTKEY in values and self.hotkey is not None:
            # The settings object already holds the new chord.
            self.hotkey.unregister()
            self.hotkey.chord_text = self.services.settings.ui.hotkey
            result = self.hotkey.register()
            if not result.ok and result.outcome != "off":
                self.surface.notify("MIRIX: hotkey not changed", result.detail, warning=True)
        if PROVIDER_KEYS & values.keys() and self.chat is not None:
            self.chat.picker.settings_changed()

    def _open_data_folder(self) -> None:
        url = QtCore.QUrl.fromLocalFile(str(self.services.paths.data_dir))
        QtGui.QDesktopServices.openUrl(url)

    def show_quick_query(self, text: str | None = None) -> None:
        """The quick query box (the hotkey, `mirix-desktop query`), over whatever is in front."""
        if not self._ready:
            # Still unlocking: the box opens once the store can be searched.
            self._pending_query = text or ""
            return
        self._build_quick_query()
        self.quick_query.open(text)

    def _build_quick_query(self) -> None:
        if self.quick_query is None:
            from mirix_desktop.ui.quick_query import QuickQueryBox

            self.quick_query = QuickQueryBox(self.services)
            self.quick_query.open_requested.connect(self.show_timeline)

    def start_hotkey(self) -> None:
        """Registers `ui.hotkey`; a chord another program holds is said in a notification."""
        from mirix_desktop.ui.hotkey import GlobalHotkey, taken_text

        self._ready = True
        self.hotkey = GlobalHotkey(self.services.settings.ui.hotkey, self)
        self.hotkey.activated.connect(self.show_quick_query)
        result = self.hotkey.register()
        if result.outcome == "taken":
            self.surface.notify(
                "MIRIX: hotkey taken",
                taken_text(result.chord, self.services.paths.config_file),
                warning=True,
            )
        elif result.outcome == "failed":
            self.surface.notify("MIRIX: no hotkey", result.detail, warning=True)
        if self._pending_query is not None:
            text, self._pending_query = self._pending_query, None
            self.show_quick_query(text)
        else:
            # Built while nothing happens, so the first hotkey press shows it at once.
            QTimer.singleShot(1000, self._build_quick_query)

    def _on_command(self, command: str, args: dict[str, Any]) -> None:
        if command == "show" and args.get("window", "chat") == "chat":
            self.show_chat()
        elif command == "show" and args.get("window") == "timeline":
            self.show_timeline(moment_ref_of(args))
        elif command == "show" and args.get("window") == "settings":
            self.show_settings()
        elif command == "query":
            text = args.get("text")
            self.show_quick_query(text if isinstance(text, str) else None)
        elif command == "quit":
            self.quit()
        else:
            log.info("ignored IPC command %r", command)

    def quit(self) -> None:
        if self.hotkey is not None:
            self.hotkey.unregister()
        if self.quick_query is not None:
            self.quick_query.shutdown()
        if self.timeline is not None:
            self.timeline.shutdown()
        if self.chat is not None:
            # An answer still streaming is stopped and kept, marked partial.
            self.chat.shutdown()
        if self.supervisor is not None:
            self.supervisor.stop()
        self.ipc.close()
        self.qapp.quit()

    # -- bugs in a slot ------------------------------------------------------------------------
    def excepthook(self, kind: type[BaseException], value: BaseException, tb: Any) -> None:
        log.error("internal error in the app", exc_info=(kind, value, tb))
        if self._crash_shown:
            return
        self._crash_shown = True
        QtWidgets.QMessageBox.critical(
            None,
            "MIRIX — Internal error",
            "Something went wrong inside MIRIX. Recording goes on; details are in "
            f"{self.services.paths.data_dir / 'logs' / 'app.log'}.\n\n{kind.__name__}: {value}",
        )


class _CaptureOf:
    """The daemon supervisor of the app as it is when used (none before the store unlocks)."""

    def __init__(self, desktop: DesktopApp) -> None:
        self._desktop = desktop

    def stop(self) -> None:
        if self._desktop.supervisor is not None:
            self._desktop.supervisor.stop()

    def start(self) -> None:
        if self._desktop.supervisor is not None:
            self._desktop.supervisor.start()

    def set_key(self, key: bytes) -> None:
        if self._desktop.supervisor is not None:
            self._desktop.supervisor.set_key(key)


def moment_ref_of(args: dict[str, Any]) -> MomentRef | None:
    """The moment an IPC `show timeline` names (`at` ISO time, `memory_id`, `frame_id`), if any.

    A bad value is logged and left out: the window still opens, on today.
    """
    from mirix_desktop.app.timeline import MomentRef

    at: datetime | None = None
    raw_at = args.get("at")
    if isinstance(raw_at, str) and raw_at:
        try:
            at = datetime.fromisoformat(raw_at)
        except ValueError:
            log.warning("ignoring a timeline time that is not ISO 8601: %r", raw_at)
        else:
            at = at if at.tzinfo is not None else at.astimezone()
    ids: dict[str, int | None] = {}
    for name in ("memory_id", "frame_id"):
        value = args.get(name)
        ids[name] = value if type(value) is int else None
        if value is not None and ids[name] is None:
            log.warning("ignoring a timeline %s that is not a number: %r", name, value)
    if at is None and ids["memory_id"] is None and ids["frame_id"] is None:
        return None
    # The memory or frame decides the day when given; `at` is then only a hint.
    return MomentRef(at or datetime.now().astimezone(), ids["memory_id"], ids["frame_id"])


# -- the key ------------------------------------------------------------------------------
def _error_dialog(title: str, text: str) -> None:
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Critical, title, text)
    box.setWindowIcon(app_icon())
    box.exec()


def obtain_key(services: AppServices) -> tuple[bytes, bool] | None:
    """The store key and whether to start capturing; None when the person gave up.

    A new store goes through first-run setup; an existing one is opened from
    the OS keyring, from `MIRIX_PASSPHRASE`, or through the unlock window.
    """
    # Imported once the tray shows: the key and store modules bring in
    # SQLCipher, numpy and the KDF, which the icon need not wait for.
    from mirix_desktop.app.unlock import store_kind, unlock_with_keyring, unlock_with_passphrase
    from mirix_desktop.memory.keys import PASSPHRASE_ENV

    paths = services.paths
    kind = store_kind(paths)
    if kind == "new":
        from mirix_desktop.ui.setup_window import SetupWindow

        setup = SetupWindow(paths, services.settings)
        if setup.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        result = setup.result_value()
        if result is None:
            return None
        return result.key, result.start_capture
    if kind == "keyring":
        return unlock_with_keyring(paths), True
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase:
        try:
            return unlock_with_passphrase(paths, passphrase), True
        except WrongPassphrase:
            log.warning("%s does not open the store; asking", PASSPHRASE_ENV)
    from mirix_desktop.ui.unlock_window import UnlockWindow

    unlock = UnlockWindow(paths)
    if unlock.exec() != QtWidgets.QDialog.DialogCode.Accepted:
        return None
    key = unlock.key()
    return None if key is None else (key, True)


def _check_store(services: AppServices, key: bytes) -> None:
    """Opens the store once in this process: locked, damaged or newer files are found now."""
    services.use_key(key)
    services.store()


def run_app(data_dir: Path | None, *, argv: list[str] | None = None) -> int:
    """The tray app's main loop; returns the process exit code."""
    # A config file with mistakes: the rest is used and Settings shows the mistakes.
    services = AppServices.create(data_dir, tolerant=True)
    paths = services.paths
    paths.ensure()
    log_to_file(paths.data_dir, "app.log")
    QtWidgets.QApplication.setApplicationName("mirix-desktop")
    QtWidgets.QApplication.setDesktopFileName("mirix-desktop")
    # argv[0] names the windows' WM_CLASS: "mirix-desktop", however it was started.
    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or ["mirix-desktop"])
    assert isinstance(qapp, QtWidgets.QApplication)
    qapp.setQuitOnLastWindowClosed(False)
    qapp.setWindowIcon(app_icon())
    apply_theme(qapp)

    desktop = DesktopApp(services, qapp)
    try:
        listening = desktop.ipc.listen()
    except IpcUnavailable as exc:
        _error_dialog("MIRIX", exc.message)
        return exc.exit_code
    if not listening:
        # Another app took the socket between our check and now: hand over.
        send_command(paths.data_dir, "show", {"window": "chat"})
        return 0
    previous_hook = sys.excepthook
    sys.excepthook = desktop.excepthook
    try:
        desktop.show_surface()
        try:
            obtained = obtain_key(services)
            if obtained is None:
                log.info("no key: the person closed setup/unlock")
                return 0
            key, start_capture = obtained
            if not start_capture:
                ControlFile(paths.data_dir / "control.json").pause(None)
            _check_store(services, key)
        except (StoreError, KeyUnavailable) as exc:
            _error_dialog("MIRIX — Cannot open your memories", for_window(exc.message))
            return exc.exit_code
        except KnownError as exc:
            _error_dialog("MIRIX", for_window(exc.message))
            return exc.exit_code
        desktop.start_daemon(key)
        desktop.start_hotkey()
        if services.config_problems:
            desktop.tell_config_problems()
        settle_heap()
        handlers = _quit_on_signals(desktop)
        # Until the supervisor's first event, show what status.json says now.
        QTimer.singleShot(0, lambda: desktop._on_status(read_status(paths)))
        try:
            return int(qapp.exec())
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
    finally:
        sys.excepthook = previous_hook
        services.close()
        gc.unfreeze()  # a process that goes on (the tests run the app in theirs) collects again


def settle_heap() -> None:
    """Leaves every object alive now out of the garbage collector's full passes.

    A full pass stops every thread while it walks all the objects the process
    holds: with Qt, the store and a model's client loaded, 50-100 ms, up to
    nearly 0.5 s while capture kept the CPU busy (tests/benchmarks/gui_stall.py
    --diagnose), a visible stall in a streaming answer. What is alive once the
    app has started, or once the chat's provider is ready, is mostly modules
    and classes that live as long as the app: gc.freeze() leaves them out of
    every later pass, which then walks only what was made since.
    """
    gc.freeze()


def _quit_on_signals(desktop: DesktopApp) -> dict[signal.Signals, Any]:
    """Ctrl-C in the terminal and SIGTERM (logout, `kill`) quit like the menu's Quit.

    Python runs signal handlers only between bytecodes, and Qt's event loop
    is C++: a short timer hands control back to Python now and then so the
    handler runs; the handler only schedules the quit on the event loop.
    """

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: quitting", signum)
        QTimer.singleShot(0, desktop.quit)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    wake = QTimer(desktop)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return previous
