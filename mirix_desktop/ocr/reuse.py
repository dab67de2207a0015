"""Reading a region of the screen without reading again the lines already read.

A window switched back to, a window re-laid out (a sidebar hidden, a split
screen), a page scrolled back: the same lines come back, pixel for pixel,
often somewhere else. `ReadingMemo` splits a region into pieces of line
(`ocr/layout.py`), looks each one up by a hash of its pixels, and hands to
OCR only the blocks that hold unknown pieces. What OCR finds there is
remembered per piece for next time.

A piece's remembered lines are only ever its own: a piece is remembered
only when every line read over it lies within it, so a line that spanned
two pieces is never replayed half-wrong where one of them shows up alone.

Words are remembered the same way, by their pixels. A line being typed, a
status bar's "Ln 12, Col 4", a clock: a piece of line that changed only in
a few words is patched: those words are read (with a known neighbour on
each side, so tesseract sees them in context) and the rest of the line is
taken from memory.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PIL import Image

from mirix_desktop.geometry import Rect
from mirix_desktop.ocr.engine import OcrLine, OcrWord, line_of_words
from mirix_desktop.ocr.layout import Block, blocks, words

# A block this much unknown (by area) is read whole: one OCR call instead
# of many, and tesseract reads a line better with its neighbours around it.
READ_WHOLE_SHARE = 0.7
# Pixels kept around a block read on its own: anti-aliased glyph edges
# fainter than the ink threshold.
_MARGIN = 2
# How far (in pixels) a line's box may stick out of its piece sideways.
_SLACK = 2
# A region without ink but with gray steps this large may hold faint text.
FAINT_STEP = 12
# Pieces remembered; a 1080p screen of text holds a few hundred.
MEMO_SIZE = 8192
# Words remembered: a piece of line holds a few.
WORD_MEMO_SIZE = 4 * MEMO_SIZE
# A piece of line is patched word by word only if it is at most this tall
# (one line of text)...
PATCH_MAX_HEIGHT = 40
# ...and what must be read again (its new words and their neighbours) is at
# most this share of its width; else it is read whole.
PATCH_SHARE = 0.6
# A piece is remembered at its first reading only if the lines read over it
# span this share of it (or if nothing was read there: an icon); else at its
# second (see `_second_chance`).
LINE_SPANNED = 0.6
# A word box is remembered only if the words read over it span this share of it.
WORD_SPANNED = 0.8
# Words are learnt from reads of this many pieces at most: a line being
# edited is read alone first; finding the words of a whole new page would
# cost more than patching saves.
WORD_LEARN_PIECES = 8

Recognize = Callable[[Image.Image], list[OcrLine]]
V = TypeVar("V")


@dataclass(frozen=True)
class Reading:
    """A region's lines (in its own coordinates) and what reading them cost."""

    lines: list[OcrLine]
    reads: int  # OCR calls made
    reused: int  # pieces whose lines were remembered


def _key(gray: np.ndarray, rect: Rect) -> bytes:
    pixels = np.ascontiguousarray(gray[rect.y : rect.bottom, rect.x : rect.right])
    return hashlib.blake2b(
        pixels.tobytes(), digest_size=16, person=f"{rect.width}x{rect.height}".encode()
    ).digest()


