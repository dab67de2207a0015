"""The app's side of the capture daemon: starts it, follows it, restarts it when it dies.

The daemon is a separate process (`run --no-ui --supervised`, the same code
as the headless daemon), so OCR never competes with the GUI thread and a
crash on one side never stops the other. The supervisor

- starts it with QProcess and hands it the store key over the inherited
  stdin pipe, which it then closes: the key is never in argv or the
  environment (nor is MIRIX_PASSPHRASE);
- reads its events (JSON lines on its stdout, `pipeline/events.py`) and its
  human messages (stderr: the last line says why it died);
- when it dies, says why (`daemon_failed`), restarts it after a growing
  delay, and says so (`daemon_recovered`) once the new one reports "started";
- follows a daemon that already runs for the data dir (`daemon.lock` names
  its pid) through `status.json`, polled every second, and starts its own
  once that one is gone.
Everything runs on the GUI thread from Qt signals and timers; nothing here
blocks it beyond reading a small file, except `stop()` at quit.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from mirix_desktop.memory.records import now_utc
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.pipeline.control import ControlFile, DaemonLock, Status, StatusFile
from mirix_desktop.pipeline.events import DaemonEvent, snapshot
from mirix_desktop.ui.qt import QObject, QtCore, QTimer, Signal

log = logging.getLogger("mirix.ui.supervisor")

QProcess = QtCore.QProcess

POLL_MS = 1000  # how often a daemon the app did not start is looked at
STOP_TIMEOUT_MS = 20_000  # the daemon finishes its OCR job and the open episode
KILL_TIMEOUT_MS = 5_000
# A daemon that ran this long before dying restarts with the shortest delay again.
STABLE_S = 60.0
MAX_LINE_BYTES = 1 << 20
_STDERR_LINES = 20
# The key goes over stdin; the passphrase it was made from stays out of the child.
_PRIVATE_ENVIRONMENT = frozenset({"MIRIX_PASSPHRASE"})
# "2026-11-30 21:21:28,723 mirix.daemon WARNING: " in front of a logged message.
_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:,.]+ \S+ ([A-Z]+): ")
# Only these explain a death; "capture state: capturing" would only confuse.
_TELLING_LEVELS = ("WARNING", "ERROR", "CRITICAL")


def daemon_command(paths: AppPaths, program: Sequence[str] | None = None) -> list[str]:
    """The supervised daemon's command line; `program` is what runs mirix-desktop.

    `program` defaults to this interpreter with `-m mirix_desktop` (a frozen
    build passes its own executable). A data dir chosen with --data-dir or
    MIRIX_DATA_DIR is passed on; the platform's default layout (config and
    cache elsewhere) is left for the child to find as the app did.
    """
    command = list(program) if program else [sys.executable, "-m", "mirix_desktop"]
    if resolve_paths(paths.data_dir) == paths:
        command += ["--data-dir", str(paths.data_dir)]
    return [*command, "run", "--no-ui", "--supervised"]


def _child_environment() -> QtCore.QProcessEnvironment:
    environment = QtCore.QProcessEnvironment()
    for name, value in os.environ.items():
        if name not in _PRIVATE_ENVIRONMENT:
            environment.insert(name, value)
    return environment


def _death_reason(exit_code: int, crashed: bool, last_line: str | None) -> str:
    if crashed:
        try:
            name = signal.Signals(exit_code).name
        except ValueError:
            name = str(exit_code)
        what = f"was stopped by the system ({name})" if sys.platform != "win32" else "crashed"
    else:
        what = f"ended with code {exit_code}"
    return f"The recording process {what}" + (f": {last_line}" if last_line else "")


class DaemonSupervisor(QObject):
    """Keeps one capture daemon running for the data dir while the app runs."""

    status_changed = Signal(object)  # pipeline.control.Status
    daemon_failed = Signal(str)  # why it died (exit code, last stderr line), before a restart
    daemon_recovered = Signal()  # a daemon runs again after daemon_failed

    def __init__(
        self,
        paths: AppPaths,
        key: bytes,
        *,
        program: list[str] | None = None,
        backoff_s: Sequence[float] = (1, 2, 5, 10, 30, 60),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self._key = key
        self.command = daemon_command(paths, program)
        self._backoff = tuple(backoff_s) or (1.0,)
        self._lock = DaemonLock(paths.data_dir / "daemon.lock")
        self._status_file = StatusFile(paths.data_dir / "status.json")
        self._control = ControlFile(paths.data_dir / "control.json")
        self._status = Status(state="starting", pid=0, running=False)
        self._active = False  # between start() and stop()
        self._process: QtCore.QProcess | None = None
        self._spawned_at = 0.0
        self._attached_pid: int | None = None
        self._failures = 0
        self._recovering = False
        self._stdout = bytearray()
        self._stderr = bytearray()
        self._stderr_lines: deque[str] = deque(maxlen=_STDERR_LINES)
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._poll_attached)
        self._restart_timer = QTimer(self)
        self._restart_timer.setSingleShot(True)
        self._restart_timer.timeout.connect(self._start_daemon)

    # -- what the app calls ------------------------------------------------------------
    @property
    def status(self) -> Status:
        return snapshot(self._status)

    @property
    def child_pid(self) -> int | None:
        """The pid of the daemon this app started, while it runs."""
        if self._process is None or self._process.state() == QProcess.ProcessState.NotRunning:
            return None
        return int(self._process.processId()) or None

    @property
    def attached_pid(self) -> int | None:
        """The pid of a daemon this app follows but did not start."""
        return self._attached_pid

    def start(self) -> None:
        """Follows the daemon that holds daemon.lock, else starts one."""
        if self._active:
            return
        self._active = True
        self._start_daemon()

    def stop(self) -> None:
        """Stops the daemon this app started (SIGTERM, then waits); one it follows runs on."""
        self._active = False
        self._restart_timer.stop()
        self._poll_timer.stop()
        self._attached_pid = None
        process = self._process
        if process is None:
            return
        if process.state() != QProcess.ProcessState.NotRunning:
            log.info("stopping the capture daemon (pid %d)", process.processId())
            process.terminate()
            if not process.waitForFinished(STOP_TIMEOUT_MS):
                log.warning(
                    "the capture daemon did not stop within %d s: killing it",
                    STOP_TIMEOUT_MS // 1000,
                )
                process.kill()
                process.waitForFinished(KILL_TIMEOUT_MS)
        # waitForFinished delivered `finished`, which let go of the process.
        if self._process is process:
            self._forget(process)

    def pause(self, duration: timedelta | None) -> None:
        """Pauses capture for `duration` (None: until resumed); the daemon reads it next tick."""
        self._control.pause(duration)

    def resume(self) -> None:
        self._control.resume()

    def set_key(self, key: bytes) -> None:
        """The key the next daemon started gets (after a re-key); a running one keeps its own."""
        self._key = key

    # -- starting or following -----------------------------------------------------------
    def _start_daemon(self) -> None:
        if not self._active:
            return
        holder = self._lock.holder()
        if holder is not None:
            self._attach(holder)
        else:
            self._spawn()

    def _spawn(self) -> None:
        process = QProcess(self)
        process.setProgram(self.command[0])
        process.setArguments(self.command[1:])
        process.setProcessEnvironment(_child_environment())
        # Bound methods, not closures: a closure holding `self` in the child's
        # connections would keep this object alive past its Qt parent.
        process.readyReadStandardOutput.connect(self._on_stdout)
        process.readyReadStandardError.connect(self._on_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        self._stdout.clear()
        self._stderr.clear()
        self._stderr_lines.clear()
        self._spawned_at = time.monotonic()
        self._set_status(replace(self._status, state="starting", reason=None, pid=0))
        log.info("starting the capture daemon: %s", " ".join(self.command))
        process.start()
        if process.state() == QProcess.ProcessState.NotRunning:
            return  # errorOccurred(FailedToStart) says why
        # The key over the inherited pipe, then the pipe closed: nothing else
        # is ever written there, and the daemon runs on if the app goes away.
        process.write(self._key.hex().encode("ascii") + b"\n")
        process.closeWriteChannel()

    def _attach(self, pid: int) -> None:
        log.info("a capture daemon (pid %d) already runs for %s: following it", pid,
                 self.paths.data_dir)  # fmt: skip
        self._attached_pid = pid
        self._poll_attached()
        if self._attached_pid == pid:
            self._poll_timer.start()
            self._recovered()

    def _poll_attached(self) -> None:
        pid = self._attached_pid
        if pid is None:
            return
        holder = self._lock.holder()
        status = self._status_file.read()
        if holder == pid:
            if status is not None and status != self._status:
                self._set_status(status)
            return
        self._poll_timer.stop()
        self._attached_pid = None
        if holder is not None:  # another daemon took over at once
            self._attach(holder)
            return
        if status is not None and status.pid == pid and not status.running:
            log.info("the capture daemon (pid %d) stopped: starting one", pid)
            self._set_status(status)
            self._spawn()
        else:
            self._failed(f"the capture daemon (pid {pid}) stopped unexpectedly", uptime_s=0.0)

    # -- the child's output --------------------------------------------------------------
    def _on_stdout(self) -> None:
        if self._process is None:
            return
        self._stdout += bytes(self._process.readAllStandardOutput().data())
        for line in self._split_lines(self._stdout, "events"):
            event = DaemonEvent.from_line(line.decode("utf-8", "replace"))
            if event is None:
                log.warning("ignoring a line from the capture daemon that is not an event")
                continue
            self._on_event(event)

    def _on_stderr(self) -> None:
        if self._process is None:
            return
        self._stderr += bytes(self._process.readAllStandardError().data())
        for raw in self._split_lines(self._stderr, "messages"):
            line = raw.decode("utf-8", "replace").strip()
            if line:
                log.debug("daemon: %s", line)
                prefix = _LOG_PREFIX.match(line)
                if prefix is None or prefix.group(1) in _TELLING_LEVELS:
                    # A traceback's lines or a warning: what a death may be about.
                    self._stderr_lines.append(line[prefix.end() :] if prefix else line)

    @staticmethod
    def _split_lines(buffer: bytearray, what: str) -> list[bytes]:
        lines = []
        while (end := buffer.find(b"\n")) >= 0:
            lines.append(bytes(buffer[:end]))
            del buffer[: end + 1]
        if len(buffer) > MAX_LINE_BYTES:
            log.warning("dropping %d bytes of capture daemon %s without a line end",
                        len(buffer), what)  # fmt: skip
            buffer.clear()
        return lines

    def _on_event(self, event: DaemonEvent) -> None:
        self._set_status(event.status)
        if event.kind == "started":
            log.info("the capture daemon runs (pid %d)", event.status.pid)
            self._recovered()
        elif event.kind == "error" and event.message:
            log.info("capture daemon error: %s", event.message)

    # -- death and restart ----------------------------------------------------------------
    def _on_finished(self, exit_code: int, exit_status: QtCore.QProcess.ExitStatus) -> None:
        process = self._process
        if process is None:
            return
        # What it said last, its last events included.
        self._on_stdout()
        self._on_stderr()
        self._forget(process)
        if not self._active:
            log.info("the capture daemon stopped (exit code %d)", exit_code)
            return
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        last_line = self._stderr_lines[-1] if self._stderr_lines else None
        why = _death_reason(exit_code, crashed, last_line)
        holder = self._lock.holder()
        if holder is not None:
            # Two daemons started at once and the other one won: follow it.
            log.info("%s; another daemon (pid %d) runs for this data dir", why, holder)
            self._attach(holder)
            return
        self._failed(why, uptime_s=time.monotonic() - self._spawned_at)

    def _on_error(self, error: QtCore.QProcess.ProcessError) -> None:
        process = self._process
        if process is None or error != QProcess.ProcessError.FailedToStart:
            return  # a crash also ends in `finished`
        why = f"the capture daemon cannot be started: {process.errorString()}"
        self._forget(process)
        if self._active:
            self._failed(why, uptime_s=0.0)

    def _forget(self, process: QtCore.QProcess) -> None:
        """Lets go of a finished child: nothing it still emits reaches this object."""
        self._process = None
        process.blockSignals(True)
        process.deleteLater()

    def _failed(self, why: str, *, uptime_s: float) -> None:
        if uptime_s >= STABLE_S:
            self._failures = 0
        delay = self._backoff[min(self._failures, len(self._backoff) - 1)]
        self._failures += 1
        self._recovering = True
        log.warning("%s; restarting it in %g s", why, delay)
        self._set_status(
            replace(
                self._status,
                state="not running",
                reason=why,
                running=False,
                last_error=why,
                last_error_at=now_utc().isoformat(),
            )
        )
        self.daemon_failed.emit(why)
        self._restart_timer.start(int(delay * 1000))

    def _recovered(self) -> None:
        if self._recovering:
            self._recovering = False
            log.info("the capture daemon runs again")
            self.daemon_recovered.emit()

    def _set_status(self, status: Status) -> None:
        self._status = snapshot(status)
        self.status_changed.emit(snapshot(status))
