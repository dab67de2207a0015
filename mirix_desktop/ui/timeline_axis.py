"""The timeline's day axis: time ruler, one lane per app, episode blocks, gaps and search marks.

Drawn with QPainter from a `DayIndex` (ui/day_index.py), never one item per
frame: a day of 100,000 frames costs what a day of 100 does. Everything
that changes only with the data, the visible range, the size or the
palette is painted once into a cached pixmap (the "layer"), from
per-pixel-column summaries computed with numpy: for each lane, which block
covers each column and whether any frame falls in it. A repaint while
scrubbing draws that pixmap and the selection line, nothing else.

From top to bottom: the ruler (local times), a frame-density strip (how
many frames each column holds), then the lanes. Gaps in capture cross all
lanes, hatched, with their reason written in them when it fits and in the
tooltip always. Search matches are ticks on the ruler and thin lines across
the lanes.

Interaction: click or drag scrubs (`scrubbed(ms)`), Ctrl+wheel zooms around
the pointer (a whole day down to 10 minutes), the wheel pans, + and − zoom
around the selection, hovering shows the time, app and title. Shift+drag
selects a range (`range_changed`); the context menu offers to forget it, or
everything from the app of the lane under the pointer (`forget_requested`).
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from mirix_desktop.app.timeline import OTHER, app_colour
from mirix_desktop.ui.day_index import DayIndex
from mirix_desktop.ui.qt import QtCore, QtGui, QtWidgets, Signal

MIN_SPAN_MS = 10 * 60 * 1000
# Tick steps the ruler chooses from, in minutes.
_TICK_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360)
_ZOOM_STEP = 1.5
_LANE_LABEL_CHARS = 18
# A frame stands for the screen until the next one, up to this long (capture
# skips unchanged screens): the frame strips are solid where capture ran.
FRAME_HOLD_MS = 60_000


def local_time(at_ms: float, *, seconds: bool = False) -> str:
    moment = datetime.fromtimestamp(at_ms / 1000).astimezone()
    return moment.strftime("%H:%M:%S" if seconds else "%H:%M")


class TimelineAxis(QtWidgets.QWidget):
    """See the module docstring."""

    scrubbed = Signal(float)  # a time (ms) the person pointed at
    view_changed = Signal()  # the visible range moved or zoomed
    range_changed = Signal()  # the Shift+drag range was set or cleared
    # ("range", (start_ms, end_ms)) or ("app", name): the person asked to forget it
    forget_requested = Signal(str, object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineAxis")
        self.setAccessibleName("Timeline")
        self.setMouseTracking(True)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.index: DayIndex | None = None
        self.view_start = 0.0
        self.view_end = 1.0
        self.selected: float | None = None
        self.matches: list[float] = []
        self.current_match: int | None = None
        self.app_filter: str | None = None
        self.message: str | None = None  # shown instead of lanes (an empty day, loading)
        self._hover_x: int | None = None
        self._dragging = False
        self.range: tuple[float, float] | None = None  # a Shift+drag selection (ms)
        self._range_anchor: float | None = None
        self._layer: QtGui.QPixmap | None = None
        self._label_width: int | None = None
        self.layer_builds = 0  # for tests and the benchmark: how often the cache was redrawn

    # -- data ---------------------------------------------------------------------------------
    def set_day(self, index: DayIndex | None, message: str | None = None) -> None:
        """Shows `index`'s day whole (or only `message` for a day with nothing to draw)."""
        self.index = index
        self.message = message
        self.matches = []
        self.current_match = None
        if index is not None:
            self.view_start, self.view_end = float(index.start_ms), float(index.end_ms)
        self.selected = None
        self.set_range(None)
        self._invalidate()
        self.view_changed.emit()
        self.updateGeometry()

    def set_range(self, selected: tuple[float, float] | None) -> None:
        """Selects [start, end) (ms) for a forget, or nothing."""
        if selected is not None:
            start, end = sorted(selected)
            selected = (start, end) if end > start else None
        if selected != self.range:
            self.range = selected
            self.update()
            self.range_changed.emit()

    def set_message(self, message: str | None) -> None:
        self.message = message
        self._invalidate()

    def set_selected(self, at_ms: float | None) -> None:
        if at_ms == self.selected:
            return
        self.selected = at_ms
        self.update()  # the layer stays: only the line moves

    def set_matches(self, matches: list[float], current: int | None = None) -> None:
        self.matches = sorted(matches)
        self.current_match = current
        self._invalidate()

    def set_app_filter(self, app: str | None) -> None:
        self.app_filter = app
        self._invalidate()
        self.updateGeometry()

    def shown_lanes(self) -> list[tuple[int, str]]:
        """(lane number in the index, label) of each lane drawn, top to bottom."""
        if self.index is None:
            return []
        if self.app_filter is not None:
            return [(-1, self.app_filter)]
        return list(enumerate(self.index.lanes))

    # -- the visible range --------------------------------------------------------------------
    @property
    def span(self) -> float:
        return self.view_end - self.view_start

    def set_view(self, start: float, end: float) -> None:
        """Shows [start, end), clamped to the day and to at least 10 minutes."""
        if self.index is None:
            return
        day_start, day_end = float(self.index.start_ms), float(self.index.end_ms)
        span = min(max(end - start, MIN_SPAN_MS), day_end - day_start)
        start = min(max(start, day_start), day_end - span)
        if (start, start + span) == (self.view_start, self.view_end):
            return
        self.view_start, self.view_end = start, start + span
        self._invalidate()
        self.view_changed.emit()

    def zoom(self, factor: float, around: float | None = None) -> None:
        """Divides the span by `factor` (>1 zooms in), keeping `around` where it is on screen."""
        if self.index is None:
            return
        if around is None:
            around = self.selected if self.selected is not None else self.view_start + self.span / 2
        share = (around - self.view_start) / self.span if self.span else 0.5
        share = min(max(share, 0.0), 1.0)
        span = self.span / factor
        span = min(max(span, MIN_SPAN_MS), float(self.index.end_ms - self.index.start_ms))
        start = around - share * span
        self.set_view(start, start + span)

    def ensure_visible(self, at_ms: float) -> None:
        """Pans (keeping the zoom) so that `at_ms` is on screen, with a margin."""
        margin = self.span * 0.05
        if at_ms < self.view_start + margin:
            self.set_view(at_ms - self.span * 0.25, at_ms + self.span * 0.75)
        elif at_ms > self.view_end - margin:
            self.set_view(at_ms - self.span * 0.75, at_ms + self.span * 0.25)

    # -- geometry -----------------------------------------------------------------------------
    def _line(self) -> int:
        return self.fontMetrics().lineSpacing()

    def label_width(self) -> int:
        """As wide as the longest lane name, up to `_LANE_LABEL_CHARS` characters."""
        if self._label_width is None:
            metrics = self.fontMetrics()
            names = [label for _lane, label in self.shown_lanes()] or ["other"]
            longest = max(metrics.horizontalAdvance(name) for name in names)
            self._label_width = min(longest, metrics.averageCharWidth() * _LANE_LABEL_CHARS) + 12
        return self._label_width

    def ruler_height(self) -> int:
        return round(self._line() * 1.6)

    def density_height(self) -> int:
        return max(4, round(self._line() * 0.6))

    def lane_height(self) -> int:
        return round(self._line() * 1.5)

    def lanes_top(self) -> int:
        return self.ruler_height() + self.density_height() + 2

    def plot_rect(self) -> QtCore.QRect:
        """Where times are drawn: right of the lane labels, below the ruler."""
        left = self.label_width()
        return QtCore.QRect(left, 0, max(1, self.width() - left - 4), self.height())

    def x_of(self, at_ms: float) -> float:
        plot = self.plot_rect()
        return plot.left() + (at_ms - self.view_start) / self.span * plot.width()

    def time_at(self, x: float) -> float:
        plot = self.plot_rect()
        share = (x - plot.left()) / plot.width()
        return self.view_start + min(max(share, 0.0), 1.0) * self.span

    def lane_at(self, y: float) -> int | None:
        """Row number (in `shown_lanes()`) under `y`."""
        if y < self.lanes_top():
            return None
        row = int((y - self.lanes_top()) // self.lane_height())
        return row if row < len(self.shown_lanes()) else None

    def sizeHint(self) -> QtCore.QSize:
        rows = max(len(self.shown_lanes()), 3)
        char = self.fontMetrics().averageCharWidth()
        return QtCore.QSize(char * 100, self.lanes_top() + rows * self.lane_height() + 4)

    def minimumSizeHint(self) -> QtCore.QSize:
        # Every lane stays visible: the window's splitter may not squeeze them away.
        rows = max(len(self.shown_lanes()), 2)
        return QtCore.QSize(
            self.label_width() * 3, self.lanes_top() + rows * self.lane_height() + 4
        )

    # -- painting -----------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._layer = None
        self._label_width = None  # the lanes may have changed
        self.update()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        self._layer = None
        super().resizeEvent(event)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() in (
            QtCore.QEvent.Type.PaletteChange,
            QtCore.QEvent.Type.FontChange,
            QtCore.QEvent.Type.StyleChange,
        ):
            self._layer = None
            self._label_width = None
            self.updateGeometry()
        super().changeEvent(event)

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        ratio = self.devicePixelRatioF()
        if self._layer is None or self._layer.devicePixelRatio() != ratio:
            self._layer = self._paint_layer(ratio)
        painter = QtGui.QPainter(self)
        painter.drawPixmap(0, 0, self._layer)
        self._paint_overlay(painter)

    def _paint_layer(self, ratio: float) -> QtGui.QPixmap:
        self.layer_builds += 1
        pixmap = QtGui.QPixmap(
            max(1, math.ceil(self.width() * ratio)), max(1, math.ceil(self.height() * ratio))
        )
        pixmap.setDevicePixelRatio(ratio)
        palette = self.palette()
        pixmap.fill(palette.color(QtGui.QPalette.ColorRole.Base))
        painter = QtGui.QPainter(pixmap)
        painter.setFont(self.font())
        try:
            if self.index is not None and self.span > 0:
                self._paint_ruler(painter)
                self._paint_lanes(painter)
                self._paint_gaps(painter)
                self._paint_matches(painter)
            if self.message:
                self._paint_message(painter)
        finally:
            painter.end()
        return pixmap

    def _colour(self, role: QtGui.QPalette.ColorRole) -> QtGui.QColor:
        return self.palette().color(role)

    def _muted(self) -> QtGui.QColor:
        text = self._colour(QtGui.QPalette.ColorRole.Text)
        base = self._colour(QtGui.QPalette.ColorRole.Base)
        return _mix(text, base, 0.55)

    def _paint_ruler(self, painter: QtGui.QPainter) -> None:
        assert self.index is not None
        plot = self.plot_rect()
        metrics = self.fontMetrics()
        ruler = self.ruler_height()
        bottom = self.lanes_top() + len(self.shown_lanes()) * self.lane_height()
        grid = _mix(
            self._colour(QtGui.QPalette.ColorRole.Text),
            self._colour(QtGui.QPalette.ColorRole.Base),
            0.15,
        )
        label_room = metrics.horizontalAdvance("00:00") * 1.8
        step_ms = _TICK_MINUTES[-1] * 60_000
        for minutes in _TICK_MINUTES:
            if minutes * 60_000 / self.span * plot.width() >= label_room:
                step_ms = minutes * 60_000
                break
        first = (
            self.index.start_ms
            + math.ceil((self.view_start - self.index.start_ms) / step_ms) * step_ms
        )
        painter.setPen(self._colour(QtGui.QPalette.ColorRole.Text))
        tick = first
        while tick <= self.view_end:
            x = round(self.x_of(tick))
            painter.setPen(grid)
            painter.drawLine(x, ruler - metrics.descent(), x, bottom)
            painter.setPen(self._colour(QtGui.QPalette.ColorRole.Text))
            label = local_time(tick)
            width = metrics.horizontalAdvance(label)
            left = min(max(x - width // 2, plot.left()), plot.right() - width)
            painter.drawText(left, metrics.ascent() + 2, label)
            tick += step_ms
        self._paint_density(painter)

    def _columns(self, times: np.ndarray) -> np.ndarray:
        """The plot column (0..width-1) of each time, for times inside the view."""
        plot = self.plot_rect()
        share = (times - self.view_start) / self.span
        return np.clip((share * plot.width()).astype(np.int64), 0, plot.width() - 1)

    def _frame_spans(self, window: slice) -> tuple[np.ndarray, np.ndarray]:
        """First and last-plus-one plot column each visible frame stands for."""
        assert self.index is not None
        times = self.index.times
        starts = times[window]
        following = times[window.start + 1 : window.stop + 1]
        if len(following) < len(starts):
            following = np.append(following, np.int64(self.view_end))
        ends = np.minimum(following, starts + FRAME_HOLD_MS)
        width = self.plot_rect().width()
        first = ((starts - self.view_start) / self.span * width).astype(np.int64)
        last = np.ceil((ends - self.view_start) / self.span * width).astype(np.int64)
        return first, last

    def _visible_frames(self) -> slice:
        assert self.index is not None
        times = self.index.times
        first = int(np.searchsorted(times, self.view_start, side="left"))
        last = int(np.searchsorted(times, self.view_end, side="left"))
        return slice(first, last)

    def _paint_density(self, painter: QtGui.QPainter) -> None:
        assert self.index is not None
        plot = self.plot_rect()
        window = self._visible_frames()
        times = self.index.times[window]
        if not len(times):
            return
        mask = None
        if self.app_filter is not None:
            code = self.index.app_code(self.app_filter)
            mask = self.index.frame_apps[window] == code
            times = times[mask]
        counts = np.bincount(self._columns(times), minlength=plot.width()) if len(times) else None
        if counts is None or not counts.any():
            return
        first, last = self._frame_spans(window)
        if mask is not None:
            first, last = first[mask], last[mask]
        covered = _coverage(first, last, plot.width())
        top = self.ruler_height()
        height = self.density_height()
        scale = height / max(1.0, float(np.percentile(counts[counts > 0], 95)))
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        # Quieter than the lanes: it says where capture ran, the lanes say what.
        painter.setBrush(
            _mix(
                self._colour(QtGui.QPalette.ColorRole.Text),
                self._colour(QtGui.QPalette.ColorRole.Base),
                0.3,
            )
        )
        # One rect per run of columns of equal height: at most one per pixel.
        heights = np.minimum(np.ceil(counts * scale), height).astype(np.int64)
        # Where capture ran but skipped unchanged screens: a low band, not nothing.
        heights = np.maximum(heights, covered * max(1, height // 3))
        for start, end, value in _runs(heights):
            if value > 0:
                painter.drawRect(
                    QtCore.QRectF(plot.left() + start, top + height - value, end - start, value)
                )

    def _paint_lanes(self, painter: QtGui.QPainter) -> None:
        assert self.index is not None
        index = self.index
        plot = self.plot_rect()
        lane_h = self.lane_height()
        top = self.lanes_top()
        metrics = self.fontMetrics()
        alt = self._colour(QtGui.QPalette.ColorRole.AlternateBase)
        text = self._colour(QtGui.QPalette.ColorRole.Text)
        window = self._visible_frames()
        first, last = self._frame_spans(window)
        frame_lanes = index.frame_lanes[window]
        frame_apps = index.frame_apps[window]
        width = plot.width()
        colours = [QtGui.QColor(app_colour(app or None)) for app in index.apps]
        for row, (lane, label) in enumerate(self.shown_lanes()):
            y = top + row * lane_h
            if row % 2:
                painter.fillRect(QtCore.QRect(0, y, self.width(), lane_h), alt)
            painter.setPen(text)
            painter.drawText(
                QtCore.QRect(4, y, self.label_width() - 8, lane_h),
                int(QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft),
                metrics.elidedText(
                    label, QtCore.Qt.TextElideMode.ElideRight, self.label_width() - 8
                ),
            )
            # Which block (its app's colour) covers each column: one value per pixel.
            codes = np.full(width, -1, dtype=np.int64)
            if lane >= 0:
                sources, only = [index.lane_blocks[lane]], None
            else:  # one app's lane: its blocks wherever its lane was
                sources, only = index.lane_blocks, index.app_code(self.app_filter)
            for lane_blocks in sources:
                for n in lane_blocks.visible(self.view_start, self.view_end):
                    code = int(lane_blocks.app_codes[n])
                    if only is not None and code != only:
                        continue
                    x0 = int((lane_blocks.starts[n] - self.view_start) / self.span * width)
                    x1 = math.ceil((lane_blocks.ends[n] - self.view_start) / self.span * width)
                    x0, x1 = max(x0, 0), min(max(x1, x0 + 1), width)
                    if x0 < width and x1 > 0:
                        codes[x0:x1] = code
            block_top = y + lane_h * 0.15
            block_h = lane_h * 0.7
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            for start, end, value in _runs(codes):
                if value >= 0:
                    painter.setBrush(colours[value])
                    painter.drawRect(
                        QtCore.QRectF(plot.left() + start, block_top, end - start, block_h)
                    )
            # Frames of this lane, column by column, as a strip along the lane's bottom:
            # what was captured even where no episode was made of it.
            if len(first):
                if lane >= 0:
                    mask = frame_lanes == lane
                else:
                    mask = frame_apps == index.app_code(self.app_filter)
                present = _coverage(first[mask], last[mask], width)
                strip_h = max(2.0, lane_h * 0.12)
                painter.setBrush(self._muted())
                for start, end, value in _runs(present):
                    if value:
                        painter.drawRect(
                            QtCore.QRectF(
                                plot.left() + start, y + lane_h - strip_h - 1, end - start, strip_h
                            )
                        )

    def _paint_gaps(self, painter: QtGui.QPainter) -> None:
        assert self.index is not None
        index = self.index
        plot = self.plot_rect()
        top = self.ruler_height()
        bottom = self.lanes_top() + max(1, len(self.shown_lanes())) * self.lane_height()
        metrics = self.fontMetrics()
        grey = _mix(
            self._colour(QtGui.QPalette.ColorRole.Text),
            self._colour(QtGui.QPalette.ColorRole.Base),
            0.12,
        )
        hatch = _mix(
            self._colour(QtGui.QPalette.ColorRole.Text),
            self._colour(QtGui.QPalette.ColorRole.Base),
            0.35,
        )
        for gap, start, end in zip(index.gaps, index.gap_starts, index.gap_ends, strict=True):
            if end <= self.view_start or start >= self.view_end:
                continue
            x0 = max(self.x_of(float(start)), float(plot.left()))
            x1 = min(self.x_of(float(end)), float(plot.right() + 1))
            if x1 - x0 < 1:
                x1 = x0 + 1
            rect = QtCore.QRectF(x0, top, x1 - x0, bottom - top)
            painter.fillRect(rect, grey)
            painter.fillRect(rect, QtGui.QBrush(hatch, QtCore.Qt.BrushStyle.BDiagPattern))
            label = gap.reason
            if metrics.horizontalAdvance(label) + 8 <= rect.width():
                painter.setPen(self._colour(QtGui.QPalette.ColorRole.Text))
                back = QtCore.QRectF(
                    rect.center().x() - metrics.horizontalAdvance(label) / 2 - 3,
                    self.lanes_top() + 2,
                    metrics.horizontalAdvance(label) + 6,
                    metrics.height(),
                )
                painter.fillRect(back, grey)
                painter.drawText(back, int(QtCore.Qt.AlignmentFlag.AlignCenter), label)

    def _paint_matches(self, painter: QtGui.QPainter) -> None:
        if not self.matches:
            return
        highlight = self._colour(QtGui.QPalette.ColorRole.Highlight)
        line = QtGui.QColor(highlight)
        line.setAlpha(150)
        ruler = self.ruler_height()
        bottom = self.lanes_top() + max(1, len(self.shown_lanes())) * self.lane_height()
        size = self.fontMetrics().height() * 0.35
        for n, at in enumerate(self.matches):
            if not self.view_start <= at < self.view_end:
                continue
            x = self.x_of(at)
            current = n == self.current_match
            painter.setPen(QtGui.QPen(highlight if current else line, 3 if current else 1))
            painter.drawLine(QtCore.QPointF(x, ruler), QtCore.QPointF(x, bottom))
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            painter.setBrush(highlight)
            painter.drawPolygon(
                QtGui.QPolygonF(
                    [
                        QtCore.QPointF(x - size, ruler - size * 1.6),
                        QtCore.QPointF(x + size, ruler - size * 1.6),
                        QtCore.QPointF(x, ruler),
                    ]
                )
            )

    def _paint_message(self, painter: QtGui.QPainter) -> None:
        assert self.message is not None
        rect = QtCore.QRect(
            self.label_width(),
            self.lanes_top(),
            self.plot_rect().width(),
            self.height() - self.lanes_top(),
        )
        if self.index is None or not len(self.index):
            rect = self.rect().adjusted(12, 12, -12, -12)
        font = QtGui.QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        painter.setFont(font)
        painter.setPen(self._colour(QtGui.QPalette.ColorRole.Text))
        painter.drawText(
            rect,
            int(QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap),
            self.message,
        )
        painter.setFont(self.font())

    def _paint_overlay(self, painter: QtGui.QPainter) -> None:
        if self.index is None:
            return
        bottom = self.lanes_top() + max(1, len(self.shown_lanes())) * self.lane_height()
        plot = self.plot_rect()
        if self.range is not None:
            left = max(self.x_of(self.range[0]), plot.left())
            right = min(self.x_of(self.range[1]), plot.right())
            if right > left:
                band = QtGui.QColor(self._colour(QtGui.QPalette.ColorRole.Highlight))
                band.setAlpha(60)
                painter.fillRect(QtCore.QRectF(left, 0, right - left, bottom), band)
        if self._hover_x is not None and not self._dragging:
            hover = QtGui.QColor(self._colour(QtGui.QPalette.ColorRole.Text))
            hover.setAlpha(90)
            painter.setPen(QtGui.QPen(hover, 1))
            painter.drawLine(self._hover_x, self.ruler_height(), self._hover_x, bottom)
        if self.selected is not None and self.view_start <= self.selected <= self.view_end:
            x = self.x_of(self.selected)
            highlight = self._colour(QtGui.QPalette.ColorRole.Highlight)
            painter.setPen(QtGui.QPen(highlight, 2))
            painter.drawLine(QtCore.QPointF(x, 0), QtCore.QPointF(x, bottom))
            metrics = self.fontMetrics()
            label = local_time(self.selected, seconds=True)
            width = metrics.horizontalAdvance(label) + 8
            left = min(max(x - width / 2, plot.left()), plot.right() - width)
            box = QtCore.QRectF(left, 0, width, metrics.height() + 2)
            painter.fillRect(box, highlight)
            painter.setPen(self._colour(QtGui.QPalette.ColorRole.HighlightedText))
            painter.drawText(box, int(QtCore.Qt.AlignmentFlag.AlignCenter), label)
        if self.hasFocus():
            focus = QtGui.QColor(self._colour(QtGui.QPalette.ColorRole.Highlight))
            painter.setPen(QtGui.QPen(focus, 1, QtCore.Qt.PenStyle.DotLine))
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawRect(self.rect().adjusted(0, 0, -1, -1))

    # -- what is under the pointer ------------------------------------------------------------
    def describe(self, point: QtCore.QPointF) -> str | None:
        """The hover text at `point`: the time, and the app and title of what is there."""
        if self.index is None or point.x() < self.plot_rect().left():
            return None
        at = self.time_at(point.x())
        when = local_time(at, seconds=self.span <= 2 * 3600_000)
        gap = self.index.gap_at(at)
        if gap is not None:
            start, end = gap.start.timestamp() * 1000, gap.end.timestamp() * 1000
            return f"{local_time(start)}–{local_time(end)} · capture off: {gap.reason}"
        row = self.lane_at(point.y())
        block = None
        if row is not None:
            lane, _label = self.shown_lanes()[row]
            if lane >= 0:
                block = self.index.block_at(lane, at)
            else:
                for number in range(len(self.index.lanes)):
                    found = self.index.block_at(number, at)
                    if found is not None and found.app == self.app_filter:
                        block = found
        if block is not None:
            title = f" — {block.title}" if block.title else ""
            span = (
                f"{local_time(block.start.timestamp() * 1000)}–"
                f"{local_time(block.end.timestamp() * 1000)}"
            )
            return f"{when} · {block.app}{title}\n{span}"
        nearest = self.index.nearest(at, self.app_filter)
        if nearest is None:
            return when
        stamp = self.index.stamp(nearest)
        if abs(self.index.time_ms(nearest) - at) > max(self.span / 200, 10_000):
            return f"{when} · nothing captured here"
        app = stamp.app or "unknown app"
        title = f" — {stamp.title}" if stamp.title else ""
        return f"{when} · {app}{title}"

    # -- mouse and keys -----------------------------------------------------------------------
    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        shift = event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self.index is not None and shift:
            self._range_anchor = self.time_at(event.position().x())
            self.set_range(None)
            return
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self.index is not None:
            self._dragging = True
            QtWidgets.QToolTip.hideText()
            self.scrubbed.emit(self.time_at(event.position().x()))
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        x = round(event.position().x())
        if self._range_anchor is not None:
            self.set_range((self._range_anchor, self.time_at(event.position().x())))
            return
        if self._dragging:
            self.scrubbed.emit(self.time_at(event.position().x()))
            return
        if x != self._hover_x:
            self._hover_x = x if x >= self.plot_rect().left() else None
            self.update()
        text = self.describe(event.position())
        if text:
            QtWidgets.QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QtWidgets.QToolTip.hideText()

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self._range_anchor is not None:
            self.set_range((self._range_anchor, self.time_at(event.position().x())))
            self._range_anchor = None
            return
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self._dragging:
            self._dragging = False
            self.update()
            return
        super().mouseReleaseEvent(event)

    def forget_menu(self, point: QtCore.QPointF) -> QtWidgets.QMenu:
        """The context menu at `point`: forget the selected range, or the lane's app."""
        menu = QtWidgets.QMenu(self)
        if self.range is not None:
            start, end = self.range
            span = f"{local_time(start)}–{local_time(end)}"
            menu.addAction(
                f"Forget {span}…", lambda: self.forget_requested.emit("range", self.range)
            )
        else:
            hint = menu.addAction("Shift+drag to select a range to forget")
            hint.setEnabled(False)
        row = self.lane_at(point.y())
        if row is not None and point.x() >= self.plot_rect().left():
            app = self.shown_lanes()[row][1]
            if app != OTHER:
                menu.addAction(
                    f"Forget everything from {app}…",
                    lambda: self.forget_requested.emit("app", app),
                )
        return menu

    def contextMenuEvent(self, event: QtGui.QContextMenuEvent) -> None:
        if self.index is None:
            return
        self.forget_menu(QtCore.QPointF(event.pos())).exec(event.globalPos())

    def leaveEvent(self, event: QtCore.QEvent) -> None:
        self._hover_x = None
        self.update()
        super().leaveEvent(event)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        if self.index is None:
            return
        delta = event.angleDelta()
        notches = (delta.y() or delta.x()) / 120
        if not notches:
            return
        if event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
            self.zoom(_ZOOM_STEP**notches, self.time_at(event.position().x()))
        else:
            shift = -notches * self.span * 0.1
            self.set_view(self.view_start + shift, self.view_end + shift)
        event.accept()


def _coverage(starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """1 for each column that one of the [start, end) column spans covers, else 0."""
    marks = np.zeros(width + 1, dtype=np.int64)
    if len(starts):
        np.add.at(marks, np.clip(starts, 0, width), 1)
        np.add.at(marks, np.clip(np.maximum(ends, starts + 1), 0, width), -1)
    return (np.cumsum(marks[:-1]) > 0).astype(np.int64)


def _runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, value) of each run of equal values: at most one per pixel column."""
    if not len(values):
        return []
    edges = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(values)]))
    return [(int(s), int(e), int(values[s])) for s, e in zip(starts, ends, strict=True)]


def _mix(first: QtGui.QColor, second: QtGui.QColor, weight: float) -> QtGui.QColor:
    """`weight` of `first` and the rest of `second`."""
    return QtGui.QColor.fromRgbF(
        first.redF() * weight + second.redF() * (1 - weight),
        first.greenF() * weight + second.greenF() * (1 - weight),
        first.blueF() * weight + second.blueF() * (1 - weight),
    )
