"""Secrets inside OCR text, replaced before anything reaches the store.

`Redactor` replaces secrets in OCR lines, window titles and URLs with
`REDACTION_MARKER`. Text arrives as tesseract read it, not as it was typed: a
key broken into word boxes (`sk-proj -Zq8v…`), `0` for `O`, `l` for `1`,
`postgres: //app: pw@…`, a key wrapped over two rows or cut into two pieces
of one row, its prefix lost, most of it dropped as unreadable. Each rule is
written for the text as read (`secret_spans.py`, `secret_patterns.py`):

- tokens with a known prefix (OpenAI, Anthropic, GitHub, GitLab, Slack,
  Stripe, Google, AWS, npm, Hugging Face, SendGrid, PyPI, JWTs, base64 DER
  and OpenSSH key bodies), the prefix matched loosely and the body extended
  over OCR's word breaks (and over one or two pieces of up to three
  characters between two of its parts: `…-4959113219638 - bf f2d3…`); a
  prefix alone at a row's end (its body wrapped), or with one to three
  characters of its body (`github_pat_11`), goes too;
  an OpenAI key whose prefix was lost is found by the mark inside every one
  ("T3BlbkFJ", read as "BIbkF]");
- random-looking runs with no prefix and no label (a key whose prefix OCR
  lost, a wrapped key's tail, `openssl rand` output, a PEM body line):
  `looks_random` for 16+ letters and digits (at least 40% letters, at most
  12% separators, a separator-free piece of 10+, randomness — segments per
  character plus the share of uncommon letter pairs — of at least 0.75);
  `looks_random_short` for a 10-15 character piece (two capitals, two small
  letters and a digit, randomness of at least 0.9); `looks_random_alone`
  for a row of one to three such pieces; alone on its row, a word of 14+
  with both cases and a digit needs a randomness of only 0.6 (base64 of a
  JWT's JSON is full of capitals), and the end of a quoted string whose
  start OCR lost (`LnuUUWVgC",`) counts from 8 characters. On a row alone,
  five small letters rule a word out only when they read as one
  (`word_inside`: "kljnj" in `16kljnjFBQDxAA` does not). Pieces OCR
  split apart with spaces are joined first. Hexadecimal in one case never
  counts: git SHAs, digests, UUIDs and container ids fill terminals (`git
  log`, `docker ps`) and are kept, as are fingerprints after "SHA256:"; a
  hex secret is caught by its label. The thresholds were set on the runs of 1,500 standard-
  library modules and real terminal output (see the functions);
- values behind a label: `*_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASS`,
  `PASSWORD`, `pwd`, `PIN`, `IBAN`, camelCase `apiKey`/`jwtSecret` (also as
  OCR lowercases it, `jwtsecret`, when the value is key-like), after
  `=`, `:`, `:=`, `=>`, quoted (curly quotes too), YAML, JSON, `export`,
  `--password VALUE`, a table's `access_token  VALUE`; a label or a flag
  ending a row takes its value from the row below (not the next key of a
  YAML map, `valueFrom:`); `export WORD` alone keeps no key piece; code
  (`token=None`, `password = getpass()`, `await getToken(s)`, `self.token`,
  `key=len`, a Rust `secret: &[u8],`) is left alone;
- passwords in URLs and DSNs (`scheme://user:PASSWORD@host`, the password
  in up to four pieces, and what is left when OCR dropped the start:
  `-Breeze-8347@127.0.0.1:3306`, `bzecloJ7xYnulr@cluster0.….net/shop?…`), a token
  as a URL's user (`https: j 23Kwixvbu9x@gi thub.com/…`; a plain user name
  stays), and credentials in a URL's query (`?code=`, `&sig=`, `access_token=`);
- `Authorization:` header values and `Bearer …` tokens, the value also on
  the row below;
- card numbers (issuer prefix, length, Luhn; on a line that says "card" the
  check digit may be misread) and IBANs (country length and mod 97, through
  OCR's letter-for-digit swaps; beside a bank word the length suffices, and
  a number a few characters short, a group OCR lost, goes too);
- PEM private keys, armour and body, even with the dashes and BEGIN lost;
- grouped recovery and licence keys (`J0N4M-OKZYD-XWA5O-…`, also with a
  group OCR cut with a space when it then has the others' length, a glyph
  it misread inside a group, or the first groups lost; three groups of one
  length with random letters need only one group that kept a digit:
  `-OQ5TN- IMBBZ-UAESE`; alone on a row, groups of one length whose letters
  read as random, also with spaces OCR put at a dash: `XFHBL -ESSK8`);
- what a secret-printing command typed at a prompt printed (`openssl rand`,
  `secrets.token_urlsafe`, `python -c "import secrets…`, `pwgen`, `gcloud
  auth print-access-token`, `pass show NAME` ...): the row below, however
  OCR read it (three words, or more when none reads as a word:
  `pOKW3 ZV t f pMTKMDhN+OKVkY ZORHT 9Zww8 c=`), and the rows a long value
  wraps onto;
- what OCR left once it lost a key's label or prefix: `export` and a key's
  pieces (`export 1 OhNjEOw 9yS.`); a query value before the next `&name`
  (`googleapis . fNNDNbgV fOyo&callback=`); an environment variable's
  `value:` below its secret's `name:`; a key's end closing a string no
  quote on its row opened (`…/users 30eWjeul4-Nk_'`); a labelled value too
  short to be whole at a row's end, its rest the next row's first word
  (`API_KEY=sk- ant` | `8001mNOFGSCAA`); a key's row below the words that
  name it (`copy your personal access token now` | `OAbSEVNOFM2ROWME`,
  `Your recovery key` | `SUICG - QMRII`); an account number in groups or
  with a character OCR added, beside a bank word;
- beside a secret found (its row, the rows above and below), any run of
  letters and digits that reads as a key's piece (`_near_piece`: four or
  more, with digits or both cases and random, or capitals that do not
  read as a word; not a name like `HTTPPasswordMgr`, not a host's part):
  the pieces OCR cut off a key, or the same key shown again in pieces,
  that no rule can judge alone; pieces between two parts found on a row
  (`[REDACTED] wgvthu- rij [REDACTED]`) go with them; a span found
  inside a word widens to the whole word (a glyph outside ASCII ended the
  part a rule found: `4nfpHFtré…`; `]` or `)` read for a letter), and back
  over up to two pieces a space before it that have two capitals or
  digits (`AlzaB FesVWmP]wPVB…`); and a row of three or more short pieces,
  none a word, most key-like, one of 8+, that joined read as random, goes
  whole (a key OCR broke up without its prefix: `ry 4eL YBInxzrc415J
  [FMRA4L VF OERGL6`);
- e-mail addresses when asked.

Lines are read as a screen, not one by one. Given the lines' boxes, the
pieces of one row (OCR cuts rows at wide gaps, and may sort the second piece
first) are joined before the rules run. A secret found running to the end
of a row (but for a few pieces of up to three characters) continues on the
row below when that row starts at the margin and the row above reaches its
column's right edge (a wrapped line), or when the lower row is a piece of
a row that OCR read only in part (three words at most, well right of the
margin: the upper row's end may be lost too): the lower row's leading run of
non-words goes too (with a short piece OCR cut off before one), and two
halves too short to judge alone are judged together. A key's last pieces
that OCR set apart at the row's end after the part found (`…KLf.  NWIKZTAA`,
`…Xkkf f7 j ROKEO`) go with it when they are not words. A secret whose
row ends with a closing quote ended there and does not run on. Without
boxes, consecutive lines are the rows.
A symbol or a letter outside ASCII between a token's characters (OCR's `¢`
for `c`, `¥` for `Y`, `é` for `6`) is read as a letter, so the token is
judged whole.
The result is redacted again until nothing changes, so redacting twice
finds nothing more.

It errs towards hiding: a false positive costs a few words of one memory, a
false negative stores a secret in a database the user may back up or sync.
Measured by `tests/benchmarks/redaction_suite.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mirix_desktop.privacy.secret_patterns import (
    CARD_WORDS,
    COMMON_PAIRS,
    GROUP_MISREADS,
    TOKEN_RUN,
    card_groups,
    extend_token,
    hex_like,
    key_piece,
    key_pieces,
    looks_random,
    randomness,
    reads_as_word,
    token_like,
    word_inside,
)
from mirix_desktop.privacy.secret_spans import (
    KEY_NAME,
    LABEL_ONLY,
    NAME_AT_END,
    OPENERS,
    TRAILING,
    LineSecrets,
    Span,
    bank_label,
    fold_symbols,
    iban_spans,
    is_secret_value,
    line_spans,
    merge,
)

REDACTION_MARKER = "[REDACTED]"

# -- PEM private keys ----------------------------------------------------------

_PRIVATE = r"PR[I1l|]VATE\s*KE"
# After BEGIN, "PRIVATE" ending the row is enough: OCR may lose "KEY-----".
_PRIVATE_OR_END = r"PR[I1l|]VATE(?:\s*KE|[\W_]*$)"
# OCR turns dashes into em/en dashes, drops them or the word BEGIN, and adds
# or drops spaces; the words "PRIVATE KEY" in capitals are what matter (in
# small letters only after dashes: "begin with the private key" is prose).
_PEM_BEGIN = re.compile(
    rf"(?:[-—–_~=]{{2,}}\s*B\s?E\s?G\s?[I1l|]\s?N\b|\bBEG[I1l|]N\b)[^-—–]{{0,40}}?{_PRIVATE_OR_END}"
    r"|(?i:[-—–]{2,}\s*BEGIN\b[^-—–]{0,40}?PRIVATE\s+KEY)"
)
# Armour whose dashes and BEGIN were lost, or part of it: "RSA PRIVATE KEY-",
# "GIN RSA PRIVATE KEY-".
_PEM_ARMOUR = re.compile(
    r"^[\W_]{0,8}(?:(?:BEG|B?E?G?[I1l|]N)\s+)?(?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP|SSH2)\s+)?"
    rf"{_PRIVATE}(?:Y|Y\s*BLOCK)?[\W_]{{0,8}}$"
)
_PEM_END = re.compile(
    rf"(?:[-—–_~=]{{2,}}\s*|\b)E?\s?N\s?D\b[^-—–]{{0,40}}?{_PRIVATE}"
    r"|(?i:[-—–]{2,}\s*END\b[^-—–]{0,40}?PRIVATE\s+KEY)"
)
_ANY_PRIVATE = re.compile(_PRIVATE)

# -- commands that print a secret -------------------------------------------------

# A command whose output is a secret, ending its row (not redirected to a
# file): random keys and passwords, and the token or password commands of
# the common CLIs and password stores, as OCR reads them ("openss] rand").
_SECRET_COMMAND = re.compile(
    r"(?i)(?:\bopenss[l1I|\]][ ]?rand\b|\brand[ ]+-(?:base64|hex)\b|token_(?:urlsafe|hex|bytes)\b"
    r"|-c[ ]+\S?import[ ]secrets\b"
    r"|\bpwgen\b|gen-random"
    r"|/dev/u?random\b|print-(?:access|identity)-token\b|get-access-token\b"
    r"|\bgh[ ]+auth[ ]+token\b|\bpass[ ]+show[ ]+\S|secret-tool[ ]+lookup\b"
    r"|find-generic-password\b|\bop[ ]+read\b)[^>\n]*$"
)
# A shell prompt: the next command, no longer the output.
_PROMPT = re.compile(r"[$#%>][ \t]*$|^[ \t]*\S*@\S*[ ]?:|^[ \t]*[$#>%][ \t]")
# One of these is in every `_SECRET_COMMAND` match.
_COMMAND_HINTS = ("rand", "token", "pwgen", "pass", "secret", " read")
_PROMPT_BEFORE = re.compile(r"[$#>%][ \t]")


def _typed_secret_command(row: str) -> bool:
    """A secret-printing command typed at a prompt (or starting the row), not named in prose."""
    lowered = row.lower()
    if not any(hint in lowered for hint in _COMMAND_HINTS):
        return False  # most rows: the search below is slow
    command = _SECRET_COMMAND.search(row)
    if command is None:
        return False
    before = row[: command.start()]
    return not before.strip() or _PROMPT_BEFORE.search(before) is not None


# Code, not a printed value: a call, a block, an assignment.
_OUTPUT_CODE = re.compile(r"[(){};]|\s=\s|:$")
# An output row that a long key wrapped off: one long word.
_WRAPS = re.compile(r"\S{20,}")
_OUTPUT_MIN = 4
# The output rows taken: the secret and the rows a long one wraps onto.
_OUTPUT_ROWS = 3
_OUTPUT_WORDS = 3


# All OCR kept of a BEGIN armour ("PRIVATE"), above a private key's first
# body row: base64 of DER ("MIIEpAIBAAKCAQEA…", OCR's "P" for "p" too) or of
# an OpenSSH key ("b3BlbnNzaC1rZXktdjEA…").
_ARMOUR_WORD = re.compile(r"[\W_]{0,8}PR[I1l|]VATE[\W_]{0,8}")
_KEY_BODY_START = re.compile(r"MII[A-Za-z0-9+/]{4}|b3BlbnNzaC")


def _pem_begin(line: str) -> re.Match[str] | None:
    """The armour that starts a private key on `line`, if there is one."""
    if "VATE" not in line.upper():
        return None  # no PRIVATE, however misread its I
    match = _PEM_BEGIN.search(line)
    if match is None:
        match = _PEM_ARMOUR.match(line)
        if match is not None and _PEM_END.search(line):
            return None  # an END whose BEGIN was not seen
    return match


def _pem_ends(line: str, start: int = 0) -> bool:
    """Whether `line` (from `start`) ends a private key: its END armour, or any armour."""
    return _PEM_END.search(line, start) is not None or (
        start == 0 and _ANY_PRIVATE.search(line) is not None
    )


# x, y, width, height of a line's box in the picture.
Box = tuple[int, int, int, int]
# Pieces of one row are joined with this, which the rules take as a word gap.
_JOIN = "  "
# Passes until nothing changes; a second one is rare and a third rarer still.
_ROUNDS = 4
_WORDS = re.compile(r"\S+")
# What may follow a secret that ran to the row's end: nothing, or a few
# pieces of it too short to be taken ("… 16KXUPrn67 76", "… 0iJTUZTINiIs ey .").
_OCR_DEBRIS = re.compile(r"\s*(?:\S{1,3}\s*){0,3}")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def _rows(count: int, boxes: Sequence[Box] | None) -> list[list[int]]:
    """Line indices grouped into rows, top to bottom, each row left to right."""
    if boxes is None:
        return [[index] for index in range(count)]
    order = sorted(range(count), key=lambda i: (boxes[i][1] + boxes[i][3] / 2, boxes[i][0]))
    rows: list[list[int]] = []
    for index in order:
        _x, y, _w, h = boxes[index]
        for row in reversed(rows[-3:]):
            _rx, ry, _rw, rh = boxes[row[0]]
            overlap = min(y + h, ry + rh) - max(y, ry)
            if 2 * overlap >= min(h, rh) > 0:
                row.append(index)
                break
        else:
            rows.append([index])
    for row in rows:
        row.sort(key=lambda i: boxes[i][0])
    return rows


def _next_row(
    rows: list[list[int]], texts: list[str], r: int, boxes: Sequence[Box] | None
) -> tuple[bool, bool]:
    """Whether row `r + 1` is right below row `r`, and whether it can be row `r` wrapped.

    Without boxes, consecutive lines are both. With boxes, "below" is within
    two line heights, starting at row `r`'s margin or left of it, or anywhere
    for a fragment of at most three words (the rest of a wrapped row that OCR
    could not read); "wrapped" also needs row `r` to reach as far right as the
    rows of its column around it (the edge where a terminal or an editor wraps).
    """
    if boxes is None:
        return True, True
    upper, lower = rows[r], rows[r + 1]
    ux, uy, _uw, uh = boxes[upper[0]]
    lx, ly, _lw, lh = boxes[lower[0]]
    # Centres, as tesseract's boxes of neighbouring rows often overlap.
    if not 0 < (ly + lh / 2) - (uy + uh / 2) <= 2 * max(uh, lh):
        return False, False
    if lx > ux + 2 * uh and len(texts[r + 1].split()) > 3 and not key_pieces(texts[r + 1]):
        return False, False
    right = max(boxes[i][0] + boxes[i][2] for i in upper)
    column = [
        max(boxes[i][0] + boxes[i][2] for i in row)
        for row in rows[max(0, r - 6) : r + 7]
        if abs(boxes[row[0]][0] - ux) <= 2 * uh
    ]
    return True, right >= max(column) - 1.5 * uh


def _fragment_below(
    rows: list[list[int]], texts: list[str], r: int, boxes: Sequence[Box] | None
) -> bool:
    """Whether row `r + 1` is a piece of a row that OCR read only in part: at most
    three words, starting well right of row `r`'s margin.

    A wrapped row whose start OCR could not read is such a piece; a new line
    of text starts at the margin (or is indented by a few characters).
    Whether row `r` reached the edge says nothing here: OCR may have lost
    its end too ("…Bearer eyJhbGci…IJ9." | "IZOTAyMno.").
    """
    if boxes is None:
        return False
    ux, _uy, _uw, uh = boxes[rows[r][0]]
    lx = boxes[rows[r + 1][0]][0]
    return lx > ux + 4 * uh and len(texts[r + 1].split()) <= 3


# Digits alone below a label are its value from this many (a PIN is shorter, and stays).
_DIGITS_VALUE = 10
# The rest of a value cut at the row above: a key's characters, eight or more.
_CUT_REST = re.compile(r"[A-Za-z0-9+/_-]{8,}=*")
# Pieces of a value below its label, read as one.
_LABEL_VALUE_PIECES = 3
_LABEL_KEYWORDS = ("pass", "secret", "toke", "t0ke", "key")


def _label_only(row: str) -> bool:
    """A row that is only a label ("access_token", "Password"), or ends with a key's name."""
    lowered = row.lower()
    if not any(k in lowered for k in _LABEL_KEYWORDS):
        return False
    if len(row) <= 40 and LABEL_ONLY.fullmatch(row.strip()) is not None:
        return True
    return NAME_AT_END.search(row) is not None


