"""Secrets drawn on screens the way people show them, to test redaction after OCR.

`cases()` is the suite: made-up credentials of realistic shape (seeded random
bodies, valid check digits for cards and IBANs), each in a realistic context (a
terminal `export`, a `.env` file, YAML, JSON, a DSN, an HTTP header, a
checkout form, a PEM file ...). `small_cases()` is one case of each of twelve
kinds, for the default test run. `render()` draws a case as a screen in one
`Style`: light or dark, DejaVu Sans Mono or DejaVu Sans, two sizes, with long
lines wrapped at the window's edge as a terminal or an editor does.

`leaks()` is the check: a secret survives when any run of `RUN` consecutive
characters of it is found in stored text, compared as is (case-sensitive) and
after `fold()`, which maps what OCR confuses onto one character and drops
everything but letters and digits (see `fold` for why this only ever finds
more).
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from mirix_desktop.memory.store import MemoryStore

MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
RUN = 8

B62 = string.ascii_letters + string.digits
B64URL = B62 + "-_"
B64 = B62 + "+/"


@dataclass(frozen=True)
class SecretCase:
    """One secret on one screen."""

    name: str
    kind: str
    secret: str  # the part that must not be stored, as typed
    lines: tuple[str, ...]  # the screen's text, the secret inside
    app: str = "gnome-terminal"
    title: str | None = None  # the window title; None: the app's usual one
    url: str | None = None
    shown: tuple[str, ...] = ()  # how the secret is written on screen, if not as `secret`

    def masked(self) -> list[str]:
        """The screen's text and title with the secret replaced: what may be stored."""
        forms = sorted(self.shown or (self.secret,), key=len, reverse=True)
        texts = [*self.lines, self.title or "", self.url or ""]
        for form in forms:
            texts = [text.replace(form, "[REDACTED]") for text in texts]
        return texts


@dataclass(frozen=True)
class Style:
    theme: str  # "light" | "dark"
    font: str  # a font file
    size: int  # pixels

    @property
    def label(self) -> str:
        font = "mono" if self.font == MONO else "sans"
        return f"{self.theme}-{font}-{self.size}"


STYLES = tuple(
    Style(theme, font, size)
    for theme in ("light", "dark")
    for font in (MONO, SANS)
    for size in (14, 18)
)

_THEMES = {
    # background, text, string literals, comments
    "light": ((255, 255, 255), (30, 30, 30), (163, 21, 21), (0, 128, 0)),
    "dark": ((30, 30, 30), (212, 212, 212), (206, 145, 120), (106, 153, 85)),
}


def render(case: SecretCase, style: Style, size: tuple[int, int] = (1280, 720)) -> Image.Image:
    """The case's lines drawn from the top left, wrapped at the right edge."""
    background, text, literal, comment = _THEMES[style.theme]
    font = ImageFont.truetype(style.font, style.size)
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    margin = 24
    usable = size[0] - 2 * margin
    step = round(style.size * 1.5)
    y = margin
    for line in case.lines:
        for row in _wrap(line, font, usable):
            x = float(margin)
            for piece, kind in _pieces(row):
                colour = {"literal": literal, "comment": comment}.get(kind, text)
                draw.text((x, y), piece, font=font, fill=colour)
                x += font.getlength(piece)
            y += step
    return image


