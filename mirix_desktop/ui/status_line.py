"""A one-line (wrapping) message with the style's icon before it: working, done, or a problem.

The settings widgets report what their background work did here, in plain
words; the icon tells an error from a success without relying on colour.
"""

from __future__ import annotations

from typing import Literal

from mirix_desktop.ui.qt import Qt, QtWidgets

Kind = Literal["info", "ok", "error"]

_ICONS: dict[Kind, QtWidgets.QStyle.StandardPixmap] = {
    "info": QtWidgets.QStyle.StandardPixmap.SP_MessageBoxInformation,
    "ok": QtWidgets.QStyle.StandardPixmap.SP_DialogApplyButton,
    "error": QtWidgets.QStyle.StandardPixmap.SP_MessageBoxWarning,
}


class StatusLine(QtWidgets.QWidget):
    """`say(text, kind)` shows the message; `clear()` hides it. `kind` is read by tests too."""

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind: Kind | None = None
        self.icon = QtWidgets.QLabel(self)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label = QtWidgets.QLabel(self)
        self.label.setObjectName(name)
        self.label.setAccessibleName(name)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        self.hide()

    def text(self) -> str:
        return self.label.text() if self.kind is not None else ""

    def say(self, text: str, kind: Kind = "info") -> None:
        self.kind = kind
        size = self.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_SmallIconSize)
        self.icon.setPixmap(self.style().standardIcon(_ICONS[kind]).pixmap(size, size))
        self.label.setText(text)
        self.show()

    def clear(self) -> None:
        self.kind = None
        self.label.clear()
        self.hide()


def sentence(text: str) -> str:
    """`text` with a capital first letter and a full stop: messages start in lower case."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."
