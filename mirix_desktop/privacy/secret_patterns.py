"""What a secret looks like once OCR has read it: shapes, check digits, randomness.

`redaction.py` decides where secrets are on a screen; this module answers the
questions it asks about one piece of text:

- `TOKENS`: credentials with a known prefix (OpenAI, Anthropic, GitHub,
  GitLab, Slack, Stripe, Google, AWS, npm, Hugging Face, SendGrid, PyPI,
  JWTs, base64 DER and OpenSSH key bodies). OCR bends the prefixes, so they
  are written loosely: a space or a dash of another kind where a `-` or `_`
  was typed (`sk-proj -Zq8v`, `sk—proj—`), `l`/`1`/`I` and `O`/`0` swapped
  (`AKlA`, `Alza`). The body that follows is whatever run of token
  characters is there; the caller extends it over OCR's word breaks
  (`extend_token`).
- `looks_random`: a long run that reads like random characters and not like
  words, code or a path (see its docstring for the rule and its thresholds).
- `iban_at`, `card_spans`: numbers with a check (ISO 13616 mod 97, Luhn) and
  an issuer's shape, read through the digits OCR confuses with letters.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

# -- OCR confusions ----------------------------------------------------------------

# Letters tesseract reads for digits (and back) in the DejaVu, Ubuntu and
# Segoe faces a screen shows. Used where only digits can stand: card numbers,
# an IBAN's check digits. Same length, so offsets stay valid.
AS_DIGITS = str.maketrans("OoQDIl|!SsBZzGgq", "0000111155822699")

# -- tokens with a known shape -----------------------------------------------------

# A typed `-` or `_` as OCR returns it: another dash, a tilde, a space, or a
# dash with spaces around it.
_D = r"(?:[ ]?[-—–_~][ ]?|[ ])"
_I = r"[Il1|]"
_O = r"[O0o]"

TOKENS = re.compile(
    r"(?P<slack_webhook>(?:https?[ ]?:[ ]?/[ ]?/[ ]?)?hooks[ ]?\.[ ]?slack[ ]?\.[ ]?com[ ]?/[ ]?"
    r"(?:services|workflows|triggers)[ ]?/?[ ]?[\w/-]+)"
    rf"|(?P<aws_key_id>(?<![A-Za-z0-9])A(?:K{_I}A|S{_I}A|GPA|{_I}DA|R{_O}A|NPA|NVA|PKA)"
    r"[A-Z0-9]{16}(?![A-Za-z0-9]))"
    rf"|(?P<github>(?<![A-Za-z0-9])(?:gh[pousr][ ]?_[ ]?|gh[pousr](?=[A-Za-z0-9]{{30}})"
    rf"|github{_D}pat{_D})[A-Za-z0-9_]{{3,}})"
    rf"|(?P<gitlab>(?<![A-Za-z0-9])gl(?:pat|dt|ptt|rt){_D}[A-Za-z0-9_-]{{12,}})"
    rf"|(?P<stripe>(?<![A-Za-z0-9])(?:[sr]k|whsec){_D}(?:(?:live|test|[l1I]ive){_D})?"
    r"[A-Za-z0-9]{8,})"
    # The body may be one letter before OCR's next word break ("sk- svcacct -y fx5s…").
    rf"|(?P<openai>(?<![A-Za-z0-9])sk{_D}(?:(?:proj|svc[ ]?acct|admin|ant{_D}(?:api|admin)\d\d)"
    rf"{_D}[A-Za-z0-9_-]+|[A-Za-z0-9_-]{{6,}}))"
    rf"|(?P<slack>(?<![A-Za-z0-9])x{_O}x[abprse]{_D}[A-Za-z0-9-]{{8,}})"
    rf"|(?P<google>(?<![A-Za-z0-9])A{_I}[zZ2]a[A-Za-z0-9_-]{{20,}})"
    r"|(?P<npm>(?<![A-Za-z0-9])npm_[A-Za-z0-9]{20,})"
    r"|(?P<huggingface>(?<![A-Za-z0-9])hf_[A-Za-z]{20,})"
    r"|(?P<sendgrid>(?<![A-Za-z0-9])SG\.[\w-]{16,}\.[\w-]{16,})"
    r"|(?P<pypi>(?<![A-Za-z0-9])pypi-AgE[A-Za-z0-9_-]{20,})"
    r"|(?P<jwt>(?<![A-Za-z0-9])(?:ey[JjI][A-Za-z0-9_-]{8,}|ey[JjI][A-Za-z0-9_-]{4,7}(?![A-Za-z0-9_-]))"
    r"(?:[ ]?[.,][ ]?[A-Za-z0-9_-]{4,}){0,2})"
    # Base64 of DER (a PEM body's first line: "MIIEpAIBAAKCAQEA...") and of an
    # OpenSSH key ("openssh-key-v1"), when the armour above was not read.
    r"|(?P<der>(?<![A-Za-z0-9+/])(?:M[I1l]{2}[A-Za-z0-9+/]{12,}|b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/]*)"
    r"={0,2})"
    # A Slack token that lost its "xoxp-": its numeric groups and hex tail.
    # Its first group may be cut short ("11402-181320934535-8965344749922-18af…"),
    # or a piece of the prefix kept ("xp-41063275646-…").
    r"|(?P<slack_tail>(?:(?<![\w-])-?|(?<=[A-Za-z])-|(?<=[A-Za-z]-))[ ]?(?:\d{1,8}[ ]?-[ ]?)?"
    r"\d{9,13}[ ]?-[ ]?\d{9,13}[ ]?-[ ]?"
    r"(?:\d{9,13}[ ]?-[ ]?)?"
    r"(?:[ ]?[0-9A-Za-z]{6,}|$))"
    # A Slack user token that lost all but its last numeric group and hex tail.
    r"|(?P<slack_hex>(?<![\w-])-[ ]?\d{12,13}[ ]?-[ ]?[0-9a-f]{4,}(?:[ ][0-9a-f]{4,}){0,3})"
)


# Where a `TOKENS` match can start: each kind's first characters. Scanning
# for these and matching `TOKENS` only there is ten times faster than
# `TOKENS.finditer` on a line with no token (most lines).
TOKEN_STARTS = re.compile(
    rf"h(?:ttps?|ooks)|A[KS]{_I}A|A(?:GPA|{_I}DA|R{_O}A|NPA|NVA|PKA)|gh[pousr]|github"
    rf"|gl(?:pat|dt|ptt|rt)|[sr]k|whsec|x{_O}x|A{_I}[zZ2]a|npm_|hf_|SG\.|pypi-|ey[JjI]"
    rf"|M[Il1]{{2}}|b3Bl|-[ ]?\d{{9}}|\d{{9}}|\d{{1,8}}(?=[ ]?-[ ]?\d{{9}})"
)


# Symbols OCR reads in place of a capital inside a group of capitals: brackets
# for an I or a J ("H]YQO", "3EQ4}"), the euro sign for an E ("3€Q4").
GROUP_MISREADS = str.maketrans("]|[!}{)(€", "IIIIIIIIE")


def has_mixed_case(token: str) -> bool:
    return any(c.isupper() for c in token) and any(c.islower() for c in token)


# A known prefix with its body wrapped onto the next line (or lost by OCR),
# perhaps with the first one to three characters of the body, fewer than
# `TOKENS` needs ("github_pat_11"): not small letters alone ("hf_hub").
PREFIX_AT_END = re.compile(
    rf"(?<![A-Za-z0-9])(?:sk{_D}(?:proj|svcacct|admin|ant{_D}(?:api|admin)\d\d)|github{_D}pat"
    rf"|gh[pousr]_|x{_O}x[abprse]|[sr]k{_D}(?:live|test)|A{_I}za|eyJ|glpat|npm_|hf_|whsec)"
    r"(?:[-—–_ ]*(?![a-z]{1,3}[ ]*$)[A-Za-z0-9]{1,3})?[-—–_ ]*$"
)


_OPENAI_PREFIX = re.compile(rf"sk{_D}(?:proj|svc[ ]?acct|ant{_D}(?:api|admin)\d\d){_D}")


def token_ok(kind: str, token: str) -> bool:
    """Whether a `TOKENS` match of `kind` is a credential, not a word that starts alike."""
    if kind in ("openai", "stripe", "gitlab"):
        # "sk-" and "rk_" also start slugs ("sk-hynix-earnings-2024",
        # "sk-Hynix-Memory"); keys are random: both cases, and a digit or a
        # capital inside a run of letters.
        if _OPENAI_PREFIX.match(token):
            return True  # "sk-ant-api03-", "sk-proj-": unmistakable, however little OCR kept
        body = token[2:]
        return has_mixed_case(body) and token_like(body)
    if kind == "github":
        # "ghp_" is unmistakable, even before the few characters OCR kept;
        # without its "_" only a long random run counts.
        if re.match(r"gh[pousr] ?_|github", token):
            return True
        return sum(c.isalnum() for c in token) >= 24 and any(c.isdigit() for c in token)
    if kind in ("google", "jwt"):
        return looks_random(token, min_length=16) or has_mixed_case(token[4:])
    if kind == "der":
        return has_mixed_case(token)
    if kind == "slack_hex":
        # The 32 hex digits after the last group, as many as OCR kept.
        return sum(c in "0123456789abcdef" for c in token.rsplit("-", 1)[1]) >= 24
    return True


# A run of characters a token is made of; "=" only as base64 padding.
TOKEN_RUN = re.compile(r"[A-Za-z0-9+/_~.-]+=*")


_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_CASE_CHANGE = re.compile(r"[a-z][A-Z]")


def token_like(fragment: str) -> bool:
    """A piece that could be part of a key: letters with digits, or a case change inside."""
    if _DIGIT.search(fragment) is not None and _LETTER.search(fragment) is not None:
        return True
    return _CASE_CHANGE.search(fragment) is not None


# OCR splits a key into a handful of word boxes; more pieces are other words.
_PIECES_MAX = 10


def _next_piece(line: str, end: int) -> re.Match[str] | None:
    """The run of token characters one or two spaces after `end`, if there is one."""
    gap = end
    while gap < len(line) and gap - end < 2 and line[gap] == " ":
        gap += 1
    if gap == end or gap >= len(line):
        return None
    return TOKEN_RUN.match(line, gap)


def _carries_on(piece: str) -> bool:
    return token_like(piece) or (piece[0] in "-_" and len(piece) > 2)


def extend_token(line: str, end: int) -> int:
    """The end of a token that OCR may have split at `end` into more word boxes.

    Each following piece, one or two spaces on, belongs to the token while it
    could be part of one (`token_like`) or starts with a dash or underscore
    (`sk-proj -Zq8v`); one or two pieces of one to three characters that OCR
    cut off between two parts go too when a piece that carries on follows
    them ("…-4959113219638 - bf f2d35217c696…").
    """
    for _ in range(_PIECES_MAX):
        run = _next_piece(line, end)
        if run is None:
            return end
        if not _carries_on(run.group()):
            shorts = [run]
            while len(shorts) <= 2 and len(shorts[-1].group()) <= 3:
                after = _next_piece(line, shorts[-1].end())
                if after is None or _carries_on(after.group()):
                    break
                shorts.append(after)
            after = _next_piece(line, shorts[-1].end())
            if len(shorts[-1].group()) > 3 or after is None or not _carries_on(after.group()):
                return end
            run = shorts[-1]
        end = run.end()
    return end


_TOKEN_RUN_BEFORE = re.compile(r"[A-Za-z0-9+/_~.-]+=*$")


def extend_token_back(line: str, start: int) -> int:
    """The start of a token that OCR may have split before `start`: `extend_token` leftwards.

    Each earlier piece, one or two spaces before, belongs to the token while
    it could be part of one (`token_like`).
    """
    for _ in range(_PIECES_MAX):
        gap = start
        while gap > 0 and start - gap < 2 and line[gap - 1] == " ":
            gap -= 1
        if gap == start or gap == 0:
            return start
        run = _TOKEN_RUN_BEFORE.search(line, 0, gap)
        if run is None or not token_like(run.group()):
            return start
        start = run.start()
    return start


# Every OpenAI key (legacy, project, service account) carries "T3BlbkFJ", base64
# of "OpenAI", in its middle: it marks the key when OCR lost the "sk-" and
# most of the rest ("client = BIbkF] GHt45rs95"). As OCR reads it: "l" as
# "I", "1" or "|", the "J" as a bracket, its "T3" lost.
OPENAI_MARK = re.compile(r"(?:T?3)?B[lI1|]bkF[J\]|)1l]?")

# -- randomness ------------------------------------------------------------------------

# The 177 letter pairs that make 90% of the pairs inside words and identifier
# parts of Python's standard library (code, comments and docstrings), plus
# "ey". A random string's pairs are mostly outside this set (about 74% of the
# 676 pairs are), an English word's or an identifier's mostly inside.
COMMON_PAIRS = frozenset(
    re.findall(
        "..",
        "abacadagaialamanaparasatbabebjblbobubycacechcickclcocrctcudadedidodueaecedeeefelem"
        "eneperesetevexeyfafffifofrfugegigshahehihoibicidieifigiliminioipirisitkelaldlelflill"
        "lolsltlulymamemimompnancndnengninonsntnuobocodofolomonoooporosotouowpapepiplpoppprpt"
        "qurarcrergrirmrnrorrrsrtrurysascseshsismsospssstsusytatethtitotrtstttutyueulumunupur"
        "usutvavewawhwixcxtypyt",
    )
)
# Words and numbers inside an identifier: "getElementsByTagName", "HTTPServer", "x509".
_SEGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")
# Hashes, ids and addresses: digests, git SHAs, UUIDs, 0x7ffd5e3c.
_HEX = re.compile(r"(?:0x)?[0-9a-fA-F]+")
# Read back to hex where OCR swapped a digit for a letter (a SHA's 0 read as O).
_HEX_BACK = str.maketrans("OoIlSBg", "0011589")

RANDOM_MIN_LENGTH = 16
RANDOM_SCORE = 0.75


def hex_like(text: str) -> bool:
    mapped = text.translate(_HEX_BACK)
    if not _HEX.fullmatch(mapped):
        return False
    letters = [c for c in mapped[2:] if c.isalpha()] if mapped.startswith("0x") else mapped
    upper = sum(c.isupper() for c in letters)
    lower = sum(c.islower() for c in letters)
    return min(upper, lower) <= 2  # one case, bar a letter or two OCR got wrong


def randomness(core: str) -> float:
    """Segments per character plus the share of uncommon letter pairs.

    Random base62 scores about 1.1 on average, identifiers and words 0.2-0.5:
    "getElementsByTagName" 0.2 + 0.0, "x86_64-linux-gnu" 0.45 + 0.0.
    """
    segments = _SEGMENT.findall(core)
    pairs = uncommon = 0
    for segment in segments:
        if segment[0].isdigit():
            continue
        lowered = segment.lower()
        for index in range(len(lowered) - 1):
            pairs += 1
            uncommon += lowered[index : index + 2] not in COMMON_PAIRS
    return len(segments) / max(1, len(core)) + (uncommon / pairs if pairs else 0.6)


def looks_random(token: str, min_length: int = RANDOM_MIN_LENGTH) -> bool:
    """Whether `token` reads as random characters: a key, a password, a signature.

    The rule, from the run's letters and digits (its "core"):
    - at least `min_length` of them (16), at least 40% letters, and at least a
      third of them distinct (not "vvvvvvvv", not a timestamp);
    - not hexadecimal in one case: git SHAs, digests, UUIDs and addresses are
      ids that screens show all day (`git log`, `docker ps`, stack traces);
      a hex secret is caught by its label instead (`api_key=`);
    - at most 12% separators (- _ . / + ~), so versions, paths, URLs and
      package names ("libgtk-x11-2.0.so.0.2400.33") stay; and one piece
      between separators or spaces, not hexadecimal, of 10 or more, so a
      pod or container name ("web-7d4b9c8f6-x2kqz") and a row of a table
      ("nvme0n1p2 468G 211G") stay too (`token` may hold the single spaces
      of pieces OCR split apart);
    - not an alphabet ("abcdefghijklmnopqrS": half its neighbours consecutive);
    - `randomness` of at least 0.75.
    Tuned on the runs of 1,500 standard-library modules and of `ls -l`,
    `dpkg -l`, `git log --stat`, `pip list` and `ps aux` output: 1 of their
    13,761 runs of 16+ characters passes (a random id in a test). Of random
    strings of 20-64 characters, base62 pass 100% of the time, base64 and
    base64url 99%, lower- or uppercase letters with digits 99%, lowercase
    letters alone 56% (no key is that).
    """
    core = _NOT_ALNUM.sub("", token)
    length = len(core)
    if length < min_length or hex_like(core):
        return False
    if sum(c.isalpha() for c in core) < 0.4 * length or len(set(core)) < length / 3:
        return False
    # "+" is base64's, not a path's or a version's: it separates nothing.
    unspaced = len(token) - token.count(" ") - token.count("+")
    if unspaced - length > 0.12 * unspaced:
        return False
    pieces = [p for p in _base64_pieces(token) if len(p) >= 10 and not hex_like(p)]
    if not pieces:
        return False
    steps = sum(ord(b) - ord(a) == 1 for a, b in itertools.pairwise(core))
    if 2 * steps >= length:
        return False
    return randomness(core) >= RANDOM_SCORE


_WORD_INSIDE = re.compile(r"[a-z]{5}")
_SMALL_RUN = re.compile(r"[a-z]{5,}")


def word_inside(core: str) -> bool:
    """Whether `core` holds a run of five or more small letters that reads as a word.

    Judged by its letter pairs (`COMMON_PAIRS`): a word's are mostly common,
    a random run's mostly not ("kljnj" in "16kljnjFBQDxAA" has none). A run
    with three quarters or more of its pairs uncommon is not a word. Of the
    78,815 distinct runs of five or more small letters in the standard library
    and the terminal output below, 2.7% are taken for random ones ("hfftn",
    "wonky"); of random runs of 5-8 letters, 56% are. For rows judged alone,
    where a key's tail is more often cut off than a word is.
    """
    for run in _SMALL_RUN.findall(core):
        pairs = len(run) - 1
        uncommon = sum(run[i : i + 2] not in COMMON_PAIRS for i in range(pairs))
        if 4 * uncommon < 3 * pairs:
            return True
    return False


# A row of a key's pieces: its characters, one piece after another, and the
# punctuation OCR sets at a piece's ends (quotes, brackets, commas).
_PIECE_EDGES = "\"'`()[]{}<>,;:.|—–"
# "=" only as base64's padding; a dot inside (OCR's for "+" or "/": "9Zww8.c=")
# but not between two names ("winreg.EnumValue" is code).
_KEY_PIECE = re.compile(r"[A-Za-z0-9+/_.~-]+=*")
_DOTTED_NAME = re.compile(r"[A-Za-z_]{3}\.[A-Za-z_]{3}")
_KEY_PIECES_MAX = 12


def reads_as_word(core: str) -> bool:
    """Letters that read as a word: five or more (`word_inside`), or four in one
    case or capitalised whose pairs are all common ("Done", "that")."""
    if not core.isalpha() or not (core.islower() or core.istitle() or core.isupper()):
        return False  # "AtVKOd": mixed case is a key's, not a word's
    if len(core) >= 5:
        return word_inside(core.lower())
    lowered = core.lower()
    return len(core) == 4 and all(lowered[i : i + 2] in COMMON_PAIRS for i in range(3))


def key_piece(word: str) -> bool:
    """Whether a word (its edges stripped) is made of a key's characters, not a dotted name."""
    return _KEY_PIECE.fullmatch(word) is not None and _DOTTED_NAME.search(word) is None


