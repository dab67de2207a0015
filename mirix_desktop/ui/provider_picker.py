"""Who answers in the chat window: the provider combo, and the model it builds.

Only configured providers can be picked (the extractive answer always can).
A model is built and, for a local GGUF, loaded on a worker thread while the
picker shows "Loading <model>…"; the model is handed out as a future, so a
question asked meanwhile waits for it on its own worker thread instead of
being answered by the previous provider. A provider that fails to build or
load is reported in plain words and the picker returns to the previous one.
Models no answer uses any more are closed off the GUI thread (a local model
frees its memory; closing waits for an answer still running on it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mirix_desktop.app.texts import for_window
from mirix_desktop.errors import ConfigError
from mirix_desktop.llm.base import ChatModel
from mirix_desktop.llm.providers import Provider, choose_provider
from mirix_desktop.ui.qt import QtCore, QtGui, QtWidgets, Signal
from mirix_desktop.ui.workers import Services, Workers

log = logging.getLogger("mirix.ui.provider")


@dataclass(frozen=True)
class ProviderChoice:
    provider: Provider
    label: str
    enabled: bool
    help: str


def provider_choices(services: Services) -> list[ProviderChoice]:
    settings = services.settings
    local, remote = settings.local_model.model, settings.openai.model
    host = urlsplit(settings.openai.base_url).hostname or settings.openai.base_url
    return [
        ProviderChoice(
            "extractive",
            "Quotes from your memories (no model)",
            True,
            "Answers with the memories that match best, quoted. Works without any model.",
        ),
        ProviderChoice(
            "local",
            f"Local model: {Path(local).name}" if local else "Local model (not set up)",
            bool(local),
            "A language model running on this computer; nothing leaves it."
            if local
            else "No local model is set up: download one and name it in local_model.model "
            "in the settings file.",
        ),
        ProviderChoice(
            "openai",
            f"Remote: {remote} at {host}" if remote else "Remote server (not set up)",
            bool(remote),
            f"A model on the server at {settings.openai.base_url}: your question and the "
            "memories it needs are sent there."
            if remote
            else "No model server is set up: name one in openai.model (and openai.base_url) "
            "in the settings file.",
        ),
    ]


@dataclass(eq=False)
class ModelSlot:
    """One built (or building) model of one provider."""

    provider: Provider
    future: Future[ChatModel | None] = field(default_factory=Future)

    def model(self) -> ChatModel | None:
        """The model, blocking until it is built; raises what building raised."""
        return self.future.result()

    def built(self) -> ChatModel | None:
        """The model if it is built, without waiting."""
        if not self.future.done() or self.future.exception() is not None:
            return None
        return self.future.result()


def _ready_slot(provider: Provider, model: ChatModel | None) -> ModelSlot:
    slot = ModelSlot(provider)
    slot.future.set_result(model)
    return slot


class ProviderPicker(QtWidgets.QWidget):
    """ "Answers from: [combo]" with a busy indicator while a model builds or loads."""

    changed = Signal(str)  # the provider now answering
    failed = Signal(str)  # why a provider could not be used, in plain words

    def __init__(
        self, services: Services, workers: Workers, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._workers = workers
        self._current = _ready_slot("extractive", None)
        self._pending: ModelSlot | None = None
        self._retired: list[ModelSlot] = []
        self._in_use: Callable[[], Iterable[ModelSlot]] = list

        self.combo = QtWidgets.QComboBox()
        self.combo.setObjectName("providerCombo")
        self.combo.setAccessibleName("Who answers")
        self.combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        label = QtWidgets.QLabel("&Answers from:")
        label.setBuddy(self.combo)
        self.busy = QtWidgets.QProgressBar()
        self.busy.setObjectName("modelLoading")
        self.busy.setRange(0, 0)  # a busy indicator: llama.cpp reports no progress we show
        self.busy.setTextVisible(False)
        self.busy.setMaximumWidth(self.fontMetrics().averageCharWidth() * 12)
        self.busy.hide()
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("modelStatus")
        self.status.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        # A long error must not widen the window: the full text is in the tooltip.
        self.status.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )

        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(self.busy)
        layout.addWidget(self.status, 1)

        self._fill()
        self.combo.activated.connect(self._picked)

    # -- what the window uses -----------------------------------------------------------
    @property
    def provider(self) -> Provider:
        return self.slot().provider

    @property
    def loading(self) -> bool:
        return self._pending is not None

    def slot(self) -> ModelSlot:
        """The slot a new question uses: the one being built, else the current one."""
        return self._pending or self._current

    def set_in_use(self, in_use: Callable[[], Iterable[ModelSlot]]) -> None:
        """How the picker learns which slots running answers still hold."""
        self._in_use = in_use

    def start(self) -> None:
        """Builds the configured provider's model (the local one is loaded now, off-thread)."""
        try:
            provider = choose_provider(self._services.settings)
        except ConfigError as exc:
            self._report(f"{for_window(exc.message)} Using quotes from your memories instead.")
            provider = "extractive"
        if not self._choice(provider).enabled:
            provider = "extractive"
        self.switch(provider)

    def settings_changed(self) -> None:
        """The settings window changed the provider, model or server: follow them.

        The choices are labelled again and the configured provider's model is
        built anew (the same provider may now mean another model or server);
        the old model is closed once no answer uses it.
        """
        self._fill()
        if self._current.provider != "extractive":
            self._retired.append(self._current)
            self._current = _ready_slot("extractive", None)
        self._pending = None  # a build under way is superseded (see _built)
        self.start()
        self.release_unused()

    def switch(self, provider: Provider) -> None:
        """Makes `provider` answer from now on (built off the GUI thread)."""
        self._select(provider)
        if provider == self.slot().provider:
            return
        if provider == "extractive":
            self._pending = None
            self._commit(_ready_slot("extractive", None))
            return
        slot = ModelSlot(provider)
        self._pending = slot
        loading = self._choice(provider).label.split(": ", 1)[-1]
        self._show_busy(f"Loading {loading}…" if provider == "local" else f"Preparing {loading}…")
        self._workers.run(
            f"build {provider} model",
            lambda: self._build(slot),
            lambda _result: self._built(slot),
            lambda text: self._build_failed(slot, text),
        )

    def release_unused(self) -> None:
        """Closes retired models that no running answer holds any more."""
        in_use = set(map(id, self._in_use()))
        for slot in list(self._retired):
            if id(slot) in in_use:
                continue
            self._retired.remove(slot)
            model = slot.built()
            if model is not None:
                self._workers.run(f"close {model.name}", model.close, lambda _r: None)

    def close_all(self) -> None:
        """Closes every model, on this thread: for shutdown, after answers ended."""
        for slot in [*self._retired, self._current, *([self._pending] if self._pending else [])]:
            model = slot.built()
            if model is not None:
                model.close()
        self._retired.clear()

    # -- building ---------------------------------------------------------------------------
    def _build(self, slot: ModelSlot) -> None:
        """Runs on a worker: builds the model, publishes it, then loads a local one."""
        try:
            model = self._services.chat_model(slot.provider)
        except BaseException as exc:
            slot.future.set_exception(exc)
            raise
        slot.future.set_result(model)
        load = getattr(model, "load", None)
        if callable(load):
            # Questions asked meanwhile wait on the model's own load lock.
            load()

    def _built(self, slot: ModelSlot) -> None:
        if slot is not self._pending:
            self._retired.append(slot)  # superseded while it loaded
            self.release_unused()
            return
        self._pending = None
        self._commit(slot)

    def _build_failed(self, slot: ModelSlot, text: str) -> None:
        if not slot.future.done():
            slot.future.set_exception(ConfigError(text))
        self._retired.append(slot)
        if slot is not self._pending:
            self.release_unused()
            return
        self._pending = None
        label = self._choice(slot.provider).label
        self._select(self._current.provider)
        self._hide_busy()
        self._report(f"{label} cannot answer: {text}")
        self.release_unused()

    def _commit(self, slot: ModelSlot) -> None:
        if slot is not self._current:
            self._retired.append(self._current)
            self._current = slot
        self._hide_busy()
        self.status.clear()
        self.status.setToolTip("")
        self.release_unused()
        self.changed.emit(slot.provider)

    # -- the combo ------------------------------------------------------------------------
    def _fill(self) -> None:
        self.combo.clear()
        model = self.combo.model()
        for index, choice in enumerate(provider_choices(self._services)):
            self.combo.addItem(choice.label, choice.provider)
            self.combo.setItemData(index, choice.help, QtCore.Qt.ItemDataRole.ToolTipRole)
            if not choice.enabled and isinstance(model, QtGui.QStandardItemModel):
                item = model.item(index)
                if item is not None:
                    item.setEnabled(False)
        self._select(self._current.provider)

    def _choice(self, provider: Provider) -> ProviderChoice:
        for choice in provider_choices(self._services):
            if choice.provider == provider:
                return choice
        raise ValueError(provider)  # pragma: no cover - PROVIDERS are all listed

    def _select(self, provider: Provider) -> None:
        index = self.combo.findData(provider)
        if index >= 0:
            self.combo.setCurrentIndex(index)
            self.combo.setToolTip(
                str(self.combo.itemData(index, QtCore.Qt.ItemDataRole.ToolTipRole))
            )

    def _picked(self, index: int) -> None:
        provider = self.combo.itemData(index)
        if provider in ("extractive", "local", "openai"):
            self.switch(provider)

    def _show_busy(self, text: str) -> None:
        self.busy.show()
        self.status.setText(text)
        self.status.setToolTip(text)

    def _hide_busy(self) -> None:
        self.busy.hide()

    def _report(self, text: str) -> None:
        log.warning("%s", text)
        self.status.setText(text)
        self.status.setToolTip(text)
        self.failed.emit(text)