class ReadingMemo:
    """Remembers the lines read in pieces of the screen, by the pieces' pixels."""

    def __init__(self, size: int = MEMO_SIZE, word_size: int = WORD_MEMO_SIZE) -> None:
        self._size = size
        self._known: OrderedDict[bytes, tuple[OcrLine, ...]] = OrderedDict()
        self._word_size = word_size
        # Pieces read once with words missing: remembered at their next reading.
        self._partial: OrderedDict[bytes, None] = OrderedDict()
        # A word's box of pixels -> what was read there (relative to the box).
        self._words: OrderedDict[bytes, tuple[OcrWord, ...]] = OrderedDict()

    def read(self, gray: np.ndarray, recognize: Recognize) -> Reading:
        """The lines in `gray` (2-D uint8), reading only what is not remembered."""
        calls = 0

        def counted(picture: Image.Image) -> list[OcrLine]:
            nonlocal calls
            calls += 1
            return recognize(picture)

        tree = blocks(gray)
        if tree is None:
            if int(gray.max()) - int(gray.min()) < FAINT_STEP:
                return Reading([], 0, 0)  # flat: no text to read
            # Only faint marks, below the ink threshold: read as it is,
            # remembering nothing (faint grey-on-grey text is still text).
            return Reading(recognize(Image.fromarray(gray)), 1, 0)
        leaves = tree.leaves()
        keys = {id(leaf): _key(gray, leaf.rect) for leaf in leaves}
        recalled = {id(leaf): _bounded_get(self._known, keys[id(leaf)]) for leaf in leaves}
        # An empty tuple is a piece known to hold no text.
        known = {leaf: lines for leaf, lines in recalled.items() if lines is not None}
        to_read = _plan(tree, {id(leaf) for leaf in leaves if id(leaf) not in known})
        lines: list[OcrLine] = []
        read_leaves: set[int] = set()
        for block in to_read:
            if not block.children:
                # A piece of line read on its own: maybe only a few of its words are new.
                patched = self._patch(gray, block, keys[id(block)], counted)
                if patched is not None:
                    lines += patched
                    read_leaves.add(id(block))
                    continue
            # The whole region when all of it is read, as a region is cut at
            # blank space and tesseract likes a margin.
            area = Rect(0, 0, gray.shape[1], gray.shape[0])
            if block is not tree:
                area = _expanded(block.rect, _MARGIN, area)
            inside = block.leaves()
            picture = Image.fromarray(_page(gray, area, inside))
            found = [line.moved(area.x, area.y) for line in counted(picture)]
            lines += found
            read_leaves.update(id(leaf) for leaf in inside)
            self._learn(inside, keys, found, gray, len(inside) <= WORD_LEARN_PIECES)
        reused = 0
        for leaf in leaves:
            if id(leaf) in known and id(leaf) not in read_leaves:
                lines += [line.moved(leaf.rect.x, leaf.rect.y) for line in known[id(leaf)]]
                reused += 1
        return Reading(lines, calls, reused)

    def _learn(
        self,
        leaves: list[Block],
        keys: dict[int, bytes],
        lines: list[OcrLine],
        gray: np.ndarray,
        learn_words: bool,
    ) -> None:
        """Remembers each piece's lines: those centred on it, unless a line runs beyond it.

        A line centred on a piece but running into the next one sideways
        (two pieces read as one line) spoils both; one only a little taller
        than its piece (tesseract's boxes are sometimes) is still its own.
        """
        lines = sorted(lines, key=lambda line: line.y)
        tops = [line.y for line in lines]
        tallest = max((line.height for line in lines), default=0)
        for leaf in leaves:
            rect = leaf.rect
            allowed = _allowed(rect)
            own: list[OcrLine] = []
            clean = True
            for line in lines[bisect_left(tops, rect.y - tallest) :]:
                if line.y >= rect.bottom:
                    break
                if rect.contains_point(*line.centre) and allowed.contains(line.box):
                    own.append(line.moved(-rect.x, -rect.y))
                elif line.box.intersects(rect):
                    clean = False
                    break
            if not clean or (own and not self._second_chance(keys[id(leaf)], own, rect)):
                continue
            # An empty tuple is remembered too: an icon read as nothing stays nothing.
            _bounded_put(self._known, keys[id(leaf)], tuple(own), self._size)
            if learn_words and len(own) == 1 and rect.height <= PATCH_MAX_HEIGHT:
                pixels = gray[rect.y : rect.bottom, rect.x : rect.right]
                self._learn_words(pixels, words(pixels), _words_in_piece(own[0]))

    def _second_chance(self, key: bytes, own: list[OcrLine], rect: Rect) -> bool:
        """Whether a piece's lines may be remembered: they span most of it, or
        it was read partly once before (tesseract drops words it is unsure of;
        in another crop it may not, but a piece is not read again and again)."""
        if _spanned(own) >= LINE_SPANNED * rect.width or key in self._partial:
            self._partial.pop(key, None)
            return True
        _bounded_put(self._partial, key, None, self._size)
        return False

    def _patch(
        self, gray: np.ndarray, leaf: Block, key: bytes, recognize: Recognize
    ) -> list[OcrLine] | None:
        """The piece of line `leaf`, reading only its new words; None if most are new.

        Its remembered words keep their places; the new ones are read with
        one remembered word on each side, whose fresh reading is kept too.
        """
        rect = leaf.rect
        if rect.height > PATCH_MAX_HEIGHT:
            return None
        pixels = gray[rect.y : rect.bottom, rect.x : rect.right]
        boxes = words(pixels)
        if len(boxes) < 2:
            return None
        remembered = [_bounded_get(self._words, _key(pixels, box)) for box in boxes]
        new = [i for i, found in enumerate(remembered) if found is None]
        found: list[OcrWord] = []
        if new:
            first, last = max(0, new[0] - 1), min(len(boxes) - 1, new[-1] + 1)
            span = Rect(boxes[first].x, 0, boxes[last].right - boxes[first].x, rect.height)
            if span.width > PATCH_SHARE * rect.width:
                return None
            fresh = self._read_span(gray, rect, span, recognize)
            if fresh is None:
                return None
            found += fresh
            self._learn_words(pixels, boxes[first : last + 1], fresh)
            kept = [i for i in range(len(boxes)) if not first <= i <= last]
        else:
            kept = list(range(len(boxes)))  # its words, spaced or aligned anew
        for i in kept:
            box = boxes[i]
            found += [_moved(word, box.x, box.y) for word in remembered[i] or ()]
        lines = [_line_in_piece(found).moved(rect.x, rect.y)] if found else []
        self._learn([leaf], {id(leaf): key}, lines, gray, learn_words=False)
        return lines

    def _read_span(
        self, gray: np.ndarray, rect: Rect, span: Rect, recognize: Recognize
    ) -> list[OcrWord] | None:
        """The words read in `span` of the piece at `rect` (in the piece's
        coordinates); None if tesseract made more than one line of it."""
        area = _expanded(rect, _MARGIN, Rect(0, 0, gray.shape[1], gray.shape[0]))
        page = _page(gray, area, [Block(rect)])
        left = max(0, rect.x + span.x - _MARGIN - area.x)
        right = min(area.width, rect.x + span.right + _MARGIN - area.x)
        read = recognize(Image.fromarray(np.ascontiguousarray(page[:, left:right])))
        if len(read) > 1:
            return None
        dx, dy = area.x + left - rect.x, area.y - rect.y
        return [_moved(w, line.x + dx, line.y + dy) for line in read for w in line.words]

    def _learn_words(self, pixels: np.ndarray, boxes: list[Rect], read: list[OcrWord]) -> None:
        """Remembers each word box's words (those read in `pixels`, a piece's
        coordinates): the words centred on it, unless one runs beyond it.

        A box is remembered only if what was read spans most of it. Tesseract
        drops words it is unsure of; a path read as nothing, or as half of
        itself, in one line must not be left out of every line composed later.
        """
        for box in boxes:
            allowed = _allowed(box)
            own = []
            for word in read:
                word_box = Rect(word.x, word.y, word.width, word.height)
                if box.x <= word.x + word.width / 2 < box.right and allowed.contains(word_box):
                    own.append(_moved(word, -box.x, -box.y))
                elif word_box.intersects(Rect(box.x, word.y, box.width, word.height)):
                    break
            else:
                if own and _spanned(own) >= WORD_SPANNED * box.width:
                    _bounded_put(self._words, _key(pixels, box), tuple(own), self._word_size)