def _wrap(line: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Cut where the next character would cross the edge, as a terminal wraps."""
    rows = []
    while font.getlength(line) > width:
        fits, over = 1, len(line)  # the longest prefix that fits, by bisection
        while over - fits > 1:
            middle = (fits + over) // 2
            if font.getlength(line[:middle]) <= width:
                fits = middle
            else:
                over = middle
        rows.append(line[:fits])
        line = line[fits:]
    rows.append(line)
    return rows


def _pieces(row: str) -> list[tuple[str, str]]:
    """A row cut into plain text, quoted literals and a trailing # comment."""
    pieces: list[tuple[str, str]] = []
    current = ""
    quote = ""
    for index, char in enumerate(row):
        if not quote and char == "#" and (index == 0 or row[index - 1] == " "):
            pieces += [(current, "plain"), (row[index:], "comment")]
            return [p for p in pieces if p[0]]
        if quote:
            current += char
            if char == quote:
                pieces.append((current, "literal"))
                current, quote = "", ""
        elif char in "\"'":
            pieces.append((current, "plain"))
            current, quote = char, char
        else:
            current += char
    pieces.append((current, "literal" if quote else "plain"))
    return [p for p in pieces if p[0]]


# -- checking -------------------------------------------------------------------

# Each group is what tesseract reads one of for another in these fonts.
_CONFUSED = {"o": "0", "q": "0", "d": "0", "l": "1", "i": "1", "|": "1", "!": "1",
             "j": "1", "s": "5", "b": "8", "z": "2", "g": "9"}  # fmt: skip


def fold(text: str) -> str:
    """Lowercased, confusable characters made one, everything but [0-9a-z] dropped.

    Applied to both sides, a mapping can only make more strings equal, so a
    folded comparison finds every leak the exact one finds and also the ones
    OCR disguised (`0` read for `O`, `l` for `1`, a space inside the key, a
    dash lost). Short secrets of digits are the price: a card's runs are
    compared without their spaces.
    """
    lowered = text.lower()
    return "".join(
        _CONFUSED.get(c, c) for c in lowered if c.isascii() and (c.isalnum() or c in _CONFUSED)
    )


def runs(secret: str, length: int = RUN) -> set[str]:
    return {secret[i : i + length] for i in range(len(secret) - length + 1)}


@dataclass(frozen=True)
class Leak:
    folded: bool  # found only after folding
    run: str
    where: str


def leaks(secret: str, texts: list[tuple[str, str]]) -> list[Leak]:
    """Runs of the secret found in `texts` ((where, text) pairs), exact ones first."""
    found = []
    exact = runs(secret)
    folded = runs(fold(secret))
    for where, text in texts:
        hit = next((run for run in exact if run in text), None)
        if hit is not None:
            found.append(Leak(False, hit, where))
            continue
        text_folded = fold(text)
        hit = next((run for run in folded if run in text_folded), None)
        if hit is not None:
            found.append(Leak(True, hit, where))
    return found


def _strings(text: str) -> list[str]:
    """A JSON value's strings (a memory's fields), else the text itself.

    Decoded, so that an escaped line break ("\\n", folded to "n") cannot join
    two pieces into a run that was never stored.
    """
    if text[:1] not in "{[":
        return [text]
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    found: list[str] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return found


# Bytes below a space: the length and position bytes between an FTS block's terms.
_CONTROL = re.compile(r"[\x00-\x1f]+")


def stored_texts(store: MemoryStore) -> list[tuple[str, str]]:
    """Every value in every table of the decrypted store, as (table.column, text).

    Text as is (JSON decoded into its strings); blobs (the FTS index, job
    payloads) read byte for byte as Latin-1 and cut at control bytes, except
    JPEG thumbnails (320 px wide, no legible text) and the vector index
    (floats). Cut, because `fold` drops what is not a letter or a digit: an
    FTS block keeps its terms apart with length bytes, and folded whole, the
    end of one term ran on into the next ("exampl" + "fduqmvc" held a run
    that no stored text holds). A term is in one piece between them.
    """
    found = []
    with store.read() as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            if table.startswith("memory_vec") or table == "memory_vectors":
                continue
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str):
                        found += [(f"{table}.{column}", text) for text in _strings(value)]
                    elif isinstance(value, bytes) and not value.startswith(b"\xff\xd8"):
                        found += [
                            (f"{table}.{column}", piece)
                            for piece in _CONTROL.split(value.decode("latin-1"))
                            if piece
                        ]
    return found


# -- the secrets ----------------------------------------------------------------


