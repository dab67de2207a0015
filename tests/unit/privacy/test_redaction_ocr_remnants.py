"""Redaction of what OCR leaves of a key once it lost its label, its prefix or most of it.

Each screen is real tesseract output (lines and boxes, as the pipeline gives
them to the redactor) of a `tests/helpers/secret_screens.py` case drawn with a
seed the rules were not tuned on before (`redaction_replay capture --seed
seed-16` … `seed-21`, `seed-30` … `seed-56`), where a piece of 8 characters
of the secret was stored in clear. Each class of loss has a rule; the rows
around it, and look-alikes from code and terminals, stay.
"""

from __future__ import annotations

import pytest

from mirix_desktop.privacy.redaction import REDACTION_MARKER, Box, Redactor
from tests.helpers.secret_screens import leaks

M = REDACTION_MARKER
PROMPT = "dev@workstation:~/projects/shop$"


def clean(lines: list[str], secret: str) -> bool:
    """No run of 8 characters of `secret` in `lines`, exact or through OCR's confusions."""
    return not leaks(secret, [("line", line) for line in lines])


def redacted(screen: list[tuple[str, Box]]) -> list[str]:
    lines = [line for line, _box in screen]
    return Redactor().redact_lines(lines, [box for _line, box in screen])[0]


def kept(out: list[str], screen: list[tuple[str, Box]], *rows: int) -> bool:
    return all(out[r] == screen[r][0] for r in rows)


# -- what a secret-printing command printed, in many pieces -----------------------


def test_command_output_in_many_pieces_goes() -> None:
    # `openssl rand` printed one key; OCR cut it into eight pieces and lost its
    # start, so the row starts right of the margin.
    secret = "VOe87AZ0yp0KW3zVtfpMTKMDhN+0KvkYzoRHT9Zww8c="
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} openssl rand -base64 32", (25, 26, 469, 14)),
        ("pOKW3 ZV t f pMTKMDhN+OKVkY ZORHT 9Zww8 c=", (102, 43, 296, 23)),
        (PROMPT, (25, 68, 268, 14)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert kept(out, screen, 0, 2)


def test_command_output_of_four_pieces_with_a_mixed_case_one_goes() -> None:
    secret = "1tVK0d/rLXE1MsrNjwzNOnxNlWX0+4ewjP65weSB+JY="
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} openssl rand -base64 32", (25, 26, 469, 14)),
        ("AtVKOd /rLXE1Ms rN Y=", (26, 38, 371, 30)),
        ("dev@works tation: ~/projects/shop$", (25, 60, 268, 30)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out


def test_command_output_that_reads_as_words_stays() -> None:
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} openssl rand -base64 32", (25, 26, 469, 14)),
        ("Error: could not open the random device now", (25, 47, 400, 14)),
        (PROMPT, (25, 68, 268, 14)),
    ]
    assert redacted(screen) == [line for line, _ in screen]


# -- `export` with the key's name lost --------------------------------------------

OPENAI_17 = (
    "sk-proj-xh317ldzX0NkiQoI7GewTNQZ08pJFa2sMaphJi8ohdAg5rVynrBfiUFRSdO5dxfDB3AKjEmzU8T3Blbk"
    "FJS1l5F5DVfJOUWYbcs2XkzwKsTb1rrpIjk5xDIcTS9rmTgD6kqwYXmm0LU21YH_-g9jCGvZQ4ty"
)


@pytest.mark.parametrize(
    "row",
    [
        f"{PROMPT} export rVynrBf iUFRSd05 dx fDB3AKj",
        f"{PROMPT} export 10hNj Eow7 00f",
        f"{PROMPT} export 1 OhNjEOw 9yS.",
    ],
)
def test_export_of_a_keys_pieces_goes(row: str) -> None:
    out, _ = Redactor().redact_lines([row])
    assert out[0].startswith(f"{PROMPT} export {M}"), out
    assert clean(out, OPENAI_17), out


@pytest.mark.parametrize(
    "row",
    [
        f"{PROMPT} export PATH JAVA_HOME",
        f"{PROMPT} export NODE_ENV2 PY311_HOME",
        "export default function App() {",
        "export { parse, stringify } from './json';",
        f"{PROMPT} export -f my_function",
    ],
)
def test_export_of_names_and_code_stays(row: str) -> None:
    assert Redactor().redact_lines([row])[0] == [row]


