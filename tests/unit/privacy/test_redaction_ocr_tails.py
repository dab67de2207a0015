"""Redaction of the last pieces OCR leaves of a key: a tail set apart, a prefix alone.

Each screen is real tesseract output (lines and boxes, as the pipeline gives
them to the redactor) of a `tests/helpers/secret_screens.py` case drawn with a
seed the rules were not tuned on before (`redaction_suite --seed seed-11`,
`seed-12`), where a piece of 8 characters of the secret was stored in clear.
"""

from __future__ import annotations

import pytest

from mirix_desktop.privacy.redaction import REDACTION_MARKER, Box, Redactor
from mirix_desktop.privacy.secret_patterns import word_inside
from tests.helpers.secret_screens import leaks

M = REDACTION_MARKER


def clean(lines: list[str], secret: str) -> bool:
    """No run of 8 characters of `secret` in `lines`, exact or through OCR's confusions."""
    return not leaks(secret, [("line", line) for line in lines])


def redacted(screen: list[tuple[str, Box]]) -> list[str]:
    lines = [line for line, _box in screen]
    return Redactor().redact_lines(lines, [box for _line, box in screen])[0]


# -- a random run of small letters inside a key's piece alone on its row ----------

ANTHROPIC_12 = (
    "sk-ant-api03-CID_LWObw7f1HBmVPd_eEcALVEh0-LZuu5L59E6Rs1g1aW1W_OW-bEfiTtO-8azVfu1ZO8A5PF-"
    "us3SYu16kljnjFBQDxAA"
)


def test_a_keys_tail_with_five_random_small_letters_alone_on_its_row_goes() -> None:
    # OCR lost the row with "ANTHROPIC_API_KEY=sk-ant-…" and kept the wrapped tail.
    screen: list[tuple[str, Box]] = [
        ("ANTHROPIC_BASE_URL=https://api.anthropic.com", (24, 27, 448, 18)),
        ("16kljnjFBQDxAA", (26, 81, 144, 18)),
        ("MAX_TOKENS=4096", (26, 109, 180, 17)),
    ]
    out = redacted(screen)
    assert clean(out, ANTHROPIC_12), out
    assert out[0] == screen[0][0] and out[2] == screen[2][0]


@pytest.mark.parametrize(
    ("core", "word"),
    [
        ("16kljnjFBQDxAA", False),  # kl lj jn nj: no pair a word has
        ("Ab3xQz9Kp2Lm", False),  # no run of five small letters at all
        ("getElementsByTag2", True),  # "lements"
        ("x86scrollbar2X", True),
        ("ChaCha20Poly1305", False),
    ],
)
def test_word_inside_tells_a_word_from_random_small_letters(core: str, word: bool) -> None:
    assert word_inside(core) is word


@pytest.mark.parametrize(
    "line",
    ["Utf8Decoder2Stream", "test_Version2Parser", "HTTPServer8Handler", "libXrandr2Screens"],
)
def test_identifiers_with_words_alone_on_a_row_stay(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)


# -- a known prefix with fewer body characters than its pattern needs ----------------


