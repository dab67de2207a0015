"""One-off runs through the pipeline: `ingest IMAGE...` and `capture --once`.

Both use a `Pipeline` that owns its jobs (by pid), so they work beside a
running daemon without either processing the other's queue. An image is
checked before anything is stored: a missing, empty, corrupt, unreadable or
enormous file is rejected with the reason, and the other images go on.
"""

from __future__ import annotations

import logging
import os
import struct
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

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
# The formats screenshots come in. Pillow reads thirty more, whose decoders
# see little use and little fuzzing; its EPS reader would run Ghostscript on a
# PostScript file named .png.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "PPM")
INGEST_MONITOR = 0

log = logging.getLogger("mirix.pipeline.ingest")


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


def display_path(path: Path) -> str:
    """`path` as text that can be printed and stored: a name that is not UTF-8
    (its bytes become U+FFFD) or holds control characters (a newline, an
    escape sequence for the terminal) is shown with those replaced."""
    text = os.fsencode(path).decode("utf-8", "replace")
    return "".join(char if char.isprintable() else "\ufffd" for char in text)


def load_image(path: Path) -> Image.Image:
    """The image as RGB and upright, or BadImage saying why it cannot be used."""
    shown = display_path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise BadImage(f"{shown}: no such file") from exc
    except OSError as exc:
        raise BadImage(f"{shown}: cannot read it ({exc.strerror})") from exc
    if not path.is_file():
        raise BadImage(f"{shown}: not a file")
    if size == 0:
        raise BadImage(f"{shown}: the file is empty (0 bytes)")
    try:
        # Decoders warn about damage they read past (corrupt EXIF, a short
        # frame): the picture is used or refused, and the warning is noise.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as image:
                width, height = image.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise BadImage(
                        f"{shown}: the image is too large ({width}x{height}); at most "
                        f"{MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels"
                    )
                if width == 0 or height == 0:
                    raise BadImage(f"{shown}: the image has no pixels ({width}x{height})")
                image.load()
                _turn_upright(image, shown)
                return _rgb(image)
    except UnidentifiedImageError as exc:
        raise BadImage(
            f"{shown}: not an image format that can be read ({', '.join(FORMATS)})"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"{shown}: the image is too large to decode safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadImage(f"{shown}: the image is corrupt or truncated ({exc})") from exc
    finally:
        for warning in caught:
            log.debug("%s: %s", shown, warning.message)


def _turn_upright(image: Image.Image, shown: str) -> None:
    """Turns the picture as its EXIF orientation says (a phone's photo of a
    screen); EXIF that cannot be read leaves it as it is: the pixels are fine."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except (SyntaxError, ValueError, OSError, struct.error) as exc:
        log.debug("%s: unreadable EXIF, not turned (%s)", shown, exc)


def _rgb(image: Image.Image) -> Image.Image:
    """RGB, with transparent parts white: dark text on a transparent ground
    (a window cut out of its shadow) would otherwise turn black on black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        ground = Image.new("RGBA", image.size, "white")
        return Image.alpha_composite(ground, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


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


def _modified(path: Path) -> datetime:
    """When the file was last written: when the picture was on screen, by default."""
    try:
        return from_ms(int(path.stat().st_mtime * 1000))
    except OSError as exc:
        raise BadImage(f"{display_path(path)}: cannot read it ({exc.strerror})") from exc
    except (ValueError, OverflowError) as exc:
        # Some file systems hold times past the year 9999, which no date can.
        raise BadImage(
            f"{display_path(path)}: its modification time is not a date ({exc}); "
            "give the time it was on screen with --at"
        ) from exc


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
    source = display_path(path)
    try:
        image = load_image(path)
        when = at or _modified(path)
    except BadImage as exc:
        return Outcome(source, ok=False, reason=exc.message)
    name = display_path(Path(path.name))
    window = WindowInfo(app=app, title=title or name, rect=None, active=True, url=url)
    exclusion = pipeline.active_exclusion(window)
    if exclusion is not None:
        return Outcome(source, ok=False, reason=f"excluded by a privacy rule: {exclusion.reason}")
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
