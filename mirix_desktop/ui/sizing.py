"""Window sizes in characters and lines, never larger than the screen they open on.

A size measured in text grows with the font and with QT_SCALE_FACTOR; at 200%
on a 1080p screen that can exceed the screen and hide a window's own buttons,
so every first size is clamped to the available geometry.
"""

from __future__ import annotations

from mirix_desktop.ui.qt import QtCore, QtWidgets

# Leave room for panels and the window frame.
_SCREEN_SHARE = 0.9


def text_size(widget: QtWidgets.QWidget, columns: int, lines: int) -> QtCore.QSize:
    """`columns` average characters by `lines` lines of the widget's font, fitted to the screen."""
    metrics = widget.fontMetrics()
    return fit_to_screen(
        widget, QtCore.QSize(metrics.averageCharWidth() * columns, metrics.lineSpacing() * lines)
    )


def fit_to_screen(widget: QtWidgets.QWidget, size: QtCore.QSize) -> QtCore.QSize:
    available = widget.screen().availableGeometry()
    return QtCore.QSize(
        min(size.width(), int(available.width() * _SCREEN_SHARE)),
        min(size.height(), int(available.height() * _SCREEN_SHARE)),
    )
