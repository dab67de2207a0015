"""Key-like words beside a secret found on the screen go with it.

OCR cuts a key into word boxes and rows; the rules find most of it, and a
piece of 8 or more characters that no rule can judge alone (too short for
`looks_random`, among words on its row) is left in clear. Beside a secret
found (on its row or the rows above and below), such a word goes when it
reads as a key's piece (`_near_piece`; `key_fragment`, tested here too,
judges a string's end whose opening quote OCR lost). Elsewhere it stays. A span found
inside a word takes the whole word (and a key's first pieces a space before
it), and a row that is a key broken into short pieces goes whole.
"""

from __future__ import annotations

import pytest

from mirix_desktop.privacy.redaction import REDACTION_MARKER, Redactor
from mirix_desktop.privacy.secret_patterns import key_fragment

M = REDACTION_MARKER
NPM = "npm_Q7hTz2LwVbN8xYc4RfJk1MpS5dGe9AuH3iOa"


def test_a_keys_piece_among_words_on_the_row_below_a_secret_goes() -> None:
    lines = [f"//registry.npmjs.org/:_authToken={NPM}", "always-auth VcIDxyDs true"]
    out, _count = Redactor().redact_lines(lines)
    assert out[1] == f"always-auth {M} true"


def test_a_keys_piece_on_the_row_above_a_secret_goes() -> None:
    lines = ["key 4nfpHFtr saved", f"NPM_TOKEN={NPM}"]
    out, _count = Redactor().redact_lines(lines)
    assert out[0] == f"key {M} saved"


def test_the_same_word_far_from_any_secret_stays() -> None:
    lines = ["VcIDxyDs always-auth true", "", "", "nothing here"]
    assert Redactor().redact_lines(lines)[0] == lines


@pytest.mark.parametrize("word", ["VcIDxyDs", "4nfpHFtr", "BInxzrc4", "'Zq8vT1mK',"])
def test_random_pieces_read_as_key_fragments(word: str) -> None:
    assert key_fragment(word)


@pytest.mark.parametrize(
    "word",
    [
        "HTTPPasswordMgr()",  # a word inside
        "password",
        "utf-8",
        "x86_64-linux",
        "a3f9c2e1d4b5",  # hex in one case: an id
        "12345678",
        "getElementById",
        M,
    ],
)
def test_words_ids_and_numbers_are_not_key_fragments(word: str) -> None:
    assert not key_fragment(word)


def test_redacting_twice_finds_nothing_more() -> None:
    lines = [f"NPM_TOKEN={NPM}", "VcIDxyDs always-auth true"]
    once, _count = Redactor().redact_lines(lines)
    assert Redactor().redact_lines(once) == (once, 0)


# -- a span widened to the whole of the key's word -----------------------------------

# Real tesseract output (`redaction_suite --seed seed-15`), where 8 characters
# of the key were stored in clear before.


def test_the_letters_before_a_glyph_outside_ascii_go_with_the_key() -> None:
    line = (
        "dev@workstation: ~/projects/shop$ claude config set apiKey "
        "4nfpHFtrénA1UBKeG5J6L84L7ZWFGciTcbMW82W646nGWJ9XKVBM7Y goNMUCMOGXKkIxJBEKm"
    )
    out, _count = Redactor().redact_lines([line, "Saved."])
    assert out[0] == f"dev@workstation: ~/projects/shop$ claude config set apiKey {M}"


def test_a_keys_first_pieces_split_off_by_a_space_and_a_stroke_go() -> None:
    line = (
        'src="https://maps.googleapis.com/maps/api/js? key =AlzaB '
        'FesVWmP]wPVB1t2EkYV DruC5hA9KQhhgFV&callback=initMap">'
    )
    out, _count = Redactor().redact_lines(["<script async", line, "</script>"])
    assert out[1] == f'src="https://maps.googleapis.com/maps/api/js? key ={M}&callback=initMap">'


# -- a row that is a key broken into short pieces --------------------------------------


def test_a_row_of_a_keys_short_pieces_goes() -> None:
    # A fine-grained GitHub token as OCR read it (seed-15, dark, mono 14): no
    # prefix, no piece long enough to be judged alone.
    lines = [
        "Make sure to copy your personal access token now. You won't be able to see it again!",
        "ry 4eL YBInxzrc415J [FMRA4L VF OERGL6",
    ]
    out, _count = Redactor().redact_lines(lines)
    assert out == [lines[0], M]


@pytest.mark.parametrize(
    "row",
    [
        "nvme0n1p2 468G 211G 234G 48% /",
        "tcp 0 0 127.0.0.1:5432 0.0.0.0:* LISTEN",
        "a3f9c2e 1d4b5e7 9f8e7d6 HEAD",
        "Ubuntu 22.04 LTS x86 64 GNU Linux",
    ],
)
def test_table_rows_and_versions_stay(row: str) -> None:
    assert Redactor().redact_lines([row]) == ([row], 0)
