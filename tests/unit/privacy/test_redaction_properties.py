"""Properties of redaction for any text: it never fails, only ever removes, and is stable.

Redaction runs on every OCR line, title and URL before it is stored, so an
exception there loses a frame and a stray insertion corrupts what is kept.
The rules:
- `redact` and `redact_lines` never raise;
- they only replace: take the markers out of the result and what is left is
  the input with characters removed, so a result is never longer than its
  input plus one marker per replacement;
- the count is 0 exactly when nothing changed;
- `redact_lines` gives one line per line, with no line breaks added;
- redacting redacted text changes nothing more;
- a known token among ordinary words leaves no run of 8 of its characters.
"""

from __future__ import annotations

import string

from hypothesis import example, given
from hypothesis import strategies as st

from mirix_desktop.privacy.redaction import REDACTION_MARKER, Redactor

M = REDACTION_MARKER

_FRAGMENTS = st.sampled_from(
    [
        "password=", "PASSWORD: ", "API_KEY=", "export GITHUB_TOKEN=", '"client_secret": "',
        "db_password: ", "Authorization: Bearer ", "Bearer ", "postgres://app:", "@db.local/x",
        "mysql: //root: ", "IBAN ", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432",
        "4111 1111 1111 1111", "4111-1111-1111-1111", "card ", "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA", "sk-proj-", "sk-proj -", "ghp_",
        "AKIA", "xoxb-", "eyJ", "AIza", M, "[", "]", "=", ":", '"', "'", "\n", "\t", " ", "  ",
        "—", "0", "O", "l", "1", "|", "git commit -m 'fix'", "def main():", "2026-11-20",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "--api-key ", "https: j ", "@github.com/x", "75SWJ-KCSRC-", "HK2 XY-", "GBO7 VJZ) ",
        "Account ", ")", "!", "ey", ". ", "Hs ", "  - name: DB_PASSWORD", "valueFrom:",
    ]
)  # fmt: skip
_TOKENISH = st.text(
    alphabet=string.ascii_letters + string.digits + "-_/+=", min_size=8, max_size=60
)
TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(_FRAGMENTS, _TOKENISH, st.text(max_size=8)), max_size=14).map("".join),
    st.lists(st.one_of(_FRAGMENTS, _TOKENISH), max_size=14).map(" ".join),
)
LINES = st.lists(st.one_of(TEXTS.map(lambda t: t.replace("\n", " ")), _FRAGMENTS), max_size=8)

TOKENS = [
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXy",
    "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2,
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
]
WORDS = st.sampled_from(
    "the budget meeting moved to Tuesday and git push origin main failed with error 403 "
    "see the docs at https://example.com/guide for details ok".split()
)


def _is_subsequence(small: str, big: str) -> bool:
    rest = iter(big)
    return all(char in rest for char in small)


@given(TEXTS)
@example("password: hunter2")
@example(f"password: {M}")
@example("-----BEGIN RSA PRIVATE KEY-----\n\nMIIEpAIBAAKCAQEA\n")
@example("4111 1111 1111 1111\n4111 1111 1111 1111")
@example("PASSW0RD=\n000")  # a value on the next line was replaced but not counted
def test_redact_only_replaces_with_markers(text: str) -> None:
    redacted, count = Redactor().redact(text)
    assert count >= 0
    assert (count == 0) == (redacted == text)
    assert redacted.count("\n") == text.count("\n")
    assert _is_subsequence(redacted.replace(M, ""), text)


@given(TEXTS)
@example(f"password: {M}")
@example("API_KEY=\nsk-proj-abc")
@example("GB42WEST12035694715302 00000012AABG 0AAA")  # a second pass found more
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    redactor = Redactor(emails=True)
    once, _ = redactor.redact(text)
    twice, count = redactor.redact(once)
    assert twice == once
    assert count == 0


@given(LINES, st.booleans())
@example(["-----BEGIN PRIVATE KEY-----", "", "MIIE", "-----END PRIVATE KEY-----"], False)
@example(["API_KEY:", "Zq8vT1kXw3mN9pR2sY6u"], False)
@example(["password=", "password="], False)  # replaced, counted 0
@example(["password=", "password=PASSWORD: password="], False)  # gave "[REDACTED]]]]"
def test_redact_lines_keeps_one_line_per_line(lines: list[str], emails: bool) -> None:
    out, count = Redactor(emails=emails).redact_lines(lines)
    assert len(out) == len(lines)
    assert (count == 0) == (out == lines)
    for before, after in zip(lines, out, strict=True):
        assert "\n" not in after or "\n" in before
        assert _is_subsequence(after.replace(M, ""), before)


@given(st.sampled_from(TOKENS), st.lists(WORDS, max_size=6), st.lists(WORDS, max_size=6))
def test_a_token_among_words_leaves_no_8_of_its_characters(
    token: str, before: list[str], after: list[str]
) -> None:
    text = " ".join([*before, token, *after])
    redacted, count = Redactor().redact(text)
    assert count >= 1
    runs = {token[i : i + 8] for i in range(len(token) - 7)}
    assert not any(run in redacted for run in runs), redacted