def key_pieces(text: str) -> bool:
    """Whether a row is pieces of one key that OCR cut at many places: at most
    twelve, each made of a key's characters (a dot or a quote OCR set at its
    ends aside), none reading as a word."""
    words = [w.strip(_PIECE_EDGES) for w in text.split()]
    words = [w for w in words if w]
    if not words or len(words) > _KEY_PIECES_MAX:
        return False
    if not all(key_piece(w) for w in words):
        return False
    return not any(reads_as_word(_NOT_ALNUM.sub("", w)) for w in words)


# A key's piece is judged from this many letters and digits.
_FRAGMENT_MIN = 8


def key_fragment(word: str, least: int = _FRAGMENT_MIN) -> bool:
    """Whether a word in a key's place reads as a piece of one.

    A piece of a key that OCR split off, where the row says a key ends (a
    string's closing quote), needs less to be judged random than anywhere
    else: `least` (8) letters and digits or more (dashes and underscores
    inside), both cases or
    letters with digits, not hexadecimal in one case, no run of five small
    letters that reads as a word (`word_inside`), randomness of at least 0.7.
    """
    core = word.strip(_PIECE_EDGES)
    if len(core) < least or not core.isascii() or "REDACTED" in core:
        return False
    if not all(c.isalnum() or c in "-_" for c in core):
        return False
    plain = core.replace("-", "").replace("_", "")
    if len(plain) < least or hex_like(plain):
        return False
    upper = any(c.isupper() for c in plain)
    lower = any(c.islower() for c in plain)
    digit = any(c.isdigit() for c in plain)
    if sum((upper, lower, digit)) < 2 or not (upper or lower) or word_inside(plain):
        return False
    return randomness(core) >= 0.7


