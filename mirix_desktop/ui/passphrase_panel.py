"""The "Your key" panel of the settings window's Data page: change the passphrase, or switch
between a passphrase and the system keyring.

It shows how the key is kept now and offers what fits: with a passphrase,
"Change passphrase" (current, new, again, a strength hint) and "Use the
system keyring"; with the keyring, "Use a passphrase instead". The re-key
runs on a worker (app/passphrase.py; crash-safe, memory/rekey.py).

Capture. The tray app's capture daemon is a child process that got the key
on stdin when it started, and a change is refused while it has the store
open. Given `capture` (the app's `DaemonSupervisor`, or anything with
`stop()`, `start()` and `set_key(bytes)`), the panel stops it before the
change and starts it again after, with the new key on success and the old
one on failure. Without it, a running daemon makes the change fail with a
message saying to stop capture first.

`rekeyed(bytes)` is emitted after a successful change, once
`services.use_key(new key)` is done and capture has been started again: the
app connects whatever else holds the key (nothing else needs it today).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from mirix_desktop.app import passphrase as key_change
from mirix_desktop.app.services import AppServices
from mirix_desktop.app.unlock import keyring_available, passphrase_problem
from mirix_desktop.errors import StoreError
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.ui.qt import Qt, QtWidgets, Signal
from mirix_desktop.ui.unlock_window import heading_label, text_label
from mirix_desktop.ui.workers import Workers

log = logging.getLogger("mirix.ui.passphrase_panel")

PASSPHRASE_TEXT = (
    "Your memories are encrypted with a key made from your passphrase. MIRIX asks for it "
    "each time it starts."
)
KEYRING_TEXT = (
    "Your memories are encrypted with a random key kept in your system keyring, which your "
    "login unlocks. No passphrase is asked."
)
NO_STORE_TEXT = "There is no store yet: its key is chosen when MIRIX first starts."
BACKUPS_TEXT = (
    "A change re-encrypts the store in place (capture pauses meanwhile). Backups made before "
    "it still open only with the old key. If you lose the passphrase, nobody can open your "
    "memories, not even MIRIX."
)
NO_KEYRING = "There is no secure system keyring in this session, so the key stays a passphrase."


class CaptureControl(Protocol):
    """What the panel needs of the app's daemon supervisor."""

    def stop(self) -> None: ...

    def start(self) -> None: ...

    def set_key(self, key: bytes) -> None: ...


