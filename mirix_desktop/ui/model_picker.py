"""The local model picker of the settings window's Assistant page.

It lists the `models` catalogue (size, downloaded or not, which one is in
use), downloads one on a worker with a progress bar and a Cancel button (the
same download as `mirix-desktop models pull`: app/local_models.py), and
emits `chosen(name)` when the person picks a downloaded model; the settings
window writes it to local_model.model. Nothing here writes the config file.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from mirix_desktop.app.local_models import (
    Downloaded,
    ModelRow,
    catalogue_rows,
    download_model,
    size_text,
)
from mirix_desktop.assistant.cancel import CancelToken
from mirix_desktop.llm.catalogue import CATALOGUE, CatalogueModel
from mirix_desktop.ui.qt import QObject, Qt, QtWidgets, Signal
from mirix_desktop.ui.status_line import StatusLine
from mirix_desktop.ui.workers import Services, Workers

log = logging.getLogger("mirix.ui.model_picker")

_NAME_ROLE = Qt.ItemDataRole.UserRole
# The bar counts in thousandths: a file's size in bytes overflows its int.
_BAR_STEPS = 1000
_MB = 1_000_000

COLUMNS = ("Model", "Size", "On this computer")
# The CLI's message names the repository and file; the window names the model already.
_WHICH_FILE = re.compile(r"^cannot download \S+ \([^)]*\): ", re.IGNORECASE)


class _DownloadSignals(QObject):
    progress = Signal(object, object)  # bytes received, total bytes or None


def _megabytes(size: int) -> str:
    return size_text(round(size / _MB))


class ModelPicker(QtWidgets.QWidget):
    """The catalogue as a list; Download / Cancel / Use this model below it."""

    chosen = Signal(str)  # a downloaded catalogue model the person picked
    downloaded = Signal(str)  # a model whose download just finished

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._workers = Workers(self, max_threads=2)
        self._rows: dict[str, ModelRow] = {}
        self._current = services.settings.local_model.model.strip()
        self._downloading: str | None = None
        self._cancel: CancelToken | None = None
        self._signals: _DownloadSignals | None = None
        self._refresh_pending = False
        self._percent: int | None = None

        intro = QtWidgets.QLabel(
            "Models that answer on this computer; nothing you ask leaves it. "
            "Bigger models answer better and need more memory."
        )
        intro.setWordWrap(True)
        self.folder_label = QtWidgets.QLabel(f"Kept in {self.models_dir}")
        self.folder_label.setObjectName("modelsDir")
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = QtWidgets.QTreeWidget(self)
        self.table.setObjectName("modelTable")
        self.table.setAccessibleName("Local models")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAllColumnsShowFocus(True)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        for entry in CATALOGUE:
            item = QtWidgets.QTreeWidgetItem(self.table, [entry.name, size_text(entry.size_mb), ""])
            item.setData(0, _NAME_ROLE, entry.name)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(0, entry.description)
        header = self.table.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        # As tall as the catalogue: no empty rows below it, no scrolling.
        row_height = self.table.sizeHintForRow(0) or self.fontMetrics().lineSpacing() * 3 // 2
        self.table.setFixedHeight(
            row_height * len(CATALOGUE)
            + header.sizeHint().height()
            + 2 * self.table.frameWidth()
            + 2
        )
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.description = QtWidgets.QLabel(self)
        self.description.setObjectName("modelDescription")
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.PlainText)

        self.progress = QtWidgets.QProgressBar(self)
        self.progress.setObjectName("downloadProgress")
        self.progress.setAccessibleName("Download progress")
        self.progress.setRange(0, _BAR_STEPS)
        self.progress.hide()
        self.status = StatusLine("Model status", self)

        self.download_button = QtWidgets.QPushButton("&Download", self)
        self.cancel_button = QtWidgets.QPushButton("&Cancel download", self)
        self.use_button = QtWidgets.QPushButton("&Use this model", self)
        for button in (self.download_button, self.cancel_button, self.use_button):
            button.setAutoDefault(False)
        self.cancel_button.hide()
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(self.description)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.folder_label)

        self.table.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.table.itemDoubleClicked.connect(lambda *_: self._use_selected())
        self.download_button.clicked.connect(self._download_selected)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.use_button.clicked.connect(self._use_selected)
        self._select(self._current_entry() or CATALOGUE[0])
        self._show_rows()
        self.refresh()

    # -- what the settings window uses ----------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self._services.paths.models_dir

    @property
    def current(self) -> str:
        return self._current

    @property
    def downloading(self) -> str | None:
        return self._downloading

    def set_current(self, model: str) -> None:
        """The local_model.model in the form (a catalogue name, a file or a path)."""
        self._current = model.strip()
        self._show_rows()

    def refresh(self) -> None:
        """Looks again (on a worker) at which models are downloaded."""
        if self._refresh_pending:
            return
        self._refresh_pending = True
        models_dir = self.models_dir
        self._workers.run(
            "list local models",
            lambda: catalogue_rows(models_dir),
            self._listed,
            self._list_failed,
        )

    def select(self, name: str) -> None:
        entry = next((e for e in CATALOGUE if e.name == name), None)
        if entry is None:
            raise ValueError(f"no catalogue model {name!r}")
        self._select(entry)

    def selected(self) -> str | None:
        item = self.table.currentItem()
        return str(item.data(0, _NAME_ROLE)) if item is not None else None

    def download(self, name: str) -> None:
        """Starts downloading `name` on a worker (one download at a time)."""
        if self._downloading is not None:
            return
        self._downloading = name
        token = CancelToken()
        signals = _DownloadSignals()
        signals.progress.connect(self._progressed)
        self._cancel, self._signals = token, signals
        # If the widget goes while a download runs, the pool waits for the job:
        # cancelling first makes that wait end at the next chunk.
        self.destroyed.connect(lambda *_: token.cancel())
        models_dir = self.models_dir
        self.progress.setRange(0, _BAR_STEPS)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.show()
        self.status.say(f"Connecting to download {name}…")
        self._workers.run(
            f"download {name}",
            lambda: download_model(
                name, models_dir, on_progress=signals.progress.emit, cancel=token
            ),
            self._download_done,
            self._download_failed,
        )
        self._show_rows()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancels a download and waits for the workers; True if they all ended in time."""
        if self._cancel is not None:
            self._cancel.cancel()
        return self._workers.wait(timeout_ms)

    def cancel_download(self) -> None:
        if self._cancel is None or self._downloading is None:
            return
        self._cancel.cancel()
        self.cancel_button.setEnabled(False)
        self.status.say(f"Cancelling the download of {self._downloading}…")

    # -- results from the workers ---------------------------------------------------------
    def _listed(self, rows: object) -> None:
        self._refresh_pending = False
        assert isinstance(rows, list)
        self._rows = {row.name: row for row in rows}
        self._show_rows()

    def _list_failed(self, text: str) -> None:
        self._refresh_pending = False
        self.status.say(f"Cannot look in {self.models_dir}: {text}", "error")

    def _progressed(self, received: object, total: object) -> None:
        if self._downloading is None or not isinstance(received, int):
            return
        if isinstance(total, int) and total > 0:
            self.progress.setRange(0, _BAR_STEPS)
            self.progress.setValue(min(_BAR_STEPS, received * _BAR_STEPS // total))
            self._percent = min(100, received * 100 // total)
            done = f"{_megabytes(received)} of {_megabytes(total)}"
        else:
            self.progress.setRange(0, 0)  # the Hub did not say the size: busy
            done = _megabytes(received)
        if self._cancel is not None and not self._cancel.cancelled:
            self.status.say(f"Downloading {self._downloading}: {done}…")
        self._show_rows()

    def _download_done(self, result: object) -> None:
        assert isinstance(result, Downloaded)
        self._end_download()
        if result.already_there:
            text = f"{result.name} was already downloaded; its checksum matches the Hub's."
        else:
            text = f"Downloaded {result.name}; its checksum matches the Hub's."
        if not self._is_current(result.name):
            text += " Choose “Use this model” to answer with it."
        self.status.say(text, "ok")
        self.select(result.name)
        self.refresh()
        self.downloaded.emit(result.name)

    def _download_failed(self, text: str) -> None:
        name = self._downloading
        cancelled = self._cancel is not None and self._cancel.cancelled
        self._end_download()
        if cancelled:
            self.status.say(f"The download of {name} was cancelled; nothing of it was kept.")
        else:
            problem = _WHICH_FILE.sub("", text).strip()
            if not problem.endswith((".", ")")):
                problem += "."
            if problem.lower().startswith("network error"):
                problem += " Check that this computer is online, then try again."
            self.status.say(f"Could not download {name}: {problem}", "error")
        self.refresh()

    def _end_download(self) -> None:
        self._downloading = None
        self._percent = None
        self._cancel = None
        self._signals = None
        self.progress.hide()
        self._show_rows()

    # -- showing --------------------------------------------------------------------------
    def _current_entry(self) -> CatalogueModel | None:
        return next((entry for entry in CATALOGUE if self._is_current(entry.name)), None)

    def _is_current(self, name: str) -> bool:
        current = self._current.lower()
        if not current:
            return False
        entry = next((e for e in CATALOGUE if e.name == name), None)
        if entry is None:
            return False
        return current == entry.name or Path(self._current).name == entry.filename

    def _state_text(self, name: str) -> str:
        if name == self._downloading:
            return "Downloading…" if self._percent is None else f"Downloading: {self._percent}%"
        row = self._rows.get(name)
        if row is None:
            return "…"
        if self._is_current(name):
            return "In use" if row.downloaded else "In use, but not downloaded"
        return "Downloaded" if row.downloaded else "Not downloaded"

    def _show_rows(self) -> None:
        for index in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(index)
            if item is None:
                continue
            name = str(item.data(0, _NAME_ROLE))
            item.setText(2, self._state_text(name))
            font = item.font(0)
            font.setBold(self._is_current(name))
            for column in range(len(COLUMNS)):
                item.setFont(column, font)
        self._update_buttons()

    def _select(self, entry: CatalogueModel) -> None:
        for index in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(index)
            if item is not None and item.data(0, _NAME_ROLE) == entry.name:
                self.table.setCurrentItem(item)
                return

    def _update_buttons(self) -> None:
        name = self.selected()
        row = self._rows.get(name) if name else None
        entry = next((e for e in CATALOGUE if e.name == name), None)
        self.description.setText(entry.description if entry is not None else "")
        busy = self._downloading is not None
        downloaded = row is not None and row.downloaded
        self.download_button.setVisible(not busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy and not (self._cancel and self._cancel.cancelled))
        self.download_button.setEnabled(name is not None and row is not None and not downloaded)
        self.download_button.setText("&Download" if not downloaded else "Downloaded")
        self.use_button.setEnabled(downloaded and name is not None and not self._is_current(name))

    def _download_selected(self) -> None:
        name = self.selected()
        if name is not None:
            self.download(name)

    def _use_selected(self) -> None:
        name = self.selected()
        row = self._rows.get(name) if name else None
        if name is None or row is None or not row.downloaded or self._is_current(name):
            return
        self._current = name
        self._show_rows()
        self.status.say(f"Chose {name} to answer on this computer.", "ok")
        self.chosen.emit(name)
