"""Redaction of secrets OCR mangled past their usual shape: a prefix lost, case lost, glyphs.

Each leaked screen is real tesseract output (lines and boxes as the pipeline
passes them) of a `tests/helpers/secret_screens.py` screen drawn with the
development seeds `seed-9` and `seed-10` of `redaction_suite --seed`; the
rules are written for the class of loss, and each has its ordinary look-alikes
that must stay.
"""

from __future__ import annotations

import pytest

from mirix_desktop.privacy.redaction import REDACTION_MARKER, Redactor
from tests.helpers.secret_screens import leaks

M = REDACTION_MARKER
Box = tuple[int, int, int, int]


def clean(lines: list[str], secret: str) -> bool:
    """No run of 8 characters of `secret` in `lines`, exact or through OCR's confusions."""
    return not leaks(secret, [("line", line) for line in lines])


def unchanged(lines: list[str], boxes: list[Box] | None = None) -> bool:
    return Redactor().redact_lines(lines, boxes) == (lines, 0)


# -- the mark inside every OpenAI key --------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        # `client = OpenAI(api_key="sk-…")`: all but the mark and a piece after it lost.
        "client = BIbkF] GHt45rs95",
        # The same with the mark read with a "1" and a "|".
        "client = B1bkF| GHt45rs95",
    ],
)
def test_an_openai_key_is_found_by_its_mark_when_its_prefix_is_lost(line: str) -> None:
    out, _ = Redactor().redact_lines([line])
    assert clean(out, "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"), out


def test_words_around_the_mark_stay() -> None:
    out, _ = Redactor().redact_lines(["client = BIbkF] GHt45rs95 # rotated"])
    assert out == [f"client = {M} # rotated"]


# -- grouped recovery keys ---------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "boxes"),
    [
        # A group's "J" read as ")".
        (["Your recovery key", "Store it somewhere safe:", "CU5)1-32BAI-6NCOM-OLO81-E3898"], None),
        # The first groups lost: the row starts with a dash.
        (
            ["Your recovery key", "Store it somewhere safe:", "-6NCOM-OLO81-E3898"],
            [(24, 26, 143, 14), (25, 47, 198, 11), (121, 69, 147, 10)],
        ),
    ],
    ids=["glyph-in-group", "leading-dash"],
)
def test_a_recovery_key_with_a_misread_glyph_or_lost_groups_goes(
    lines: list[str], boxes: list[Box] | None
) -> None:
    out, _ = Redactor().redact_lines(lines, boxes)
    assert clean(out, "CU5J1-32BAI-6NC0M-OLO81-E3898"), out
    assert out[:2] == lines[:2]


@pytest.mark.parametrize(
    "line",
    [
        "gcc -O2 -DNDEBUG -Wall -o build/app main.c",
        "-rw-r--r-- 1 root root 4096 Mar  2 10:11 notes.txt",
        "ISBN 978-3-16-148410-0 (paperback)",
        "- item (see RFC-7231)",
    ],
)
def test_flags_listings_and_numbers_with_dashes_stay(line: str) -> None:
    assert unchanged([line])


# -- a label whose capitals OCR lost --------------------------------------------------


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        # `"jwtSecret": "…"` read in small letters, the value split in two.
        ('“jwtsecret": “zfoyailwj g9y7xf9rjfsrizajylumyno" ,', "zfoyai1wjg9y7xf9rjfsrizajy1umyn0"),
        ("dbpassword=hunter2hunter", "hunter2hunter"),
        ("  authtoken: s3cr3t-value", "s3cr3t-value"),
    ],
)
def test_a_secret_behind_a_name_in_small_letters_goes(line: str, secret: str) -> None:
    out, _ = Redactor().redact_lines([line])
    assert clean(out, secret), out


@pytest.mark.parametrize(
    "line",
    [
        '  "dependencies": { "jsonwebtoken": "^9.0.2", "bcryptjs": "^2.4.3" },',
        "ERRORTOKEN = 58",
        "nexttoken = self._next()",
        "csrftoken: str",
        "newpassword = oldpassword",
    ],
)
def test_names_ending_in_a_label_word_with_ordinary_values_stay(line: str) -> None:
    assert unchanged([line])


# -- pieces alone on their row ---------------------------------------------------------