class PassphrasePanel(QtWidgets.QWidget):
    """Change the passphrase, or move the key between a passphrase and the keyring."""

    rekeyed = Signal(bytes)  # the new key, after a change succeeded
    busy_changed = Signal(bool)

    def __init__(
        self,
        services: AppServices,
        parent: QtWidgets.QWidget | None = None,
        *,
        capture: CaptureControl | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._capture = capture
        self._workers = Workers(self, max_threads=1)
        self._busy = False
        self.setObjectName("passphrasePanel")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(heading_label("Your key", self))
        self.mode_label = text_label("", self)
        self.mode_label.setObjectName("keyMode")
        layout.addWidget(self.mode_label)

        # Fields: the current passphrase (passphrase mode), a new one and its repeat.
        self.fields = QtWidgets.QWidget(self)
        form = QtWidgets.QFormLayout(self.fields)
        form.setContentsMargins(0, 0, 0, 0)
        self.current = self._password_field("current", "Current passphrase")
        self.new = self._password_field("new", "New passphrase")
        self.repeat = self._password_field("repeat", "Repeat the new passphrase")
        self._current_label = QtWidgets.QLabel("&Current passphrase:", self.fields)
        self._current_label.setBuddy(self.current)
        self._new_label = QtWidgets.QLabel("&New passphrase:", self.fields)
        self._new_label.setBuddy(self.new)
        self._repeat_label = QtWidgets.QLabel("Type it &again:", self.fields)
        self._repeat_label.setBuddy(self.repeat)
        form.addRow(self._current_label, self.current)
        form.addRow(self._new_label, self.new)
        form.addRow(self._repeat_label, self.repeat)
        self.strength = text_label("", self.fields)
        self.strength.setObjectName("strength")
        form.addRow("", self.strength)
        layout.addWidget(self.fields)
        self.new.textChanged.connect(self._show_strength)
        for edit in (self.current, self.new, self.repeat):
            edit.textEdited.connect(self._clear_message)

        buttons = QtWidgets.QHBoxLayout()
        self.change_button = QtWidgets.QPushButton("&Change passphrase", self)
        self.change_button.setObjectName("changePassphrase")
        self.change_button.clicked.connect(self.change_passphrase)
        self.keyring_button = QtWidgets.QPushButton("Use the system &keyring instead", self)
        self.keyring_button.setObjectName("useKeyring")
        self.keyring_button.clicked.connect(self.use_keyring)
        self.passphrase_button = QtWidgets.QPushButton("Use a &passphrase instead", self)
        self.passphrase_button.setObjectName("usePassphrase")
        self.passphrase_button.clicked.connect(self.use_passphrase)
        for button in (self.change_button, self.keyring_button, self.passphrase_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.message = text_label("", self)
        self.message.setObjectName("message")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        layout.addWidget(text_label(BACKUPS_TEXT, self))
        layout.addStretch(1)
        self.refresh()

    # -- state ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._busy

    def mode(self) -> str:
        """ "passphrase", "keyring", or "none" (no store yet, or its key info unreadable)."""
        try:
            return key_change.current_mode(self._services.paths)
        except StoreError:
            return "none"

    def refresh(self) -> None:
        """Shows the mode in force and the actions that fit it."""
        mode = self.mode()
        has_passphrase = mode == "passphrase"
        self.mode_label.setText(
            PASSPHRASE_TEXT
            if has_passphrase
            else KEYRING_TEXT
            if mode == "keyring"
            else NO_STORE_TEXT
        )
        self.fields.setVisible(mode != "none")
        for widget in (self.current, self._current_label):
            widget.setVisible(has_passphrase)
        self.change_button.setVisible(has_passphrase)
        self.keyring_button.setVisible(has_passphrase)
        self.passphrase_button.setVisible(mode == "keyring")
        available = keyring_available()
        self.keyring_button.setEnabled(available and not self._busy)
        self.keyring_button.setToolTip("" if available else NO_KEYRING)
        self.change_button.setEnabled(not self._busy)
        self.passphrase_button.setEnabled(not self._busy)
        for edit in (self.current, self.new, self.repeat):
            edit.setEnabled(not self._busy)

    # -- the actions --------------------------------------------------------------------------
    def change_passphrase(self) -> None:
        if not self._ready(new=True, current=True):
            return
        current, new = self.current.text(), self.new.text()
        self._run(
            "Changing the passphrase…",
            lambda: key_change.change_passphrase(
                self._services, KeySource(passphrase=current), new, actor="app"
            ),
            "Passphrase changed: the old one no longer opens your memories.",
        )

    def use_keyring(self) -> None:
        if not self._ready(new=False, current=True):
            return
        current = self.current.text()
        self._run(
            "Moving the key to the system keyring…",
            lambda: key_change.move_to_keyring(
                self._services, KeySource(passphrase=current), actor="app"
            ),
            "The key is now kept in your system keyring: no passphrase is asked any more.",
        )

    def use_passphrase(self) -> None:
        if not self._ready(new=True, current=False):
            return
        new = self.new.text()
        self._run(
            "Protecting the store with your passphrase…",
            lambda: key_change.move_to_passphrase(self._services, KeySource(), new, actor="app"),
            "Your memories are now protected by your passphrase; the key left the keyring.",
        )

    def _ready(self, *, new: bool, current: bool) -> bool:
        if self._busy:
            return False
        if current and not self.current.text():
            self._say("Type your current passphrase first.", problem=True)
            self.current.setFocus()
            return False
        if new:
            problem = passphrase_problem(self.new.text(), self.repeat.text())
            if problem is not None:
                self._say(problem, problem=True)
                self.new.setFocus()
                return False
        return True

    def _run(self, doing: str, work: Callable[[], object], done_text: str) -> None:
        self._set_busy(True)
        self._say(doing)
        if self._capture is not None:
            # The daemon has the store open under the old key: it stops first.
            self._capture.stop()

        def done(result: object) -> None:
            assert isinstance(result, key_change.KeyChange)
            if self._capture is not None:
                self._capture.set_key(result.key)
                self._capture.start()
            self._set_busy(False)
            for edit in (self.current, self.new, self.repeat):
                edit.clear()
            self._say(f"{done_text} Re-encrypted in {result.seconds:.1f} s.")
            self.rekeyed.emit(result.key)

        def failed(text: str) -> None:
            if self._capture is not None:
                self._capture.start()  # still the old key: the change did not happen
            self._set_busy(False)
            self._say(text, problem=True)

        self._workers.run("key change", work, done, failed)

    def wait(self, timeout_ms: int = -1) -> bool:
        return self._workers.wait(timeout_ms)

    # -- helpers ------------------------------------------------------------------------------
    def _password_field(self, name: str, accessible: str) -> QtWidgets.QLineEdit:
        edit = QtWidgets.QLineEdit(self)
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        return edit

    def _show_strength(self, text: str) -> None:
        self.strength.setText(key_change.strength_hint(text))

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.refresh()
        self.busy_changed.emit(busy)

    def _say(self, text: str, *, problem: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("problem", problem)
        font = self.message.font()
        font.setBold(problem)
        self.message.setFont(font)

    def _clear_message(self) -> None:
        if not self._busy:
            self.message.setText("")
