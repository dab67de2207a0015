"""Tesseract's word rows become lines with tight boxes."""

from __future__ import annotations

from typing import Any

from mirix_desktop.geometry import WORD_GAP
from mirix_desktop.ocr.engine import lines_from_tsv


def _word(text: str, left: int, top: int, width: int, line: int = 1) -> dict[str, Any]:
    return {
        "level": 5, "block_num": 1, "par_num": 1, "line_num": line,
        "left": left + 10, "top": top + 10, "width": width, "height": 14,
        "conf": 90, "text": text,
    }  # fmt: skip


def test_words_far_apart_on_one_tesseract_line_become_separate_pieces() -> None:
    # A sidebar entry, and code far to its right, that tesseract put on one line.
    rows = [
        _word("decoder.py", 20, 100, 80),
        _word("return", 400, 102, 50),
        _word("self.msg", 456, 102, 70),
    ]
    lines = lines_from_tsv(rows)
    assert [line.text for line in lines] == ["decoder.py", "return self.msg"]
    assert lines[0].x == 20 and lines[0].width == 80
    assert lines[1].x == 400 and lines[1].width == 126


def test_words_of_a_sentence_stay_one_line_and_unreadable_words_are_dropped() -> None:
    rows = [
        _word("the", 10, 50, 30),
        _word("quick", 46, 50, 50),
        {**_word("~~", 100, 50, 10), "conf": 5},
        _word("fox", 120, 50, 30),
    ]
    lines = lines_from_tsv(rows)
    assert [line.text for line in lines] == ["the quick fox"]


def test_a_gap_that_ends_a_changed_region_also_cuts_the_line() -> None:
    # A status bar: "Ln 12, Col 4" and "Spaces: 4" stand a WORD_GAP apart,
    # the gap where change detection stops widening a changed region.
    rows = [
        _word("Ln", 1400, 5, 16),
        _word("12,", 1420, 5, 24),
        _word("Col", 1450, 5, 24),
        _word("4", 1478, 5, 8),
        _word("Spaces:", 1486 + WORD_GAP, 5, 56),
    ]
    assert [line.text for line in lines_from_tsv(rows)] == ["Ln 12, Col 4", "Spaces:"]