def _string_closed(text: str, span: Span) -> bool:
    """Whether the secret at `span` ends a string (its row's last character a
    closing quote): it did not run off ("…Bearer -AI-VDqv-…740EYTQGVVL'"), even
    when OCR lost the quote that opened it."""
    return text[span[1] :].strip().rstrip(",;)]}") in OPENERS


def _continues(word: str) -> bool:
    """Whether a word at the start of a row can be the rest of a wrapped secret."""
    if len(word) == 1 and word in "-_!*~.,":
        return True  # OCR's debris inside a key, a JWT's dot
    core = _NOT_ALNUM.sub("", word)
    if REDACTION_MARKER in word:
        return False  # already done
    if not core or word.endswith(("$", "#", ">")) or ":" in word or "=" in word.rstrip("="):
        return False  # punctuation, a shell prompt, a URL, the next `NAME=value`
    if _PROTOCOL.fullmatch(word):
        return False  # a response's status line: "HTTP/1.1 200 OK"
    if any(c in "{}[]|\\^<>" for c in word):
        # OCR's reading of glyphs it could not place; "[1]," is JSON.
        return len(core) >= _GLYPH_PIECE_MIN
    if core.isupper() and len(core) >= 8:
        # Capitals only, as a base64 key's tail can be ("DFTCRQUOWRWAA"), not a word.
        return randomness(core.lower()) >= _CAPITALS_RANDOM
    return not core.isalpha() or token_like(core)


