"""The timeline ("MIRIX — Timeline"): a day of screen activity, and any moment of it, legible.

Top: the day (◀ date ▶, Today), the search box (this day or all days) and
the zoom. Middle: the axis (ui/timeline_axis.py: one lane per app, episode
blocks, gaps with their reason, search marks) beside the time per app
(ui/app_chart.py; a click shows only that app), and a strip of thumbnails
around the selection. Bottom: the selected moment, its text drawn over its
picture (ui/moment_view.py).

`open_moment(MomentRef)` is the one way in from elsewhere: chat citations,
quick-query results, `mirix-desktop show timeline`, the IPC `show`
command. Keys: ←/→ frame by frame, Home/End the day's first and last
frame, PgUp/PgDn the previous and next day, + and − zoom, Ctrl+F search,
Enter and Shift+Enter (or F3 and Shift+F3) the next and previous match.

Every store call runs on a worker (ui/workers.py). Each kind of request
carries a generation number and a result that arrives after a newer
request is dropped; a moment is loaded one at a time, the newest wanted
next, so dragging across 10,000 frames never queues 10,000 loads.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from mirix_desktop.app.forget import ForgetFilter
from mirix_desktop.app.timeline import (
    MomentRef,
    TimelineMatch,
    frame_thumbnails,
    load_day,
    load_moment,
    resolve,
    search_timeline,
)
from mirix_desktop.config import Settings
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import AppPaths
from mirix_desktop.ui.app_chart import AppChart
from mirix_desktop.ui.day_index import DayIndex, ms
from mirix_desktop.ui.forget_dialog import confirm_and_forget
from mirix_desktop.ui.moment_view import MomentView, ShownMoment
from mirix_desktop.ui.qt import QtCore, QtGui, QTimer, QtWidgets, Signal
from mirix_desktop.ui.sizing import text_size
from mirix_desktop.ui.thumbnail_strip import STRIP_FRAMES, StripTile, ThumbnailStrip
from mirix_desktop.ui.timeline_axis import TimelineAxis
from mirix_desktop.ui.workers import Workers

log = logging.getLogger("mirix.ui.timeline")

TITLE = "MIRIX — Timeline"
# A moment opened from elsewhere is shown with this much of its day around it.
OPEN_SPAN = timedelta(hours=2)
_STRIP_DELAY_MS = 60  # the strip follows a drag once it pauses
_THUMB_CACHE = 400
_ZOOM_STEP = 1.5


class TimelineServices(Protocol):
    """What the timeline needs of the application layer (AppServices has it)."""

    paths: AppPaths
    settings: Settings

    def store(self) -> MemoryStore: ...


@dataclass(frozen=True)
class Target:
    """Which frame to select once a day is shown."""

    frame_id: int | None = None
    at_ms: float | None = None
    edge: str | None = None  # "first" or "last"
    zoom_around: bool = False  # open a span around it (a moment opened from elsewhere)


def local_today() -> date:
    return datetime.now().astimezone().date()


def day_of(moment: datetime) -> date:
    return moment.astimezone().date()


def long_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


class SearchBox(QtWidgets.QLineEdit):
    """Enter searches or goes to the next match; Shift+Enter to the previous one."""

    submitted = Signal(bool)  # backwards

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter):
            shift = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
            self.submitted.emit(shift)
            return
        super().keyPressEvent(event)


class TimelineWindow(QtWidgets.QMainWindow):
    """See the module docstring."""

    day_shown = Signal(object)  # DayIndex
    moment_shown = Signal(object)  # ShownMoment
    search_done = Signal(object)  # list[TimelineMatch]

    axis: TimelineAxis
    chart: AppChart
    strip: ThumbnailStrip
    moment_view: MomentView

    def __init__(
        self,
        services: TimelineServices,
        parent: QtWidgets.QWidget | None = None,
        *,
        today: Callable[[], date] = local_today,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self._today = today
        self.setWindowTitle(TITLE)
        self.setObjectName("timelineWindow")
        self.workers = Workers(self, max_threads=2)
        self.index: DayIndex | None = None
        self.day: date | None = None
        self.selected_index: int | None = None
        self.app_filter: str | None = None
        self.matches: list[TimelineMatch] = []
        self.match_number: int | None = None
        self._searched: tuple[str, bool, date | None] | None = None
        self._generation = itertools.count(1)
        self._day_request = 0
        self._search_request = 0
        self._moment_wanted: int | None = None  # frame id
        self._moment_loading: int | None = None
        self._strip_loading = False
        self._thumbs: OrderedDict[int, QtGui.QImage | None] = OrderedDict()
        self._started = False
        self._alive = True

        self._build_widgets()
        self._build_actions()
        self.statusBar()
        self._strip_timer = QTimer(self)
        self._strip_timer.setSingleShot(True)
        self._strip_timer.setInterval(_STRIP_DELAY_MS)
        self._strip_timer.timeout.connect(self._update_strip)
        self.resize(text_size(self, 150, 50))

    # -- the one way in -----------------------------------------------------------------------
    def open_moment(self, ref: MomentRef) -> None:
        """Shows the moment `ref` names: its day, its frame selected, the span around it."""
        request = self._day_request = next(self._generation)
        shown_day = self.day
        self.statusBar().showMessage("Finding that moment…")

        def work() -> tuple[date, int | None, DayIndex | None]:
            store = self.services.store()
            day, frame_id = resolve(store, ref)
            index = DayIndex.build(load_day(store, day)) if day != shown_day else None
            return day, frame_id, index

        def done(result: tuple[date, int | None, DayIndex | None]) -> None:
            if request != self._day_request:
                return
            day, frame_id, index = result
            target = Target(frame_id=frame_id, at_ms=ms(ref.at), zoom_around=True)
            if index is not None:
                self._show_index(day, index, target)
            else:
                self.statusBar().clearMessage()
                self._apply_target(target)

        self._run("open moment", work, done, self._failed("Cannot open that moment"))

    # -- days ---------------------------------------------------------------------------------
    def show_day(self, day: date, target: Target | None = None) -> None:
        """Loads `day` (on a worker) and shows it; `target` says what to select in it."""
        request = self._day_request = next(self._generation)
        self._set_date_edit(day)
        self.statusBar().showMessage(f"Loading {long_day(day)}…")

        def work() -> DayIndex:
            return DayIndex.build(load_day(self.services.store(), day))

        def done(index: DayIndex) -> None:
            if request == self._day_request:
                self._show_index(day, index, target or Target(edge="last"))

        self._run(f"load day {day}", work, done, self._failed("Cannot load that day"))

    def show_today(self) -> None:
        self.show_day(self._today())

    def step_day(self, days: int) -> None:
        """The day before or after, at the same time of day when there is a frame near it."""
        current = self.day or self._today()
        target = Target(edge="first" if days > 0 else "last")
        if self.selected_index is not None and self.index is not None:
            at = self.index.time_ms(self.selected_index)
            target = Target(at_ms=at + days * 86_400_000)
        self.show_day(current + timedelta(days=days), target)

    def _show_index(self, day: date, index: DayIndex, target: Target) -> None:
        self.statusBar().clearMessage()
        self.day, self.index = day, index
        self.selected_index = None
        self._set_date_edit(day)
        empty = not len(index)
        message = self.empty_text(day, index) if empty else None
        self.axis.set_day(index, message)
        self.chart.set_apps(index.day.apps)
        if self.app_filter is not None and index.app_code(self.app_filter) is None:
            self.app_filter = None
        self.chart.set_selected(self.app_filter)
        self.axis.set_app_filter(self.app_filter)
        self.strip.set_tiles([])
        if empty:
            assert message is not None
            self.moment_view.show_message(
                f"{message}\nPgUp and PgDn show the days before and after; Today, today."
            )
        else:
            self._apply_target(target)
        self._mark_matches()
        self.day_shown.emit(index)
        if self._searched is not None and not self._searched[1] and self._searched[2] != day:
            self._run_search(self._searched[0], backwards=False)  # "this day" follows the day

    def empty_text(self, day: date, index: DayIndex) -> str:
        text = f"Nothing was captured on {long_day(day)}."
        if day > self._today():
            return f"{text} That day has not come yet."
        reason = index.main_gap_reason()
        if reason:
            return f"{text} Capture was off: {reason}."
        return text

    def _apply_target(self, target: Target) -> None:
        index = self.index
        if index is None or not len(index):
            return
        chosen: int | None = None
        if target.frame_id is not None:
            chosen = index.index_of(target.frame_id)
        if chosen is None and target.at_ms is not None:
            chosen = index.nearest(target.at_ms, self.app_filter)
            if chosen is None:
                chosen = index.nearest(target.at_ms)
        if chosen is None:
            chosen = index.first(self.app_filter) if target.edge == "first" else None
        if chosen is None:
            chosen = index.last(self.app_filter) if target.edge != "first" else index.first()
        if chosen is None:
            chosen = index.last()
        if chosen is None:
            return
        if target.zoom_around:
            at = float(index.time_ms(chosen))
            half = OPEN_SPAN.total_seconds() * 500
            self.axis.set_view(at - half, at + half)
        self.select_index(chosen)

    # -- selecting a moment -------------------------------------------------------------------
    def select_index(self, frame_index: int) -> None:
        """Selects the day's `frame_index`-th frame: the axis line moves, its moment loads."""
        index = self.index
        if index is None or not 0 <= frame_index < len(index):
            return
        self.selected_index = frame_index
        at = float(index.time_ms(frame_index))
        self.axis.set_selected(at)
        self.axis.ensure_visible(at)
        self._want_moment(int(index.ids[frame_index]))
        self._strip_timer.start()

    def selected_frame_id(self) -> int | None:
        if self.index is None or self.selected_index is None:
            return None
        return int(self.index.ids[self.selected_index])

    def step(self, frames: int) -> None:
        if self.index is None:
            return
        if self.selected_index is None:
            chosen = self.index.first(self.app_filter)
        else:
            chosen = self.index.step(self.selected_index, frames, self.app_filter)
        if chosen is not None:
            self.select_index(chosen)

    def go_edge(self, last: bool) -> None:
        if self.index is None:
            return
        chosen = self.index.last(self.app_filter) if last else self.index.first(self.app_filter)
        if chosen is not None:
            self.select_index(chosen)

    def _on_scrubbed(self, at_ms: float) -> None:
        if self.index is None:
            return
        chosen = self.index.nearest(at_ms, self.app_filter)
        if chosen is not None and chosen != self.selected_index:
            self.select_index(chosen)

    def _want_moment(self, frame_id: int) -> None:
        self._moment_wanted = frame_id
        if self._moment_loading is None:
            self._load_moment(frame_id)

    def _load_moment(self, frame_id: int) -> None:
        self._moment_loading = frame_id

        def work() -> ShownMoment:
            return ShownMoment.prepare(load_moment(self.services.store(), frame_id))

        def done(shown: ShownMoment) -> None:
            self._moment_loading = None
            self._remember_thumb(shown.moment.frame_id, shown.image)
            if self._moment_wanted == frame_id:
                self.moment_view.show_moment(shown, self.match_words())
                self.moment_shown.emit(shown)
            elif self._moment_wanted is not None:
                self._load_moment(self._moment_wanted)

        def failed(text: str) -> None:
            self._moment_loading = None
            if self._moment_wanted == frame_id:
                self.moment_view.show_message(f"This moment cannot be shown: {text}")
            elif self._moment_wanted is not None:
                self._load_moment(self._moment_wanted)

        self._run(f"load moment {frame_id}", work, done, failed)

    # -- the thumbnail strip ------------------------------------------------------------------
    def strip_indices(self) -> list[int]:
        """Frames around the selection, spaced by the zoom, the selection in the middle."""
        index, chosen = self.index, self.selected_index
        if index is None or chosen is None:
            return []
        spacing = self.axis.span / (STRIP_FRAMES * 4)
        at = index.time_ms(chosen)
        half = STRIP_FRAMES // 2
        picked: list[int] = []
        for offset in range(-half, half + 1):
            if offset == 0:
                picked.append(chosen)
                continue
            near = index.nearest(at + offset * spacing, self.app_filter)
            if near is None:
                continue
            # At fine zoom the nearest frames repeat: step frame by frame instead.
            if near in picked or (offset > 0 and near <= chosen) or (offset < 0 and near >= chosen):
                near = index.step(chosen, offset, self.app_filter) or chosen
            if near not in picked:
                picked.append(near)
        return sorted(set(picked))

    def _update_strip(self) -> None:
        index = self.index
        if index is None or self.selected_index is None:
            self.strip.set_tiles([])
            return
        chosen = self.selected_index
        indices = self.strip_indices()
        self.strip.set_tiles(
            [
                StripTile(
                    n,
                    int(index.ids[n]),
                    index.time_ms(n),
                    self._thumbs.get(int(index.ids[n])),
                    n == chosen,
                )
                for n in indices
            ]
        )
        missing = [int(index.ids[n]) for n in indices if int(index.ids[n]) not in self._thumbs]
        if missing and not self._strip_loading:
            self._strip_loading = True
            height = self.strip.fontMetrics().lineSpacing() * 4 * 2  # sharp at 200 %

            def work() -> dict[int, QtGui.QImage | None]:
                stored = frame_thumbnails(self.services.store(), missing)
                found: dict[int, QtGui.QImage | None] = {}
                for frame_id in missing:
                    data = stored.get(frame_id)
                    image = QtGui.QImage.fromData(data) if data else None
                    if image is None or image.isNull():
                        found[frame_id] = None  # gone or damaged: a blank tile
                    elif image.height() > height:
                        found[frame_id] = image.scaledToHeight(
                            height, QtCore.Qt.TransformationMode.SmoothTransformation
                        )
                    else:
                        found[frame_id] = image
                return found

            def done(found: dict[int, QtGui.QImage | None]) -> None:
                self._strip_loading = False
                for frame_id, image in found.items():
                    self._remember_thumb(frame_id, image)
                self._update_strip()

            def failed(text: str) -> None:
                self._strip_loading = False
                log.info("thumbnails: %s", text)

            self._run("load thumbnails", work, done, failed)

    def _remember_thumb(self, frame_id: int, image: QtGui.QImage | None) -> None:
        self._thumbs[frame_id] = image
        self._thumbs.move_to_end(frame_id)
        while len(self._thumbs) > _THUMB_CACHE:
            self._thumbs.popitem(last=False)

    # -- search -------------------------------------------------------------------------------
    def _on_search_submitted(self, backwards: bool) -> None:
        query = self.search_box.text().strip()
        if not query:
            self.clear_search()
            return
        scope = (
            query,
            self.all_days_box.isChecked(),
            None if self.all_days_box.isChecked() else self.day,
        )
        if scope == self._searched and self.matches:
            self.next_match(backwards=backwards)
            return
        self._run_search(query, backwards=backwards)

    def _run_search(self, query: str, *, backwards: bool) -> None:
        all_days = self.all_days_box.isChecked()
        day = None if all_days else (self.day or self._today())
        request = self._search_request = next(self._generation)
        self._searched = (query, all_days, day)
        self.match_label.setText("Searching…")

        def work() -> list[TimelineMatch]:
            return search_timeline(self.services, query, day)

        def done(found: list[TimelineMatch]) -> None:
            if request != self._search_request:
                return
            self.matches = sorted(found, key=lambda match: match.at)
            self.match_number = None
            self._mark_matches()
            self.search_done.emit(self.matches)
            if not self.matches:
                reason = getattr(found, "reason", None)
                where = "on any day" if all_days else "on this day"
                self.match_label.setText(
                    f"No matches: {reason}" if reason else f"No matches {where}"
                )
                self.match_label.setToolTip(self.match_label.text())
                self.moment_view.set_words([])
                return
            self.next_match(backwards=backwards, from_selection=True)

        def failed(text: str) -> None:
            if request == self._search_request:
                self.matches = []
                self._mark_matches()
                self.match_label.setText(text)

        self._run("search timeline", work, done, failed)

    def clear_search(self) -> None:
        self._search_request = next(self._generation)
        self._searched = None
        self.matches = []
        self.match_number = None
        self.match_label.clear()
        self._mark_matches()
        self.moment_view.set_words([])

    def match_words(self) -> list[str]:
        words: list[str] = []
        for match in self.matches:
            words.extend(word for word in match.words if word not in words)
        return words

    def next_match(self, *, backwards: bool = False, from_selection: bool = False) -> None:
        """Jumps to the next (previous) match, by time; from the selection after a new search."""
        if not self.matches:
            return
        count = len(self.matches)
        if from_selection or self.match_number is None:
            at = self._selected_ms()
            if at is None:
                number = count - 1 if backwards else 0
            elif backwards:
                before = [n for n, m in enumerate(self.matches) if ms(m.at) <= at]
                number = before[-1] if before else count - 1
            else:
                after = [n for n, m in enumerate(self.matches) if ms(m.at) >= at]
                number = after[0] if after else 0
        else:
            number = (self.match_number + (-1 if backwards else 1)) % count
        self.go_to_match(number)

    def go_to_match(self, number: int) -> None:
        match = self.matches[number]
        self.match_number = number
        self.match_label.setText(f"{number + 1} of {len(self.matches)}")
        target = Target(frame_id=match.frame_id, at_ms=ms(match.at))
        self.moment_view.set_words(self.match_words())
        if self.index is not None and self.index.contains(ms(match.at)):
            self._mark_matches()
            self._apply_target(target)
        else:
            self.show_day(day_of(match.at), target)

    def _selected_ms(self) -> float | None:
        if self.index is None or self.selected_index is None:
            return None
        return float(self.index.time_ms(self.selected_index))

    def _mark_matches(self) -> None:
        index = self.index
        if index is None:
            return
        marks: list[float] = []
        current: int | None = None
        for n, match in enumerate(self.matches):
            at = float(ms(match.at))
            if index.contains(at):
                if n == self.match_number:
                    current = len(marks)
                marks.append(at)
        self.axis.set_matches(marks, current)

    # -- apps ---------------------------------------------------------------------------------
    def set_app_filter(self, app: str | None) -> None:
        """Shows only `app`'s lane and steps through its frames only (None: every app)."""
        self.app_filter = app
        self.chart.set_selected(app)
        self.axis.set_app_filter(app)
        if app is None:
            self.statusBar().showMessage("Showing every app.", 3000)
            return
        self.statusBar().showMessage(
            f"Showing only {app}: click it again in the chart to show every app.", 8000
        )
        at = self._selected_ms()
        if self.index is not None and at is not None:
            chosen = self.index.nearest(at, app)
            if chosen is not None:
                self.select_index(chosen)

    # -- building the window ------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.previous_button = self._button("◀", "previousDay", "The day before (PgUp)")
        self.previous_button.clicked.connect(lambda: self.step_day(-1))
        self.date_edit = QtWidgets.QDateEdit()
        self.date_edit.setObjectName("timelineDate")
        self.date_edit.setAccessibleName("Day")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.dateChanged.connect(self._on_date_picked)
        self.next_button = self._button("▶", "nextDay", "The day after (PgDn)")
        self.next_button.clicked.connect(lambda: self.step_day(1))
        self.today_button = self._button("&Today", "today", "Show today")
        self.today_button.clicked.connect(self.show_today)

        self.search_box = SearchBox()
        self.search_box.setObjectName("timelineSearch")
        self.search_box.setAccessibleName("Search the timeline")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setPlaceholderText(
            "Search what was on screen (Ctrl+F; Enter: next match, Shift+Enter: previous)"
        )
        self.search_box.submitted.connect(self._on_search_submitted)
        self.search_box.textChanged.connect(
            lambda text: None if text.strip() else self.clear_search()
        )
        self.all_days_box = QtWidgets.QCheckBox("All &days")
        self.all_days_box.setObjectName("allDays")
        self.all_days_box.setToolTip("Search every day, not only the one shown")
        self.all_days_box.toggled.connect(self._on_scope_toggled)
        self.match_label = QtWidgets.QLabel()
        self.match_label.setObjectName("matchCount")

        self.zoom_out_button = self._button("−", "zoomOut", "Show more of the day (−, Ctrl+wheel)")
        self.zoom_out_button.clicked.connect(lambda: self.axis.zoom(1 / _ZOOM_STEP))
        self.zoom_in_button = self._button(
            "+", "zoomIn", "Show less of the day, in more detail (+)"
        )
        self.zoom_in_button.clicked.connect(lambda: self.axis.zoom(_ZOOM_STEP))
        self.forget_button = QtWidgets.QPushButton("Forget…")
        self.forget_button.setObjectName("forgetRange")
        self.forget_button.setToolTip(
            "Forget the selected range (Shift+drag on the timeline to select one; "
            "right-click a lane or an app to forget everything from it)"
        )
        self.forget_button.setAutoDefault(False)
        self.forget_button.setFocusPolicy(QtCore.Qt.FocusPolicy.TabFocus)
        self.forget_button.setEnabled(False)
        self.forget_button.clicked.connect(self.forget_range)

        top = QtWidgets.QHBoxLayout()
        for widget in (self.previous_button, self.date_edit, self.next_button, self.today_button):
            top.addWidget(widget)
        top.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        top.addWidget(self.search_box, 1)
        top.addWidget(self.all_days_box)
        top.addWidget(self.match_label)
        top.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        top.addWidget(self.zoom_out_button)
        top.addWidget(self.zoom_in_button)
        top.addWidget(self.forget_button)

        self.axis = TimelineAxis()
        self.axis.scrubbed.connect(self._on_scrubbed)
        self.axis.view_changed.connect(self._sync_scroll_bar)
        self.axis.range_changed.connect(
            lambda: self.forget_button.setEnabled(self.axis.range is not None)
        )
        self.axis.forget_requested.connect(
            lambda kind, what: self.forget_app(what) if kind == "app" else self.forget_range()
        )
        self.scroll_bar = QtWidgets.QScrollBar(QtCore.Qt.Orientation.Horizontal)
        self.scroll_bar.setObjectName("timelineScroll")
        self.scroll_bar.valueChanged.connect(self._on_scrolled)
        self.strip = ThumbnailStrip()
        self.strip.picked.connect(self.select_index)

        self.chart = AppChart()
        self.chart.app_clicked.connect(self.set_app_filter)
        self.chart.forget_requested.connect(self.forget_app)
        chart_area = QtWidgets.QScrollArea()
        chart_area.setObjectName("appChartArea")
        chart_area.setWidget(self.chart)
        chart_area.setWidgetResizable(True)
        chart_area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        chart_title = QtWidgets.QLabel("Time per app")
        bold = QtGui.QFont(chart_title.font())
        bold.setBold(True)
        chart_title.setFont(bold)
        chart_box = QtWidgets.QWidget()
        chart_layout = QtWidgets.QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(chart_title)
        chart_layout.addWidget(chart_area, 1)

        axis_box = QtWidgets.QWidget()
        axis_layout = QtWidgets.QVBoxLayout(axis_box)
        axis_layout.setContentsMargins(0, 0, 0, 0)
        axis_layout.setSpacing(2)
        axis_layout.addWidget(self.axis, 1)
        axis_layout.addWidget(self.scroll_bar)
        axis_layout.addWidget(self.strip)

        self.day_splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.day_splitter.addWidget(axis_box)
        self.day_splitter.addWidget(chart_box)
        self.day_splitter.setStretchFactor(0, 1)
        self.day_splitter.setStretchFactor(1, 0)
        self.day_splitter.setChildrenCollapsible(False)
        char = self.fontMetrics().averageCharWidth()
        self.day_splitter.setSizes([char * 110, char * 38])

        self.moment_view = MomentView()
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.splitter.addWidget(self.day_splitter)
        self.splitter.addWidget(self.moment_view)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        order = [
            self.previous_button,
            self.date_edit,
            self.next_button,
            self.today_button,
            self.search_box,
            self.all_days_box,
            self.zoom_out_button,
            self.zoom_in_button,
            self.axis,
            self.chart,
            self.moment_view.copy_button,
            self.moment_view.show_text_box,
            self.moment_view.view,
        ]
        for first, second in itertools.pairwise(order):
            QtWidgets.QWidget.setTabOrder(first, second)
        self.axis.setFocus()

    # -- forgetting ---------------------------------------------------------------------------
    def forget_range(self) -> None:
        """Forgets the range selected on the axis (after the confirmation), then reloads."""
        if self.axis.range is None:
            return
        start, end = self.axis.range
        self._forget(
            ForgetFilter(
                since=datetime.fromtimestamp(start / 1000, UTC),
                until=datetime.fromtimestamp(end / 1000, UTC),
            )
        )

    def forget_app(self, app: str) -> None:
        """Forgets everything from `app`, every day (after the confirmation), then reloads."""
        self._forget(ForgetFilter(app=app))

    def _forget(self, flt: ForgetFilter) -> None:
        if confirm_and_forget(self, self.services, flt) and self.day is not None:
            self._thumbs.clear()
            if flt.app is not None and self.app_filter == flt.app:
                self.set_app_filter(None)
            self.show_day(self.day)

    def _button(self, text: str, name: str, tip: str) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.setAutoDefault(False)
        if len(text) == 1:  # ◀ ▶ − +: as wide as their sign needs, not as a word
            side = self.fontMetrics().height() * 2
            button.setFixedWidth(side)
        # Arrow keys belong to the timeline, not to moving between buttons.
        button.setFocusPolicy(QtCore.Qt.FocusPolicy.TabFocus)
        return button

    def _build_actions(self) -> None:
        def action(text: str, keys: list[str], slot: Callable[[], Any]) -> QtGui.QAction:
            made = QtGui.QAction(text, self)
            made.setShortcuts([QtGui.QKeySequence(key) for key in keys])
            made.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            made.triggered.connect(slot)
            self.addAction(made)
            return made

        # Text fields keep the keys they edit with (Qt asks them first): ←/→ and
        # Home/End move the cursor in the search box, and the timeline elsewhere.
        self.previous_frame_action = action("Previous frame", ["Left"], lambda: self.step(-1))
        self.next_frame_action = action("Next frame", ["Right"], lambda: self.step(1))
        action("First frame", ["Home"], lambda: self.go_edge(last=False))
        action("Last frame", ["End"], lambda: self.go_edge(last=True))
        action("Previous day", ["PgUp"], lambda: self.step_day(-1))
        action("Next day", ["PgDown"], lambda: self.step_day(1))
        action("Zoom in", ["+", "=", "Ctrl++"], lambda: self.axis.zoom(_ZOOM_STEP))
        action("Zoom out", ["-", "Ctrl+-"], lambda: self.axis.zoom(1 / _ZOOM_STEP))
        action("Search", ["Ctrl+F"], self._focus_search)
        action("Next match", ["F3"], lambda: self.next_match())
        action("Previous match", ["Shift+F3"], lambda: self.next_match(backwards=True))

    def _focus_search(self) -> None:
        self.search_box.setFocus(QtCore.Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def _on_scope_toggled(self, _checked: bool) -> None:
        query = self.search_box.text().strip()
        if query and self._searched is not None:
            self._run_search(query, backwards=False)

    def _set_date_edit(self, day: date) -> None:
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QtCore.QDate(day.year, day.month, day.day))
        self.date_edit.blockSignals(False)

    def _on_date_picked(self, picked: QtCore.QDate) -> None:
        day = date(picked.year(), picked.month(), picked.day())
        if day != self.day:
            self.show_day(day)

    # -- the scroll bar under the axis (only useful when zoomed in) ---------------------------
    def _sync_scroll_bar(self) -> None:
        index = self.index if self.index is not None else self.axis.index
        bar = self.scroll_bar
        bar.blockSignals(True)
        if index is None:
            bar.setRange(0, 0)
        else:
            day_s = (index.end_ms - index.start_ms) // 1000
            span_s = int(self.axis.span // 1000)
            bar.setRange(0, max(0, day_s - span_s))
            bar.setPageStep(max(1, span_s))
            bar.setSingleStep(max(1, span_s // 10))
            bar.setValue(int((self.axis.view_start - index.start_ms) // 1000))
        bar.blockSignals(False)
        bar.setEnabled(bar.maximum() > 0)

    def _on_scrolled(self, value: int) -> None:
        index = self.axis.index
        if index is None:
            return
        start = index.start_ms + value * 1000.0
        self.axis.set_view(start, start + self.axis.span)

    # -- window events ------------------------------------------------------------------------
    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            if self.day is None and self._day_request == 0:
                self.show_today()

    def _failed(self, what: str) -> Callable[[str], None]:
        def show(text: str) -> None:
            self.statusBar().showMessage(f"{what}: {text}", 15000)
            if self.index is None:
                self.axis.set_message(f"{what}: {text}")

        return show

    def _run(
        self,
        name: str,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[str], None],
    ) -> None:
        """Runs `work` on a worker; its result reaches `done` unless the window shut down."""

        def on_done(result: Any) -> None:
            if self._alive:
                done(result)

        def on_failed(text: str) -> None:
            if self._alive:
                failed(text)

        self.workers.run(name, work, on_done, on_failed)

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """For quitting: waits for the loads running (short; none is stopped midway).

        Results still queued for the window are dropped: it may be deleted next.
        """
        self._alive = False
        return self.workers.wait(int(timeout_s * 1000))
