"""The XY cut finds pieces of line, and the same line gives the same piece anywhere."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mirix_desktop.geometry import WORD_GAP, Rect
from mirix_desktop.ocr.layout import blocks
from tests.helpers.screens import FONT_PATH


def _picture(
    size: tuple[int, int], texts: list[tuple[int, int, str]], ground: int = 255
) -> np.ndarray:
    image = Image.new("L", size, ground)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_PATH, 16)
    for x, y, text in texts:
        draw.text((x, y), text, font=font, fill=255 - ground)
    return np.asarray(image)


def _leaves(gray: np.ndarray) -> list[Rect]:
    tree = blocks(gray)
    assert tree is not None
    return sorted(leaf.rect for leaf in tree.leaves())


def test_lines_and_far_apart_words_are_separate_pieces_and_a_sentence_is_one() -> None:
    gray = _picture(
        (600, 120),
        [(10, 10, "the quick brown fox"), (10, 40, "jumps over"), (10 + 200, 40, "the dog")],
    )
    leaves = _leaves(gray)
    assert len(leaves) == 3
    first, second, third = sorted(leaves, key=lambda r: (r.y, r.x))
    assert first.y < second.y and second.y == third.y
    assert third.x - second.right >= WORD_GAP  # the far word is its own piece
    assert first.width > 150  # words one space apart stay together


def test_a_border_separates_two_panes_however_close_their_text() -> None:
    # A dark editor beside a light page, text a few pixels from the seam.
    left = _picture((300, 200), [(200, 20, "left side"), (200, 60, "more left")], ground=30)
    right = _picture((300, 200), [(8, 20, "right side"), (8, 120, "far below")], ground=255)
    leaves = _leaves(np.hstack([left, right]))
    assert all(leaf.right <= 300 or leaf.x >= 300 for leaf in leaves)
    assert len([leaf for leaf in leaves if leaf.x >= 300]) == 2


def test_the_same_line_is_the_same_piece_wherever_it_is_cut_from() -> None:
    line = "    return self.childNodes[index]"
    one = _picture((700, 200), [(40, 30, "def insert(self):"), (40, 60, line)])
    # Elsewhere, beside other text, in a crop of another size.
    two = _picture((900, 300), [(300, 150, line), (300, 200, "# a comment"), (10, 10, "menu")])
    pieces_one = {_pixels(one, r): r for r in _leaves(one)}
    pieces_two = {_pixels(two, r): r for r in _leaves(two)}
    shared = set(pieces_one) & set(pieces_two)
    assert len(shared) == 1
    (key,) = shared
    assert pieces_two[key].x - pieces_one[key].x == 260


def test_a_blank_or_smoothly_shaded_picture_has_no_ink() -> None:
    assert blocks(np.full((50, 80), 200, dtype=np.uint8)) is None
    gradient = np.tile(np.linspace(0, 250, 400).astype(np.uint8), (40, 1))
    assert blocks(gradient) is None


def _pixels(gray: np.ndarray, rect: Rect) -> bytes:
    return gray[rect.y : rect.bottom, rect.x : rect.right].tobytes() + bytes(
        f"{rect.width}x{rect.height}", "ascii"
    )
