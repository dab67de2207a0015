"""Windows found, once OCR has read them, to show an excluded page: nothing of them stays.

No desktop API gives a browser's URL, so a password manager's web vault in a
browser tab passes the exclusions applied at capture (`submit.py` blacks out
excluded windows before OCR): only its address bar, as OCR reads it, tells.
When it does, before anything is stored:
- the window's lines are dropped: every line touching the part of its
  outline on screen (title bar included), so other windows' lines stay;
- the frame row names the frame's next window, as for a window excluded at
  capture, or none, and its thumbnail has the window blacked out;
- the window is remembered by (app, title), so the capture loop's "still
  active" word for it starts no episode, and a later frame where its address
  bar is covered still hides it.
The job holding its pixels and title is deleted with the frame's lines, as
every job is. The OCR state kept in memory (never stored) keeps its lines, so
the next frame carries the address bar forward and is recognised again.
"""

from __future__ import annotations

import io
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image, ImageDraw

from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.geometry import Rect, subtract_all
from mirix_desktop.memory import frames
from mirix_desktop.memory.connection import Connection
from mirix_desktop.ocr.engine import OcrLine
from mirix_desktop.pipeline.memories import address_bar_verdicts
from mirix_desktop.pipeline.submit import window_key
from mirix_desktop.privacy.exclusions import PrivacyFilter

log = logging.getLogger("mirix.pipeline.hiding")

# Windows remembered as showing an excluded page.
_REMEMBERED = 64


@dataclass(frozen=True)
class Hiding:
    """What of one frame goes: `windows` are those that stay."""

    windows: tuple[WindowInfo, ...]
    regions: tuple[Rect, ...]  # where the hidden windows show, in monitor coordinates
    monitor_size: tuple[int, int]

    def keeps(self, line: OcrLine) -> bool:
        return not any(region.intersects(line.box) for region in self.regions)

    def relabel(self, conn: Connection, frame_id: int) -> None:
        """The frame row as if the hidden windows had been excluded at capture."""
        shown = next((w for w in self.windows if w.active), None) or next(iter(self.windows), None)
        thumbnail = frames.frame_thumbnail(conn, frame_id)
        if thumbnail is not None:
            try:
                thumbnail = mask_thumbnail(thumbnail, self.regions, self.monitor_size)
            except (OSError, ValueError):
                thumbnail = None  # unreadable: dropped rather than kept whole
        frames.relabel_frame(
            conn,
            frame_id,
            shown.app if shown else None,
            shown.title if shown else None,
            shown.url if shown else None,
            thumbnail,
        )


def mask_thumbnail(jpeg: bytes, regions: tuple[Rect, ...], monitor_size: tuple[int, int]) -> bytes:
    """The thumbnail with `regions` (monitor pixels) black, a thumbnail pixel wider all round."""
    with Image.open(io.BytesIO(jpeg)) as opened:
        image = opened.convert("RGB")
    sx, sy = image.width / monitor_size[0], image.height / monitor_size[1]
    draw = ImageDraw.Draw(image)
    for r in regions:
        box = (
            math.floor(r.x * sx) - 1,
            math.floor(r.y * sy) - 1,
            math.ceil(r.right * sx) + 1,
            math.ceil(r.bottom * sy) + 1,
        )
        draw.rectangle(box, fill="black")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=60)
    return out.getvalue()


class AddressBarExclusions:
    """Finds the windows of a frame whose address bar shows an excluded page."""

    def __init__(self, privacy: PrivacyFilter) -> None:
        self.privacy = privacy
        self._hidden: OrderedDict[tuple[str | None, str | None], None] = OrderedDict()

    def hidden(self, window: WindowInfo) -> bool:
        """Was this window (by app and title) last seen showing an excluded page?"""
        return window_key(window) in self._hidden

    def hide(
        self, windows: tuple[WindowInfo, ...], lines: list[OcrLine], monitor_size: tuple[int, int]
    ) -> Hiding | None:
        """What of this frame goes, or None when every window stays."""
        verdicts = {
            id(window): exclusion
            for window, exclusion in address_bar_verdicts(
                self.privacy, windows, lines, monitor_size
            )
        }
        hidden: list[WindowInfo] = []
        for window in windows:
            key = window_key(window)
            if id(window) not in verdicts:
                # Its address bar unread (covered, off this monitor): as last seen.
                if key in self._hidden:
                    hidden.append(window)
                continue
            exclusion = verdicts[id(window)]
            if exclusion is None:
                self._hidden.pop(key, None)
                continue
            if key not in self._hidden:
                log.info("a browser window shows an excluded page: %s", exclusion.reason)
            self._hidden[key] = None
            self._hidden.move_to_end(key)
            while len(self._hidden) > _REMEMBERED:
                self._hidden.popitem(last=False)
            hidden.append(window)
        if not hidden:
            return None
        regions: list[Rect] = []
        above: list[Rect] = []  # windows are top-most first
        for window in windows:
            outline = window.outline
            if any(window is h for h in hidden):
                # Without geometry the window is the whole picture.
                whole = Rect(0, 0, *monitor_size)
                regions += subtract_all([outline], above) if outline is not None else [whole]
            if outline is not None:
                above.append(outline)
        kept = tuple(w for w in windows if not any(w is h for h in hidden))
        return Hiding(kept, tuple(regions), monitor_size)
