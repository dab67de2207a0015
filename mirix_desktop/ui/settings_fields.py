"""One editor per option of the config schema, with its description as help.

`OptionField` builds the right control for an `OptionSpec` (a check box, a
list of choices, a number box within the option's bounds, a line of text),
shows the option's description under it and, when the value does not pass
the option's pydantic model, the problem in plain words instead of taking
it. `HotkeyEdit` records a key chord by pressing it and writes it the way
`ui.hotkey` expects ("Ctrl+Alt+Space").
"""

from __future__ import annotations

import math
import os
from typing import Any

from mirix_desktop.app.live_settings import applies_live
from mirix_desktop.app.settings_model import OptionSpec, check_value
from mirix_desktop.chord import ChordError, parse_chord
from mirix_desktop.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal

# Labels people read; any other option gets one made from its name.
LABELS = {
    "capture.enabled": "Capture the screen",
    "capture.interval_s": "Look at the screen every",
    "capture.idle_pause_s": "Pause when idle for",
    "capture.thumbnail_width": "Thumbnail width",
    "capture.episode_gap_s": "New episode after a gap of",
    "capture.on_battery": "On battery",
    "capture.battery_interval_s": "Interval on battery",
    "privacy.default_exclusions": "Never capture password managers and private windows",
    "privacy.redact_emails": "Also hide e-mail addresses",
    "storage.retention_days": "Keep memories for",
    "storage.max_gb": "Largest size of the store",
    "storage.min_free_gb": "Keep free on the disk at least",
    "llm.provider": "Who answers",
    "local_model.model": "Local model",
    "openai.base_url": "Server address",
    "openai.model": "Server's model",
    "openai.api_key_env": "API key variable",
    "openai.context_tokens": "Context tokens",
    "local_model.gpu_layers": "GPU layers",
    "consolidation.enabled": "Summarise and learn facts while you are away",
    "consolidation.cpu_seconds_per_day": "Model time per day",
    "embedding.model": "Embedding model",
    "embedding.batch_size": "Embedding batch size",
    "search.default_limit": "Results per search",
    "search.candidates": "Candidates per index",
    "mcp.exclude_apps": "Hide these apps",
    "mcp.http_port": "HTTP port",
    "store.cache_mb": "Page cache",
    "store.busy_timeout_s": "Wait for a busy store",
    "ui.hotkey": "Quick query hotkey",
}
# What the lowest value of a number box means, shown instead of the number.
ZERO_MEANS = {
    "capture.idle_pause_s": "Never",
    "capture.thumbnail_width": "No thumbnails",
    "storage.retention_days": "Forever",
    "storage.max_gb": "No limit",
    "storage.min_free_gb": "Never pause",
    "local_model.threads": "All physical cores",
    "consolidation.idle_after_s": "At once",
}
_UNITS = {"_s": "s", "_gb": "GB", "_mb": "MiB", "_days": "days", "_width": "px"}
_INT_LIMIT = 2_147_483_647


def label_of(spec: OptionSpec) -> str:
    """A readable label: 'busy_timeout_s' -> 'Busy timeout' (the unit shows in the box)."""
    if spec.key in LABELS:
        return LABELS[spec.key]
    name = spec.name
    for suffix in _UNITS:
        if name.endswith(suffix) and suffix != "_width":
            name = name[: -len(suffix)]
            break
    words = name.replace("_", " ")
    return words[:1].upper() + words[1:]


def unit_of(spec: OptionSpec) -> str:
    for suffix, unit in _UNITS.items():
        if spec.name.endswith(suffix):
            return unit
    return ""


_KEYS: dict[Qt.Key, str] = {
    Qt.Key.Key_Space: "Space",
    Qt.Key.Key_Return: "Return",
    Qt.Key.Key_Enter: "Return",
    Qt.Key.Key_Tab: "Tab",
    Qt.Key.Key_Escape: "Escape",
    Qt.Key.Key_Insert: "Insert",
    Qt.Key.Key_Delete: "Delete",
    Qt.Key.Key_Home: "Home",
    Qt.Key.Key_End: "End",
    Qt.Key.Key_PageUp: "PageUp",
    Qt.Key.Key_PageDown: "PageDown",
    Qt.Key.Key_Up: "Up",
    Qt.Key.Key_Down: "Down",
    Qt.Key.Key_Left: "Left",
    Qt.Key.Key_Right: "Right",
    Qt.Key.Key_Pause: "Pause",
    Qt.Key.Key_Print: "Print",
}
_MODIFIER_KEYS: frozenset[Qt.Key] = frozenset(
    {Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Shift, Qt.Key.Key_Meta, Qt.Key.Key_Super_L,
     Qt.Key.Key_Super_R, Qt.Key.Key_AltGr}
)  # fmt: skip


