"""Which lines of the base picture's text stand in the next picture."""

from __future__ import annotations

from mirix_desktop.geometry import Rect
from mirix_desktop.ocr.engine import OcrLine
from mirix_desktop.pipeline.processor import carry_forward


def _line(text: str, y: int, x: int = 40, width: int = 400, height: int = 14) -> OcrLine:
    return OcrLine(text, x, y, width, height, 90.0)


def test_a_region_that_only_grazes_a_line_keeps_it_and_one_holding_it_drops_it() -> None:
    above, below = _line("kept above", 100), _line("re-read below", 130)
    # The region's bottom edge cuts 3 px into "kept above"; it holds "re-read below".
    region = Rect(0, 111, 800, 40)
    kept = carry_forward([above, below], [], [region])
    assert [line.text for line in kept] == ["kept above"]


def test_a_line_read_anew_at_its_place_replaces_the_carried_one() -> None:
    old = _line("Ln 1, Col 1", 1052, x=1400, width=120)
    region = Rect(1390, 1046, 200, 20)  # cuts the old box's bottom: not holding it
    new = _line("Ln 2, Col 5", 1052, x=1400, width=120)
    assert carry_forward([old], [], [region], [new]) == []


def test_a_status_bar_touching_the_scrolled_page_stays_where_it_is() -> None:
    page = [_line(f"code line {i}", 100 + 20 * i) for i in range(40)]
    status = _line("Ln 29, Col 4   Spaces: 4   UTF-8", 893, x=600, width=500, height=31)
    # The page scrolled up by 200 px: what is now at 100..900 came from 300..1100,
    # a source the status bar's top edge reaches into.
    moves = [(Rect(0, 100, 1200, 600), 200)]
    kept = carry_forward([*page, status], moves, [])
    assert status in kept
    texts = [line.text for line in kept]
    assert "code line 10" in texts and "code line 9" not in texts
    moved = next(line for line in kept if line.text == "code line 10")
    assert moved.y == 100
