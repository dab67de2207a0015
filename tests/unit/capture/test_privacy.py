import pytest
from pydantic import ValidationError

from mirix_desktop.capture.privacy import (
    DEFAULT_EXCLUSIONS,
    REDACTION_MARKER,
    PrivacyFilter,
    PrivacyRule,
    Redactor,
)

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


def _excluded_reason(
    app: str | None = None, title: str | None = None, url: str | None = None
) -> str | None:
    exclusion = PrivacyFilter().excluded(app, title, url)
    return None if exclusion is None else exclusion.reason


# -- Shipped exclusions -----------------------------------------------------


@pytest.mark.parametrize(
    ("app", "manager"),
    [
        ("keepassxc", "KeePassXC"),  # WM_CLASS on X11
        ("KeePassXC", "KeePassXC"),
        ("KeePassXC.exe", "KeePassXC"),
        ("org.keepassxc.KeePassXC", "KeePassXC"),  # Flatpak app id
        ("KeePass.exe", "KeePass"),
        ("keepass2", "KeePass"),  # KeePass 2 under Mono
        ("KeePassX", "KeePass"),
        ("1Password", "1Password"),
        ("1Password.exe", "1Password"),
        ("1Password 7", "1Password"),
        ("com.1password.1password", "1Password"),
        ("Bitwarden", "Bitwarden"),
        ("bitwarden", "Bitwarden"),
        ("Bitwarden.exe", "Bitwarden"),
        ("com.bitwarden.desktop", "Bitwarden"),
        ("LastPass", "LastPass"),
        ("LastPass.exe", "LastPass"),
    ],
)
def test_password_managers_are_excluded_by_app_name(app: str, manager: str) -> None:
    assert _excluded_reason(app=app, title="Passwords.kdbx") == f"password manager ({manager})"


@pytest.mark.parametrize(
    ("app", "title"),
    [
        ("chromium", "Bitwarden blog post - Chromium"),
        ("firefox", "KeePassXC vs 1Password: which one? — Mozilla Firefox"),
        ("google-chrome", "LastPass breach explained - Google Chrome"),
        ("code", "keepass_import.py - Visual Studio Code"),
    ],
)
def test_a_password_manager_named_only_in_the_title_is_captured(app: str, title: str) -> None:
    assert _excluded_reason(app=app, title=title) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://vault.bitwarden.com/#/vault",
        "https://vault.bitwarden.eu/#/login",
        "https://my.1password.com/vaults/all/allitems",
        "https://lastpass.com/vault/",
    ],
)
def test_password_manager_web_vaults_are_excluded_by_url(url: str) -> None:
    assert _excluded_reason(app="firefox", title="Vault", url=url) == "password manager web vault"


@pytest.mark.parametrize(
    "url",
    [
        "https://bitwarden.com/blog/",
        "https://support.1password.com/explore/extension/",
        "https://example.com/?next=vault.bitwarden.com",
    ],
)
def test_password_manager_websites_that_are_not_vaults_are_captured(url: str) -> None:
    assert _excluded_reason(app="firefox", title="Blog", url=url) is None


@pytest.mark.parametrize(
    ("title", "browser"),
    [
        ("Private methods in Python — Mozilla Firefox Private Browsing", "Firefox"),
        ("Mozilla Firefox Private Browsing", "Firefox"),
        ("DuckDuckGo — Firefox Developer Edition Private Browsing", "Firefox"),
        ("Bank - Mozilla Firefox (Private Browsing)", "Firefox"),  # Firefox before 119
        ("Bank — Private Browsing", "Firefox"),  # macOS
        ("Mozilla Firefox — Private Browsing", "Firefox"),  # macOS, no page title
        ("New Incognito tab - Google Chrome", "Chrome"),
        ("New Incognito Tab", "Chrome"),
        ("Gmail - Google Chrome (Incognito)", "Chrome"),  # accessible window name
        ("Gmail - Google Chrome Beta (Incognito)", "Chrome"),
        ("Wikipedia - Chromium (Incognito)", "Chromium"),
        ("New Incognito tab - Chromium", "Chromium"),
        ("Bing - [InPrivate] - Microsoft\u200bEdge", "Edge"),  # Windows, zero-width space
        ("Bing and 2 more pages - [InPrivate] - Microsoft Edge", "Edge"),
        ("New InPrivate tab - [InPrivate] - Microsoft Edge", "Edge"),
        ("Search - Bing - Microsoft Edge (InPrivate)", "Edge"),
        ("Docs - Brave (Private)", "Brave"),
        ("Docs - Brave (Private with Tor)", "Brave"),
        ("New Private Tab - Brave", "Brave"),
    ],
)
def test_private_browser_windows_are_excluded_by_title(title: str, browser: str) -> None:
    assert _excluded_reason(app="browser", title=title) == f"private browser window ({browser})"


@pytest.mark.parametrize(
    "title",
    [
        "Private methods in Python - Mozilla Firefox",
        "Private methods in Python — Mozilla Firefox",
        "Private Browsing - Mozilla Firefox",  # a page about it, in a normal window
        "Firefox Private Browsing explained | Mozilla Support — Mozilla Firefox",
        "Mozilla Firefox",
        "How to go Incognito in Chrome - Google Chrome",
        "Quarterly report (Incognito) - Google Chrome",
        "New Tab - Google Chrome",
        "InPrivate browsing in Edge, explained - Personal - Microsoft\u200bEdge",
        "New tab - Work - Microsoft Edge",
        "Brave (Private) windows review - Brave",
        "New Tab - Brave",
        "Private repositories · GitHub - Chromium",
    ],
)
def test_normal_browser_windows_are_captured(title: str) -> None:
    assert _excluded_reason(app="browser", title=title) is None


