"""Widget tests run on Qt's offscreen platform: no display, no window manager."""

from __future__ import annotations

import os

# Before pytest-qt creates the QApplication (on the first qtbot/qapp use).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
