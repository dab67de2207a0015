"""Where the secrets are on one line of OCR text: spans to replace.

`line_spans` runs every rule on one line (a screen row, its pieces joined by
two spaces) and returns the character spans to redact, merged, and whether the
line ends with a label whose value must be on the next line. `redaction.py`
applies the spans and handles what crosses lines (wrapped secrets, PEM keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mirix_desktop.privacy.char_model import surprise
from mirix_desktop.privacy.secret_patterns import (
    CARD_WORDS,
    GROUP_MISREADS,
    IBAN_START,
    OPENAI_MARK,
    PREFIX_AT_END,
    RANDOM_MIN_LENGTH,
    TOKEN_RUN,
    TOKEN_STARTS,
    TOKENS,
    card_spans,
    extend_token,
    extend_token_back,
    has_mixed_case,
    hex_like,
    iban_at,
    key_fragment,
    key_pieces,
    looks_random,
    looks_random_alone,
    looks_random_short,
    randomness,
    reads_as_word,
    token_like,
    token_ok,
    word_inside,
)

Span = tuple[int, int]

# -- values behind a label ---------------------------------------------------------

# A secret-ish keyword ending a label, then ":" or "=". The label may be an
# identifier ("DB_PASSWORD", "client_secret", "aws_secret_access_key",
# camelCase "jwtSecret") but the keyword has to end it: "token_type_ids" or
# "max_tokens" name no secret. A bare "key" names one only at the end of a
# longer identifier ("STRIPE_KEY"), and then the value must look like one
# ("sort_key=len" is code).
# The same name with its capitals lost, as OCR often reads "jwtSecret"
# ("jwtsecret"): only on lines that have one (`_joined_label`), as trying it
# inside every word makes the search five times slower.
_JOINED = r"|(?<=[a-z0-9])(?P<joined>passw[o0]rd|passwd|passphrase|secret|t[o0]ken|apikey)"
_LABELLED_PATTERN = (
    r"(?:(?<![A-Za-z0-9])(?P<keyword>passw[o0]rd|passwd|passcode|passphrase|pwd|pin|secret"
    r"|t[o0]ken|api[ _.-]?key|apikey|iban|private[ _.-]?key|secret[ _.-]?key"
    r"|access[ _.-]?key(?:[ _.-]?id)?)"
    r"|(?<=[a-z0-9])(?-i:(?P<camel>Password|Passwd|Passphrase|Secret|Token|ApiKey|Key|Pwd))"
    "{joined}"
    r"|(?<=[A-Za-z0-9][_.-])(?P<weak>key|pass|auth|credentials?)"
    r"|(?<![A-Za-z0-9])(?P<weak_word>auth|credentials?))"
    r"(?:[_.-](?:access[_.-])?key|[_.-]value|[_.-]code)?"
    r"(?:[ \t]+(?:access|key|code|number|value|again|confirmation)(?![A-Za-z0-9]))*"
    r"(?:[ \t]*\[[^\]]{0,24}\])?"  # aws configure's "Secret Access Key [None]:"
    r"[ \t]*[\"'“”‘’`]?[ \t]*(?::=|=>|:(?!:)|=(?!=))[ \t]*"
)
_LABELLED = re.compile(_LABELLED_PATTERN.replace("{joined}", r"|(?P<joined>(?!))"), re.IGNORECASE)
_LABELLED_JOINED = re.compile(_LABELLED_PATTERN.replace("{joined}", _JOINED), re.IGNORECASE)
_JOINED_WORDS = (
    "password",
    "passw0rd",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "t0ken",
    "apikey",
)


def _joined_label(lowered: str) -> bool:
    """Whether a label keyword on the (lowercased) line follows a letter or digit."""
    for word in _JOINED_WORDS:
        index = lowered.find(word, 1)
        while index > 0:
            if lowered[index - 1].isalnum():
                return True
            index = lowered.find(word, index + 1)
    return False


# Every `_LABELLED` keyword contains one of these (lowercased): lines without skip it.
_LABEL_WORDS = (
    "pass",
    "pwd",
    "pin",
    "secret",
    "toke",  # "token", and as OCR may cut it
    "t0ke",
    "key",
    "iban",
    "auth",
    "credential",
)
# `--password VALUE`, `--api-key VALUE`: a flag and the next word.
_FLAG = re.compile(
    r"(?<![\w-])--?(?:password|passwd|pass|token|api-?key|secret|auth-token|access-token|"
    r"client-secret)(?:[ \t]+|=)(?=[^\s-])",
    re.IGNORECASE,
)
_FLAG_AT_END = re.compile(
    r"(?<![\w-])--?(?:password|passwd|token|api-?key|secret|auth-token|access-token|"
    r"client-secret)[ \t]*=?[ \t]*$",
    re.IGNORECASE,
)
# `export WORD` alone: OCR dropped the `NAME=` of `export NAME=KEY` and kept
# a piece of the key (an exported variable's name is a plain identifier).
_EXPORT = re.compile(r"(?<![\w-])export[ \t]+(?P<value>[^\s=]{6,})[ \t]*$")
_EXPORT_AT_END = re.compile(r"(?:[$#>%][ \t]*|^[ \t]*)export[ \t]*$")
_EXPORT_PIECES = re.compile(r"(?<![\w-])export[ \t]+(?P<value>[^=]*?\S)[ \t]*$")
# A variable's name as a shell takes it: `export PATH JAVA_HOME` exports two.
_SHELL_NAME = re.compile(r"[A-Z_][A-Z0-9_]*|[a-z_][a-z0-9_]*")
QUOTES = "\"'“”‘’`"
_CLOSING = {'"': '"”“', "“": '"”“', "”": '"”“', "'": "'’‘", "‘": "'’‘", "’": "'’‘", "`": "`"}
_WORD = re.compile(r"[^\s\"'`]+")
# Values after such a label that hold nothing secret. Screens show a lot of
# code, where `token=None`, `pwd = os.getcwd()` or `token: str | None = None`
# would otherwise wipe every line that mentions a token.
NOT_A_SECRET = re.compile(
    r"(?:\[REDACTED\]|[\s*•●·∙◦○])*"  # empty, masked in the UI, or already redacted
    r"|(?i:none|null|nil|true|false|undefined|required|optional)"
    # A call or subscript: getpass(), entry[1], os.environ["PW"], await getToken(s);
    r"|(?:(?:await|new|yield|typeof)\s+)?[A-Za-z_][\w.]*[(\[].*"
    r"|\w+(?:\.\w+)+\(.*"  # a method call whose first letter OCR read as a digit: 0s.Getenv(
    r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"  # a reference: self.token, args.password
    # A Rust parameter's type (&[u8], &str; OCR may read "[" as "{") or return type.
    r"|&(?:'\w+\s+)?(?:mut\s+)?[\w\[\]{}<>']+[,).].*|->.*"
    r"|\$\{?\w+\}?|\{\{?[\w. ]*\}?\}|%\w+%|<[\w .-]+>"  # placeholders, env variables
    r"|(?:str|bytes|int|bool|string|number|SecretStr|Optional|Union)\b.*"  # type annotations
    # Code after an empty string OCR read as one quote: `passwd=", acct="`
    # (not a key starting with a bracket: `SECRET_KEY = )g4@(y+cub“#o`).
    r"|[,;)\]}](?:[\s,;)\]}].*)?"
    r"|.*\s=\s.*"  # an annotation with a default: `token: TokenOpt = None`
)
_FIRST_WORD = re.compile(r"[A-Za-z_][\w.]*(?=$|[\s,;)\]}`'\"])")
_NOT_A_LITERAL = frozenset({"none", "null", "nil", "true", "false", "undefined"})


def is_secret_value(value: str, keyword: str, *, weak: bool = False) -> bool:
    """Whether the text behind a label holds a secret, not code or a placeholder."""
    bare = value.rstrip(",;)").strip(QUOTES)
    if not bare or NOT_A_SECRET.fullmatch(bare):
        return False
    if weak:
        # Behind "sort_key" or "auth" only something key-like is a secret.
        return " " not in bare and len(bare) >= 8 and (token_like(bare) or looks_random(bare))
    first = _FIRST_WORD.match(bare)
    if first is None:
        return True
    word = first.group()
    lowered = word.lower()
    if lowered in _NOT_A_LITERAL:
        return False
    # `token=token, timeout=timeout` or `api_token=self.api_token`: code passing
    # a variable along. A real password may contain the word ("password123"),
    # but not as an identifier with "_" or "." in it.
    keyword = keyword.lower()
    return not (lowered == keyword or (keyword in lowered and "_" in word))


def _value_span(line: str, start: int) -> Span:
    """The value that starts at `start`: to its closing quote, or to the end of the line."""
    rest = line[start:]
    if len(rest) > 1 and rest[0] in QUOTES and rest[1] in QUOTES and rest[0] != rest[1]:
        start, rest = start + 1, rest[1:]  # one quote read as two ("'‘"), not an empty string
    if rest and rest[0] in QUOTES:
        # A quoted value ends at its closing quote; later labels on the line
        # (JSON, query strings) still get their own turn. OCR may read a
        # straight quote as a curly one, but not as the other kind.
        closing = _CLOSING[rest[0]]
        close = next((i for i in range(1, len(rest)) if rest[i] in closing), len(rest))
        return start + 1, start + close
    return start, start + len(rest.rstrip())


def _labelled_spans(line: str) -> tuple[list[Span], bool]:
    """Secret values behind labels; and whether the line ends with a label and no value."""
    spans: list[Span] = []
    dangling = False
    position = 0
    labelled = _LABELLED_JOINED if _joined_label(line.lower()) else _LABELLED
    while match := labelled.search(line, position):
        keyword = (
            match["keyword"]
            or match["camel"]
            or match["joined"]
            or match["weak"]
            or match["weak_word"]
        )
        weak = (match["weak"] or match["weak_word"]) is not None or keyword.lower() == "key"
        start, end = _value_span(line, match.end())
        value = line[start:end]
        if not value.strip(QUOTES + " "):
            dangling = not line[end:].strip(QUOTES + " ,;{")
        elif match["joined"] is not None:
            # "jwtsecret" is a name, but "jsonwebtoken" and "ERRORTOKEN" are
            # too: only a key-like value counts (OCR may have split it).
            if is_secret_value(value.replace(" ", ""), keyword, weak=True):
                spans.append((start, end))
        elif is_secret_value(value, keyword, weak=weak):
            spans.append((start, end))
        position = max(end, match.end())
    for flag in _FLAG.finditer(line):
        word = _WORD.match(line, flag.end())
        # Prose says "--password to set it"; a value has a digit, a symbol or a
        # case change, and may be short when OCR kept only its start ("BKnG").
        if (
            word is not None
            and (
                (len(word.group()) >= 6 and not word.group().isalpha()) or token_like(word.group())
            )
            and is_secret_value(word.group(), "password")
        ):
            spans.append(word.span())
    # `--api-key` ending the row: its value wrapped onto the next one.
    dangling = dangling or _FLAG_AT_END.search(line) is not None
    return spans, dangling


def _export_spans(line: str) -> Iterator[Span]:
    export = _EXPORT.search(line)
    if export is not None and token_like(export["value"]):
        yield export.span("value")
        return
    # The key in pieces, `NAME=` lost ("export 1 OhNjEOw 9yS."): no word among
    # them, one of them a key's, and not the names `export` takes ("PATH JAVA_HOME").
    pieces = _EXPORT_PIECES.search(line)
    if pieces is None:
        return
    words = pieces["value"].split()
    if (
        len(words) > 1
        and key_pieces(pieces["value"])
        and any(token_like(w) for w in words)
        and not all(_SHELL_NAME.fullmatch(w) for w in words)
    ):
        yield pieces.span("value")


# A line that is only a label (a table's "access_token" column, a form's
# "Password" above its field): the value is the next line.
LABEL_ONLY = re.compile(
    r"[\"'`]?[\w.-]*(?i:passw[o0]rd|passwd|passphrase|secret|t[o0]ken|api[ _.-]?key)[\"'`]?"
    r"|[\"'`]?[\w.-]+_t[o0]ke?"  # cut by OCR: "access_toke"
)
# A key's name ending a row, its value wrapped onto the next ("set apiKey" |
# "YmoWwjhS-mTAA"): an identifier, not a word of prose ("the API key").
NAME_AT_END = re.compile(
    r"(?<![\w-])[A-Za-z0-9]*(?:[a-z0-9](?-i:Key|Token|Secret|Password)"
    r"|[_.-](?i:key|token|secret|password|passwd|pass))[\"']?[ \t]*$"
)

# -- other shapes ---------------------------------------------------------------

# scheme://user:PASSWORD@host, with the spaces and misread letters OCR puts in
# ("mysq]: //root: pw@", a space inside the password).
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z][^\s:/]{1,30}[ ]{0,2}:[ ]{0,2}/[ ]?/[ ]?"
    r"[^\s:/@]{0,64}[ ]?:[ ]?(?P<password>[^\s/@][^\s/]{0,127}?(?:[ ]{1,2}[^\s/@:]{1,64}?){0,3})"
    r"[ ]?[@©®](?=[\w\[])"
)
_AUTHORIZATION = re.compile(
    r"(?i)(?<![\w-])(?:proxy-)?authori[sz]ation[\"']?[ \t]*(?:[:=][ \t]*[\"']?[ \t]*"
    r"(?:(?:bearer|basic|token|digest|bot|apikey|sso-key|hmac|negotiate|ntlm)\b[ \t]*)?"
    r"|[ \t](?:bearer|basic|token)[ \t]+)"
)
_BEARER = re.compile(r"(?i)(?<![\w-])bearer[ \t]+(?=\S)")
# A header whose value OCR put on the next row ("Bearer ey" | "dTSSER…").
_AUTHORIZATION_AT_END = re.compile(
    r"(?i)(?:authori[sz]ation[\"']?[ \t]*[:=][ \t]*[\"']?[ \t]*(?:bearer|basic|token)?|bearer)"
    r"[ \t]*\S{0,7}$"
)
# A URL's query parameters that carry credentials, and a value whose name OCR
# dropped ("…googleapis jZ9ifzG3xmE&callback=initMap").
_QUERY_SECRET = re.compile(
    r"(?i)[?&;][ ]?(?:(?P<strong>key|api_?key|sig|signature|token|access_token|refresh_token"
    r"|id_token|client_secret|password|passwd|secret|x-amz-signature|x-amz-credential"
    r"|x-amz-security-token|awsaccesskeyid)|code|auth|session|sessionid|sid)[ ]?=[ ]?"
    r"(?P<value>[^&\s#\"'<>]{6,})"
)
_PLACEHOLDER = re.compile(r"\$\{?\w+\}?|<[\w .-]+>|\{\{[\w. ]*\}\}|\.{3}|\*+|x+|X+")
# AWS secret access keys are 40 base64 characters with no prefix; on a line
# that says "secret" they go even when a hash-like look spares them elsewhere.
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# Recovery and licence keys: groups of capitals and digits joined by dashes.
# A group may hold a glyph OCR could not place ("CU5)1" for "CU5J1"), and the
# row may start with a dash or a group's last letter or two where OCR lost
# what was before ("-6NCOM-OLO81-E3898", "F-IVN8C-74GZD-H9O61-AWDFE").
_GROUP = r"[A-Z0-9lo|][A-Z0-9lo|)(\][}{!]{2,7}"
_GROUPED = re.compile(
    rf"(?:(?<!\S)[-—–][ ]?|(?<![\w-])(?:[A-Z0-9]{{1,2}}[ ]?[-—–][ ]?)?)"
    rf"(?:{_GROUP}[ ]?[-—–][ ]?)+[A-Z0-9lo|][A-Z0-9lo|)(\][}}{{!]{{3,7}}"
    r"(?:[ ]?[-—–])?(?![\w])"
)
_GROUP_GLYPHS = re.compile(r"[^A-Za-z0-9|]+")
# The same with a group cut in two by a space.
_GROUPED_SPACED = re.compile(
    r"(?<![\w-])(?:[A-Z0-9lo|]{1,8}(?:[ ][A-Z0-9lo|]{1,7})?[ ]?[-—–][ ]?){2,}"
    r"[A-Z0-9lo|]{1,8}(?:[ ][A-Z0-9lo|]{1,7})?(?![\w])"
)
_GROUP_DASH = re.compile(r"[ ]?[-—–][ ]?")
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
# Words that make a number of an IBAN's length an account number even when OCR
# broke its check digits.
_BANK_WORDS = re.compile(
    r"(?i)\b(?:[I1l]BAN|account|acct|bank|konto|compte|cuenta|rekening|beneficiary|"
    r"transfer|bic|swift)\b"
)
TRAILING = " \t\"'`,;)]}>.“”‘’"


def _token_spans(line: str) -> Iterator[Span]:
    done = 0
    for start in TOKEN_STARTS.finditer(line):
        if start.start() < done:
            continue
        match = TOKENS.match(line, start.start())
        if match is None:
            continue
        done = match.end()
        kind = match.lastgroup or ""
        # An AWS key id has a fixed length: what follows is something else.
        end = match.end() if kind == "aws_key_id" else extend_token(line, match.end())
        if token_ok(kind, line[match.start() : end]):
            yield match.start(), end
    prefix = PREFIX_AT_END.search(line)
    if prefix is not None:
        yield prefix.start(), len(line.rstrip())


def _openai_mark_spans(line: str) -> Iterator[Span]:
    """An OpenAI key found by the mark inside it (`OPENAI_MARK`), whatever OCR kept
    of it: the word around the mark and the pieces of the key before and after."""
    for mark in OPENAI_MARK.finditer(line):
        start = mark.start()
        while start > 0 and TOKEN_RUN.fullmatch(line[start - 1]) is not None:
            start -= 1
        end = mark.end()
        run = TOKEN_RUN.match(line, end)
        if run is not None:
            end = run.end()
        yield extend_token_back(line, start), extend_token(line, end)


# Django's generated SECRET_KEY: "django-insecure-" and 50 characters with
# symbols, however much of the prefix OCR kept ("ngo-insecure-^d(=u+fj…");
# the pieces OCR split it into go while they hold a digit or a symbol.
_DJANGO_KEY = re.compile(
    r"insecure-(?P<body>[^\s\"'`]{6,}(?:[ ](?=\S*[\d!@#$%^&*(=+)_-])[^\s\"'`]+){0,4})"
)


def _django_spans(line: str) -> Iterator[Span]:
    for match in _DJANGO_KEY.finditer(line):
        if sum(not c.isalpha() and c not in " -" for c in match["body"]) < 3:
            continue  # "insecure-looking": prose
        start = match.start()
        while start > 0 and not line[start - 1].isspace() and line[start - 1] not in QUOTES + "=":
            start -= 1
        yield start, match.end()


def _random_spans(line: str) -> Iterator[Span]:
    """Runs that look random, alone or joined with the pieces OCR split them into.

    A chain starts at a token-like run and takes the next run one or two
    spaces on while it is token-like too; a short other piece between two
    such runs ("40", "OKZYD") is taken with them. A chain that does not look
    random as a whole may still end or start with a part that does (a
    version number before a key): those are tried too, then each long run.
    """
    runs = [run for run in TOKEN_RUN.finditer(line) if not _is_marker(line, run)]
    index = 0
    while index < len(runs):
        chain = [runs[index]]
        if KEY_NAME.fullmatch(runs[index].group()):
            index += 1  # "apiKey": the name before a key, not its start
            continue
        if not token_like(runs[index].group()) or _path_like(runs[index].group()):
            # Only long runs can be random on their own ("qwxkzjvbnmplrtyuiozx").
            if len(runs[index].group()) >= RANDOM_MIN_LENGTH:
                yield from _random_in_chain(line, chain)
            index += 1
            continue
        while index + len(chain) < len(runs) and len(chain) < _CHAIN_MAX:
            following = runs[index + len(chain)]
            if not _adjacent(line, chain[-1], following):
                break
            if _chainable(following.group()):
                chain.append(following)
                continue
            # One or two short pieces ("-", "l") between two parts of a key.
            shorts = [following]
            after = index + len(chain) + 1
            if (
                after + 1 < len(runs)
                and len(runs[after].group()) <= 3
                and not _chainable(runs[after].group())
                and _adjacent(line, runs[after - 1], runs[after])
            ):
                shorts.append(runs[after])
                after += 1
            if (
                len(following.group()) <= 8
                and after < len(runs)
                and _adjacent(line, runs[after - 1], runs[after])
                and _chainable(runs[after].group())
            ):
                chain += [*shorts, runs[after]]
                continue
            break
        if len(chain) > 1 or len(chain[0].group()) >= 10:
            yield from _random_in_chain(line, chain)
        index += len(chain)
    # A word that OCR broke with a stray "@", "#" or "$" is judged whole too
    # ("UmupQP6gIPSnLu@eel_uU1hn").
    for word in _WORDS_IN_LINE.finditer(line):
        if _ODD_INSIDE.search(word.group()) is None:
            continue
        start, end = word.span()
        while start < end and line[start] in QUOTES + "([{":
            start += 1
        end = start + len(line[start:end].rstrip(TRAILING))
        if _DIGEST_START.match(line, start):
            continue  # "SHA256:nThbg6kXUp|WGI7…": a fingerprint OCR broke
        if end - start >= RANDOM_MIN_LENGTH and looks_random(line[start:end]):
            yield start, end


# A key's name: an identifier that ends with a secret's keyword.
KEY_NAME = re.compile(
    r"[A-Za-z0-9]*(?:[a-z0-9](?:Key|Token|Secret|Password)|[_.-](?i:key|token|secret|password))"
)


def _chainable(run: str) -> bool:
    """A run that can carry on a key after a short piece: token-like, or long
    with both cases after its first letter ("CUFLDRSGICVo-", not "Somewhere")."""
    if _path_like(run):
        return False
    return token_like(run) or (len(run) >= 8 and has_mixed_case(run[1:]))


def _path_like(run: str) -> bool:
    """A path or a URL's path, not a key: a word between its slashes (":8000/admin/users")."""
    return "/" in run and any(reads_as_word(part) for part in run.split("/"))


