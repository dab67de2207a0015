"""Work off the GUI thread: runnables on a thread pool that report through signals.

Workers never touch widgets. Each owns a QObject of signals created on the
GUI thread, so Qt queues every emission to the GUI thread's event loop and
the connected slots run there. `Workers` keeps each job (and so its signals)
alive until the job has reported: a signal object collected early would drop
the result on the floor.

Known errors (`KnownError`) reach the UI as their message; anything else is a
bug, logged with its traceback and reported in plain words, so a window never
waits forever for a job that died.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from mirix_desktop.app.texts import for_window
from mirix_desktop.assistant.assistant import Answer, Assistant
from mirix_desktop.assistant.cancel import CancelToken
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError
from mirix_desktop.llm.base import ChatModel
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths
from mirix_desktop.ui.qt import QObject, QtCore, Signal

log = logging.getLogger("mirix.ui.workers")


class Services(Protocol):
    """What the windows need of the application layer (app/services.py's AppServices)."""

    paths: AppPaths
    settings: Settings

    def store(self) -> MemoryStore: ...

    def chat_model(self, requested: str | None = None) -> ChatModel | None: ...


def failure_text(exc: BaseException) -> str:
    """What a person reads about a failed job."""
    if isinstance(exc, KnownError):
        return for_window(exc.message)
    return f"Something went wrong ({type(exc).__name__}: {exc}). Details are in the log."


class JobSignals(QObject):
    done = Signal(object)
    failed = Signal(str)


class Job:
    """Runs `work()` on a pool thread; `signals.done(result)` or `signals.failed(text)`."""

    def __init__(self, work: Callable[[], Any], name: str) -> None:
        self.name = name
        self.signals = JobSignals()
        self._work = work

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:
            if not isinstance(exc, KnownError):
                log.exception("%s failed", self.name)
            self.signals.failed.emit(failure_text(exc))
            return
        self.signals.done.emit(result)


class AnswerSignals(QObject):
    chunk = Signal(str)
    # What the job's `prepare` made of the answer arrives just before `finished`.
    prepared = Signal(object)
    finished = Signal(object)  # Answer
    failed = Signal(str)


class AnswerJob:
    """One `Assistant.ask` on a pool thread, streaming its chunks as signals.

    The answer is stored by the assistant whatever the window does meanwhile
    (closed, another conversation shown), so nothing said is lost; Stop sets
    `cancel`, which keeps the partial answer. `model` is called on the worker
    thread: it may wait for a model still being built or loaded, and so is
    `prepare`, given the store and the answer once it ended: the window looks
    up its sources and lays its drawing out there, off the GUI thread.
    """

    def __init__(
        self,
        services: Services,
        model: Callable[[], ChatModel | None],
        question: str,
        conversation_id: int | None,
        prepare: Callable[[MemoryStore, Answer], Any] | None = None,
    ) -> None:
        self.name = "answer"
        self.signals = AnswerSignals()
        self.cancel = CancelToken()
        self.model = model
        self.question = question
        self.conversation_id = conversation_id
        self._services = services
        self._prepare = prepare

    def run(self) -> None:
        try:
            store = self._services.store()
            assistant = Assistant(store, self.model(), self._services.settings, actor="app")
            answer = assistant.ask(
                self.question,
                conversation_id=self.conversation_id,
                on_chunk=self.signals.chunk.emit,
                cancel=self.cancel,
            )
            prepared = self._prepare(store, answer) if self._prepare else None
        except Exception as exc:
            if not isinstance(exc, KnownError):
                # Its length only: logs never hold what the person asked.
                log.exception("answering a question (%d characters) failed", len(self.question))
            self.signals.failed.emit(failure_text(exc))
            return
        self.signals.prepared.emit(prepared)
        self.signals.finished.emit(answer)


class Runnable(Protocol):
    def run(self) -> None: ...


class Workers(QObject):
    """A thread pool for one window, holding each job until it has reported.

    Jobs are plain Python objects whose `run` the pool calls: Qt never owns
    (or deletes) them, so their lifetime is only this object's `_running`.
    """

    def __init__(self, parent: QObject | None = None, max_threads: int = 3) -> None:
        super().__init__(parent)
        self._pool = QtCore.QThreadPool(self)
        # Answers stream for seconds; the others (lists, records, model loads)
        # must not queue behind one.
        self._pool.setMaxThreadCount(max_threads)
        self._running: set[Runnable] = set()

    def run(
        self,
        name: str,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[str], None] | None = None,
    ) -> Job:
        job = Job(work, name)
        job.signals.done.connect(on_done)
        if on_failed is not None:
            job.signals.failed.connect(on_failed)
        else:
            job.signals.failed.connect(lambda text: log.warning("%s: %s", name, text))
        self.start(job, job.signals.done, job.signals.failed)
        return job

    def start(self, job: Runnable, *ends: Any) -> None:
        """Starts `job`; it is released when one of its `ends` signals fires."""
        self._running.add(job)
        for end in ends:
            end.connect(lambda *_args, job=job: self._running.discard(job))
        self._pool.start(job.run)

    @property
    def busy(self) -> int:
        return len(self._running)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Blocks until every job ended (True) or the timeout passed (False)."""
        return bool(self._pool.waitForDone(timeout_ms))
