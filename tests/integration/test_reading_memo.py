"""Reading with memory: lines read once are not read again, and are never misplaced."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from mirix_desktop.ocr.engine import OcrLine, OcrWord, TesserocrEngine
from mirix_desktop.ocr.reuse import ReadingMemo
from tests.helpers.screens import FONT_PATH

CODE = [
    "def insert_before(self, new_child, ref_child):",
    "    index = self.child_nodes.index(ref_child)",
    "    self.child_nodes.insert(index, new_child)",
    "    new_child.parent_node = self",
    "    return new_child",
]


class Counting:
    """A real engine that counts what it is asked to read."""

    def __init__(self, engine: TesserocrEngine) -> None:
        self.engine = engine
        self.calls = 0
        self.pixels = 0

    def __call__(self, image: Image.Image) -> list[OcrLine]:
        self.calls += 1
        self.pixels += image.width * image.height
        return self.engine.recognize(image)


@pytest.fixture(scope="module")
def engine() -> TesserocrEngine:
    return TesserocrEngine(dark_on_light=True)


def _screen(
    lines: list[str], left: int, size: tuple[int, int] = (900, 220), ground: int = 30
) -> np.ndarray:
    image = Image.new("L", size, ground)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_PATH, 16)
    for row, text in enumerate(lines):
        draw.text((left, 20 + 28 * row), text, font=font, fill=230 if ground < 128 else 20)
    return np.asarray(image)


def _text(lines: list[OcrLine]) -> str:
    """The lines top to bottom, without spaces: tesseract puts some inside code."""
    ordered = sorted(lines, key=lambda line: (line.y, line.x))
    return "\n".join(line.text.replace(" ", "") for line in ordered)


def test_a_window_shown_again_elsewhere_is_not_read_again(engine: TesserocrEngine) -> None:
    memo, counting = ReadingMemo(), Counting(engine)
    first = memo.read(_screen(CODE, left=300), counting)
    assert "self.child_nodes.insert(index,new_child)" in _text(first.lines)
    assert counting.calls == 1
    # A sidebar closed: the same code, 260 px further left, in a wider region.
    again = memo.read(_screen(CODE, left=40, size=(1000, 260)), counting)
    assert counting.calls == 1  # nothing read
    assert again.reused == len(CODE)
    assert _text(again.lines) == _text(first.lines)
    moved = {line.text: line.x for line in again.lines}
    assert all(moved[line.text] == line.x - 260 for line in first.lines)


def test_only_the_changed_line_is_read(engine: TesserocrEngine) -> None:
    memo, counting = ReadingMemo(), Counting(engine)
    memo.read(_screen(CODE, left=40), counting)
    read_whole = counting.pixels
    edited = [*CODE[:3], "    new_child.parent_node = other_parent", *CODE[4:]]
    reading = memo.read(_screen(edited, left=40), counting)
    assert counting.pixels - read_whole < read_whole / 8  # one line's worth
    assert reading.reused >= 4
    text = _text(reading.lines)
    assert "new_child.parent_node=other_parent" in text
    assert "index=self.child_nodes.index(ref_child)" in text
    assert "new_child.parent_node=self\n" not in text


def test_dark_and_light_windows_side_by_side_are_both_read(engine: TesserocrEngine) -> None:
    dark = _screen(CODE[:2], left=20, size=(520, 100), ground=30)
    light = _screen(
        ["Return a shell-escaped version", "of the string s."], left=8, size=(520, 100), ground=250
    )
    reading = ReadingMemo().read(np.hstack([dark, light]), engine.recognize)
    text = _text(reading.lines)
    assert "definsert_before(self,new_child,ref_child):" in text
    assert "Returnashell-escapedversion" in text


def test_a_line_read_across_two_pieces_is_not_replayed_over_one_of_them() -> None:
    # The reader read "alpha" and "omega" (40 px apart: two pieces) as one line.
    gray = _screen(["alpha", ""], left=40, size=(400, 80), ground=255)
    gray = np.minimum(gray, _screen(["omega"], left=40 + 5 * 10 + 40, size=(400, 80), ground=255))
    calls: list[int] = []

    def reader(image: Image.Image) -> list[OcrLine]:
        calls.append(image.width)
        return [OcrLine("alpha omega", 38, 18, 150, 18, 90.0)]

    memo = ReadingMemo()
    memo.read(gray, reader)
    # "alpha" alone, elsewhere: its piece has the same pixels, but its
    # remembered line would say "omega" too; it must be read.
    alone = _screen(["alpha"], left=200, size=(400, 80), ground=255)
    memo.read(alone, reader)
    assert len(calls) == 2


def test_the_memo_forgets_the_oldest_pieces_beyond_its_size(engine: TesserocrEngine) -> None:
    memo, counting = ReadingMemo(size=2, word_size=2), Counting(engine)
    memo.read(_screen(CODE[:1], left=40, size=(600, 60)), counting)
    memo.read(_screen(CODE[1:3], left=40, size=(600, 90)), counting)
    memo.read(_screen(CODE[:1], left=40, size=(600, 60)), counting)
    assert counting.calls == 3  # the first line was forgotten for the next two


def test_faint_text_below_the_ink_threshold_is_still_read(engine: TesserocrEngine) -> None:
    image = Image.new("L", (500, 60), 60)
    font = ImageFont.truetype(FONT_PATH, 20)
    ImageDraw.Draw(image).text((20, 15), "faint grey words", font=font, fill=90)
    reading = ReadingMemo().read(np.asarray(image), engine.recognize)
    assert "faintgreywords" in _text(reading.lines)


def test_a_line_being_typed_is_read_only_at_its_new_words(engine: TesserocrEngine) -> None:
    prompt = "dev@workstation: ~/src$ PAGER=cat python3 -m pydoc"
    memo, counting = ReadingMemo(), Counting(engine)
    memo.read(_screen([prompt], left=20, size=(900, 60)), counting)
    whole = counting.pixels
    typed = memo.read(_screen([prompt + " json.dumps"], left=20, size=(900, 60)), counting)
    assert counting.calls == 2
    # The new word and the one before it, not the line.
    assert counting.pixels - whole < whole / 3
    assert _text(typed.lines) == (prompt + " json.dumps").replace(" ", "")
    assert len(typed.lines) == 1  # one line, its box the whole of it
    line = typed.lines[0]
    assert line.x <= 22 and line.x + line.width >= 20 + len(prompt + " json.dumps") * 9


def _words_at(placed: list[tuple[int, str]], ground: int = 30) -> np.ndarray:
    """Words drawn one by one at whole-pixel places, as a terminal's grid does."""
    image = Image.new("L", (600, 60), ground)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_PATH, 16)
    for x, word in placed:
        draw.text((x, 20), word, font=font, fill=230 if ground < 128 else 20)
    return np.asarray(image)


