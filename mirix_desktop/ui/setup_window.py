"""The "MIRIX — Setup" dialog shown at first run, before anything is captured.

One scrollable page says in plain words what is captured, what never is,
where it is kept and how it is encrypted; makes the store key (in the OS
keyring when a secure one exists, otherwise from a passphrase typed twice,
with the warning that a lost passphrase loses the memories); shows the
shipped exclusions and lets the person add apps open right now or their own
words. "Start capturing" and "Not now" both create the key (Not now leaves
capture off); closing the window creates nothing.
"""

from __future__ import annotations

import html
import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from mirix_desktop.app.config_writer import add_exclusions
from mirix_desktop.app.unlock import create_key, keyring_available, passphrase_problem
from mirix_desktop.capture.session import WindowInfo, open_probe
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError
from mirix_desktop.paths import AppPaths
from mirix_desktop.privacy.exclusions import (
    DEFAULT_EXCLUSION_REASONS,
    PrivacyFilter,
    PrivacyRule,
    RuleField,
)
from mirix_desktop.ui.qt import Qt, QtGui, QtWidgets
from mirix_desktop.ui.sizing import text_size
from mirix_desktop.ui.unlock_window import (
    BackgroundCall,
    heading_label,
    icon_row,
    path_label,
    text_label,
)

log = logging.getLogger("mirix.ui.setup")

_RULE_ROLE = Qt.ItemDataRole.UserRole
_FIELD_CHOICES: tuple[tuple[RuleField, str], ...] = (
    ("app", "App name"),
    ("title", "Window title"),
    ("url", "Web address"),
)
_FIELD_WORDS: dict[RuleField, str] = {
    "app": "Apps named",
    "title": "Windows whose title contains",
    "url": "Web addresses containing",
}


@dataclass(frozen=True)
class SetupResult:
    """What the person chose: the new store key, whether to capture now, added exclusions."""

    key: bytes = field(repr=False)
    start_capture: bool
    exclusions: list[PrivacyRule]


def open_windows() -> list[WindowInfo]:
    """The windows open right now; empty when the desktop cannot be asked."""
    try:
        probe = open_probe()
    except (KnownError, OSError, ImportError) as exc:
        log.info("cannot list the open windows: %s", exc)
        return []
    try:
        return probe.windows()
    except Exception as exc:  # noqa: BLE001 - a helper list; setup works without it
        log.info("cannot list the open windows: %s", exc)
        return []
    finally:
        probe.close()


def describe_rule(rule: PrivacyRule) -> str:
    """A user's rule in words: 'Windows whose title contains “bank”'."""
    if rule.regex:
        return f"{_FIELD_WORDS[rule.field]} the pattern /{rule.pattern}/"
    return f"{_FIELD_WORDS[rule.field]} “{rule.pattern}”"


class _EntryField(QtWidgets.QLineEdit):
    """A line edit whose Enter adds its text instead of pressing the dialog's default button."""

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


