import pytest
from pydantic import ValidationError

from mirix_desktop.privacy.exclusions import DEFAULT_EXCLUSIONS, PrivacyFilter, PrivacyRule


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
