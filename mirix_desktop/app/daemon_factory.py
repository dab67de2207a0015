"""Builds the capture daemon with what it needs from outside `pipeline/`.

The daemon knows when the user is idle but not what to do then: here the
consolidator (assistant/) and the configured language model (llm/) become
its idle work, so `pipeline/` imports neither. `run --no-ui`, supervised or
not, and the tests build their daemon through this module.
"""

from __future__ import annotations

from collections.abc import Callable

from mirix_desktop.app.retention import RetentionWork
from mirix_desktop.assistant.consolidation import Consolidator, Measure
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError
from mirix_desktop.llm.base import ChatModel
from mirix_desktop.llm.providers import Provider, choose_provider, make_chat_model
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths
from mirix_desktop.pipeline.daemon import Daemon
from mirix_desktop.pipeline.events import EventSink
from mirix_desktop.pipeline.idle import IdleStep


class ConsolidationWork:
    """The consolidator as the daemon's idle work; the model is loaded at the first step."""

    name = "consolidation"

    def __init__(
        self,
        store: MemoryStore,
        settings: Settings,
        model_factory: Callable[[], ChatModel | None],
        *,
        measure: Measure,
    ) -> None:
        self.store = store
        self.settings = settings
        self._model_factory = model_factory
        self.measure = measure
        self._model: ChatModel | None = None
        self._consolidator: Consolidator | None = None

    def _ready(self) -> Consolidator:
        if self._consolidator is None:
            model = self._model_factory()
            if model is None:
                raise KnownError("no language model is configured")
            self._model = model
            self._consolidator = Consolidator(
                self.store,
                model,
                seconds_per_day=self.settings.consolidation.cpu_seconds_per_day,
                measure=self.measure,
                timeout_s=self.settings.llm.timeout_s,
            )
        return self._consolidator

    def step(self) -> IdleStep | None:
        outcome = self._ready().step()
        if outcome is None:
            return None
        if outcome.outcome == "failed":
            return IdleStep(
                summary=f"consolidation of memory {outcome.memory_id} failed",
                error=f"consolidation of memory {outcome.memory_id}: {outcome.error}",
            )
        return IdleStep(
            f"consolidated {outcome.kind} {outcome.memory_id} in {outcome.seconds:.1f} s"
        )

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
        self._model = self._consolidator = None


def consolidation_provider(settings: Settings) -> Provider | None:
    """The provider whose model consolidates while the user is idle; None when none does."""
    provider = choose_provider(settings)
    if provider == "extractive" or not settings.consolidation.enabled:
        return None
    return provider


def build_daemon(
    paths: AppPaths,
    settings: Settings,
    store: MemoryStore,
    events: EventSink | None = None,
) -> Daemon:
    """The daemon of `run --no-ui`, with consolidation when a model is configured, and
    retention with the space cap on a timer."""
    provider = consolidation_provider(settings)
    idle_work = None
    if provider is not None:

        def model_factory() -> ChatModel | None:
            return make_chat_model(settings, paths.models_dir)

        idle_work = ConsolidationWork(
            store,
            settings,
            model_factory,
            # A local model's cost is this process's CPU time; a remote one's, the wait.
            measure="cpu" if provider == "local" else "wall",
        )
    return Daemon(
        paths,
        settings,
        store,
        idle_work=idle_work,
        events=events,
        housekeeping=RetentionWork(store),
    )