# A whitespace-delimited word with a character inside that OCR misreads for
# a letter or digit ("@" for 0, "|" for l, "$" for S), not URL or code syntax.
_WORDS_IN_LINE = re.compile(r"\S+")
_ODD_INSIDE = re.compile(r"[A-Za-z0-9][@#$%^*!|\\]+[A-Za-z0-9]")
_URL_SYNTAX = re.compile(r"[?&=]|://")
_CODE_SYNTAX = re.compile(r"[=(:;{]")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


# OCR cuts a key into a few pieces, not dozens; a longer chain is a row of
# short codes, judged in parts of this many runs.
_CHAIN_MAX = 12


def _random_in_chain(line: str, chain: list[re.Match[str]]) -> Iterator[Span]:
    start = chain[0].start()
    word = line.rfind(" ", 0, max(0, start - 1)) + 1  # the word, and a space after "SHA256:"
    if _DIGEST_BEFORE.search(line, word, start) or _DIGEST_AT.match(line, start):
        return  # a fingerprint or an integrity hash: "SHA256:nThbg6kX…", "sha512-…"
    for drop in range(len(chain) - 1):
        for part in (chain[drop:], chain[: len(chain) - drop]) if drop else (chain,):
            if looks_random(" ".join(m.group() for m in part)):
                yield _trimmed(line, part[0].start(), part[-1].end())
                return
    for run in chain:
        text = run.group()
        if (len(text) >= 16 and looks_random(text)) or looks_random_short(text):
            yield _trimmed(line, *run.span())


