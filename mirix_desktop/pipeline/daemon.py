"""The headless daemon: a capture loop and an OCR worker around one pipeline.

Two threads, both timer-driven and stoppable (three with idle work given):
- the capture loop looks at the screen every `interval_s`: pause switch,
  idle time, screen lock and the active window decide whether it captures;
  it grabs every monitor and submits the pictures (milliseconds when nothing
  changed), and records activity changes for episodes;
- the OCR worker empties the durable queue, so a slow OCR never delays a
  capture tick; when it falls behind, the submitter degrades to keyframes;
- the idle worker (when the composition root gives one: consolidation) runs
  its steps while the user is away;
- the housekeeping thread (when given one: retention and the space cap) runs
  it at start, every hour and when the storage settings change, and puts
  what it did in the status.
Capture pauses (state "low disk") while the disk has less free space than
`storage.min_free_gb`; on battery, `capture.on_battery` makes it look less
often or keep keyframes only (`pipeline/power.py` says which power it is).
Between two ticks the capture loop looks at config.toml and applies the
options that can change live (pipeline/live_config.py: the interval,
exclusions, redaction, storage limits...), so the settings window needs no
restart for them.
Errors of the environment (display gone, tesseract missing or failing, disk
full) are logged, shown in `status.json`, and retried; the daemon keeps
running and nothing stored is lost. Anything else is a bug: logged with its
traceback, shown as "internal error", and the loop carries on after a pause.

The status is shared by these threads: every change to `Daemon.status`
happens under `_status_lock`, and other threads read `status_snapshot()`.
Events (`pipeline/events.py`) report it to a UI as it changes.
"""

from __future__ import annotations

import logging
import shutil
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

import psutil

from mirix_desktop.capture.screen import ScreenGrabber
from mirix_desktop.capture.session import DesktopProbe, WindowInfo, open_probe
from mirix_desktop.config import Settings
from mirix_desktop.errors import CaptureUnavailable, KnownError, OcrUnavailable, StoreError
from mirix_desktop.memory import frames
from mirix_desktop.memory import timeline as capture_off
from mirix_desktop.memory.records import now_utc, to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths
from mirix_desktop.pipeline.control import ControlFile, DaemonLock, Status, StatusFile
from mirix_desktop.pipeline.events import DaemonEvent, EventKind, EventSink, snapshot
from mirix_desktop.pipeline.heap import HeapTrimmer
from mirix_desktop.pipeline.housekeeping import Housekeeping
from mirix_desktop.pipeline.idle import IdleWork
from mirix_desktop.pipeline.jobs import JobQueue
from mirix_desktop.pipeline.live_config import CHECK_EVERY_S, ConfigWatcher
from mirix_desktop.pipeline.pipeline import Pipeline
from mirix_desktop.pipeline.power import PowerSource
from mirix_desktop.pipeline.submit import window_key
from mirix_desktop.privacy.exclusions import is_own_window

log = logging.getLogger("mirix.daemon")

