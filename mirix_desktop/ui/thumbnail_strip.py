"""The strip of thumbnails around the moment selected in the timeline.

A few frames before and after the selection, spaced by the zoom (closer
together when zoomed in), each with its time; the selected one framed in
the highlight colour. Clicking one selects it (`picked(frame_index)`). The
window chooses the frames and decodes their pictures on a worker; this
widget only paints what it is given, and a frame whose picture is not
there yet (or is missing) as a blank tile.
"""

from __future__ import annotations

from dataclasses import dataclass

from mirix_desktop.ui.qt import QtCore, QtGui, QtWidgets, Signal
from mirix_desktop.ui.timeline_axis import local_time

STRIP_FRAMES = 7  # odd: the selection in the middle


@dataclass(frozen=True)
class StripTile:
    index: int  # frame index in the day
    frame_id: int
    at_ms: int
    image: QtGui.QImage | None
    selected: bool


class ThumbnailStrip(QtWidgets.QWidget):
    """See the module docstring."""

    picked = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnailStrip")
        self.setAccessibleName("Moments around the selection")
        self.tiles: list[StripTile] = []
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed
        )

    def set_tiles(self, tiles: list[StripTile]) -> None:
        self.tiles = tiles
        self.update()

    def _tile_height(self) -> int:
        return self.fontMetrics().lineSpacing() * 4

    def sizeHint(self) -> QtCore.QSize:
        line = self.fontMetrics().lineSpacing()
        height = self._tile_height() + line + 8
        return QtCore.QSize(self._tile_height() * 16 // 9 * STRIP_FRAMES, height)

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(100, self.sizeHint().height())

    def tile_rect(self, slot: int) -> QtCore.QRect:
        count = max(len(self.tiles), 1)
        gap = 6
        width = (self.width() - gap * (count + 1)) // count
        width = min(width, self._tile_height() * 16 // 9)
        total = count * width + (count - 1) * gap
        left = (self.width() - total) // 2 + slot * (width + gap)
        return QtCore.QRect(left, 4, width, self._tile_height())

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        role = QtGui.QPalette.ColorRole
        metrics = self.fontMetrics()
        for slot, tile in enumerate(self.tiles):
            rect = self.tile_rect(slot)
            painter.fillRect(rect, palette.color(role.AlternateBase))
            if tile.image is not None and not tile.image.isNull():
                scaled = tile.image.size().scaled(
                    rect.size(), QtCore.Qt.AspectRatioMode.KeepAspectRatio
                )
                target = QtCore.QRect(QtCore.QPoint(0, 0), scaled)
                target.moveCenter(rect.center())
                painter.drawImage(target, tile.image)
            pen = QtGui.QPen(
                palette.color(role.Highlight if tile.selected else role.Mid),
                3 if tile.selected else 1,
            )
            painter.setPen(pen)
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
            painter.setPen(palette.color(role.WindowText))
            label = QtCore.QRect(
                rect.left(), rect.bottom() + 2, rect.width(), metrics.lineSpacing()
            )
            font = QtGui.QFont(self.font())
            font.setBold(tile.selected)
            painter.setFont(font)
            painter.drawText(
                label,
                int(QtCore.Qt.AlignmentFlag.AlignCenter),
                local_time(tile.at_ms, seconds=True),
            )

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        point = event.position().toPoint()
        for slot, tile in enumerate(self.tiles):
            if self.tile_rect(slot).contains(point):
                self.picked.emit(tile.index)
                return
        super().mousePressEvent(event)