_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+]+")
_NOT_BASE64URL = re.compile(r"[^A-Za-z0-9+_]+")


def _base64_pieces(token: str) -> Iterator[str]:
    """The pieces between separators and spaces; an "_" joins two parts that both
    have both cases, as base64url's does ("1FHIbR_VGWwFnD"), not an identifier's."""
    for piece in _NOT_BASE64URL.split(token):
        parts = piece.split("_")
        if len(parts) > 1 and all(has_mixed_case(p) for p in parts):
            yield piece.replace("_", "")
        else:
            yield from _NOT_BASE64.split(piece)


def looks_random_alone(word: str) -> bool:
    """A 10+ character piece of a key alone on its row (the tail of a wrapped key).

    Alone, a word can be judged more loosely than inside a sentence: letters
    and a digit, no word of five small letters, not hexadecimal, mostly letters
    and digits, one piece of 10+, randomness of at least 0.9 ("-2UW9AQNKCMNE"
    passes, "CVE-2024-3094" and "ubuntu2204" do not). A run of five small
    letters rules a word out only when it reads as a word (`word_inside`).
    Of the 84,781 words of 10+ characters in the files above, one passes
    that `looks_random` does not ("libXxf86vm.so.1"); 79% of random 10-15
    character base62 strings do. Judging five small letters by `word_inside`
    let 9 more of the 1.5 million distinct 10+ character words of the whole
    standard library (tests too) and that output pass, all but one of them
    base64 or byte strings of test data ("-mavx5124vnniw", a compiler flag).
    """
    core = _NOT_ALNUM.sub("", word)
    if len(core) < 10 or not core.isascii() or hex_like(core) or word_inside(core):
        return False
    if len(word) - len(core) > 0.15 * len(word) or sum(c.isalpha() for c in core) < len(core) / 2:
        return False  # code: regexes, escapes, format strings
    if not any(c.isdigit() for c in core) or max(map(len, _NOT_ALNUM.split(word))) < 10:
        return False  # PKCS5_PBKDF2_HMAC: a name made of short parts
    return randomness(core) >= 0.9


