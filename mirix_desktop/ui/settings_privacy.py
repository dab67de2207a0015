"""The Privacy page's exclusion editor and pause buttons.

Rules (`privacy.exclude`) are added from a window open right now (its app
or its title) or typed: app, title or web address; a plain piece of text
(case-insensitive) or a regular expression. A rule is checked by the same
pydantic model the app loads (`PrivacyRule`): a regular expression that
does not compile is refused with the reason and never added. The test box
lists the windows open now that the rule being typed would leave out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from pydantic import ValidationError

from mirix_desktop.app.settings_model import plain_words
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.pipeline.control import ControlFile
from mirix_desktop.privacy.exclusions import PrivacyFilter, PrivacyRule, RuleField
from mirix_desktop.ui.qt import Qt, QtWidgets, Signal

log = logging.getLogger("mirix.ui.settings")

FIELD_CHOICES: tuple[tuple[RuleField, str], ...] = (
    ("app", "App name"),
    ("title", "Window title"),
    ("url", "Web address"),
)
_WORDS: dict[RuleField, str] = {
    "app": "Apps whose name",
    "title": "Windows whose title",
    "url": "Web addresses that",
}
_RULE_ROLE = Qt.ItemDataRole.UserRole


def rule_in_words(rule: PrivacyRule) -> str:
    """'Windows whose title contains “bank”', 'Apps whose name matches /^sig/'."""
    if rule.regex:
        return f"{_WORDS[rule.field]} matches the pattern /{rule.pattern}/"
    verb = "contain" if rule.field == "url" else "contains"
    return f"{_WORDS[rule.field]} {verb} “{rule.pattern}”"


def make_rule(field: RuleField, pattern: str, regex: bool) -> tuple[PrivacyRule | None, str]:
    """The rule, or None and the reason it is refused (an empty or invalid pattern)."""
    try:
        return PrivacyRule(field=field, pattern=pattern, regex=regex), ""
    except ValidationError as exc:
        return None, "; ".join(plain_words(error) for error in exc.errors())


def matching_windows(rule: PrivacyRule, windows: Sequence[WindowInfo]) -> list[WindowInfo]:
    """The windows `rule` alone would leave out."""
    only = PrivacyFilter([rule], use_defaults=False)
    return [w for w in windows if only.excluded(w.app, w.title, w.url) is not None]


def window_text(window: WindowInfo) -> str:
    app = window.app or window.process or "?"
    return f"{app} — {window.title}" if window.title else app


class ExclusionEditor(QtWidgets.QWidget):
    """The person's own rules: a list, add (typed or from an open window), remove, test."""

    changed = Signal()

    def __init__(
        self,
        rules: Sequence[PrivacyRule],
        windows: Callable[[], list[WindowInfo]],
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._list_windows = windows
        self._windows: list[WindowInfo] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.rules = QtWidgets.QListWidget(self)
        self.rules.setObjectName("exclusion_rules")
        self.rules.setAccessibleName("Your exclusion rules")
        line = self.fontMetrics().lineSpacing()
        self.rules.setMinimumHeight(line * 4)
        self.rules.setMaximumHeight(line * 7)
        layout.addWidget(self.rules)
        self.remove_button = QtWidgets.QPushButton("&Remove selected rule", self)
        self.remove_button.setObjectName("remove_rule")
        self.remove_button.clicked.connect(self._remove_selected)
        remove_row = QtWidgets.QHBoxLayout()
        remove_row.addStretch(1)
        remove_row.addWidget(self.remove_button)
        layout.addLayout(remove_row)

        # From a window open now.
        layout.addWidget(QtWidgets.QLabel("Start from a window open now:", self))
        self.open_windows = QtWidgets.QComboBox(self)
        self.open_windows.setObjectName("open_windows")
        self.open_windows.setAccessibleName("Windows open now")
        self.open_windows.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.open_windows.setMinimumContentsLength(20)
        self.open_windows.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed
        )
        layout.addWidget(self.open_windows)
        open_row = QtWidgets.QHBoxLayout()
        self.use_app = QtWidgets.QPushButton("Use its a&pp", self)
        self.use_app.setObjectName("use_app")
        self.use_app.clicked.connect(lambda: self._from_window("app"))
        self.use_title = QtWidgets.QPushButton("Use its &title", self)
        self.use_title.setObjectName("use_title")
        self.use_title.clicked.connect(lambda: self._from_window("title"))
        refresh = QtWidgets.QPushButton("Re&fresh the list", self)
        refresh.setObjectName("refresh_windows")
        refresh.clicked.connect(self.refresh_windows)
        open_row.addWidget(self.use_app)
        open_row.addWidget(self.use_title)
        open_row.addStretch(1)
        open_row.addWidget(refresh)
        layout.addLayout(open_row)

        # Typed.
        layout.addWidget(QtWidgets.QLabel("Or type one:", self))
        typed = QtWidgets.QHBoxLayout()
        self.field = QtWidgets.QComboBox(self)
        self.field.setObjectName("rule_field")
        self.field.setAccessibleName("Leave out by")
        for value, label in FIELD_CHOICES:
            self.field.addItem(label, value)
        self.pattern = QtWidgets.QLineEdit(self)
        self.pattern.setObjectName("rule_pattern")
        self.pattern.setAccessibleName("Text or pattern to leave out")
        self.pattern.setPlaceholderText("e.g. bank, Signal, mail.example.com")
        typed.addWidget(self.field)
        typed.addWidget(self.pattern, 1)
        layout.addLayout(typed)
        options = QtWidgets.QHBoxLayout()
        self.regex = QtWidgets.QCheckBox(
            "A regular e&xpression (otherwise: contains the text)", self
        )
        self.regex.setObjectName("rule_regex")
        self.add_button = QtWidgets.QPushButton("A&dd rule", self)
        self.add_button.setObjectName("add_rule")
        self.add_button.setAutoDefault(False)
        options.addWidget(self.regex)
        options.addStretch(1)
        options.addWidget(self.add_button)
        layout.addLayout(options)
        self.problem = QtWidgets.QLabel(self)
        self.problem.setObjectName("rule_problem")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.hide()
        font = self.problem.font()
        font.setBold(True)
        self.problem.setFont(font)
        layout.addWidget(self.problem)

        # The test box.
        self.test_label = QtWidgets.QLabel(self)
        self.test_label.setObjectName("rule_test_label")
        self.test_label.setWordWrap(True)
        layout.addWidget(self.test_label)
        self.matches = QtWidgets.QListWidget(self)
        self.matches.setObjectName("rule_matches")
        self.matches.setAccessibleName("Open windows this rule leaves out")
        self.matches.setMaximumHeight(self.fontMetrics().lineSpacing() * 5)
        self.matches.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        layout.addWidget(self.matches)

        self.pattern.textChanged.connect(self.update_test)
        self.field.currentIndexChanged.connect(self.update_test)
        self.regex.toggled.connect(self.update_test)
        self.pattern.returnPressed.connect(self.add_typed)
        self.add_button.clicked.connect(self.add_typed)
        self.rules.currentRowChanged.connect(self._selection_changed)
        self.set_rules(rules)
        self.refresh_windows()

    # -- the rules -----------------------------------------------------------------------
    def set_rules(self, rules: Sequence[PrivacyRule]) -> None:
        self.rules.clear()
        for rule in rules:
            self._append(rule)
        self._selection_changed()

    def value(self) -> list[PrivacyRule]:
        found: list[PrivacyRule] = []
        for row in range(self.rules.count()):
            item = self.rules.item(row)
            if item is not None:
                found.append(item.data(_RULE_ROLE))
        return found

    def _append(self, rule: PrivacyRule) -> None:
        item = QtWidgets.QListWidgetItem(rule_in_words(rule), self.rules)
        item.setData(_RULE_ROLE, rule)
        item.setToolTip(rule.describe())

    def add_rule(self, field: RuleField, pattern: str, regex: bool) -> PrivacyRule | None:
        """Adds a rule if it is valid and new; otherwise says why not."""
        rule, problem = make_rule(field, pattern, regex)
        if rule is None:
            self._say(problem)
            return None
        if rule in self.value():
            self._say(f"{rule_in_words(rule)}: already a rule.")
            return None
        self._say("")
        self._append(rule)
        self.changed.emit()
        return rule

    def add_typed(self) -> None:
        if self.add_rule(self.field.currentData(), self.pattern.text(), self.regex.isChecked()):
            self.pattern.clear()

    def _remove_selected(self) -> None:
        row = self.rules.currentRow()
        if row >= 0:
            self.rules.takeItem(row)
            self.changed.emit()
        self._selection_changed()

    def _selection_changed(self, _row: int = -1) -> None:
        self.remove_button.setEnabled(self.rules.currentRow() >= 0)

    def _say(self, text: str) -> None:
        self.problem.setText(f"⚠ {text}" if text else "")
        self.problem.setVisible(bool(text))

    # -- the open windows ------------------------------------------------------------------
    def refresh_windows(self) -> None:
        try:
            windows = list(self._list_windows())
        except Exception as exc:  # noqa: BLE001 - a helper list; the editor works without it
            log.info("cannot list the open windows: %s", exc)
            windows = []
        self._windows = [
            w for w in windows if (w.app or w.title) and not (w.title or "").startswith("MIRIX")
        ]
        self.open_windows.clear()
        for window in self._windows:
            self.open_windows.addItem(window_text(window))
        has = bool(self._windows)
        if not has:
            self.open_windows.addItem("(no windows can be listed here)")
        self.open_windows.setEnabled(has)
        self.use_app.setEnabled(has)
        self.use_title.setEnabled(has)
        self.update_test()

    def _from_window(self, field: RuleField) -> None:
        index = self.open_windows.currentIndex()
        if not 0 <= index < len(self._windows):
            return
        window = self._windows[index]
        text = (window.app or window.process or "") if field == "app" else (window.title or "")
        self.field.setCurrentIndex(self.field.findData(field))
        self.regex.setChecked(False)
        self.pattern.setText(text)
        self.pattern.setFocus()

    def update_test(self, *_args: object) -> None:
        """Shows which open windows the rule being typed would leave out."""
        self.matches.clear()
        pattern = self.pattern.text()
        if not pattern.strip():
            self.test_label.setText("Type a rule to see which open windows it leaves out.")
            self.matches.setEnabled(False)
            return
        rule, problem = make_rule(self.field.currentData(), pattern, self.regex.isChecked())
        if rule is None:
            self.test_label.setText(f"Not a rule yet: {problem}")
            self.matches.setEnabled(False)
            return
        found = matching_windows(rule, self._windows)
        self.matches.setEnabled(True)
        self.test_label.setText(
            f"This rule would leave out {len(found)} of the {len(self._windows)} windows open now:"
            if found
            else f"This rule leaves out none of the {len(self._windows)} windows open now."
        )
        for window in found:
            self.matches.addItem(window_text(window))


