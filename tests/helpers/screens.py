"""Synthetic screens for pipeline tests: known text drawn with a real font."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from mirix_desktop.capture.changes import Pixels, pixels_from_image

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
LINE_HEIGHT = 24


def text_lines(count: int, start: int = 0) -> list[str]:
    return [f"line {i}: the quick brown fox number {i * 7} jumps" for i in range(start, count)]


def screen(
    lines: list[str], *, size: tuple[int, int] = (1280, 800), top: int = 40, footer: str = ""
) -> Image.Image:
    """A light editor-like screen with `lines` from `top`, one every LINE_HEIGHT px."""
    font = ImageFont.truetype(FONT_PATH, 16)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for index, text in enumerate(lines):
        y = top + LINE_HEIGHT * index
        if y + LINE_HEIGHT > size[1] - 60:
            break
        draw.text((40, y), text, font=font, fill="black")
    if footer:
        draw.text((40, size[1] - 40), footer, font=font, fill="black")
    return image


def pixels(image: Image.Image) -> Pixels:
    return pixels_from_image(image)