_DIGEST_BEFORE = re.compile(r"(?i)(?<![A-Za-z0-9])(?:sha(?:1|224|256|384|512)|md5)[:=]")
_DIGEST_AT = re.compile(r"(?i)(?:sha(?:1|224|256|384|512)|md5)-")
_DIGEST_START = re.compile(r"(?i)(?:sha(?:1|224|256|384|512)|md5)[:=-]")


def _is_marker(line: str, run: re.Match[str]) -> bool:
    """Whether the run is the inside of an earlier `[REDACTED]`."""
    return run.group() == "REDACTED" and line[run.start() - 1 : run.start()] == "["


def _lone_word_spans(line: str) -> Iterator[Span]:
    """A row of a few words that together look like a piece of a key, or mostly one."""
    words = [word for word in line.split() if "[REDACTED]" not in word]
    if not 1 <= len(words) <= _PIECES_ON_ROW:
        return
    joined = "".join(words)
    core = "".join(c for c in joined if c.isalnum())
    if len(words) > 1 and not any(token_like(w) for w in words):
        # Capitals only: a recovery key's groups ("IGMKC- OOPKT-LRPDO").
        if len(words) <= 3 and _lone_groups(joined, core):
            yield _word_start(line, words, 0), len(line.rstrip().rstrip(TRAILING))
        return
    prose = any(_plain(w) for w in words)
    code = _CODE_SYNTAX.search(line) is not None
    # Pieces of one key, each token-like: judged as one short run ("zELwP -U4z- yc"),
    # unless the row is code ("_SQRT2 = sqrt(2.0)", "'cp1251': 'CP1251',").
    pieces = [w for w in words if sum(c.isalnum() for c in w) >= 3]
    short = len(words) <= 3 and len(pieces) > 1 and all(token_like(w) for w in pieces)
    # A key with a few short pieces OCR cut off before it ("CVKMXmT imi Ic 7NIkKOiPZ9…").
    mostly = (
        len(words) <= 4
        and any(looks_random(w) for w in words)
        and not any(_plain(w) and len(w) >= 4 for w in words)
    )
    first = 0
    if not (
        (len(words) <= 3 and not prose and looks_random_alone(joined))
        or (len(words) == 1 and not _URL_SYNTAX.search(joined.rstrip("=")) and looks_random(joined))
        or (short and not prose and not code and looks_random_short(core))
        or (len(words) == 1 and not code and _lone_piece(joined, core))
        or (1 < len(words) <= 3 and _lone_groups(joined, core))
        or (not prose and not code and _pieces_of_one_key(words))
        or (len(words) <= 3 and _base64_tail(joined))
        or (len(words) == 1 and not code and _long_lone_word(joined, core))
        or (len(words) == 1 and _string_tail(line))
    ):
        if not (len(words) > 1 and mostly and not code):
            return
        # From the key back over the debris before it; a name or a label
        # before it ("SLACK_BOT", "key", "access_token") stays.
        first = next(i for i, w in enumerate(words) if looks_random(w))
        while first > 0 and _debris(words[first - 1]):
            first -= 1
    start = _word_start(line, words, first)
    while line[start] in QUOTES + "([{":
        start += 1
    yield start, len(line.rstrip().rstrip(TRAILING))