class HotkeyEdit(QtWidgets.QLineEdit):
    """Press a chord and it is written here ("Ctrl+Alt+Space"); Backspace alone clears it.

    Only chords `chord.parse_chord` accepts are taken; otherwise `problem`
    says why and the previous chord stays.
    """

    recorded = Signal(str)
    problem = Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setPlaceholderText("Click here, then press the keys together")
        self.setAccessibleName("Hotkey: press the keys")

    def chord_of(self, event: QtGui.QKeyEvent) -> str | None:
        """The chord text of a key press, or None for a lone modifier or an unknown key."""
        key = Qt.Key(event.key())
        if key in _MODIFIER_KEYS:
            return None
        name = _KEYS.get(key)
        if name is None and Qt.Key.Key_F1.value <= key.value <= Qt.Key.Key_F24.value:
            name = f"F{key.value - Qt.Key.Key_F1.value + 1}"
        if name is None and (
            Qt.Key.Key_A.value <= key.value <= Qt.Key.Key_Z.value
            or Qt.Key.Key_0.value <= key.value <= Qt.Key.Key_9.value
        ):
            name = chr(key.value)
        if name is None:
            return None
        mods = event.modifiers()
        parts = [
            word
            for flag, word in (
                (Qt.KeyboardModifier.ControlModifier, "Ctrl"),
                (Qt.KeyboardModifier.AltModifier, "Alt"),
                (Qt.KeyboardModifier.ShiftModifier, "Shift"),
                (Qt.KeyboardModifier.MetaModifier, "Super"),
            )
            if mods & flag
        ]
        return "+".join([*parts, name])

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Backspace and not event.modifiers():
            self.setText("")
            self.recorded.emit("")
            return
        if event.key() == Qt.Key.Key_Backtab or (
            event.key() == Qt.Key.Key_Tab and not event.modifiers()
        ):
            super().keyPressEvent(event)  # Tab and Shift+Tab still move on
            return
        text = self.chord_of(event)
        if text is None:
            event.accept()
            return
        if "+" not in text:
            self.problem.emit(f"{text} alone is a key people type: hold Ctrl, Alt or Super with it")
            event.accept()
            return
        try:
            parse_chord(text)
        except ChordError as exc:
            self.problem.emit(str(exc))
            event.accept()
            return
        self.setText(text)  # "Ctrl+Alt+M": the order and spelling parse_chord reads
        self.recorded.emit(text)
        event.accept()


class WrappedLabel(QtWidgets.QLabel):
    """A word-wrapped label as tall as its text at its real width, no taller.

    A plain QLabel's size hint guesses a width, and a scroll area lays out
    by hints: help text came out padded by empty lines or clipped.
    """

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Fixed
        )
        self._height_at: tuple[int, int] | None = None

    def _height(self) -> int:
        width = self.width() if self.width() > 1 else super().sizeHint().width()
        return max(self.heightForWidth(width), self.fontMetrics().lineSpacing())

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(super().sizeHint().width(), self._height())

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self.fontMetrics().averageCharWidth() * 12, self._height())

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        height = self._height()
        if self._height_at != (event.size().width(), height):
            self._height_at = (event.size().width(), height)
            if height != event.size().height():
                self.updateGeometry()


class NumberBox(QtWidgets.QDoubleSpinBox):
    """A decimal box that writes 2 as "2" and 0.25 as "0.25", not "2.00"."""

    def textFromValue(self, value: float) -> str:
        return f"{value:.{self.decimals()}f}".rstrip("0").rstrip(".")


