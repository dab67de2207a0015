"""The app's icons: one tray icon per capture state and the app icon, from SVGs in assets/.

The SVGs are package data (`mirix_desktop/assets/icons/`), found through
`mirix_desktop.assets` the same way in a checkout, a wheel install and the
PyInstaller folder. They are rendered through QIcon's SVG engine, so the
panel asks for whatever size and device pixel ratio it needs and gets a sharp
picture. Icons are built once per process and cached.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import get_args

from mirix_desktop.app.status import TrayState
from mirix_desktop.assets import asset_path
from mirix_desktop.ui.qt import QtCore, QtGui, QtSvg

log = logging.getLogger("mirix.ui.icons")

# Sizes pre-rendered when the SVG icon engine plugin is missing (a trimmed Qt
# install): the common panel, menu and window-title sizes.
_FALLBACK_SIZES = (16, 20, 22, 24, 32, 48, 64, 128, 256)


def icon_path(name: str) -> Path:
    """The file `icons/<name>` of the package's assets; FileNotFoundError says where it looked."""
    return asset_path("icons", name)


def _render(path: Path) -> QtGui.QIcon:
    icon = QtGui.QIcon(str(path))
    if not icon.isNull() and not icon.pixmap(22, 22).isNull():
        return icon
    # No SVG icon engine: draw the SVG ourselves at the usual sizes.
    log.debug("SVG icon engine unavailable; rendering %s through QSvgRenderer", path.name)
    renderer = QtSvg.QSvgRenderer(str(path))
    if not renderer.isValid():
        raise ValueError(f"icon {path} is not a valid SVG")
    icon = QtGui.QIcon()
    for size in _FALLBACK_SIZES:
        icon.addPixmap(QtGui.QPixmap.fromImage(svg_image(renderer, size)))
    return icon


def svg_image(renderer: QtSvg.QSvgRenderer, size: int) -> QtGui.QImage:
    """The SVG drawn, antialiased, into a transparent square `size` pixels wide."""
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


@functools.cache
def _icon(name: str) -> QtGui.QIcon:
    return _render(icon_path(name))


def tray_states() -> tuple[TrayState, ...]:
    """Every tray state, in the order the Literal declares them."""
    states: tuple[TrayState, ...] = get_args(TrayState)
    return states


def tray_icon(state: TrayState) -> QtGui.QIcon:
    """The tray icon for a capture state, from assets/icons/tray-<state>.svg."""
    if state not in tray_states():
        raise ValueError(f"no tray icon for the state {state!r}")
    return _icon(f"tray-{state}.svg")


def app_icon() -> QtGui.QIcon:
    """The application icon (window titles, task switcher, the desktop entry)."""
    return _icon("mirix.svg")
