import pytest

from mirix_desktop.privacy.redaction import REDACTION_MARKER, Redactor

M = REDACTION_MARKER

# Realistically shaped, made-up credentials. Lengths match the real formats.
GITHUB_PAT_CLASSIC = "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXy"
GITHUB_OAUTH = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
GITHUB_PAT_FINE = "github_pat_11ABCDEFG0123456789abc_" + "Xy" * 29 + "Z"
OPENAI_PROJECT_KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 4
OPENAI_LEGACY_KEY = "sk-" + "T3BlbkFJa1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SLACK_BOT_TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
GOOGLE_API_KEY = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
STRIPE_SECRET = "sk_live_51H8xY2eZvKYlo2C0aBcDeFgHiJkLmNoP"
STRIPE_RESTRICTED = "rk_live_51H8xY2eZvKYlo2C0aBcDeFgHiJkLmNoP"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SESSION_KEY_ID = "ASIAY34FZKBOKMUTVV7A"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Card numbers: grouped, ungrouped, dashed, OCR double spaces, Amex 4-6-5.
        ("Card number: 4111 1111 1111 1111", f"Card number: {M}"),
        ("VISA 4111111111111111 exp 12/27", f"VISA {M} exp 12/27"),
        ("5500-0000-0000-0004", M),
        ("Mastercard 5500 - 0000 - 0000 - 0004", f"Mastercard {M}"),
        ("4111  1111 1111  1111", M),
        ("Amex 3782 822463 10005 CVV", f"Amex {M} CVV"),
        ("Discover 6011 1111 1111 1117, expires 09 28", f"Discover {M}, expires 09 28"),
        ("4111 1111 1111 1111 12 27", f"{M} 12 27"),  # expiry read onto the same line
        # AWS.
        (f"aws_access_key_id = {AWS_KEY_ID}", f"aws_access_key_id = {M}"),
        (f"AccessKeyId: {AWS_SESSION_KEY_ID}", f"AccessKeyId: {M}"),
        (f"aws_secret_access_key = {AWS_SECRET}", f"aws_secret_access_key = {M}"),
        (f"Secret access key   {AWS_SECRET}", f"Secret access key   {M}"),
        # Tokens with a known shape.
        (f"export GH_TOKEN={GITHUB_PAT_CLASSIC}", f"export GH_TOKEN={M}"),
        (
            f"git clone https://{GITHUB_PAT_CLASSIC}@github.com/o/r",
            f"git clone https://{M}@github.com/o/r",
        ),
        (f"oauth {GITHUB_OAUTH} granted", f"oauth {M} granted"),
        (f"{GITHUB_PAT_FINE} (expires in 30 days)", f"{M} (expires in 30 days)"),
        (f"OPENAI_API_KEY={OPENAI_PROJECT_KEY}", f"OPENAI_API_KEY={M}"),
        (f"client = OpenAI(api_key='{OPENAI_LEGACY_KEY}')", f"client = OpenAI(api_key='{M}')"),
        (f"SLACK_BOT {SLACK_BOT_TOKEN}", f"SLACK_BOT {M}"),
        (f"curl -X POST {SLACK_WEBHOOK} -d @msg.json", f"curl -X POST {M} -d @msg.json"),
        (f"maps.js?key={GOOGLE_API_KEY}&callback=init", f"maps.js?key={M}&callback=init"),
        (f"Stripe.api_key = '{STRIPE_SECRET}'", f"Stripe.api_key = '{M}'"),
        (f"restricted {STRIPE_RESTRICTED}", f"restricted {M}"),
        (f"Authorization: Bearer {JWT}", f"Authorization: Bearer {M}"),
        # Values on password-labelled lines: the label stays.
        ("Password: hunter2", f"Password: {M}"),
        ("password = hunter2", f"password = {M}"),
        ("Password : hunter2", f"Password : {M}"),  # OCR spacing
        ("passwd: s3cr3t!", f"passwd: {M}"),
        ("pwd: letmein", f"pwd: {M}"),
        ("passphrase: correct horse battery staple", f"passphrase: {M}"),
        ("PIN: 4821", f"PIN: {M}"),
        ("PIN code: 4821", f"PIN code: {M}"),
        ("secret: swordfish", f"secret: {M}"),
        ("api_key=3f9a8b7c6d5e", f"api_key={M}"),
        ("X-Api-Key: 3f9a8b7c6d5e", f"X-Api-Key: {M}"),
        ("token: 9f8e7d6c5b4a", f"token: {M}"),
        ("DB_PASSWORD=Tr0ub4dor&3", f"DB_PASSWORD={M}"),
        ("client_secret: Zm9vYmFyYmF6", f"client_secret: {M}"),
        ("SECRET_KEY = 'django-insecure-8x!k2@v'", f"SECRET_KEY = '{M}'"),
        ("Password: password123", f"Password: {M}"),
        ('{"password": "hunter2", "user": "bob"}', f'{{"password": "{M}", "user": "bob"}}'),
    ],
)
def test_secrets_are_replaced_by_the_marker(line: str, expected: str) -> None:
    assert Redactor().redact(line) == (expected, 1)


