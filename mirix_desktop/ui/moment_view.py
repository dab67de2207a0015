"""One captured moment, legible: the frame's picture with its OCR text drawn at its boxes.

The stored thumbnail is small (a few hundred pixels wide) and too blurry to
read once scaled to the screen it came from, so the text OCR read is drawn
over it, each line in its own box, sized to the box, on a veil of the
palette's base colour: the picture says where things were, the text says
what they said. Lines are items of a QGraphicsScene: click one, or drag a
rectangle over several, and Ctrl+C copies them in reading order; "Copy all
text" copies the whole frame. Words a search matched are marked at their
boxes (app/timeline.py's `match_boxes`). "Text" hides the text to see the
bare picture. Ctrl+wheel zooms in to read (the zoom is kept while stepping
through moments); a double-click shows the whole screen again.

Above the picture: the time, app, window title and address. A thumbnail
that is missing or cannot be decoded leaves the text alone on a blank
frame, and says so; a moment that cannot be loaded at all says why.

The picture is decoded into a QImage by the worker that loaded the moment
(`ShownMoment.prepare`), so selecting a moment costs the GUI thread only
the scene's few hundred items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mirix_desktop.app.timeline import LineBox, Moment, match_boxes
from mirix_desktop.ui.qt import QtCore, QtGui, QtWidgets, Signal

# The veil behind each line: opaque enough to read, thin enough to see the picture.
_VEIL_ALPHA = 215
_MATCH_COLOUR = "#ffcc00"


@dataclass(frozen=True)
class ShownMoment:
    """A moment with its picture decoded (on the worker), ready to show."""

    moment: Moment
    image: QtGui.QImage | None
    problem: str | None  # why there is no picture, in words, or None

    @classmethod
    def prepare(cls, moment: Moment) -> ShownMoment:
        image: QtGui.QImage | None = None
        problem = moment.problem
        if moment.thumbnail:
            decoded = QtGui.QImage.fromData(moment.thumbnail)
            if decoded.isNull():
                problem = problem or "its picture cannot be read (the stored thumbnail is damaged)"
            else:
                image = decoded
        elif problem is None:
            problem = "no picture was kept for this moment"
        return cls(moment, image, problem)


def reading_order(lines: Sequence[LineBox]) -> list[LineBox]:
    """Top to bottom, then left to right (lines on one row share most of their height)."""
    return sorted(lines, key=lambda line: (round(line.y / max(line.height, 1)), line.x))


def lines_text(lines: Sequence[LineBox]) -> str:
    return "\n".join(line.text for line in reading_order(lines))


class LineItem(QtWidgets.QGraphicsItem):
    """One OCR line drawn in its box: selectable, its text squeezed to the box's width."""

    def __init__(self, line: LineBox, palette: QtGui.QPalette) -> None:
        super().__init__()
        self.line = line
        self._palette = palette
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setToolTip(line.text)
        self.setAcceptHoverEvents(False)
        self._rect = QtCore.QRectF(line.x, line.y, max(line.width, 1), max(line.height, 1))
        self._font = QtGui.QFont()
        self._font.setPixelSize(max(1, round(self._rect.height() * 0.78)))
        advance = QtGui.QFontMetricsF(self._font).horizontalAdvance(line.text)
        self._stretch = self._rect.width() / advance if advance > 0 else 1.0

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionGraphicsItem,
        widget: QtWidgets.QWidget | None = None,
    ) -> None:
        role = QtGui.QPalette.ColorRole
        selected = self.isSelected()
        veil = QtGui.QColor(self._palette.color(role.Highlight if selected else role.Base))
        veil.setAlpha(255 if selected else _VEIL_ALPHA)
        painter.fillRect(self._rect, veil)
        painter.setPen(self._palette.color(role.HighlightedText if selected else role.Text))
        painter.setFont(self._font)
        painter.save()
        painter.translate(self._rect.left(), self._rect.top())
        painter.scale(self._stretch, 1.0)
        painter.drawText(
            QtCore.QRectF(0, 0, self._rect.width() / self._stretch, self._rect.height()),
            int(QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft),
            self.line.text,
        )
        painter.restore()


class MatchItem(QtWidgets.QGraphicsRectItem):
    """A matched word's box: a bright outline and a light wash over the text."""


