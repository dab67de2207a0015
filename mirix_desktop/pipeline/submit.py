"""The cheap half of the pipeline: a monitor's picture in, a frame row and an OCR job out.

Runs on the capture thread every tick, so it must cost milliseconds when
nothing changed. In order:
1. excluded windows (password managers, private browsing, the user's rules)
   are painted black and dropped from the window list, before anything else
   looks at the pixels, so their text never reaches OCR or the store;
2. the change tracker plans what to read; an unchanged picture stops here;
3. when OCR is behind, only keyframes go on (a window switch, or one every
   `keyframe_interval_s`); the next keyframe is diffed against the last frame
   actually sent, so text on screen in between is still read;
4. the frame row (with a small thumbnail) and its job are written in one
   transaction, and the plan becomes the tracker's new base.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from PIL import Image

from mirix_desktop.capture.changes import ChangePlan, ChangeTracker, Pixels
from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import CaptureSettings
from mirix_desktop.geometry import Rect, subtract_all
from mirix_desktop.memory.frames import NewFrame, insert_frame
from mirix_desktop.memory.records import to_ms
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.jobs import Crop, FrameJob, JobQueue
from mirix_desktop.privacy.exclusions import Exclusion, PrivacyFilter, is_own_window
from mirix_desktop.privacy.redaction import Redactor

log = logging.getLogger("mirix.pipeline.submit")

# Share of the screen (in change-detection tiles) that must change before
# a frame gets a thumbnail of its own rather than the last one's.
THUMBNAIL_REDRAW_SHARE = 0.02
# A thumbnail is at most this many of its widths high.
THUMBNAIL_TALLEST = 4

SubmitState = Literal["unchanged", "queued", "deferred", "skipped"]


@dataclass(frozen=True)
class SubmitResult:
    state: SubmitState
    frame_id: int | None = None
    regions: int = 0
    reason: str | None = None


def window_key(window: WindowInfo | None) -> tuple[str | None, str | None]:
    return (None, None) if window is None else (window.app, window.title)


def on_monitor(windows: list[WindowInfo], monitor: Rect) -> list[WindowInfo]:
    """Windows that show on `monitor`, with rects in the monitor's own coordinates."""
    shown = []
    for window in windows:
        if window.rect is None:
            shown.append(window)
            continue
        visible = window.rect.intersection(monitor)
        if visible is None:
            continue
        frame = window.frame.moved(-monitor.x, -monitor.y) if window.frame else None
        shown.append(
            dataclasses.replace(window, rect=window.rect.moved(-monitor.x, -monitor.y), frame=frame)
        )
    return shown


def exclusion_of(privacy: PrivacyFilter, window: WindowInfo) -> Exclusion | None:
    """Why `window` must not be captured (by app, title, URL or process name), if it must not."""
    exclusion = privacy.excluded(window.app, window.title, window.url)
    if exclusion is None and window.process:
        exclusion = privacy.excluded(window.process, None, None)
    return exclusion


def redacted(redactor: Redactor, window: WindowInfo) -> WindowInfo:
    """The window with secrets in its title and URL redacted: both are stored too."""
    if not window.title and not window.url:
        return window
    title = redactor.redact(window.title)[0] if window.title else window.title
    url = redactor.redact(window.url)[0] if window.url else window.url
    return dataclasses.replace(window, title=title, url=url)


def _gray(pixels: Pixels, rect: Rect) -> bytes:
    """The region in 8-bit gray, by PIL's ITU-R 601 luma: the conversion any other
    reader of the screen uses, as tesseract's reading shifts with the gray levels."""
    crop = np.ascontiguousarray(pixels[rect.y : rect.bottom, rect.x : rect.right])
    image = Image.frombuffer("RGB", (rect.width, rect.height), crop, "raw", "BGRX", 0, 1)
    return image.convert("L").tobytes()