def test_a_line_of_known_words_is_not_read(engine: TesserocrEngine) -> None:
    memo, counting = ReadingMemo(), Counting(engine)
    first = memo.read(_words_at([(20, "alpha"), (84, "beta"), (136, "gamma")]), counting)
    assert [line.text for line in first.lines] == ["alpha beta gamma"]
    # The same words spaced differently: a new piece of line, of known words.
    again = memo.read(_words_at([(20, "alpha"), (78, "beta"), (132, "gamma")]), counting)
    assert counting.calls == 1
    assert [line.text for line in again.lines] == ["alpha beta gamma"]
    assert again.lines[0].x == first.lines[0].x
    assert again.lines[0].width == first.lines[0].width - 4  # "gamma" moved 4 px left


def test_a_word_read_across_two_word_boxes_is_not_remembered() -> None:
    # The reader joined "alpha" and "beta" (two word boxes) into one word.
    calls: list[int] = []

    def reader(image: Image.Image) -> list[OcrLine]:
        calls.append(image.width)
        word = OcrWord("alphabeta", 0, 0, 97, 14, 90.0)
        return [OcrLine("alphabeta", 20, 24, 97, 14, 90.0, (word,))]

    memo = ReadingMemo()
    memo.read(_words_at([(20, "alpha"), (78, "beta")], ground=255), reader)
    # The same two words spaced differently: what was read over either ran
    # into the other, so neither is known on its own; the line is read.
    memo.read(_words_at([(20, "alpha"), (88, "beta")], ground=255), reader)
    assert len(calls) == 2


def test_a_line_read_with_words_missing_gets_one_more_reading() -> None:
    # The reader drops the first half of the line (tesseract leaves out words it is unsure of).
    calls: list[int] = []

    def reader(image: Image.Image) -> list[OcrLine]:
        calls.append(image.width)
        word = OcrWord("world", 0, 0, 40, 14, 90.0)
        return [OcrLine("world", 130, 24, 40, 14, 90.0, (word,))]

    memo = ReadingMemo()
    line = _words_at([(20, "dev@workstation:"), (130, "world")], ground=255)
    memo.read(line, reader)
    memo.read(line, reader)  # read again, maybe better in another crop...
    assert len(calls) == 2
    again = memo.read(line, reader)  # ...but not forever
    assert len(calls) == 2
    assert [ln.text for ln in again.lines] == ["world"]


def test_a_word_read_as_nothing_is_not_remembered_as_nothing() -> None:
    # The reader leaves out the short first word; the rest of the line is read.
    calls: list[int] = []

    def reader(image: Image.Image) -> list[OcrLine]:
        calls.append(image.width)
        words = (
            OcrWord("middleword", 0, 0, 96, 14, 90.0),
            OcrWord("otherwords", 116, 0, 96, 14, 90.0),
            OcrWord("x", 232, 3, 10, 10, 90.0),
        )
        return [OcrLine("middleword otherwords x", 50, 24, 242, 14, 90.0, words)]

    memo = ReadingMemo()
    first = [(20, "ab"), (50, "middleword"), (166, "otherwords")]
    memo.read(_words_at([*first, (282, "x")], ground=255), reader)
    # Only the last word changed, but "ab" is not known to say nothing: the
    # whole line is read again, not the last two words alone.
    memo.read(_words_at([*first, (282, "y")], ground=255), reader)
    assert len(calls) == 2
    assert calls[1] >= calls[0] - 40