_CAPITALS_RANDOM = 0.6
_PROTOCOL = re.compile(r"[A-Z]{2,}/\d+(?:\.\d+)*")
_GLYPH_PIECE_MIN = 3


def _continued(words: list[re.Match[str]]) -> int | None:
    """The end of the words that start a row and can be the rest of a wrapped secret.

    A piece of one to three letters and digits (with dashes or underscores
    around them) counts when a word that continues follows it ("Hs
    oAjncJwYcONmIY", "-Ze- C4qpHF7": OCR cut the tail's first letters off).
    """
    end = None
    for index, word in enumerate(words):
        text = word.group()
        if _continues(text):
            end = word.end()
            continue
        following = words[index + 1].group() if index + 1 < len(words) else ""
        if not (_SHORT_PIECE.fullmatch(text) and following and _continues(following)):
            break
    return end


_SHORT_PIECE = re.compile(r"[-_]{0,2}[A-Za-z0-9]{1,3}[-_]{0,2}")


def _whole_markers(text: str, spans: list[Span]) -> list[Span]:
    """The spans, widened to cover every marker they touch: a marker is never cut.

    Cutting one ("[REDACTED" replaced, "]" left) would add text that was not
    on the screen, and again on every pass.
    """
    if not spans or REDACTION_MARKER not in text:
        return spans
    markers = [m.span() for m in re.finditer(re.escape(REDACTION_MARKER), text)]
    widened = []
    for start, end in spans:
        for m_start, m_end in markers:
            if start < m_end and end > m_start:
                start, end = min(start, m_start), max(end, m_end)
        widened.append((start, end))
    return merge(widened)


