"""One memory in full ("MIRIX — Memory"): what a citation opens until the timeline exists.

It shows the record as app/records.py shows it to a person: type, time, app,
title and text, with a knowledge-vault item's secret hidden (the window
never reveals it; the record it gets has no secret in it). The record is
read on a worker thread by the caller; this dialog only displays it.
"""

from __future__ import annotations

from typing import Any

from mirix_desktop.app.records import ShownRecord
from mirix_desktop.memory.records import MemoryType
from mirix_desktop.ui.qt import QtCore, QtWidgets
from mirix_desktop.ui.sizing import text_size

TITLE = "MIRIX — Memory"

TYPE_NAMES = {
    MemoryType.EPISODIC: "Episode — something you did",
    MemoryType.RESOURCE: "Document or page you saw",
    MemoryType.CORE: "About you (core memory)",
    MemoryType.SEMANTIC: "Fact or note",
    MemoryType.PROCEDURAL: "How-to",
    MemoryType.KNOWLEDGE_VAULT: "Knowledge vault",
}
HIDDEN_SECRET = "Hidden — a knowledge-vault value is not shown in this window."


def when_text(record: ShownRecord) -> str:
    start = record.time.astimezone()
    text = start.strftime("%A %d %B %Y, %H:%M")
    if record.end_time is not None:
        end = record.end_time.astimezone()
        if end.date() != start.date():
            text += " – " + end.strftime("%A %d %B %Y, %H:%M")
        elif end.strftime("%H:%M") != start.strftime("%H:%M"):
            text += " – " + end.strftime("%H:%M")
    return text


def full_text(record: ShownRecord) -> str:
    """The memory's text as a person reads it: its main text and the details beside it."""
    fields: dict[str, Any] = record.fields
    if record.type is MemoryType.KNOWLEDGE_VAULT:
        return HIDDEN_SECRET
    parts: list[str] = []
    if record.type is MemoryType.RESOURCE:
        for label, key in (("Address", "url"), ("File", "path")):
            if fields.get(key):
                parts.append(f"{label}: {fields[key]}")
        if fields.get("summary"):
            parts.append(str(fields["summary"]))
        parts.append(str(fields.get("content") or record.text))
    elif record.type is MemoryType.PROCEDURAL:
        parts.append(str(fields.get("summary") or ""))
        steps = fields.get("steps") or []
        parts.extend(f"{n}. {step}" for n, step in enumerate(steps, start=1))
    elif record.type is MemoryType.CORE:
        parts.append(str(fields.get("value") or record.text))
    else:
        parts.append(str(fields.get("summary") or record.text))
        if fields.get("details"):
            parts.append(str(fields["details"]))
        if fields.get("source"):
            parts.append(f"Source: {fields['source']}")
    return "\n\n".join(part for part in parts if part.strip())


class MemoryDialog(QtWidgets.QDialog):
    """A read-only view of one memory."""

    def __init__(self, record: ShownRecord, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.record = record
        self.setWindowTitle(TITLE)
        self.setObjectName("memoryDialog")

        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QtWidgets.QLabel] = {}
        for key, label, value in (
            ("type", "Type", TYPE_NAMES.get(record.type, record.type.value)),
            ("time", "When", when_text(record)),
            ("app", "App", record.app or "—"),
            ("title", "Title", record.title or "—"),
        ):
            field = QtWidgets.QLabel(value)
            field.setObjectName(f"memory-{key}")
            field.setWordWrap(True)
            field.setTextInteractionFlags(
                QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
                | QtCore.Qt.TextInteractionFlag.TextSelectableByKeyboard
            )
            # Screen text is data: never rendered as rich text.
            field.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            form.addRow(f"{label}:", field)
            self.fields[key] = field

        self.text = QtWidgets.QPlainTextEdit(full_text(record))
        self.text.setObjectName("memory-text")
        self.text.setReadOnly(True)
        self.text.setTabChangesFocus(True)
        self.text.setAccessibleName("Memory text")
        if record.type is MemoryType.KNOWLEDGE_VAULT:
            font = self.text.font()
            font.setItalic(True)
            self.text.setFont(font)

        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.text.setFocus()
        self.resize(self._initial_size())

    def _initial_size(self) -> QtCore.QSize:
        # In text lines and columns, so it scales with the font (and QT_SCALE_FACTOR).
        return text_size(self, 80, 26)
