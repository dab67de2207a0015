"""Which windows are never captured: the user's rules and the shipped defaults.

`PrivacyFilter` decides from a window's app, title and URL whether the frame is
captured at all. It ships `DEFAULT_EXCLUSIONS` (password managers and
private/incognito browser windows) and takes the user's own `PrivacyRule`s.

It errs towards hiding: a false positive costs one missing memory, a false
negative stores what the user never meant to keep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
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


# -- MIRIX's own windows ------------------------------------------------------
#
# The chat, the timeline and the quick-query box show what MIRIX already
# holds: captured again, old screen text would come back as new memories at a
# new time. They are masked like an excluded window, but unlike one they do
# not stop capture while active: the person is using MIRIX, not hiding from it.
# Qt names the window class after the application name ("mirix-desktop";
# some Qt versions capitalise it).
OWN_APP = "mirix-desktop"


def is_own_window(app: str | None, process: str | None = None) -> bool:
    """Whether a window is one of MIRIX's own (by window class or process name)."""
    return any(name is not None and name.lower() == OWN_APP for name in (app, process))


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
    # The same vaults opened in a browser tab, by the URL a desktop API gives
    # or, after `address_urls`, the one OCR read in the address bar. Anchored
    # on the host, so a link *to* a vault in another page's URL is not one.
    # OCR's usual misreadings of these hosts are spelt out: a dot read as "-"
    # or lost, "1" as "l" or lost, "m" as "n" or "rn", "u" as "w", "l" as "j",
    # "/" as "i", "y/" or ")". Bitwarden's web vault routes with "#/", which
    # its website does not: that path names it when OCR lost "vault.".
    (
        PrivacyRule(
            field="url",
            pattern=r"^(?:https?://)?(?:[a-z]?vault[.-]?bitwarden\.(?:com?|co[nr]n?|eu|ew)"
            r"|bitwarden\.(?:com?|co[nr]n?|eu|ew)y?/#/"
            r"|[mn]y[.-]?[1li|]?password\.(?:com?|co[nr]n?|ca|eu|ew)"
            r"|(?:[a-z]{2,4}\.?)?[lijt|]?astpass\.(?:com?|co[nr]n?)/+vault(?![a-z0-9-]))",
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


# -- URLs as OCR reads them -------------------------------------------------------
#
# No desktop API gives a browser's URL: the pipeline reads it from the address
# bar, and OCR reads "vault.bitwarden.com/#/vault" as "vault. bitwarden.com/#/vault",
# "vault .bitwarden. con/#/vault", "https: //my.1 password.eu", "vault,bitwarden.com"
# or "vault bitwarden.com/#/vault". `address_urls` undoes that before the URL
# rules are tried, on address-bar text only (never a title or a page's text).
# A URL starts at a word's start, never inside another URL's query ("?next=").
_URL = re.compile(
    r"(?<![\w@=?&%#.-])((?:https?://)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d+)?"
    r"(?:/\S*)?)"
)
# A dot read as a comma: only between two letters or digits, never ", " in prose.
_COMMA_DOT = re.compile(r"(?<=[a-z0-9]),(?=[a-z0-9])")
# Spaces OCR puts around a URL's dots, slashes and colons.
_SPACED_SEPARATOR = re.compile(r"\s*([./:])\s*")
_DOTS = re.compile(r"\.{2,}")
_GAP = re.compile(r"\s+")
# Lines of more gaps than this are not an address bar (a tab strip, a page).
_MOST_GAPS = 8


def _url_shaped(url: str) -> bool:
    """A URL no sentence makes when its spaces are taken out: with a scheme, a
    path, or a host of three labels ("done. Next" gives "done.next": none)."""
    host = url.split("//", 1)[-1].split("/", 1)[0]
    return "//" in url or "/" in url.split("//", 1)[-1] or host.count(".") >= 2


def address_urls(text: str) -> list[str]:
    """The URLs in a line of OCR'd address-bar text, lowercased, as typed.

    URLs found as read come first. Then, with the spaces around ".", "/" and
    ":" taken out, a comma between letters read as a dot, doubled dots made
    one, and (for a line of few words) each single space taken out in turn,
    the URLs these repairs make, if they could not come from ordinary words
    (see `_url_shaped`).
    """
    lowered = text.casefold()
    found = [match.group(1).rstrip(".,;") for match in _URL.finditer(lowered)]
    squeezed = _DOTS.sub(".", _SPACED_SEPARATOR.sub(r"\1", _COMMA_DOT.sub(".", lowered)))
    variants = [squeezed.strip()]
    gaps = list(_GAP.finditer(variants[0]))
    if len(gaps) <= _MOST_GAPS:
        variants += [variants[0][: g.start()] + variants[0][g.end() :] for g in gaps]
    for variant in variants:
        for match in _URL.finditer(variant):
            url = match.group(1).rstrip(".,;")
            if url not in found and _url_shaped(url):
                found.append(url)
    return found


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

    def excluded_address(self, lines: Iterable[str]) -> Exclusion | None:
        """The first URL rule matching a URL in this address-bar text, as OCR read it."""
        urls = [url for line in lines for url in address_urls(line)]
        for rule, reason, matches in self._rules:
            if rule.field == "url" and any(matches(url) for url in urls):
                return Exclusion(rule=rule, reason=reason)
        return None