# A key's groups of capitals and digits alone on a row, all of one length.
_LONE_GROUPS = re.compile(r"[A-Z0-9]{5,8}(?:[-—–][A-Z0-9]{5,8})+")
_GROUPS_RANDOM = 0.7


_PIECES_ON_ROW = 6
_KEY_CHARS = re.compile(r"[A-Za-z0-9+/_-]+=*")


_LONG_LONE = 14
_LONG_LONE_RANDOM = 0.6


def _long_lone_word(word: str, core: str) -> bool:
    """A word of 14+ letters and digits alone on its row: a piece of a key whose
    row OCR read only in part.

    Base64 of JSON (a JWT's payload) is full of capitals, which make its
    letter pairs look common ("GleHAIOjE4OTMONTY" scores 0.63), so alone
    on a row such a word needs less: both cases and a digit, at most one
    separator, no word of five small letters (`word_inside`), not hexadecimal,
    and randomness
    of at least 0.6. Of the 235,576 distinct words of 14+ characters in the
    standard library, its site-packages and terminal output, 65 more pass
    than `looks_random` and `looks_random_alone` pass ("ChaCha20Poly1305");
    code names like these rarely stand alone on a row.
    """
    return (
        len(core) >= _LONG_LONE
        and len(word) - len(core) <= 1
        and core.isascii()
        and any(c.isdigit() for c in core)
        and has_mixed_case(core)
        and not word_inside(core)
        and not hex_like(core)
        and randomness(core) >= _LONG_LONE_RANDOM
    )


# A row read as a key's piece by the character model (`char_model.surprise`).
_MODEL_MIN = 8
_MODEL_WORDS = 6
_INNER_COLON = re.compile(r"(?<=[A-Za-z0-9]):(?=[A-Za-z0-9])")
_MODEL_PIECE = 6
_MODEL_SURPRISE = -1.8


# Capitalised words run together: a class or a font's name ("DejaVuSansMono").
_CAPITALISED_WORDS = re.compile(r"(?:[A-Z][a-z]+)+")


def _random_piece(piece: str) -> bool:
    """A piece of six or more letters and digits that the character model reads
    as random, with both cases: small letters with digits are device and
    interface names as often ("nvme0n1p2", "wlp2s0"), capitals with digits
    ids ("AKIAIOSFODNN7EXAMPLE"), whose own rules judge them."""
    return (
        len(piece) >= _MODEL_PIECE
        and has_mixed_case(piece)
        and _CAPITALISED_WORDS.fullmatch(piece) is None
        and surprise(piece) < _MODEL_SURPRISE
    )


def _random_row_spans(line: str) -> Iterator[Span]:
    """One to six pieces alone on a row that together read as random characters,
    not as text: a key's piece of 8+ characters whose label, prefix and rest
    OCR lost ("9p6YDjZBC", "NadRwaEITODAA"). From the first piece to the row's
    end; a short name before it ("key") stays.

    Each word a key's characters (`key_piece`), none reading as a word, 8+
    letters and digits in all, at least two of capitals, small letters and
    digits, not hexadecimal, and one piece that reads as random on its own
    (`_random_piece`: below -1.8 on the character model, as about 95 of 100
    random 8-12 character base62 runs are).
    """
    # A colon inside a word is OCR's for a letter ("2UVK:iwz"), not a label's.
    row = _INNER_COLON.sub(" ", line)
    if _CODE_SYNTAX.search(row):
        return
    words = [word for word in row.split() if "[REDACTED]" not in word]
    core = _NOT_ALNUM.sub("", "".join(words))
    if not 1 <= len(words) <= _MODEL_WORDS or len(core) < _MODEL_MIN or not core.isascii():
        return
    if not key_pieces(" ".join(words)):
        return
    kinds = (
        any(c.isupper() for c in core),
        any(c.islower() for c in core),
        any(c.isdigit() for c in core),
    )
    if sum(kinds) < 2 or hex_like(core):
        return
    # One piece of six or more random on its own, not the pieces joined:
    # short names side by side ("us1, us2, us3", "light2_bg light2_fg") join
    # into runs no text has, though each is a name.
    pieces = [_NOT_ALNUM.sub("", word) for word in words]
    if not any(_random_piece(piece) for piece in pieces):
        return
    first = next((i for i, word in enumerate(words) if not _plain(word)), 0)
    start = _word_start(line, words, first)
    while line[start] in QUOTES + "([{":
        start += 1
    yield start, len(line.rstrip().rstrip(TRAILING))


# A row that is only the end of a quoted string: its opening quote, the label
# and the key's start lost ('LnuUUWVgC",' from '"api_key": "AIza…LnuUUWVgC",').
_STRING_TAIL = re.compile(r"[ \t]*(?P<word>[A-Za-z0-9+/_-]{8,15})[\"'”’`][ \t]*[,;]?[ \t]*")


def _string_tail(line: str) -> bool:
    """A key's tail that ends a string whose start OCR lost: judged as
    `looks_random_short` judges a piece, from eight characters and without a digit."""
    match = _STRING_TAIL.fullmatch(line)
    if match is None:
        return False
    core = _NOT_ALNUM.sub("", match["word"])
    return (
        len(core) >= 8
        and sum(c.isupper() for c in core) >= 2
        and sum(c.islower() for c in core) >= 2
        and _WORD_IN_PIECE.search(core) is None
        and not hex_like(core)
        and randomness(core) >= _SHORT_RANDOM
    )


# The end of a quoted key whose opening quote and start OCR lost, ending a
# row after other words ("http GET :8000/admin/users 30eWjeul4-Nk_'").
_UNOPENED_TAIL = re.compile(
    r"(?<!\S)(?P<word>[A-Za-z0-9+/_-]{6,})(?P<quote>[\"'”’`])[ \t]*[,;)\]}]*[ \t]*$"
)
_UNOPENED_PIECES = re.compile(
    r"(?<!\S)(?P<words>[A-Za-z0-9+/_-]{2,}(?:[ ]{1,2}[A-Za-z0-9+/_-]{2,}){1,3})"
    r"(?P<quote>[\"'”’`])[ \t]*[,;)\]}]*[ \t]*$"
)
# The closing quote marks it: a key's piece from six letters and digits ("F6Hvs5m\" )").
_UNOPENED_MIN = 6
# The quotes that open a string a closing one ends, as OCR reads them.
OPENERS = {"'": "'‘", '"': '"“', "’": "'‘’", "”": '"“”', "`": "`"}


