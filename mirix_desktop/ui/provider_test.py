"""The Assistant page's "Test" button: one tiny request to the model the form names.

The settings come from the form through `settings_getter` (not saved yet);
the request runs on a worker (app/provider_probe.py) and the line next to
the button says "OK — answered in N ms by MODEL" or what went wrong in
plain words: a server that cannot be reached, a refused key, a timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from mirix_desktop.app.provider_probe import ProviderProbe, probe_provider
from mirix_desktop.app.texts import for_window
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError, LlmAuthError
from mirix_desktop.llm.providers import choose_provider
from mirix_desktop.ui.qt import QtWidgets, Signal
from mirix_desktop.ui.status_line import StatusLine, sentence
from mirix_desktop.ui.workers import Services, Workers

log = logging.getLogger("mirix.ui.provider_test")


@dataclass(frozen=True)
class ProbeOutcome:
    ok: bool
    text: str


def _outcome(settings: Settings, services: Services) -> ProbeOutcome:
    """Runs on the worker: the probe, its known failures turned into words."""
    try:
        probe = probe_provider(settings, services.paths.models_dir)
    except LlmAuthError as exc:
        return ProbeOutcome(
            False,
            f"{sentence(for_window(exc.message))} Save the right key above, or set the "
            f"environment variable {settings.openai.api_key_env}.",
        )
    except KnownError as exc:
        return ProbeOutcome(False, sentence(for_window(exc.message)))
    if probe is None:
        return ProbeOutcome(
            True,
            "No model is chosen: answers quote your memories, so there is nothing to test.",
        )
    assert isinstance(probe, ProviderProbe)
    return ProbeOutcome(True, probe.describe())


class ProviderTestButton(QtWidgets.QWidget):
    """[Test] and, beside it, the outcome of the last test."""

    tested = Signal(bool, str)  # answered (or nothing to test), and the line shown

    def __init__(
        self,
        services: Services,
        settings_getter: Callable[[], Settings],
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._settings_getter = settings_getter
        self._workers = Workers(self, max_threads=1)
        self._running = False

        self.button = QtWidgets.QPushButton("&Test", self)
        self.button.setObjectName("providerTest")
        self.button.setAutoDefault(False)
        self.button.setToolTip("Send a one-word question to the model chosen above")
        self.button.clicked.connect(self.run_test)
        self.status = StatusLine("Test result", self)

        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button, 0)
        layout.addWidget(self.status, 1)
        layout.addStretch(0)

    @property
    def running(self) -> bool:
        return self._running

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Waits for a test still running (at most its timeout); True if it ended in time."""
        return self._workers.wait(timeout_ms)

    def run_test(self) -> None:
        if self._running:
            return
        try:
            settings = self._settings_getter()
            provider = choose_provider(settings)
        except KnownError as exc:
            self._show(ProbeOutcome(False, sentence(for_window(exc.message))))
            return
        except ValueError as exc:  # pydantic's ValidationError is one
            self._show(ProbeOutcome(False, f"The settings above are not valid yet: {exc}"))
            return
        self._running = True
        self.button.setEnabled(False)
        self.button.setText("Testing…")
        if provider == "local":
            self.status.say(f"Loading {settings.local_model.model} and asking it for one word…")
        elif provider == "openai":
            host = urlsplit(settings.openai.base_url).netloc or settings.openai.base_url
            self.status.say(f"Asking {settings.openai.model} at {host} for one word…")
        services = self._services
        self._workers.run(
            "test the model",
            lambda: _outcome(settings, services),
            self._done,
            lambda text: self._done(ProbeOutcome(False, text)),
        )

    def _done(self, outcome: object) -> None:
        assert isinstance(outcome, ProbeOutcome)
        self._running = False
        self.button.setEnabled(True)
        self.button.setText("&Test")
        self._show(outcome)

    def _show(self, outcome: ProbeOutcome) -> None:
        self.status.say(outcome.text, "ok" if outcome.ok else "error")
        self.tested.emit(outcome.ok, outcome.text)