def _bounded_get(memo: OrderedDict[bytes, V], key: bytes) -> V | None:
    """What `memo` holds for `key`, made its newest entry; None if it holds nothing."""
    found = memo.get(key)
    if found is not None:
        memo.move_to_end(key)
    return found


def _bounded_put(memo: OrderedDict[bytes, V], key: bytes, value: V, size: int) -> None:
    """Puts `key` in `memo` as its newest entry, forgetting the oldest beyond `size`."""
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > size:
        memo.popitem(last=False)


def _allowed(rect: Rect) -> Rect:
    """Where what is read over `rect` may lie and still be its own: a little
    beyond it sideways, up to its own height above and below (tesseract's
    boxes sometimes run tall)."""
    return Rect(rect.x - _SLACK, rect.y - rect.height, rect.width + 2 * _SLACK, 3 * rect.height)


def _spanned(read: Sequence[OcrLine] | Sequence[OcrWord]) -> int:
    """How wide the lines or words read span, from the first's left to the last's right."""
    return max(r.x + r.width for r in read) - min(r.x for r in read)


def _moved(word: OcrWord, dx: int, dy: int) -> OcrWord:
    return OcrWord(word.text, word.x + dx, word.y + dy, word.width, word.height, word.confidence)


def _words_in_piece(line: OcrLine) -> list[OcrWord]:
    """A line's words, placed in the line's own coordinates (those of its piece)."""
    return [_moved(word, line.x, line.y) for word in line.words]