# -- beside a secret found -------------------------------------------------------

# A word of a row: what lies between spaces.
_WORD = re.compile(r"\S+")
# Punctuation OCR sets at a piece's ends (quotes, brackets, commas).
_EDGES = "\"'`()[]{}<>,;:.|"
# Rows above and below a row with a secret that are searched for its pieces.
_NEAR_ROWS = 1


def _whole_words(text: str, spans: list[Span]) -> list[Span]:
    """The spans, widened over the letters and digits they cut off a word.

    A span that starts or ends inside a word leaves that word's rest in clear:
    a glyph outside ASCII that OCR put inside a key (`4nfpHFtré…`) ends the
    part a rule found, and the letters before it are the key's too.
    """
    if not spans:
        return spans
    widened = []
    for start, end in spans:
        start = _word_start(text, start)
        for _ in range(_PIECES_BACK):
            # A key's first piece that OCR set apart with a space ("AlzaB Fes…").
            if start < 2 or text[start - 1] != " " or not text[start - 2].isalnum():
                break
            before = _word_start(text, start - 1)
            piece = text[before : start - 1]
            if not token_like(piece) or _capitals_or_digits(piece) < 2:
                break
            if any(a < start - 1 and b > before for a, b in spans):
                break  # another secret: each is counted
            start = before
        while end < len(text) and (
            text[end].isalnum()
            # A bracket OCR read for a letter inside the key ("…Ld40Q)kd9cH").
            or (text[end] in _GLYPHS and end + 1 < len(text) and text[end + 1].isalnum())
        ):
            end += 1
        widened.append((start, end))
    return merge(widened)


# Pieces before a span, one space apart, taken back to the key's start.
_PIECES_BACK = 2
# Glyphs OCR reads for "I" and "l" inside a key.
_STROKES = "]|[!"
# Glyphs OCR reads for a letter inside a key, after the part found.
_GLYPHS = _STROKES + "(){}"


def _word_start(text: str, start: int) -> int:
    """Where the word holding `start` begins: back over letters, digits and
    OCR's strokes for "I" and "l" between them."""
    while start > 0 and (
        text[start - 1].isalnum()
        or (text[start - 1] in _STROKES and start > 1 and text[start - 2].isalnum())
    ):
        start -= 1
    return start


def _capitals_or_digits(piece: str) -> int:
    return sum(c.isupper() or c.isdigit() for c in piece)


