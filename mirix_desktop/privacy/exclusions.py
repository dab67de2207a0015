"""Which windows are never captured: the user's rules and the shipped defaults.

`PrivacyFilter` decides from a window's app, title and URL whether the frame is
captured at all. It ships `DEFAULT_EXCLUSIONS` (password managers and
private/incognito browser windows) and takes the user's own `PrivacyRule`s.

It errs towards hiding: a false positive costs one missing memory, a false
negative stores what the user never meant to keep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

RuleField = Literal["app", "title", "url"]


class PrivacyRule(BaseModel):
    """Exclude windows whose `field` matches `pattern` (always case-insensitive).

    With `regex=False` the pattern is a plain substring; with `regex=True` it
    is a Python regular expression used with `re.search`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: RuleField
    pattern: str
    regex: bool = False

    @model_validator(mode="after")
    def _check_pattern(self) -> PrivacyRule:
        # An empty pattern is a substring of every title: it would silently
        # stop all capture, which is never what the user meant.
        if not self.pattern.strip():
            raise ValueError(f"privacy rule for {self.field!r} has an empty pattern")
        if self.regex:
            # Python raises more than re.error for some patterns: OverflowError
            # for a{4294967296}, RecursionError for thousands of nested groups.
            try:
                re.compile(self.pattern)
            except (re.error, OverflowError, RecursionError) as err:
                raise ValueError(
                    f"privacy rule for {self.field!r}: {self.pattern!r} is not a valid "
                    f"regular expression ({err})"
                ) from None
        return self

    def describe(self) -> str:
        """The rule in words, e.g. "title contains 'bank'"."""
        if self.regex:
            return f"{self.field} matches /{self.pattern}/"
        return f"{self.field} contains {self.pattern!r}"


@dataclass(frozen=True)
class Exclusion:
    """Why a window was not captured.

    `reason` is shown in status output and logs, so it names the rule, never
    the window's own title or URL.
    """

    rule: PrivacyRule
    reason: str


# -- Shipped exclusions -------------------------------------------------------
#
# Password managers are matched on the APP field (WM_CLASS on X11, the process
# name on Windows, the app name or bundle id on macOS), never on the title: a
# browser tab *about* Bitwarden is not a vault. A substring covers every real
# spelling at once: "keepassxc", "KeePassXC.exe", "org.keepassxc.KeePassXC",
# "1Password 7", "com.1password.1password", "com.bitwarden.desktop".
#
# Private browser windows are matched on the TITLE, anchored on the suffix the
# browser itself appends, so words inside a page title ("Private methods in
# Python - Mozilla Firefox") cannot trigger them. Formats, from the browsers'
# own strings:
#   Firefox, Linux/Windows: "<page> — Mozilla Firefox Private Browsing"
#     (Firefox < 119: "<page> - Mozilla Firefox (Private Browsing)");
#     macOS: "<page> — Private Browsing", "Mozilla Firefox — Private Browsing".
#   Chromium family: the native X11/Win32 title carries no marker, only the
#     accessible window name does ("<page> - Google Chrome (Incognito)",
#     "<page> - Microsoft Edge (InPrivate)", "<page> - Brave (Private)"), which
#     is what macOS accessibility reports as the title. The native title only
#     gives it away on the new-tab page ("New Incognito tab - Google Chrome").
#   Edge, native title: "<page> - [InPrivate] - Microsoft\u200bEdge" (with a
#     zero-width space on Windows).
_BROWSER_VARIANT = r"(?:\s+(?:beta|dev|canary|nightly|for\s+testing))?"
_DASH = r"\s[-—–]\s+"