@pytest.mark.parametrize(
    "line",
    [
        # Numbers that are not cards.
        "Order #4111 1111 1111 1112 shipped",  # fails Luhn
        "Invoice 1234 5678 1234 5678",  # fails Luhn
        "Call +1 (555) 123-4567 or +44 20 7946 0958",
        "Uploaded at 1700000000000 ms",  # a timestamp that happens to pass Luhn
        "0000 0000 0000 0000",  # a placeholder
        "pi = 3.1415926535897932384",
        "loss = 0.4111111111111111",  # a fraction, though 4111... passes Luhn
        "id 41111111-1111-1111-1111-111111111111",  # 8+4+4 digits would pass Luhn
        # Hashes and ids.
        "commit 9fceb02d0ae598e95dc970b74dcd6f7a1d5f3bd2",
        "fix secret rotation (9fceb02d0ae598e95dc970b74dcd6f7a1d5f3bd2)",
        "request 123e4567-e89b-12d3-a456-426614174000 failed",
        "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        # The words without a value.
        "Forgot your password?",
        "Change password",
        "Password must be at least 8 characters",
        "Enter your PIN to continue",
        "Secret Santa party on Friday",
        "Tokens: 1,532 of 4,096 used",
        "max_tokens=1024, temperature=0.2",
        "token_type_ids = torch.zeros(shape)",
        "Keyboard shortcuts: Ctrl+K",
        # Code that names a secret without holding one.
        "password = getpass.getpass()",
        "token = None",
        "Passing `token=True` is required for private models.",
        "token=token, timeout=timeout)",
        "api_key = os.environ['OPENAI_API_KEY']",
        "token: str | None = None",
        "self.password = password",
        "token = request.headers",
        "password: str",
        "token: TokenOpt = None,",
        # A masked field shows nothing.
        "Password: ••••••••",
        # Look-alikes of token prefixes.
        "Read: sk-hynix-memory-prices-2024-q3",
        "task-runner-sk-module",
        "Key design decisions",
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
    ],
)
def test_near_misses_are_left_alone(line: str) -> None:
    assert Redactor().redact(line) == (line, 0)


def test_a_pem_private_key_is_redacted_line_by_line_through_its_end() -> None:
    lines = [
        "$ cat ~/.ssh/id_rsa",
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAuNQh1Iw7Ag2Y3ckAqEW7n5Lx8VAHvZ5oZ2Jvb0o1J5gF5y2",
        "tR2Dl0U1yDeGz4iRmB5sl7TnQfNpK3nKqaZAWkQvJ8N1Mv2Yk3a0o+9ZQ1kP2aB",
        "-----END RSA PRIVATE KEY-----",
        "$ ls",
    ]
    assert Redactor().redact_lines(lines) == (["$ cat ~/.ssh/id_rsa", M, M, M, M, "$ ls"], 1)