# `name = VALUE` with no quotes left: OCR dropped the string's quotes and its
# start ("client = pAMI2ZcbTXVATOON" from 'client = OpenAI(api_key="sk-…")').
_BARE_ASSIGNMENT = re.compile(
    r"(?<![\w.])[A-Za-z_][\w.]*[ ]?=[ ]?(?P<value>[A-Za-z0-9+/_-]{10,})[\"')\],;]*[ \t]*$"
)


def _bare_assignment_spans(line: str) -> Iterator[Span]:
    """A value of ten or more after `name =` that the character model reads as random
    in a piece of ten or more: no name, call or constant reads so."""
    match = _BARE_ASSIGNMENT.search(line)
    if match is not None and any(
        len(piece) >= _BARE_PIECE and _random_piece(piece)
        for piece in _NOT_ALNUM.split(match["value"])
    ):
        yield match.span("value")


_BARE_PIECE = 10


def _unopened_tail_spans(line: str) -> Iterator[Span]:
    """A key's piece closing a string that no quote on the row opened (`key_fragment`)."""
    match = _UNOPENED_TAIL.search(line)
    if (
        match is not None
        and not any(c in OPENERS[match["quote"]] for c in line[: match.start()])
        and key_fragment(match["word"], _UNOPENED_MIN)
    ):
        yield match.span("word")
        return
    # The piece before the quote too short alone: the key's pieces before it
    # on the row ('client = fAHtMKy fgaCis rdM9" )'), none a word, one of
    # them read as random by the character model.
    pieces = _UNOPENED_PIECES.search(line)
    if pieces is None or any(c in OPENERS[pieces["quote"]] for c in line[: pieces.start()]):
        return
    words = pieces["words"].split()
    if key_pieces(pieces["words"]) and any(
        _random_piece(p) for w in words for p in _NOT_ALNUM.split(w)
    ):
        yield pieces.span("words")


def _pieces_of_one_key(words: list[str]) -> bool:
    """A row of two to six pieces that read as one key once joined.

    OCR cut a base64 token at its "_" and in between ("Edu9 fE9a_u2Y2UdCKO
    FSQaWAy 1qzNj", "QGS+XNENk 1p 7Ws JUXs bOBMc"), so no piece alone is long
    enough to judge. Every piece is made of a key's characters, two have both
    cases, and the pieces joined without their spaces `looks_random`.
    """
    if not 2 <= len(words) <= _PIECES_ON_ROW:
        return False
    if not all(_KEY_CHARS.fullmatch(w) for w in words):
        return False
    if sum(has_mixed_case(w) for w in words) < 2:
        return False
    return looks_random("".join(words))


_AFTER_MARKER = re.compile(r"\[REDACTED\][ ]{0,2}(?=[A-Za-z0-9+/_-])")
_MARKER_PIECES_MIN = 10


_BRACKET_INSIDE = re.compile(r"(?<=[A-Za-z0-9\]])[)\]}|({\[](?=[A-Za-z0-9-])")


def _after_marker_spans(line: str) -> Iterator[Span]:
    """The rest of a key OCR split into pieces after the part already redacted.

    `[REDACTED] Lg fHNSHuuz TMQt 6UZDpgc`: a URL's key was taken up to its
    first space; the pieces after it, each made of a key's characters, one
    or two spaces apart, go too when one of them is token-like and together,
    without their spaces, they look random (judged on 10 characters or more,
    as a key's tail is shorter than a key). Words after it ("Save changes",
    "was rotated") stay.
    """
    # A bracket OCR read for a letter between a key's characters, or right
    # after the marker ("[REDACTED])-WFZFVeatkn…milt}2"), is read as one:
    # one character for one, so the spans stay where they are.
    line = _BRACKET_INSIDE.sub("I", line)
    for marker in _AFTER_MARKER.finditer(line):
        position = marker.end()
        pieces: list[re.Match[str]] = []
        while len(pieces) < _PIECES_ON_ROW:
            run = _KEY_CHARS.match(line, position)
            if run is None or (run.end() < len(line) and not line[run.end()].isspace()):
                if run is not None and line[run.end()] in TRAILING:
                    pieces.append(run)
                break
            pieces.append(run)
            gap = run.end()
            while gap < len(line) and gap - run.end() < 2 and line[gap] == " ":
                gap += 1
            if gap == run.end() or gap >= len(line):
                break
            position = gap
        for count in range(len(pieces), 0, -1):
            words = [p.group() for p in pieces[:count]]
            if not any(token_like(w) for w in words):
                continue
            joined = "".join(words)
            # Or a piece the character model reads as random: small-letter runs
            # of a key can pass for words to the letter pairs ("Dujwhexmilt").
            if looks_random(joined, _MARKER_PIECES_MIN) or any(
                len(piece) >= _MARKER_PIECES_MIN and _random_piece(piece)
                for piece in _NOT_ALNUM.split(joined)
            ):
                yield pieces[0].start(), pieces[count - 1].end()
                break


_PADDED = re.compile(r"[A-Za-z0-9+/]+={1,2}")


def _base64_tail(joined: str) -> bool:
    """The end of a base64 key alone on its row, its start lost ("+UbYZK+HFwmA=").

    Its "=" padding and a "+" or "/" inside mark it as base64 (the "=" alone
    would make the row look like code); then 10 or more letters and digits
    judged as `looks_random_short` judges them, but a digit is not needed
    (a short base64 piece often has none).
    """
    if _PADDED.fullmatch(joined) is None or not ("+" in joined or "/" in joined):
        return False
    core = _NOT_ALNUM.sub("", joined)
    return (
        len(core) >= 10
        and sum(c.isupper() for c in core) >= 2
        and sum(c.islower() for c in core) >= 2
        and _WORD_IN_PIECE.search(core) is None
        and not hex_like(core)
        and randomness(core) >= _SHORT_RANDOM
    )


def _lone_piece(word: str, core: str) -> bool:
    """A word alone on its row that is a piece of a key: the rest of the key lost.

    A short run with a separator or two inside ("64Fi_L1g6pBRAA"), judged as
    `looks_random_short` judges one without; or two or more groups of capitals
    of one length whose letters read as random ("BIPQP-CVRSP", not
    "HELLO-WORLD" or "COVID-19").
    """
    if len(word) - len(core) <= 2 and _short_key(word, core):
        return True
    return _lone_groups(word, core)


def _lone_groups(word: str, core: str) -> bool:
    """Two or more groups of capitals and digits of one length, alone on a row,
    whose letters read as random ("BIPQP-CVRSP"; "XFHBL -ESSK8" too, the spaces
    OCR put around a dash taken out by the caller: `word` has none; an "I" OCR
    read as "]" or "|" read back: "H]YQO")."""
    word = word.translate(GROUP_MISREADS)
    if _LONE_GROUPS.fullmatch(word) is None:
        return False
    groups = re.split(r"[-—–]", word)
    return len({len(g) for g in groups}) == 1 and randomness(core.lower()) >= _GROUPS_RANDOM


def _short_key(word: str, core: str) -> bool:
    """`looks_random_short` for a word with a separator or two ("Uf]-clfdZ3ya"):
    no word of five small letters within a piece, the rest on the joined core."""
    if any(word_inside(piece) for piece in _NOT_ALNUM.split(word)):
        return False
    capitals = sum(c.isupper() for c in core)
    small = sum(c.islower() for c in core)
    return (
        len(core) >= 10  # longer ones too: a stray "}" keeps `looks_random` from them
        and core.isascii()
        and capitals >= 2
        and small >= 2
        and any(c.isdigit() for c in core)
        and not hex_like(core)
        and randomness(core) >= _SHORT_RANDOM
    )


_WORD_IN_PIECE = re.compile(r"[a-z]{5}")
_SHORT_RANDOM = 0.9


def _word_start(line: str, words: list[str], index: int) -> int:
    """Where `words[index]` (from `line.split()`, markers dropped) starts in `line`."""
    position = 0
    for word in words[: index + 1]:
        position = line.index(word, position) + len(word)
    return position - len(words[index])


# Short words that name a secret rather than being a piece of one.
_LABEL_WORDS_SHORT = frozenset({"key", "pin", "pwd", "api", "iban", "pass", "auth", "token"})


def _debris(word: str) -> bool:
    """A short piece that OCR cut off a key ("imi", "Ic", "CVKMXmT"), not a name or label."""
    core = _NOT_ALNUM.sub("", word)
    if core.lower() in _LABEL_WORDS_SHORT:
        return False
    return token_like(word) or len(core) <= 3