class SetupWindow(QtWidgets.QDialog):
    """First run: explains, makes the key, records exclusions; `result_value()` after it closes."""

    def __init__(
        self,
        paths: AppPaths,
        settings: Settings | None = None,
        *,
        windows: Callable[[], list[WindowInfo]] = open_windows,
        keyring: bool | None = None,
        create: Callable[[str | None], bytes] | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("MIRIX — Setup")
        self._paths = paths
        self._settings = settings or Settings()
        self._use_keyring = keyring_available() if keyring is None else keyring
        self._create = create or partial(create_key, paths)
        self._outcome: SetupResult | None = None
        self._busy = False
        self._start_capture = False
        self._chosen: list[PrivacyRule] = []

        page = QtWidgets.QWidget()
        self._page_layout = QtWidgets.QVBoxLayout(page)
        self._build_intro(page)
        self._build_exclusions(page, self._safe_windows(windows))
        self._build_storage(page)
        self._build_key(page)
        self._section("Ready?", page)
        self._text(
            "“Start capturing” creates your encrypted store and starts capture now. "
            "“Not now” creates it with capture off: start it later from the MIRIX tray menu.",
            page,
        )
        self._page_layout.addStretch(1)

        scroll = QtWidgets.QScrollArea(self)
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._scroll = scroll

        self._status = text_label("", self)
        self._status_row, self._status_icon = icon_row(
            QtWidgets.QStyle.StandardPixmap.SP_MessageBoxWarning, self._status, self
        )
        self._status_row.hide()
        self._buttons = QtWidgets.QDialogButtonBox(self)
        self._start_button = self._buttons.addButton(
            "&Start capturing", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole
        )
        self._later_button = self._buttons.addButton(
            "&Not now", QtWidgets.QDialogButtonBox.ButtonRole.RejectRole
        )
        for button in (self._start_button, self._later_button):
            button.setAutoDefault(False)
        self._start_button.setDefault(True)
        self._start_button.setToolTip("Create the encrypted store and start capturing now")
        self._later_button.setToolTip("Create the encrypted store, but leave capture off")
        self._start_button.clicked.connect(partial(self._finish, True))
        self._later_button.clicked.connect(partial(self._finish, False))

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self._status_row)
        layout.addWidget(self._buttons)

        self._worker = BackgroundCall(self)
        self._worker.succeeded.connect(self._created)
        self._worker.failed.connect(self._creation_failed)

        self._chain_tab_order()
        self._size_to_screen()
        # The first control, top of the page: the person reads down from there.
        next(w for w in self._tab_chain() if not w.isHidden()).setFocus()

    # -- public ------------------------------------------------------------------
    def result_value(self) -> SetupResult | None:
        """What the person chose, once they clicked Start capturing or Not now; else None.

        Not named `result()`: that is QDialog's int result code, which stays
        as Qt defines it.
        """
        return self._outcome

    def reject(self) -> None:
        """Close / Esc / Not-yet: creates nothing; ignored while the key is being made."""
        # Closing mid-creation would leave a key made for a setup that says it was cancelled.
        if not self._busy:
            super().reject()

    def chosen_exclusions(self) -> list[PrivacyRule]:
        """The exclusions ticked right now, in list order."""
        rules: list[PrivacyRule] = []
        for row in range(self._apps.count()):
            item = self._apps.item(row)
            rule = item.data(_RULE_ROLE)
            if item.checkState() == Qt.CheckState.Checked and isinstance(rule, PrivacyRule):
                rules.append(rule)
        return rules

    def add_exclusion(self, rule_field: RuleField, pattern: str) -> PrivacyRule | None:
        """Adds a ticked rule to the list, as typed; None (and says why) if it is empty."""
        pattern = pattern.strip()
        if not pattern:
            self._say("Type an app name, a word of a window title or a web address to add.")
            return None
        rule = PrivacyRule(field=rule_field, pattern=pattern)
        for row in range(self._apps.count()):
            if self._apps.item(row).data(_RULE_ROLE) == rule:
                self._apps.item(row).setCheckState(Qt.CheckState.Checked)
                return rule
        self._add_item(describe_rule(rule), rule, checked=True)
        self._no_apps.hide()
        self._apps.show()
        return rule

    # -- building ----------------------------------------------------------------
    def _section(self, title: str, parent: QtWidgets.QWidget) -> None:
        if self._page_layout.count():
            self._page_layout.addSpacing(self.fontMetrics().height() // 2)
        self._page_layout.addWidget(heading_label(title, parent))

    def _text(self, text: str, parent: QtWidgets.QWidget) -> QtWidgets.QLabel:
        label = text_label(text, parent)
        self._page_layout.addWidget(label)
        return label

    def _bullets(self, items: Sequence[str], parent: QtWidgets.QWidget) -> QtWidgets.QLabel:
        """A bulleted list whose wrapped lines stay indented under their item."""
        label = text_label("", parent)
        label.setTextFormat(Qt.TextFormat.RichText)
        rows = "".join(f"<li>{html.escape(item)}</li>" for item in items)
        label.setText(f'<ul style="margin-left: 0; -qt-list-indent: 1;">{rows}</ul>')
        self._page_layout.addWidget(label)
        return label

    def _build_intro(self, page: QtWidgets.QWidget) -> None:
        interval = self._settings.capture.interval_s
        every = f"{interval:g} seconds" if interval != 1 else "second"
        self._section("Welcome to MIRIX", page)
        self._text(
            "MIRIX remembers what you see on your screen so that you can ask about it later. "
            "Before it starts, here is what it does.",
            page,
        )
        self._section("What is captured", page)
        self._bullets(
            [
                f"While capture is on, MIRIX looks at every monitor every {every} and reads "
                "the text on it with OCR, here on this computer. Nothing is sent anywhere.",
                "Never captured: password managers and private or incognito browser windows "
                "(the list is below, and you can add to it).",
                "Secrets in the text — card numbers, API keys and tokens, passwords — are "
                "replaced by [REDACTED] before anything is saved.",
                "You can pause capture at any time from the MIRIX tray icon.",
            ],
            page,
        )

    def _build_storage(self, page: QtWidgets.QWidget) -> None:
        self._section("Where it is kept", page)
        self._text("Your memories are kept in one file on this computer:", page)
        path = path_label(self._paths.store_file, page)
        path.setAccessibleName("Store file")
        self._page_layout.addWidget(path)
        self._text(
            "The file is encrypted with SQLCipher (AES-256). Without its key nobody can read "
            "it — not other programs, not someone who copies the file.",
            page,
        )

    def _build_key(self, page: QtWidgets.QWidget) -> None:
        self._section("Your key", page)
        self._keyring_text = self._text(
            "A random key will be made and kept in your system keyring, which your login "
            "unlocks. You will not need to type a passphrase.",
            page,
        )
        self._passphrase_box = QtWidgets.QWidget(page)
        box = QtWidgets.QVBoxLayout(self._passphrase_box)
        box.setContentsMargins(0, 0, 0, 0)
        self._passphrase_intro = text_label(
            "This computer has no secure system keyring, so the key is made from a passphrase "
            "you choose. MIRIX asks for it each time it starts.",
            self._passphrase_box,
        )
        box.addWidget(self._passphrase_intro)
        self._passphrase = QtWidgets.QLineEdit(self._passphrase_box)
        self._repeat = QtWidgets.QLineEdit(self._passphrase_box)
        self._passphrase.setObjectName("passphrase")
        self._repeat.setObjectName("repeat")
        for edit, name in ((self._passphrase, "Passphrase"), (self._repeat, "Repeat passphrase")):
            edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
            edit.setAccessibleName(name)
            edit.textEdited.connect(self._clear_passphrase_problem)
        form = QtWidgets.QFormLayout()
        first_label = QtWidgets.QLabel("&Passphrase:", self._passphrase_box)
        first_label.setBuddy(self._passphrase)
        again_label = QtWidgets.QLabel("Type it &again:", self._passphrase_box)
        again_label.setBuddy(self._repeat)
        form.addRow(first_label, self._passphrase)
        form.addRow(again_label, self._repeat)
        box.addLayout(form)
        self._passphrase_problem = text_label("", self._passphrase_box)
        self._passphrase_problem.setAccessibleName("Passphrase problem")
        problem_row, _ = icon_row(
            QtWidgets.QStyle.StandardPixmap.SP_MessageBoxWarning,
            self._passphrase_problem,
            self._passphrase_box,
        )
        self._passphrase_problem_row = problem_row
        problem_row.hide()
        box.addWidget(problem_row)
        warning = text_label(
            "If you lose this passphrase, your memories are lost for good: nobody can open them "
            "without it, not even MIRIX. Write it down and keep it somewhere safe.",
            self._passphrase_box,
        )
        bold = warning.font()
        bold.setBold(True)
        warning.setFont(bold)
        warning_row, _ = icon_row(
            QtWidgets.QStyle.StandardPixmap.SP_MessageBoxWarning, warning, self._passphrase_box
        )
        box.addWidget(warning_row)
        self._page_layout.addWidget(self._passphrase_box)
        self._show_key_mode()

    def _build_exclusions(self, page: QtWidgets.QWidget, windows: Sequence[WindowInfo]) -> None:
        privacy = self._settings.privacy
        self._section("Never captured", page)
        if privacy.default_exclusions:
            self._text("MIRIX never captures these windows:", page)
            self._bullets(shipped_in_words(DEFAULT_EXCLUSION_REASONS), page)
            self._text(
                "Chrome, Chromium and Brave do not mark incognito windows in their title on "
                "Linux and Windows, so those can be captured: leave the browser out below if "
                "you use it privately.",
                page,
            )
        else:
            self._text(
                "The shipped list (password managers, private browser windows) is turned off "
                "in your config file.",
                page,
            )
        if privacy.exclude:
            self._text("Your own rules from the config file:", page)
            self._bullets([describe_rule(rule) for rule in privacy.exclude], page)

        self._section("Also leave out", page)
        self._text("Apps open right now — tick the ones MIRIX should never capture:", page)
        self._apps = QtWidgets.QListWidget(page)
        self._apps.setAccessibleName("Apps to leave out")
        self._apps.setObjectName("apps")
        self._apps.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        # Space ticks the current row (the item delegate does it), so no extra key binding.
        self._no_apps = self._text("(No other apps have windows open right now.)", page)
        already = PrivacyFilter(privacy.exclude, use_defaults=privacy.default_exclusions)
        seen: set[str] = set()
        for window in windows:
            app = (window.app or "").strip()
            if not app or app.casefold() in seen or (window.title or "").startswith("MIRIX"):
                continue
            seen.add(app.casefold())
            if already.excluded(app, None, None) is not None:
                continue
            item = self._add_item(app, PrivacyRule(field="app", pattern=app), checked=False)
            if window.title:
                item.setToolTip(f"Open now: {window.title}")
        self._page_layout.addWidget(self._apps)
        self._apps.setVisible(self._apps.count() > 0)
        self._no_apps.setVisible(self._apps.count() == 0)
        row_height = self._apps.sizeHintForRow(0)
        if row_height <= 0:
            row_height = self.fontMetrics().lineSpacing() * 3 // 2
        # Room for the open apps and one added rule, within reason.
        rows = max(3, min(self._apps.count() + 1, 6))
        frame = 2 * self._apps.frameWidth()
        self._apps.setFixedHeight(row_height * rows + frame)

        self._text("Something else — an app, a word of a window title, or a web address:", page)
        row = QtWidgets.QHBoxLayout()
        self._field = QtWidgets.QComboBox(page)
        self._field.setAccessibleName("Leave out by")
        self._field.setObjectName("exclusion_field")
        for value, label in _FIELD_CHOICES:
            self._field.addItem(label, value)
        self._pattern = _EntryField(page)
        self._pattern.setAccessibleName("Words to leave out")
        self._pattern.setObjectName("exclusion_pattern")
        self._pattern.setPlaceholderText("e.g. bank, Signal, mail.example.com")
        self._pattern.returnPressed.connect(self._add_typed)
        self._add_button = QtWidgets.QPushButton("A&dd", page)
        self._add_button.setAutoDefault(False)
        self._add_button.clicked.connect(self._add_typed)
        row.addWidget(self._field)
        row.addWidget(self._pattern, 1)
        row.addWidget(self._add_button)
        self._page_layout.addLayout(row)

    def _add_item(
        self, text: str, rule: PrivacyRule, *, checked: bool
    ) -> QtWidgets.QListWidgetItem:
        item = QtWidgets.QListWidgetItem(text, self._apps)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
        )
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        item.setData(_RULE_ROLE, rule)
        return item

    def _tab_chain(self) -> list[QtWidgets.QWidget]:
        """The controls in page order, top to bottom, then the buttons."""
        chain: list[QtWidgets.QWidget] = [self._apps, self._field, self._pattern, self._add_button]
        if not self._use_keyring:
            chain += [self._passphrase, self._repeat]
        return [*chain, self._start_button, self._later_button]

    def _chain_tab_order(self) -> None:
        chain = self._tab_chain()
        for before, after in itertools.pairwise(chain):
            self.setTabOrder(before, after)

    def _size_to_screen(self) -> None:
        size = text_size(self, 76, 40)
        self.setMinimumWidth(min(size.width(), self.fontMetrics().averageCharWidth() * 50))
        self.resize(size)

    def _show_key_mode(self) -> None:
        self._keyring_text.setVisible(self._use_keyring)
        self._passphrase_box.setVisible(not self._use_keyring)

    @staticmethod
    def _safe_windows(windows: Callable[[], list[WindowInfo]]) -> list[WindowInfo]:
        try:
            return list(windows())
        except Exception as exc:  # noqa: BLE001 - a helper list; setup works without it
            log.info("cannot list the open windows: %s", exc)
            return []

    # -- actions -----------------------------------------------------------------
    def _add_typed(self) -> None:
        rule_field = self._field.currentData()
        if self.add_exclusion(rule_field, self._pattern.text()) is not None:
            self._pattern.clear()
            self._status_row.hide()

    def _clear_passphrase_problem(self) -> None:
        self._passphrase_problem_row.hide()

    def _say(self, text: str, *, warning: bool = True) -> None:
        self._status.setText(text)
        self._status_icon.setVisible(warning)
        self._status_row.show()

    def _finish(self, start_capture: bool) -> None:
        if self._busy:
            return
        passphrase: str | None = None
        if not self._use_keyring:
            problem = passphrase_problem(self._passphrase.text(), self._repeat.text())
            if problem is not None:
                self._passphrase_problem.setText(problem)
                self._passphrase_problem_row.show()
                self._scroll.ensureWidgetVisible(self._passphrase_box)
                self._passphrase.setFocus()
                self._passphrase.selectAll()
                return
            passphrase = self._passphrase.text()
        self._chosen = self.chosen_exclusions()
        if self._chosen:
            try:
                add_exclusions(self._paths.config_file, self._chosen)
            except KnownError as exc:
                self._say(f"Your exclusions could not be saved, so nothing was created. {exc}")
                return
        self._busy = True
        self._start_capture = start_capture
        self._set_enabled(False)
        self._say("Creating your encrypted store…", warning=False)
        self._worker.start(partial(self._create, passphrase))

    def _created(self, key: object) -> None:
        assert isinstance(key, bytes)
        self._busy = False
        self._repeat.clear()
        self._passphrase.clear()
        self._outcome = SetupResult(
            key=key, start_capture=self._start_capture, exclusions=list(self._chosen)
        )
        self.accept()

    def _creation_failed(self, error: object) -> None:
        self._busy = False
        self._set_enabled(True)
        if self._use_keyring:
            # The keyring may refuse (locked, dismissed prompt): a passphrase still works.
            self._use_keyring = False
            self._show_key_mode()
            self._chain_tab_order()
            self._passphrase_intro.setText(
                f"The system keyring did not keep the key ({error}). Choose a passphrase "
                "instead; MIRIX asks for it each time it starts."
            )
            self._passphrase.setFocus()
            self._scroll.ensureWidgetVisible(self._passphrase_box)
            self._status_row.hide()
            return
        if not isinstance(error, KnownError) and isinstance(error, BaseException):
            log.error("creating the store key failed unexpectedly", exc_info=error)
        self._say(f"The store key could not be created: {error}")

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self._scroll, self._start_button, self._later_button):
            widget.setEnabled(enabled)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def shipped_in_words(labelled: Sequence[tuple[PrivacyRule, str]]) -> list[str]:
    """The shipped rules' reasons, those of one kind on one line.

    "password manager (KeePassXC)", "password manager (1Password)" become
    "Password manager: KeePassXC, 1Password": eleven rules read as three lines.
    """
    order: list[str] = []
    groups: dict[str, list[str]] = {}
    for _, reason in labelled:
        match = re.fullmatch(r"(.+?) \((.+)\)", reason)
        kind, which = match.groups() if match else (reason, None)
        if kind not in groups:
            groups[kind] = []
            order.append(kind)
        if which:
            groups[kind].append(which)
    return [
        _capitalised(kind) + (f": {', '.join(groups[kind])}" if groups[kind] else "")
        for kind in order
    ]