def test_a_pem_key_without_an_end_is_redacted_to_the_last_line() -> None:
    lines = ["key.pem", "-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA", "more"]
    assert Redactor().redact_lines(lines) == (["key.pem", M, M, M], 1)


def test_pem_armour_mangled_by_ocr_is_still_recognised() -> None:
    lines = [
        "—---BEGIN  EC PRIVATE  KEY ----",
        "MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5",
        "---- END EC PRIVATE KEY-----",
        "ok",
    ]
    assert Redactor().redact_lines(lines) == ([M, M, M, "ok"], 1)


def test_each_pem_key_counts_once() -> None:
    key = [
        "-----BEGIN PRIVATE KEY-----",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "-----END PRIVATE KEY-----",
    ]
    lines, count = Redactor().redact_lines(["a", *key, "b", *key, "c"])
    assert lines == ["a", M, M, M, "b", M, M, M, "c"]
    assert count == 2


def test_a_pem_key_on_one_line_ends_on_that_line() -> None:
    line = r'"key": "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n",'
    assert Redactor().redact_lines([line, "next"]) == ([M, "next"], 1)


def test_counts_every_secret_and_keeps_line_count_and_order() -> None:
    lines = [
        "Deploy notes",
        f"{AWS_KEY_ID} {AWS_SECRET} secret",
        "Cards 4111 1111 1111 1111 and 5500 0000 0000 0004",
        '{"password": "hunter2", "token": "abc123"}',
        "",
        "Done",
    ]
    redacted, count = Redactor().redact_lines(lines)
    assert redacted == [
        "Deploy notes",
        f"{M} {M} secret",
        f"Cards {M} and {M}",
        f'{{"password": "{M}", "token": "{M}"}}',
        "",
        "Done",
    ]
    assert count == 6


def test_a_token_behind_a_label_counts_once() -> None:
    assert Redactor().redact(f"token: {GITHUB_PAT_CLASSIC}") == (f"token: {M}", 1)


def test_clean_text_comes_back_unchanged() -> None:
    lines = ["def main() -> None:", "    print('hello')", "", "Meeting at 10:30 in room 4"]
    assert Redactor().redact_lines(lines) == (lines, 0)
    assert Redactor().redact_lines([]) == ([], 0)


def test_redact_splits_and_joins_on_newlines() -> None:
    text = "user: bob\nPassword: hunter2\n\nCard 4111 1111 1111 1111\n"
    assert Redactor().redact(text) == (f"user: bob\nPassword: {M}\n\nCard {M}\n", 2)


def test_emails_are_kept_unless_asked_for() -> None:
    line = "Contact jane.doe+work@example.co.uk about it"
    assert Redactor().redact(line) == (line, 0)
    assert Redactor(emails=True).redact(line) == (f"Contact {M} about it", 1)


def test_secrets_are_found_on_any_line_of_a_long_screen() -> None:
    filler = [f"line {i}: nothing to see" for i in range(500)]
    lines = [*filler, "Password: hunter2", *filler, f"key {GOOGLE_API_KEY}", "PIN: 4821"]
    redacted, count = Redactor().redact_lines(lines)
    assert count == 3
    assert redacted[500] == f"Password: {M}"
    assert redacted[-2:] == [f"key {M}", f"PIN: {M}"]
    assert redacted[:500] == filler


def test_lines_whose_case_folding_changes_length_are_still_checked() -> None:
    # "İ" lowercases to two characters, which shifts offsets in the joined text.
    lines = ["İstanbul ofisi", "PASSWORD: hunter2", "İ"]
    assert Redactor().redact_lines(lines) == (["İstanbul ofisi", f"PASSWORD: {M}", "İ"], 1)