def _random(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return body + str((10 - total % 10) % 10)


def _iban(rng: random.Random, country: str, bban_shape: str) -> str:
    """A valid IBAN: `bban_shape` has "n" for a digit, "a" for a capital letter."""
    bban = "".join(
        rng.choice(string.digits if c == "n" else string.ascii_uppercase) for c in bban_shape
    )
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def _grouped(text: str, size: int = 4) -> str:
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(rng: random.Random, claims: dict[str, object]) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = _b64url(rng.randbytes(32))
    return f"{header}.{payload}.{signature}"


def _pem_body(rng: random.Random, lines: int) -> list[str]:
    der = bytes.fromhex("308204a40201000282010100") + rng.randbytes(lines * 48 - 12)
    text = base64.b64encode(der).decode()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


PROMPT = "dev@workstation:~/projects/shop$"


SEED = "mirix secret screens v1"


def _adder(out: list[SecretCase]) -> Callable[..., None]:
    """`add(name, kind, secret, lines, app=, title=, url=, shown=)`: one case onto `out`."""

    def add(
        name: str,
        kind: str,
        secret: str,
        lines: list[str],
        app: str = "gnome-terminal",
        title: str | None = None,
        url: str | None = None,
        shown: tuple[str, ...] = (),
    ) -> None:
        out.append(SecretCase(name, kind, secret, tuple(lines), app, title, url, shown))

    return add


@cache
def cases(seed: str = SEED) -> tuple[SecretCase, ...]:
    """The full suite: 51 secrets of 17 kinds, each in its own context.

    Another `seed` draws other secrets (bodies, card and account numbers) in
    the same contexts: the rules were tuned on the default one.
    """
    rng = random.Random(seed)
    out: list[SecretCase] = []
    add = _adder(out)

    # OpenAI: a project key (long, wraps), a legacy key, a service account key.
    proj = "sk-proj-" + _random(rng, B64URL, 74) + "T3BlbkFJ" + _random(rng, B64URL, 74)
    add("openai-export", "openai", proj, [
        f"{PROMPT} export OPENAI_API_KEY={proj}",
        f"{PROMPT} python chat.py --model gpt-4o",
        "Connecting to api.openai.com ... ok",
    ])  # fmt: skip
    legacy = "sk-" + _random(rng, B62, 20) + "T3BlbkFJ" + _random(rng, B62, 20)
    add("openai-python", "openai", legacy, [
        "from openai import OpenAI",
        "",
        f'client = OpenAI(api_key="{legacy}")',
        'reply = client.chat.completions.create(model="gpt-4o-mini", messages=history)',
    ], app="code", title="chat.py - shop - Visual Studio Code")  # fmt: skip
    svc = "sk-svcacct-" + _random(rng, B64URL, 60)
    add("openai-dotenv", "openai", svc, [
        "# .env  (never commit this file)",
        "APP_ENV=production",
        f"OPENAI_KEY={svc}",
        "LOG_LEVEL=info",
    ], app="code", title=".env - shop - Visual Studio Code")  # fmt: skip

    # Anthropic.
    ant = "sk-ant-api03-" + _random(rng, B64URL, 93) + "AA"
    add("anthropic-dotenv", "anthropic", ant, [
        "ANTHROPIC_BASE_URL=https://api.anthropic.com",
        f"ANTHROPIC_API_KEY={ant}",
        "MAX_TOKENS=4096",
    ], app="code", title=".env.local - Visual Studio Code")  # fmt: skip
    ant2 = "sk-ant-api03-" + _random(rng, B64URL, 93) + "AA"
    add("anthropic-terminal", "anthropic", ant2, [
        f"{PROMPT} claude config set apiKey {ant2}",
        "Saved.",
    ])  # fmt: skip

    # GitHub.
    ghp = "ghp_" + _random(rng, B62, 36)
    add("github-remote", "github", ghp, [
        f"{PROMPT} git remote -v",
        f"origin  https://{ghp}@github.com/acme/shop.git (fetch)",
        f"origin  https://{ghp}@github.com/acme/shop.git (push)",
    ])  # fmt: skip
    upper_digits = string.ascii_uppercase + string.digits
    fine = "github_pat_11" + _random(rng, upper_digits, 20) + "_" + _random(rng, B62, 59)
    add("github-fine-grained", "github", fine, [
        "New fine-grained personal access token",
        "Make sure to copy your personal access token now. You won't be able to see it again!",
        fine,
    ], app="firefox", title="Personal access tokens - GitHub — Mozilla Firefox")  # fmt: skip
    gho = "gho_" + _random(rng, B62, 36)
    add("github-hosts-yaml", "github", gho, [
        "# ~/.config/gh/hosts.yml",
        "github.com:",
        f"    oauth_token: {gho}",
        "    user: octo-dev",
        "    git_protocol: https",
    ], app="code", title="hosts.yml - Visual Studio Code")  # fmt: skip

    # Slack.
    xoxb = f"xoxb-{_random(rng, string.digits, 12)}-{_random(rng, string.digits, 13)}-" + _random(
        rng, B62, 24
    )
    add("slack-bot-token", "slack", xoxb, [
        "slack:",
        "  channel: '#deploys'",
        f"  bot_token: {xoxb}",
    ], app="code", title="config.yaml - Visual Studio Code")  # fmt: skip
    hook_tail = _random(rng, B62, 24)
    hook = (
        f"https://hooks.slack.com/services/T{_random(rng, upper_digits, 8)}"
        f"/B{_random(rng, upper_digits, 10)}/{hook_tail}"
    )
    add("slack-webhook", "slack", hook_tail, [
        f"{PROMPT} curl -X POST -H 'Content-type: application/json' \\",
        f"    --data '{{\"text\":\"deploy done\"}}' {hook}",
        "ok",
    ])  # fmt: skip
    xoxp = f"xoxp-{_random(rng, string.digits, 11)}-{_random(rng, string.digits, 12)}-" + (
        f"{_random(rng, string.digits, 13)}-{_random(rng, 'abcdef0123456789', 32)}"
    )
    add("slack-user-token-json", "slack", xoxp, [
        "{",
        '  "ok": true,',
        f'  "access_token": "{xoxp}",',
        '  "scope": "chat:write,channels:read"',
        "}",
    ], app="firefox", title="Slack API tester — Mozilla Firefox")  # fmt: skip

    # Stripe.
    sk_live = "sk_live_51" + _random(rng, B62, 97)
    add("stripe-secret-env", "stripe", sk_live, [
        f"{PROMPT} stripe login --api-key {sk_live}",
        "> Done! The Stripe CLI is configured for acct_1N2b3C4d5E6f7G8h",
    ])  # fmt: skip
    rk_live = "rk_live_51" + _random(rng, B62, 97)
    add("stripe-restricted-python", "stripe", rk_live, [
        "import stripe",
        f'stripe.api_key = "{rk_live}"',
        "stripe.Charge.list(limit=3)",
    ], app="code", title="billing.py - Visual Studio Code")  # fmt: skip
    sk_test = "sk_test_" + _random(rng, B62, 24)
    add("stripe-test-yaml", "stripe", sk_test, [
        "stripe:",
        "  publishable_key: pk_test_TYooMQauvdEDq54NiTphI7jx",
        f"  secret_key: {sk_test}",
    ], app="code", title="settings.yml - Visual Studio Code")  # fmt: skip

    # Google.
    aiza = "AIza" + _random(rng, B64URL, 35)
    add("google-maps-html", "google", aiza, [
        '<script async',
        f'  src="https://maps.googleapis.com/maps/api/js?key={aiza}&callback=initMap">',
        "</script>",
    ], app="code", title="index.html - Visual Studio Code")  # fmt: skip
    aiza2 = "AIza" + _random(rng, B64URL, 35)
    add("google-json", "google", aiza2, [
        "{",
        '  "project_id": "shop-prod-41822",',
        f'  "api_key": "{aiza2}",',
        '  "region": "europe-west1"',
        "}",
    ], app="code", title="firebase.json - Visual Studio Code")  # fmt: skip

    # AWS.
    akia = "AKIA" + _random(rng, string.ascii_uppercase + "234567", 16)
    aws_secret = _random(rng, B64, 40)
    add("aws-credentials", "aws", aws_secret, [
        "[default]",
        f"aws_access_key_id = {akia}",
        f"aws_secret_access_key = {aws_secret}",
        "region = eu-central-1",
    ], app="code", title="credentials - Visual Studio Code")  # fmt: skip
    add("aws-key-id-export", "aws", akia, [
        f"{PROMPT} export AWS_ACCESS_KEY_ID={akia}",
        f"{PROMPT} aws s3 ls",
        "2024-03-02 10:11:12 shop-assets",
    ])  # fmt: skip
    aws_secret2 = _random(rng, B64, 40)
    add("aws-secret-export", "aws", aws_secret2, [
        f"{PROMPT} export AWS_SECRET_ACCESS_KEY={aws_secret2}",
        f"{PROMPT} terraform plan",
    ])  # fmt: skip

    # JWTs.
    jwt = _jwt(rng, {"sub": "1234567890", "name": "Ada Lovelace", "iat": 1716239022})
    add("jwt-curl", "jwt", jwt, [
        f"{PROMPT} curl https://api.shop.example/v1/orders \\",
        f'    -H "Authorization: Bearer {jwt}"',
        '{"orders": [], "next": null}',
    ])  # fmt: skip
    jwt2 = _jwt(rng, {"sub": "u_8812", "role": "admin", "exp": 1893456000})
    add("jwt-devtools", "jwt", jwt2, [
        "Application  >  Local Storage  >  https://shop.example",
        "Key              Value",
        f"access_token     {jwt2}",
    ], app="firefox", title="DevTools - shop.example — Mozilla Firefox")  # fmt: skip
    jwt3 = _jwt(rng, {"iss": "shop", "uid": 77, "scope": "read write"})
    add("jwt-bare", "jwt", jwt3, [
        "Paste a token to decode it:",
        jwt3,
        "Signature verified",
    ], app="firefox", title="JSON Web Tokens - jwt.io — Mozilla Firefox")  # fmt: skip

    # PEM private keys.
    for index, (label, size) in enumerate([("RSA PRIVATE KEY", 6), ("PRIVATE KEY", 5)]):
        body = _pem_body(rng, size)
        add(f"pem-{index}", "pem", "".join(body), [
            f"{PROMPT} cat deploy/{'id_rsa' if index == 0 else 'tls.key'}",
            f"-----BEGIN {label}-----",
            *body,
            f"-----END {label}-----",
            f"{PROMPT}",
        ], shown=tuple(body))  # fmt: skip
    ossh = _pem_body(rng, 4)
    add("pem-openssh", "pem", "".join(ossh), [
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        *ossh,
        "-----END OPENSSH PRIVATE KEY-----",
    ], app="code", title="id_ed25519 - Visual Studio Code", shown=tuple(ossh))  # fmt: skip

    # Card numbers.
    visa = _luhn_complete(rng, "4", 16)
    add("card-form", "card", visa, [
        "Payment details",
        "Name on card     Ada Lovelace",
        f"Card number      {_grouped(visa)}",
        "Expiry 08/29     CVC 412",
    ], app="firefox", title="Checkout - Shop — Firefox", shown=(_grouped(visa),))  # fmt: skip
    master = _luhn_complete(rng, "5412", 16)
    add("card-chat", "card", master, [
        "Ada: can you book the hotel with the company card?",
        f"Ada: it's {master}, exp 11/27",
    ], app="slack", title="Slack | #travel")  # fmt: skip
    amex = _luhn_complete(rng, "37", 15)
    amex_shown = f"{amex[:4]} {amex[4:10]} {amex[10:]}"
    add("card-amex", "card", amex, [
        "Corporate card on file",
        f"American Express {amex_shown}",
    ], app="firefox", title="Expenses — Mozilla Firefox", shown=(amex_shown,))  # fmt: skip

    # IBANs.
    de = _iban(rng, "DE", "n" * 18)
    add("iban-invoice", "iban", de, [
        "Invoice 2024-117",
        "Please transfer the amount within 14 days to:",
        f"IBAN: {_grouped(de)}   BIC: COBADEFFXXX",
    ], app="evince", title="invoice-2024-117.pdf", shown=(_grouped(de),))  # fmt: skip
    gb = _iban(rng, "GB", "aaaa" + "n" * 14)
    add("iban-email", "iban", gb, [
        "Hi Ada,",
        f"my bank details are {_grouped(gb)} (Lloyds).",
        "Thanks!",
    ], app="thunderbird", title="Re: refund - Thunderbird", shown=(_grouped(gb),))  # fmt: skip
    nl = _iban(rng, "NL", "aaaa" + "n" * 10)
    add("iban-plain", "iban", nl, [
        "Beneficiary  ACME B.V.",
        f"Account      {nl}",
    ], app="firefox", title="Online banking — Mozilla Firefox")  # fmt: skip

    # Passwords in URLs and DSNs.
    pw = _random(rng, B62, 14)
    add("dsn-postgres", "dsn", pw, [
        f"DATABASE_URL=postgres://app:{pw}@db.internal:5432/shop",
        "REDIS_URL=redis://cache.internal:6379/0",
    ], app="code", title=".env - Visual Studio Code")  # fmt: skip
    pw2 = "Summer-Breeze-" + _random(rng, string.digits, 4)
    add("dsn-mysql-terminal", "dsn", pw2, [
        f"{PROMPT} mysqlsh mysql://root:{pw2}@127.0.0.1:3306/orders",
        "MySQL Shell 8.0.36",
    ])  # fmt: skip
    pw3 = _random(rng, B62, 16)
    add("dsn-mongo-yaml", "dsn", pw3, [
        "database:",
        f"  uri: mongodb+srv://shop-app:{pw3}@cluster0.x7k2p.mongodb.net/shop?retryWrites=true",
        "  pool_size: 10",
    ], app="code", title="app.yaml - Visual Studio Code")  # fmt: skip
    pw4 = _random(rng, string.ascii_lowercase + string.digits, 12)
    add("dsn-redis", "dsn", pw4, [
        f"{PROMPT} redis-cli -u redis://default:{pw4}@redis-12345.cloud.example.com:12345",
        "redis-12345.cloud.example.com:12345> PING",
        "PONG",
    ])  # fmt: skip

    # Opaque bearer tokens.
    bearer = _random(rng, B62, 40)
    add("bearer-http", "bearer", bearer, [
        "GET /api/v2/invoices HTTP/1.1",
        "Host: billing.example.com",
        f"Authorization: Bearer {bearer}",
        "Accept: application/json",
    ], app="firefox", title="Network - DevTools — Mozilla Firefox")  # fmt: skip
    bearer2 = _random(rng, B64URL, 43)
    add("bearer-httpie", "bearer", bearer2, [
        f"{PROMPT} http GET :8000/admin/users 'Authorization:Bearer {bearer2}'",
        "HTTP/1.1 200 OK",
    ])  # fmt: skip
    basic = base64.b64encode(f"deploy:{_random(rng, B62, 18)}".encode()).decode()
    add("basic-auth", "bearer", basic, [
        "POST /hooks/build HTTP/1.1",
        f"Authorization: Basic {basic}",
        "Content-Length: 42",
    ], app="firefox", title="Request headers — Mozilla Firefox")  # fmt: skip

    # Passwords by label.
    pw5 = "correct-Horse-" + _random(rng, string.digits, 3) + "!"
    add("password-dotenv", "password", pw5, [
        "DB_HOST=db.internal",
        "DB_USER=shop",
        f"DB_PASSWORD={pw5}",
    ], app="code", title=".env - Visual Studio Code")  # fmt: skip
    pw6 = "Tr0ub4dor&" + _random(rng, string.digits, 2) + "xK"
    add("password-yaml", "password", pw6, [
        "smtp:",
        "  host: smtp.example.com",
        "  username: alerts@example.com",
        f'  password: "{pw6}"',
    ], app="code", title="mail.yaml - Visual Studio Code")  # fmt: skip
    pw7 = "sunshine" + _random(rng, string.digits, 4)
    add("password-json", "password", pw7, [
        "{",
        '  "user": "admin",',
        f'  "password": "{pw7}",',
        '  "remember": true',
        "}",
    ], app="code", title="login.json - Visual Studio Code")  # fmt: skip

    # Other *_KEY / *_TOKEN / *_SECRET assignments.
    django = "django-insecure-" + _random(
        rng, string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)", 50
    )
    add("secret-key-django", "assignment", django, [
        "# SECURITY WARNING: keep the secret key used in production secret!",
        f"SECRET_KEY = '{django}'",
        "DEBUG = False",
    ], app="code", title="settings.py - Visual Studio Code")  # fmt: skip
    npm = "npm_" + _random(rng, B62, 36)
    add("npm-token", "assignment", npm, [
        "//registry.npmjs.org/:_authToken=" + npm,
        "always-auth=true",
    ], app="code", title=".npmrc - Visual Studio Code")  # fmt: skip
    hf = "hf_" + _random(rng, string.ascii_letters, 34)
    add("hf-token-export", "assignment", hf, [
        f"{PROMPT} export HF_TOKEN={hf}",
        f"{PROMPT} huggingface-cli whoami",
        "ada-lovelace",
    ])  # fmt: skip
    webhook_secret = "whsec_" + _random(rng, B62, 32)
    add("webhook-secret-yaml", "assignment", webhook_secret, [
        "env:",
        "  - name: STRIPE_WEBHOOK_SECRET",
        f"    value: {webhook_secret}",
    ], app="code", title="deployment.yaml - Visual Studio Code")  # fmt: skip
    jwt_secret = _random(rng, string.ascii_lowercase + string.digits, 32)
    add("jwt-secret-json", "assignment", jwt_secret, [
        '{ "port": 8080,',
        f'  "jwtSecret": "{jwt_secret}",',
        '  "cors": ["https://shop.example"] }',
    ], app="code", title="config.json - Visual Studio Code")  # fmt: skip

    # Long random tokens with no label and no prefix.
    raw = base64.b64encode(rng.randbytes(32)).decode()
    add("random-openssl", "random", raw, [
        f"{PROMPT} openssl rand -base64 32",
        raw,
        f"{PROMPT}",
    ])  # fmt: skip
    urlsafe = _b64url(rng.randbytes(32))
    add("random-token-urlsafe", "random", urlsafe, [
        f'{PROMPT} python -c "import secrets; print(secrets.token_urlsafe(32))"',
        urlsafe,
    ])  # fmt: skip
    recovery = "-".join(_random(rng, string.ascii_uppercase + string.digits, 5) for _ in range(5))
    add("random-recovery-code", "random", recovery, [
        "Your recovery key",
        "Store it somewhere safe:",
        recovery,
    ], app="firefox", title="Recovery key — Mozilla Firefox")  # fmt: skip

    # In the window's title and URL, which are stored with every frame.
    titled = "ghp_" + _random(rng, B62, 36)
    add("window-title", "window", titled, [
        "Personal access tokens (classic)",
        "Tokens you have generated that can be used to access the GitHub API.",
    ], app="firefox", title=f"{titled} - Personal access tokens - GitHub — Firefox")  # fmt: skip
    reset = _b64url(rng.randbytes(24))
    add("window-url", "window", reset, [
        "Choose a new password",
        "It must be at least 12 characters long.",
    ], app="firefox", title="Reset your password — Mozilla Firefox",
       url=f"https://app.example.com/password-reset?token={reset}&uid=42")  # fmt: skip
    return tuple(out)


