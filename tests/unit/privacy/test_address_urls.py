"""URL rules hold for address bars as OCR reads them, and ordinary text stays ordinary."""

from __future__ import annotations

import pytest

from mirix_desktop.privacy.exclusions import PrivacyFilter, PrivacyRule, address_urls

VAULT = "password manager web vault"


# Each one tesseract's reading of a rendered address bar (DejaVu fonts, 11-16 px).
@pytest.mark.parametrize(
    "read",
    [
        "vault. bitwarden.com/#/vault",
        "vault .bitwarden.com/#/vault",
        "vault. bitwarden. con/#/vault",
        "vault,bitwarden.com/#/vault",
        "vault bitwarden.com/#/vault",
        "vault bitwarden.comy/vault",
        "https: //vauLt. bitwarden. eu/#/vault",
        "https://vault-bitwarden.eu/#/vault",
        "hittps://vault.bitwarden.eu/#/vault",
        "https:/ivault.bitwarden.eu/#/vault",
        "bitwarden.eu/#/vault",
        "my. 1password.com/vaults/all",
        "https://my.1 password.eu/home",
        "my.Lpassword.comyvaults/all",
        "https://my.lpassword.eu/home",
        "ny .1password..com/vaults/all",
        "my-1password.com/vaults/all",
        "https://my.1password.euhome",
        "Lastpass..com/vault/",
        "won. Last pass .con/vault",
        "www. Lastpass .com/vault",
        "wwwlastpass.com/vault",
        "Jastpass.com/vault/",
        "lastpass.com/vault)",
        # With the browser's buttons read on the same line.
        "< > C @ vault. bitwarden.com/#/vault ☆ ⬇ ≡",
    ],
)
def test_a_vault_address_bar_as_ocr_reads_it_is_excluded(read: str) -> None:
    exclusion = PrivacyFilter().excluded_address([read])
    assert exclusion is not None, address_urls(read)
    assert exclusion.reason == VAULT


@pytest.mark.parametrize(
    "read",
    [
        "bitwarden. com/blog/",
        "support. 1password.com/explore/extension/",
        "example.com/?next=vault. bitwarden.com",
        "com/?next=vault .bitwarden. com",
        "www.lastpass.com/pricing",
        "github.com/bitwarden/clients",
        "Vaults | Bitwarden Web Vault x +",
        "Bitwarden blog: vault. bitwarden",
    ],
)
def test_pages_about_password_managers_are_not_vaults(read: str) -> None:
    assert PrivacyFilter().excluded_address([read]) is None


@pytest.mark.parametrize(
    "text",
    [
        "Done. Next step is here",
        "Hello, world. Bye, now",
        "Bank holidays. Opening times",
        "Bank, holidays and more",
        "Re: bank / holidays",
        "Tabs: Bank statement x Inbox x +",
    ],
)
def test_ordinary_text_makes_no_url(text: str) -> None:
    # A user's plain rule matches inside a URL only: these tab titles must not
    # become one when OCR's spaces are taken out.
    rules = [PrivacyRule(field="url", pattern="bank")]
    assert address_urls(text) == []
    assert PrivacyFilter(rules).excluded_address([text]) is None


def test_a_users_url_rule_matches_the_address_as_ocr_read_it() -> None:
    privacy = PrivacyFilter([PrivacyRule(field="url", pattern="online.mybank.example")])
    exclusion = privacy.excluded_address(["https: //online. mybank,example/accounts"])
    assert exclusion is not None
    assert exclusion.reason.startswith("your rule")


def test_urls_as_read_come_first_then_the_repaired_ones() -> None:
    assert address_urls("vault. Bitwarden.com/#/vault") == [
        "bitwarden.com/#/vault",
        "vault.bitwarden.com/#/vault",
    ]


def test_only_url_rules_are_tried_on_address_text() -> None:
    rules = [PrivacyRule(field="title", pattern="example")]
    assert PrivacyFilter(rules, use_defaults=False).excluded_address(["example.com/x"]) is None
