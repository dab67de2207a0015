"""The bar chart of time per app for the day shown in the timeline (QPainter, no QtCharts).

One row per app, busiest first: a swatch of the app's timeline colour, its
name, a bar as long as its share of the busiest app's time, and the time
("1 h 05 min"). Clicking a row asks the timeline to show only that app's
lane (`app_clicked(app)`); clicking it again, or Esc, shows every lane
(`app_clicked(None)`). Sizes come from the font, so the chart grows with
QT_SCALE_FACTOR; colours other than the apps' come from the palette.
"""

from __future__ import annotations

from mirix_desktop.app.timeline import AppTime, app_colour
from mirix_desktop.ui.qt import QtCore, QtGui, QtWidgets, Signal


def duration_text(seconds: float) -> str:
    """ "2 h 05 min", "14 min", "40 s"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class AppChart(QtWidgets.QWidget):
    """Time per app as horizontal bars; a click filters the timeline's lanes."""

    app_clicked = Signal(object)  # str | None
    forget_requested = Signal(str)  # the app whose everything the person asked to forget

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("appChart")
        self.setAccessibleName("Time per app")
        self.setMouseTracking(True)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.TabFocus)
        self._apps: list[AppTime] = []
        self._selected: str | None = None
        self._hover: int | None = None

    # -- what it shows ------------------------------------------------------------------------
    def set_apps(self, apps: list[AppTime]) -> None:
        self._apps = sorted(apps, key=lambda item: -item.seconds)
        if self._selected not in {item.app for item in self._apps}:
            self._selected = None
        self._hover = None
        self.updateGeometry()
        self.update()
        self.setToolTip("" if self._apps else "Nothing was captured this day.")

    def set_selected(self, app: str | None) -> None:
        self._selected = app
        self.update()

    @property
    def apps(self) -> list[AppTime]:
        return list(self._apps)

    @property
    def selected(self) -> str | None:
        return self._selected

    # -- geometry -----------------------------------------------------------------------------
    def _row_height(self) -> int:
        return round(self.fontMetrics().lineSpacing() * 1.75)

    def row_rect(self, row: int) -> QtCore.QRect:
        height = self._row_height()
        return QtCore.QRect(0, row * height, self.width(), height)

    def row_at(self, point: QtCore.QPoint) -> int | None:
        row = point.y() // self._row_height()
        return row if 0 <= row < len(self._apps) and point.y() >= 0 else None

    def sizeHint(self) -> QtCore.QSize:
        char = self.fontMetrics().averageCharWidth()
        return QtCore.QSize(char * 34, max(1, len(self._apps)) * self._row_height())

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self.fontMetrics().averageCharWidth() * 20, self._row_height())

    # -- painting -----------------------------------------------------------------------------
    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        palette = self.palette()
        role = QtGui.QPalette.ColorRole
        painter.fillRect(self.rect(), palette.color(role.Base))
        metrics = self.fontMetrics()
        if not self._apps:
            painter.setPen(palette.color(role.PlaceholderText))
            painter.drawText(
                self.rect().adjusted(6, 0, -6, 0),
                int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop),
                "No time recorded.",
            )
            return
        busiest = max(item.seconds for item in self._apps) or 1.0
        pad = metrics.averageCharWidth()
        swatch = metrics.height() * 0.7
        line = metrics.lineSpacing()
        for row, item in enumerate(self._apps):
            rect = self.row_rect(row)
            if item.app == self._selected:
                painter.fillRect(rect, palette.color(role.Highlight))
                text_colour = palette.color(role.HighlightedText)
            else:
                if row == self._hover:
                    painter.fillRect(rect, palette.color(role.AlternateBase))
                text_colour = palette.color(role.Text)
            colour = QtGui.QColor(app_colour(item.app))
            # First line: swatch, name, time (right-aligned); below it, the bar,
            # as long as the app's share of the busiest one's time.
            text_top = rect.top() + line * 0.15
            painter.fillRect(
                QtCore.QRectF(pad, text_top + (line - swatch) / 2, swatch, swatch),
                QtGui.QBrush(colour),
            )
            painter.setPen(text_colour)
            duration = duration_text(item.seconds)
            time_width = metrics.horizontalAdvance(duration)
            name_left = round(pad * 2 + swatch)
            name_width = max(0, rect.width() - name_left - time_width - pad * 2)
            painter.drawText(
                QtCore.QRectF(name_left, text_top, name_width, line),
                int(QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft),
                metrics.elidedText(item.app, QtCore.Qt.TextElideMode.ElideRight, name_width),
            )
            painter.drawText(
                QtCore.QRectF(rect.width() - pad - time_width, text_top, time_width, line),
                int(QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignRight),
                duration,
            )
            bar_space = max(1, rect.width() - name_left - pad)
            bar_height = max(3.0, line * 0.3)
            painter.fillRect(
                QtCore.QRectF(
                    name_left,
                    text_top + line + line * 0.1,
                    max(2.0, bar_space * item.seconds / busiest),
                    bar_height,
                ),
                QtGui.QBrush(colour),
            )
        if self.hasFocus():
            focus = QtWidgets.QStyleOptionFocusRect()
            focus.initFrom(self)
            focus.rect = self.rect().adjusted(1, 1, -1, -1)
            style = self.style()
            if style is not None:
                style.drawPrimitive(
                    QtWidgets.QStyle.PrimitiveElement.PE_FrameFocusRect, focus, painter, self
                )

    # -- mouse and keys -----------------------------------------------------------------------
    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        row = self.row_at(event.position().toPoint())
        if row != self._hover:
            self._hover = row
            self.update()
        if row is not None:
            item = self._apps[row]
            self.setToolTip(
                f"{item.app}: {duration_text(item.seconds)}\nClick to show only its lane; "
                "click again to show every app."
            )

    def leaveEvent(self, event: QtCore.QEvent) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        row = self.row_at(event.position().toPoint())
        self.toggle(self._apps[row].app if row is not None else None)

    def contextMenuEvent(self, event: QtGui.QContextMenuEvent) -> None:
        row = self.row_at(event.pos())
        if row is None:
            return
        app = self._apps[row].app
        menu = QtWidgets.QMenu(self)
        menu.addAction(f"Forget everything from {app}…", lambda: self.forget_requested.emit(app))
        menu.exec(event.globalPos())

    def toggle(self, app: str | None) -> None:
        """Selects `app` (None, or the one selected: shows every app) and says so."""
        chosen = None if app is None or app == self._selected else app
        self.set_selected(chosen)
        self.app_clicked.emit(chosen)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key = event.key()
        if key == QtCore.Qt.Key.Key_Escape and self._selected is not None:
            self.toggle(None)
            return
        if key in (QtCore.Qt.Key.Key_Up, QtCore.Qt.Key.Key_Down) and self._apps:
            names = [item.app for item in self._apps]
            current = names.index(self._selected) if self._selected in names else -1
            step = 1 if key == QtCore.Qt.Key.Key_Down else -1
            self.toggle(names[(current + step) % len(names)])
            return
        super().keyPressEvent(event)