def looks_random_short(run: str) -> bool:
    """A 10-15 character piece of a key that OCR left alone (its prefix and rest dropped).

    Stricter than `looks_random`, as short words are many: letters and digits
    only, two capitals, two small letters and a digit, no run of five small
    letters (a word inside), not hexadecimal, randomness of at least 0.9.
    One of the 4,969 such runs of 1,500 standard-library modules and the
    terminal output above passes (a struct format, "L4s4sLHHLLHH4s"); 76% of
    random 10-15 character base62 strings do.
    """
    if not (10 <= len(run) <= 15 and run.isascii() and run.isalnum()):
        return False
    if sum(c.isupper() for c in run) < 2 or sum(c.islower() for c in run) < 2:
        return False
    if not any(c.isdigit() for c in run) or _WORD_INSIDE.search(run) or hex_like(run):
        return False
    return randomness(run) >= 0.9


# -- numbers with a check ----------------------------------------------------------

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
# Card words that make a 13-19 digit number a card even when OCR broke its check digit.
CARD_WORDS = re.compile(
    r"(?i)\b(?:card|visa|master\s?card|amex|american\s+express|discover|maestro|kreditkarte|"
    r"carte|tarjeta|cc\s?(?:num|no|#))"
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _is_card(digits: str, labelled: bool) -> bool:
    # One number in ten passes Luhn by chance, so the issuer's prefix and
    # length must fit too: that rules out millisecond timestamps, most order
    # numbers and placeholders ("0000 0000 0000 0000" passes Luhn).
    if _CARD_SHAPE.fullmatch(digits) is None:
        return False
    return labelled or luhn_ok(digits)


# Two or three groups of four that OCR read without their spaces.
_MERGED_GROUPS = (8, 12)


def _card_spans_in_run(run: str, labelled: bool) -> list[tuple[int, int]]:
    """Spans of card numbers inside one run of digit groups.

    A run can hold more than the card ("4111 1111 1111 1111 12 25" with the
    expiry OCR'd onto the same line), so whole groups are tried as windows,
    longest first. Grouped cards use groups of 3-6 digits (4-4-4-4, 4-6-5,
    4-4-4-4-3), and OCR may lose the spaces between two or three groups of
    four ("4302 101454210710"); with dashes, groups of 3-6 keep all-digit
    UUIDs (8-4-4-4-12) out.
    """
    groups = [(m.start(), m.end()) for m in _DIGITS.finditer(run)]
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(groups):
        found = None
        # No card has more than 19 digits, so no window has more than 19 groups.
        last = min(len(groups), start + 19) - 1
        while last > start and sum(b - a for a, b in groups[start : last + 1]) > 19:
            last -= 1
        for end in range(last, start - 1, -1):
            window = groups[start : end + 1]
            spaced = "-" not in run[window[0][0] : window[-1][1]]
            if len(window) > 1 and any(
                not (3 <= b - a <= 6 or (spaced and b - a in _MERGED_GROUPS)) for a, b in window
            ):
                continue
            digits = "".join(run[a:b] for a, b in window)
            if _is_card(digits, labelled):
                found = end
                break
        if found is None:
            start += 1
        else:
            spans.append((groups[start][0], groups[found][1]))
            start = found + 1
    return spans


# What OCR left of a card's groups of four once it lost a group: two or more
# groups, an issuer's first digit (2-6), the last group perhaps cut short.
_GROUP_GAP = r"(?:[ ]{1,2}|[ ]?-[ ]?)"
_CARD_GROUPS = re.compile(rf"[2-6]\d{{3}}(?:{_GROUP_GAP}\d{{4}})+(?:{_GROUP_GAP}\d{{1,3}})?")


_YEAR = re.compile(r"(?:19|20)\d\d")


def _not_years(groups: str) -> bool:
    """Not a row of years ("2023 2024 2025"): no card's groups are all years."""
    return not all(_YEAR.fullmatch(g) for g in re.findall(r"\d+", groups))


def card_groups(text: str) -> bool:
    """Whether `text` is only a card number's groups of four, fewer than a card
    has or without a valid check: for a row right below "Card number"."""
    match = _CARD_GROUPS.fullmatch(_as_digits_near_digits(text).strip())
    return match is not None and _not_years(match.group())


def card_spans(line: str) -> list[tuple[int, int]]:
    """Card numbers in `line`, read through letters OCR put for digits.

    On a line that names a card ("Card number", "Visa") the number only has to
    have an issuer's prefix and length: OCR that misread one digit must not
    let the other fifteen through; and groups of four that OCR cut short of a
    card's length go too.
    """
    digits_line = _as_digits_near_digits(line)
    labelled = CARD_WORDS.search(line) is not None
    spans = []
    for run in _DIGIT_RUN.finditer(digits_line):
        if labelled:
            spans += [
                (run.start() + m.start(), run.start() + m.end())
                for m in _CARD_GROUPS.finditer(run.group())
                if _not_years(m.group())
            ]
        if run.end() - run.start() < 13:
            continue
        for a, b in _card_spans_in_run(run.group(), labelled):
            spans.append((run.start() + a, run.start() + b))
    return spans


# A word of digits in which OCR may have read a digit or two as a letter ("4lll").
_DIGIT_WORD = re.compile(r"(?<![A-Za-z0-9])[0-9OoIlSB|]{3,}(?![A-Za-z0-9])")


def _as_digits_near_digits(line: str) -> str:
    """`line` with confusable letters read as digits inside words that are mostly digits."""
    if not any(c in "OoIlSB|" for c in line):
        return line

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        digits = sum(c.isdigit() for c in word)
        return word.translate(AS_DIGITS) if 2 * digits >= len(word) else word

    return _DIGIT_WORD.sub(fix, line)


# ISO 13616 IBAN lengths by country (the SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip

# A country code, two check digits (maybe read as letters), then the account
# in groups that OCR may space out further.
IBAN_START = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[ ]?[0-9OoQDIl|SsBZzGgq]{2}(?=(?:[ ]{0,2}[A-Za-z0-9|)(\][}{!]){9})"
)
# Beside a bank word, an account number may be this many characters short of
# its country's length: OCR drops a group's letters ("GB07 VJZJ 3961…" read as
# "GBO7 3961 5309 2351 13").
IBAN_LABELLED_SHORT = 6
IBAN_LABELLED_MIN = 14