class OptionField(QtWidgets.QWidget):
    """The control for one option, its help, and its problem when the value is refused."""

    changed = Signal(str)  # the option's key

    def __init__(self, spec: OptionSpec, value: Any, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"option:{spec.key}")
        self._problem_text: str | None = None
        # The control's row is this widget; the help and the problem are
        # separate labels the page lays out under it (a grid wraps them
        # reliably, a form layout with nested word-wrapped labels clips them).
        self.editor = self._make_editor()
        self.editor.setObjectName(spec.key)
        self.editor.setAccessibleName(label_of(spec))
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.editor)
        if spec.kind in ("int", "float", "choice", "bool"):
            row.addStretch(1)
        self.help = WrappedLabel(self._help_text(), parent)
        self.help.setObjectName(f"help:{spec.key}")
        self.problem = WrappedLabel("", parent)
        self.problem.setObjectName(f"problem:{spec.key}")
        self.problem.hide()
        self._value = value
        self.set_value(value)
        self._connect()

    def _help_text(self) -> str:
        restart = "" if applies_live(self.spec.key) else " Takes effect when MIRIX starts again."
        variable = f"MIRIX_{self.spec.section}_{self.spec.name}".upper()
        if variable in os.environ:
            restart += f" Now set by {variable} in the environment, which wins over the file."
        return f"{self.spec.description}{restart} ({self.spec.key})"

    # -- the control -----------------------------------------------------------------------
    def _make_editor(self) -> QtWidgets.QWidget:
        spec = self.spec
        if spec.key == "ui.hotkey":
            edit = HotkeyEdit(self)
            edit.setMinimumWidth(self.fontMetrics().averageCharWidth() * 24)
            return edit
        if spec.kind == "bool":
            return QtWidgets.QCheckBox(label_of(spec), self)
        if spec.kind == "choice":
            combo = QtWidgets.QComboBox(self)
            for choice in spec.choices:
                combo.addItem(choice, choice)
            return combo
        if spec.kind == "int":
            box = QtWidgets.QSpinBox(self)
            low = spec.minimum if spec.minimum is not None else -_INT_LIMIT
            high = spec.maximum if spec.maximum is not None else _INT_LIMIT
            box.setRange(int(low + (1 if spec.min_exclusive else 0)), int(high))
            self._suffix(box)
            return box
        if spec.kind == "float":
            box_f = NumberBox(self)
            box_f.setDecimals(2)
            low_f = spec.minimum if spec.minimum is not None else -1e9
            high_f = spec.maximum if spec.maximum is not None else 1e9
            box_f.setRange(low_f + (0.01 if spec.min_exclusive else 0.0), high_f)
            box_f.setSingleStep(0.25 if high_f <= 600 else 1.0)
            self._suffix(box_f)
            return box_f
        edit_s = QtWidgets.QLineEdit(self)
        edit_s.setMinimumWidth(self.fontMetrics().averageCharWidth() * 36)
        if spec.kind == "str_list":
            edit_s.setPlaceholderText("names separated by commas")
        return edit_s

    def _suffix(self, box: QtWidgets.QAbstractSpinBox) -> None:
        unit = unit_of(self.spec)
        if unit and isinstance(box, QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox):
            box.setSuffix(f" {unit}")
        special = ZERO_MEANS.get(self.spec.key)
        if special and self.spec.minimum == 0 and not self.spec.min_exclusive:
            box.setSpecialValueText(special)
        box.setKeyboardTracking(False)
        metrics = self.fontMetrics()
        longest = max(metrics.horizontalAdvance(special or ""), metrics.averageCharWidth() * 10)
        box.setMinimumWidth(longest + metrics.averageCharWidth() * 6)

    def _connect(self) -> None:
        editor = self.editor
        if isinstance(editor, HotkeyEdit):
            editor.recorded.connect(lambda _text: self._edited())
            editor.problem.connect(self.show_problem)
        elif isinstance(editor, QtWidgets.QCheckBox):
            editor.toggled.connect(lambda _on: self._edited())
        elif isinstance(editor, QtWidgets.QComboBox):
            editor.currentIndexChanged.connect(lambda _i: self._edited())
        elif isinstance(editor, QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox):
            editor.valueChanged.connect(lambda _v: self._edited())
        elif isinstance(editor, QtWidgets.QLineEdit):
            editor.textEdited.connect(lambda _t: self._edited())

    def raw(self) -> Any:
        """What the control shows, before validation."""
        editor = self.editor
        if isinstance(editor, QtWidgets.QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QtWidgets.QComboBox):
            return editor.currentData()
        if isinstance(editor, QtWidgets.QSpinBox):
            return editor.value()
        if isinstance(editor, QtWidgets.QDoubleSpinBox):
            return round(editor.value(), editor.decimals())
        assert isinstance(editor, QtWidgets.QLineEdit)
        if self.spec.kind == "str_list":
            return [part.strip() for part in editor.text().split(",") if part.strip()]
        return editor.text()

    def set_value(self, value: Any) -> None:
        editor = self.editor
        blocker = QtCore.QSignalBlocker(editor)
        if isinstance(editor, QtWidgets.QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QtWidgets.QComboBox):
            index = editor.findData(value)
            editor.setCurrentIndex(max(index, 0))
        elif isinstance(editor, QtWidgets.QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QtWidgets.QDoubleSpinBox):
            number = float(value)
            editor.setValue(number if math.isfinite(number) else 0.0)
        elif isinstance(editor, QtWidgets.QLineEdit):
            editor.setText(", ".join(value) if isinstance(value, list) else str(value))
        del blocker
        self._value = value
        self.show_problem(None)

    # -- validation -----------------------------------------------------------------------
    def _edited(self) -> None:
        checked = check_value(self.spec.section, self.spec.name, self.raw())
        if checked.ok:
            self._value = checked.value
            self.show_problem(None)
        else:
            self.show_problem(checked.problem)
        self.changed.emit(self.spec.key)

    def value(self) -> Any:
        """The last valid value (the control may show a refused one: see `problem_text`)."""
        return self._value

    @property
    def problem_text(self) -> str | None:
        return self._problem_text

    def show_problem(self, text: str | None) -> None:
        self._problem_text = text
        self.problem.setText(f"⚠ {text}" if text else "")
        font = self.problem.font()
        font.setBold(True)
        self.problem.setFont(font)
        self.problem.setVisible(bool(text))