def thumbnail(pixels: Pixels, width: int) -> bytes:
    """A small JPEG of the (already masked) picture; at 320 px wide text is not legible."""
    height, full_width = pixels.shape[:2]
    # PIL reads mss's BGRA as RGB directly (raw mode "BGRX"): no channel shuffling.
    image = Image.frombuffer(
        "RGB", (full_width, height), np.ascontiguousarray(pixels), "raw", "BGRX", 0, 1
    )
    # At most THUMBNAIL_TALLEST widths high: scaled to the width alone, a picture
    # a few pixels wide and thousands high passes the 65500 px JPEG can hold.
    scale = min(width / full_width, THUMBNAIL_TALLEST * width / height)
    target = (max(1, round(full_width * scale)), max(1, round(height * scale)))
    factor = max(1, min(full_width // target[0], height // target[1]))
    small = image.reduce(factor) if factor > 1 else image
    if small.size != target:
        small = small.resize(target, Image.Resampling.BILINEAR)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=60)
    return out.getvalue()


class FrameSubmitter:
    """Plans and queues changed frames; one tracker per monitor."""

    def __init__(
        self,
        store: MemoryStore,
        privacy: PrivacyFilter,
        redactor: Redactor,
        settings: CaptureSettings,
        owner: int | None = None,
    ) -> None:
        self.store = store
        self.owner = owner
        self.privacy = privacy
        self.redactor = redactor
        self.settings = settings
        self._trackers: dict[int, ChangeTracker] = {}
        self._last_sent_key: dict[int, tuple[str | None, str | None]] = {}
        self._last_sent_at: dict[int, datetime] = {}
        # Per monitor: the last thumbnail made, and the share of the screen
        # changed since (see `_thumbnail`).
        self._thumbnails: dict[int, tuple[bytes, float]] = {}
        self._lock = threading.Lock()
        with store.read() as conn:
            self.queue_depth = JobQueue.depth(conn, owner)
        self.degraded = False
        # On battery with `on_battery = "keyframes"` (set by the daemon each tick):
        # only keyframes, as when OCR is behind, but not counted as degraded.
        self.keyframes_only = False

    def reset(self) -> None:
        """Forgets earlier pictures (after a pause, a display change): the next is read whole."""
        with self._lock:
            for tracker in self._trackers.values():
                tracker.reset()
            self._thumbnails.clear()

    def visible_windows(self, windows: list[WindowInfo]) -> tuple[list[WindowInfo], list[Rect]]:
        """(windows kept, rects to black out): excluded and MIRIX's own windows are masked.

        Kept windows' titles are redacted here, before the frame row and the
        job store them.
        """
        kept: list[WindowInfo] = []
        masked: list[Rect] = []
        above: list[Rect] = []  # windows are top-most first
        for window in windows:
            # The outline holds the title bar too, which shows the title.
            outline = window.outline
            if exclusion_of(self.privacy, window) is not None or is_own_window(
                window.app, window.process
            ):
                if outline is not None:
                    # Only the visible part: blacking out the whole rect would
                    # also hide the windows in front of it.
                    masked.extend(subtract_all([outline], above))
            else:
                kept.append(redacted(self.redactor, window))
            if outline is not None:
                above.append(outline)
        return kept, masked

    def submit(
        self,
        shot: MonitorShot,
        windows: list[WindowInfo],
        at: datetime,
        *,
        source: str = "capture",
    ) -> SubmitResult:
        with self._lock:
            return self._submit(shot, windows, at, source)

    def _submit(
        self, shot: MonitorShot, windows: list[WindowInfo], at: datetime, source: str
    ) -> SubmitResult:
        kept, masked = self.visible_windows(windows)
        pixels = _masked(shot.pixels, masked, shot.rect)
        tracker = self._trackers.setdefault(shot.monitor, ChangeTracker())
        local_windows = on_monitor(kept, shot.rect)
        screen = tuple((w.app, w.title, w.rect) for w in local_windows) or None
        plan = tracker.plan(pixels, [w.rect for w in local_windows if w.rect is not None], screen)
        if plan is None:
            return SubmitResult("unchanged")
        active = next((w for w in local_windows if w.active), None)
        if self.queue_depth >= self.settings.max_queue:
            self.degraded = True
            return SubmitResult(
                "skipped", reason=f"OCR is behind: {self.queue_depth} frames are waiting"
            )
        behind = self.queue_depth >= self.settings.keyframe_queue
        self.degraded = behind
        if behind or self.keyframes_only:
            last_at = self._last_sent_at.get(shot.monitor)
            switched = window_key(active) != self._last_sent_key.get(shot.monitor)
            due = last_at is None or (
                (at - last_at).total_seconds() >= self.settings.keyframe_interval_s
            )
            if not (switched or due):
                why = "OCR is behind" if behind else "on battery"
                return SubmitResult("deferred", reason=f"{why}: keyframes only")
        frame_id = self._write(shot, pixels, plan, local_windows, active, at, source)
        tracker.commit(plan, pixels)
        self._last_sent_key[shot.monitor] = window_key(active)
        self._last_sent_at[shot.monitor] = at
        return SubmitResult("queued", frame_id=frame_id, regions=len(plan.regions))

    def _thumbnail(self, monitor: int, pixels: Pixels, changed_share: float) -> bytes:
        """The frame's thumbnail; the last one again while less than
        `THUMBNAIL_REDRAW_SHARE` of the screen changed since it was made.

        Typing changes a few letters a frame, a pixel or two of a thumbnail
        320 px wide: drawing and encoding it again each time was a third of
        the cost of queueing such a frame.
        """
        width = self.settings.thumbnail_width
        if width <= 0:
            return b""
        last = self._thumbnails.get(monitor)
        if last is not None and last[1] + changed_share < THUMBNAIL_REDRAW_SHARE:
            self._thumbnails[monitor] = (last[0], last[1] + changed_share)
            return last[0]
        thumb = thumbnail(pixels, width)
        self._thumbnails[monitor] = (thumb, 0.0)
        return thumb

    def _write(
        self,
        shot: MonitorShot,
        pixels: Pixels,
        plan: ChangePlan,
        windows: list[WindowInfo],
        active: WindowInfo | None,
        at: datetime,
        source: str,
    ) -> int:
        crops = tuple(Crop(rect, _gray(pixels, rect)) for rect in plan.regions)
        thumb = self._thumbnail(shot.monitor, pixels, plan.changed_share)
        shown = active or (windows[0] if windows else None)
        height, width = pixels.shape[:2]
        job = FrameJob(
            captured_at=at,
            monitor=shot.monitor,
            monitor_rect=shot.rect,
            windows=tuple(windows),
            state_id=plan.state_id,
            base_state=plan.base_state,
            moves=plan.moves,
            crops=crops,
            source=source,
            replaces=plan.replaces,
        )
        frame = NewFrame(
            captured_at=at,
            monitor=shot.monitor,
            app=shown.app if shown else None,
            window_title=shown.title if shown else None,
            url=shown.url if shown else None,
            image_hash=f"{int(plan.signature.tiles.sum()):016x}",
            width=width,
            height=height,
            thumbnail=thumb or None,
            changed_share=plan.changed_share,
        )
        with self.store.transaction() as conn:
            frame_id = insert_frame(conn, frame)
            JobQueue.put(conn, job, frame_id, to_ms(at), self.owner)
        self.queue_depth += 1
        return frame_id


def _masked(pixels: Pixels, rects: list[Rect], monitor: Rect) -> Pixels:
    local = [r.moved(-monitor.x, -monitor.y) for r in rects]
    bounds = Rect(0, 0, pixels.shape[1], pixels.shape[0])
    visible = [clip for r in local if (clip := r.clipped(bounds)) is not None]
    if not visible:
        return pixels
    out = pixels.copy()
    for rect in visible:
        out[rect.y : rect.bottom, rect.x : rect.right] = 0
    return out
