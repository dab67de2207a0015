"""One-off runs through the pipeline: `ingest IMAGE...` and `capture --once`.

Both use a `Pipeline` that owns its jobs (by pid), so they work beside a
running daemon without either processing the other's queue. An image is
checked before anything is stored: a missing, empty, corrupt, unreadable or
enormous file is rejected with the reason, and the other images go on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from mirix_desktop.capture.changes import pixels_from_image
from mirix_desktop.capture.screen import MonitorShot, ScreenGrabber
from mirix_desktop.capture.session import DesktopProbe, WindowInfo
from mirix_desktop.errors import BadImage
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.records import from_ms
from mirix_desktop.pipeline.pipeline import Pipeline
from mirix_desktop.pipeline.processor import Processed

# Larger than any real screen (8K is 7680x4320, 33 MP), small enough that a
# decompression bomb is refused before it is decoded.
MAX_SIDE = 16384
MAX_PIXELS = 40_000_000
INGEST_MONITOR = 0


@dataclass
class Outcome:
    """What happened to one image or one capture."""

    source: str
    ok: bool
    reason: str | None = None
    lines: int = 0
    ocr_regions: int = 0
    memories: int = 0
    text: list[str] = field(default_factory=list)


def load_image(path: Path) -> Image.Image:
    """The image as RGB, or BadImage saying why it cannot be used."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise BadImage(f"{path}: no such file") from exc
    except OSError as exc:
        raise BadImage(f"{path}: cannot read it ({exc.strerror})") from exc
    if not path.is_file():
        raise BadImage(f"{path}: not a file")
    if size == 0:
        raise BadImage(f"{path}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise BadImage(
                        f"{path}: the image is too large ({width}x{height}); at most "
                        f"{MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels"
                    )
                if width == 0 or height == 0:
                    raise BadImage(f"{path}: the image has no pixels ({width}x{height})")
                image.load()
                return image.convert("RGB")
    except UnidentifiedImageError as exc:
        raise BadImage(f"{path}: not an image format that can be read") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"{path}: the image is too large to decode safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadImage(f"{path}: the image is corrupt or truncated ({exc})") from exc


def _summary(source: str, processed: list[Processed]) -> Outcome:
    frames = [p for p in processed if p.kind == "frame"]
    errors = [p.error for p in processed if p.error]
    last_lines = frames[-1].lines if frames else ()
    return Outcome(
        source=source,
        ok=not errors,
        reason=errors[0] if errors else None,
        lines=len(last_lines),
        ocr_regions=sum(p.ocr_regions for p in frames),
        memories=sum(p.memories for p in processed),
        text=[line.text for line in last_lines],
    )


def ingest_image(
    pipeline: Pipeline,
    path: Path,
    *,
    app: str | None,
    title: str | None,
    url: str | None,
    at: datetime | None,
) -> Outcome:
    """Sends one image through the pipeline as if it had been on screen."""
    source = str(path)
    try:
        image = load_image(path)
    except BadImage as exc:
        return Outcome(source, ok=False, reason=exc.message)
    window = WindowInfo(app=app, title=title or path.name, rect=None, active=True, url=url)
    exclusion = pipeline.active_exclusion(window)
    if exclusion is not None:
        return Outcome(source, ok=False, reason=f"excluded by a privacy rule: {exclusion.reason}")
    when = at or from_ms(int(path.stat().st_mtime * 1000))
    pixels = pixels_from_image(image)
    shot_rect = Rect(0, 0, image.width, image.height)
    result = pipeline.submit(
        MonitorShot(INGEST_MONITOR, shot_rect, pixels), [window], when, source="ingest"
    )
    if result.state == "unchanged":
        return Outcome(source, ok=True, reason="identical to the previous image; nothing new")
    if result.state != "queued":
        return Outcome(source, ok=False, reason=result.reason)
    return _summary(source, pipeline.drain())


def finish(pipeline: Pipeline, at: datetime | None = None) -> int:
    """Closes the run's episode; returns the memories written."""
    return pipeline.processor.flush(at)


def capture_once(
    pipeline: Pipeline, probe: DesktopProbe, grabber: ScreenGrabber, now: datetime
) -> list[Outcome]:
    """One look at every monitor, read whole, through the pipeline."""
    windows = probe.windows()
    active = next((w for w in windows if w.active), None)
    exclusion = pipeline.active_exclusion(active)
    if exclusion is not None:
        return [Outcome("screen", ok=False, reason=f"the active window is excluded: "
                        f"{exclusion.reason}; nothing was captured")]  # fmt: skip
    if probe.screen_locked():
        return [Outcome("screen", ok=False, reason="the screen is locked; nothing was captured")]
    outcomes = []
    for shot in grabber.grab():
        result = pipeline.submit(shot, windows, now)
        source = f"monitor {shot.monitor} ({shot.rect.width}x{shot.rect.height})"
        if result.state != "queued":
            outcomes.append(Outcome(source, ok=False, reason=result.reason or result.state))
            continue
        outcomes.append(_summary(source, pipeline.drain()))
    pipeline.record_activity("stopped", None, now)
    pipeline.drain()
    return outcomes
