"""Secrets inside OCR text, replaced before anything reaches the store.

`Redactor` replaces secrets in OCR lines with `REDACTION_MARKER`: card numbers,
cloud and API tokens, JWTs, PEM private keys and values on password-labelled
lines (and e-mail addresses when asked).

It errs towards hiding: a false positive costs a few words of one memory, a
false negative stores a secret in a database the user may back up or sync.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate

REDACTION_MARKER = "[REDACTED]"

# Tokens with a recognisable shape, one alternation so each line is scanned
# once. Group names pick the validation in `_token_repl`.
_TOKENS = re.compile(
    r"(?P<slack_webhook>https?://hooks\.slack\.com/(?:services|workflows|triggers)/[\w/-]+)"
    r"|(?P<aws_key_id>\b(?:AKIA|ASIA)[A-Z0-9]{16}\b)"
    r"|(?P<github>\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{40,255})\b)"
    r"|(?P<stripe>\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b)"
    r"|(?P<openai>\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})"
    r"|(?P<slack>\bxox[abprs]-[A-Za-z0-9-]{10,})"
    r"|(?P<google>\bAIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-]))"
    r"|(?P<jwt>\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)

# An AWS secret access key is 40 base64 characters with no prefix; alone it is
# indistinguishable from a hash, so it only counts on a line that says
# "secret" and only when it has both letter cases (a hex digest never does).
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")

# Runs of digit groups separated by a space (OCR often doubles it) or a dash.
# A leading "." would make it a decimal fraction, not a card.
_DIGIT_RUN = re.compile(r"(?<![\w.])\d+(?:(?:[ \t]{1,2}|[ \t]?-[ \t]?)\d+)*(?!\w|\.\d)")
_DIGITS = re.compile(r"\d+")
# Issuer prefixes and lengths (ISO/IEC 7812 ranges in use).
_CARD_SHAPE = re.compile(
    r"4(?:\d{12}|\d{15}|\d{18})"  # Visa
    r"|3[47]\d{13}"  # American Express
    r"|3(?:0[0-5]|[689]\d)\d{11,16}"  # Diners Club
    r"|(?:5[1-5]\d\d|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))\d{12}"  # Mastercard
    r"|(?:35|5[06-9]|6\d)\d{14,17}"  # JCB, Maestro, Discover, UnionPay
)

# OCR turns dashes into em/en dashes and drops or adds spaces, so the armour
# line is matched loosely; the words BEGIN ... PRIVATE KEY are what matter.
_PEM_BEGIN = re.compile(r"[-—–]{2,}\s*BEGIN\b[^-—–]{0,40}?PRIVATE\s+KEY", re.IGNORECASE)
_PEM_END = re.compile(r"[-—–]{2,}\s*END\b[^-—–]{0,40}?PRIVATE\s+KEY", re.IGNORECASE)

# A secret-ish keyword ending a label, then ":" or "=". The label may be an
# identifier ("DB_PASSWORD", "client_secret", "aws_secret_access_key") but the
# keyword has to end it: "token_type_ids" or "max_tokens" name no secret.
_LABELLED = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?P<keyword>password|passwd|passcode|pwd|passphrase|pin|secret|api[ _.-]?key|apikey|token)"
    r"(?:[_.-](?:access[_.-])?key|[_.-]value|[_.-]code)?"
    r"(?:[ \t]+(?:access|key|code|number|value|again|confirmation)(?![A-Za-z0-9]))*"
    r"[ \t]*[\"']?[ \t]*(?::=|=>|:(?!:)|=(?!=))[ \t]*",
    re.IGNORECASE,
)
# Values after such a label that hold nothing secret. Screens show a lot of
# code, where `token=None`, `pwd = os.getcwd()` or `token: str | None = None`
# would otherwise wipe every line that mentions a token.
_NOT_A_SECRET = re.compile(
    r"(?:\[REDACTED\]|[\s*•●·∙◦○])*"  # empty, masked in the UI, or already redacted
    r"|(?i:none|null|nil|true|false|undefined|required|optional)"
    r"|[A-Za-z_][\w.]*[(\[].*"  # a call or subscript: getpass(), entry[1], os.environ["PW"]
    r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"  # a reference: self.token, args.password
    r"|\$\{?\w+\}?|\{\{?[\w. ]*\}?\}|%\w+%|<[\w .-]+>"  # placeholders, env variables
    r"|(?:str|bytes|int|bool|string|number|SecretStr|Optional|Union)\b.*"  # type annotations
    r"|.*\s=\s.*"  # an annotation with a default: `token: TokenOpt = None`
)

_FIRST_WORD = re.compile(r"[A-Za-z_][\w.]*(?=$|[\s,;)\]}`'\"])")
_NOT_A_LITERAL = frozenset({"none", "null", "nil", "true", "false", "undefined"})

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    # One number in ten passes Luhn by chance, so the issuer's prefix and
    # length must fit too: that rules out millisecond timestamps, most order
    # numbers and placeholders ("0000 0000 0000 0000" passes Luhn).
    return _CARD_SHAPE.fullmatch(digits) is not None and _luhn_ok(digits)


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Spans of Luhn-valid card numbers inside one run of digit groups.

    A run can hold more than the card ("4111 1111 1111 1111 12 25" with the
    expiry OCR'd onto the same line), so whole groups are tried as windows,
    longest first. Grouped cards use groups of 3-6 digits (4-4-4-4, 4-6-5,
    4-4-4-4-3), which keeps all-digit UUIDs (8-4-4-4-12) out.
    """
    groups = [(m.start(), m.end()) for m in _DIGITS.finditer(run)]
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(groups):
        found = None
        for end in range(len(groups) - 1, start - 1, -1):
            window = groups[start : end + 1]
            if len(window) > 1 and any(not 3 <= b - a <= 6 for a, b in window):
                continue
            digits = "".join(run[a:b] for a, b in window)
            if _is_card(digits):
                found = end
                break
        if found is None:
            start += 1
        else:
            spans.append((groups[start][0], groups[found][1]))
            start = found + 1
    return spans


