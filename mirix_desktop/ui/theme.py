"""Light or dark: the app follows the system's palette unless told otherwise.

Qt picks up the desktop's colour scheme itself (GNOME, KDE, Windows, macOS).
`MIRIX_UI_THEME=light|dark` forces one with the Fusion style, for desktops
that do not tell Qt (a bare X session, Xvfb) and for screenshots of both.
Widgets never hard-code colours: they use palette roles, so either works.
"""

from __future__ import annotations

import logging
import os

from mirix_desktop.ui.qt import QtGui, QtWidgets

log = logging.getLogger("mirix.ui.theme")

THEME_ENV = "MIRIX_UI_THEME"


def dark_palette() -> QtGui.QPalette:
    role, group = QtGui.QPalette.ColorRole, QtGui.QPalette.ColorGroup
    palette = QtGui.QPalette()
    colours = {
        role.Window: "#202124",
        role.WindowText: "#e8eaed",
        role.Base: "#2b2c30",
        role.AlternateBase: "#323438",
        role.ToolTipBase: "#303134",
        role.ToolTipText: "#e8eaed",
        role.PlaceholderText: "#9aa0a6",
        role.Text: "#e8eaed",
        role.Button: "#2d2f33",
        role.ButtonText: "#e8eaed",
        role.BrightText: "#ff8a80",
        role.Link: "#8ab4f8",
        role.LinkVisited: "#c58af9",
        role.Highlight: "#4c7bd9",
        role.HighlightedText: "#ffffff",
        role.Light: "#3c4043",
        role.Midlight: "#35373a",
        role.Mid: "#2a2c2f",
        role.Dark: "#111214",
        role.Shadow: "#000000",
    }
    for colour_role, value in colours.items():
        palette.setColor(colour_role, QtGui.QColor(value))
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, colour_role, QtGui.QColor("#7f8387"))
    return palette


def is_dark(palette: QtGui.QPalette | None = None) -> bool:
    """Whether the palette in force is a dark one (its window darker than its text)."""
    palette = palette or QtGui.QGuiApplication.palette()
    window = palette.color(QtGui.QPalette.ColorRole.Window).lightness()
    text = palette.color(QtGui.QPalette.ColorRole.WindowText).lightness()
    return window < text


def apply_theme(app: QtWidgets.QApplication, choice: str | None = None) -> None:
    """Applies `choice` (or MIRIX_UI_THEME): 'light', 'dark', or anything else = the system's."""
    choice = (choice or os.environ.get(THEME_ENV, "")).strip().lower()
    if choice not in ("light", "dark"):
        return
    app.setStyle("Fusion")
    if choice == "dark":
        app.setPalette(dark_palette())
    else:
        style = app.style()
        app.setPalette(style.standardPalette() if style is not None else QtGui.QPalette())
    log.info("UI theme forced to %s", choice)