def _plain(word: str) -> bool:
    """A word of prose: small letters, perhaps capitalised ("key", "Signature")."""
    core = word.strip(TRAILING + ":!?(")
    return len(core) >= 3 and core.isalpha() and (core.islower() or core.istitle())


# A key's name, then its value after a gap (a table: "access_token  eyJhbGci…").
# The name may be cut by OCR ("access_toke") and the value be in pieces, or
# start with a dash OCR set apart ("- 1le5c5d72ad03bc8…").
_NAME_THEN_VALUE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z0-9]*[_.-][\w.-]*?(?i:t[o0]ken?|secret|passw[o0]rd|passwd|api[_-]?key)"
    r"[\"']?[ \t]+[\"']?(?P<value>(?:-[ ])?[^\s\"']{8,}(?:[ ]{1,2}[^\s\"']+){0,2})[\"',]*[ \t]*$"
)


# The same with a name in camelCase, as a CLI's config keys are
# ("claude config set apiKey Wr2anRxk", OCR having lost the key's start).
_CAMEL_NAME_THEN_VALUE = re.compile(
    r"(?<![A-Za-z0-9])(?:(?i:api[_-]?key)|[a-z][a-z0-9]*(?:Key|Token|Secret|Password))"
    r"[\"']?[ \t]+[\"']?(?P<value>[A-Za-z0-9+/_-]{6,})[\"',]*[ \t]*$"
)


def _name_then_value_spans(line: str) -> Iterator[Span]:
    camel = _CAMEL_NAME_THEN_VALUE.search(line)
    if camel is not None:
        value = camel["value"]
        if token_like(value) or any(_random_piece(p) for p in _NOT_ALNUM.split(value)):
            yield camel.span("value")
    match = _NAME_THEN_VALUE.search(line)
    if match is None:
        return
    value = match["value"].replace(" ", "")
    # A key's piece, or a token's digits ("access_toke  -290387977375").
    if (token_like(value) or sum(c.isdigit() for c in value) >= _DIGITS_VALUE) and (
        " " not in match["value"] or key_pieces(match["value"])
    ):
        yield match.span("value")


_DIGITS_VALUE = 10


def _trimmed(line: str, start: int, end: int) -> Span:
    """Without the path and URL punctuation around it: "//" before a key in a URL stays."""
    while start < end and line[start] in "/.~":
        start += 1
    while end > start and line[end - 1] in "/.~":
        end -= 1
    return start, end


# Between two pieces of one key: OCR's word breaks, or a glyph it read as
# "!" or "|" ("VCLqYuUid!91UA8RO=").
_PIECE_GAPS = frozenset({" ", "  ", "!", "|", "\\"})


def _adjacent(line: str, first: re.Match[str], second: re.Match[str]) -> bool:
    return line[first.end() : second.start()] in _PIECE_GAPS


def _dsn_spans(line: str) -> Iterator[Span]:
    for match in _URL_CREDENTIALS.finditer(line):
        yield match.span("password")
    for match in _URL_USER_PASSWORD.finditer(line):
        value = match["password"]
        if token_like(value) and not value.isdigit():
            yield match.span("password")
    for match in _URL_PASSWORD_PIECES.finditer(line):
        value = match["password"].replace(" ", "")
        if len(value) >= _PASSWORD_PIECES_MIN and token_like(value):
            yield match.span("password")
    if "@" in line:
        for match in _DSN_REMNANT.finditer(line):
            # In pieces too ("uri: Tyi7aEO 3PGjrLY @cluster0.…/shop?…").
            value = match["password"].replace(" ", "")
            # The host's port, IP or path and query are what no e-mail address
            # has. A user name ("admin@", "ec2-user@") stays: a password has a
            # digit and a capital, or 10+ characters with two digits and no word.
            if (any(c.isdigit() for c in value) and any(c.isupper() for c in value)) or (
                len(value) >= 10
                and sum(c.isdigit() for c in value) >= 2
                and _WORD_IN_PIECE.search(value) is None
            ):
                yield match.span("password")
        for match in _BEFORE_AT.finditer(line):
            # Any host: a piece of the word before "@" reads as random characters
            # on its own, as no user name or mailbox does ("sw38d74uSq80@redis-1.";
            # not a locale's "be_BY.UTF-8@latin").
            if any(_random_piece(piece) for piece in _NOT_ALNUM.split(match["password"])):
                yield match.span("password")
        for match in _URL_USERINFO.finditer(line):
            value = match["userinfo"]
            if token_like(value) and sum(c.isalnum() for c in value) >= 8:
                yield match.span("userinfo")


# `scheme://user:PASSWORD` whose "@host" OCR lost: the word after a user name
# (no dot in it, so not a host) and a colon, unless it is a port.
_URL_USER_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z][^\s:/]{1,30}[ ]{0,2}:[ ]{0,2}/[ ]?/[ ]?[^\s:/@.]{1,64}[ ]?:[ ]?"
    r"(?P<password>[^\s/@:]{4,})(?=\s|$)"
)
# The same with the password in pieces and "@" lost before the host
# ("mongodb+srv: //shop-app: xj 2HLqdNuJ x7k2p .mongodb. net /shop?…").
_URL_PASSWORD_PIECES = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z][^\s:/]{1,30}[ ]{0,2}:[ ]{0,2}/[ ]?/[ ]?[^\s:/@.]{1,64}[ ]?:[ ]?"
    r"(?P<password>[^\s/@:.]{1,64}(?:[ ]{1,2}[^\s/@:.]{1,64}){1,2})"
    r"(?=[ ]{1,2}[\w-]+[ ]?\.[ ]?[A-Za-z])"
)
_PASSWORD_PIECES_MIN = 6
# A URL's user part that is a token (`https://TOKEN@github.com/…`), read
# through OCR's losses: slashes dropped, the token in up to four pieces
# ("https: j 23Kwixvbu9x@gi thub.com/acme", "https: L67ACs9f 6mTT7 1KeVBPINx@gi
# thub.com"). A user name is a word, not a key.
_URL_USERINFO = re.compile(
    r"(?<![A-Za-z0-9])(?:https?|git|ssh|ftps?|sftp|[a-z]+(?:\+[a-z]+)?(?=[ ]?:[ ]{0,2}/))"
    r"[ ]?:[ ]{0,2}(?:/[ ]?){0,2}(?P<userinfo>[^\s/@:]{1,64}(?:[ ][^\s/@:]{1,64}){0,3})[ ]?@"
    r"(?=[\w\[])"
)
# What OCR left of `scheme://user:PASSWORD@host:port` once it dropped the
# start: a password-like word right before "@" and a host with a port, an IP
# address or a path and query, with the spaces OCR puts before a dot and
# inside the password
# ("-Breeze-8347@127.0.0.1:3306", "-Breeze-3788@127 .0.0.1:3306",
# "bzecloJ7xYnulr@cluster0.x7k2p.mongodb.net/shop?retryWrites=true").
# E-mail addresses have none of them.
_DSN_REMNANT = re.compile(
    r"(?<![^\s:/])(?P<password>[^\s@:/]{8,}|[^\s@:/]{3,}(?:[ ]{1,2}[^\s@:/]{3,}){1,2}"
    r"|[^\s@:/]{6,}[ ]{1,2}[^\s@:/]{1,2})[ ]?@"
    r"(?=(?:\d{1,3}[ ]?\.[ ]?){3}\d{1,3}|[\w.-]+(?:[ ]\.[\w.-]+)*:\d{2,5}\b"
    r"|[\w-]+(?:[ ]?\.[\w-]+)+/[\w.-]*\?)"
)

# A word of 8+ right before "@" and a host, whatever follows the host.
_BEFORE_AT = re.compile(r"(?<![^\s:/])(?P<password>[^\s@:/]{8,})[ ]?@(?=[A-Za-z0-9])")


# Passwords that commands take on their command line, as their manuals show:
# MySQL's and MariaDB's `-pPASSWORD` (attached: `-p NAME` asks and names a
# database; OCR may read the "l" of "mysql" as "]"), `sshpass -p PASSWORD`,
# curl's `-u USER:PASSWORD`.
_COMMAND_PASSWORDS = (
    re.compile(
        r"(?<![\w/.-])(?:mysq[l1I|\]]|mariadb)(?:-?(?:dump|admin|sh|import|check))?[ \t]"
        r"(?:[^\n]*?[ \t])?-p(?P<password>[^\s,.;:)\]-][^\s]{3,})"
    ),
    re.compile(r"(?<![\w/.-])sshpass[ \t]+-p[ \t]*(?P<password>[^\s,.;:)\]-][^\s]{3,})"),
    re.compile(
        r"(?<![\w/.-])curl[ \t](?:[^\n]*?[ \t])?(?:-u|--user)[ \t]*[^\s:]+:(?P<password>[^\s@]+)"
    ),
)