def test_a_long_piece_of_a_jwt_payload_alone_on_its_row_goes() -> None:
    # DevTools' Local Storage: the row with "access_token eyJ…" was not read at all.
    lines = [
        "Application > Local Storage > https://shop.example",
        "key",
        "value",
        "GleHAIOjE4OTMONTY",
        "Yoicjw",
    ]
    boxes = [(24, 26, 381, 14), (21, 39, 28, 29), (112, 47, 38, 11), (726, 60, 146, 29)]
    boxes.append((24, 89, 46, 14))
    out, _ = Redactor().redact_lines(lines, boxes)
    assert clean(out, "eyJzdWIiOiJ1Xzg4MTIiLCJyb2xlIjoiYWRtaW4iLCJleHAiOjE4OTM0NTYwMDB9"), out
    assert out[:3] == lines[:3]


@pytest.mark.parametrize(
    "line",
    ["ChaCha20Poly1305", "getUTF8Encoder", "SHA256WithRSA", "x86_64-linux-gnu", "CVE-2024-3094"],
)
def test_code_names_alone_on_a_row_stay(line: str) -> None:
    assert unchanged([line])


def test_the_tail_of_a_quoted_key_whose_start_was_lost_goes() -> None:
    # `"api_key": "AIza…LnuUUWVgC",`: only the end and its closing quote were read.
    lines = ['"project_id": "shop-prod-41822",', 'LnuUUWVgC",', "“europe-west1"]
    boxes = [(49, 54, 340, 18), (503, 82, 114, 17), (157, 109, 146, 17)]
    out, _ = Redactor().redact_lines(lines, boxes)
    assert clean(out, "AIza62WViyTKwO9lUlEJnG-b1oNekjLnuUUWVgC"), out
    # (The rows around it go too: the id above ends where a wrapped key's
    # start would, the region below starts where its end would.)


@pytest.mark.parametrize(
    "line", ['"items",', 'HelloWorld",', 'FooBarBaz",', 'getValue");', "README.md'", 'utf-8",']
)
def test_ordinary_string_ends_stay(line: str) -> None:
    assert unchanged([line])


# -- what a secret-printing command printed ------------------------------------------


def test_the_output_of_openssl_rand_goes_however_ocr_read_it() -> None:
    # The key read as two word-like pieces, nothing of it random-looking.
    lines = [
        "dev@workstation:~/projects/shop$ openssl rand -base64 32",
        "nhTS jogof",
        "dev@works tation: ~/projects/shop$",
    ]
    boxes = [(25, 26, 469, 14), (25, 47, 73, 14), (25, 60, 268, 30)]
    out, _ = Redactor().redact_lines(lines, boxes)
    assert clean(out, "nhT5jogofGAxPj9CNduhahoWZWbpb8QVIu2GeEesJec="), out
    assert out == [lines[0], M, lines[2]]


def test_a_long_printed_token_is_taken_over_the_rows_it_wraps_onto() -> None:
    first = "ya29a0AfB8xK2vQ7mT4nW9pR3sL6yZ1cD5eH8jQ2wE4rT6yU8iO0pA1sD3fG5hJ7kL9zX"
    lines = ["$ gcloud auth print-access-token", first, "Hk3 mN8q", "$ ls"]
    boxes = [(24, 26, 300, 14), (24, 47, 1230, 14), (24, 68, 80, 14), (24, 89, 40, 14)]
    out, _ = Redactor().redact_lines(lines, boxes)
    assert out == [lines[0], M, M, lines[3]]


def test_only_a_long_printed_value_takes_the_row_after_it() -> None:
    lines = ["$ openssl rand -base64 12", "q8Zk2Lm9Xw3P", "Backup done"]
    assert Redactor().redact_lines(lines)[0] == [lines[0], M, lines[2]]


@pytest.mark.parametrize(
    "lines",
    [
        # Named in prose, not typed at a prompt.
        ["Generate one with openssl rand -hex 32", "Then restart it."],
        # Redirected to a file: nothing printed.
        ["$ openssl rand -base64 32 > key.bin", "$ ls"],
        # Code after a doctest prompt, not its output.
        [">>> token_bytes(16)", "return base64.urlsafe_b64encode(tok).rstrip(b'=')"],
        # A table on the next rows, not one value.
        ["$ pass show", "Password Store", "├── email", "└── shop"],
    ],
)
def test_rows_after_a_command_that_prints_nothing_secret_stay(lines: list[str]) -> None:
    out, _ = Redactor().redact_lines(lines)
    assert out[1:] == lines[1:]


