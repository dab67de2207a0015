"""The Storage page's space panel: used now, free, the forecast and the last clean-up.

Everything is gathered on a worker (app/space.py: file sizes, C's
`space_forecast` and `last_retention` from the store) and shown as a small
form. `refresh(settings)` takes the form's unsaved settings, so a new cap
shows its forecast before it is saved.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from mirix_desktop.app.space import SpaceReport, forecast_words, size_words, space_report
from mirix_desktop.config import Settings
from mirix_desktop.ui.qt import Qt, QtWidgets, Signal
from mirix_desktop.ui.status_line import StatusLine, sentence
from mirix_desktop.ui.workers import Services, Workers

log = logging.getLogger("mirix.ui.space_view")


def when_words(at: datetime, now: datetime | None = None) -> str:
    """'today at 03:12', 'yesterday at 23:40', '3 Nov at 09:00' (local time)."""
    now = (now or datetime.now().astimezone()).astimezone()
    local = at.astimezone(now.tzinfo)
    clock = local.strftime("%H:%M")
    if local.date() == now.date():
        return f"today at {clock}"
    if local.date() == (now - timedelta(days=1)).date():
        return f"yesterday at {clock}"
    return f"{local.day} {local.strftime('%b %Y')} at {clock}"


def _value_label(name: str, parent: QtWidgets.QWidget) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(parent)
    label.setObjectName(name)
    label.setAccessibleName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class SpaceView(QtWidgets.QWidget):
    """Memories file, logs, models, free space; forecast; last clean-up; Refresh."""

    refreshed = Signal(object)  # the SpaceReport shown

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._workers = Workers(self, max_threads=1)
        self._settings: Settings = services.settings
        self._pending = False
        self._again = False
        self.report: SpaceReport | None = None

        self.memories_label = _value_label("Memories file", self)
        self.logs_label = _value_label("Logs", self)
        self.models_label = _value_label("Downloaded models", self)
        self.free_label = _value_label("Free on the disk", self)
        self.forecast_label = _value_label("Forecast", self)
        self.last_run_label = _value_label("Last clean-up", self)
        self.warning = StatusLine("Space warning", self)
        self.refresh_button = QtWidgets.QPushButton("Re&fresh", self)
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(lambda: self.refresh())
        self.updated_label = QtWidgets.QLabel(self)
        self.updated_label.setObjectName("spaceUpdated")
        self.updated_label.setEnabled(False)  # drawn as secondary text

        form = QtWidgets.QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Memories:", self.memories_label)
        form.addRow("Logs:", self.logs_label)
        form.addRow("Models:", self.models_label)
        form.addRow("Free on the disk:", self.free_label)
        form.addRow("Forecast:", self.forecast_label)
        form.addRow("Last clean-up:", self.last_run_label)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.updated_label, 1)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addLayout(buttons)

        for label in self._values():
            label.setText("…")
        self.refresh()

    def _values(self) -> list[QtWidgets.QLabel]:
        return [
            self.memories_label,
            self.logs_label,
            self.models_label,
            self.free_label,
            self.forecast_label,
            self.last_run_label,
        ]

    @property
    def busy(self) -> bool:
        return self._pending

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Waits for a measurement (it reads the store) before the store closes."""
        return self._workers.wait(timeout_ms)

    def refresh(self, settings: Settings | None = None) -> None:
        """Measures again on a worker; `settings`: the form's (e.g. a new cap), else the last."""
        if settings is not None:
            self._settings = settings
        if self._pending:
            self._again = True  # one more run when this one reports, with the newest settings
            return
        self._pending = True
        self.refresh_button.setEnabled(False)
        self.updated_label.setText("Measuring…")
        paths, chosen, services = self._services.paths, self._settings, self._services
        self._workers.run(
            "measure disk space",
            lambda: space_report(paths, chosen, services.store),
            self._measured,
            self._failed,
        )

    # -- results ------------------------------------------------------------------------
    def _measured(self, report: object) -> None:
        assert isinstance(report, SpaceReport)
        self.report = report
        self._show(report)
        self._finished()
        self.refreshed.emit(report)

    def _failed(self, text: str) -> None:
        self.updated_label.setText("")
        self.warning.say(f"The space used cannot be measured. {sentence(text)}", "error")
        self._finished()

    def _finished(self) -> None:
        self._pending = False
        self.refresh_button.setEnabled(True)
        if self._again:
            self._again = False
            self.refresh()

    def _show(self, report: SpaceReport) -> None:
        disk = report.disk
        on_disk = size_words(disk.memories_bytes)
        if report.forecast is not None and size_words(report.forecast.bytes_used) != on_disk:
            # The cap counts what the memories use; the file keeps room it reuses.
            memories = (
                f"{size_words(report.forecast.bytes_used)} in use (the file and its "
                f"write-ahead log take {on_disk} on the disk)"
            )
        else:
            memories = on_disk
        self.memories_label.setText(memories)
        self.memories_label.setToolTip(str(self._services.paths.store_file))
        self.logs_label.setText(size_words(disk.log_bytes))
        self.models_label.setText(size_words(disk.model_bytes))
        self.models_label.setToolTip(str(self._services.paths.models_dir))
        self.free_label.setText(size_words(disk.free_bytes))
        if report.forecast is not None:
            self.forecast_label.setText(forecast_words(report.forecast, self._settings))
        else:
            self.forecast_label.setText(report.problem or "Not known yet.")
        run = report.last_run
        if run is not None:
            when = when_words(run.at)
            self.last_run_label.setText(f"{when[0].upper()}{when[1:]}: {run.summary()}")
            problem = run.warning()
        else:
            self.last_run_label.setText(
                "Not run yet. MIRIX applies the retention and the space cap shortly after "
                "capture starts, then every hour."
            )
            problem = None
        if problem:
            self.warning.say(problem, "error")
        else:
            self.warning.clear()
        self.updated_label.setText(f"Measured {when_words(datetime.now().astimezone())}.")