# A still-here activity record this often keeps the open episode's end current.
_ACTIVITY_HEARTBEAT = timedelta(seconds=60)
_STATUS_EVERY_S = 30.0
_DISPLAY_RETRY_S = 5.0
_OCR_RETRY_S = 30.0
_STORE_RETRY_S = 5.0
_IDLE_CHECK_S = 15.0
_IDLE_REST_S = 300.0  # nothing to do, budget spent, or the model failed
# With its own queue empty, the OCR worker looks this often for the jobs of an
# `ingest` that died (killed, Ctrl-C) and takes them over.
ORPHAN_CHECK_S = 30.0
# "frame" and "queue" events: at most one of each this often.
_PROGRESS_EVENT_EVERY_S = 0.5
# The daemon's page cache (MiB). It writes: each new page is touched once or
# twice and rarely read again, so the store's cache (sized for search) would
# only keep the whole growing database decrypted in memory.
WRITER_CACHE_MB = 8
# The daemon says it is alive this often (a row in `meta`); a start more than
# _NOT_RUNNING_AFTER_MS after the last one records that time as "not running".
_HEARTBEAT_S = 30.0
_NOT_RUNNING_AFTER_MS = 90_000
# States that are capture off for a reason the timeline draws.
_OFF_REASONS: dict[str, capture_off.OffReason] = {
    "paused": "paused",
    "disabled": "paused",
    "idle": "idle",
    "locked": "locked",
    "excluded": "excluded",
    "low disk": "disk_full",
}
# Housekeeping (retention, the space cap) runs this long after the start,
# then this often, and at once when the storage settings change.
HOUSEKEEPING_FIRST_S = 10.0
HOUSEKEEPING_EVERY_S = 3600.0
_HOUSEKEEPING_CHECK_S = 5.0
_GB = 1_000_000_000
# Capture paused for want of disk space goes on once this much more than
# storage.min_free_gb is free, so a disk at the floor does not flap.
DISK_RESUME_MARGIN = 100_000_000


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
        idle_work: IdleWork | None = None,
        events: EventSink | None = None,
        housekeeping: Housekeeping | None = None,
        power: PowerSource | None = None,
        disk_free: Callable[[], int] | None = None,
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
        self.idle_work = idle_work
        self.housekeeping = housekeeping
        self._power = power or PowerSource()
        self._disk_free = disk_free or (lambda: shutil.disk_usage(store.path.parent).free)
        self.idle_steps = 0  # idle-work steps done
        self._events = events
        # Held while an event is made and delivered, so events leave in order;
        # also guards the progress bookkeeping below.
        self._event_lock = threading.RLock()
        self._frames_processed = 0  # under _status_lock
        self._reported_frames: tuple[int, int] | None = None
        self._reported_queue: int | None = None
        self._frame_event_at = self._queue_event_at = float("-inf")
        self._orphans_checked_at = float("-inf")
        self._heap = HeapTrimmer()  # used by the OCR worker alone
        self._beat_at = float("-inf")  # monotonic time of the last heartbeat
        # config.toml is looked at between ticks: live options apply at once.
        self.config = ConfigWatcher(paths.config_file, settings)

    # -- life cycle -----------------------------------------------------------------
    def start(self) -> None:
        self.lock.acquire()
        self.store.limit_cache(min(WRITER_CACHE_MB, self.settings.store.cache_mb))
        now = self._clock()
        self._adopt_orphans()
        self._record_start(now)
        self._today = local_midnight(now)
        with self.store.read() as conn:
            today = frames.count_frames(conn, since=self._today)
            total = frames.count_frames(conn)
        with self._status_lock:
            self.status.frames_today, self.status.frames_total = today, total
            self.status.queue_depth = depth = self.pipeline.queue_depth()
            pid = self.status.pid
        if depth:
            log.info("resuming %d queued jobs from the last run", depth)
        self._write_status(force=True)
        with self._event_lock:
            self._reported_frames, self._reported_queue = (total, 0), depth
            self._emit("started")
        loops = [("capture", self._capture_loop), ("ocr", self._ocr_loop)]
        if self.idle_work is not None:
            loops.append(("idle", self._idle_loop))
        if self.housekeeping is not None:
            loops.append(("housekeeping", self._housekeeping_loop))
        for name, target in loops:
            thread = threading.Thread(target=target, name=f"mirix-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("daemon started (pid %d), capturing every %.1f s",
                 pid, self.settings.capture.interval_s)  # fmt: skip

    def run_forever(self) -> None:
        """Starts, then blocks until SIGINT/SIGTERM or `stop()`."""
        # The handlers come first: a SIGTERM while starting (the tray app
        # quitting at once) must still end in a clean stop, not a dead
        # process whose status.json says "starting".
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.start()
        except BaseException:
            self._restore_signals(previous)
            raise
        try:
            while not self.stopping.wait(0.5):
                pass
        finally:
            self._restore_signals(previous)
            self.stop()

    @staticmethod
    def _restore_signals(previous: dict[signal.Signals, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()
        self.pipeline.work_ready.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads.clear()
        if self.idle_work is not None:
            self.idle_work.close()
        try:
            self.pipeline.processor.flush(self._clock())
        except KnownError as exc:
            log.warning("could not write the open episode: %s", exc.message)
        self._record_stop()
        self.pipeline.close()
        self._close_desktop()
        with self._status_lock:
            self.status.state, self.status.reason, self.status.running = "stopped", None, False
        self._write_status(force=True)
        self._emit("stopped")
        self.lock.release()
        log.info("daemon stopped")

    # -- status and events -----------------------------------------------------------
    def status_snapshot(self) -> Status:
        """A copy of the status, consistent, safe to read on any thread."""
        with self._status_lock:
            return snapshot(self.status)

    def _set_state(self, state: str, reason: str | None = None) -> None:
        with self._status_lock:
            changed = (self.status.state, self.status.reason) != (state, reason)
            self.status.state, self.status.reason = state, reason
        if changed:
            log.info("capture state: %s%s", state, f" ({reason})" if reason else "")
            self._record_off(state)
            self._write_status(force=True)
            self._emit("state")

    # -- capture-off intervals and the heartbeat (drawn by the timeline) ---------------
    def _record_start(self, now: datetime) -> None:
        """Closes what the last run left open and records the time it was gone."""
        now_ms = to_ms(now)
        with self.store.transaction() as conn:
            gone = capture_off.daemon_started(conn, now_ms, _NOT_RUNNING_AFTER_MS)
        self._beat_at = time.monotonic()
        if gone is not None:
            log.info("no daemon ran for %.0f s before this one", (now_ms - gone.start_ms) / 1000)

    def _heartbeat(self, now: datetime) -> None:
        if time.monotonic() - self._beat_at < _HEARTBEAT_S:
            return
        self._beat_at = time.monotonic()
        with self.store.transaction() as conn:
            capture_off.beat(conn, to_ms(now))

    def _record_off(self, state: str) -> None:
        """Opens an interval for a capture-off state (closes it when capture resumes).

        Losing an interval costs a gap's reason, never capture: a store error here
        is logged and capture goes on.
        """
        at = to_ms(self._clock())
        reason = _OFF_REASONS.get(state)
        try:
            with self.store.transaction() as conn:
                if reason is None:
                    capture_off.close_off(conn, at)
                else:
                    capture_off.open_off(conn, at, reason)
        except StoreError as exc:
            log.info("could not record that capture is %s: %s", state, exc.message)

    def _record_stop(self) -> None:
        at = to_ms(self._clock())
        try:
            with self.store.transaction() as conn:
                capture_off.close_off(conn, at)
                capture_off.beat(conn, at)
        except StoreError as exc:
            log.info("could not record the stop time: %s", exc.message)

    def _error(self, message: str) -> None:
        with self._status_lock:
            self.status.last_error = message
            self.status.last_error_at = self._clock().isoformat()
        log.warning("%s", message)
        self._write_status(force=True)
        self._emit("error", message)

    def _emit(self, kind: EventKind, message: str | None = None) -> None:
        if self._events is None:
            return
        with self._event_lock:
            event = DaemonEvent(kind, self.status_snapshot(), message)
            try:
                self._events.emit(event)
            except Exception:
                # A broken reader must not stop capture; its state is in status.json.
                log.exception("could not deliver a daemon event")

    def _report_progress(self) -> None:
        """Frame and queue events as the counts change, each at most every
        `_PROGRESS_EVENT_EVERY_S`.

        Called after every capture tick and OCR step (at least once a second),
        so a change the throttle held back is reported soon after.
        """
        if self._events is None:
            return
        now = time.monotonic()
        with self._event_lock:
            with self._status_lock:
                self.status.queue_depth = depth = self.pipeline.queue_depth()
                frames_seen = (self.status.frames_total, self._frames_processed)
            if (
                frames_seen != self._reported_frames
                and now - self._frame_event_at >= _PROGRESS_EVENT_EVERY_S
            ):
                self._reported_frames, self._frame_event_at = frames_seen, now
                self._emit("frame")
            if depth != self._reported_queue and now - self._queue_event_at >= (
                _PROGRESS_EVENT_EVERY_S
            ):
                self._reported_queue, self._queue_event_at = depth, now
                self._emit("queue")

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
        next_tick = time.monotonic()
        while not self.stopping.is_set():
            started = time.monotonic()
            delay = self._tick_safely()
            self._reload_config()  # also here: a short interval may leave no wait below
            interval = self.capture_interval()
            next_tick = max(next_tick + interval, time.monotonic() + delay - interval)
            while not self.stopping.is_set() and (left := next_tick - time.monotonic()) > 0:
                self.stopping.wait(min(left, CHECK_EVERY_S))
                if self._reload_config():
                    # A new interval counts from the last tick, not from the old schedule.
                    next_tick = started + max(self.capture_interval(), delay)

    def _reload_config(self) -> bool:
        """Applies config.toml's live options if the file changed; True if any did."""
        try:
            reload = self.config.poll()
        except Exception:
            log.exception("internal error while reloading config.toml")
            return False
        if reload is None or not reload.applied:
            return False
        if any(key.startswith("privacy.") for key in reload.applied):
            self.pipeline.apply_privacy(self.settings.privacy)
        return True

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
            self._report_progress()
        return 0.0

    def tick(self) -> None:
        now = self._clock()
        self._heartbeat(now)
        pause = self.control.read()
        if pause is not None and pause.active(now):
            until = "until resumed" if pause.until is None else f"until {pause.until.isoformat()}"
            with self._status_lock:
                self.status.paused_until = None if pause.until is None else pause.until.isoformat()
            self._measure_idle()
            self._stopped("paused", f"paused by you {until}")
            return
        with self._status_lock:
            self.status.paused_until = None
        if not self.settings.capture.enabled:
            self._measure_idle()
            self._stopped("disabled", "capture.enabled is false in the config")
            return
        if self._disk_low():
            self._measure_idle()
            return
        self.pipeline.submitter.keyframes_only = (
            self.settings.capture.on_battery == "keyframes" and self._on_battery()
        )
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
        if active is not None and is_own_window(active.app, active.process):
            # MIRIX's own window is masked, not recorded, and does not stop
            # capture: the episode goes on with the top-most window beneath it
            # that may be recorded.
            active = next(
                (
                    w
                    for w in windows
                    if not is_own_window(w.app, w.process)
                    and self.pipeline.active_exclusion(w) is None
                ),
                None,
            )
        exclusion = self.pipeline.active_exclusion(active)
        if exclusion is not None:
            self._stopped("excluded", f"the active window is excluded: {exclusion.reason}")
            return
        grabber = self._screen()
        shots = grabber.grab()
        with self._status_lock:
            self.status.monitors = len(shots)
        self._set_state("capturing")
        if local_midnight(now) != self._today:
            # A new day (the daemon runs for weeks): "today" starts again.
            self._today = local_midnight(now)
            with self._status_lock:
                self.status.frames_today = 0
        for shot in shots:
            result = self.pipeline.submit(shot, windows, now)
            if result.state == "queued":
                with self._status_lock:
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
        with self._status_lock:
            was = self.status.state
        if was != state:
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

    # -- power and disk space -------------------------------------------------------------
    def capture_interval(self) -> float:
        """Seconds between two looks at the screen: `capture.interval_s`, or on battery
        with `on_battery = "slower"` `battery_interval_s` (never shorter than the first)."""
        capture = self.settings.capture
        battery = self._on_battery()  # also for `status`, whatever the policy
        if capture.on_battery == "slower" and battery:
            return max(capture.interval_s, capture.battery_interval_s)
        return capture.interval_s

    def _on_battery(self) -> bool:
        battery = self._power.on_battery()
        with self._status_lock:
            self.status.on_battery = battery
        return battery

    def _disk_low(self) -> bool:
        """Pauses capture (state "low disk") while free disk is below `storage.min_free_gb`."""
        floor = int(self.settings.storage.min_free_gb * _GB)
        if floor <= 0:
            return False
        try:
            free = self._disk_free()
        except OSError as exc:
            log.info("cannot measure the free disk space: %s", exc)
            return False
        with self._status_lock:
            low_already = self.status.state == "low disk"
        if free >= floor + (DISK_RESUME_MARGIN if low_already else 0):
            return False
        self._stopped(
            "low disk",
            f"only {free / _GB:.1f} GB free on the disk, below storage.min_free_gb "
            f"({floor / _GB:g} GB)",
        )
        return True

    # -- housekeeping: retention and the space cap ------------------------------------------
    def _housekeeping_loop(self) -> None:
        """Runs the housekeeping at start, then hourly, and when storage settings change."""
        work = self.housekeeping
        assert work is not None
        due = time.monotonic() + HOUSEKEEPING_FIRST_S
        storage = self.settings.storage.model_dump()
        while not self.stopping.is_set():
            now_storage = self.settings.storage.model_dump()
            if time.monotonic() < due and now_storage == storage:
                self.stopping.wait(_HOUSEKEEPING_CHECK_S)
                continue
            storage, due = now_storage, time.monotonic() + HOUSEKEEPING_EVERY_S
            self.housekeep()

    def housekeep(self) -> None:
        """One housekeeping run; what it did goes into the status (and a notice, once)."""
        work = self.housekeeping
        if work is None:
            return
        try:
            done = work.run(self.settings)
        except KnownError as exc:
            self._error(f"{work.name}: {exc.message}")
            return
        except Exception:
            log.exception("internal error in %s", work.name)
            self._error(f"internal error in {work.name}; see the log")
            return
        with self._status_lock:
            self.status.retention_at, self.status.retention_summary = done.at, done.summary
            self.status.space_warning = done.warning
            if done.notice is not None:
                self.status.space_notice, self.status.space_notice_at = done.notice, done.at
        if done.notice is not None:
            log.warning("%s", done.notice)
        if done.warning is not None:
            log.warning("%s", done.warning)
        self._write_status(force=True)
        self._emit("state")

    # -- the OCR worker -------------------------------------------------------------------
    def _ocr_loop(self) -> None:
        while not self.stopping.is_set():
            delay = self._ocr_step()
            self._report_progress()
            if delay:
                self.stopping.wait(delay)

    def _ocr_step(self) -> float:
        """Processes one job; returns how long to wait before the next attempt."""
        try:
            result = self.pipeline.process_next()
            if result is None and time.monotonic() - self._orphans_checked_at >= ORPHAN_CHECK_S:
                self._adopt_orphans()
        except OcrUnavailable as exc:
            with self._status_lock:
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
            # Nothing queued: a moment to give freed memory back (see pipeline/heap.py).
            self._heap.maybe_trim()
            self.pipeline.work_ready.wait(1.0)
            self.pipeline.work_ready.clear()
            return 0.0
        with self._status_lock:
            self.status.ocr_engine = self.pipeline.processor.engine_name
            if result.kind == "frame" and result.error is None:
                self._frames_processed += 1
        if result.error:
            self._error(result.error)
            failed = self.pipeline.failed_jobs()
            with self._status_lock:
                self.status.failed_jobs = failed
        return 0.0

    def _adopt_orphans(self) -> None:
        """Takes over the queued jobs of `ingest` runs that died, so they are done."""
        self._orphans_checked_at = time.monotonic()
        with self.store.transaction() as conn:
            adopted = JobQueue.adopt_orphans(conn, psutil.pid_exists)
        if adopted:
            log.info("took over %d queued jobs of an interrupted ingest", adopted)
            self.pipeline.work_ready.set()

    # -- the idle worker ---------------------------------------------------------------------
    def _idle_loop(self) -> None:
        work = self.idle_work
        assert work is not None
        while not self.stopping.is_set():
            idle = self._idle_s
            if idle is None or idle < self.settings.consolidation.idle_after_s:
                self.stopping.wait(_IDLE_CHECK_S)
                continue
            try:
                step = work.step()
            except KnownError as exc:
                self._error(f"{work.name}: {exc.message}")
                self.stopping.wait(_IDLE_REST_S)
                continue
            except Exception:
                log.exception("internal error in the %s worker", work.name)
                self._error(f"internal error in the {work.name} worker; see the log")
                self.stopping.wait(_IDLE_REST_S)
                continue
            if step is None:
                self.stopping.wait(_IDLE_REST_S)
            elif step.error is None:
                self.idle_steps += 1
                log.info("%s", step.summary)
            else:
                self._error(step.error)
                self.stopping.wait(_IDLE_CHECK_S)