def test_a_prefix_and_two_characters_of_the_body_alone_on_a_row_go() -> None:
    # The fine-grained token wrapped; OCR read none of its body but "11".
    secret = (
        "github_pat_11ADFQPQZ8AYSL9QSREI1D_4IBgIenLE1hXm7PYXziOGxGWCIuBPYjUSuVAJ0eI2D3FZpFu1L"
        "Ih5jhTmPm"
    )
    screen: list[tuple[str, Box]] = [
        ("New fine-grained personal access token", (25, 26, 278, 14)),
        (
            "Make sure to copy your personal access token now. You won't be able to see it again!",
            (25, 47, 596, 14),
        ),
        ("github_pat_11", (25, 68, 98, 14)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert out[2] == M


@pytest.mark.parametrize(
    "line",
    ["from huggingface_hub import hf_hub", "pip install hf_xet", "call npm_run"],
)
def test_a_prefix_before_small_letters_or_words_stays(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)


# -- groups of one length whose digits OCR read as letters ------------------------------


def test_groups_of_one_length_with_one_group_still_mixed_go() -> None:
    # "U0F16-XLIT8-0Q5TN-IM8BZ-UAESE": the first groups lost, "8" read as "B".
    screen: list[tuple[str, Box]] = [
        ("Your recovery key", (24, 26, 143, 14)),
        ("Store it somewhere safe:", (25, 47, 198, 11)),
        ("-OQ5TN- IMBBZ-UAESE", (119, 59, 149, 31)),
    ]
    out = redacted(screen)
    assert clean(out, "U0F16-XLIT8-0Q5TN-IM8BZ-UAESE"), out


@pytest.mark.parametrize(
    "line",
    [
        "Content-Type: X509-CERT-DATA",
        "HTTP-POST-TES1 failed",
        "cipher AES-256-GCM-SHA384",
        "encodings ISO-8859-1, UTF-8 and KOI8-R",
        "branch FEAT-LOGIN-PAGE2 merged",
    ],
)
def test_groups_that_read_as_words_or_differ_in_length_stay(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)


# -- a key's last piece set apart at the row's end --------------------------------------


def test_a_keys_last_piece_set_apart_at_the_rows_end_goes() -> None:
    # One row read as three pieces; the last, "NWJKZTAA", all capitals.
    secret = (
        "sk-ant-api03-NqrVsEyjob21DpVYiaXIu64olve_GZYMIZGxm3xgi9kWytJ7Si1lnFfIG3E6vZbyiodqdFKr-"
        "Fxt2nAJ_kLf_--NWJKZTAA"
    )
    screen: list[tuple[str, Box]] = [
        ("ANTHROPIC_BASE_URL=ht tps: //apianthropic.com", (24, 26, 370, 14)),
        (
            "- api3 -NqrVsEyjob21DpVYiaXIu640l ve_GZYMIZGxm3xgi9kWytJ7Si1 LnF f1G3E6vZby i",
            (227, 39, 670, 29),
        ),
        ("odqdFKr-Fxt2nAJ_KLf.", (901, 47, 90, 14)),
        ("NWIKZTAA", (1019, 48, 66, 10)),
        ("MAX_TOKENS=4096", (24, 69, 126, 13)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert out[4] == "MAX_TOKENS=4096"


@pytest.mark.parametrize(
    "line",
    [
        "curl -H sk-proj-Zq8vXa9bQ2zzQ  README",
        "x AKIAIOSFODNN7EXAMPLE  RUNNING",
        "x AKIAIOSFODNN7EXAMPLE  UNKNOWN",
        "x AKIAIOSFODNN7EXAMPLE  Saved",
    ],
)
def test_a_word_after_a_secret_at_the_rows_end_stays(line: str) -> None:
    out, _ = Redactor().redact_lines([line])
    assert out[0].endswith(line.rsplit(" ", 1)[1]), out


# -- the rest of a wrapped row that OCR read only in part --------------------------------

JWT_11 = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSBMb3ZlbGFj"
    "ZSIsImlhdCI6MTcxNjIzOTAyMn0.rkbRaIZ4erQyIHhtdY9_jTeqMCCG0hlXN51tR_ly9oc"
)


def curl_screen(fragment: str, x: int) -> list[tuple[str, Box]]:
    return [
        (
            "dev@vorkstation:~/projects/shop$ curl https://api.shop.example/v1/orders \\",
            (25, 27, 800, 18),
        ),
        ('-H "Authorization: Bearer eyJhbGci0iJIUZI1NiIsInR5cCI6IkpXVCIJ9.', (70, 50, 677, 26)),
        (fragment, (x, 82, 103, 17)),
        ('{"orders": [], "next": null}', (26, 108, 300, 17)),
    ]


def test_a_piece_of_a_wrapped_row_below_a_secret_that_ran_off_goes() -> None:
    # The header's row does not reach the edge (OCR lost its end), and the
    # piece below starts mid-row (OCR lost its start): still the JWT's rest.
    out = redacted(curl_screen("IZOTAyMno.", 286))
    assert clean(out, JWT_11), out
    assert out[3] == '{"orders": [], "next": null}'


def test_a_word_mid_row_below_a_secret_stays() -> None:
    out = redacted(curl_screen("Saved.", 286))
    assert out[2] == "Saved."


def test_a_new_line_at_the_margin_below_a_secret_that_ran_off_stays() -> None:
    # At the margin and below a row that did not reach the edge: the next line.
    out = redacted(curl_screen("v2.4.1-rc3", 30))
    assert out[2] == "v2.4.1-rc3"


# -- found on seed-13, measured once as a fresh seed, then fixed ----------------------


def test_a_letter_cut_off_before_a_keys_last_piece_at_the_rows_end_goes() -> None:
    # "…/Ye9hXSPHcmXkkff7jROkE0j1" read as "…Xkkf f7 j ROKEO", then "jl" below.
    screen: list[tuple[str, Box]] = [
        (
            "dev@workstation:~/projects/shop$ curl -X POST -H 'Content-type: application/json' \\",
            (25, 27, 897, 18),
        ),
        (
            "--data done\"}' https://hooks.slack.com/services/TMXX71B2L/BNISW5PMV9Z/Ye9hXSPHcmXkkf"
            " f7 j ROKEO",
            (70, 50, 1184, 26),
        ),
        ("jl", (26, 81, 19, 18)),
        ("ok", (25, 108, 20, 14)),
    ]
    out = redacted(screen)
    # Stored lines are joined into a memory's text: judged together.
    assert clean([" ".join(out)], "Ye9hXSPHcmXkkff7jROkE0j1"), out


@pytest.mark.parametrize(
    "line",
    [
        "x AKIAIOSFODNN7EXAMPLE  is OK",
        "x AKIAIOSFODNN7EXAMPLE at NOON",
        "x AKIAIOSFODNN7EXAMPLE  v2 RUNNING",
    ],
)
def test_short_words_after_a_secret_at_the_rows_end_stay(line: str) -> None:
    out, _ = Redactor().redact_lines([line])
    assert out[0].endswith(line.split("EXAMPLE")[1]), out


def test_a_tokens_user_part_in_three_pieces_goes() -> None:
    # "https://ghp_R3M4qqmdMOUOajl67ACs9f6mTT71KeVBP9Nx@github.com/…" with
    # "//ghp_…aj" lost and the rest cut in three.
    line = "origin https: L67ACs9f 6mTT7 1KeVBPINx@gi thub.com/acme/shop.git (push)"
    out, _ = Redactor().redact_lines([line])
    assert clean(out, "ghp_R3M4qqmdMOUOajl67ACs9f6mTT71KeVBP9Nx"), out
    assert out[0].endswith("@gi thub.com/acme/shop.git (push)")


@pytest.mark.parametrize(
    "line",
    [
        "git clone https: octo dev@github.com/acme/shop.git",
        "see https: the docs or ask admin@example.com",
    ],
)
def test_a_url_user_made_of_words_stays(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)


def test_debris_between_two_parts_of_a_token_does_not_end_it() -> None:
    line = '"xoxp-59620096721-090383944465 -4959113219638 - bf f2d35217c696ccde3596ac8bc562b8",'
    out, _ = Redactor().redact_lines([line])
    secret = "xoxp-59620096721-090383944465-4959113219638-bff2d35217c696ccde3596ac8bc562b8"
    assert clean(out, secret), out
    assert out == [f'"{M}",']


def test_words_after_a_token_stay() -> None:
    line = "export OPENAI_KEY=sk-proj-Zq8vXa9bQ2zzQ - see a b c docs"
    out, _ = Redactor().redact_lines([line])
    assert out[0].endswith(" - see a b c docs"), out


def test_a_wrapped_row_starting_with_a_piece_between_dashes_goes() -> None:
    # The JWT's signature wrapped; OCR read its first letters as "-Ze-".
    secret = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSBMb3Zl"
        "bGFjZSIsImlhdCI6MTcxNjIzOTAyMn0.Ze-c4qpHF7blUuYrGHivEe9OfphEvxGjN4XQ63n8_Z4"
    )
    screen: list[tuple[str, Box]] = [
        (
            "dev@workstation:~/projects/shop$ curl https: //api.shop.example/v1/orders \\",
            (25, 26, 621, 14),
        ),
        (
            "-H “Authorization: Bearer eyJhbGci0iJIUZTINiIsInR5cCI6LkpxVCJ9 . zdW1i0iT "
            "iwibmFtZS16IkFkYSBMb3ZLbGF",
            (60, 38, 1114, 30),
        ),
        ('-Ze- C4qpHF7 rGHivEe90 fphEvxG jN4XQ63n8_Z4"', (27, 68, 374, 14)),
        ('[1], "next": null}', (120, 89, 138, 13)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert out[3] == '[1], "next": null}'


# -- found on seed-14, measured once as a fresh seed, then fixed ----------------------


@pytest.mark.parametrize("line", ["XFHBL -ESSK8", "XFHBL - ESSK8"])
def test_a_recovery_keys_last_groups_alone_with_a_space_at_the_dash_go(line: str) -> None:
    # "OAE8Q-UI8RV-43XT7-XFHBL-ESSK8", its first groups lost.
    out, _ = Redactor().redact_lines([line])
    assert clean(out, "OAE8Q-UI8RV-43XT7-XFHBL-ESSK8"), out


@pytest.mark.parametrize("line", ["HELLO -WORLD", "COVID -19", "see XFHBL -ESSK8", "ABCDE FGHIJ"])
def test_words_with_a_dash_alone_on_a_row_stay(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)
