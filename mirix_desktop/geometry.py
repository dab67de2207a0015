"""Screen geometry shared by capture and OCR: rectangles and the gap that ends a line.

`Rect` is the one shape of windows, changed regions and OCR boxes. A leaf: it
imports nothing of the app, so `capture/` and `ocr/` both build on it without
depending on each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Blank columns that end a line of text: wider than any space between words.
# Change detection widens a changed region up to such a gap, and OCR cuts
# lines into pieces at one, so a region re-reads whole pieces: a status bar's
# changed "Ln 12, Col 4" no longer replaces the "Spaces: 4 UTF-8" beside it.
WORD_GAP = 24


@dataclass(frozen=True, order=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    def intersection(self, other: Rect) -> Rect | None:
        x, y = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        if right <= x or bottom <= y:
            return None
        return Rect(x, y, right - x, bottom - y)

    def intersects(self, other: Rect) -> bool:
        return self.intersection(other) is not None

    def contains(self, other: Rect) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def contains_point(self, x: float, y: float) -> bool:
        return self.x <= x < self.right and self.y <= y < self.bottom

    def union(self, other: Rect) -> Rect:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Rect(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)

    def subtract(self, other: Rect) -> list[Rect]:
        """The parts of this rectangle outside `other` (at most four)."""
        cut = self.intersection(other)
        if cut is None:
            return [self]
        parts = []
        if cut.y > self.y:
            parts.append(Rect(self.x, self.y, self.width, cut.y - self.y))
        if cut.bottom < self.bottom:
            parts.append(Rect(self.x, cut.bottom, self.width, self.bottom - cut.bottom))
        if cut.x > self.x:
            parts.append(Rect(self.x, cut.y, cut.x - self.x, cut.height))
        if cut.right < self.right:
            parts.append(Rect(cut.right, cut.y, self.right - cut.right, cut.height))
        return parts

    def moved(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.width, self.height)

    def clipped(self, bounds: Rect) -> Rect | None:
        return self.intersection(bounds)


def subtract_all(rects: Iterable[Rect], covers: Iterable[Rect]) -> list[Rect]:
    """The parts of `rects` outside every one of `covers`: what of a window is visible."""
    parts = list(rects)
    for cover in covers:
        parts = [piece for part in parts for piece in part.subtract(cover)]
    return parts


def merge_overlapping(rects: Iterable[Rect], share: float = 0.0) -> list[Rect]:
    """Unions rectangles that overlap by more than `share` of the smaller one.

    With share 0 every overlap merges. A higher share keeps an L-shaped pair
    (a changed line and a changed sidebar) apart: their union would be a big
    box of mostly unchanged pixels, and overlaps are cheap to dedupe later.
    """
    pending = sorted(rects)
    merged = True
    while merged:
        merged = False
        result: list[Rect] = []
        for rect in pending:
            for index, other in enumerate(result):
                cut = rect.intersection(other)
                if cut is not None and cut.area > share * min(rect.area, other.area):
                    result[index] = other.union(rect)
                    merged = True
                    break
            else:
                result.append(rect)
        pending = sorted(result)
    return pending


def gather(rects: Iterable[Rect], fill: float) -> list[Rect]:
    """Unions nearby rectangles: while those gathered fill `fill` of the box around them.

    A column of small changes (the line numbers beside a page scrolled by a
    screenful) becomes one box instead of eighty; two changes far apart
    stay apart, as their box would be mostly what did not change.
    """
    groups: list[tuple[Rect, int]] = []  # (box, area of the rects in it)
    for rect in sorted(rects, key=lambda r: (r.y, r.x)):
        for index, (box, filled) in enumerate(groups):
            merged = box.union(rect)
            if filled + rect.area >= fill * merged.area:
                groups[index] = (merged, filled + rect.area)
                break
        else:
            groups.append((rect, rect.area))
    return [box for box, _filled in groups]


def runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, stop) of each run of True: the rows or columns a box of content spans."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