def _mod97_ok(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    if not moved.isalnum() or not moved.isascii():
        return False
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


# What OCR reads for a letter it cannot place, inside a word.
_MISREAD = frozenset(")(][}{!")


def iban_at(line: str, start: int, *, labelled: bool) -> int | None:
    """The end of a valid IBAN starting at `start`, or None.

    Valid: the country's length, and mod 97 as read or with confusable
    letters read as digits (a German IBAN's `0` read as `O`). With an "IBAN"
    or bank word on the line (`labelled`), the length alone is enough, and a
    number up to `IBAN_LABELLED_SHORT` characters short (OCR lost a group)
    with eight digits or more goes too.
    """
    country = line[start : start + 2]
    length = IBAN_LENGTHS.get(country)
    if length is None:
        return None
    chars: list[str] = []
    position = start
    last = start  # the end of the last character taken
    spaces = 0
    while position < len(line) and len(chars) < length:
        char = line[position]
        if char == " ":
            spaces += 1
            if spaces > 2:
                break
        elif char.isalnum() or char == "|" or (char in _MISREAD and line[position - 1].isalnum()):
            # A letter OCR read as a bracket or "!" ("VJZ)") stays part of the number.
            spaces = 0
            chars.append(char)
            last = position + 1
        else:
            break
        position += 1
    if len(chars) < length and not (
        labelled and len(chars) >= max(IBAN_LABELLED_MIN, length - IBAN_LABELLED_SHORT)
    ):
        return None
    # The next character must not continue the number.
    if position < len(line) and line[position].isalnum():
        return None
    if len(chars) < length:
        # Short by a group OCR lost: with the bank word, its shape is enough.
        return last if sum(c.isdigit() for c in chars[2:]) >= 8 else None
    raw = "".join(chars)
    as_read = raw[:2] + raw[2:4].translate(AS_DIGITS) + raw[4:].upper()
    as_digits = raw[:2] + raw[2:].translate(AS_DIGITS).upper()
    if labelled or _mod97_ok(as_read) or _mod97_ok(as_digits):
        return position
    return None