class PictureView(QtWidgets.QGraphicsView):
    """The scene fitted to the view; keys that move through time are left to the window."""

    copy_requested = Signal()

    _TIME_KEYS = frozenset(
        {
            QtCore.Qt.Key.Key_Left,
            QtCore.Qt.Key.Key_Right,
            QtCore.Qt.Key.Key_PageUp,
            QtCore.Qt.Key.Key_PageDown,
            QtCore.Qt.Key.Key_Home,
            QtCore.Qt.Key.Key_End,
        }
    )

    def __init__(self, scene: QtWidgets.QGraphicsScene, parent: QtWidgets.QWidget | None = None):
        super().__init__(scene, parent)
        self.setDragMode(QtWidgets.QGraphicsView.DragMode.RubberBandDrag)
        self.setRenderHints(
            QtGui.QPainter.RenderHint.Antialiasing
            | QtGui.QPainter.RenderHint.SmoothPixmapTransform
            | QtGui.QPainter.RenderHint.TextAntialiasing
        )
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setToolTip("Ctrl+wheel zooms in to read; double-click shows the whole screen again")
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)

        self.setTransformationAnchor(QtWidgets.QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.zoomed = False  # by Ctrl+wheel: kept from moment to moment, to read one place

    def fit(self, *, force: bool = False) -> None:
        """The whole frame in view, unless the person zoomed in (then `force` only)."""
        if self.zoomed and not force:
            return
        self.zoomed = False
        policy = QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        self.setHorizontalScrollBarPolicy(policy)
        self.setVerticalScrollBarPolicy(policy)
        rect = self.sceneRect()
        if rect.width() > 0 and rect.height() > 0:
            self.fitInView(rect, QtCore.Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        if not event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(event)
            return
        factor = 1.25 ** (event.angleDelta().y() / 120)
        self.zoomed = True
        policy = QtCore.Qt.ScrollBarPolicy.ScrollBarAsNeeded
        self.setHorizontalScrollBarPolicy(policy)
        self.setVerticalScrollBarPolicy(policy)
        self.scale(factor, factor)
        event.accept()

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:
        self.fit(force=True)  # back to the whole frame
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.matches(QtGui.QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            return
        if event.key() in self._TIME_KEYS:
            event.ignore()  # the window steps through time
            return
        super().keyPressEvent(event)


class MomentView(QtWidgets.QWidget):
    """The selected moment: its facts above, its picture and text below."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("momentView")
        self.shown: ShownMoment | None = None
        self.words: list[str] = []
        self.line_items: list[LineItem] = []
        self.match_items: list[MatchItem] = []
        self._picture: QtWidgets.QGraphicsPixmapItem | None = None
        self._blank: QtWidgets.QGraphicsRectItem | None = None

        self.when_label = self._label("momentWhen")
        bold = QtGui.QFont(self.when_label.font())
        bold.setBold(True)
        self.when_label.setFont(bold)
        self.app_label = self._label("momentApp")
        self.title_label = self._label("momentTitle")
        self.url_label = self._label("momentUrl")
        self.problem_label = self._label("momentProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        self.message_label = self._label("momentMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.message_label.hide()

        self.show_text_box = QtWidgets.QCheckBox("&Text")
        self.show_text_box.setChecked(True)
        self.show_text_box.setToolTip("Draw the text read on the screen over the picture")
        self.show_text_box.toggled.connect(self._set_text_visible)
        self.copy_button = QtWidgets.QPushButton("Copy &all text")
        self.copy_button.setObjectName("copyAllText")
        self.copy_button.setToolTip("Copy every line of text read in this moment")
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(self.copy_all)

        self.scene = QtWidgets.QGraphicsScene(self)
        self.view = PictureView(self.scene)
        self.view.setObjectName("momentPicture")
        self.view.setAccessibleName("Moment picture and text")
        self.view.copy_requested.connect(self.copy_selected)
        self.view.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)

        facts = QtWidgets.QVBoxLayout()
        facts.setSpacing(0)
        facts.addWidget(self.when_label)
        facts.addWidget(self.app_label)
        facts.addWidget(self.title_label)
        facts.addWidget(self.url_label)
        buttons = QtWidgets.QVBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.show_text_box)
        buttons.addStretch(1)
        header = QtWidgets.QHBoxLayout()
        header.addLayout(facts, 1)
        header.addLayout(buttons)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.message_label, 1)
        layout.addWidget(self.view, 1)
        self.show_message("Pick a moment on the timeline above.")

    def _label(self, name: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel()
        label.setObjectName(name)
        # Screen text is data: never rich text.
        label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
            | QtCore.Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        return label

    # -- what it shows ------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """No moment: only `text` (an empty day, a moment that could not be loaded)."""
        self.shown = None
        self.scene.clear()
        self.line_items, self.match_items = [], []
        self._picture = self._blank = None
        for label in (self.when_label, self.app_label, self.title_label, self.url_label):
            label.clear()
        self.problem_label.hide()
        self.message_label.setText(text)
        self.message_label.show()
        self.view.hide()
        self.copy_button.setEnabled(False)

    def show_moment(self, shown: ShownMoment, words: Sequence[str] = ()) -> None:
        moment = shown.moment
        self.shown = shown
        self.message_label.hide()
        self.view.show()
        when = moment.at.astimezone()
        self.when_label.setText(when.strftime("%A %d %B %Y, %H:%M:%S"))
        self.app_label.setText(moment.app or "Unknown app")
        self.title_label.setText(moment.title or "")
        self.title_label.setVisible(bool(moment.title))
        self.url_label.setText(moment.url or "")
        self.url_label.setVisible(bool(moment.url))
        if shown.problem:
            extra = " Its text is shown alone." if moment.lines else ""
            self.problem_label.setText(f"No picture: {shown.problem}.{extra}")
            self.problem_label.show()
        else:
            self.problem_label.hide()
        self.copy_button.setEnabled(bool(moment.lines))

        self.scene.clear()
        self.line_items, self.match_items = [], []
        self._picture = self._blank = None
        width, height = _frame_size(shown)
        frame_rect = QtCore.QRectF(0, 0, width, height)
        palette = self.palette()
        if shown.image is not None:
            pixmap = QtGui.QPixmap.fromImage(shown.image)
            self._picture = self.scene.addPixmap(pixmap)
            self._picture.setTransformationMode(QtCore.Qt.TransformationMode.SmoothTransformation)
            self._picture.setTransform(
                QtGui.QTransform.fromScale(width / pixmap.width(), height / pixmap.height())
            )
        else:
            self._blank = self.scene.addRect(
                frame_rect,
                QtGui.QPen(palette.color(QtGui.QPalette.ColorRole.Mid)),
                QtGui.QBrush(palette.color(QtGui.QPalette.ColorRole.AlternateBase)),
            )
        for line in moment.lines:
            item = LineItem(line, palette)
            item.setVisible(self.show_text_box.isChecked() or shown.image is None)
            self.scene.addItem(item)
            self.line_items.append(item)
        self.scene.setSceneRect(frame_rect)
        self.set_words(words)
        self.view.fit()

    def set_words(self, words: Sequence[str]) -> None:
        """Marks the boxes of `words` (a search's matched words) in the moment shown."""
        self.words = list(words)
        for item in self.match_items:
            self.scene.removeItem(item)
        self.match_items = []
        if self.shown is None or not self.words:
            return
        colour = QtGui.QColor(_MATCH_COLOUR)
        wash = QtGui.QColor(colour)
        wash.setAlpha(90)
        # A frame is a screen wide: the outline must survive being scaled down.
        pen = QtGui.QPen(colour, 3)
        pen.setCosmetic(True)
        for x, y, w, h in match_boxes(self.shown.moment.lines, self.words):
            item = MatchItem(QtCore.QRectF(x, y, w, h))
            item.setPen(pen)
            item.setBrush(wash)
            item.setZValue(2)
            self.scene.addItem(item)
            self.match_items.append(item)

    def _set_text_visible(self, visible: bool) -> None:
        no_picture = self.shown is not None and self.shown.image is None
        for item in self.line_items:
            item.setVisible(visible or no_picture)

    # -- copying ------------------------------------------------------------------------------
    def all_text(self) -> str:
        return lines_text(self.shown.moment.lines) if self.shown is not None else ""

    def selected_text(self) -> str:
        chosen = [item.line for item in self.line_items if item.isSelected()]
        return lines_text(chosen)

    def copy_all(self) -> None:
        _to_clipboard(self.all_text())

    def copy_selected(self) -> None:
        """Copies the selected lines, or every line when none is selected."""
        _to_clipboard(self.selected_text() or self.all_text())

    def select_all(self) -> None:
        for item in self.line_items:
            item.setSelected(True)

    def _context_menu(self, point: QtCore.QPoint) -> None:
        menu = QtWidgets.QMenu(self)
        copy = menu.addAction("Copy")
        copy.setEnabled(any(item.isSelected() for item in self.line_items))
        copy.triggered.connect(self.copy_selected)
        menu.addAction("Copy all text", self.copy_all)
        menu.addAction("Select all", self.select_all)
        menu.exec(self.view.viewport().mapToGlobal(point))

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange and self.shown is not None:
            self.show_moment(self.shown, self.words)


def _frame_size(shown: ShownMoment) -> tuple[float, float]:
    """The frame's size in the coordinates of its text boxes (the screen it was taken of)."""
    moment = shown.moment
    if moment.width > 0 and moment.height > 0:
        return float(moment.width), float(moment.height)
    if shown.image is not None:
        return float(shown.image.width()), float(shown.image.height())
    right = max((line.x + line.width for line in moment.lines), default=640)
    bottom = max((line.y + line.height for line in moment.lines), default=360)
    return float(right), float(bottom)


def _to_clipboard(text: str) -> None:
    clipboard = QtGui.QGuiApplication.clipboard()
    if clipboard is not None and text:
        clipboard.setText(text)
