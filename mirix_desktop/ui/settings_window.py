"""The settings window, "MIRIX — Settings": every option of config.toml on friendly pages.

The pages are built from the config schema (`app/settings_model.py`): each
option gets a control, its description as help and the same pydantic
validation the app applies when it loads the file, so an option added to
`config.Settings` shows up here by itself (on the page of its section, or
under "Other options" on the Data page). Next to the schema's fields sit
the widgets other parts own: the exclusion editor and pause buttons
(Privacy), the space view (Storage & power), the model picker, API key
field and provider test (Assistant), the audit log, passphrase panel and
"Forget everything…" (Data). Widgets not in this build are said to be
missing rather than breaking the window.

"Apply" writes the changed options to config.toml (comments and order
kept: `app/config_writer.write_options`) and applies what can be applied
live (`app/live_settings.py`; the capture daemon re-reads the file itself);
"Save" does the same and closes. The window lists what waits for a
restart. A file edited by hand with mistakes still opens: each bad key is
named with its problem, the rest is kept, and saving writes the values
shown in place of the bad ones (and removes keys MIRIX does not know).
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mirix_desktop.app.config_writer import write_options
from mirix_desktop.app.live_settings import apply_in_app, needing_restart
from mirix_desktop.app.services import AppServices
from mirix_desktop.app.settings_model import (
    OptionSpec,
    Problem,
    option_specs,
    read_config_file,
    to_toml,
    value_of,
)
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.errors import KnownError
from mirix_desktop.pipeline.control import ControlFile
from mirix_desktop.privacy.exclusions import PrivacyRule
from mirix_desktop.ui.qt import Qt, QtWidgets, Signal
from mirix_desktop.ui.settings_fields import OptionField, label_of
from mirix_desktop.ui.settings_privacy import ExclusionEditor, PauseButtons
from mirix_desktop.ui.sizing import text_size

log = logging.getLogger("mirix.ui.settings")

TITLE = "MIRIX — Settings"
PAGES = ("Capture", "Privacy", "Storage & power", "Assistant", "Shortcuts", "Data")
EXCLUDE_KEY = "privacy.exclude"
OTHER = ("Data", "Other options")


@dataclass(frozen=True)
class Group:
    page: str
    title: str
    selectors: tuple[str, ...]  # "section.option" or a whole "section"
    intro: str = ""


# In display order. An option goes to the first group naming it, else to the
# first naming its section, else to OTHER.
GROUPS: tuple[Group, ...] = (
    Group(
        "Capture",
        "Screen capture",
        (
            "capture.enabled",
            "capture.interval_s",
            "capture.idle_pause_s",
            "capture.thumbnail_width",
        ),
        "MIRIX looks at every monitor; nothing on a monitor can be left out except by the "
        "privacy rules.",
    ),
    Group("Capture", "Text recognition", ("ocr",)),
    Group("Capture", "When text recognition falls behind", ("capture",)),
    Group("Privacy", "Never captured", ("privacy.default_exclusions",)),
    Group(
        "Privacy",
        "Your exclusion rules",
        (),
        "Windows matching one of these rules are never captured (a window's app name, "
        "title or web address).",
    ),
    Group("Privacy", "Redaction", ("privacy",)),
    Group("Privacy", "Pause", ()),
    Group("Privacy", "Other programs (MCP)", ("mcp",)),
    Group("Storage & power", "Storage", ("storage",)),
    Group("Storage & power", "Space", ()),
    Group("Storage & power", "On battery", ("capture.on_battery", "capture.battery_interval_s")),
    Group("Storage & power", "The store file", ("store",)),
    Group("Assistant", "Who answers", ("llm.provider",)),
    Group("Assistant", "Local model", ("local_model",)),
    Group("Assistant", "Model server (OpenAI-compatible)", ("openai",)),
    Group("Assistant", "Answers", ("llm",)),
    Group("Assistant", "Learning while you are away", ("consolidation",)),
    Group("Assistant", "Search", ("search", "embedding")),
    Group("Shortcuts", "Quick query", ("ui",)),
    Group("Shortcuts", "Start", ()),
    Group("Data", "Audit log", ()),
    Group("Data", "Passphrase", ()),
    Group("Data", "Forget", ()),
)


def place_of(spec: OptionSpec) -> tuple[str, str]:
    """(page, group title) where an option is shown."""
    for group in GROUPS:
        if spec.key in group.selectors:
            return group.page, group.title
    for group in GROUPS:
        if spec.section in group.selectors:
            return group.page, group.title
    return OTHER


@functools.cache
def placements() -> dict[str, tuple[str, str]]:
    """(page, group title) of every option, once."""
    return {spec.key: place_of(spec) for spec in option_specs()}


def open_windows() -> list[WindowInfo]:
    """The windows open now (the first-run window's helper: empty where none can be listed)."""
    from mirix_desktop.ui.setup_window import open_windows as listed

    return listed()


class SettingsWindow(QtWidgets.QWidget):
    """The settings window; `applied` carries {"section.option": value} of what was written."""

    applied = Signal(object)

    def __init__(
        self,
        services: AppServices,
        parent: QtWidgets.QWidget | None = None,
        *,
        windows: Callable[[], list[WindowInfo]] = open_windows,
        extras: bool = True,
        capture: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("settingsWindow")
        self.services = services
        self._windows = windows
        self._extras = extras
        # The app's daemon supervisor: the passphrase panel stops capture around a key change.
        self._capture = capture
        self.config_file = services.paths.config_file
        # Pages are built when first shown: opening costs one page, not six.
        self.fields: dict[str, OptionField] = {}  # the options of the pages built so far
        self._exclusions: ExclusionEditor | None = None
        self._built: set[str] = set()
        self._workers: Any = None  # made on the first save (it brings in the store's modules)
        self._waiting: list[str] = []  # written options that wait for a restart
        self._saved: dict[str, Any] = {}
        self._forced: dict[str, Any] = {}  # bad keys: written on the next save
        self._unknown: list[str] = []  # keys MIRIX does not know: removed on save
        self._file_broken = False
        self._page_index: dict[str, int] = {}
        self._problems: list[Problem] = []
        self._read_file()
        self._build()
        self._show_problems(self._problems)
        self._update_buttons()
        self.resize(text_size(self, 140, 46))

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QtWidgets.QVBoxLayout(self)
        self.problems = QtWidgets.QLabel(self)
        self.problems.setObjectName("problems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.problems.setMargin(8)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()
        outer.addWidget(self.problems)

        body = QtWidgets.QHBoxLayout()
        self.page_list = QtWidgets.QListWidget(self)
        self.page_list.setObjectName("pages")
        self.page_list.setAccessibleName("Settings pages")
        self.stack = QtWidgets.QStackedWidget(self)
        widest = 0
        for name in PAGES:
            scroll = QtWidgets.QScrollArea()
            scroll.setObjectName(f"page:{name}")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            self._page_index[name] = self.stack.addWidget(scroll)
            self.page_list.addItem(name)
            widest = max(widest, self.page_list.fontMetrics().horizontalAdvance(name))
        self.page_list.setFixedWidth(widest + self.fontMetrics().averageCharWidth() * 6)
        self.page_list.currentRowChanged.connect(self._page_chosen)
        self.page_list.setCurrentRow(0)
        body.addWidget(self.page_list)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)

        self.restart_note = QtWidgets.QLabel(self)
        self.restart_note.setObjectName("restart_note")
        self.restart_note.setWordWrap(True)
        self.restart_note.hide()
        outer.addWidget(self.restart_note)
        bottom = QtWidgets.QHBoxLayout()
        self.status = QtWidgets.QLabel(self)
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        bottom.addWidget(self.status, 1)
        self.apply_button = QtWidgets.QPushButton("&Apply", self)
        self.apply_button.setObjectName("apply")
        self.apply_button.clicked.connect(self.apply)
        self.save_button = QtWidgets.QPushButton("&Save", self)
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.close_button = QtWidgets.QPushButton("&Close", self)
        self.close_button.setObjectName("close")
        self.close_button.clicked.connect(self.close)
        for button in (self.apply_button, self.save_button, self.close_button):
            bottom.addWidget(button)
        outer.addLayout(bottom)

    def _page_chosen(self, row: int) -> None:
        if 0 <= row < len(PAGES):
            self.build_page(PAGES[row])
            self.stack.setCurrentIndex(row)

    def build_page(self, name: str) -> None:
        """Builds a page's widgets (once), with the values the window holds."""
        if name in self._built:
            return
        self._built.add(name)
        scroll = self.stack.widget(self._page_index[name])
        assert isinstance(scroll, QtWidgets.QScrollArea)
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        heading = QtWidgets.QLabel(name, page)
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)
        places = placements()
        groups = [group for group in GROUPS if group.page == name]
        if name == OTHER[0]:
            groups.append(Group(*OTHER, ()))
        for group in groups:
            members = [
                spec
                for spec in option_specs()
                if spec.key != EXCLUDE_KEY and places[spec.key] == (group.page, group.title)
            ]
            box = self._group_box(group, members, page)
            if box is not None:
                layout.addWidget(box)
        layout.addStretch(1)
        scroll.setWidget(page)

    def _group_box(
        self, group: Group, members: Sequence[OptionSpec], page: QtWidgets.QWidget
    ) -> QtWidgets.QGroupBox | None:
        extra = self._group_extra(group, page)
        if not members and extra is None:
            return None
        box = QtWidgets.QGroupBox(group.title, page)
        box.setObjectName(f"group:{group.title}")
        # Box layouts, not a grid or a form: they give word-wrapped help the
        # height it needs at any width (the others clip it or pad it).
        column = QtWidgets.QVBoxLayout(box)
        column.setSpacing(self.fontMetrics().lineSpacing() // 2)
        if group.intro:
            intro = QtWidgets.QLabel(group.intro, box)
            intro.setWordWrap(True)
            column.addWidget(intro)
        labels = {spec.key: f"{label_of(spec)}:" for spec in members if spec.kind != "bool"}
        metrics = self.fontMetrics()
        indent = (
            min(
                max((metrics.horizontalAdvance(text) for text in labels.values()), default=0),
                metrics.averageCharWidth() * 30,
            )
            + metrics.averageCharWidth() * 2
        )
        for spec in members:
            field = OptionField(spec, self._saved[spec.key], box)
            field.changed.connect(self._field_changed)
            self.fields[spec.key] = field
            column.addLayout(self._option_block(field, labels.get(spec.key), indent, box))
        if extra is not None:
            column.addWidget(extra)
        return box

    @staticmethod
    def _option_block(
        field: OptionField, label_text: str | None, indent: int, box: QtWidgets.QWidget
    ) -> QtWidgets.QVBoxLayout:
        """The label and control on one line, the help and the problem under the control."""
        block = QtWidgets.QVBoxLayout()
        block.setSpacing(2)
        top = QtWidgets.QHBoxLayout()
        top.setSpacing(0)
        if label_text is not None:
            label = QtWidgets.QLabel(label_text, box)
            label.setWordWrap(True)
            label.setFixedWidth(indent)
            label.setBuddy(field.editor)
            top.addWidget(label)
        top.addWidget(field, 1)
        block.addLayout(top)
        for under in (field.help, field.problem):
            row = QtWidgets.QHBoxLayout()
            row.setSpacing(0)
            if label_text is not None:
                row.addSpacing(indent)
            row.addWidget(under, 1)
            block.addLayout(row)
        return block

    def _group_extra(self, group: Group, page: QtWidgets.QWidget) -> QtWidgets.QWidget | None:
        """The widgets beside the schema's fields, by page and group."""
        services = self.services
        key = (group.page, group.title)
        if key == ("Privacy", "Your exclusion rules"):
            self._exclusions = ExclusionEditor(self._saved[EXCLUDE_KEY], self._windows, page)
            self._exclusions.changed.connect(self._field_changed)
            return self._exclusions
        if key == ("Privacy", "Pause"):
            return PauseButtons(ControlFile(services.paths.data_dir / "control.json"), page)
        if key == ("Storage & power", "Space"):
            where = QtWidgets.QLabel(
                f"Your memories are stored in {services.paths.store_file} (encrypted).", page
            )
            where.setWordWrap(True)
            where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            return self._stacked(page, where, self._space_view(page))
        if key == ("Shortcuts", "Start"):
            return self._autostart_box(page)
        if key == ("Data", "Forget"):
            return self._forget_box(page)
        if not self._extras:
            return None
        # Imported here: each pulls in its part of the app layer, and most
        # visits of the window never build its page.
        if key == ("Assistant", "Who answers"):
            from mirix_desktop.ui.provider_test import ProviderTestButton

            return ProviderTestButton(services, self.current_settings, parent=page)
        if key == ("Assistant", "Local model"):
            from mirix_desktop.ui.model_picker import ModelPicker

            picker = ModelPicker(services, parent=page)
            picker.chosen.connect(self._model_chosen)
            return picker
        if key == ("Assistant", "Model server (OpenAI-compatible)"):
            from mirix_desktop.ui.api_key_field import ApiKeyField

            return ApiKeyField(services, parent=page)
        if key == ("Data", "Audit log"):
            from mirix_desktop.ui.audit_view import AuditView

            return AuditView(services, parent=page)
        if key == ("Data", "Passphrase"):
            from mirix_desktop.ui.passphrase_panel import PassphrasePanel

            return PassphrasePanel(services, parent=page, capture=self._capture)
        return None

    def _space_view(self, page: QtWidgets.QWidget) -> QtWidgets.QWidget | None:
        if not self._extras:
            return None
        from mirix_desktop.ui.space_view import SpaceView

        return SpaceView(self.services, parent=page)

    @staticmethod
    def _stacked(page: QtWidgets.QWidget, *widgets: QtWidgets.QWidget | None) -> QtWidgets.QWidget:
        holder = QtWidgets.QWidget(page)
        layout = QtWidgets.QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            if widget is not None:
                layout.addWidget(widget)
        return holder

    def _autostart_box(self, page: QtWidgets.QWidget) -> QtWidgets.QWidget:
        from mirix_desktop.app import autostart

        box = QtWidgets.QCheckBox("Start MIRIX when I log in", page)
        box.setObjectName("autostart")
        try:
            box.setChecked(autostart.is_enabled())
        except OSError:
            box.setEnabled(False)
        box.setToolTip("Writes or removes ~/.config/autostart/mirix-desktop.desktop.")
        box.toggled.connect(self._autostart_toggled)
        self.autostart = box
        return box

    def _forget_box(self, page: QtWidgets.QWidget) -> QtWidgets.QWidget:
        holder = QtWidgets.QWidget(page)
        layout = QtWidgets.QHBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        text = QtWidgets.QLabel(
            "Remove every memory, frame, thumbnail and conversation from the store. You "
            "are shown what goes and asked to confirm.",
            holder,
        )
        text.setWordWrap(True)
        button = QtWidgets.QPushButton("&Forget everything…", holder)
        button.setObjectName("forget_everything")
        button.clicked.connect(self._forget_everything)
        layout.addWidget(text, 1)
        layout.addWidget(button)
        return holder

    # -- the file ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Reads config.toml again: every field shows what the file says (or the default)."""
        self._read_file()
        for key, field in self.fields.items():
            field.set_value(self._saved[key])
        if self._exclusions is not None:
            self._exclusions.set_rules(self._saved[EXCLUDE_KEY])
        self._show_problems(self._problems)
        self._field_changed()

    def _read_file(self) -> None:
        contents = read_config_file(self.config_file)
        values = contents.values
        problems = contents.problems
        self._file_broken = any(p.key == "(the whole file)" for p in problems)
        running = self.services.settings
        self._forced.clear()
        self._unknown = []
        self._saved = {}
        for spec in option_specs():
            section = values.get(spec.section, {})
            if spec.name in section:
                value = section[spec.name]
            elif any(p.key == spec.key for p in problems):
                # A bad value: the running one stands in, and saving writes it.
                value = value_of(running, spec)
                self._forced[spec.key] = value
            else:
                value = copy.deepcopy(spec.default)  # a list default is not shared
            self._saved[spec.key] = value
        for problem in problems:
            if problem.key in self._saved or problem.key == "(the whole file)":
                continue
            self._unknown.append(problem.key)
        self._problems = problems

    def _show_problems(self, problems: Sequence[Problem]) -> None:
        if not problems:
            self.problems.hide()
            return
        lines = [f"{self.config_file} has mistakes; MIRIX keeps the rest of it:"]
        lines += [f"•  {p.key}: {p.problem}" for p in problems]
        if self._file_broken:
            lines.append(
                "Fix the file in an editor (the line and column are above): saving here is off "
                "until then, so nothing of yours is overwritten."
            )
        else:
            lines.append(
                "Saving writes the values shown here in place of the bad ones and removes "
                "what MIRIX does not know."
            )
        self.problems.setText("\n".join(lines))
        self.problems.show()

    # -- changes --------------------------------------------------------------------------
    def pending(self) -> dict[str, Any]:
        """{"section.option": value} that Apply would write (None: remove the key)."""
        found: dict[str, Any] = {}
        for key, field in self.fields.items():
            if field.value() != self._saved[key] or key in self._forced:
                found[key] = field.value()
        if self._exclusions is not None:
            rules = self._exclusions.value()
            if rules != self._saved[EXCLUDE_KEY] or EXCLUDE_KEY in self._forced:
                found[EXCLUDE_KEY] = rules
        for key, value in self._forced.items():  # on pages not built yet
            found.setdefault(key, value)
        for key in self._unknown:
            found[key] = None
        return found

    def current_settings(self) -> Settings:
        """The running settings with the window's values in (saved or not): what "Test" tries."""
        settings = self.services.settings.model_copy(deep=True)
        for key, value in self.pending().items():
            section, _, name = key.partition(".")
            target = getattr(settings, section, None)
            if value is not None and target is not None and name in type(target).model_fields:
                setattr(target, name, value)
        return settings

    def _field_changed(self, *_args: object) -> None:
        self._update_buttons()
        count = len([k for k in self.pending() if k not in self._forced])
        self._say(f"{count} change{'s' if count != 1 else ''} not saved yet." if count else "")

    def _update_buttons(self) -> None:
        enabled = not self._file_broken
        self.apply_button.setEnabled(enabled)
        self.save_button.setEnabled(enabled)

    def _refused(self) -> list[str]:
        return [key for key, field in self.fields.items() if field.problem_text]

    def apply(self) -> bool:
        """Writes the changes and applies what applies live; False if nothing could be written."""
        if self._file_broken:
            self._say("config.toml is not valid TOML: fix it in an editor first.")
            return False
        refused = self._refused()
        if refused:
            self.show_option(refused[0])
            self._say(
                "Some values are not accepted (marked ⚠): "
                + ", ".join(refused)
                + ". Change them, then save."
            )
            return False
        values = self.pending()
        if not values:
            self._say("Nothing to save: no option changed.")
            return True
        # Whole entries MIRIX does not know go first, so a section written
        # again below (a "[capture]" that was not a table) is created anew.
        changes: dict[str, dict[str, object] | None] = {
            key: None for key in values if "." not in key
        }
        for key, value in values.items():
            section, _, name = key.partition(".")
            if name:
                options = changes.setdefault(section, {}) or {}
                options[name] = None if value is None else to_toml(value)
                changes[section] = options
        try:
            write_options(self.config_file, changes)
        except KnownError as exc:
            self._say(exc.message)
            return False
        known = {key: value for key, value in values.items() if key in self._saved}
        self._saved.update(known)
        self._forced.clear()
        self._unknown = []
        live = apply_in_app(self.services.settings, known)
        for key in needing_restart(known):
            if key not in self._waiting:
                self._waiting.append(key)
        self._show_problems([])
        self._show_restart_note()
        self._record_audit(sorted(values))
        self.applied.emit(known)
        saved = len(values)
        now = f" Applied now: {', '.join(live)}." if live else ""
        self._say(f"Saved {saved} option{'s' if saved != 1 else ''} to {self.config_file}.{now}")
        return True

    def save(self) -> None:
        if self.apply():
            self.close()

    def _show_restart_note(self) -> None:
        if not self._waiting:
            self.restart_note.hide()
            return
        specs = {spec.key: spec for spec in option_specs()}
        names = ", ".join(
            f"{label_of(specs[key])} ({key})" if key in specs else key for key in self._waiting
        )
        self.restart_note.setText(f"Saved; takes effect when MIRIX starts again: {names}.")
        self.restart_note.show()

    def _record_audit(self, keys: list[str]) -> None:
        """A "settings_change" entry in the audit log: which options, never their values."""
        if not self._extras:
            return
        from mirix_desktop.app.audit import record

        if self._workers is None:
            from mirix_desktop.ui.workers import Workers

            self._workers = Workers(self, max_threads=1)
        # On a worker: the store may be busy for seconds with the daemon's writes.
        details = {"options": keys}
        self._workers.run(
            "record the settings change",
            lambda: record(self.services.store(), "settings_change", details, actor="app"),
            lambda _done: None,
            lambda text: log.info("settings change not recorded in the audit log: %s", text),
        )

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)

    # -- the other parts' actions -----------------------------------------------------------
    def _model_chosen(self, name: str) -> None:
        self.field("local_model.model").set_value(name)
        self._field_changed()

    def _autostart_toggled(self, on: bool) -> None:
        from mirix_desktop.app import autostart

        try:
            change = autostart.enable(self.services.paths.data_dir) if on else autostart.disable()
        except KnownError as exc:
            self._say(exc.message)
            return
        self._say(f"Start at login: {change.action} ({change.path}).")

    def _forget_everything(self) -> None:
        from mirix_desktop.app.forget import ForgetFilter
        from mirix_desktop.ui.forget_dialog import confirm_and_forget

        confirm_and_forget(self, self.services, ForgetFilter(everything=True))

    # -- navigation ------------------------------------------------------------------------
    def field(self, key: str) -> OptionField:
        """The control of an option (its page is built if it was not)."""
        self.build_page(placements()[key][0])
        return self.fields[key]

    @property
    def exclusions(self) -> ExclusionEditor:
        """The exclusion editor (the Privacy page is built if it was not)."""
        self.build_page("Privacy")
        assert self._exclusions is not None
        return self._exclusions

    def show_page(self, name: str) -> None:
        self.page_list.setCurrentRow(self._page_index[name])

    def show_option(self, key: str) -> None:
        """Shows the page holding `key` and scrolls it into view."""
        page = "Privacy" if key == EXCLUDE_KEY else placements()[key][0]
        self.show_page(page)
        field = self.fields.get(key)
        scroll = self.stack.currentWidget()
        if field is not None and isinstance(scroll, QtWidgets.QScrollArea):
            scroll.ensureWidgetVisible(field)
            field.editor.setFocus()

    def set_option(self, key: str, value: Any) -> None:
        """Puts `value` in the option's control as if typed (tests, the other parts)."""
        if key == EXCLUDE_KEY:
            self.exclusions.set_rules([PrivacyRule.model_validate(v) for v in value])
            self._field_changed()
            return
        field = self.field(key)
        field.set_value(value)
        field._edited()