def held_out_cases(seed: str = SEED) -> tuple[SecretCase, ...]:
    """Secrets in contexts the rules were never tuned on: 20 screens of the same
    kinds written after the rules, measured once before any rule looked at them
    (`redaction_suite --held-out`). The suite's contexts are what the rules
    were fitted to; these tell how far that fit carries to screens nobody
    wrote a rule for."""
    rng = random.Random("held-out-" + seed)
    out: list[SecretCase] = []
    add = _adder(out)

    proj = "sk-proj-" + _random(rng, B64URL, 74) + "T3BlbkFJ" + _random(rng, B64URL, 74)
    add("ho-openai-notebook", "openai", proj, [
        "In [3]:  import openai",
        f'         openai.api_key = "{proj}"',
        "         openai.models.list()",
    ], app="firefox", title="analysis.ipynb - JupyterLab — Mozilla Firefox")  # fmt: skip
    legacy = "sk-" + _random(rng, B62, 20) + "T3BlbkFJ" + _random(rng, B62, 20)
    add("ho-openai-chat", "openai", legacy, [
        "Sam  10:42",
        f"here's the key for the demo: {legacy}",
        "don't share it outside the team pls",
    ], app="slack", title="Slack | #ml-demo")  # fmt: skip
    ant = "sk-ant-api03-" + _random(rng, B64URL, 93) + "AA"
    add("ho-anthropic-curl", "anthropic", ant, [
        f"{PROMPT} curl https://api.anthropic.com/v1/messages \\",
        f'    -H "x-api-key: {ant}" \\',
        '    -H "anthropic-version: 2023-06-01"',
    ])  # fmt: skip
    ghp = "ghp_" + _random(rng, B62, 36)
    add("ho-github-docker-login", "github", ghp, [
        f"{PROMPT} echo {ghp} | docker login ghcr.io -u octo-dev --password-stdin",
        "Login Succeeded",
    ])  # fmt: skip
    aws_secret = _random(rng, B64, 40)
    add("ho-aws-configure", "aws", aws_secret, [
        f"{PROMPT} aws configure",
        "AWS Access Key ID [None]: AKIAIOSFODNN7EXAMPLE",
        f"AWS Secret Access Key [None]: {aws_secret}",
        "Default region name [None]: eu-west-1",
    ])  # fmt: skip
    sk_live = "sk_live_51" + _random(rng, B62, 97)
    add("ho-stripe-node", "stripe", sk_live, [
        "// server.js",
        f"const stripe = require('stripe')('{sk_live}');",
        "app.post('/checkout', async (req, res) => {",
    ], app="code", title="server.js - Visual Studio Code")  # fmt: skip
    xoxb = f"xoxb-{_random(rng, string.digits, 12)}-{_random(rng, string.digits, 13)}-" + _random(
        rng, B62, 24
    )
    add("ho-slack-python", "slack", xoxb, [
        "from slack_sdk import WebClient",
        f'client = WebClient(token="{xoxb}")',
        'client.chat_postMessage(channel="#deploys", text="done")',
    ], app="code", title="notify.py - Visual Studio Code")  # fmt: skip
    aiza = "AIza" + _random(rng, B64URL, 35)
    add("ho-google-compose", "google", aiza, [
        "services:",
        "  web:",
        "    environment:",
        f"      - GOOGLE_MAPS_KEY={aiza}",
        "      - PORT=8080",
    ], app="code", title="docker-compose.yml - Visual Studio Code")  # fmt: skip
    jwt = _jwt(rng, {"sub": "42", "email": "ada@example.com", "exp": 1893456000})
    add("ho-jwt-postman", "jwt", jwt, [
        "Authorization    Headers (9)    Body",
        "Type   Bearer Token",
        f"Token  {jwt}",
    ], app="postman", title="Postman")  # fmt: skip
    body = _pem_body(rng, 4)
    add("ho-pem-ec", "pem", "".join(body), [
        f"{PROMPT} kubectl get secret tls -o jsonpath='{{.data.tls\\.key}}' | base64 -d",
        "-----BEGIN EC PRIVATE KEY-----",
        *body,
        "-----END EC PRIVATE KEY-----",
    ], shown=tuple(body))  # fmt: skip
    visa = _luhn_complete(rng, "4", 16)
    add("ho-card-note", "card", visa, [
        "Travel checklist",
        "- passport (in the drawer)",
        f"- backup card {_grouped(visa)} exp 03/28",
    ], app="gnome-text-editor", title="notes.txt - Text Editor",
       shown=(_grouped(visa),))  # fmt: skip
    fr = _iban(rng, "FR", "n" * 10 + "a" * 11 + "nn")
    add("ho-iban-transfer", "iban", fr, [
        "New transfer",
        "Recipient IBAN",
        _grouped(fr),
        "Amount  1,250.00 EUR",
    ], app="firefox", title="Transfers — Online banking — Mozilla Firefox",
       shown=(_grouped(fr),))  # fmt: skip
    pw = _random(rng, B62, 14)
    add("ho-dsn-heroku", "dsn", pw, [
        f"{PROMPT} heroku config -a shop-prod",
        "=== shop-prod Config Vars",
        f"DATABASE_URL: postgres://u8d2kq:{pw}@ec2-3-91-1-2.compute-1.amazonaws.com:5432/d1",
    ])  # fmt: skip
    bearer = _random(rng, B62, 40)
    add("ho-bearer-requests", "bearer", bearer, [
        "import requests",
        f'headers = {{"Authorization": "Bearer {bearer}"}}',
        'r = requests.get("https://api.example.com/v1/me", headers=headers)',
    ], app="code", title="client.py - Visual Studio Code")  # fmt: skip
    pw2 = _random(rng, B62, 12) + "!"
    add("ho-password-terraform", "password", pw2, [
        'resource "aws_db_instance" "main" {',
        '  username = "admin"',
        f'  password = "{pw2}"',
        "}",
    ], app="code", title="main.tf - Visual Studio Code")  # fmt: skip
    pw3 = _random(rng, B62, 12)
    add("ho-password-mysql", "password", pw3, [
        f"{PROMPT} mysql -u root -p{pw3} -h 127.0.0.1 orders",
        "Welcome to the MySQL monitor.",
    ])  # fmt: skip
    token = _random(rng, B62, 32)
    add("ho-assignment-toml", "assignment", token, [
        "[server]",
        'url = "https://sync.example.com"',
        f'api_token = "{token}"',
    ], app="code", title="config.toml - Visual Studio Code")  # fmt: skip
    secret = base64.b64encode(rng.randbytes(24)).decode()
    add("ho-assignment-k8s", "assignment", secret, [
        "apiVersion: v1",
        "kind: Secret",
        "data:",
        f"  client-secret: {secret}",
    ], app="code", title="secret.yaml - Visual Studio Code")  # fmt: skip
    key = _random(rng, B62, 32)
    add("ho-random-dashboard", "random", key, [
        "API keys",
        "Your new key (shown once):",
        key,
        "Copy",
    ], app="firefox", title="Developer settings — Mozilla Firefox")  # fmt: skip
    titled = "sk_live_51" + _random(rng, B62, 40)
    add("ho-window-title", "window", titled, [
        "Restricted keys",
        "Create a key with limited access.",
    ], app="firefox", title=f"Stripe: {titled} — Mozilla Firefox")  # fmt: skip
    return tuple(out)


def kinds() -> list[str]:
    return sorted({case.kind for case in cases()})


def small_cases() -> list[SecretCase]:
    """One case of each of twelve kinds, for the default test run."""
    wanted = [
        "openai-export", "github-remote", "slack-bot-token", "stripe-test-yaml",
        "google-maps-html", "aws-credentials", "jwt-curl", "pem-1", "card-form",
        "iban-invoice", "dsn-postgres", "bearer-http",
    ]  # fmt: skip
    by_name = {case.name: case for case in cases()}
    return [by_name[name] for name in wanted]
