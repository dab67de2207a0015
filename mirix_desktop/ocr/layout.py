"""Where the text in a picture may be, found cheaply: blocks of ink split at blank gaps.

OCR costs several milliseconds per line of text; finding the lines costs
microseconds. A recursive XY cut splits a grayscale picture at blank rows
and at blank columns at least a word gap wide, down to single pieces of
line. Its leaves are what `ocr/reuse.py` recognizes by their pixels: the
same line shown again (a window switched back to, moved sideways by a
layout change, a page scrolled back) is not read again.

A leaf depends only on its own pixels and on the blank gaps around it, not
on where the picture was cropped, so the same line cut out of two
different regions is the same leaf.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mirix_desktop.geometry import WORD_GAP, Rect, runs

# A gray step this large between neighbouring pixels is the edge of a
# glyph, an icon or a border; smooth gradients and flat fills are not ink.
INK_STEP = 40
# A run of rows this thin, this close to a line, is a mark on it (see `_with_marks`).
MARK_HEIGHT = 4
MARK_GAP = 2
# Blank columns this wide split a piece of line into words (see `words`).
# Measured on the replay's fonts: gaps inside a word are 1-5 px wide (with
# the ink mask's one-pixel fringe), between words mostly 8-14 in monospace
# and 3-7 in proportional text, where two words may then stay one.
SPACE_GAP = 6
# A row or column inked along this share of a block's length is a rule (a
# pane border, a separator, a table line), not text: it counts as blank
# when looking for gaps, or nothing would ever split beside it.
RULE_SHARE = 0.9
# ...but only in a block at least this long: across one line of text, a
# column through "l" or "|" is not a rule.
RULE_MIN_LENGTH = 64


@dataclass
class Block:
    """A box of ink in the picture, split into smaller blocks unless it is a leaf."""

    rect: Rect
    children: list[Block] = field(default_factory=list)

    def leaves(self) -> list[Block]:
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """True where a pixel sits on a sharp step in gray level (both sides of it)."""
    level = gray.astype(np.int16)
    ink = np.zeros(level.shape, dtype=bool)
    across = np.abs(np.diff(level, axis=1)) >= INK_STEP
    ink[:, 1:] |= across
    ink[:, :-1] |= across
    down = np.abs(np.diff(level, axis=0)) >= INK_STEP
    ink[1:, :] |= down
    ink[:-1, :] |= down
    return ink


def _bridged(filled: np.ndarray, rules: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """Runs of True in `filled`, merged across gaps shorter than `min_gap` without a rule."""
    merged: list[tuple[int, int]] = []
    for start, end in runs(filled):
        if merged and start - merged[-1][1] < min_gap and not rules[merged[-1][1] : start].any():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _with_marks(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Rows of ink merged with a thin run just above or below: an underscore, an
    underline, the dot of an "i" belong to their line (two blank rows at most)."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged:
            last_start, last_end = merged[-1]
            thin = min(end - start, last_end - last_start) <= MARK_HEIGHT
            if thin and start - last_end <= MARK_GAP:
                merged[-1] = (last_start, end)
                continue
        merged.append((start, end))
    return merged


def _profile(counts: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows or columns holding ink other than a rule, rules): a rule always separates."""
    if length >= RULE_MIN_LENGTH:
        rules = counts >= RULE_SHARE * length
    else:
        rules = np.zeros(counts.shape, dtype=bool)
    return (counts > 0) & ~rules, rules


def blocks(gray: np.ndarray) -> Block | None:
    """The XY-cut tree of `gray` (a 2-D uint8 array), or None if it holds no ink."""
    ink = ink_mask(gray)
    root = _trimmed(ink, Rect(0, 0, ink.shape[1], ink.shape[0]))
    if root is None:
        return None
    tree = Block(root)
    pending = [(tree, True)]
    while pending:
        block, rows_first = pending.pop()
        parts = _split(ink, block.rect, rows_first)
        if parts is None:
            parts = _split(ink, block.rect, not rows_first)
            rows_first = not rows_first
        if parts is None:
            continue
        for rect in parts:
            child = Block(rect)
            block.children.append(child)
            pending.append((child, not rows_first))
    return tree


def _trimmed(ink: np.ndarray, rect: Rect) -> Rect | None:
    area = ink[rect.y : rect.bottom, rect.x : rect.right]
    rows = np.flatnonzero(area.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(area.any(axis=0))
    return Rect(
        rect.x + int(cols[0]),
        rect.y + int(rows[0]),
        int(cols[-1] - cols[0]) + 1,
        int(rows[-1] - rows[0]) + 1,
    )


def _split(ink: np.ndarray, rect: Rect, by_rows: bool) -> list[Rect] | None:
    """`rect` cut at its blank rows (or wide blank columns), parts trimmed; None if it can't be."""
    area = ink[rect.y : rect.bottom, rect.x : rect.right]
    if by_rows:
        spans = _with_marks(_bridged(*_profile(area.sum(axis=1), rect.width), 1))
        pieces = [Rect(rect.x, rect.y + a, rect.width, b - a) for a, b in spans]
    else:
        spans = _bridged(*_profile(area.sum(axis=0), rect.height), WORD_GAP)
        pieces = [Rect(rect.x + a, rect.y, b - a, rect.height) for a, b in spans]
    if len(pieces) < 2 and (not pieces or pieces[0] == rect):
        return None
    parts = [trimmed for piece in pieces if (trimmed := _trimmed(ink, piece)) is not None]
    if len(parts) == 1 and parts[0] == rect:
        return None
    return parts


def words(gray: np.ndarray) -> list[Rect]:
    """The words of one piece of line (a leaf, as a 2-D array): inked columns
    split at blank gaps of at least `SPACE_GAP`, each box trimmed to its ink.

    Like a leaf, a word's box depends only on its own pixels and the gaps
    around it: the same word in another line is the same box of pixels.
    """
    ink = ink_mask(gray)
    found = []
    inked = ink.sum(axis=0) > 0
    for start, end in _bridged(inked, np.zeros(ink.shape[1], dtype=bool), SPACE_GAP):
        box = _trimmed(ink, Rect(start, 0, end - start, ink.shape[0]))
        if box is not None:
            found.append(box)
    return found