# One piece of a broken key's row is at least this long.
_BROKEN_PIECE_MIN = 8


def _broken_key_row(text: str) -> bool:
    """A row that is a key OCR broke into short pieces (`ry 4eL YBInxzrc415J [FMRA4L VF OERGL6`).

    Three or more pieces of letters and digits, none of them reading as a
    word, most of them key-like (`token_like`), one of 8+ not hexadecimal,
    that joined read as random (`looks_random`, 20+ characters).
    """
    pieces = [w.strip(_EDGES) for w in text.split()]
    if len(pieces) < 3 or not all(p.isascii() and p.isalnum() for p in pieces):
        return False
    if any(word_inside(p) for p in pieces) or 2 * sum(map(token_like, pieces)) < len(pieces):
        return False
    if not any(len(p) >= _BROKEN_PIECE_MIN and not hex_like(p) for p in pieces):
        return False  # a row of short codes or hex bytes
    return looks_random("".join(pieces), 20)


# A secret's name and its value on the row below, as Kubernetes, Compose and
# CI files list environment variables ("- name: STRIPE_WEBHOOK_SECRET" |
# "value: whsec_…"). The name ends with a secret's keyword.
_ENV_NAME = re.compile(
    r"(?i)(?:^|[\s-])(?:name|key)[ ]?:[ ]*[\"']?[\w.-]*"
    r"(?:secret|token|passw[o0]rd|passwd|api[_-]?key|private[_-]?key|credentials?)[\"']?[ \t]*$"
)
_ENV_VALUE = re.compile(r"^[\s-]*value[ ]?:[ ]*(?P<value>\S.*?)[ \t]*$")


# A row that names a secret ("Make sure to copy your personal access token
# now", "Your recovery key"): a key-like row right below is the secret shown.
_SECRET_NOUN = re.compile(
    r"(?i)(?<![\w-])(?:token|key|password|passphrase|secret|code|iban|account)s?(?![\w-])"
)
_REVEALED_MIN = 10
# Code, not a value shown: a call, a definition, a block.
_CODE_MARKS = re.compile(r"[(){}\[\];=]")


# A form's field label for a card ("Card number", "Visa"): a short row.
_CARD_LABEL_WORDS = 5


def _card_label(text: str) -> bool:
    return CARD_WORDS.search(text) is not None and len(text.split()) <= _CARD_LABEL_WORDS


def _revealed(text: str) -> bool:
    """One to three pieces of one key, 10+ letters and digits, that are not
    a word or hexadecimal (`key_pieces`, `token_like`)."""
    words = text.split()
    core = _NOT_ALNUM.sub("", text)
    return (
        1 <= len(words) <= 3
        and _CODE_MARKS.search(text) is None
        and len(core) >= _REVEALED_MIN
        and key_pieces(text)
        and token_like(core)
        and not hex_like(core)
        and not word_inside(core)
    )


# A recovery key's groups of capitals and digits, one length, the spaces OCR
# puts at a dash allowed ("SUICG - QMRII").
_KEY_GROUPS = re.compile(r"[A-Z0-9]{4,8}(?:[ ]?[-—–][ ]?[A-Z0-9]{4,8})+")