_DEFAULTS: tuple[tuple[PrivacyRule, str], ...] = (
    (PrivacyRule(field="app", pattern="keepassxc"), "password manager (KeePassXC)"),
    # KeePass 2 ("KeePass.exe", WM_CLASS "keepass2") and KeePassX; the
    # lookahead leaves KeePassXC to its own rule so the reason names it.
    (
        PrivacyRule(field="app", pattern=r"keepass(?!xc)", regex=True),
        "password manager (KeePass)",
    ),
    (PrivacyRule(field="app", pattern="1password"), "password manager (1Password)"),
    (PrivacyRule(field="app", pattern="bitwarden"), "password manager (Bitwarden)"),
    (PrivacyRule(field="app", pattern="lastpass"), "password manager (LastPass)"),
    # The same vaults opened in a browser tab, when the URL is known.
    (
        PrivacyRule(
            field="url",
            pattern=r"^(?:https?://)?(?:vault\.bitwarden\.(?:com|eu)"
            r"|my\.1password\.(?:com|ca|eu)|(?:www\.)?lastpass\.com/vault)(?:[/?#:]|$)",
            regex=True,
        ),
        "password manager web vault",
    ),
    (
        PrivacyRule(
            field="title",
            pattern=r"(?:\bfirefox\b[^—–\-]*?\s+\(?private\s+browsing\)?"
            rf"|{_DASH}\(?private\s+browsing\)?)\s*$",
            regex=True,
        ),
        "private browser window (Firefox)",
    ),
    (
        PrivacyRule(
            field="title",
            pattern=rf"(?:{_DASH}google\s+chrome{_BROWSER_VARIANT}\s+\(incognito\)"
            rf"|^new\s+incognito\s+tab(?:{_DASH}google\s+chrome{_BROWSER_VARIANT})?)\s*$",
            regex=True,
        ),
        "private browser window (Chrome)",
    ),
    (
        PrivacyRule(
            field="title",
            pattern=rf"{_DASH}chromium\s+\(incognito\)\s*$"
            rf"|^new\s+incognito\s+tab{_DASH}chromium\s*$",
            regex=True,
        ),
        "private browser window (Chromium)",
    ),
    (
        PrivacyRule(
            field="title",
            pattern=rf"(?:{_DASH}\[inprivate\]{_DASH}microsoft[\s\u200b]*edge{_BROWSER_VARIANT}"
            rf"|{_DASH}microsoft[\s\u200b]*edge{_BROWSER_VARIANT}\s+\(inprivate\))\s*$",
            regex=True,
        ),
        "private browser window (Edge)",
    ),
    (
        PrivacyRule(
            field="title",
            pattern=rf"(?:{_DASH}brave(?:\s+browser)?{_BROWSER_VARIANT}"
            r"\s+\(private(?:\s+with\s+tor)?\)"
            rf"|^new\s+private\s+(?:tab|window)(?:\s+with\s+tor)?(?:{_DASH}brave\b.*)?)\s*$",
            regex=True,
        ),
        "private browser window (Brave)",
    ),
)

DEFAULT_EXCLUSIONS: tuple[PrivacyRule, ...] = tuple(rule for rule, _ in _DEFAULTS)
# Each shipped rule with what it protects in words, e.g. "password manager
# (KeePassXC)": the first-run window lists them for the person.
DEFAULT_EXCLUSION_REASONS: tuple[tuple[PrivacyRule, str], ...] = _DEFAULTS


def _matcher(rule: PrivacyRule) -> Callable[[str], bool]:
    if rule.regex:
        search = re.compile(rule.pattern, re.IGNORECASE).search
        return lambda value: search(value) is not None
    needle = rule.pattern.casefold()
    return lambda value: needle in value.casefold()


class PrivacyFilter:
    """Decides whether a window may be captured at all."""

    def __init__(self, rules: Sequence[PrivacyRule] = (), *, use_defaults: bool = True) -> None:
        labelled = list(_DEFAULTS) if use_defaults else []
        labelled += [(rule, f"your rule: {rule.describe()}") for rule in rules]
        self._rules = [(rule, reason, _matcher(rule)) for rule, reason in labelled]

    @property
    def rules(self) -> tuple[PrivacyRule, ...]:
        return tuple(rule for rule, _, _ in self._rules)

    def excluded(self, app: str | None, title: str | None, url: str | None) -> Exclusion | None:
        """The first rule that matches this window, or None if it may be captured."""
        values = {"app": app, "title": title, "url": url}
        for rule, reason, matches in self._rules:
            value = values[rule.field]
            if value and matches(value):
                return Exclusion(rule=rule, reason=reason)
        return None