# -- found by simulating OCR's losses on many more seeds ---------------------------
# (Spaces put into a secret, its start cut off: `cases("synth-N")` mangled the
# way the real screens above were, then redacted as text.)


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        # A DSN's password in three and four pieces.
        (
            "$ mysqlsh mysql://root:Sum mer-Bre eze- 2676@127.0.0.1:3306/orders",
            "Summer-Breeze-2676",
        ),
        ("redis-cli -u redis://default:orh h  g13iar3p@redis-1.example.com:12345", "orhhg13iar3p"),
    ],
)
def test_a_url_password_in_several_pieces_goes(line: str, secret: str) -> None:
    out, _ = Redactor().redact_lines([line])
    assert clean(out, secret), out
    assert "@redis-1.example.com" in out[0] or "@127.0.0.1" in out[0]


def test_what_is_left_of_a_dsn_before_a_host_with_a_path_and_query_goes() -> None:
    line = "bzecloJ7xYnulr@cluster0.x7k2p.mongodb.net/shop?retryWrites=true"
    out, _ = Redactor().redact_lines([line])
    assert out == [f"{M}@cluster0.x7k2p.mongodb.net/shop?retryWrites=true"]


@pytest.mark.parametrize(
    "line",
    [
        "ssh ec2-user@10.0.0.5 -i ~/.ssh/deploy.pem",
        "Open https://docs.example.com/setup?lang=en or mail admin@example.com/",
        "git clone deploy-bot@git.example.com:infra/site.git",
    ],
)
def test_user_names_before_a_host_stay(line: str) -> None:
    assert unchanged([line])


@pytest.mark.parametrize(
    "line",
    [
        # The first numeric group cut short.
        '11402-181320934535-8965344749922-18af7504be7a4ec3fe5a720a37c01e1e",',
        # Only "xp-" kept of the prefix.
        '"xp-41063275646-532024026518-6701084380248-ab947b5b11ff70d1c092b79ba1c08b69",',
    ],
)
def test_a_slack_token_with_its_prefix_cut_goes(line: str) -> None:
    out, _ = Redactor().redact_lines([line])
    tail = line.rstrip('",').rsplit("-", 1)[1]
    assert clean(out, tail), out


def test_a_recovery_key_whose_first_group_was_cut_to_a_letter_goes() -> None:
    out, _ = Redactor().redact_lines(["Store it somewhere safe:", "F-IVN8C-74GZD-H9O61-AWDFE"])
    assert out == ["Store it somewhere safe:", M]


def test_an_openai_service_account_prefix_split_by_a_space_goes() -> None:
    # "sk-svc acct" alone is a run of 8 of the key (folded: "sk5vcacct").
    line = "OPENAI_KEY=sk-svc acct -Mx1nr LRK4aSgYVVKpHg8s4K3gAQubjf_GHmCcbZjJFUiwshRWA2GfpfQR67w"
    out, _ = Redactor().redact_lines([line])
    assert clean(out, "sk-svcacct-Mx1nrLRK4aSgYVVKpHg8s4K3gAQubjf_GHmCcbZjJFUiwshRWA2GfpfQR67w"), (
        out
    )


@pytest.mark.parametrize(
    "line",
    [
        "ngo-insecure-^d(=u+fj+3f$2mm6@+$p-pnw$#a+&le-6k t*j#fzvo48dxu$pk'",
        "-insecure-^d(=u+fj+3f$2mm6 @+$p-pnw$#a+&le-6kt*j#fzvo48dxu$pk'",
    ],
)
def test_a_django_key_with_its_prefix_cut_goes(line: str) -> None:
    out, _ = Redactor().redact_lines([line])
    assert clean(out, "django-insecure-^d(=u+fj+3f$2mm6@+$p-pnw$#a+&le-6kt*j#fzvo48dxu$pk"), out


@pytest.mark.parametrize("line", ["an insecure-looking setup", "ssl: insecure-skip-verify"])
def test_insecure_in_prose_and_settings_stays(line: str) -> None:
    assert unchanged([line])