def _line_in_piece(found: list[OcrWord]) -> OcrLine:
    """One line of the words placed in a piece (the line's box is theirs)."""
    x, y = min(w.x for w in found), min(w.y for w in found)
    right = max(w.x + w.width for w in found)
    bottom = max(w.y + w.height for w in found)
    return line_of_words([_moved(w, -x, -y) for w in found], x, y, right - x, bottom - y)


def _page(gray: np.ndarray, area: Rect, leaves: list[Block]) -> np.ndarray:
    """`area` of `gray` as dark text on white, whatever the colours were.

    Each piece's pixels become their distance from its ground (its median
    level): text lighter or darker than its ground, a dark editor beside a
    light browser, all come out dark on white, and the rules and borders
    between pieces are blanked. Tesseract reads dark on light best; given
    light on dark it tries each line both ways, at a quarter of its time.
    """
    page = np.full((area.height, area.width), 255, dtype=np.uint8)
    for leaf in leaves:
        rect = _expanded(leaf.rect, _MARGIN, area)
        pixels = gray[rect.y : rect.bottom, rect.x : rect.right].astype(np.int16)
        ground = int(np.median(pixels))
        distance = np.abs(pixels - ground)
        pixels = (255 - distance).astype(np.uint8)
        page[rect.y - area.y : rect.bottom - area.y, rect.x - area.x : rect.right - area.x] = pixels
    return page


def _expanded(rect: Rect, by: int, bounds: Rect | None = None) -> Rect:
    grown = Rect(rect.x - by, rect.y - by, rect.width + 2 * by, rect.height + 2 * by)
    return grown if bounds is None else (grown.clipped(bounds) or rect)


def _plan(tree: Block, unknown: set[int]) -> list[Block]:
    """The blocks to read: mostly-unknown blocks whole, else their unknown parts."""
    areas: dict[int, tuple[int, int]] = {}  # block -> (unknown area, area) of its leaves

    def measure(block: Block) -> tuple[int, int]:
        if not block.children:
            area = block.rect.area
            result = (area if id(block) in unknown else 0, area)
        else:
            parts = [measure(child) for child in block.children]
            result = (sum(p[0] for p in parts), sum(p[1] for p in parts))
        areas[id(block)] = result
        return result

    measure(tree)
    plan: list[Block] = []
    pending = [tree]
    while pending:
        block = pending.pop()
        missing, total = areas[id(block)]
        if missing == 0:
            continue
        if not block.children or missing >= READ_WHOLE_SHARE * total:
            plan.append(block)
        else:
            pending.extend(block.children)
    return plan