def test_defaults_are_exposed_as_rules() -> None:
    assert len(DEFAULT_EXCLUSIONS) == len(set(DEFAULT_EXCLUSIONS)) >= 10
    assert {rule.field for rule in DEFAULT_EXCLUSIONS} == {"app", "title", "url"}


def test_missing_window_details_never_match() -> None:
    assert PrivacyFilter().excluded(None, None, None) is None
    assert PrivacyFilter().excluded("", "", "") is None


# -- User rules ---------------------------------------------------------------


@pytest.mark.parametrize("field", ["app", "title", "url"])
def test_a_substring_rule_matches_its_field_case_insensitively(field: str) -> None:
    privacy = PrivacyFilter([PrivacyRule.model_validate({"field": field, "pattern": "bank"})])
    window = {"app": "editor", "title": "notes", "url": "https://example.com/"}

    assert privacy.excluded(**window) is None
    exclusion = privacy.excluded(**{**window, field: "My BANK statement"})

    assert exclusion is not None
    assert exclusion.reason == f"your rule: {field} contains 'bank'"


@pytest.mark.parametrize("field", ["app", "title", "url"])
def test_a_substring_rule_ignores_the_other_fields(field: str) -> None:
    privacy = PrivacyFilter([PrivacyRule.model_validate({"field": field, "pattern": "bank"})])
    others = {name: "bank" for name in ("app", "title", "url") if name != field}
    assert privacy.excluded(**{field: "notes", **others}) is None


@pytest.mark.parametrize(
    ("field", "pattern", "matching", "not_matching"),
    [
        ("app", r"^slack$", "Slack", "slack-helper"),
        ("title", r"\bpayroll\b", "Q3 Payroll - LibreOffice Calc", "payrolls.py - vim"),
        (
            "url",
            r"^https://[^/]*\.mybank\.com/",
            "https://online.mybank.com/acct",
            "https://mybank.com.evil/",
        ),
    ],
)
def test_a_regex_rule_searches_its_field_case_insensitively(
    field: str, pattern: str, matching: str, not_matching: str
) -> None:
    rule = PrivacyRule.model_validate({"field": field, "pattern": pattern, "regex": True})
    privacy = PrivacyFilter([rule], use_defaults=False)
    window = {"app": "x", "title": "x", "url": "x"}

    exclusion = privacy.excluded(**{**window, field: matching})

    assert exclusion is not None
    assert exclusion.rule == rule
    assert exclusion.reason == f"your rule: {field} matches /{pattern}/"
    assert privacy.excluded(**{**window, field: not_matching}) is None


def test_substring_rules_treat_regex_characters_literally() -> None:
    privacy = PrivacyFilter([PrivacyRule(field="title", pattern="a.b")], use_defaults=False)
    assert privacy.excluded(None, "x a.b y", None) is not None
    assert privacy.excluded(None, "x aXb y", None) is None


def test_use_defaults_false_keeps_only_the_users_rules() -> None:
    rule = PrivacyRule(field="title", pattern="bank")
    privacy = PrivacyFilter([rule], use_defaults=False)

    assert privacy.excluded("keepassxc", "Passwords.kdbx - KeePassXC", None) is None
    assert privacy.excluded(None, "Gmail - Google Chrome (Incognito)", None) is None
    assert privacy.excluded(None, "bank", None) is not None
    assert privacy.rules == (rule,)


def test_user_rules_add_to_the_defaults() -> None:
    privacy = PrivacyFilter([PrivacyRule(field="title", pattern="bank")])
    assert privacy.excluded("keepassxc", "Passwords.kdbx", None) is not None
    assert privacy.excluded("firefox", "bank", None) is not None
    assert privacy.rules[: len(DEFAULT_EXCLUSIONS)] == DEFAULT_EXCLUSIONS


def test_reasons_never_repeat_the_window_title() -> None:
    title = "Divorce lawyer consultation notes"
    privacy = PrivacyFilter(
        [
            PrivacyRule(field="title", pattern="lawyer"),
            PrivacyRule(field="app", pattern="vault", regex=True),
        ]
    )
    for app, window_title in [
        ("keepassxc", title),
        ("firefox", f"{title} — Mozilla Firefox Private Browsing"),
        ("firefox", f"{title} — Mozilla Firefox"),
        ("vault", title),
    ]:
        exclusion = privacy.excluded(app, window_title, None)
        assert exclusion is not None
        assert "Divorce" not in exclusion.reason
        assert "consultation" not in exclusion.reason


@pytest.mark.parametrize("pattern", ["", "   "])
def test_an_empty_pattern_is_rejected(pattern: str) -> None:
    with pytest.raises(ValidationError, match="empty pattern"):
        PrivacyRule(field="title", pattern=pattern)


def test_an_invalid_regex_is_rejected_with_the_pattern_named() -> None:
    with pytest.raises(ValidationError, match=r"'\(unclosed' is not a valid regular expression"):
        PrivacyRule(field="title", pattern="(unclosed", regex=True)


def test_an_invalid_regex_is_fine_as_a_substring() -> None:
    rule = PrivacyRule(field="title", pattern="(unclosed")
    assert PrivacyFilter([rule], use_defaults=False).excluded(None, "a (unclosed b", None)


@pytest.mark.parametrize(
    "data",
    [
        {"field": "window_class", "pattern": "x"},
        {"field": "title", "pattern": "x", "label": "mine"},
    ],
)
def test_unknown_fields_and_keys_are_rejected(data: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        PrivacyRule.model_validate(data)


def test_rules_are_immutable() -> None:
    rule = PrivacyRule(field="title", pattern="bank")
    with pytest.raises(ValidationError):
        rule.pattern = "anything"  # type: ignore[misc]


# -- Redaction --------------------------------------------------------------


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
