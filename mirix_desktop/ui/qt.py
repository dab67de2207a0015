"""The one Qt import shim: every other module imports Qt from here.

Keeping the binding in one place means a change of binding (PySide6 to
PyQt6) or a missing module (QtCharts is not in PySide6-Essentials) touches one
file, and `import mirix_desktop.ui.qt` fails with one clear error when Qt is
missing instead of deep inside a window.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtNetwork, QtSvg, QtWidgets
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

__all__ = [
    "QObject",
    "QThread",
    "QTimer",
    "Qt",
    "QtCore",
    "QtGui",
    "QtNetwork",
    "QtSvg",
    "QtWidgets",
    "Signal",
    "Slot",
]
