"""False positives: ordinary code, prose and terminal output must come through unchanged.

`tests/data/ordinary_lines.json` holds 484 lines with no secret in them (its
"about" says where they come from). At most 1% may be changed, read one line
at a time (titles) and as whole screens (OCR lines); the lines that are
changed today are named, so a new one shows up as a failure with its text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirix_desktop.privacy.redaction import Redactor

CORPUS = json.loads(
    (Path(__file__).parents[2] / "data" / "ordinary_lines.json").read_text(encoding="utf-8")
)
KINDS = ("code", "prose", "terminal")
# A password literal in a urllib docstring example, and an RFC grammar rule
# in a comment: both look exactly like a secret behind its label.
KNOWN = {"passwd='geheim$parole')", "# token          = 1*tchar"}


def changed_lines(lines: list[str]) -> tuple[set[str], set[str]]:
    redactor = Redactor()
    alone = {line for line in lines if redactor.redact(line)[0] != line}
    screen, _ = redactor.redact_lines(lines)
    together = {a for a, b in zip(lines, screen, strict=True) if a != b}
    return alone, together


def test_the_corpus_is_large_enough() -> None:
    assert sum(len(CORPUS[kind]) for kind in KINDS) >= 200
    assert all(len(CORPUS[kind]) >= 50 for kind in KINDS)


def test_at_most_one_percent_of_ordinary_lines_change() -> None:
    lines = [line for kind in KINDS for line in CORPUS[kind]]
    alone, together = changed_lines(lines)
    assert len(alone) <= 0.01 * len(lines), sorted(alone)
    assert len(together) <= 0.01 * len(lines), sorted(together)
    assert alone | together <= KNOWN, sorted((alone | together) - KNOWN)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_screen_text_as_a_whole_screen(kind: str) -> None:
    _alone, together = changed_lines(CORPUS[kind])
    assert together <= KNOWN, sorted(together - KNOWN)


def test_hashes_ids_and_names_in_terminal_output_are_kept() -> None:
    kept = [
        line
        for line in CORPUS["terminal"]
        if line.startswith(("commit ", "e3b0c442", "web-7d4b", "payments-api", "256 SHA256:"))
    ]
    assert len(kept) >= 5
    assert Redactor().redact_lines(kept) == (kept, 0)