def _key_groups(text: str) -> bool:
    """A row that is only a key's groups of one length, half of them or more not words.

    Below or two rows below the words that name a key ("Your recovery key",
    "Store it somewhere safe:"), however its letters read: OCR's groups
    of a random key often read as words by their letter pairs ("SUICG").
    """
    row = text.strip().strip(_EDGES + " -—–")  # a dash OCR kept of a lost group
    # Capitals as OCR may give them back: a bracket for an I or J, a small
    # letter for a symbol it read ("3€Q4}" folded to "3eQ4}").
    row = row.translate(GROUP_MISREADS).upper()
    if _KEY_GROUPS.fullmatch(row) is None:
        return False
    groups = [g for g in re.split(r"[ ]?[-—–][ ]?", row) if g]
    keyish = sum(not reads_as_word(g) for g in groups)  # a digit makes any group one
    lengths = sorted(len(g) for g in groups)
    usual = lengths[len(lengths) // 2]
    # One group may have a character OCR added or lost, when there are three or more.
    odd = sum(length != usual for length in lengths)
    alike = odd == 0 or (
        len(groups) >= 3 and odd == 1 and all(abs(n - usual) <= 1 for n in lengths)
    )
    return alike and 2 * keyish >= len(groups)


def _env_value(text: str, row_spans: list[Span]) -> None:
    """The value on the row below an environment variable's secret name (`_ENV_NAME`)."""
    value = _ENV_VALUE.match(text)
    if value is not None and is_secret_value(value["value"], "secret"):
        row_spans[:] = merge([*row_spans, value.span("value")])


# Short words that join two secrets in prose or a table ("[REDACTED] or [REDACTED]").
_JOINING_WORDS = frozenset(
    {"a", "an", "and", "or", "to", "in", "of", "is", "as", "at", "on", "by", "the", "for", "vs"}
)
_BETWEEN_MAX = 4
# The share of common letter pairs (`COMMON_PAIRS`) from which a word of one case reads as one.
_WORD_PAIRS = 0.6


def _between_spans(text: str, spans: list[Span]) -> list[Span]:
    """Two secrets on a row with only a key's pieces between them become one.

    What OCR left between two parts of one key that the rules found
    ("[REDACTED] wgvthu- rij [REDACTED]", "… qxttvmkxhy Gt …"): up to four
    pieces made of a key's characters, none a word of prose (letters of one
    case, capitalised or not, most of their pairs common) or a joining word.
    """
    if len(spans) < 2:
        return spans
    joined = [spans[0]]
    for start, end in spans[1:]:
        gap = text[joined[-1][1] : start]
        words = [w.strip(_EDGES) for w in gap.split()]
        if (
            0 < len(words) <= _BETWEEN_MAX
            and all(w and key_piece(w) for w in words)
            and not any(_prose_word(w) for w in words)
        ):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _prose_word(word: str) -> bool:
    core = _NOT_ALNUM.sub("", word)
    if core.lower() in _JOINING_WORDS:
        return True
    if len(core) < 3 or not core.isalpha() or not (core.islower() or core.istitle()):
        return False
    lowered = core.lower()
    pairs = [lowered[i : i + 2] for i in range(len(lowered) - 1)]
    return sum(pair in COMMON_PAIRS for pair in pairs) >= _WORD_PAIRS * len(pairs)


def _stacked_pieces(upper: str, lower: str) -> bool:
    """Two rows, one above the other, each one piece of a key, that read as one key.

    A key wrapped over rows whose label OCR lost ("-PurYPloL-" | "AT-2arcGMWIAA"):
    each row a single word of a key's characters, five letters and digits or
    more, not a word; joined without their separators, 14 or more with
    digits and both cases, no word inside, randomness of at least 0.6.
    """
    pieces = [upper.strip(), lower.strip()]
    if not all(len(p.split()) == 1 and key_piece(p.strip(_EDGES)) for p in pieces):
        return False
    cores = [_NOT_ALNUM.sub("", p) for p in pieces]
    if min(map(len, cores)) < _STACKED_MIN or any(reads_as_word(c) for c in cores):
        return False
    joined = "".join(cores)
    # As a word alone on its row is judged (`_long_lone_word`): base64's
    # capitals make letter pairs look common.
    return (
        len(joined) >= _STACKED_JOINED
        and any(c.isdigit() for c in joined)
        and any(c.islower() for c in joined)
        and any(c.isupper() for c in joined)
        and not word_inside(joined)
        and not hex_like(joined)
        and randomness(joined) >= _STACKED_RANDOM
    )


_STACKED_MIN = 5
_STACKED_JOINED = 14
_STACKED_RANDOM = 0.6


def _near_secrets(texts: list[str], whole: list[bool], spans: list[list[Span]]) -> None:
    """Key-like words on and beside the rows where a secret was found go too."""
    found = [bool(row) or whole[r] for r, row in enumerate(spans)]
    for r, text in enumerate(texts):
        if whole[r] or not any(found[max(0, r - _NEAR_ROWS) : r + _NEAR_ROWS + 1]):
            continue
        added = [
            m.span()
            for m in _RUN.finditer(text)
            if not any(a < m.end() and b > m.start() for a, b in spans[r])
            and not _in_dotted_name(text, m)
            and _near_piece(m.group())
        ]
        if added:
            spans[r] = _join_pieces(text, spans[r], added)


def _join_pieces(text: str, found: list[Span], pieces: list[Span]) -> list[Span]:
    """The spans found and the pieces beside them, a piece a space from a span joined to it:
    both are parts of one key (`AlzaB FesVWmP…`), counted once."""
    out: list[Span] = []
    for start, end in merge(found + pieces):
        joins = out and not text[out[-1][1] : start].strip()
        if joins and ((start, end) in pieces or out[-1] in pieces):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


# A run of letters and digits: the pieces of a word ("PSCEEEYyFigB@github.com/…").
_RUN = re.compile(r"[A-Za-z0-9]+")
_NEAR_PIECE_MIN = 4
# A name and a number: "sha256", "base64", "utf8", "AES128", "HTTP2".
_NAME_NUMBER = re.compile(r"[a-z]+[0-9]{1,4}|[A-Z]+[0-9]{1,4}|[A-Z][a-z]+[0-9]{1,4}")
# Capitals that read as a word have at most this share of uncommon letter pairs.
_CAPITALS_WORD = 0.5
# The words of a name: "single", "Password" ("HTTPPasswordMgr" is an identifier).
_NAME_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# Letters of one case count from five: four ("jobs", "addr") are too often words.
_NEAR_WORD_MIN = 5
# Identifiers score 0.1-0.4 (`randomness`), a key's pieces 0.5 and more ("Qu86J" 0.6).
_NEAR_RANDOM = 0.5


def _in_dotted_name(text: str, run: re.Match[str]) -> bool:
    """Whether the run is a part of a host or file name ("cluster0.x7k2p.mongodb.net"),
    a space OCR put before or after a dot aside ("x7k2p .mongodb")."""
    start, end = run.span()
    return text[max(0, start - 2) : start].strip().endswith(".") or text[
        end : end + 2
    ].strip().startswith(".")


def _near_piece(run: str) -> bool:
    """Whether a run of letters and digits beside a secret found is a piece of one.

    Beside a secret, what OCR cut off it needs less to be judged a key's:
    four letters and digits or more, not digits alone (a port, a count), not
    hexadecimal, not a name and a number ("sha256"): with digits or both
    cases, random enough (not "InvalidHeaderDefect") and not a key's name
    ("apiKey"); capitals alone, five or more, when more than half their
    letter pairs are uncommon ("JMFKEY", not "ERROR"). Small letters alone
    stay ("https" reads as random by its pairs), and so do the parts of a
    host or file name.
    """
    if len(run) < _NEAR_PIECE_MIN or run.isdigit() or _NAME_NUMBER.fullmatch(run):
        return False
    if hex_like(run):
        return False  # an id or a digest, as everywhere
    if run.isalpha() and run.isupper():
        if len(run) < _NEAR_WORD_MIN:
            return False  # "SKIP", "HTTP"
        lowered = run.lower()
        pairs = [lowered[i : i + 2] for i in range(len(lowered) - 1)]
        uncommon = sum(pair not in COMMON_PAIRS for pair in pairs)
        return uncommon > _CAPITALS_WORD * len(pairs)
    if run.isalpha() and (run.islower() or run.istitle()):
        return False  # "https", "works": small letters read as random too often
    # Letters with digits, or both cases: random, and not a name with a word
    # of four letters or more ("InvalidHeaderDefect", "single3prog", "apiKey").
    if KEY_NAME.fullmatch(run) is not None or any(
        len(part) >= _NEAR_PIECE_MIN and not part.isupper() and reads_as_word(part)
        for part in _NAME_PART.findall(run)
    ):
        return False  # a name: "HTTPPasswordMgr", "single3prog"
    return randomness(run) >= _NEAR_RANDOM


def _apply(line: str, spans: list[Span]) -> str:
    pieces = []
    last = 0
    for start, end in spans:
        pieces += [line[last:start], REDACTION_MARKER]
        last = end
    pieces.append(line[last:])
    return "".join(pieces)


def _ends_line(line: str, end: int) -> bool:
    return not line[end:].strip(TRAILING)


class Redactor:
    """Replaces secrets in OCR lines with `REDACTION_MARKER`."""

    def __init__(self, *, emails: bool = False) -> None:
        self._emails = emails

    def redact(self, text: str) -> tuple[str, int]:
        """`redact_lines` for one block of text split on newlines."""
        lines, count = self.redact_lines(text.split("\n"))
        return "\n".join(lines), count

    def redact_lines(
        self, lines: Sequence[str], boxes: Sequence[Box] | None = None
    ) -> tuple[list[str], int]:
        """The same lines, in order, with secrets replaced; and how many were replaced.

        `boxes`, one (x, y, width, height) per line, lets pieces of one row be
        read together and wrapped lines be told from the next paragraph.
        A PEM private key counts once however many lines it covers. The
        result is redacted again until nothing changes, so that redacting it
        once more finds nothing (a piece left beside a marker can look random
        once what was before it is gone).
        """
        current = list(lines)
        total = 0
        for _ in range(_ROUNDS):
            redacted, count = self._redact_once(current, boxes)
            if redacted == current:
                break
            current, total = redacted, total + count
        return current, total

    def _redact_once(self, lines: list[str], boxes: Sequence[Box] | None) -> tuple[list[str], int]:
        rows = _rows(len(lines), boxes)
        # Symbols OCR put inside tokens read as letters: the rules see one token.
        texts = [fold_symbols(_JOIN.join(lines[i] for i in row)) for row in rows]
        whole, total = self._private_keys(texts)
        found = [
            LineSecrets([], False) if whole[r] else line_spans(text, emails=self._emails)
            for r, text in enumerate(texts)
        ]
        spans = [f.spans for f in found]
        for r in range(len(rows) - 1):
            if whole[r] or whole[r + 1]:
                continue
            if self._may_cross(texts, found, spans, r):
                below, wrapped = _next_row(rows, texts, r, boxes)
                if below:
                    fragment = _fragment_below(rows, texts, r, boxes)
                    self._across(texts, found, spans, r, wrapped=wrapped, fragment=fragment)
        for r in range(len(rows) - 1):
            if not whole[r] and _typed_secret_command(texts[r]):
                self._command_output(rows, texts, whole, spans, r, boxes)
        for r, text in enumerate(texts):
            if not whole[r] and not spans[r] and _broken_key_row(text):
                spans[r] = [(0, len(text))]
        for r in range(len(rows) - 1):
            if whole[r] or whole[r + 1] or spans[r] or spans[r + 1]:
                continue
            if _stacked_pieces(texts[r], texts[r + 1]) and _next_row(rows, texts, r, boxes)[0]:
                spans[r] = [(0, len(texts[r]))]
                spans[r + 1] = [(0, len(texts[r + 1]))]
        for r in range(len(rows) - 1):
            if whole[r + 1] or spans[r + 1]:
                continue
            if _ENV_NAME.search(texts[r]):
                _env_value(texts[r + 1], spans[r + 1])
            elif _card_label(texts[r]) and card_groups(texts[r + 1]):
                if _next_row(rows, texts, r, boxes)[0]:
                    spans[r + 1] = [(0, len(texts[r + 1]))]
            elif bank_label(texts[r]) and _next_row(rows, texts, r, boxes)[0]:
                # An IBAN below its label, a group lost or misread ("SOE]").
                spans[r + 1] = list(iban_spans(texts[r + 1], labelled=True))
            elif (_SECRET_NOUN.search(texts[r]) and _revealed(texts[r + 1])) or (
                any(_SECRET_NOUN.search(texts[k]) for k in range(max(0, r - 1), r + 1))
                and _key_groups(texts[r + 1])
            ):
                below, _wrapped = _next_row(rows, texts, r, boxes)
                if below:
                    spans[r + 1] = [(0, len(texts[r + 1]))]
        _near_secrets(texts, whole, spans)
        spans = [
            _whole_words(text, row_spans) for text, row_spans in zip(texts, spans, strict=True)
        ]
        spans = [
            _between_spans(text, _whole_markers(text, row_spans))
            for text, row_spans in zip(texts, spans, strict=True)
        ]
        total += sum(len(s) for s in spans)
        out = list(lines)
        for r, row in enumerate(rows):
            offset = 0
            for index in row:
                line = lines[index]
                if whole[r]:
                    out[index] = REDACTION_MARKER
                else:
                    end = offset + len(line)
                    mine = [
                        (max(a, offset) - offset, min(b, end) - offset)
                        for a, b in spans[r]
                        if a < end and b > offset
                    ]
                    out[index] = _apply(line, mine) if mine else line
                offset += len(line) + len(_JOIN)
        return out, total

    @staticmethod
    def _command_output(
        rows: list[list[int]],
        texts: list[str],
        whole: list[bool],
        spans: list[list[Span]],
        r: int,
        boxes: Sequence[Box] | None,
    ) -> None:
        """The rows a secret-printing command on row `r` printed, however OCR read them.

        Its output is the secret: a row right below, of at most three words
        (OCR may cut a key into a few, or read it as words: "nhTS jogof"),
        or of more when none of them reads as a word (`key_pieces`: "pOKW3
        ZV t f pMTKMDhN+OKVkY ZORHT 9Zww8 c="), and the one or two more a
        long key wraps onto, up to the next prompt.
        """
        for k in range(r + 1, min(len(rows), r + 1 + _OUTPUT_ROWS)):
            text = texts[k]
            below, wrapped = _next_row(rows, texts, k - 1, boxes)
            if whole[k] or not below or _PROMPT.search(text):
                return
            if sum(c.isalnum() for c in text) < _OUTPUT_MIN:
                return  # a closing quote, a blank
            if _OUTPUT_CODE.search(text) or (
                len(text.split()) > _OUTPUT_WORDS and not key_pieces(text)
            ):
                return  # the next command's output, or code around an example
            if k > r + 1 and not (wrapped and _WRAPS.fullmatch(texts[k - 1].strip())):
                return  # a second row only when the first ran to the edge
            start = len(text) - len(text.lstrip())
            spans[k] = merge([*spans[k], (start, len(text.rstrip()))])

    @staticmethod
    def _private_keys(texts: list[str]) -> tuple[list[bool], int]:
        """Which rows belong to a PEM private key, and how many keys there are."""
        whole = [False] * len(texts)
        keys = 0
        in_key = False
        for r, text in enumerate(texts):
            if in_key:
                whole[r] = True
                in_key = not _pem_ends(text)
                continue
            begin = _pem_begin(text) or (
                r + 1 < len(texts)
                and _ARMOUR_WORD.fullmatch(text) is not None
                and _KEY_BODY_START.match(texts[r + 1]) is not None
            )
            if begin:
                # Every row up to END goes, and without an END (the key runs
                # off the screen) everything after it: the body alone is the key.
                whole[r] = True
                in_key = not _pem_ends(text, begin.end() if isinstance(begin, re.Match) else 0)
                keys += 1
        return whole, keys

    @staticmethod
    def _may_cross(
        texts: list[str], found: list[LineSecrets], spans: list[list[Span]], r: int
    ) -> bool:
        """Whether anything can cross from row `r` to the next: the common case is no."""
        if spans[r] or spans[r + 1] or found[r].dangling or _label_only(texts[r]):
            return True
        end_word = texts[r].rstrip(TRAILING).rsplit(None, 1)[-1:]
        return bool(end_word) and token_like(end_word[0])

    @staticmethod
    def _across(
        texts: list[str],
        found: list[LineSecrets],
        spans: list[list[Span]],
        r: int,
        *,
        wrapped: bool,
        fragment: bool = False,
    ) -> None:
        """A secret of row `r` running on into row `r + 1`, or one of row `r + 1` begun on `r`.

        `fragment`: row `r + 1` is a piece of a row OCR read only in part
        (`_fragment_below`); below a secret that ran off row `r`, it is read
        as that secret's wrapped rest, as a row below the edge would be.
        """
        upper, lower = texts[r], texts[r + 1]
        label_above = found[r].dangling or _label_only(upper)
        if not (label_above or wrapped or fragment or found[r].cut):
            return
        words = list(_WORDS.finditer(lower))
        if not words:
            return
        first = TOKEN_RUN.search(lower, words[0].start())
        if first is None:
            return
        runs = TOKEN_RUN.findall(upper)
        last = runs[-1] if runs and upper.rstrip(TRAILING).endswith(runs[-1]) else ""
        tail = len(upper.rstrip(TRAILING)) - len(last)
        untouched = not spans[r] or spans[r][-1][1] <= tail
        # Ran off the edge: nothing after the secret, not even a closing quote.
        # Only a secret found on the row itself: a wrapped tail found here
        # must not make the row below a tail too.
        own = found[r].spans
        ran_off = (
            bool(own)
            and _OCR_DEBRIS.fullmatch(upper[own[-1][1] :]) is not None
            and not _string_closed(upper, own[-1])
        )
        runs_on = ran_off and (wrapped or fragment)
        # A string closed at the row's end is whole: not a key's start ('"shop-prod-41822",').
        closed = any(c in OPENERS for c in upper[tail + len(last) :])
        if spans[r + 1] and spans[r + 1][0][0] <= first.start():
            if wrapped and untouched and not closed and len(last) >= 4 and token_like(last):
                # The row below starts with a secret: this row's tail is its start.
                spans[r] = merge([*spans[r], (tail, tail + len(last))])
            if not runs_on:
                return
        end = None
        if runs_on:
            # A wrapped key, password or header: its non-word start goes.
            end = _continued(words)
        elif (
            label_above
            and len(words) == 1
            and REDACTION_MARKER not in words[0].group()
            and not words[0].group().endswith(":")  # the next key of a YAML map
            and is_secret_value(words[0].group(), "password")
        ):
            core = _NOT_ALNUM.sub("", words[0].group())
            # A token's digits ("-290387977375" below "access_toke") or a key's piece.
            if found[r].dangling or token_like(core) or len(core) >= _DIGITS_VALUE:
                end = words[0].start() + len(words[0].group().rstrip(TRAILING))
        elif (
            found[r].cut
            and len(words) == 1
            and REDACTION_MARKER not in lower
            and token_like(words[0].group())
            and _CUT_REST.fullmatch(words[0].group().rstrip(TRAILING)) is not None
        ):
            # "ANTHROPIC_API_KEY=sk- ant" | "8001mNOFGSCAA": the value's rest.
            end = words[0].start() + len(words[0].group().rstrip(TRAILING))
        elif (
            label_above
            and 1 < len(words) <= _LABEL_VALUE_PIECES
            and REDACTION_MARKER not in lower
            and key_pieces(lower)
            and token_like(_NOT_ALNUM.sub("", lower))
        ):
            # The value in pieces ("-4397007009081 -0376f90164aee9bcel4fa88…",).
            end = len(lower.rstrip(TRAILING))
        elif found[r].dangling:
            # "Authorization: Bearer" | "fhFYUm3t -917'": the value's non-word start.
            end = _continued(words)
        elif (
            wrapped
            and untouched
            and token_like(last)
            and token_like(first.group())
            and looks_random(f"{last} {first.group()}")
        ):
            # Two halves, each too short to judge alone.
            spans[r] = merge([*spans[r], (tail, tail + len(last))])
            end = extend_token(lower, first.end())
        if end is not None and end > words[0].start():
            spans[r + 1] = merge([*spans[r + 1], (words[0].start(), end)])