class PauseButtons(QtWidgets.QWidget):
    """Pause capture for a while, or resume: the same control file the tray's menu writes."""

    def __init__(self, control: ControlFile, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._control = control
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.state = QtWidgets.QLabel(self)
        self.state.setObjectName("pause_state")
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        row = QtWidgets.QHBoxLayout()
        for text, minutes in (("15 minutes", 15), ("1 hour", 60), ("until resumed", None)):
            button = QtWidgets.QPushButton(f"Pause {text}", self)
            button.clicked.connect(lambda _c=False, m=minutes: self.pause(m))
            row.addWidget(button)
        self.resume_button = QtWidgets.QPushButton("Resume", self)
        self.resume_button.setObjectName("resume")
        self.resume_button.clicked.connect(self.resume)
        row.addWidget(self.resume_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.show_state()

    def pause(self, minutes: int | None) -> None:
        self._control.pause(None if minutes is None else timedelta(minutes=minutes))
        self.show_state()

    def resume(self) -> None:
        self._control.resume()
        self.show_state()

    def show_state(self) -> None:
        from mirix_desktop.memory.records import now_utc

        pause = self._control.read()
        if pause is None or not pause.active(now_utc()):
            self.state.setText("Capture is not paused.")
            self.resume_button.setEnabled(False)
            return
        until = (
            "until you resume it"
            if pause.until is None
            else f"until {pause.until.astimezone().strftime('%H:%M')}"
        )
        self.state.setText(f"Capture is paused {until}.")
        self.resume_button.setEnabled(True)
