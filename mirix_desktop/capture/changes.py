"""Change detection: which parts of a monitor's picture need OCR, and which moved.

A frame is cut into tiles (64x64 by default). Each tile-wide run of a pixel
row gets a 32-bit hash (pixel words times random odd weights, summed with
wrap-around, so any single changed pixel always changes it) and a tile's
64-bit hash combines its rows' the same way. That is about 2 ms for a 1080p
frame, and a byte-identical frame is caught even sooner by comparing it with
the last one.

For a changed frame the tracker plans the OCR:
- the base is the earlier picture most like this one: normally the last
  frame, but after switching back to a window it is the state cached from
  when that window was last seen, so its text is not read again;
- changed tiles are grouped, tightened to the pixels that really differ,
  and widened to text boundaries (blank rows above and below, a wide blank
  gap left and right) so a line is never read half;
- vertical scrolling is recognised from row hashes: the content that only
  moved keeps its text (shifted) and only the newly exposed strip is read.

The plan names regions and moves in pixels; the pipeline applies it to the
base state's OCR lines.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image

from mirix_desktop.geometry import WORD_GAP, Rect, gather, merge_overlapping, runs, subtract_all

TILE = 64
# Earlier pictures kept (as tile hashes) to recognise a window switched back to.
CACHED_STATES = 8
# Past this share of a window, reading it whole beats many seams. On the
# replay 0.6 found no more words than 0.85 and cost a few % more CPU (near
# the noise); at 1.0 the seams of near-total changes lost 2% of the words.
FULL_FRAME_SHARE = 0.85
# Widening a region: rows searched for a blank row; sideways it stops at a
# blank gap of WORD_GAP columns, where OCR lines are cut into pieces too.
_MAX_VERTICAL_GROWTH = 20
# Regions overlapping by more than this share of the smaller are read as one;
# lesser overlaps are read apart and their duplicate lines dropped.
_MERGE_SHARE = 0.5
# Regions are gathered into one while they fill this share of its box: each
# region is an OCR call at least, and known lines inside cost no OCR.
_GATHER_FILL = 0.3
# An older picture is the base only if it matches this share of tiles more.
_CLEARLY_CLOSER = 0.1
# Without window names, below this share of changed tiles a picture carries
# on the screen it is based on.
_SAME_SCREEN = 0.25
# A scroll needs this many content rows agreeing on one shift.
_MIN_SCROLL_VOTES = 4
_MIN_SCROLL_HEIGHT = 96

Pixels = npt.NDArray[np.uint8]
Hashes = npt.NDArray[np.uint64]
RowHashes = npt.NDArray[np.uint32]

_RNG = np.random.default_rng(0x6D697269)
_EMPTY: RowHashes = np.zeros((0, 0), dtype=np.uint32)


def _odd_weights(count: int) -> Hashes:
    weights = _RNG.integers(1, 2**63, count, dtype=np.uint64) | np.uint64(1)
    return weights


_TILE_WEIGHTS = _odd_weights(TILE)
# 32-bit arithmetic on the pixel words needs no widening copy of the frame:
# 6x faster than 64-bit, and one changed pixel still always changes the hash.
_ROW_WEIGHTS = _TILE_WEIGHTS.astype(np.uint32) | np.uint32(1)


def pixels_from_image(image: Image.Image) -> Pixels:
    """An HxWx4 uint8 BGRA array from a PIL image: the layout mss grabs in."""
    rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
    return np.ascontiguousarray(rgba[..., [2, 1, 0, 3]])


def _words(pixels: Pixels) -> npt.NDArray[np.uint32]:
    height, width = pixels.shape[:2]
    return np.ascontiguousarray(pixels).view(np.uint32).reshape(height, width)


@dataclass(frozen=True)
class Signature:
    """Tile hashes of one picture; equal hashes mean (practically) equal pixels."""

    tiles: Hashes
    width: int
    height: int
    # Per pixel row, one hash per tile-wide chunk: what scroll detection compares.
    row_chunks: RowHashes = field(repr=False, compare=False, default_factory=lambda: _EMPTY)

    def same_shape(self, other: Signature) -> bool:
        return (self.width, self.height) == (other.width, other.height)


def signature(pixels: Pixels, tile: int = TILE) -> Signature:
    height, width = pixels.shape[:2]
    rows, cols = -(-height // tile), -(-width // tile)
    words = _words(pixels)
    if (rows * tile, cols * tile) != (height, width):
        padded = np.zeros((rows * tile, cols * tile), np.uint32)
        padded[:height, :width] = words
        words = padded
    weights = _TILE_WEIGHTS if tile == TILE else _odd_weights(tile)
    row_weights = _ROW_WEIGHTS if tile == TILE else weights.astype(np.uint32) | np.uint32(1)
    row_chunks: RowHashes = np.einsum(
        "rck,k->rc", words.reshape(rows * tile, cols, tile), row_weights, dtype=np.uint32
    )
    tiles = np.einsum("rkc,k->rc", row_chunks.reshape(rows, tile, cols), weights, dtype=np.uint64)
    return Signature(tiles=tiles, width=width, height=height, row_chunks=row_chunks)


@dataclass(frozen=True)
class Move:
    """Content inside `rect` moved up by `dy` pixels (down when negative)."""

    rect: Rect
    dy: int


@dataclass(frozen=True)
class ChangePlan:
    """What changed since the base picture, and what to OCR."""

    state_id: int
    base_state: int | None  # None: no earlier text carries over
    regions: tuple[Rect, ...]  # OCR these; base lines touching them are replaced
    moves: tuple[Move, ...]
    changed_share: float
    signature: Signature = field(repr=False, compare=False)
    # The base, when this picture is the same screen carried on (typing,
    # scrolling): it is dropped from the cache, which then holds one state
    # per screen instead of the last few frames of the busiest one.
    replaces: int | None = None
    screen: Hashable = field(default=None, compare=False)


_state_ids = itertools.count(time.time_ns())


class ChangeTracker:
    """Plans OCR for one monitor. `plan()` looks; `commit()` makes a plan the new base.

    Planning and committing are separate so the capture loop can skip frames
    (when OCR falls behind) and diff the next one against the last frame it
    actually sent, losing nothing in between.
    """

    def __init__(self, tile: int = TILE, cached_states: int = CACHED_STATES) -> None:
        self.tile = tile
        self._cached_states = cached_states
        self._last_pixels: Pixels | None = None
        self._last_state: int | None = None
        self._last_screen: Hashable = None
        self._states: OrderedDict[int, Signature] = OrderedDict()

    def reset(self) -> None:
        self._last_pixels = None
        self._last_state = None
        self._last_screen = None
        self._states.clear()

    def unchanged(self, pixels: Pixels) -> bool:
        """The cheapest test: byte-identical to the last committed frame."""
        last = self._last_pixels
        if last is None or last.shape != pixels.shape:
            return False
        if last.size % 8:
            return bool(np.array_equal(last, pixels))
        # Compared as 64-bit words: half the time of comparing bytes, run every tick.
        words = np.ascontiguousarray(pixels).reshape(-1).view(np.uint64)
        return bool(np.array_equal(last.reshape(-1).view(np.uint64), words))

    def plan(
        self, pixels: Pixels, windows: Sequence[Rect] = (), screen: Hashable = None
    ) -> ChangePlan | None:
        """None when nothing changed since the last committed frame.

        `windows`: the windows' rects on this picture, top-most first. A
        region never spans two windows: text is widened only up to a window's
        edge (else a changed line in one window drags in the busy text of the
        window beside it), and each window decides alone whether it is read
        whole. `screen` names what is shown (the windows and their titles):
        a picture with the same name as the last one carries it on.
        """
        if self.unchanged(pixels):
            return None
        sig = signature(pixels, self.tile)
        height, width = sig.height, sig.width
        frame = Rect(0, 0, width, height)
        base_id, base_sig = self._best_base(sig)
        if base_sig is None:
            return ChangePlan(next(_state_ids), None, (frame,), (), 1.0, sig, screen=screen)
        mask = sig.tiles != base_sig.tiles
        changed_share = float(mask.mean())
        if not mask.any():
            # Back to a cached picture exactly: its text is already known.
            return ChangePlan(next(_state_ids), base_id, (), (), 0.0, sig, screen=screen)
        previous = self._last_pixels if base_id == self._last_state else None
        previous_sig = self._states.get(base_id) if previous is not None and base_id else None
        regions: list[Rect] = []
        moves: list[Move] = []
        boxes = self._changed_boxes(mask, frame)
        for area in screen_areas(frame, windows):
            area_regions: list[Rect] = []
            area_moves: list[Move] = []
            for tile_box in boxes:
                box = tile_box.intersection(area)
                if box is None:
                    continue
                rest = [box]
                if previous is not None and previous_sig is not None:
                    found, strips, rest = _detect_scrolls(
                        box, sig, previous_sig, pixels, previous, self.tile
                    )
                    area_moves.extend(found)
                    area_regions.extend(_widen_to_text(strip, pixels, area) for strip in strips)
                for part in rest:
                    bands = [part] if previous is None else _changed_bands(part, pixels, previous)
                    area_regions.extend(_widen_to_text(band, pixels, area) for band in bands)
            area_regions = gather(merge_overlapping(area_regions, _MERGE_SHARE), _GATHER_FILL)
            if sum(r.area for r in area_regions) > FULL_FRAME_SHARE * area.area:
                area_regions, area_moves = [area], []
            regions.extend(area_regions)
            moves.extend(area_moves)
        same_screen = (
            screen == self._last_screen if screen is not None else changed_share < _SAME_SCREEN
        )
        replaces = base_id if base_id == self._last_state and same_screen else None
        return ChangePlan(
            next(_state_ids),
            base_id,
            tuple(regions),
            tuple(moves),
            changed_share,
            sig,
            replaces,
            screen,
        )

    def commit(self, plan: ChangePlan, pixels: Pixels) -> None:
        self._last_pixels = pixels.copy()
        self._last_state = plan.state_id
        self._last_screen = plan.screen
        if plan.replaces is not None:
            self._states.pop(plan.replaces, None)
        self._states[plan.state_id] = plan.signature
        while len(self._states) > self._cached_states:
            self._states.popitem(last=False)

    def _best_base(self, sig: Signature) -> tuple[int | None, Signature | None]:
        """The last picture, unless an older one (a window switched back to) is much closer.

        Only the last picture's pixels are kept, so only against it can
        scrolls be recognised: an older state must win clearly to be used.
        """
        scores = {
            state_id: int((cached.tiles == sig.tiles).sum())
            for state_id, cached in self._states.items()
            if cached.same_shape(sig)
        }
        if not scores or max(scores.values()) == 0:
            return None, None
        best = max(scores, key=lambda state_id: (scores[state_id], state_id))
        last = self._last_state
        if last in scores and scores[best] - scores[last] <= _CLEARLY_CLOSER * sig.tiles.size:
            best = last
        return best, self._states[best]

    def _changed_boxes(self, mask: npt.NDArray[np.bool_], frame: Rect) -> list[Rect]:
        boxes = []
        for rows, cols in tile_groups(mask):
            box = Rect(
                cols.start * self.tile,
                rows.start * self.tile,
                (cols.stop - cols.start) * self.tile,
                (rows.stop - rows.start) * self.tile,
            ).clipped(frame)
            if box is not None:
                boxes.append(box)
        return boxes


def tile_groups(mask: npt.NDArray[np.bool_]) -> list[tuple[slice, slice]]:
    """The bounding boxes (rows, columns) of the groups of touching True cells.

    Cells touch at an edge or a corner; groups come in the order of their
    first cell, row by row. This is `scipy.ndimage.label` with a 3x3
    structure and `find_objects`, on a grid of a few hundred tiles: not worth
    the 30 MB that importing scipy.ndimage adds to the daemon.
    """
    cells = mask.tolist()
    height, width = mask.shape
    seen = [[False] * width for _ in range(height)]
    groups = []
    for first_row, first_col in zip(*np.nonzero(mask), strict=True):
        row, col = int(first_row), int(first_col)
        if seen[row][col]:
            continue
        seen[row][col] = True
        top, left, bottom, right = row, col, row, col
        stack = [(row, col)]
        while stack:
            r, c = stack.pop()
            top, bottom = min(top, r), max(bottom, r)
            left, right = min(left, c), max(right, c)
            for rr in range(max(r - 1, 0), min(r + 2, height)):
                for cc in range(max(c - 1, 0), min(c + 2, width)):
                    if cells[rr][cc] and not seen[rr][cc]:
                        seen[rr][cc] = True
                        stack.append((rr, cc))
        groups.append((slice(top, bottom + 1), slice(left, right + 1)))
    return groups


# Changed rows closer than this belong to one band (the lines of a paragraph).
_BAND_GAP = 8


def _changed_bands(box: Rect, pixels: Pixels, previous: Pixels) -> list[Rect]:
    """The pixels that really differ inside a group of tiles, as horizontal bands.

    Each stretch of changed rows gets its own bounding box: a tall group of
    tiles (a column next to a scrolled page, a status bar and an edited line
    far above it) would otherwise become one box that widening then spreads
    over everything in between.
    """
    cur = _words(pixels)[box.y : box.bottom, box.x : box.right]
    old = _words(previous)[box.y : box.bottom, box.x : box.right]
    diff = cur != old
    changed_rows = diff.any(axis=1)
    bands: list[Rect] = []
    for a, b in runs(changed_rows):
        if bands and box.y + a - bands[-1].bottom < _BAND_GAP:
            a = bands.pop().y - box.y
        cols = np.flatnonzero(diff[a:b].any(axis=0))
        bands.append(Rect(box.x + int(cols[0]), box.y + a, int(cols[-1] - cols[0]) + 1, b - a))
    return bands


def _uniform_rows(words: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
    uniform: npt.NDArray[np.bool_] = (words == words[:, :1]).all(axis=1)
    return uniform


def _chunk_uniform(words: npt.NDArray[np.uint32], tile: int) -> npt.NDArray[np.bool_]:
    """Per row and tile-wide chunk: True where the chunk is one colour (no text)."""
    height, width = words.shape
    cols = -(-width // tile)
    if cols * tile != width:
        padded = np.empty((height, cols * tile), np.uint32)
        padded[:, :width] = words
        padded[:, width:] = words[:, -1:]
        words = padded
    chunks = words.reshape(height, cols, tile)
    uniform: npt.NDArray[np.bool_] = (chunks == chunks[:, :, :1]).all(axis=2)
    return uniform


def _detect_scrolls(
    box: Rect, sig: Signature, old_sig: Signature, pixels: Pixels, previous: Pixels, tile: int
) -> tuple[list[Move], list[Rect], list[Rect]]:
    """Vertical scrolls inside a tile-aligned box: (moves, strips to read, parts left over).

    Each tile column votes for the shift its rows moved by, using the
    per-row chunk hashes of the signatures; neighbouring columns that moved
    together form one move. An editor's text and its minimap scroll by
    different amounts, so columns decide apart. Columns that did not scroll
    are returned as they are, to be read as plain changes.
    """
    if box.height < _MIN_SCROLL_HEIGHT or not old_sig.row_chunks.size:
        return [], [], [box]
    c0, c1 = box.x // tile, -(-box.right // tile)
    y0, y1 = box.y, box.bottom
    cur = sig.row_chunks[y0:y1, c0:c1]
    old = old_sig.row_chunks[y0:y1, c0:c1]
    blank = _chunk_uniform(_words(pixels)[y0:y1, c0 * tile : min(c1 * tile, sig.width)], tile)
    old_blank = _chunk_uniform(_words(previous)[y0:y1, c0 * tile : min(c1 * tile, sig.width)], tile)
    height, cols = cur.shape
    votes: Counter[int] = Counter()
    for j in range(cols):
        column = old[:, j].tolist()
        counts = Counter(h for h, b in zip(column, old_blank[:, j].tolist(), strict=True) if not b)
        where = {h: y for y, h in enumerate(column) if counts.get(h) == 1}
        for y in np.flatnonzero(~blank[:, j]).tolist():
            old_y = where.get(int(cur[y, j]))
            if old_y is not None and old_y != y:
                votes[old_y - y] += 1
    candidates = [dy for dy, n in votes.most_common(3) if n >= _MIN_SCROLL_VOTES]
    if not candidates:
        return [], [], [box]
    ys = np.arange(height)
    column_dy: list[int | None] = []  # per tile column: its shift, or None
    matched_rows: dict[int, npt.NDArray[np.bool_]] = {}
    for j in range(cols):
        content = ~blank[:, j]
        best: int | None = None
        best_share = 0.6  # at least this share of a column's text rows must have moved
        for dy in candidates:
            source = ys + dy
            valid = (source >= 0) & (source < height)
            same = np.zeros(height, dtype=bool)
            same[valid] = cur[valid, j] == old[source[valid], j]
            # Rows scrolled in from outside the box cannot match, nor text
            # that came where nothing was (a terminal filling up as it
            # scrolls): neither is counted against the shift.
            was_blank = np.zeros(height, dtype=bool)
            was_blank[valid] = old_blank[source[valid], j]
            judged = content & valid & ~was_blank
            count = int(judged.sum())
            share = float((same & judged).sum()) / count if count else 1.0
            # A column with little text (short lines, margins) follows its
            # neighbours only if every text row it has agrees.
            needed = best_share if count >= _MIN_SCROLL_VOTES else 1.0
            if share >= needed and (best is None or share > best_share):
                best, best_share = dy, share
                matched_rows[j] = same
        column_dy.append(best)
    moves: list[Move] = []
    strips: list[Rect] = []
    rest: list[Rect] = []
    start = 0
    for shift, group in itertools.groupby(column_dy):
        j = start + len(list(group))
        x = max(box.x, (c0 + start) * tile)
        right = min(box.right, (c0 + j) * tile)
        columns = range(start, j)
        start = j
        if shift is None:  # columns that did not scroll: plain changes
            rest.append(Rect(x, y0, right - x, height))
            continue
        moved = np.ones(height, dtype=bool)
        has_text = np.zeros(height, dtype=bool)
        in_place = np.ones(height, dtype=bool)
        for k in columns:
            # Rows with no text in this column need no reading, whatever was there.
            moved &= matched_rows[k] | blank[:, k]
            has_text |= ~blank[:, k]
            in_place &= cur[:, k] == old[:, k]
        kept = np.flatnonzero(moved & has_text)
        if kept.size:  # else all their text is new (it came where nothing was)
            first, last = int(kept[0]), int(kept[-1])
            moves.append(Move(Rect(x, y0 + first, right - x, last - first + 1), shift))
        # Rows that neither moved nor stayed as they were (a toolbar above a
        # scrolled page stays) came into view: those are read.
        strips.extend(Rect(x, y0 + a, right - x, b - a) for a, b in runs(~moved & ~in_place))
    return moves, strips, rest


def screen_areas(frame: Rect, windows: Sequence[Rect]) -> list[Rect]:
    """The picture cut into the visible parts of each window and what no window covers."""
    areas: list[Rect] = []
    for index, window in enumerate(windows):
        clip = window.clipped(frame)
        if clip is not None:
            areas.extend(subtract_all([clip], windows[:index]))
    return areas + subtract_all([frame], windows)


def _widen_to_text(region: Rect, pixels: Pixels, bounds: Rect) -> Rect:
    """Grows a region to blank rows above/below and wide blank gaps left/right.

    OCR of half a line reads garbage and would replace the good text of the
    whole line, so regions end where text does, but never beyond `bounds`
    (the window). Growing sideways can reach taller letters, so it repeats
    until the region is stable.
    """
    for _ in range(2):
        grown = _widen_once(region, pixels, bounds)
        if grown == region:
            break
        region = grown
    return region


def _widen_once(region: Rect, pixels: Pixels, bounds: Rect) -> Rect:
    words = _words(pixels)
    top, bottom = region.y, region.bottom
    low = max(bounds.y, top - _MAX_VERTICAL_GROWTH)
    high = min(bounds.bottom, bottom + _MAX_VERTICAL_GROWTH)
    blank_row = _uniform_rows(words[low:high, region.x : region.right])
    while top > low and not blank_row[top - 1 - low]:
        top -= 1
    while bottom < high and not blank_row[bottom - low]:
        bottom += 1
    rows = words[top:bottom]
    blank_col = (rows == rows[:1]).all(axis=0)
    left, right = region.x, region.right
    gap = 0
    x = left - 1
    while x >= bounds.x and gap < WORD_GAP:
        if blank_col[x]:
            gap += 1
        else:
            gap, left = 0, x
        x -= 1
    gap = 0
    x = right
    while x < bounds.right and gap < WORD_GAP:
        if blank_col[x]:
            gap += 1
        else:
            gap, right = 0, x + 1
        x += 1
    return Rect(left, top, right - left, bottom - top)