def _command_password_spans(line: str) -> Iterator[Span]:
    for pattern in _COMMAND_PASSWORDS:
        for match in pattern.finditer(line):
            yield match.span("password")


def _authorization_spans(line: str) -> Iterator[Span]:
    # A header's value is the rest of the line, however OCR cut it into words.
    for match in _AUTHORIZATION.finditer(line):
        run = TOKEN_RUN.match(line, match.end())
        if run is not None and len(run.group()) < 8:
            # The value in short pieces ("Bearer ykSBHi7 svuUUSbF"): judged joined.
            rest = line[run.start() :].rstrip(TRAILING + "\\")
            joined = rest.replace(" ", "")
            if len(joined) >= 8 and key_pieces(rest) and token_like(joined):
                yield run.start(), run.start() + len(rest)
            continue
        if run is None or _PLACEHOLDER.fullmatch(run.group()):
            continue
        if NOT_A_SECRET.fullmatch(line[run.start() :].rstrip(TRAILING + "\\")):
            continue  # code: `authorization = base64.decodebytes(authorization)`
        if token_like(run.group()) or looks_random(run.group()):
            yield run.start(), max(run.end(), len(line.rstrip(TRAILING)))
    for match in _BEARER.finditer(line):
        run = TOKEN_RUN.match(line, match.end())
        if run and len(run.group()) >= 12 and token_like(run.group()):
            yield run.start(), extend_token(line, run.end())


def _query_spans(line: str) -> Iterator[Span]:
    if "=" not in line:
        return
    for match in _QUERY_SECRET.finditer(line):
        value = match["value"]
        if match["strong"] or not value.isalpha() or token_like(value):
            yield match.span("value")
    for match in _QUERY_KEY_PIECES.finditer(line):
        if token_like(match["value"].replace(" ", "")):
            yield match.span("value")


# A key's value that OCR cut at a space ("?key=Alzak bGFtwiwCINIPA…"): its pieces
# up to the next "&", "=" or quote, for the names that only ever hold a secret.
_QUERY_KEY_PIECES = re.compile(
    r"(?i)[?&;][ ]?(?:key|api_?key|sig|signature|token|access_token|client_secret|password)"
    r"[ ]?=[ ]?(?P<value>[^&\s#\"'<>=]{2,}(?:[ ]{1,2}[^&\s#\"'<>=]{2,}){1,3})"
)


def _url_row_spans(line: str) -> Iterator[Span]:
    """A key's piece among a URL's broken parts ("https: //maps.googleapis
    92u-ADBFrQ5j lback=initMap"): a word of no URL syntax that reads as one
    (`key_fragment`), on a row with a URL."""
    if _URL_START.search(line) is None:
        return
    for word in _URL_ROW_WORD.finditer(line):
        if key_fragment(word.group()):
            yield word.span()


# A URL, or httpie's and curl's shorthand for localhost (":8000/admin/users").
_URL_START = re.compile(r"(?i)\b(?:https?|wss?|ftp)[ ]?:[ ]?//|(?<!\S):\d{2,5}/")
# A word with no URL syntax in it, one piece of a broken URL row.
_URL_ROW_WORD = re.compile(r"(?<!\S)[A-Za-z0-9_-]{8,}(?!\S)")


def _query_orphan_spans(line: str) -> Iterator[Span]:
    """A query parameter's value whose name OCR lost, before the next `&name`.

    From the "&" back over up to four pieces that OCR split the value into
    ("…googleapis . fNNDNbgV fOyo&callback=", "key=[REDACTED] qd ODPNCUI
    r&cal"), to a word, a marker or anything that is not a piece (a value
    right after "=" has its name and is not one: `_ORPHAN_PIECE` starts
    after a space, "/", "." or "?"). Eight letters and digits or more that
    read as a key's (`_orphan_value`) go.
    """
    for amp in _QUERY_NEXT.finditer(line):
        start = end = amp.start()
        pieces = 0
        for piece in reversed(list(_ORPHAN_PIECE.finditer(line, 0, end))):
            if piece.end() != start or pieces == _ORPHAN_PIECES:
                break
            core = _NOT_ALNUM.sub("", piece["piece"])
            # Capitals inside a URL are a key's ("ODPNCUI"), not a word.
            if not core.isupper() and reads_as_word(core):
                break
            start, pieces = piece.start("piece"), pieces + 1
        if start < end and _orphan_value(line[start:end]):
            yield start, end


# "&" and the start of the next parameter's name (OCR may cut it: "&cal"). Before
# it a letter OCR read with an accent may end the value ("HLH1RaaWé&callback").
_QUERY_NEXT = re.compile(r"(?<=[A-Za-z0-9_-]|[^\W\d_\x00-\x7f])&(?=[A-Za-z_])")
# A piece of a value and the space before it; the value runs to the next piece.
_ORPHAN_PIECE = re.compile(r"(?:(?<=[\s/.?])|^)(?P<piece>[A-Za-z0-9_-]+[^\W\d_\x00-\x7f]?)[ ]{0,2}")
_ORPHAN_PIECES = 4


def _orphan_value(value: str) -> bool:
    """A key's pieces: 8+ letters and digits, not hex or digits alone, with
    letters and digits, both cases, or capitals that read as random."""
    core = _NOT_ALNUM.sub("", value)
    if len(core) < 8 or hex_like(core) or core.isdigit() or word_inside(core):
        return False
    if token_like(value.replace(" ", "")) or has_mixed_case(core):
        return True
    return core.isupper() and randomness(core.lower()) >= _GROUPS_RANDOM


def bank_label(line: str) -> bool:
    """A row that names a bank account ("Recipient IBAN"): a short one, a form's label."""
    return _BANK_WORDS.search(line) is not None and len(line.split()) <= _BANK_LABEL_WORDS


_BANK_LABEL_WORDS = 5


def iban_spans(line: str, *, labelled: bool = False) -> Iterator[Span]:
    """IBANs on `line`; `labelled` when the row above names one (`bank_label`)."""
    labelled = labelled or _BANK_WORDS.search(line) is not None
    for match in IBAN_START.finditer(line):
        end = iban_at(line, match.start(), labelled=labelled)
        if end is not None:
            yield match.start(), end


# An account number in groups of four, as a bank prints an IBAN, whose
# country and check digits OCR lost ("NVXC 6443 4106 4503 89").
# Or ungrouped, an IBAN that OCR added or lost a character in ("NLS57IURS3486863612").
_ACCOUNT_GROUPS = re.compile(
    r"(?<![\w-])[A-Z0-9]{4}(?:[ ]{1,2}[A-Z0-9]{4}){2,7}(?:[ ]{1,2}[A-Z0-9]{1,3})?(?![\w-])"
    r"|(?<![\w-])[A-Z]{2}[A-Z0-9]{13,32}(?![\w-])"
)
_ACCOUNT_DIGITS = 10


def _account_spans(line: str) -> Iterator[Span]:
    """An account number with ten digits or more, beside a bank word."""
    if _BANK_WORDS.search(line) is None:
        return
    for match in _ACCOUNT_GROUPS.finditer(line):
        if sum(c.isdigit() for c in match.group()) >= _ACCOUNT_DIGITS:
            yield match.span()


def _grouped_spans(line: str) -> Iterator[Span]:
    for match in _GROUPED.finditer(line):
        groups = [_GROUP_GLYPHS.sub("", g) for g in _GROUP_DASH.split(match.group())]
        if _grouped_secret([g for g in groups if g]):
            yield match.span()
    # A group OCR cut with a space ("HK2 XY") counts when it then has the
    # length of all the others: a recovery key's groups are alike.
    for match in _GROUPED_SPACED.finditer(line):
        raw = _GROUP_DASH.split(match.group())
        whole = {len(group) for group in raw if " " not in group}
        cut = [group.replace(" ", "") for group in raw if " " in group]
        if (
            cut
            and len(whole) == 1
            and all(len(group) in whole for group in cut)
            and _grouped_secret([group.replace(" ", "") for group in raw])
        ):
            yield match.span()


