"""The headless daemon: a capture loop and an OCR worker around one pipeline.

Two threads, both timer-driven and stoppable (three with a model configured):
- the capture loop looks at the screen every `interval_s`: pause switch,
  idle time, screen lock and the active window decide whether it captures;
  it grabs every monitor and submits the pictures (milliseconds when nothing
  changed), and records activity changes for episodes;
- the OCR worker empties the durable queue, so a slow OCR never delays a
  capture tick; when it falls behind, the submitter degrades to keyframes.
Errors of the environment (display gone, tesseract missing or failing, disk
full) are logged, shown in `status.json`, and retried; the daemon keeps
running and nothing stored is lost. Anything else is a bug: logged with its
traceback, shown as "internal error", and the loop carries on after a pause.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

import psutil

from mirix_desktop.assistant.consolidation import Consolidator, Measure
from mirix_desktop.capture.screen import ScreenGrabber
from mirix_desktop.capture.session import DesktopProbe, WindowInfo, open_probe
from mirix_desktop.config import Settings
from mirix_desktop.errors import CaptureUnavailable, KnownError, OcrUnavailable, StoreError
from mirix_desktop.llm.base import ChatModel
from mirix_desktop.memory.records import now_utc
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths
from mirix_desktop.pipeline.control import ControlFile, DaemonLock, Status, StatusFile
from mirix_desktop.pipeline.jobs import JobQueue
from mirix_desktop.pipeline.pipeline import Pipeline
from mirix_desktop.pipeline.submit import window_key

log = logging.getLogger("mirix.daemon")

# A still-here activity record this often keeps the open episode's end current.
_ACTIVITY_HEARTBEAT = timedelta(seconds=60)
_STATUS_EVERY_S = 30.0
_DISPLAY_RETRY_S = 5.0
_OCR_RETRY_S = 30.0
_STORE_RETRY_S = 5.0
_CONSOLIDATE_CHECK_S = 15.0
_CONSOLIDATE_REST_S = 300.0  # nothing to do, budget spent, or the model failed


def local_midnight(now: datetime) -> datetime:
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


class Daemon:
    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        store: MemoryStore,
        *,
        probe_factory: Callable[[], DesktopProbe] = open_probe,
        grabber_factory: Callable[[], ScreenGrabber] = ScreenGrabber,
        clock: Callable[[], datetime] = now_utc,
        model_factory: Callable[[], ChatModel | None] | None = None,
        model_measure: Measure = "wall",
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self.pipeline = Pipeline(store, settings)
        self._probe_factory = probe_factory
        self._grabber_factory = grabber_factory
        self._clock = clock
        self._probe: DesktopProbe | None = None
        self._grabber: ScreenGrabber | None = None
        self.control = ControlFile(paths.data_dir / "control.json")
        self.status_file = StatusFile(paths.data_dir / "status.json")
        self.lock = DaemonLock(paths.data_dir / "daemon.lock")
        self.stopping = threading.Event()
        self.status = Status(started_at=clock().isoformat())
        self._status_lock = threading.Lock()
        self._status_written = 0.0
        self._status_counts: tuple[int, int, bool] | None = None
        self._activity: tuple[str, tuple[str | None, str | None]] | None = None
        self._activity_at: datetime | None = None
        self._threads: list[threading.Thread] = []
        self._today = local_midnight(clock())
        self._idle_s: float | None = None
        self._model_factory = model_factory
        self._model_measure = model_measure
        self._model: ChatModel | None = None
        self.consolidated = 0

    # -- life cycle -----------------------------------------------------------------
    def start(self) -> None:
        self.lock.acquire()
        now = self._clock()
        with self.store.transaction() as conn:
            adopted = JobQueue.adopt_orphans(conn, psutil.pid_exists)
        if adopted:
            log.info("took over %d queued jobs of an interrupted ingest", adopted)
        self._today = local_midnight(now)
        with self.store.lock:
            self.status.frames_today = int(
                self.store.conn.execute(
                    "SELECT count(*) FROM frames WHERE captured_at >= ?",
                    (int(local_midnight(now).timestamp() * 1000),),
                ).fetchone()[0]
            )
            self.status.frames_total = int(
                self.store.conn.execute("SELECT count(*) FROM frames").fetchone()[0]
            )
        self.status.queue_depth = self.pipeline.queue_depth()
        if self.status.queue_depth:
            log.info("resuming %d queued jobs from the last run", self.status.queue_depth)
        self._write_status(force=True)
        loops = [("capture", self._capture_loop), ("ocr", self._ocr_loop)]
        if self._model_factory is not None and self.settings.consolidation.enabled:
            loops.append(("consolidate", self._consolidation_loop))
        for name, target in loops:
            thread = threading.Thread(target=target, name=f"mirix-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("daemon started (pid %d), capturing every %.1f s",
                 self.status.pid, self.settings.capture.interval_s)  # fmt: skip

    def run_forever(self) -> None:
        """Starts, then blocks until SIGINT/SIGTERM or `stop()`."""
        self.start()
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            while not self.stopping.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()
        self.pipeline.work_ready.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads.clear()
        if self._model is not None:
            self._model.close()
            self._model = None
        try:
            self.pipeline.processor.flush(self._clock())
        except KnownError as exc:
            log.warning("could not write the open episode: %s", exc.message)
        self.pipeline.close()
        self._close_desktop()
        self.status.state, self.status.reason, self.status.running = "stopped", None, False
        self._write_status(force=True)
        self.lock.release()
        log.info("daemon stopped")

    # -- status -----------------------------------------------------------------------
    def _set_state(self, state: str, reason: str | None = None) -> None:
        with self._status_lock:
            changed = (self.status.state, self.status.reason) != (state, reason)
            self.status.state, self.status.reason = state, reason
        if changed:
            log.info("capture state: %s%s", state, f" ({reason})" if reason else "")
            self._write_status(force=True)

    def _error(self, message: str) -> None:
        with self._status_lock:
            self.status.last_error = message
            self.status.last_error_at = self._clock().isoformat()
        log.warning("%s", message)
        self._write_status(force=True)

    def _write_status(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._status_lock:
            self.status.queue_depth = self.pipeline.queue_depth()
            self.status.degraded = self.pipeline.submitter.degraded
            counts = (self.status.frames_today, self.status.queue_depth, self.status.degraded)
            # Counts are written as they change; a static screen writes nothing.
            if counts == self._status_counts and (
                not force and now - self._status_written < _STATUS_EVERY_S
            ):
                return
            self._status_counts = counts
            try:
                self.status_file.write(self.status)
            except OSError as exc:
                log.warning("cannot write %s: %s", self.status_file.path, exc)
            self._status_written = now

    # -- the capture loop ---------------------------------------------------------------
    def _capture_loop(self) -> None:
        interval = self.settings.capture.interval_s
        next_tick = time.monotonic()
        while not self.stopping.is_set():
            delay = self._tick_safely()
            next_tick = max(next_tick + interval, time.monotonic() + delay - interval)
            self.stopping.wait(max(0.0, next_tick - time.monotonic()))

    def _tick_safely(self) -> float:
        """One tick; returns how long to wait at least before the next (a retry delay)."""
        try:
            self.tick()
        except CaptureUnavailable as exc:
            self._close_desktop()
            self._set_state("display unavailable", exc.message)
            self._error(exc.message)
            self._record_activity("display unavailable", None)
            return _DISPLAY_RETRY_S
        except StoreError as exc:
            self._set_state("store unavailable", exc.problem)
            self._error(exc.message)
            return _STORE_RETRY_S
        except Exception:
            log.exception("internal error in the capture loop")
            self._error("internal error in the capture loop; see the log")
            return _STORE_RETRY_S
        finally:
            self._write_status()
        return 0.0

    def tick(self) -> None:
        now = self._clock()
        pause = self.control.read()
        if pause is not None and pause.active(now):
            until = "until resumed" if pause.until is None else f"until {pause.until.isoformat()}"
            self.status.paused_until = None if pause.until is None else pause.until.isoformat()
            self._measure_idle()
            self._stopped("paused", f"paused by you {until}")
            return
        self.status.paused_until = None
        if not self.settings.capture.enabled:
            self._measure_idle()
            self._stopped("disabled", "capture.enabled is false in the config")
            return
        probe = self._desktop_probe()
        idle_limit = self.settings.capture.idle_pause_s
        idle = probe.idle_seconds()
        self._idle_s = idle
        if idle_limit > 0 and idle is not None and idle >= idle_limit:
            self._stopped("idle", f"no keyboard or mouse input for {int(idle)} s")
            return
        if probe.screen_locked():
            self._stopped("locked", "the screen is locked")
            return
        windows = probe.windows()
        active = next((w for w in windows if w.active), None)
        exclusion = self.pipeline.active_exclusion(active)
        if exclusion is not None:
            self._stopped("excluded", f"the active window is excluded: {exclusion.reason}")
            return
        grabber = self._screen()
        shots = grabber.grab()
        self.status.monitors = len(shots)
        self._set_state("capturing")
        if local_midnight(now) != self._today:
            # A new day (the daemon runs for weeks): "today" starts again.
            self._today, self.status.frames_today = local_midnight(now), 0
        for shot in shots:
            result = self.pipeline.submit(shot, windows, now)
            if result.state == "queued":
                self.status.frames_today += 1
                self.status.frames_total += 1
            elif result.state == "skipped" and result.reason:
                self._set_state("capturing", result.reason)
        self._record_activity("active", active)

    def _measure_idle(self) -> None:
        """Idle time for consolidation while capture is off (paused or disabled)."""
        try:
            self._idle_s = self._desktop_probe().idle_seconds()
        except CaptureUnavailable:
            self._idle_s = None

    def _stopped(self, state: str, reason: str) -> None:
        """Capture is not running this tick: say why and close the episode."""
        if self.status.state != state:
            # What was on screen before is no base for what comes after.
            self.pipeline.submitter.reset()
        self._set_state(state, reason)
        self._record_activity(state, None)

    def _record_activity(self, state: str, window: WindowInfo | None) -> None:
        now = self._clock()
        key = (state, window_key(window))
        due = self._activity_at is None or now - self._activity_at >= _ACTIVITY_HEARTBEAT
        if key == self._activity and not (due and state == "active"):
            return
        self._activity, self._activity_at = key, now
        self.pipeline.record_activity(state, window, now)

    def _desktop_probe(self) -> DesktopProbe:
        if self._probe is None:
            self._probe = self._probe_factory()
        return self._probe

    def _screen(self) -> ScreenGrabber:
        if self._grabber is None:
            self._grabber = self._grabber_factory()
        return self._grabber

    def _close_desktop(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        if self._grabber is not None:
            self._grabber.close()
            self._grabber = None

    # -- the OCR worker -------------------------------------------------------------------
    def _ocr_loop(self) -> None:
        while not self.stopping.is_set():
            delay = self._ocr_step()
            if delay:
                self.stopping.wait(delay)

    def _ocr_step(self) -> float:
        """Processes one job; returns how long to wait before the next attempt."""
        try:
            result = self.pipeline.process_next()
        except OcrUnavailable as exc:
            self.status.ocr_engine = None
            self._error(f"OCR unavailable: {exc.message}")
            return _OCR_RETRY_S
        except StoreError as exc:
            self._error(exc.message)
            return _STORE_RETRY_S
        except Exception:
            log.exception("internal error in the OCR worker")
            self._error("internal error in the OCR worker; see the log")
            return _STORE_RETRY_S
        if result is None:
            self.pipeline.work_ready.wait(1.0)
            self.pipeline.work_ready.clear()
            return 0.0
        self.status.ocr_engine = self.pipeline.processor.engine_name
        if result.error:
            self._error(result.error)
            self.status.failed_jobs = self.pipeline.failed_jobs()
        return 0.0

    # -- the consolidation worker ------------------------------------------------------------
    def _consolidation_loop(self) -> None:
        consolidator: Consolidator | None = None
        while not self.stopping.is_set():
            idle = self._idle_s
            if idle is None or idle < self.settings.consolidation.idle_after_s:
                self.stopping.wait(_CONSOLIDATE_CHECK_S)
                continue
            try:
                if consolidator is None:
                    consolidator = self._consolidator()
                outcome = consolidator.step()
            except KnownError as exc:
                self._error(f"consolidation: {exc.message}")
                self.stopping.wait(_CONSOLIDATE_REST_S)
                continue
            except Exception:
                log.exception("internal error in the consolidation worker")
                self._error("internal error in the consolidation worker; see the log")
                self.stopping.wait(_CONSOLIDATE_REST_S)
                continue
            if outcome is None:
                self.stopping.wait(_CONSOLIDATE_REST_S)
                continue
            if outcome.outcome == "done":
                self.consolidated += 1
                log.info("consolidated %s %d in %.1f s", outcome.kind, outcome.memory_id,
                         outcome.seconds)  # fmt: skip
            else:
                self._error(f"consolidation of memory {outcome.memory_id}: {outcome.error}")
                self.stopping.wait(_CONSOLIDATE_CHECK_S)

    def _consolidator(self) -> Consolidator:
        assert self._model_factory is not None
        model = self._model_factory()
        if model is None:
            raise KnownError("no language model is configured")
        self._model = model
        return Consolidator(
            self.store,
            model,
            seconds_per_day=self.settings.consolidation.cpu_seconds_per_day,
            measure=self._model_measure,
            timeout_s=self.settings.llm.timeout_s,
        )