def _has_mixed_case(token: str) -> bool:
    return any(c.isupper() for c in token) and any(c.islower() for c in token)


def _token_repl(match: re.Match[str]) -> str | None:
    if match.lastgroup == "openai":
        # "sk-" also starts slugs ("sk-hynix-earnings-2024"); real keys are
        # random, so they mix both cases and digits.
        token = match.group()
        if not (_has_mixed_case(token) and any(c.isdigit() for c in token)):
            return None
    return REDACTION_MARKER


def _sub_counted(
    pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str | None], text: str
) -> tuple[str, int]:
    """`pattern.sub` where `repl` may decline a match by returning None."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        replacement = repl(match)
        if replacement is None:
            return match.group()
        count += 1
        return replacement

    return pattern.sub(replace, text), count


def _redact_cards(line: str) -> tuple[str, int]:
    pieces: list[str] = []
    last = 0
    count = 0
    for run in _DIGIT_RUN.finditer(line):
        if run.end() - run.start() < 13:
            continue
        for a, b in _card_spans(run.group()):
            pieces += [line[last : run.start() + a], REDACTION_MARKER]
            last = run.start() + b
            count += 1
    if not count:
        return line, 0
    pieces.append(line[last:])
    return "".join(pieces), count


def _is_secret_value(value: str, keyword: str) -> bool:
    bare = value.rstrip(",;)").strip("\"'`")
    if not bare or _NOT_A_SECRET.fullmatch(bare):
        return False
    first = _FIRST_WORD.match(bare)
    if first is None:
        return True
    word = first.group()
    if word.lower() in _NOT_A_LITERAL:
        return False
    # `token=token, timeout=timeout` or `api_token=self.api_token`: code passing
    # a variable along. A real password may contain the word ("password123"),
    # but not as an identifier with "_" or "." in it.
    lowered = word.lower()
    return not (lowered == keyword.lower() or (keyword.lower() in lowered and "_" in word))


def _redact_labelled(line: str) -> tuple[str, int]:
    count = 0
    pos = 0
    while match := _LABELLED.search(line, pos):
        value_start = match.end()
        rest = line[value_start:]
        if rest and rest[0] in "\"'":
            # A quoted value ends at its closing quote; later labels on the
            # line (JSON, query strings) still get their own turn.
            close = rest.find(rest[0], 1)
            value_start += 1
            value_end = value_start + (close - 1 if close > 0 else len(rest) - 1)
        else:
            value_end = value_start + len(rest.rstrip())
        value = line[value_start:value_end]
        if _is_secret_value(value, match["keyword"]):
            line = line[:value_start] + REDACTION_MARKER + line[value_end:]
            value_end = value_start + len(REDACTION_MARKER)
            count += 1
        pos = max(value_end, match.end())
    return line, count


# Every kind in `_TOKENS` contains one of these literally; keep them in step.
_TOKEN_HINTS = (
    "AKIA", "ASIA", "hp_", "ho_", "hu_", "hs_", "hr_", "github_pat_", "k_live_", "k_test_",
    "sk-", "xox", "hooks.slack.com", "AIza", "eyJ",
)  # fmt: skip
_LABEL_HINTS = ("pass", "pwd", "pin", "secret", "key", "token")
_CARD_HINT = re.compile(r"[0-9](?:[ \t-]{0,3}[0-9]){12}")


class _Candidates:
    """Which lines could hold which kind of secret, found on the joined text.

    The precise regexes cost microseconds per line; `str.find` over the whole
    screen costs microseconds in total. Most lines hold no secret, so they are
    ruled out here and never reach a regex (1000 lines must redact in a few ms).
    """

    def __init__(self, lines: Sequence[str], *, emails: bool) -> None:
        self._text = "\n".join(lines)
        self._starts = list(accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
        lowered = self._text.lower()
        # A few characters lengthen when lowered ("İ"); offsets would drift, so
        # fall back to searching the original and to checking every line.
        unsure: set[int] = set()
        if len(lowered) != len(self._text):
            lowered = self._text
            unsure = set(range(len(lines)))

        self.tokens = self._containing(self._text, _TOKEN_HINTS)
        self.cards = self._matching(_CARD_HINT)
        self.labels = self._containing(lowered, _LABEL_HINTS) | unsure
        self.secret_label = self._containing(lowered, ("secret",)) | unsure
        self.pem = self._containing(lowered, ("private",)) | unsure
        self.emails = self._containing(self._text, ("@",)) if emails else set()
        self.any = self.tokens | self.cards | self.labels | self.pem | self.emails

    def _line_of(self, offset: int) -> int:
        return bisect_right(self._starts, offset) - 1

    def _next_line_start(self, line: int) -> int:
        return self._starts[line + 1] if line + 1 < len(self._starts) else len(self._text)

    def _containing(self, haystack: str, needles: Sequence[str]) -> set[int]:
        found: set[int] = set()
        for needle in needles:
            offset = haystack.find(needle)
            while offset != -1:
                line = self._line_of(offset)
                found.add(line)
                offset = haystack.find(needle, self._next_line_start(line))
        return found

    def _matching(self, pattern: re.Pattern[str]) -> set[int]:
        found: set[int] = set()
        match = pattern.search(self._text)
        while match:
            line = self._line_of(match.start())
            found.add(line)
            match = pattern.search(self._text, self._next_line_start(line))
        return found


class Redactor:
    """Replaces secrets in OCR lines with `REDACTION_MARKER`."""

    def __init__(self, *, emails: bool = False) -> None:
        self._emails = emails

    def redact(self, text: str) -> tuple[str, int]:
        """`redact_lines` for one block of text split on newlines."""
        lines, count = self.redact_lines(text.split("\n"))
        return "\n".join(lines), count

    def redact_lines(self, lines: Sequence[str]) -> tuple[list[str], int]:
        """The same lines, in order, with secrets replaced; and how many were replaced.

        A PEM private key counts once however many lines it covers.
        """
        candidates = _Candidates(lines, emails=self._emails)
        out: list[str] = []
        total = 0
        in_key = False
        for index, line in enumerate(lines):
            if in_key:
                out.append(REDACTION_MARKER)
                in_key = _PEM_END.search(line) is None
                continue
            if index not in candidates.any:
                out.append(line)
                continue
            begin = _PEM_BEGIN.search(line) if index in candidates.pem else None
            if begin:
                # Every line up to END goes, and without an END (the key runs
                # off the screen) everything after it: the body alone is the key.
                out.append(REDACTION_MARKER)
                in_key = _PEM_END.search(line, begin.end()) is None
                total += 1
                continue
            line, count = self._redact_line(line, index, candidates)
            out.append(line)
            total += count
        return out, total

    def _redact_line(self, line: str, index: int, candidates: _Candidates) -> tuple[str, int]:
        total = 0
        # Shaped tokens first: a labelled value that is a token is then already
        # the marker and is not counted twice.
        if index in candidates.tokens:
            line, total = _sub_counted(_TOKENS, _token_repl, line)
        if index in candidates.secret_label:
            line, count = _sub_counted(
                _AWS_SECRET, lambda m: REDACTION_MARKER if _has_mixed_case(m[0]) else None, line
            )
            total += count
        if index in candidates.cards:
            line, count = _redact_cards(line)
            total += count
        if index in candidates.labels and ("=" in line or ":" in line):
            line, count = _redact_labelled(line)
            total += count
        if index in candidates.emails:
            line, count = _sub_counted(_EMAIL, lambda m: REDACTION_MARKER, line)
            total += count
        return line, total
