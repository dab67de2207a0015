"""The capture -> memory pipeline as one object: submit pictures, process the queue.

The daemon, `capture --once`, `ingest` and the replay benchmark all go
through this class, so an imported image meets exactly the privacy rules,
change detection, OCR, redaction and memory building a captured one does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import PrivacySettings, Settings
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ocr.engine import OcrEngine, make_engine
from mirix_desktop.pipeline.jobs import ActivityJob, JobQueue
from mirix_desktop.pipeline.memories import MemoryBuilder, resource_reader
from mirix_desktop.pipeline.processor import JobProcessor, Processed
from mirix_desktop.pipeline.submit import FrameSubmitter, SubmitResult, exclusion_of, redacted
from mirix_desktop.privacy.exclusions import Exclusion, PrivacyFilter
from mirix_desktop.privacy.redaction import Redactor

log = logging.getLogger("mirix.pipeline")


class Pipeline:
    def __init__(
        self,
        store: MemoryStore,
        settings: Settings,
        engine_factory: Callable[[], OcrEngine] | None = None,
        *,
        owner: int | None = None,
    ) -> None:
        # `owner`: the pid of a one-off run (ingest, capture --once), which
        # processes only its own jobs; None for the daemon.
        self.store = store
        self.owner = owner
        self.settings = settings
        self.privacy = PrivacyFilter(
            settings.privacy.exclude, use_defaults=settings.privacy.default_exclusions
        )
        self.redactor = Redactor(emails=settings.privacy.redact_emails)
        self.submitter = FrameSubmitter(store, self.privacy, self.redactor, settings.capture, owner)
        self.builder = MemoryBuilder(
            self.privacy, settings.capture.episode_gap_s, resource_reader(store)
        )
        ocr = settings.ocr
        self.processor = JobProcessor(
            store,
            # The reading memo hands OCR dark-on-light pages only.
            engine_factory or (lambda: make_engine(ocr.engine, ocr.languages, dark_on_light=True)),
            self.redactor,
            self.builder,
            owner,
        )
        # Set when work is queued, so the OCR worker wakes at once.
        self.work_ready = threading.Event()

    # -- the capture side ---------------------------------------------------------
    def submit(
        self, shot: MonitorShot, windows: list[WindowInfo], at: datetime, source: str = "capture"
    ) -> SubmitResult:
        result = self.submitter.submit(shot, windows, at, source=source)
        if result.state == "queued":
            self.work_ready.set()
        return result

    def record_activity(self, state: str, window: WindowInfo | None, at: datetime) -> None:
        """Queues an activity change (switch, stop, or a still-here heartbeat)."""
        if window is not None:
            window = redacted(self.redactor, window)
        with self.store.transaction() as conn:
            JobQueue.put(conn, ActivityJob(at, state, window), None, to_ms(at), self.owner)
        self.submitter.queue_depth += 1
        self.work_ready.set()

    # -- the OCR side -----------------------------------------------------------------
    def process_next(self) -> Processed | None:
        result = self.processor.process_next()
        if result is not None:
            with self.store.read() as conn:
                self.submitter.queue_depth = JobQueue.depth(conn, self.owner)
        return result

    def drain(self, limit: int | None = None) -> list[Processed]:
        """Processes queued jobs until none is left (or `limit` jobs)."""
        done: list[Processed] = []
        while limit is None or len(done) < limit:
            result = self.process_next()
            if result is None:
                break
            done.append(result)
        return done

    def active_exclusion(self, window: WindowInfo | None) -> Exclusion | None:
        """Why the active window must not be captured, if it must not."""
        return None if window is None else exclusion_of(self.privacy, window)

    def apply_privacy(self, privacy: PrivacySettings) -> None:
        """New exclusion rules and redaction options, from the next frame on.

        Each part gets the new objects by one reference assignment, so a frame
        in flight meets either the old rules or the new ones, never a mix
        within one check.
        """
        self.privacy = PrivacyFilter(privacy.exclude, use_defaults=privacy.default_exclusions)
        self.redactor = Redactor(emails=privacy.redact_emails)
        self.submitter.privacy, self.submitter.redactor = self.privacy, self.redactor
        self.builder.privacy = self.privacy
        self.processor.address_bars.privacy = self.privacy
        self.processor.redactor = self.redactor

    def queue_depth(self) -> int:
        return self.submitter.queue_depth

    def failed_jobs(self) -> int:
        with self.store.read() as conn:
            return JobQueue.failed_count(conn)

    def close(self) -> None:
        self.processor.close()