# -- a query value whose name OCR lost ------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "row", "box"),
    [
        (
            "AIzabWUFmNwUVA8RMMkMfoUoDAycYqdODPnCUIr",
            "https: //maps.googleapis .com/maps/api/js? key=AIzabWUFmNwU VASRMMKMfOUoDAy "
            "cY qd ODPNCUI r&cal",
            (84, 37, 730, 31),
        ),
        (
            "AIza4kM-MMWH6F7KYkauIGzsAuifNNDNbgVf0yo",
            'src="https://maps .googleapis . fNNDNbgV fOyo&callback=initMap">',
            (48, 50, 1157, 27),
        ),
        (
            "AIzaS0PC8bXeKe_CjxumuW57PfqQV-zHWYOJVWP",
            'src="https://maps .googleapis . -ZHWYOJVWP&callback=initMap">',
            (48, 50, 1157, 27),
        ),
    ],
)
def test_a_query_value_before_the_next_parameter_goes(secret: str, row: str, box: Box) -> None:
    screen: list[tuple[str, Box]] = [
        ("<script async", (24, 27, 108, 13)),
        (row, box),
        ("</script>", (24, 89, 75, 13)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert "&cal" in out[1] and "maps" in out[1], out


@pytest.mark.parametrize(
    "row",
    [
        "https://example.com/search?q=hello world&lang=en",
        "https://shop.example/list?page=2&sort=price&order=desc",
        "https://example.com/?utm_source=newsletter&utm_medium=email",
        "https://shop.example/cart?product=SKU12345AB&qty=2",
        "if (ready && visible) { show(); }",
        "Tom&Jerry, AT&T and Procter&Gamble",
    ],
)
def test_ordinary_query_strings_stay(row: str) -> None:
    assert Redactor().redact_lines([row])[0] == [row]


# -- a value below its secret's name --------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "value_row"),
    [
        ("whsec_2afyuuZJCJp0GtlPocqx1NSslS2UAAIt", "value: INSsLS2UAATt"),
        ("whsec_LBrpAZGAzvkFJlIUcmt6ELfjFomqt5zB", "value: j Fomqt5zB"),
    ],
)
def test_an_environment_value_below_a_secrets_name_goes(secret: str, value_row: str) -> None:
    screen: list[tuple[str, Box]] = [
        ("env:", (25, 29, 29, 8)),
        ("- name: STRIPE_WEBHOOK_SECRET", (43, 48, 242, 13)),
        (value_row, (59, 60, 376, 29)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert out[2] == f"value: {M}", out


def test_an_environment_value_below_another_name_or_from_a_secret_ref_stays() -> None:
    lines = [
        "env:",
        "  - name: LOG_LEVEL",
        "    value: debug",
        "  - name: API_TOKEN",
        "    valueFrom:",
        "      secretKeyRef: {name: api, key: token}",
    ]
    assert Redactor().redact_lines(lines)[0] == lines


def test_a_label_cut_by_ocr_takes_its_value_in_pieces() -> None:
    # '"access_token": "xoxp-…"' read as '"access_toke' and, far right on the
    # same row, the token's last two parts.
    secret = "xoxp-27158080857-232692515866-4397007009081-0376f90164aee9bce14fa88a4b7d2c9c"
    screen: list[tuple[str, Box]] = [
        ('"ok": true,', (49, 54, 112, 16)),
        ('"access_toke', (49, 81, 126, 18)),
        ('-4397007009081 -0376f90164aee9bcel4fa88a4b7d2c9c",', (548, 82, 524, 15)),
        ('"scope": "chat:write,channels: read"', (49, 104, 377, 27)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert kept(out, screen, 0, 1, 3)


def test_a_value_cut_at_its_rows_end_takes_its_rest_from_the_row_below() -> None:
    # "ANTHROPIC_API_KEY=sk-ant-api03-…" with all but "sk- ant" lost on its
    # row, and the key's last characters on the next.
    secret = (
        "sk-ant-api03-GevO4wPFEhosR1YxAKOM3plSyiJxAMef63M8fU-Rofb_ulUd8lzqHLek-2tUDZDjQ1dTVIelXD"
        "QOSuaY6q8001mNOFGSCAA"
    )
    screen: list[tuple[str, Box]] = [
        ("ANTHROPIC_BASE_URL=https: //api.anthropic.com", (24, 27, 476, 18)),
        ("ANTHROPIC_API_KEY=sk- ant", (24, 44, 258, 34)),
        ("8001mNOFGSCAA", (25, 82, 139, 13)),
        ("MAX_TOKENS=4096", (25, 109, 161, 17)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert kept(out, screen, 0, 3)


def test_a_short_value_does_not_take_the_next_setting() -> None:
    lines = ["DB_PASSWORD=abc", "DEBUG=true", "DB_TOKEN=xyz", "LOG_FILE_PATH"]
    out, _ = Redactor().redact_lines(lines)
    assert out[1:] == ["DEBUG=true", f"DB_TOKEN={M}", "LOG_FILE_PATH"], out


# -- headers, DSNs and strings in pieces ---------------------------------------------


def test_a_bearer_token_in_short_pieces_goes() -> None:
    secret = "rxtu9guzyGG4WqdlFBYy4lSFjyK5BHi7svuUuSbF"
    out, _ = Redactor().redact_lines(["Authorization: Bearer ykSBHi7 svuUUSbF"])
    assert clean(out, secret) and out == [f"Authorization: Bearer {M}"], out


@pytest.mark.parametrize(
    "row",
    ["Authorization: Bearer $TOKEN", "authorization: Basic realm and more words"],
)
def test_a_header_with_a_placeholder_or_words_stays(row: str) -> None:
    assert Redactor().redact_lines([row])[0] == [row]


def test_a_dsn_password_whose_host_ocr_spaced_goes() -> None:
    row = f"{PROMPT} mysqlsh -Breeze-3788@127 .0.0.1:3306/orders"
    out, _ = Redactor().redact_lines([row])
    assert clean(out, "Summer-Breeze-3788"), out
    assert out[0].endswith("@127 .0.0.1:3306/orders"), out


def test_a_keys_end_closing_a_string_that_no_quote_on_the_row_opened_goes() -> None:
    row = f"{PROMPT} http GET :8000/admin/users 30eWjeul4-Nk_'"
    out, _ = Redactor().redact_lines([row])
    assert clean(out, "NrukzjXFoRPQLqOpLf72qF_2MLWszL3oeWjeul4-Nk_"), out
    assert out[0].startswith(f"{PROMPT} http GET :8000/admin/users "), out


@pytest.mark.parametrize(
    "row",
    [
        "print('It is done, said getElementById')",
        "msg = 'see the docs' + handler2Name'",  # opened on the row
        "echo done; echo ResultCode'",  # a word
    ],
)
def test_a_closing_quote_after_words_or_an_opened_string_stays(row: str) -> None:
    assert Redactor().redact_lines([row])[0] == [row]


# -- pieces left between and beside secrets found ------------------------------------


def test_pieces_between_two_parts_of_one_key_go() -> None:
    secret = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1Xzg4MTIiLCJyb2xlIjoiYWRtaW4iLCJleHAiOjE4"
        "OTM0NTYwMDB9.wgvthu-rijQYSpQ4VaKJ5fT9YzhoPuIiUpb0eu_zBKc"
    )
    screen: list[tuple[str, Box]] = [
        ("Key", (25, 55, 31, 17)),
        ("access_token", (25, 81, 127, 18)),
        ("eyJhbGci0iJIUZI1NiIsInR5cCI6IkpXVCI9. E4OTMONTY", (209, 81, 1040, 18)),
        ("wMDB9 . wgvthu- rij QYSpQ4VaKI5fT9YzhoPuliUpbOeu_zBKc", (24, 104, 530, 27)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out


def test_words_between_two_secrets_stay() -> None:
    row = (
        "primary ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8 or the backup "
        "ghp_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
    )
    out, _ = Redactor().redact_lines([row])
    assert out == [f"primary {M} or the backup {M}"], out


def test_a_bracket_ocr_read_inside_a_key_does_not_end_it() -> None:
    secret = "Tyogb34Ld4OQJkd9cHYvDp6J"
    row = (
        '~-data \'{"text":"deploy done"}\' https://hooks.slack.com/services/T50AICRDY/'
        "BVTWOUD2RTC/Tyogb34Ld40Q)kd9cH YvDp6}"
    )
    out, _ = Redactor().redact_lines([row])
    assert clean(out, secret), out


def test_a_recovery_key_of_capitals_alone_goes() -> None:
    screen: list[tuple[str, Box]] = [
        ("Your recovery key", (24, 26, 143, 14)),
        ("Store it somewhere safe:", (25, 47, 198, 11)),
        ("IGMKC- OOPKT-LRPDO", (26, 60, 242, 31)),
    ]
    out = redacted(screen)
    assert clean(out, "1GMKC-06IXW-JSQY4-0OPKT-LRPD0"), out
    assert kept(out, screen, 0, 1)


@pytest.mark.parametrize("row", ["HTTP-POST-TEST", "READ- WRITE-ADMIN", "NORTH-SOUTH-EAST"])
def test_capitals_in_groups_that_read_as_words_stay(row: str) -> None:
    assert Redactor().redact_lines([row])[0] == [row]


def test_a_token_shown_below_the_words_that_name_it_goes() -> None:
    secret = (
        "github_pat_11NECRPECMTBYF00Z2V204_0wxWGJcQz5IfLHaqS0LguHVH2pzJARuTchJa9YhxJIyOAb9EvNOFm2"
        "ROwm6"
    )
    screen: list[tuple[str, Box]] = [
        ("New fine-grained personal access token", (25, 26, 278, 14)),
        (
            "Make sure to copy your personal access token now. You won't be able to see it again!",
            (25, 47, 595, 14),
        ),
        ("OAbSEVNOFM2ROWME", (678, 60, 155, 29)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert kept(out, screen, 0, 1)


@pytest.mark.parametrize(
    "lines",
    [
        ["RegEnumKey = winreg.EnumKey", "RegEnumValue = winreg.EnumValue"],
        ["# the token", "def BlankLine():"],
        ["Set your API key in the settings", "ConfigureNow"],
        ["the key is a hash of", "sha256sum"],
        ["# the secret key", "QtCore.QSize2"],
    ],
)
def test_code_and_words_below_a_secrets_name_stay(lines: list[str]) -> None:
    assert Redactor().redact_lines(lines)[0] == lines


def test_an_account_number_whose_country_ocr_lost_goes_beside_a_bank_word() -> None:
    row = "my bank details are NVXC 6443 4106 4503 89 (Lloyds)."
    out, _ = Redactor().redact_lines([row])
    assert clean(out, "GB60NVXC64434106450389"), out
    assert out == [f"my bank details are {M} (Lloyds)."], out


def test_groups_of_digits_without_a_bank_word_stay() -> None:
    row = "Tracking ABCD 1234 5678 9012 34 shipped"
    assert Redactor().redact_lines([row])[0] == [row]


# -- seed-32 to seed-35: a quote that ends a key, letters outside ASCII, paths ------

HTTPIE_32 = "-AI-VDqv-T6qmGp6GKueA7pRn27hP4m-74oEYTQgVvL"


@pytest.mark.parametrize("header", ["", "‘Authorization:Bearer "])
def test_a_key_ending_a_string_does_not_run_on_into_the_row_below(header: str) -> None:
    # "é" read for "6" inside the key; the closing quote ends it, so the
    # response below is not its wrapped rest; the URL's path is not part of it.
    screen: list[tuple[str, Box]] = [
        (
            f"{PROMPT} http GET :8000/admin/users {header}-AI-VDqv-TéqmGp6GKueA7 "
            "pRn27hP4m-740EYTQGVVL'",
            (25, 18, 1057, 29),
        ),
        ("HTTP/1.1 200 OK", (25, 48, 125, 12)),
    ]
    out = redacted(screen)
    assert clean(out, HTTPIE_32), out
    assert out[0] == f"{PROMPT} http GET :8000/admin/users {header}{M}'", out
    assert out[1] == "HTTP/1.1 200 OK", out


def test_a_card_whose_groups_ocr_ran_together_goes() -> None:
    screen: list[tuple[str, Box]] = [
        ("Payment details", (26, 27, 142, 18)),
        ("Name oncard", (26, 54, 123, 14)),
        ("Ada Lovelace", (179, 54, 119, 14)),
        ("4302 101454210710", (177, 82, 198, 13)),
        ("Expiry 08/29", (26, 109, 111, 17)),
    ]
    out = redacted(screen)
    assert out[3] == M, out


def test_an_iban_with_a_character_ocr_added_goes_beside_a_bank_word() -> None:
    screen: list[tuple[str, Box]] = [
        ("Beneficiary ACME B.V.", (25, 26, 156, 14)),
        ("Account", (24, 48, 56, 10)),
        ("—NLS57IURS3486863612", (108, 48, 156, 10)),
    ]
    out = redacted(screen)
    assert clean(out, "NL57IURS3486863612"), out
    assert kept(out, screen, 0, 1)


def test_a_recovery_keys_groups_that_read_as_words_go_below_its_name() -> None:
    screen: list[tuple[str, Box]] = [
        ("Your recovery key", (25, 27, 183, 18)),
        ("Store it somewhere safe:", (25, 54, 255, 14)),
        ("SUICG - QMRII", (25, 82, 116, 15)),
    ]
    out = redacted(screen)
    assert out == ["Your recovery key", "Store it somewhere safe:", M], out


def test_groups_of_words_below_a_key_stay() -> None:
    lines = ["Press the key", "READ - WRITE", "ALPHA-BRAVO-DELTA"]
    assert Redactor().redact_lines(lines)[0] == lines


def test_a_keys_end_before_a_closing_quote_and_bracket_goes() -> None:
    # client = OpenAI(api_key="sk-…ClVBwAZM6"), its start lost.
    secret = "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"
    out, _ = Redactor().redact_lines(["from openai import OpenAT", 'client = LVBWAZM6" )'])
    assert clean(out, secret), out
    assert out[1] == f'client = {M}" )', out


# -- seed-36 and seed-37: pieces beside a secret found, and more losses ---------------


def test_a_keys_pieces_on_the_row_below_it_go_when_they_are_not_words() -> None:
    # The signature of a JWT wrapped onto a row that starts right of the margin.
    secret = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSBMb3ZlbGFj"
        "ZSIsImlhdCI6MTcxNjIzOTAyMn0.HTUO3aME3ix4qxvotHA6swtJMfkEYx2CW5BbvQTmB-s"
    )
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} curl https: //api.shop.example/v1/orders \\", (25, 16, 621, 31)),
        (
            '-H "Authorization: Bearer eyJhbGci0iJIUZIINiIsInR5cCI61kpXVCI9.eyI iwibmFtZS16I '
            "kFkYSBMb3Z1 bGF jZSIs ImLhdC16MTcxNj",
            (60, 43, 1193, 23),
        ),
        ('HAG swt JMFKEY x2 -s"', (178, 64, 227, 23)),
        ('{"orders":', (25, 89, 70, 13)),
        ('[], "next": null}', (120, 89, 138, 13)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert kept(out, screen, 0, 3, 4)


def test_the_same_key_shown_again_in_pieces_goes() -> None:
    secret = "ghp_VTdPuHgHIU5P2Qu86J9cueWJPSCEEEYyFigB"
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} git remote -v", (25, 27, 437, 18)),
        (
            "origin https://ghp_VTdPUHgHIU5 P2 Qu86J9cueW) PSCEEEYyFigB@github.com/acme/shop.git "
            "(fetch)",
            (25, 50, 884, 27),
        ),
        ("origin P2 Qu86J 9cueW) PSCEEEYyFigB@github.com/acme/shop.git (push)", (25, 77, 881, 27)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert out[2].startswith("origin ") and out[2].endswith("@github.com/acme/shop.git (push)")


def test_a_private_keys_piece_between_its_rows_goes() -> None:
    # The BEGIN row was lost; the rows around the piece are redacted as random.
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} cat deploy/id_rsa", (25, 27, 539, 18)),
        ("yGgEOwN rwb9ZQXtVGsbrbmM2Ri88s4NoDHj", (25, 135, 375, 18)),
        ("28at5V3bj", (25, 162, 93, 18)),
        ("bglyClOJUWUQDD9MBzYXMzECYulcNskthwdE9j 1vFbBqdTmhEMEBVkR+4mfNLtpm", (26, 189, 691, 18)),
    ]
    out = redacted(screen)
    assert out[1:] == [M, M, M], out


def test_names_hosts_and_words_beside_a_secret_stay() -> None:
    lines = [
        "password_mgr.add_password(None, uri, user, 'Xk9p2LmQ7rT4vW8z')",
        "handler = HTTPPasswordMgr(single3prog)",
        "uri: mongodb+srv://shop-app:Xk9p2LmQ7rT4vW8z@cluster0.x7k2p.mongodb.net/shop",
        "works with https and ERROR handling",
    ]
    out, _ = Redactor().redact_lines(lines)
    assert out == [
        f"password_mgr.add_password(None, uri, user, '{M}')",
        "handler = HTTPPasswordMgr(single3prog)",
        f"uri: mongodb+srv://shop-app:{M}@cluster0.x7k2p.mongodb.net/shop",
        "works with https and ERROR handling",
    ], out


def test_digits_below_a_label_cut_by_ocr_go() -> None:
    screen: list[tuple[str, Box]] = [
        ('"ok": true,', (49, 54, 112, 16)),
        ('"access_toke', (49, 81, 126, 18)),
        ("-290387977375", (407, 82, 136, 13)),
        ('"scope": "chat:write,channels: read"', (49, 104, 377, 27)),
    ]
    out = redacted(screen)
    secret = "xoxp-67375146513-290387977375-0363367115074-b26ee997aeed2eb2301174501228108b"
    assert clean(out, secret), out
    assert kept(out, screen, 0, 1, 3)


def test_a_short_pin_below_its_label_stays_a_number_of_fewer_digits() -> None:
    lines = ["Order number", "4821", "Shipping PIN", "2024"]
    assert Redactor().redact_lines(lines)[0][:2] == ["Order number", "4821"]


def test_python_printing_a_secret_whose_row_ocr_cut_is_followed_by_the_secret() -> None:
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} python -c “import secrets;", (25, 26, 492, 14)),
        ("vki5_41HG", (25, 47, 71, 14)),
    ]
    out = redacted(screen)
    assert out[1] == M, out


def test_import_secrets_in_a_source_file_takes_no_row() -> None:
    lines = ["import secrets", "import types", "TOKEN_BYTES = 32"]
    assert Redactor().redact_lines(lines)[0] == lines


def test_a_dsn_password_in_pieces_whose_at_sign_ocr_lost_goes() -> None:
    row = "uri: mongodb+srv: //shop-app: xj 2HLqdNuJ x7k2p .mongodb. net /shop?ret rywrites=t rue"
    out, _ = Redactor().redact_lines(["database:", row, "pool_size: 10"])
    assert clean(out, "xjzHlqdNuJxuw3Bz"), out
    assert (
        out[1] == f"uri: mongodb+srv: //shop-app: {M} x7k2p .mongodb. net /shop?ret rywrites=t rue"
    )


def test_a_recovery_key_with_a_group_ocr_lengthened_goes_below_its_name() -> None:
    screen: list[tuple[str, Box]] = [
        ("Your recovery key", (24, 26, 124, 14)),
        ("Store it somewhere safe:", (25, 47, 169, 11)),
        ("QWIBI-LKSLP-WEG6XL-PHLLQ-NTWGL", (25, 69, 249, 12)),
    ]
    out = redacted(screen)
    assert out[2] == M, out


def test_digits_on_the_row_below_a_token_label_go_and_a_count_stays() -> None:
    lines = ["access_token", "290387977375", "expires_in", "3600"]
    out, _ = Redactor().redact_lines(lines)
    assert out == ["access_token", M, "expires_in", "3600"], out


# -- seed-40: a key's short end before its quote, a string's end alone, a bracket first --


@pytest.mark.parametrize(
    ("secret", "lines"),
    [
        (
            "sk-" + "x" * 20 + "T3BlbkFJ" + "Qw7eRt9yUi0pAsDlF6Hvs5m",
            ["from openai import OpenAL", 'client = OpenAI F6Hvs5m" )'],
        ),
        (
            "AIzaSyDjjo3kra-CnijJpzB2-nNUHa",
            ['"project_id": "shop-prod-41822",', 'jjo3kra-CnijJpzB2-nNUHa",', '“europe-west1"'],
        ),
    ],
)
def test_a_keys_end_before_a_quote_goes(secret: str, lines: list[str]) -> None:
    out, _ = Redactor().redact_lines(lines)
    assert clean(out, secret), out
    assert out[0] == lines[0] and out[-1] != M, out


def test_a_django_key_starting_with_a_bracket_goes() -> None:
    lines = ["SECRET_KEY = )g4@(y+cub“#o jasquq!", "DEBUG = False"]
    out, _ = Redactor().redact_lines(lines)
    assert out == [f"SECRET_KEY = {M}", "DEBUG = False"], out


@pytest.mark.parametrize(
    "line",
    ['passwd=", acct="', "token = ) if ready else None", '    world"', "    end='')"],
)
def test_code_after_an_empty_string_or_a_words_end_stays(line: str) -> None:
    assert Redactor().redact_lines([line])[0] == [line]


# -- seed-42 and seed-43 --------------------------------------------------------------


def test_a_dsn_password_in_pieces_before_the_at_sign_goes() -> None:
    row = "uri: Tyi7aEO 3PGjrLY @cluster0.x7k2p.mongodb.net/shop?retryWrites=true"
    out, _ = Redactor().redact_lines(["database:", row, "pool_size: 10"])
    assert out[1] == f"uri: {M} @cluster0.x7k2p.mongodb.net/shop?retryWrites=true", out


def test_an_email_address_in_prose_stays() -> None:
    row = "Write to Ada Lovelace ada @example.com/contact?ref=mail or call"
    assert Redactor().redact_lines([row])[0] == [row]


def test_the_output_of_openssl_rand_goes_when_ocr_lost_openssl() -> None:
    lines = [f"{PROMPT} rand -base64 32", "YMoKm0c=", PROMPT]
    out, _ = Redactor().redact_lines(lines)
    assert out == [lines[0], M, PROMPT], out


# -- seed-44 and seed-45 --------------------------------------------------------------


def test_a_keys_pieces_on_two_rows_whose_label_ocr_lost_go() -> None:
    # The end of a wrapped row far right, its rest at the margin below.
    screen: list[tuple[str, Box]] = [
        ("ANTHROPIC_BASE_URL=https: //api.anthropic.com", (24, 27, 476, 18)),
        ("-PurYPloL-", (1144, 54, 103, 14)),
        ("AT-2arcGMWIAA", (24, 82, 140, 13)),
        ("MAX_TOKENS=4096", (25, 109, 161, 17)),
    ]
    out = redacted(screen)
    assert out == [screen[0][0], M, M, screen[3][0]], out


@pytest.mark.parametrize(
    "lines",
    [
        ["Pictures", "README.md"],
        ["x86_64-linux", "libgtk3-dev"],
        ["--verbose", "--dry-run"],
        ["ChaCha20", "Poly1305x"],
    ],
)
def test_two_stacked_names_stay(lines: list[str]) -> None:
    assert Redactor().redact_lines(lines)[0] == lines


def test_a_keys_piece_among_a_broken_urls_parts_goes() -> None:
    row = 'https: //maps.googleapis 92u-ADBFrQ5j lback=initMap">'
    out, _ = Redactor().redact_lines(["<script async", row, "src=", "</script>"])
    assert out[1] == f'https: //maps.googleapis {M} lback=initMap">', out


def test_words_beside_a_url_stay() -> None:
    lines = [
        "git clone https://github.com/acme/shop.git MyRepo2 --depth 1",
        "See https://example.com/docs for Installation instructions",
    ]
    assert Redactor().redact_lines(lines)[0] == lines


# -- seed-46 ----------------------------------------------------------------------------


def test_a_private_key_whose_armour_ocr_read_as_private_alone_goes_whole() -> None:
    screen: list[tuple[str, Box]] = [
        ("dev@workstation: ~/projects/shop$ cat deploy/tls.key", (25, 26, 373, 14)),
        ("PRIVATE", (98, 48, 55, 10)),
        ("MIIEPAIBAAKCAQEAH} vSnyPBGCZcggSae-+ 9clJc-+ gnOOS6HsFakhgopkOPs", (21, 60, 568, 29)),
        ("1jID/CUjt2ixqGLeasdAm", (25, 81, 361, 29)),
        ("ND PRIVATE KEY-", (59, 174, 112, 10)),
        ("dev@workstation: ~/projects/shop$", (25, 194, 244, 14)),
    ]
    out = redacted(screen)
    assert out == [screen[0][0], M, M, M, M, screen[5][0]], out


def test_private_alone_above_ordinary_text_stays() -> None:
    lines = ["Visibility", "PRIVATE", "Only you can see this repository."]
    assert Redactor().redact_lines(lines)[0] == lines


def test_a_keys_piece_after_a_localhost_url_goes() -> None:
    # seed-51: httpie's 'Authorization:Bearer …' lost but for the token's end.
    row = f"{PROMPT} http GET :8000/admin/users QdpwQTyzL-cAej"
    out, _ = Redactor().redact_lines([row, "HTTP/1.1 200 OK"])
    assert out == [f"{PROMPT} http GET :8000/admin/users {M}", "HTTP/1.1 200 OK"], out


def test_a_pod_name_after_a_command_stays() -> None:
    row = f"{PROMPT} kubectl logs web-7d4b9c8f6-x2kqz --since 5m"
    assert Redactor().redact_lines([row])[0] == [row]


# -- seed-22 to seed-24, fixed after their one measurement -------------------------------


def test_export_ending_a_command_takes_the_key_on_the_row_below() -> None:
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} export", (25, 27, 379, 18)),
        ("BZKYigsexk", (1004, 50, 104, 27)),
        (f"{PROMPT} python chat.py --model gpt-40", (25, 81, 595, 18)),
    ]
    out = redacted(screen)
    assert out == [screen[0][0], M, screen[2][0]], out


def test_export_alone_above_a_command_keeps_it() -> None:
    lines = [f"{PROMPT} export", "declare -x HOME=/home/ada", "declare -x LANG=C.UTF-8"]
    assert Redactor().redact_lines(lines)[0] == lines


def test_a_value_after_a_cut_label_starting_with_a_dash_set_apart_goes() -> None:
    screen: list[tuple[str, Box]] = [
        ('"ok": true,', (49, 54, 112, 16)),
        ('"access_toke', (49, 81, 126, 18)),
        ('- 1le5c5d72ad03bc810324a451la80e5ead",', (699, 81, 373, 18)),
        ('"scope": "chat:write,channels: read"', (49, 104, 377, 27)),
    ]
    out = redacted(screen)
    secret = "xoxp-1-2-3-11e5c5d72ad03bc810324a4511a80e5ead"
    assert clean(out, secret), out
    assert kept(out, screen, 0, 1, 3)


def test_recovery_groups_with_a_dash_left_of_a_lost_group_go() -> None:
    screen: list[tuple[str, Box]] = [
        ("Your recovery key", (25, 27, 183, 18)),
        ("Store it somewhere safe:", (25, 54, 255, 14)),
        ("VFRRJ - 8DQ59 -", (25, 82, 116, 15)),
    ]
    assert redacted(screen)[2] == M


# -- pieces alone on a row, judged by the character model (seeds 52-55) ----------------


def test_a_keys_piece_of_letters_alone_below_its_command_goes() -> None:
    # `claude config set apiKey` printed the key; OCR kept 13 characters of its
    # end, no digit in them (1 and 0 read as I and O).
    secret = (
        "sk-ant-api03-yN01uOH9AKHkWkxnKqUrfBQHVCrthvwmNK6ODHuvSxAKuaAlpT4rIPbKiy8NFb5MfRJ"
        "xhssT2YirvesCRUN4dRwaElT0DAA"
    )
    screen: list[tuple[str, Box]] = [
        (f"{PROMPT} claude config set apikey", (25, 26, 420, 14)),
        ("NadRwaEITODAA", (25, 47, 117, 11)),
        ("Saved.", (25, 68, 45, 11)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert kept(out, screen, 0, 2)


def test_a_keys_pieces_with_a_colon_read_inside_one_go() -> None:
    # GitHub's "copy your token now" page; OCR read one character as ":".
    secret = (
        "github_pat_114XSPX9NMQ2E1X67HOS3Z_2okTsF7aQf5VZ1pIRTmpvFIk4"
        "L8kAvQ6zUVKiwzvbSWtTYxaqF9p6YDjZBC"
    )
    screen: list[tuple[str, Box]] = [
        ("New fine-grained personal access token", (25, 26, 318, 14)),
        (
            "Make sure to copy your personal access token now. You won't be able to see it again!",
            (24, 47, 704, 14),
        ),
        ("2UVK:iwz vbSWtTY xaqF9p6YD jZBC", (583, 59, 226, 30)),
    ]
    out = redacted(screen)
    assert clean(out, secret), out
    assert kept(out, screen, 0, 1)


@pytest.mark.parametrize("row", ["9p6YDjZBC", "key 9p6YDjZBC", "dQw4w9WgXcQ"])
def test_a_short_mixed_case_piece_alone_goes(row: str) -> None:
    out = Redactor().redact_lines([row])[0][0]
    assert "9p6YDjZBC" not in out and "dQw4w9WgXcQ" not in out, out
    assert out.startswith(row.split()[0]) or len(row.split()) == 1  # "key" stays


@pytest.mark.parametrize(
    "row",
    [
        "nvme0n1p2",  # device and interface names: small letters and digits
        "wlp2s0",
        "us1, us2, us3",  # short names side by side
        "light2_bg light2_fg",
        "getElementById",
        "DejaVuSansMono",
        "iPhone15Pro",
        "MyClass2",
        "localhost:8080",
        "PyObject_HEAD",
    ],
)
def test_names_alone_on_a_row_stay(row: str) -> None:
    assert Redactor().redact_lines([row])[0] == [row]


def test_a_query_value_ending_in_a_letter_read_with_an_accent_goes() -> None:
    # "?key=AIza…HLH1RaaW8&callback": "key=" and the key's start lost, its last
    # character read as "é".
    line = 'googleapis.com/maps/api/js? HLH1RaaWé&callback=initMap">'
    out = Redactor().redact_lines([line])[0][0]
    assert out == f'googleapis.com/maps/api/js? {M}&callback=initMap">', out


@pytest.mark.parametrize("line", ["search?q=crème brûlée&lang=fr", "/menu?plat=café&thé=oui"])
def test_accented_words_in_a_query_stay(line: str) -> None:
    assert Redactor().redact_lines([line])[0] == [line]


def test_a_password_before_at_and_a_host_with_no_port_goes() -> None:
    # "redis://default:sw38d74u5q8o@redis-12345.cloud…" with "redis://default:"
    # lost and the host cut before its port.
    line = f"{PROMPT} redis-cli -u sw38d74uSq80@redis-12345. cloud .example."
    out = Redactor().redact_lines([line])[0][0]
    assert out == f"{PROMPT} redis-cli -u {M}@redis-12345. cloud .example.", out


@pytest.mark.parametrize(
    "line",
    [
        "mail JohnSmith@example.com",
        "jsmith42@gmail.com",
        "ada.lovelace@example.org",
        "git@github.com:me/MyRepo2024.git",
        "    'be_by@latin':  'be_BY.UTF-8@latin',",
    ],
)
def test_user_names_and_locales_before_at_stay(line: str) -> None:
    assert Redactor().redact_lines([line])[0] == [line]


def test_a_cards_groups_short_of_a_card_below_its_label_go() -> None:
    # "4947 1256 9928 …" with its last group lost: no Luhn check to pass.
    lines = ["Card number", "4947 1256 9928", "Expiry 08/29", "cve 412"]
    assert Redactor().redact_lines(lines)[0] == ["Card number", M, "Expiry 08/29", "cve 412"]
    assert Redactor().redact_lines(["Card number 4947 1256 9928"])[0] == [f"Card number {M}"]


@pytest.mark.parametrize(
    "lines",
    [
        ["Your cards", "2023 2024 2025"],
        ["Gift card valid 2024 2025"],
        ["Visa ending in 4242"],
        ["Order number", "4947 1256 9928"],
    ],
)
def test_years_and_numbers_not_below_a_card_label_stay(lines: list[str]) -> None:
    assert Redactor().redact_lines(lines)[0] == lines


# -- the held-out contexts (`held_out_cases`), fixed after their one measurement -------


@pytest.mark.parametrize(
    ("line", "password"),
    [
        (f"{PROMPT} mysq] -u root -paqz2myh97xVB -h 127.0.0.1 orders", "aqz2myh97xVB"),
        ("mysqldump -uroot -pS3cret!x9 shop > dump.sql", "S3cret!x9"),
        ("sshpass -p hunter2xyz ssh ada@build-01", "hunter2xyz"),
        ("curl -u ada:pa55word9 https://api.example.com", "pa55word9"),
    ],
)
def test_a_password_on_a_commands_line_goes(line: str, password: str) -> None:
    out = Redactor().redact_lines([line])[0][0]
    assert password not in out and M in out, out


@pytest.mark.parametrize(
    "line",
    [
        "mysql -u root -p orders",  # asks for the password; "orders" is the database
        "docker run -u 1000:1000 shop",
        "mkdir -p /tmp/build",
        "python -m pip install -U pip",
        "passwords on a command's line (mysql -p, sshpass -p, curl -u)",  # prose naming them
    ],
)
def test_flags_that_are_not_a_password_stay(line: str) -> None:
    assert Redactor().redact_lines([line])[0] == [line]


def test_recovery_groups_with_an_i_read_as_a_bracket_go() -> None:
    # seed-64: "H]YQO" for "HIYQO" kept the row from reading as a key's groups.
    lines = ["Your recovery key", "Store it somewhere safe:", "EVIJE-GZJXM-KBMGV-UR7QQ-H]YQO"]
    assert Redactor().redact_lines(lines)[0] == [*lines[:2], M]
    assert Redactor().redact_lines(["EVIJE-GZJXM-KBMGV-UR7QQ-H]YQO"])[0] == [M]


def test_an_iban_below_its_label_with_a_group_misread_goes() -> None:
    # Held-out, seed-3: "FR19 4602 5357 58JF KIOK SOEJ S82" with a group lost
    # and "J" read as "]": no check to pass, the label on the row above.
    secret = "FR194602535758JFKIOKSOEJS82"
    lines = [
        "New transfer",
        "Recipient IBAN",
        "FR19 4602 5357 KIOK SOE] S82",
        "Amount 1,250.00 EUR",
    ]
    out = Redactor().redact_lines(lines)[0]
    assert clean(out, secret), out
    assert out[:2] == lines[:2] and out[3] == lines[3]


@pytest.mark.parametrize(
    "lines",
    [
        ["Bank transfer", "DE flights 2024 summary"],
        ["Account", "GB news today 12345678 readers"],
    ],
)
def test_rows_below_a_bank_label_that_are_no_iban_stay(lines: list[str]) -> None:
    assert Redactor().redact_lines(lines)[0] == lines


# -- seed-69, fixed after its one measurement (5 / 408) -------------------------------


def test_a_keys_rest_after_the_marker_past_a_misread_bracket_goes() -> None:
    # The key's start was redacted; OCR read "J" as ")" and "}" and kept the rest.
    line = f"{PROMPT} claude config set apiKey [REDACTED])-WFZFVeatknDujwhexmilt}}2"
    out = Redactor().redact_lines([line])[0][0]
    assert clean([out], "wFZFVeatknDuJwhexmjltJ2PJuovI9nlXbAA"), out
    assert out.startswith(f"{PROMPT} claude config set apiKey [REDACTED]")


def test_a_query_key_cut_at_a_space_goes() -> None:
    line = (
        '"https://maps.googleapis.com/maps/api/js?key=Alzak '
        'bGFtwiwCINIPAtc5BhOTIBLxucEnFmilwhécallback=initMap">'
    )
    out = Redactor().redact_lines([line])[0][0]
    assert clean([out], "AIzaKbGFtwiwCINIPAtc5Bh0TIBLxucEnFmIIwh"), out
    assert out.startswith('"https://maps.googleapis.com/maps/api/js?key=')


def test_a_dsn_password_with_a_letter_split_off_before_at_goes() -> None:
    line = "uri: 7jXPZ5U7 B@cluster0.x7k2p.mongodb.net/shop?retryWrites=true"
    out = Redactor().redact_lines([line])[0][0]
    assert clean([out], "hIjjsxZ7jXPZ5U7B"), out
    assert out.endswith("@cluster0.x7k2p.mongodb.net/shop?retryWrites=true")


@pytest.mark.parametrize(
    "line",
    [
        "see https://example.com/search?key=value and more",
        "[REDACTED] was rotated yesterday",
        "mail ada B@cluster0.example.net/shop?x=1",
    ],
)
def test_words_around_these_stay(line: str) -> None:
    assert Redactor().redact_lines([line])[0] == [line]


# -- seed-70 and seed-71, fixed after their one measurement (2 / 816) ------------------


def test_a_short_piece_after_a_camel_case_key_name_goes() -> None:
    line = f"{PROMPT} claude config set apiKey Wr2anRxk"
    assert Redactor().redact_lines([line])[0] == [f"{PROMPT} claude config set apiKey {M}"]


@pytest.mark.parametrize(
    "line", ["sortKey ascending", "primaryKey id", "accessToken undefined", "const apiKey process"]
)
def test_a_word_after_a_camel_case_key_name_stays(line: str) -> None:
    assert Redactor().redact_lines([line])[0] == [line]


# -- seed-73 (and seed-52's left-over), fixed after its one measurement ----------------


def test_a_strings_tail_in_pieces_with_no_opening_quote_goes() -> None:
    # 'client = OpenAI(api_key="sk-…fAHtMKyfgaCisrdM9")' with the call and the
    # key's start lost; the last piece is too short to judge alone.
    line = 'client = fAHtMKy fgaCis rdM9" )'
    out = Redactor().redact_lines([line])[0][0]
    assert clean([out], "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"), out
    assert out.startswith("client = ")


def test_a_bare_random_value_after_an_assignment_goes() -> None:
    assert Redactor().redact_lines(["client = pAMI2ZcbTXVATOON"])[0] == [f"client = {M}"]


@pytest.mark.parametrize(
    "line",
    [
        '    with the end of a long message")',
        'x = some words here")',
        "x = getElementById",
        "key = hashlib.sha256",
        "self.thing = SomeClassName",
        "TIMEOUT = 1000000000",
    ],
)
def test_string_ends_and_plain_assignments_stay(line: str) -> None:
    assert Redactor().redact_lines([line])[0] == [line]


def test_recovery_groups_with_a_euro_sign_and_a_brace_for_letters_go() -> None:
    # seed-76 (after its one measurement, 1 / 408): "3EQ4J" read as "3€Q4}".
    lines = ["Your recovery key", "Store it somewhere safe:", "3€Q4}-BULEA-UNUH4-UH6FH-ODEDA"]
    assert Redactor().redact_lines(lines)[0] == [*lines[:2], M]


def test_words_in_groups_below_a_key_noun_stay() -> None:
    lines = ["Your recovery key", "Store it somewhere safe:", "hello-world-again"]
    assert Redactor().redact_lines(lines)[0] == lines
