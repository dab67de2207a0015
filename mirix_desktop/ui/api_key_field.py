"""The API key of the remote model server, as the settings window's Assistant page shows it.

The key lives in the secure OS keyring, one entry per server (llm/api_key.py),
never in the config file. This field says whether one is kept for the
server the form names (never the key itself), stores a new one typed with a
password echo, and removes it. Without a secure keyring it says so and
points to the environment variable `openai.api_key_env` names. Keyring calls
run on a worker: a locked keyring may wait for the person to unlock it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from mirix_desktop.llm.api_key import api_key_stored, delete_api_key, store_api_key
from mirix_desktop.ui.qt import Qt, QtWidgets, Signal
from mirix_desktop.ui.status_line import StatusLine, sentence
from mirix_desktop.ui.workers import Services, Workers

log = logging.getLogger("mirix.ui.api_key")


@dataclass(frozen=True)
class _Looked:
    base_url: str
    stored: bool | None  # None: no secure keyring


class ApiKeyField(QtWidgets.QWidget):
    """'A key is kept in the system keyring' + a password field with Save key / Remove key."""

    key_changed = Signal(bool)  # after a save (True) or a removal (False)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._workers = Workers(self, max_threads=1)
        remote = services.settings.openai
        self._base_url = remote.base_url
        self._env = remote.api_key_env
        self._stored: bool | None = None
        self._busy = False

        self.state_label = QtWidgets.QLabel(self)
        self.state_label.setObjectName("apiKeyState")
        self.state_label.setWordWrap(True)
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.key_edit = QtWidgets.QLineEdit(self)
        self.key_edit.setObjectName("apiKey")
        self.key_edit.setAccessibleName("New API key")
        self.key_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste a new key here")
        self.key_edit.textChanged.connect(lambda _text: self._update_buttons())
        self.key_edit.returnPressed.connect(self.save)
        self.save_button = QtWidgets.QPushButton("&Save key", self)
        self.clear_button = QtWidgets.QPushButton("&Remove key", self)
        for button in (self.save_button, self.clear_button):
            button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        self.clear_button.clicked.connect(self.clear)
        self.env_label = QtWidgets.QLabel(self)
        self.env_label.setObjectName("apiKeyEnvironment")
        self.env_label.setWordWrap(True)
        self.env_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status = StatusLine("API key status", self)

        self._entry = QtWidgets.QWidget(self)
        row = QtWidgets.QHBoxLayout(self._entry)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.key_edit, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.clear_button)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state_label)
        layout.addWidget(self._entry)
        layout.addWidget(self.env_label)
        layout.addWidget(self.status)
        self.refresh()

    # -- what the settings window uses ----------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def stored(self) -> bool | None:
        """Whether a key is kept for the server; None: no secure keyring (or not known yet)."""
        return self._stored

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Waits for a keyring call still running; True if it ended in time."""
        return self._workers.wait(timeout_ms)

    def set_server(self, base_url: str, api_key_env: str | None = None) -> None:
        """Follows the form: the key shown is the one of this server."""
        changed = base_url.rstrip("/") != self._base_url.rstrip("/")
        self._base_url = base_url
        if api_key_env:
            self._env = api_key_env
        if changed:
            self.status.clear()
            self.refresh()
        else:
            self._show()

    def refresh(self) -> None:
        """Asks the keyring (on a worker) whether it holds a key for the server."""
        self._busy = True
        self._update_buttons()
        base_url = self._base_url
        self.state_label.setText(f"Looking in the system keyring for a key for {base_url}…")
        self._workers.run(
            "look up the API key",
            lambda: _Looked(base_url, api_key_stored(base_url)),
            self._looked,
            self._failed,
        )

    def save(self) -> None:
        key = self.key_edit.text().strip()
        if not key or self._busy or self._stored is None:
            return
        base_url = self._base_url
        self._busy = True
        self._update_buttons()
        self.status.say("Saving the key in the system keyring…")
        self._workers.run(
            "store the API key",
            lambda: _stored_then_looked(base_url, key),
            self._saved,
            self._failed,
        )

    def clear(self) -> None:
        if self._busy or not self._stored:
            return
        base_url = self._base_url
        self._busy = True
        self._update_buttons()
        self.status.say("Removing the key from the system keyring…")
        self._workers.run(
            "remove the API key",
            lambda: _removed_then_looked(base_url),
            self._removed,
            self._failed,
        )

    # -- results ------------------------------------------------------------------------
    def _looked(self, looked: object) -> None:
        assert isinstance(looked, _Looked)
        if looked.base_url != self._base_url:
            return  # the form moved on to another server meanwhile
        self._busy = False
        self._stored = looked.stored
        self._show()

    def _saved(self, looked: object) -> None:
        self.key_edit.clear()
        self._looked(looked)
        self.status.say("The key is saved in the system keyring.", "ok")
        self.key_changed.emit(True)

    def _removed(self, looked: object) -> None:
        self._looked(looked)
        self.status.say("The key is removed from the system keyring.", "ok")
        self.key_changed.emit(False)

    def _failed(self, text: str) -> None:
        self._busy = False
        self.status.say(sentence(text), "error")
        self._show()

    # -- showing --------------------------------------------------------------------------
    def _show(self) -> None:
        host = self._base_url
        env_set = bool(os.environ.get(self._env))
        if self._stored is None:
            self.state_label.setText(
                "This computer has no secure system keyring, so MIRIX cannot keep an API key: "
                "it never writes one to a file."
            )
            where = "is set" if env_set else "is not set"
            self.env_label.setText(
                f"Put the key for {host} in the environment variable {self._env} "
                f"(the setting openai.api_key_env names it) before MIRIX starts; it {where} now."
            )
        else:
            if self._stored:
                self.state_label.setText(f"A key for {host} is kept in the system keyring.")
            else:
                self.state_label.setText(f"No key for {host} is kept in the system keyring.")
            if env_set and not self._stored:
                self.env_label.setText(
                    f"The environment variable {self._env} is set: its key is used."
                )
            elif env_set:
                self.env_label.setText(
                    f"The environment variable {self._env} is set too; the keyring's key "
                    "comes first."
                )
            elif not self._stored:
                self.env_label.setText(
                    f"A server that needs no key (a local one) works without one; the "
                    f"environment variable {self._env} can hold one instead."
                )
            else:
                self.env_label.clear()
        self.env_label.setVisible(bool(self.env_label.text()))
        self._entry.setVisible(self._stored is not None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = not self._busy and self._stored is not None
        self.key_edit.setEnabled(ready)
        self.save_button.setEnabled(ready and bool(self.key_edit.text().strip()))
        self.save_button.setText("&Replace key" if self._stored else "&Save key")
        self.clear_button.setEnabled(ready and bool(self._stored))


def _stored_then_looked(base_url: str, key: str) -> _Looked:
    store_api_key(base_url, key)
    return _Looked(base_url, api_key_stored(base_url))


def _removed_then_looked(base_url: str) -> _Looked:
    delete_api_key(base_url)
    return _Looked(base_url, api_key_stored(base_url))