def _grouped_secret(groups: list[str]) -> bool:
    """Groups of a recovery or licence key: letters with digits in two of three or more,
    or in both of two of 5+; or three or more groups of one length (4-8), one of
    them letters with digits, whose letters read as random (`_GROUPS_RANDOM`):
    OCR reads a key's digits as letters ("IM8BZ" as "IMBBZ"), so fewer groups
    keep a digit ("-OQ5TN- IMBBZ-UAESE"); "HTTP-POST-TEST" reads as words."""
    mixed = sum(token_like(group) for group in groups)
    if (len(groups) >= 3 and mixed >= 2) or (
        len(groups) == 2 and mixed == 2 and min(map(len, groups)) >= 5
    ):
        return True
    return (
        len(groups) >= 3
        and mixed >= 1
        and len({len(group) for group in groups}) == 1
        and 4 <= len(groups[0]) <= 8
        and randomness("".join(groups).lower()) >= _GROUPS_RANDOM
    )


def _aws_secret_spans(line: str) -> Iterator[Span]:
    if "secret" not in line.lower():
        return
    for match in _AWS_SECRET.finditer(line):
        if has_mixed_case(match.group()):
            yield match.span()


def merge(spans: list[Span]) -> list[Span]:
    """Sorted, with overlapping and touching spans made one; empty ones dropped."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# The last pieces of a key that OCR set apart at the row's end, after the
# part of it already found: a dot OCR read for the dashes between, then the
# gap between word boxes ("…nAJ_KLf.  NWIKZTAA" of "…nAJ_kLf_--NWJKZTAA"),
# or a letter it cut off first ("…Xkkf f7 j ROKEO" of "…Xkkff7jROkE0j1").
_END_PIECES = re.compile(r"[.,_-]?(?P<pieces>(?:[ ]{1,3}[A-Za-z0-9+/_-]+=*){1,3})[ \t]*$")
_END_PIECE_RANDOM = 0.7


def _end_piece(line: str, spans: list[Span]) -> Span | None:
    """The pieces ending the row right after the last secret found on it, if they are its end.

    One to three pieces, six letters and digits or more in all, one of them
    five or more: pieces of a key, not words. Each piece of three or more is
    letters with digits or both cases (`token_like`, "Lf_--NWJ"), or capitals
    alone whose letters read as random, as a base64 key's tail can be
    ("NWIKZTAA"; "README", "UNKNOWN" and "SUCCESS" read as words: 80% of
    random runs of 6-10 capitals pass); a piece of one or two is debris.
    """
    if not spans:
        return None
    match = _END_PIECES.match(line, spans[-1][1])
    if match is None:
        return None
    pieces = match["pieces"].split()
    cores = [_NOT_ALNUM.sub("", piece) for piece in pieces]
    if sum(map(len, cores)) < 6 or max(map(len, cores)) < 5:
        return None
    for piece, core in zip(pieces, cores, strict=True):
        if len(core) <= 2:
            continue
        if _plain(piece) or not (
            token_like(piece)
            or (core.isupper() and core.isalpha() and randomness(core.lower()) >= _END_PIECE_RANDOM)
        ):
            return None
    text = match["pieces"]
    return match.end("pieces") - len(text.lstrip()), match.end("pieces")


@dataclass(frozen=True)
class LineSecrets:
    spans: list[Span]  # merged, in order
    dangling: bool  # ends with a label whose value is not on this line
    # Ends with a labelled value too short to be whole ("API_KEY=sk- ant"):
    # OCR lost its middle, and its rest may start the next row.
    cut: bool = False


# Cheap tests that rule a rule out for most lines (a screen has hundreds):
# each rule's matches contain what its test looks for.
_RANDOMISH = re.compile(r"[A-Za-z]\d|\d[A-Za-z]|[a-z][A-Z]|[A-Za-z0-9+/_~.-]{16}|[A-Z]{5}[-—–]")
_IBAN_HINT = re.compile(r"[A-Z]{2}[ ]?[0-9OoQDIl|!SsBZzGgq]{2}")
_CARD_HINT = re.compile(r"[0-9OoIlSB|](?:[ \t-]{0,3}[0-9OoIlSB|]){12}")


# A symbol outside ASCII that OCR read for a letter inside a token: "¢" for
# "c" ("fb8890ce2548331¢4a3d46"), "¥" for "Y" ("NH7S¥-27772-45QT3"). Between a
# token's characters (a letter or digit on one side, a letter, digit or
# separator on the other) it is read as the letter it stands for, so the
# token is judged whole; elsewhere ("5 ¢", "¥100", "20 °C") it stays. A letter
# outside ASCII between two of a token's ASCII letters or digits ("…-TéqmGp6…",
# OCR's "é" for "6") is read as a letter too.
_SYMBOL_LETTERS = {"¢": "c", "©": "c", "¥": "Y", "£": "E", "€": "e", "§": "S", "®": "R"}
_SYMBOL_IN_TOKEN = re.compile(
    r"(?<=[A-Za-z0-9])[^\x00-\x7f\w\s](?=[A-Za-z0-9_-])|(?<=[_-])[^\x00-\x7f\w\s](?=[A-Za-z0-9])"
    r"|(?<=[A-Za-z0-9])[^\x00-\x7f\s](?=[A-Za-z0-9])"
)


def fold_symbols(line: str) -> str:
    """`line` with OCR's symbols inside tokens read as letters; same length, same offsets."""
    if line.isascii():
        return line
    return _SYMBOL_IN_TOKEN.sub(lambda m: _SYMBOL_LETTERS.get(m.group(), "x"), line)


def line_spans(line: str, *, emails: bool = False) -> LineSecrets:
    """Every secret on one line (see `redaction.py` for the rules).

    The spans are those of `fold_symbols(line)`, which has the same offsets.
    """
    if len(line) < 4:
        return LineSecrets([], False)
    line = fold_symbols(line)
    found: list[Span] = []
    lowered = line.lower()
    if TOKEN_STARTS.search(line):
        found += _token_spans(line)
    if "bkF" in line:
        found += _openai_mark_spans(line)
    if "insecure-" in line:
        found += _django_spans(line)
    if _RANDOMISH.search(line):
        found += _random_spans(line)
        found += _lone_word_spans(line)
        found += _random_row_spans(line)
        found += _unopened_tail_spans(line)
        found += _bare_assignment_spans(line)
        if "export" in line:
            found += _export_spans(line)
    if "/" in line or "@" in line:
        found += _dsn_spans(line)
    auth = "uthori" in lowered or "bearer" in lowered
    if auth:
        found += _authorization_spans(line)
    if "=" in line:
        found += _query_spans(line)
    if "&" in line:
        found += _query_orphan_spans(line)
    if "/" in line:
        found += _url_row_spans(line)
    if "-p" in line or "-u" in line:
        found += _command_password_spans(line)
    if _IBAN_HINT.search(line):
        found += iban_spans(line)
    if "[REDACTED]" in line:
        found += _after_marker_spans(line)
    if _CARD_HINT.search(line) or CARD_WORDS.search(line):
        found += card_spans(line)
    if _CARD_HINT.search(line) or _IBAN_HINT.search(line):
        found += _account_spans(line)
    if "-" in line or "—" in line or "–" in line:
        found += _grouped_spans(line)
    dangling = cut = False
    if any(word in lowered for word in _LABEL_WORDS):
        labelled, dangling = _labelled_spans(line)
        found += labelled
        found += _name_then_value_spans(line)
        found += _aws_secret_spans(line)
        dangling = dangling and not labelled
        cut = bool(labelled) and _cut_value(line, labelled[-1])
    if emails and "@" in line:
        found += (m.span() for m in _EMAIL.finditer(line))
    dangling = dangling or (auth and _AUTHORIZATION_AT_END.search(line) is not None)
    # `export` ending a typed command: its `NAME=value` went onto the next row.
    dangling = dangling or ("export" in line and _EXPORT_AT_END.search(line) is not None)
    spans = merge(found)
    end_piece = _end_piece(line, spans)
    if end_piece is not None:
        spans = merge([*spans, end_piece])
    return LineSecrets(spans, dangling, cut)


# A labelled value with fewer letters and digits than this, ending its row, is cut.
_CUT_VALUE = 8


def _cut_value(line: str, span: Span) -> bool:
    start, end = span
    return not line[end:].strip(TRAILING) and sum(c.isalnum() for c in line[start:end]) < _CUT_VALUE
