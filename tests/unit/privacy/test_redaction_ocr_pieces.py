"""Redaction of what OCR leaves of a key: a symbol inside it, its tail in pieces.

Each leaked line is real tesseract output of a `tests/helpers/secret_screens.py`
screen drawn with a seed the rules were not tuned on (`redaction_suite --seed`).
"""

from __future__ import annotations

import time

import pytest

from mirix_desktop.privacy.redaction import REDACTION_MARKER, Redactor
from tests.helpers.secret_screens import leaks

M = REDACTION_MARKER


def clean(lines: list[str], secret: str) -> bool:
    """No run of 8 characters of `secret` in `lines`, exact or through OCR's confusions."""
    return not leaks(secret, [("line", line) for line in lines])


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        # "¢" for "c": the token ended at the symbol and its tail stayed.
        (
            '"xoxp- 06066161213 -443707157308 -9229942964415 - fb8890ce2548331¢4a3d4677415a3f98",',
            "xoxp-06066161213-443707157308-9229942964415-fb8890ce2548331c4a3d4677415a3f98",
        ),
        # "¥" for "Y" before a group's dash: the groups after it stayed.
        ("QS398-BDPW2-NH7S¥-27772-45QT3", "QS398-BDPW2-NH7SY-Z7772-45QT3"),
    ],
    ids=["slack-cent", "recovery-yen"],
)
def test_a_symbol_ocr_put_inside_a_token_does_not_end_it(line: str, secret: str) -> None:
    out, _ = Redactor().redact_lines([line])
    assert clean(out, secret), out


@pytest.mark.parametrize(
    "line",
    [
        "It costs 5¢ each, or ¥100 for the lot.",
        "Room temperature is 20 °C, 68°F outside.",
        "© 2024 Example Corp. All rights reserved.",
        "Price: €12.50 — £9.99 in the UK store",
    ],
)
def test_symbols_in_prose_stay(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)


def test_the_pieces_of_a_key_after_its_redacted_start_go_too() -> None:
    # A Slack webhook whose URL was taken up to "N6h"; its tail in four pieces.
    line = (
        '--data \'{"text":"deploy done"}\' https: //hooks .slack. com/services '
        "/TOXXHB200/BX6XYS57 7XV/N6h Lg fHNSHuuz TMQt 6UZDpgc"
    )
    out, _ = Redactor().redact_lines([line])
    assert clean(out, "N6hlgfHNSHuuzTMQt6UzDpgc"), out
    assert out[0].startswith('--data \'{"text":"deploy done"}\' ')


@pytest.mark.parametrize(
    "line",
    [
        f"token {M} was rotated on 2024-01-02 by admin",
        f"{M} Save changes",
        f"{M} v2.4.1 (build 1187)",
    ],
)
def test_words_after_a_marker_stay(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("+UbYZK+HFwmA=", "gRdiveXdi6hFS5LjDPASePGBTqjfaNt+UbYZK+HFwmA="),
        ("+ qj2 +rGlsz5rArU=", "k9aanwopcfBSFxggaQKt2OLmGC08+qj2+rGlsz5rArU="),
    ],
)
def test_a_padded_base64_tail_alone_on_its_row_goes(line: str, secret: str) -> None:
    # `openssl rand -base64 32`: OCR lost the start of the output.
    lines = ["dev@workstation:~/projects/shop$ rand -base64 32", line]
    out, _ = Redactor().redact_lines(lines)
    assert clean(out, secret), out
    assert out[0] == lines[0]


@pytest.mark.parametrize(
    "line", ["total+=1", "PATH=/usr/local/bin:/usr/bin=", "a/b/Config/Main=", "x = a+b=="]
)
def test_code_ending_in_equals_stays(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)


def test_base64url_pieces_joined_by_an_underscore_are_judged_as_one() -> None:
    # `secrets.token_urlsafe(32)` in seven word boxes; no piece of 10+ without the "_".
    line = "Ny 1FHIbR_VGWwFnD fAT3t KLOHP2s SNCOTPT eeWX9wI Cc"
    out, _ = Redactor().redact_lines([line])
    assert clean(out, "Ny1FHJbR_VGWwFnDfAT3tkLOHP2ssNc0TPTeeWX9wJc"), out


@pytest.mark.parametrize(
    "line",
    [
        "class TestCase_MyHandler(BaseTestCase): pass",
        "    MAX_RETRY_COUNT = DEFAULT_MAX_RETRY_COUNT",
        "from mypackage.SubModule_Loader import HttpClient_Factory",
    ],
)
def test_identifiers_with_underscores_stay(line: str) -> None:
    assert Redactor().redact_lines([line]) == ([line], 0)


def test_a_wrapped_tail_of_ten_capitals_goes() -> None:
    lines = [
        "ANTHROPIC_API_KEY=sk-ant-api03-QvPiDOEHultsX7km8_quLOHq|UopYwhFzGjkbSwifbw7 "
        "Cr8yLfOrnq7 08TtIWsiiA2gQhcKtvBY6gKygPaDFT",
        "CRQUOWRWAA",
        "MAX_TOKENS=4096",
    ]
    secret = (
        "sk-ant-api03-QvPiD0EHultsX7km8_quL0HqlUopYwhFzGjkbSwifbw7Cr8yLf0rnq708TtIWsiiA2gQh"
        "cKtvBY6gKygPaDFTCRQu0WRwAA"
    )
    out, _ = Redactor().redact_lines(lines)
    assert clean(out, secret), out
    assert out[2] == "MAX_TOKENS=4096"


def test_a_row_of_capital_words_under_a_key_stays() -> None:
    lines = ["API_KEY=sk-proj-Zq8vT1kXw3mN9pR2sY6uB4cD7eF0gHaa", "CONFIGURATION"]
    out, _ = Redactor().redact_lines(lines)
    assert out[1] == "CONFIGURATION"


def test_many_markers_with_pieces_redact_quickly() -> None:
    line = f"{M} aB3 cD4 eF5 gH6 " * 500
    started = time.perf_counter()
    Redactor().redact(line)
    assert time.perf_counter() - started < 2.0


def test_a_lone_key_piece_with_a_symbol_and_a_brace_inside_goes() -> None:
    # A PEM body row between armour OCR mangled; "¥" read as "Y" makes 16 characters.
    lines = ["PRIVATE", "+", "StXArIk3}4e¥cKN8O", "ND PRIVATE KEY-"]
    out, _ = Redactor().redact_lines(lines)
    assert out[2] == M, out
