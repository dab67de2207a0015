"""Deterministic replay of a realistic desktop session, for the capture benchmark.

`replay_frames()` yields 1920x1080 screenshots taken every 2 s of simulated time
of a GNOME-like desktop: a top panel with app names and a ticking clock, a light
code editor showing Python's own standard-library source, a dark terminal whose
commands print real output (listings, line counts, grep, pydoc) and a browser
showing pydoc's documentation of stdlib modules laid out like docs.python.org.
The session idles, scrolls, types, switches apps and opens files and pages, and
every frame says which of those happened.

Carets blink as in the real apps, so a pause is not a run of identical frames.
Only the focused window shows a live caret, and it restarts visible whenever
that window gets input (each "type" frame, an "open", focusing it by a "switch"):
- the editor's 2 px bar blinks 530 ms on, 530 ms off as long as the editor has
  focus (VS Code's default "blink" style; VS Code hides it in an unfocused
  editor). VS Code's source toggles every 500 ms (ViewCursors.BLINK_INTERVAL);
  530 ms is the Windows caret blink time. At frames exactly 2 s apart a 500 ms
  half period would always sample the visible phase, 530 ms gives a real mix;
- the terminal's block blinks with GTK's defaults, gtk-cursor-blink-time 1200 ms
  (600 ms on, 600 ms off), and stops blinking, solid, once
  gtk-cursor-blink-timeout (10 s) has passed without input. Unfocused, it is a
  hollow outline, as in gnome-terminal.
Visibility follows from the frame's time and the time of the window's last
input, so frames stay deterministic.

The user reads at a human pace: after an event that reveals text (a scroll or
page-down, opening a file or page, a command's output, switching to a window
whose text changed since it was last seen) they stay idle for as many frames as
reading the words that were not visible before takes (whitespace-separated words
of the new lines), at a speed drawn per event uniformly between 238 words per
minute (average silent reading of non-fiction by adults, Brysbaert 2019, "How
many words do we read per minute?") and 450 words per minute (skimming). The
session also has idle stretches where the user thinks or takes a call.

All randomness comes from one seeded `random.Random`, listings are sorted and
the real stdlib prefix is shown as /usr/lib/pythonX.Y, so the same seed on the
same Python version, fonts and Pillow gives the same pixels. Each window is
re-rendered only when its state changes (the caret is drawn on a copy), so
switching back to a window shows it exactly as it was left. `caret=False,
reading=False` (--no-caret --no-reading) gives the earlier session: carets that
never blink and a user shown new text at about 600 words a minute.

Each frame also carries `text`, every string drawn on its screen, as ground truth
for telling OCR's real words from misreads. Surfaces record the strings they draw
alongside their cached image, so a reused surface brings its text with it. Strings
are recorded as drawn (after ellipsizing and column truncation), without surrounding
whitespace; a code or terminal row drawn in coloured pieces is recorded as one row;
a browser line cut by the viewport's top or bottom edge is recorded whole if any of
it shows. Glyphs used as icons (×, ●, ›, ☆, +, ...), the minimap and carets are not
text.

    .venv/bin/python -m tests.benchmarks.replay_frames --count 320 --out /tmp/replay_sample
"""

from __future__ import annotations

import argparse
import ast
import codecs
import functools
import importlib
import math
import os
import pydoc
import random
import re
import statistics
import sys
import sysconfig
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont

SCREEN_W, SCREEN_H = 1920, 1080
PANEL_H = 28
WORK_H = SCREEN_H - PANEL_H
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FRAME_SECONDS = 2
EVENTS = ("start", "idle", "scroll", "type", "switch", "open")
# Events that give the focused window input, which restarts its caret visible.
INPUT_EVENTS = ("type", "open", "switch")
# Caret blink (on, off) in ms; see the module docstring for the sources.
EDITOR_BLINK = (530, 530)
TERMINAL_BLINK = (600, 600)  # gtk-cursor-blink-time 1200 ms
TERMINAL_BLINK_TIMEOUT = timedelta(seconds=10)  # gtk-cursor-blink-timeout
READING_WPM = (238.0, 450.0)  # Brysbaert 2019 non-fiction average; skimming

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
STDLIB = Path(sysconfig.get_paths()["stdlib"])
PY_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
# The real prefix differs between machines (pyenv, venv, distro); frames must not.
SHOWN_STDLIB = f"/usr/lib/python{sys.version_info.major}.{sys.version_info.minor}"
USER_HOST = "dev@workstation"

# Packages every distribution ships (Debian splits tkinter, lib2to3, ... out).
PACKAGES = tuple(
    """asyncio collections concurrent email html http importlib json logging urllib xml
    zoneinfo""".split()
)
DISTRO_SPLIT = {"tkinter", "turtle", "turtledemo", "idlelib", "lib2to3", "distutils", "ensurepip"}
SKIP_DIRS = {"__pycache__", "test", "tests", "idle_test", "site-packages", "dist-packages"}

# Titles as docs.python.org gives them.
DOC_PAGES = {
    "json": "JSON encoder and decoder",
    "textwrap": "Text wrapping and filling",
    "pathlib": "Object-oriented filesystem paths",
    "shlex": "Simple lexical analysis",
    "difflib": "Helpers for computing deltas",
    "heapq": "Heap queue algorithm",
    "bisect": "Array bisection algorithm",
    "fnmatch": "Unix filename pattern matching",
    "glob": "Unix style pathname pattern expansion",
    "shutil": "High-level file operations",
    "statistics": "Mathematical statistics functions",
    "functools": "Higher-order functions and operations on callable objects",
    "csv": "CSV File Reading and Writing",
    "string": "Common string operations",
    "base64": "Base16, Base32, Base64, Base85 Data Encodings",
    "dataclasses": "Data Classes",
    "html.parser": "Simple HTML and XHTML parser",
    "urllib.parse": "Parse URLs into components",
    "gzip": "Support for gzip files",
    "collections": "Container datatypes",
}
PYDOC_FUNCTIONS = tuple(
    """base64.b64encode difflib.unified_diff fnmatch.fnmatch functools.lru_cache glob.glob
    heapq.nlargest json.dump json.dumps json.loads shlex.split shutil.copytree shutil.which
    statistics.median string.capwords textwrap.dedent textwrap.wrap""".split()
)
PYDOC_KEYWORDS = ("json", "parse", "mail", "thread", "compress", "html", "date", "path", "zip")


@dataclass(frozen=True)
class ReplayWindow:
    app: str
    title: str
    url: str | None
    rect: tuple[int, int, int, int]
    active: bool


@dataclass(frozen=True)
class ReplayFrame:
    index: int
    at: datetime
    image: Image.Image
    windows: tuple[ReplayWindow, ...]
    event: str
    # Every string drawn on the screen: the panel's, then each shown window's (in
    # `windows` order), in drawing order; see `_text` for what counts.
    text: tuple[str, ...] = ()


def replay_frames(
    count: int = 320, seed: int = 0, *, caret: bool = True, reading: bool = True
) -> Iterator[ReplayFrame]:
    """Yield `count` frames of the session `seed`, 2 s apart from START.

    `caret` makes the focused window's caret blink, `reading` gives the user time
    to read what each event reveals; with both off the carets are steady and the
    user races through text, as in earlier versions of this script.
    """
    desktop = _Desktop(random.Random(seed), reading=reading)
    events = desktop.events()
    for index in range(count):
        event = next(events)
        at = START + timedelta(seconds=FRAME_SECONDS * index)
        if event in INPUT_EVENTS:
            desktop.stack[0].input_at = at
        image, text = desktop.compose(at, blink=caret)
        yield ReplayFrame(index, at, image, desktop.windows(), event, text)


# --- fonts and text ---------------------------------------------------------------------------


@functools.cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        path = folder / f"{name}.ttf"
        if path.exists():
            return ImageFont.truetype(str(path), size)
    raise FileNotFoundError(f"{name}.ttf not found in {[str(d) for d in FONT_DIRS]}")


@functools.cache
def _baseline(name: str, size: int, line_h: int) -> int:
    ascent, descent = _font(name, size).getmetrics()
    return (line_h - ascent - descent) // 2 + ascent


@functools.lru_cache(maxsize=65_536)
def _width(name: str, size: int, text: str) -> float:
    return _font(name, size).getlength(text)


class _Draw(ImageDraw.ImageDraw):
    """An ImageDraw that keeps the strings `_text` draws with it, in drawing order."""

    def __init__(self, im: Image.Image) -> None:
        super().__init__(im)
        self.strings: list[str] = []

    def record(self, text: str) -> None:
        """Note `text` as drawn; whitespace around it draws nothing and is dropped."""
        if text := text.strip():
            self.strings.append(text)


def _text(
    draw: _Draw,
    xy: tuple[float, float],
    text: str,
    font: tuple[str, int],
    fill: str,
    anchor: str = "ls",
    *,
    record: bool = True,
) -> None:
    """Draw `text`, and record it unless `record` is off: icons drawn as glyphs (×, ›,
    ☆, ...) are not text, and callers drawing one line in pieces record the line."""
    draw.text(xy, text, font=_font(*font), fill=fill, anchor=anchor)
    if record:
        draw.record(text)


def _ellipsize(text: str, font: tuple[str, int], width: float) -> str:
    if _width(*font, text) <= width:
        return text
    while text and _width(*font, text + "…") > width:
        text = text[:-1]
    return text + "…"


def _window_controls(draw: ImageDraw.ImageDraw, right: int, mid: int, color: str) -> None:
    """Minimise, maximise and close glyphs ending at x=right."""
    x = right - 22 - 46
    draw.rectangle((x - 5, mid - 5, x + 5, mid + 5), outline=color)
    x -= 46
    draw.line((x - 5, mid, x + 5, mid), fill=color, width=1)
    x = right - 22
    draw.line((x - 5, mid - 5, x + 5, mid + 5), fill=color, width=1)
    draw.line((x - 5, mid + 5, x + 5, mid - 5), fill=color, width=1)


# --- real text from the standard library --------------------------------------------------


def _shown(path: Path) -> str:
    return path.relative_to(STDLIB).as_posix()


@functools.cache
def _source_files() -> tuple[str, ...]:
    """Stdlib files of PACKAGES between 2 and 120 kB, as 'json/decoder.py'."""
    found = []
    for package in PACKAGES:
        for path in (STDLIB / package).rglob("*.py"):
            parts = set(path.relative_to(STDLIB).parts)
            if parts & SKIP_DIRS:
                continue
            if 2_000 <= path.stat().st_size <= 120_000:
                found.append(_shown(path))
    return tuple(sorted(found))


@functools.cache
def _source_lines(rel: str) -> tuple[str, ...]:
    text = (STDLIB / rel).read_text(encoding="utf-8", errors="replace")
    return tuple(line.expandtabs(8).rstrip() for line in text.splitlines())


def _listing(rel: str) -> list[str]:
    names = [n for n in os.listdir(STDLIB / rel) if n not in SKIP_DIRS]
    return sorted(names)


def _sanitize(text: str) -> str:
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)
    return text.replace(str(STDLIB), SHOWN_STDLIB)


_PLAINTEXT: pydoc.TextDoc = pydoc.plaintext  # type: ignore[attr-defined]  # not in typeshed


@functools.cache
def _pydoc_text(name: str) -> str:
    return _sanitize(pydoc.render_doc(name, renderer=_PLAINTEXT))


@functools.cache
def _pydoc_function(dotted: str) -> str:
    module, _, attr = dotted.rpartition(".")
    obj = getattr(importlib.import_module(module), attr)
    return _sanitize(pydoc.render_doc(obj, title="Help on %s:", renderer=_PLAINTEXT))


@functools.cache
def _module_synopses() -> tuple[tuple[str, str], ...]:
    """(module, synopsis) for what `pydoc -k` would walk, minus distro-specific modules."""
    found: list[tuple[str, str]] = []
    for name in sorted(os.listdir(STDLIB)):
        path = STDLIB / name
        stem = name.removesuffix(".py")
        if stem in DISTRO_SPLIT or stem in SKIP_DIRS or stem.startswith("_sysconfigdata"):
            continue
        if name.endswith(".py"):
            found.append((stem, pydoc.synopsis(str(path)) or ""))
        elif stem in PACKAGES:
            for sub in sorted((path).rglob("*.py")):
                if set(sub.relative_to(STDLIB).parts) & SKIP_DIRS:
                    continue
                dotted = _shown(sub).removesuffix(".py").replace("/", ".")
                found.append((dotted.removesuffix(".__init__"), pydoc.synopsis(str(sub)) or ""))
    return tuple(found)


def _zen() -> list[str]:
    tree = ast.parse((STDLIB / "this.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            return codecs.decode(str(node.value.value), "rot13").splitlines()
    raise ValueError("this.py has no encoded Zen")


# --- editor ------------------------------------------------------------------------------

C_TEXT = "#000000"
C_KEYWORD = "#0000ff"
C_CONTROL = "#af00db"
C_STRING = "#a31515"
C_COMMENT = "#008000"
C_NUMBER = "#098658"
C_FUNC = "#795e26"
C_CLASS = "#267f99"
KEYWORDS = {"def", "class", "lambda", "and", "or", "not", "in", "is", "None", "True", "False"}
KEYWORDS |= {"self", "cls", "global", "nonlocal", "async"}
CONTROL = {"if", "elif", "else", "for", "while", "return", "import", "from", "try", "except"}
CONTROL |= {"finally", "raise", "with", "yield", "break", "continue", "pass", "as", "await"}
CONTROL |= {"assert", "del", "match", "case"}
_TOKEN = re.compile(
    r"""
    (?P<comment>\#.*)
  | (?P<triple>[rRbBuUfF]{0,2}(?:'''|\"\"\"))
  | (?P<string>[rRbBuUfF]{0,2}(?:'(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?))
  | (?P<number>\b(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*\.?\d*(?:[eE][+-]?\d+)?j?)\b)
  | (?P<deco>@[\w.]+)
  | (?P<name>[A-Za-z_]\w*)
    """,
    re.VERBOSE,
)
Span = tuple[int, str, str]  # column, text, colour


@functools.lru_cache(maxsize=50_000)
def _highlight(line: str, state: str | None) -> tuple[tuple[Span, ...], str | None]:
    """Colour spans of one line covering it entirely, and the triple quote left open."""
    spans: list[Span] = []
    pos = 0
    if state:
        end = line.find(state)
        if end < 0:
            return ((0, line, C_STRING),), state
        spans.append((0, line[: end + 3], C_STRING))
        pos = end + 3
    previous = ""
    while match := _TOKEN.search(line, pos):
        kind, start, text = match.lastgroup, match.start(), match.group()
        if start > pos:
            spans.append((pos, line[pos:start], C_TEXT))
        if kind == "triple":
            quote = text[-3:]
            end = line.find(quote, match.end())
            if end < 0:
                spans.append((start, line[start:], C_STRING))
                return tuple(spans), quote
            text = line[start : end + 3]
            color = C_STRING
        elif kind == "name":
            if text in KEYWORDS:
                color = C_KEYWORD
            elif text in CONTROL:
                color = C_CONTROL
            elif previous == "class":
                color = C_CLASS
            elif previous == "def" or line[match.end() : match.end() + 1] == "(":
                color = C_FUNC
            else:
                color = C_TEXT
            previous = text
        else:
            color = {"comment": C_COMMENT, "string": C_STRING, "number": C_NUMBER}.get(
                kind or "", C_FUNC
            )
        spans.append((start, text, color))
        pos = start + len(text)
    if pos < len(line):
        spans.append((pos, line[pos:], C_TEXT))
    return tuple(spans), None


@dataclass
class _Doc:
    """One file open in the editor."""

    rel: str
    lines: list[str]
    states: list[str | None] = field(default_factory=list)
    top: int = 0
    cursor: tuple[int, int] = (0, 0)
    modified: bool = False

    def __post_init__(self) -> None:
        state: str | None = None
        for line in self.lines:
            self.states.append(state)
            state = _highlight(line, state)[1]

    def restate(self, index: int) -> None:
        """Recolour from line `index` on, stopping where the old colouring resumes."""
        state = _highlight(self.lines[index], self.states[index])[1]
        for j in range(index + 1, len(self.lines)):
            if self.states[j] == state:
                return
            self.states[j] = state
            state = _highlight(self.lines[j], state)[1]

    def symbol(self, line: int) -> str:
        for i in range(min(line, len(self.lines) - 1), max(-1, line - 600), -1):
            if found := re.match(r"(?:async )?(?:def|class) (\w+)", self.lines[i]):
                return found.group(1)
        return ""


def _blink_on(since: timedelta, blink: tuple[int, int], timeout: timedelta | None = None) -> bool:
    """Whether a caret that restarted visible `since` ago is shown."""
    if timeout is not None and since >= timeout:
        return True  # stopped blinking, solid
    on, off = blink
    return since // timedelta(milliseconds=1) % (on + off) < on


Key = tuple[str | int, ...]  # identifies one line of text a window shows
Strings = tuple[str, ...]  # the strings drawn on a surface, in drawing order


class _App:
    app = ""
    label = ""

    def __init__(self) -> None:
        self.version = 0
        self.size = (SCREEN_W, WORK_H)
        self.input_at = START  # the last input, which restarted the caret's blink
        self._surface: tuple[tuple[int, tuple[int, int], bool], Image.Image, Strings] | None = None
        self._with_caret: Image.Image | None = None

    @property
    def title(self) -> str:
        raise NotImplementedError

    @property
    def url(self) -> str | None:
        return None

    def changed(self) -> None:
        self.version += 1

    def surface(self, active: bool, caret: bool) -> tuple[Image.Image, Strings]:
        """The window and the strings drawn on it, rendered once per state; the caret
        (no text) goes on a cached copy."""
        key = (self.version, self.size, active)
        if self._surface is None or self._surface[0] != key:
            self._surface = (key, *self.render(active))
            self._with_caret = None
        strings = self._surface[2]
        if not caret:
            return self._surface[1], strings
        if self._with_caret is None:
            self._with_caret = self._surface[1].copy()
            self.draw_caret(self._with_caret, active)
        return self._with_caret, strings

    def render(self, active: bool) -> tuple[Image.Image, Strings]:
        """The window without its caret, and the strings drawn on it."""
        raise NotImplementedError

    def caret(self, at: datetime, active: bool, blink: bool) -> bool:
        """Whether the caret is drawn at `at`; without `blink` it never blinks."""
        return False

    def draw_caret(self, img: Image.Image, active: bool) -> None:
        """Draw the caret on `img`, a copy of the last render."""

    def visible(self) -> dict[Key, str]:
        """The lines of text of the window's main area that are on screen now."""
        return {}


class _Editor(_App):
    """A Visual Studio Code window, Light+ theme."""

    app = "code"
    label = "Visual Studio Code"
    MONO = ("DejaVuSansMono", 15)
    UI = ("DejaVuSans", 13)
    LINE_H = 20
    TITLE_H, TABS_H, CRUMBS_H, STATUS_H = 30, 36, 24, 24
    ACTIVITY_W, SIDEBAR_W, MINIMAP_W, SCROLLBAR_W = 48, 280, 90, 14
    MENU = ("File", "Edit", "Selection", "View", "Go", "Run", "Terminal", "Help")

    def __init__(self, files: list[str]) -> None:
        super().__init__()
        self.docs = [_Doc(rel, list(_source_lines(rel))) for rel in files]
        self.current = 0
        # The caret bar, and the minimap's arguments, of the last render.
        self._caret: tuple[tuple[int, int, int, int], tuple[int, int, int]] | None = None

    @property
    def doc(self) -> _Doc:
        return self.docs[self.current]

    @property
    def title(self) -> str:
        return f"{'● ' if self.doc.modified else ''}{self.doc.rel} - Visual Studio Code"

    @property
    def rows(self) -> int:
        chrome = self.TITLE_H + self.TABS_H + self.CRUMBS_H + self.STATUS_H
        return (self.size[1] - chrome) // self.LINE_H

    def scroll(self, lines: int) -> bool:
        top = max(0, min(self.doc.top + lines, len(self.doc.lines) - self.rows // 2))
        if top == self.doc.top:
            return False
        self.doc.top = top
        self.changed()
        return True

    def open(self, rel: str, line: int = 0) -> None:
        for i, doc in enumerate(self.docs):
            if doc.rel == rel:
                self.current = i
                break
        else:
            if len(self.docs) >= 6:
                self.docs.pop(next(i for i in range(len(self.docs)) if i != self.current))
            self.docs.append(_Doc(rel, list(_source_lines(rel))))
            self.current = len(self.docs) - 1
            self.doc.top = max(0, line - 3)
            self.doc.cursor = (line, 0)
        self.changed()

    def new_line(self, at: int, indent: int) -> None:
        doc = self.doc
        doc.lines.insert(at, " " * indent)
        doc.states.insert(at, doc.states[at] if at < len(doc.states) else None)
        doc.cursor = (at, indent)
        doc.modified = True
        self._follow_cursor()
        self.changed()

    def type(self, text: str) -> None:
        doc = self.doc
        line, col = doc.cursor
        doc.lines[line] = doc.lines[line][:col] + text + doc.lines[line][col:]
        doc.cursor = (line, col + len(text))
        doc.restate(line)
        doc.modified = True
        self.changed()

    def save(self) -> None:
        self.doc.modified = False
        self.changed()

    def _follow_cursor(self) -> None:
        line = self.doc.cursor[0]
        if line >= self.doc.top + self.rows - 3:
            self.doc.top = line - self.rows + 4

    def caret(self, at: datetime, active: bool, blink: bool) -> bool:
        # VS Code hides the caret of an unfocused editor.
        return active and (not blink or _blink_on(at - self.input_at, EDITOR_BLINK))

    def draw_caret(self, img: Image.Image, active: bool) -> None:
        if self._caret is None:
            return
        box, minimap = self._caret
        draw = ImageDraw.Draw(img)
        draw.rectangle(box, fill="#000000")
        if box[2] >= minimap[0]:  # past the last column: under the minimap
            self._minimap(draw, *minimap)

    def visible(self) -> dict[Key, str]:
        doc = self.doc
        w = self.size[0]
        left = self.ACTIVITY_W + (self.SIDEBAR_W if w >= 1400 else 0)
        adv = _width(*self.MONO, "M")
        text_x = left + 20 + max(4, len(str(len(doc.lines)))) * adv + 28
        right = w - self.MINIMAP_W - self.SCROLLBAR_W
        cols = int((right - text_x - 6) // adv)
        end = min(len(doc.lines), doc.top + self.rows)
        return {(doc.rel, i): doc.lines[i][:cols] for i in range(doc.top, end)}

    def render(self, active: bool) -> tuple[Image.Image, Strings]:
        w, h = self.size
        img = Image.new("RGB", (w, h), "#ffffff")
        draw = _Draw(img)
        self._title_bar(draw, w, active)
        sidebar = self.SIDEBAR_W if w >= 1400 else 0
        draw.rectangle((0, self.TITLE_H, self.ACTIVITY_W - 1, h), fill="#2c2c2c")
        self._activity_icons(draw)
        if sidebar:
            self._explorer(draw, self.ACTIVITY_W, sidebar, h - self.STATUS_H)
        left = self.ACTIVITY_W + sidebar
        self._tabs(draw, left, w)
        self._code(draw, left, w, h, active)
        self._status(draw, w, h)
        return img, tuple(draw.strings)

    def _title_bar(self, draw: _Draw, w: int, active: bool) -> None:
        draw.rectangle((0, 0, w, self.TITLE_H - 1), fill="#dddddd" if active else "#ebebeb")
        draw.rounded_rectangle((12, 7, 28, 23), radius=3, fill="#0065a9")
        x = 44
        color = "#333333" if active else "#8a8a8a"
        for item in self.MENU:
            _text(draw, (x, self.TITLE_H // 2), item, self.UI, color, "lm")
            x += int(_width(*self.UI, item)) + 16
        title = self.title
        tw = _width(*self.UI, title)
        cx = max(w / 2, x + tw / 2 + 20)
        if cx + tw / 2 < w - 150:
            _text(draw, (cx, self.TITLE_H // 2), title, self.UI, color, "mm")
        _window_controls(draw, w, self.TITLE_H // 2, "#333333")

    def _activity_icons(self, draw: ImageDraw.ImageDraw) -> None:
        y = self.TITLE_H + 12
        draw.rectangle((0, y - 6, 1, y + 30), fill="#ffffff")
        draw.rectangle((14, y + 2, 30, y + 24), outline="#ffffff", width=2)
        draw.rectangle((18, y - 2, 34, y + 20), outline="#ffffff", width=2)
        y += 48
        draw.ellipse((13, y, 29, y + 16), outline="#858585", width=2)
        draw.line((27, y + 14, 35, y + 22), fill="#858585", width=3)
        y += 48
        for cx, cy in ((16, y), (16, y + 20), (32, y + 8)):
            draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), outline="#858585", width=2)
        draw.line((16, y + 4, 16, y + 16), fill="#858585", width=2)
        y += 48
        draw.polygon(((16, y), (16, y + 22), (34, y + 11)), outline="#858585", width=2)
        y += 48
        for dx, dy in ((0, 0), (12, 0), (0, 12), (13, -3)):
            draw.rectangle((13 + dx, y + dy + 3, 22 + dx, y + dy + 12), outline="#858585", width=2)

    def _explorer(self, draw: _Draw, x0: int, width: int, bottom: int) -> None:
        draw.rectangle((x0, self.TITLE_H, x0 + width - 1, bottom), fill="#f3f3f3")
        small = ("DejaVuSans", 11)
        bold = ("DejaVuSans-Bold", 11)
        _text(draw, (x0 + 20, self.TITLE_H + 20), "EXPLORER", small, "#616161", "lm")
        more = (x0 + width - 36, self.TITLE_H + 20)
        _text(draw, more, "···", small, "#616161", "lm", record=False)
        y = self.TITLE_H + 40
        label = f"PYTHON{sys.version_info.major}.{sys.version_info.minor}"
        _text(draw, (x0 + 8, y + 11), "⌄", self.UI, "#424242", "lm", record=False)
        _text(draw, (x0 + 24, y + 11), label, bold, "#383838", "lm")
        y += 22
        path = self.doc.rel.split("/")
        rows: list[tuple[int, str, bool, bool]] = []  # depth, name, folder, selected
        for package in PACKAGES:
            rows.append((0, package, True, package == path[0]))
            if package == path[0]:
                self._tree(package, path[1:], 1, rows)
        for depth, name, folder, selected in rows:
            if y + 22 > bottom:
                break
            x = x0 + 16 + depth * 14
            if selected and not folder:
                draw.rectangle((x0, y, x0 + width - 1, y + 21), fill="#e4e6f1")
            if folder:
                chevron = "⌄" if selected else "›"
                _text(draw, (x, y + 11), chevron, self.UI, "#424242", "lm", record=False)
            else:
                draw.rectangle((x + 1, y + 6, x + 11, y + 10), fill="#3572a5")
                draw.rectangle((x + 1, y + 11, x + 11, y + 15), fill="#e5b62a")
            _text(draw, (x + 18, y + 11), name, self.UI, "#383838" if folder else "#333333", "lm")
            y += 22

    def _tree(
        self, rel: str, path: list[str], depth: int, rows: list[tuple[int, str, bool, bool]]
    ) -> None:
        names = _listing(rel)
        folders = [n for n in names if (STDLIB / rel / n).is_dir()]
        files = [n for n in names if n.endswith(".py") and n not in folders]
        for name in folders:
            opened = bool(path) and name == path[0]
            rows.append((depth, name, True, opened))
            if opened:
                self._tree(f"{rel}/{name}", path[1:], depth + 1, rows)
        for name in files:
            rows.append((depth, name, False, len(path) == 1 and name == path[0]))

    def _tabs(self, draw: _Draw, left: int, w: int) -> None:
        y0, y1 = self.TITLE_H, self.TITLE_H + self.TABS_H
        draw.rectangle((left, y0, w, y1 - 1), fill="#f3f3f3")
        x = left
        for i, doc in enumerate(self.docs):
            name = doc.rel.rsplit("/", 1)[-1]
            tw = int(_width(*self.UI, name)) + 70
            if x + tw > w:
                break
            chosen = i == self.current
            draw.rectangle((x, y0, x + tw - 1, y1 - 1), fill="#ffffff" if chosen else "#ececec")
            draw.line((x + tw - 1, y0, x + tw - 1, y1), fill="#f3f3f3")
            draw.rectangle((x + 12, y0 + 12, x + 22, y0 + 16), fill="#3572a5")
            draw.rectangle((x + 12, y0 + 17, x + 22, y0 + 21), fill="#e5b62a")
            _text(draw, (x + 30, y0 + 18), name, self.UI, "#333333" if chosen else "#6f6f6f", "lm")
            mark = "●" if doc.modified else ("×" if chosen else "")
            if mark:
                _text(draw, (x + tw - 24, y0 + 18), mark, self.UI, "#424242", "lm", record=False)
            x += tw
        crumbs = " › ".join(self.doc.rel.split("/"))
        symbol = self.doc.symbol(max(self.doc.cursor[0], self.doc.top))
        if symbol:
            crumbs += f" › {symbol}"
        _text(draw, (left + 16, y1 + self.CRUMBS_H // 2), crumbs, self.UI, "#616161", "lm")

    def _code(self, draw: _Draw, left: int, w: int, h: int, active: bool) -> None:
        doc = self.doc
        adv = _width(*self.MONO, "M")
        top_y = self.TITLE_H + self.TABS_H + self.CRUMBS_H
        digits = max(4, len(str(len(doc.lines))))
        number_right = left + 20 + digits * adv
        text_x = number_right + 28
        right = w - self.MINIMAP_W - self.SCROLLBAR_W
        max_cols = int((right - text_x - 6) // adv)
        base = _baseline(*self.MONO, self.LINE_H)
        cursor_line, cursor_col = doc.cursor
        for row in range(self.rows):
            i = doc.top + row
            if i >= len(doc.lines):
                break
            y = top_y + row * self.LINE_H
            current = i == cursor_line
            if current:
                draw.rectangle((text_x - 4, y, right, y + self.LINE_H - 1), outline="#eeeeee")
            number = str(i + 1)
            _text(
                draw,
                (number_right, y + base),
                number,
                self.MONO,
                "#0b216f" if current else "#237893",
                "rs",
            )
            draw.record(doc.lines[i][:max_cols])  # the row, drawn below in coloured spans
            spans = _highlight(doc.lines[i], doc.states[i])[0]
            for col, text, color in spans:
                if col >= max_cols:
                    break
                text = text[: max_cols - col]
                if text.strip():
                    xy = (text_x + col * adv, y + base)
                    _text(draw, xy, text, self.MONO, color, record=False)
        self._caret = None
        if active and doc.top <= cursor_line < doc.top + self.rows:
            x = round(text_x + cursor_col * adv)
            y = top_y + (cursor_line - doc.top) * self.LINE_H
            box = (x, y + 1, x + 1, y + self.LINE_H - 2)
            self._caret = (box, (right, top_y, h - self.STATUS_H))
        self._minimap(draw, right, top_y, h - self.STATUS_H)

    def _minimap(self, draw: ImageDraw.ImageDraw, x0: int, y0: int, y1: int) -> None:
        doc = self.doc
        capacity = (y1 - y0) // 2
        total = len(doc.lines)
        if total > capacity:
            first = round(doc.top * (total - capacity) / max(1, total - self.rows))
            first = max(0, min(first, total - capacity))
        else:
            first = 0
        slider = (doc.top - first) * 2 + y0
        draw.rectangle(
            (x0, slider, x0 + self.MINIMAP_W - 1, slider + self.rows * 2), fill="#ececec"
        )
        for row in range(min(capacity, total - first)):
            i = first + row
            y = y0 + row * 2
            for col, text, color in _highlight(doc.lines[i], doc.states[i])[0]:
                stripped = text.rstrip()
                lead = len(text) - len(text.lstrip())
                if not stripped.strip() or col + lead > 80:
                    continue
                end = min(80, col + len(stripped))
                draw.line((x0 + 6 + col + lead, y, x0 + 6 + end, y), fill=color)
        view = y1 - y0
        thumb = max(20, view * self.rows // max(total, 1))
        pos = y0 + (view - thumb) * doc.top // max(1, total - self.rows // 2)
        sx = x0 + self.MINIMAP_W
        draw.rectangle((sx + 3, pos, sx + self.SCROLLBAR_W - 2, pos + thumb), fill="#c8c8c8")

    def _status(self, draw: _Draw, w: int, h: int) -> None:
        y0 = h - self.STATUS_H
        draw.rectangle((0, y0, w, h), fill="#007acc")
        draw.rectangle((0, y0, 34, h), fill="#16825d")
        _text(draw, (9, y0 + 12), "><", self.UI, "#ffffff", "lm", record=False)
        _text(draw, (48, y0 + 12), "main", self.UI, "#ffffff", "lm")
        _text(draw, (100, y0 + 12), "⊗ 0  ⚠ 0", self.UI, "#ffffff", "lm")
        line, col = self.doc.cursor
        right = f"Ln {line + 1}, Col {col + 1}    Spaces: 4    UTF-8    LF    Python    "
        right += f"{PY_VERSION} 64-bit"
        _text(draw, (w - 40, y0 + 12), right, self.UI, "#ffffff", "rm")


# --- terminal -----------------------------------------------------------------------------

Segment = tuple[str, str]  # text, style
TermLine = tuple[Segment, ...]
TERM_STYLES = {
    "fg": ("DejaVuSansMono", "#d0cfcc"),
    "user": ("DejaVuSansMono-Bold", "#57d75b"),
    "path": ("DejaVuSansMono-Bold", "#6fa8f7"),
    "dir": ("DejaVuSansMono-Bold", "#6fa8f7"),
    "match": ("DejaVuSansMono-Bold", "#f66151"),
}


@functools.lru_cache(maxsize=20_000)
def _wrap_segments(line: TermLine, cols: int) -> tuple[tuple[tuple[int, str, str], ...], ...]:
    rows: list[list[tuple[int, str, str]]] = [[]]
    col = 0
    for text, style in line:
        while text:
            room = cols - col
            if room <= 0:
                rows.append([])
                col, room = 0, cols
            piece, text = text[:room], text[room:]
            rows[-1].append((col, piece, style))
            col += len(piece)
    return tuple(tuple(r) for r in rows)


def _plain(lines: list[str]) -> list[TermLine]:
    return [((line, "fg"),) for line in lines]


class _Terminal(_App):
    """A GNOME Terminal window in the stdlib directory."""

    app = "gnome-terminal"
    label = "Terminal"
    MONO = ("DejaVuSansMono", 15)
    HEADER_H, LINE_H, PAD = 40, 19, 8

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[TermLine] = []
        self.first = 0  # how many lines scrolled out of the history or were cleared
        self.typed = ""
        self.running = False
        self._cursor = (0, 0, 0, 0)  # the cursor block of the last render

    @property
    def title(self) -> str:
        return f"{USER_HOST}: {SHOWN_STDLIB}"

    def prompt(self, command: str = "") -> TermLine:
        return ((USER_HOST, "user"), (":", "fg"), (SHOWN_STDLIB, "path"), ("$ " + command, "fg"))

    def type(self, text: str) -> None:
        self.typed += text
        self.changed()

    def enter(self) -> None:
        self.lines.append(self.prompt(self.typed))
        self.typed = ""
        self.running = True
        self.changed()

    def output(self, lines: list[TermLine], done: bool) -> None:
        self.lines.extend(lines)
        self.first += max(0, len(self.lines) - 2000)
        del self.lines[:-2000]
        self.running = not done
        self.changed()

    def clear(self) -> None:
        self.first += len(self.lines)
        self.lines.clear()
        self.typed = ""
        self.running = False
        self.changed()

    def render(self, active: bool) -> tuple[Image.Image, Strings]:
        w, h = self.size
        img = Image.new("RGB", (w, h), "#171421")
        draw = _Draw(img)
        draw.rectangle((0, 0, w, self.HEADER_H - 1), fill="#303030" if active else "#242424")
        ui = ("DejaVuSans-Bold", 14)
        title_color = "#ffffff" if active else "#919191"
        _text(draw, (w // 2, self.HEADER_H // 2), self.title, ui, title_color, "mm")
        draw.rounded_rectangle((8, 6, 40, 34), radius=5, fill="#454545")
        _text(draw, (24, 20), "+", ("DejaVuSans", 18), "#ffffff", "mm", record=False)
        for i, x in enumerate((w - 190, w - 150)):
            draw.rounded_rectangle((x - 16, 6, x + 16, 34), radius=5, fill="#454545")
            if i == 0:
                draw.ellipse((x - 7, 13, x + 3, 23), outline="#ffffff", width=2)
                draw.line((x + 2, 22, x + 7, 27), fill="#ffffff", width=2)
            else:
                for dy in (-5, 0, 5):
                    draw.line((x - 7, 20 + dy, x + 7, 20 + dy), fill="#ffffff", width=2)
        _window_controls(draw, w, self.HEADER_H // 2, "#ffffff")

        adv = _width(*self.MONO, "M")
        cols, rows, screen = self._screen()
        shown = [row for _, _, row in screen]
        base = _baseline(*self.MONO, self.LINE_H)
        y0 = self.HEADER_H + self.PAD
        for r, row in enumerate(shown):
            draw.record("".join(text for _, text, _ in row))  # the row, drawn in segments
            for col, text, style in row:
                font, color = TERM_STYLES[style]
                if text.strip():
                    xy = (self.PAD + col * adv, y0 + r * self.LINE_H + base)
                    _text(draw, xy, text, (font, 15), color, record=False)
        # The cursor sits at the end of the prompt, or of the output, on nothing.
        last = shown[-1] if shown and shown[-1] else ()
        cursor_col = last[-1][0] + len(last[-1][1]) if last else 0
        cx = round(self.PAD + cursor_col * adv)
        cy = y0 + (len(shown) - 1) * self.LINE_H
        self._cursor = (cx, cy + 1, cx + round(adv) - 1, cy + self.LINE_H - 2)
        total = max(rows, sum(len(_wrap_segments(line, cols)) for line in self.lines[-300:]))
        thumb = max(30, (h - self.HEADER_H) * rows // total)
        draw.rectangle((w - 8, h - thumb - 2, w - 4, h - 2), fill="#5e5c64")
        return img, tuple(draw.strings)

    def _screen(self) -> tuple[int, int, list[tuple[int, int, tuple[tuple[int, str, str], ...]]]]:
        """Columns, rows and the rows on screen as (index in lines + prompt, part, row)."""
        w, h = self.size
        cols = int((w - 2 * self.PAD - 14) // _width(*self.MONO, "M"))
        rows = (h - self.HEADER_H - 2 * self.PAD) // self.LINE_H
        tail: list[TermLine] = [] if self.running else [self.prompt(self.typed)]
        if self.running:
            tail.append((("", "fg"),))
        lines = self.lines + tail
        shown: list[tuple[int, int, tuple[tuple[int, str, str], ...]]] = []
        for n in range(len(lines) - 1, -1, -1):
            shown[:0] = [(n, part, row) for part, row in enumerate(_wrap_segments(lines[n], cols))]
            if len(shown) >= rows:
                break
        return cols, rows, shown[-rows:]

    def caret(self, at: datetime, active: bool, blink: bool) -> bool:
        # Unfocused, gnome-terminal draws a steady hollow block.
        since = at - self.input_at
        return not active or not blink or _blink_on(since, TERMINAL_BLINK, TERMINAL_BLINK_TIMEOUT)

    def draw_caret(self, img: Image.Image, active: bool) -> None:
        draw = ImageDraw.Draw(img)
        if active:
            draw.rectangle(self._cursor, fill="#d0cfcc")
        else:
            draw.rectangle(self._cursor, outline="#d0cfcc")

    def visible(self) -> dict[Key, str]:
        """Output on screen, keyed by line number since the session began; not prompts."""
        prompt = ((USER_HOST, "user"),)
        return {
            ("term", self.first + n, part): "".join(text for _, text, _ in row)
            for n, part, row in self._screen()[2]
            if n < len(self.lines) and self.lines[n][:1] != prompt
        }


def _command(rng: random.Random, editing: str) -> tuple[str, list[list[TermLine]]]:
    """A shell command with its real output, split into chunks shown 2 s apart."""
    kind = rng.choices(
        ("ls", "wc", "grep", "head", "pydoc", "pydoc-k", "find", "zen", "version", "clear"),
        weights=(2, 1.5, 2, 1.5, 2, 1, 1, 0.3, 0.3, 0.6),
    )[0]
    package = rng.choice(PACKAGES)
    source = editing if rng.random() < 0.5 else rng.choice(_source_files())
    if kind == "ls":
        return f"ls -l {package}", [_ls(package)]
    if kind == "wc":
        files = [n for n in _listing(package) if n.endswith(".py")]
        counts = [(STDLIB / package / n).read_bytes().count(b"\n") for n in files]
        width = len(str(sum(counts)))
        table = [f"{c:>{width}} {package}/{n}" for c, n in zip(counts, files, strict=True)]
        table.append(f"{sum(counts):>{width}} total")
        return f"wc -l {package}/*.py", [_plain(table)]
    if kind == "grep":
        lines = _source_lines(source)
        pattern = re.compile(r"^\s*(class|def) ")
        defs = [(i, line) for i, line in enumerate(lines) if pattern.match(line)][:120]
        out: list[TermLine] = []
        for i, line in defs:
            start = len(line) - len(line.lstrip())
            end = line.index(" ", start)
            out.append(
                (
                    (f"{i + 1}", "user"),
                    (":" + line[:start], "fg"),
                    (line[start:end], "match"),
                    (line[end:], "fg"),
                )
            )
        return f'grep -nE "^\\s*(class|def) " {source}', [out]
    if kind == "head":
        n = rng.choice((20, 30, 40))
        return f"head -n {n} {source}", [_plain(list(_source_lines(source)[:n]))]
    if kind == "pydoc":
        name = rng.choice(PYDOC_FUNCTIONS)
        text = _pydoc_function(name).splitlines()
        return f"PAGER=cat python3 -m pydoc {name}", [_plain(text)]
    if kind == "pydoc-k":
        keyword = rng.choice(PYDOC_KEYWORDS)
        hits = [f"{m} - {s}" for m, s in _module_synopses() if keyword in f"{m} - {s}".lower()]
        parts = rng.randint(2, 3)
        size = math.ceil(len(hits) / parts) or 1
        chunks = [_plain(hits[i : i + size]) for i in range(0, len(hits), size)] or [[]]
        return f"python3 -m pydoc -k {keyword}", chunks
    if kind == "find":
        found = sorted(
            _shown(p)
            for p in (STDLIB / package).rglob("*.py")
            if not set(p.relative_to(STDLIB).parts) & SKIP_DIRS
        )
        return f"find {package} -name '*.py' | sort", [_plain(found)]
    if kind == "zen":
        return 'python3 -c "import this"', [_plain(_zen())]
    if kind == "version":
        return "python3 --version", [_plain([f"Python {PY_VERSION}"])]
    return "clear", [[]]


def _ls(package: str) -> list[TermLine]:
    entries = []
    blocks = 0
    for name in _listing(package):
        path = STDLIB / package / name
        folder = path.is_dir()
        size = 4096 if folder else path.stat().st_size
        blocks += 4 * math.ceil(size / 4096)
        entries.append((name, folder, size))
    width = max(len(str(size)) for _, _, size in entries)
    out: list[TermLine] = [((f"total {blocks}", "fg"),)]
    for name, folder, size in entries:
        mode = "drwxr-xr-x 2" if folder else "-rw-r--r-- 1"
        meta = f"{mode} dev dev {size:>{width}} Oct 14 11:02 "
        out.append(((meta, "fg"), (name, "dir" if folder else "fg")))
    return out


# --- browser ------------------------------------------------------------------------------

PAGE_STYLES = {
    "nav": ("DejaVuSans", 14, "#333333"),
    "navlink": ("DejaVuSans", 14, "#0072aa"),
    "h1": ("DejaVuSans-Bold", 30, "#1a1a1a"),
    "h2": ("DejaVuSans-Bold", 23, "#1a1a1a"),
    "h3": ("DejaVuSansMono-Bold", 16, "#1a1a1a"),
    "h4": ("DejaVuSans-Bold", 16, "#333333"),
    "p": ("DejaVuSans", 16, "#222222"),
    "sig": ("DejaVuSansMono-Bold", 15, "#000000"),
    "pre": ("DejaVuSansMono", 14, "#333333"),
    "side_h": ("DejaVuSans-Bold", 17, "#1a1a1a"),
    "side": ("DejaVuSans", 14, "#0072aa"),
    "foot": ("DejaVuSans", 13, "#555555"),
}
LINE_HEIGHTS = {"h1": 44, "h2": 36, "h3": 26, "h4": 26, "p": 25, "sig": 23, "pre": 19}
READ_STYLES = set(LINE_HEIGHTS)  # the article; not the navigation, sidebar or footer
SCROLL_LINE = LINE_HEIGHTS["p"]


class _Item(NamedTuple):
    kind: str  # "text" or "rect"
    x: int
    y: int
    w: int
    h: int
    style: str  # a PAGE_STYLES key for text, a colour for rects
    text: str = ""


@dataclass(frozen=True)
class _Page:
    items: tuple[_Item, ...]
    height: int


def _doc_blocks(module: str) -> list[tuple[str, str, int]]:
    """pydoc's plain text of `module` as (kind, text, indent) blocks of a docs page."""
    lines = _pydoc_text(module).splitlines()[1:]
    sections: list[tuple[str, list[str]]] = []
    for line in lines:
        if line and not line[0].isspace():
            sections.append((line.strip(), []))
        elif sections:
            sections[-1][1].append(line[4:] if line.startswith("    ") else line.strip())
    blocks: list[tuple[str, str, int]] = [("h1", f"{module} — {DOC_PAGES[module]}", 0)]
    for header, body in sections:
        if header in ("NAME", "MODULE REFERENCE", "FILE"):
            continue
        blocks.append(("h2", header.title(), 0))
        if header in ("DATA", "PACKAGE CONTENTS", "SUBMODULES", "VERSION", "AUTHOR", "CREDITS"):
            blocks.extend(("pre", line, 0) for line in body)
            continue
        if header == "CLASSES":
            tree = next((i for i, line in enumerate(body) if line.startswith("class ")), 0)
            blocks.extend(("pre", line, 0) for line in body[:tree] if line.strip())
            body = body[tree:]
        blocks.extend(_body_blocks(body, members=header in ("FUNCTIONS", "CLASSES")))
    return blocks


_MEMBER_HEADING = re.compile(
    r"^(Methods|Data|Class methods|Static methods|Readonly properties|Method resolution order"
    r"|Data and other attributes|Properties)\b.*:$"
)
_SIGNATURE = re.compile(r"^[\w.]+\(.*\)( from .*)?$|^[A-Za-z_]\w*$|^\w+ = ")


def _body_blocks(body: list[str], members: bool) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    paragraph: list[str] = []
    indent = 0

    def flush() -> None:
        if paragraph:
            text = " ".join(paragraph)
            text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text).replace("``", "")
            out.append(("p", text, indent))
            paragraph.clear()

    in_class = False
    for line in body:
        if line.startswith("class "):
            flush()
            in_class = True
            out.append(("h3", line, 0))
            continue
        if in_class and line.startswith(" |"):
            line = line[4:] if len(line) > 4 else ""
            indent = 30
        elif line.strip():
            in_class = False
            indent = 0
        stripped = line.strip()
        depth = len(line) - len(line.lstrip())
        if not stripped:
            flush()
            continue
        if members and depth == 0:
            flush()
            if re.fullmatch(r"-{10,}", stripped):
                out.append(("hr", "", indent))
            elif _MEMBER_HEADING.match(stripped):
                out.append(("h4", stripped, indent))
            elif _SIGNATURE.match(stripped) or not in_class:
                out.append(("sig", stripped, indent))
            else:
                paragraph.append(stripped)
            continue
        base = 4 if members else 0
        code = stripped.startswith((">>>", "...", "+", "|")) or depth > base
        if code:
            flush()
            out.append(("pre", line[base:] if depth >= base else stripped, indent))
        else:
            if stripped.startswith(("- ", "* ")):
                flush()
            paragraph.append(stripped)
    flush()
    return out


def _wrap(text: str, style: str, width: float) -> list[str]:
    name, size, _ = PAGE_STYLES[style]
    space = _width(name, size, " ")
    rows: list[list[str]] = []
    used = width
    for word in text.split():
        word_w = _width(name, size, word)
        if rows and used + space + word_w <= width:
            rows[-1].append(word)
            used += space + word_w
        else:
            rows.append([word])
            used = word_w
    return [" ".join(row) for row in rows]


@functools.cache
def _page(module: str, width: int) -> _Page:
    """Lay out the docs page of `module` for a viewport `width` pixels wide."""
    items: list[_Item] = []
    sidebar = 260 if width >= 1200 else 0
    x0 = sidebar + 40
    text_w = min(width - x0 - 50, 1150)
    items.append(_Item("rect", 0, 0, width, 40, "#f2f2f2"))
    items.append(_Item("rect", 0, 39, width, 1, "#cccccc"))
    crumbs = f"Python » {PY_VERSION} Documentation » The Python Standard Library » {module}"
    items.append(_Item("text", 14, 0, 0, 40, "navlink", crumbs))
    if width >= 1200:
        items.append(_Item("text", width - 330, 0, 0, 40, "navlink", "index  |  modules  |  next"))
        items.append(_Item("rect", width - 150, 8, 130, 24, "#ffffff"))
        items.append(_Item("text", width - 142, 0, 0, 40, "nav", "Quick search"))
    blocks = _doc_blocks(module)
    y = 60
    pre: tuple[int, int, int] | None = None  # first item, top, indent of an open code block

    def close_pre() -> None:
        assert pre is not None
        first, top, indent = pre
        box = _Item("rect", x0 + indent, top, text_w - indent, y + 6 - top, "#eeffcc")
        items.insert(first, box)

    for kind, text, indent in blocks:
        x = x0 + indent
        if kind != "pre" and pre is not None:
            close_pre()
            pre = None
            y += 18
        if kind == "h1":
            for row in _wrap(text, "h1", text_w):
                items.append(_Item("text", x, y, 0, LINE_HEIGHTS["h1"], "h1", row))
                y += LINE_HEIGHTS["h1"]
            y += 14
        elif kind == "h2":
            y += 20
            items.append(_Item("text", x, y, 0, LINE_HEIGHTS["h2"], "h2", text))
            y += LINE_HEIGHTS["h2"] + 10
        elif kind == "h3":
            y += 12
            items.append(_Item("rect", x - 8, y - 3, text_w, LINE_HEIGHTS["h3"] + 6, "#ececec"))
            items.append(_Item("text", x, y, 0, LINE_HEIGHTS["h3"], "h3", text))
            y += LINE_HEIGHTS["h3"] + 14
        elif kind == "h4":
            y += 6
            items.append(_Item("text", x, y, 0, LINE_HEIGHTS["h4"], "h4", text))
            y += LINE_HEIGHTS["h4"] + 4
        elif kind == "hr":
            items.append(_Item("rect", x, y + 8, text_w - indent, 1, "#cccccc"))
            y += 18
        elif kind == "sig":
            cols = max(20, int((text_w - indent) // _width("DejaVuSansMono-Bold", 15, "M")))
            for start in range(0, len(text), cols):
                chunk = text[start : start + cols]
                items.append(_Item("text", x, y, 0, LINE_HEIGHTS["sig"], "sig", chunk))
                y += LINE_HEIGHTS["sig"]
            y += 4
        elif kind == "p":
            for row in _wrap(text, "p", text_w - indent - 20):
                items.append(_Item("text", x + 20, y, 0, LINE_HEIGHTS["p"], "p", row))
                y += LINE_HEIGHTS["p"]
            y += 10
        elif kind == "pre":
            if pre is None:
                pre = (len(items), y, indent)
                y += 6
            cols = int((text_w - indent - 24) // _width("DejaVuSansMono", 14, "M"))
            items.append(_Item("text", x + 12, y, 0, LINE_HEIGHTS["pre"], "pre", text[:cols]))
            y += LINE_HEIGHTS["pre"]
    if pre is not None:
        close_pre()
        y += 18
    y += 20
    items.append(_Item("rect", 0, y, width, 1, "#cccccc"))
    footer = "© Copyright 2001-2023, Python Software Foundation. This page is licensed under the "
    footer += "Python Software Foundation License Version 2."
    items.append(_Item("text", x0, y + 16, 0, 24, "foot", footer))
    y += 80
    if sidebar:
        items[3:3] = _sidebar(module, blocks, sidebar, y)
    return _Page(tuple(items), y)


def _sidebar(
    module: str, blocks: list[tuple[str, str, int]], width: int, height: int
) -> list[_Item]:
    items = [_Item("rect", 0, 40, width, height - 40, "#eeeeee")]
    y = 60
    items.append(_Item("text", 20, y, 0, 30, "side_h", "Table of Contents"))
    y += 36
    for kind, text, _ in blocks:
        if kind in ("h1", "h2", "h3") and y < 700:
            label = text.removeprefix("class ").split("(")[0]
            label = _ellipsize(label, ("DejaVuSans", 14), width - 50 - (16 if kind == "h3" else 0))
            indent = {"h1": 20, "h2": 34, "h3": 50}[kind]
            items.append(_Item("text", indent, y, 0, 22, "side", label))
            y += 22
    names = list(DOC_PAGES)
    here = names.index(module)
    for heading, other in (("Previous topic", here - 1), ("Next topic", here + 1)):
        y += 16
        items.append(_Item("text", 20, y, 0, 30, "side_h", heading))
        y += 32
        name = names[other % len(names)]
        label = _ellipsize(f"{name} — {DOC_PAGES[name]}", ("DejaVuSans", 14), width - 40)
        items.append(_Item("text", 20, y, 0, 22, "side", label))
        y += 22
    y += 16
    items.append(_Item("text", 20, y, 0, 30, "side_h", "This Page"))
    y += 32
    for link in ("Report a Bug", "Show Source"):
        items.append(_Item("text", 34, y, 0, 22, "side", link))
        y += 22
    return items


@dataclass
class _Tab:
    module: str
    scroll: int = 0


class _Browser(_App):
    """A Firefox window on docs.python.org."""

    app = "firefox"
    label = "Firefox"
    TABS_H, NAV_H = 44, 44
    UI = ("DejaVuSans", 14)

    def __init__(self, modules: list[str]) -> None:
        super().__init__()
        self.tabs = [_Tab(m) for m in modules]
        self.current = 0

    @property
    def tab(self) -> _Tab:
        return self.tabs[self.current]

    @property
    def page_title(self) -> str:
        return (
            f"{self.tab.module} — {DOC_PAGES[self.tab.module]} — Python {PY_VERSION} documentation"
        )

    @property
    def title(self) -> str:
        return f"{self.page_title} — Mozilla Firefox"

    @property
    def url(self) -> str:
        return f"https://docs.python.org/3/library/{self.tab.module}.html"

    @property
    def viewport(self) -> int:
        return self.size[1] - self.TABS_H - self.NAV_H

    def scroll(self, pixels: int) -> bool:
        bottom = max(0, _page(self.tab.module, self.size[0]).height - self.viewport)
        shown = min(self.tab.scroll, bottom)  # a wider window makes the page shorter
        scroll = max(0, min(shown + pixels, bottom))
        if scroll == shown:
            return False
        self.tab.scroll = scroll
        self.changed()
        return True

    def navigate(self, module: str, new_tab: bool) -> None:
        if new_tab:
            self.tabs.append(_Tab(module))
            del self.tabs[: max(0, len(self.tabs) - 6)]
            self.current = len(self.tabs) - 1
        else:
            self.tabs[self.current] = _Tab(module)
        self.changed()

    def select(self, index: int) -> None:
        self.current = index
        self.changed()

    def visible(self) -> dict[Key, str]:
        """The article's lines wholly in the viewport."""
        w, h = self.size[0], self.viewport
        page = _page(self.tab.module, w)
        top = min(self.tab.scroll, max(0, page.height - h))
        return {
            (self.tab.module, w, i): item.text
            for i, item in enumerate(page.items)
            if item.kind == "text"
            and item.style in READ_STYLES
            and top <= item.y
            and item.y + item.h <= top + h
        }

    def render(self, active: bool) -> tuple[Image.Image, Strings]:
        w, h = self.size
        img = Image.new("RGB", (w, h), "#ffffff")
        draw = _Draw(img)
        draw.rectangle((0, 0, w, self.TABS_H - 1), fill="#f0f0f4" if active else "#f9f9fb")
        x = 8
        tab_w = max(120, min(240, (w - 260) // max(1, len(self.tabs))))
        for i, tab in enumerate(self.tabs):
            chosen = i == self.current
            if chosen:
                draw.rounded_rectangle(
                    (x, 5, x + tab_w - 4, self.TABS_H - 5),
                    radius=4,
                    fill="#ffffff",
                    outline="#d6d6db",
                )
            elif i != self.current - 1:
                draw.line((x + tab_w - 2, 14, x + tab_w - 2, self.TABS_H - 14), fill="#c9c9cf")
            draw.rectangle((x + 10, 15, x + 17, 22), fill="#3776ab")
            draw.rectangle((x + 15, 20, x + 22, 28), fill="#ffd43b")
            name = f"{tab.module} — {DOC_PAGES[tab.module]}"
            label = _ellipsize(name, self.UI, tab_w - 60)
            _text(draw, (x + 30, self.TABS_H // 2), label, self.UI, "#15141a", "lm")
            close = (x + tab_w - 22, self.TABS_H // 2)
            _text(draw, close, "×", self.UI, "#5b5b66", "lm", record=False)
            x += tab_w
        plus = (x + 14, self.TABS_H // 2)
        _text(draw, plus, "+", ("DejaVuSans", 20), "#5b5b66", "lm", record=False)
        _window_controls(draw, w, self.TABS_H // 2, "#15141a")

        y0 = self.TABS_H
        mid = y0 + self.NAV_H // 2
        draw.line((0, y0 + self.NAV_H - 1, w, y0 + self.NAV_H - 1), fill="#d6d6db")
        gray = "#5b5b66"
        draw.line((18, mid, 32, mid), fill=gray, width=2)
        draw.line((18, mid, 24, mid - 6), fill=gray, width=2)
        draw.line((18, mid, 24, mid + 6), fill=gray, width=2)
        draw.line((50, mid, 64, mid), fill="#b4b4ba", width=2)
        draw.line((64, mid, 58, mid - 6), fill="#b4b4ba", width=2)
        draw.line((64, mid, 58, mid + 6), fill="#b4b4ba", width=2)
        draw.arc((82, mid - 8, 98, mid + 8), 300, 240, fill=gray, width=2)
        bar = (120, y0 + 6, w - 120, y0 + self.NAV_H - 7)
        draw.rounded_rectangle(bar, radius=4, fill="#f0f0f4")
        draw.rectangle((136, mid - 2, 146, mid + 6), fill=gray)
        draw.arc((137, mid - 9, 145, mid + 1), 180, 360, fill=gray, width=2)
        _text(draw, (160, mid), self.url, ("DejaVuSans", 15), "#15141a", "lm")
        _text(draw, (w - 150, mid), "☆", ("DejaVuSans", 18), gray, "mm", record=False)
        for dy in (-6, 0, 6):
            draw.line((w - 44, mid + dy, w - 28, mid + dy), fill=gray, width=2)

        content, strings = self._content(w, self.viewport)
        img.paste(content, (0, y0 + self.NAV_H))
        return img, (*draw.strings, *strings)

    def _content(self, w: int, h: int) -> tuple[Image.Image, Strings]:
        """The viewport's part of the page, and the strings drawn on it."""
        page = _page(self.tab.module, w)
        img = Image.new("RGB", (w, h), "#ffffff")
        draw = _Draw(img)
        top = min(self.tab.scroll, max(0, page.height - h))
        for item in page.items:
            y = item.y - top
            if y + item.h < 0 or y > h:
                continue
            if item.kind == "rect":
                draw.rectangle((item.x, y, item.x + item.w - 1, y + item.h - 1), fill=item.style)
            else:
                name, size, color = PAGE_STYLES[item.style]
                xy = (item.x, y + _baseline(name, size, item.h))
                # A line cut by the viewport's top or bottom edge counts, whole, if any of
                # its glyphs' box is inside; lines never reach the right edge.
                inside = y >= 0 and y + item.h <= h
                if not inside:
                    box = draw.textbbox(xy, item.text, font=_font(name, size), anchor="ls")
                    inside = box[1] < h and box[3] > 0
                _text(draw, xy, item.text, (name, size), color, record=inside)
        thumb = max(40, h * h // page.height)
        pos = (h - thumb) * top // max(1, page.height - h)
        draw.rounded_rectangle((w - 10, pos + 2, w - 4, pos + thumb - 2), radius=3, fill="#a3a3a8")
        return img, tuple(draw.strings)


# --- desktop and session ------------------------------------------------------------------


@functools.cache
def _wallpaper() -> Image.Image:
    return Image.new("RGB", (SCREEN_W, SCREEN_H), "#2c001e")


class _Desktop:
    """The three windows, their layout and the scripted user driving them."""

    def __init__(self, rng: random.Random, reading: bool = True) -> None:
        self.rng = rng
        self.reading = reading
        self.editor = _Editor(["json/decoder.py", "json/encoder.py"])
        self.terminal = _Terminal()
        self.browser = _Browser(["json", "pathlib", "textwrap"])
        self.apps: tuple[_App, ...] = (self.editor, self.terminal, self.browser)
        self.stack: list[_App] = [self.editor, self.browser, self.terminal]
        self.split: tuple[_App, _App] | None = None
        self._frame: tuple[object, Image.Image, Strings] | None = None
        for _ in range(2):
            command, chunks = _command(rng, self.editor.doc.rel)
            self._run(command, chunks)
        # What each window showed when last on screen; the user set this desktop up.
        self.seen: dict[_App, tuple[int, dict[Key, str]]] = {
            app: (app.version, self._glance(app)) for app in self.apps
        }

    # layout

    def windows(self) -> tuple[ReplayWindow, ...]:
        return tuple(
            ReplayWindow(app.app, app.title, app.url, self._rect(app), i == 0)
            for i, app in enumerate(self._shown())
        )

    def _shown(self) -> list[_App]:
        """The apps on screen, the focused one first."""
        shown = [a for a in self.stack if self.split is None or a in self.split]
        return shown[: 1 if self.split is None else 2]

    def _rect(self, app: _App) -> tuple[int, int, int, int]:
        if self.split is None:
            return (0, PANEL_H, SCREEN_W, WORK_H)
        half = SCREEN_W // 2
        return (0 if app is self.split[0] else half, PANEL_H, half, WORK_H)

    def compose(self, at: datetime, blink: bool = True) -> tuple[Image.Image, Strings]:
        """The screen at `at` and the strings on it; without `blink` carets are steady."""
        windows = self.windows()
        apps = {a.app: a for a in self.apps}
        carets = [apps[w.app].caret(at, w.active, blink) for w in windows]
        key = (
            tuple((w, apps[w.app].version, c) for w, c in zip(windows, carets, strict=True)),
            _clock(at),
        )
        if self._frame is None or self._frame[0] != key:
            image = _wallpaper().copy()
            texts: dict[str, Strings] = {}
            for window, caret in reversed(list(zip(windows, carets, strict=True))):
                surface, texts[window.app] = apps[window.app].surface(window.active, caret)
                image.paste(surface, window.rect[:2])
            panel, text = _panel(_clock(at), windows[0].app)
            image.paste(panel, (0, 0))
            for window in windows:
                text += texts[window.app]
            self._frame = (key, image, text)
        return self._frame[1].copy(), self._frame[2]

    # the script

    def events(self) -> Iterator[str]:
        yield "start"
        units = {self.editor: self._editor_unit, self.browser: self._browser_unit}
        units[self.terminal] = self._terminal_unit
        rng = self.rng
        while True:
            budget = rng.randint(12, 32)  # units overrun it by a few frames
            # In some stretches the user just reads, thinks or takes a call.
            pause = rng.randint(0, budget) if rng.random() < 0.4 else budget
            spent = 0
            while spent < budget:
                if spent >= pause:
                    unit, pause = self._idle(10, 16), budget
                else:
                    unit = units[self.stack[0]]()
                for event in unit:
                    spent += 1
                    yield event
                if rng.random() < 0.25:
                    yield from self._idle(1, 2)
            yield self._switch()
            target = self.stack[0]
            version, seen = self.seen[target]
            if target.version != version:
                yield from self._read(target, seen)

    def _glance(self, app: _App) -> dict[Key, str]:
        return app.visible() if self.reading else {}

    def _read(self, app: _App, before: dict[Key, str], watched: int = 0) -> Iterator[str]:
        """Idle while reading the words `app` shows that were not in `before`.

        `watched` frames of it were already spent watching the text appear.
        """
        if not self.reading:
            return
        words = sum(len(text.split()) for key, text in app.visible().items() if key not in before)
        wpm = self.rng.uniform(*READING_WPM)
        for _ in range(round(words / wpm * 60 / FRAME_SECONDS) - watched):
            yield "idle"

    def _switch(self) -> str:
        rng = self.rng
        current = self.stack[0]
        for app in self._shown():
            self.seen[app] = (app.version, self._glance(app))
        others = [a for a in self.apps if a is not current]
        weights = {self.editor: 0.45, self.browser: 0.35, self.terminal: 0.2}
        target = rng.choices(others, weights=[weights[a] for a in others])[0]
        roll = rng.random()
        if self.split is not None and target in self.split and roll < 0.6:
            pass
        elif roll < 0.22:
            left, right = (current, target) if current is self.editor else (target, current)
            self.split = (left, right)
        else:
            self.split = None
        for app in self.apps:
            in_split = self.split is not None and app in self.split
            app.size = (SCREEN_W // 2, WORK_H) if in_split else (SCREEN_W, WORK_H)
        self.stack.remove(target)
        self.stack.insert(0, target)
        return "switch"

    def _idle(self, low: int, high: int) -> Iterator[str]:
        for _ in range(self.rng.randint(low, high)):
            yield "idle"

    def _editor_unit(self) -> Iterator[str]:
        rng = self.rng
        editor = self.editor
        unit = rng.choices(("read", "type", "page", "open"), weights=(5, 2.5, 1, 1.2))[0]
        if unit in ("read", "page"):
            moved = False
            for _ in range(rng.randint(1, 3) if unit == "read" else rng.randint(1, 2)):
                lines = rng.randint(3, 15) if unit == "read" else editor.rows - 2
                step = -lines if unit == "read" and rng.random() < 0.2 else lines
                before = self._glance(editor)
                if editor.scroll(step) or editor.scroll(-step):
                    moved = True
                    yield "scroll"
                    yield from self._read(editor, before)
            if not moved:
                unit = "open"
        if unit == "type":
            yield from self._type_snippet()
        elif unit == "open":
            before = self._glance(editor)
            docs = editor.docs
            if len(docs) > 1 and rng.random() < 0.3:
                editor.open(rng.choice([d.rel for d in docs if d is not editor.doc]))
            else:
                rel = rng.choice([f for f in _source_files() if f != editor.doc.rel])
                defs = [i for i, ln in enumerate(_source_lines(rel)) if ln.startswith("def ")]
                editor.open(rel, rng.choice(defs) if defs and rng.random() < 0.4 else 0)
            yield "open"
            yield from self._read(editor, before)

    def _type_snippet(self) -> Iterator[str]:
        rng = self.rng
        editor = self.editor
        doc = editor.doc
        snippet = _snippet(rng)
        low, high = doc.top + 3, min(len(doc.lines), doc.top + editor.rows - 6)
        spots = [
            i for i in range(low, high) if not doc.lines[i].strip() and doc.lines[i - 1].strip()
        ]
        at = rng.choice(spots) if spots else min(len(doc.lines), doc.top + editor.rows // 2)
        above = doc.lines[at - 1] if at else ""
        indent = len(above) - len(above.lstrip()) + (4 if above.rstrip().endswith(":") else 0)
        for n, line in enumerate(snippet):
            depth = len(line) - len(line.lstrip())
            editor.new_line(at + n, indent + depth)
            text = line.lstrip()
            while text:
                size = rng.randint(3, 8)
                editor.type(text[:size])  # the first chunk shares its frame with the new line
                text = text[size:]
                yield "type"
                if rng.random() < 0.06:
                    yield "idle"
        if rng.random() < 0.5:
            editor.save()
            yield "type"

    def _browser_unit(self) -> Iterator[str]:
        rng = self.rng
        browser = self.browser
        unit = rng.choices(("read", "page", "open"), weights=(5, 1, 1.5))[0]
        if unit in ("read", "page"):
            moved = False
            for _ in range(rng.randint(1, 3)):
                pixels = (
                    rng.randint(3, 15) * SCROLL_LINE if unit == "read" else browser.viewport - 50
                )
                step = -pixels if unit == "read" and rng.random() < 0.2 else pixels
                before = self._glance(browser)
                if browser.scroll(step) or browser.scroll(-step):
                    moved = True
                    yield "scroll"
                    yield from self._read(browser, before)
            if not moved:
                unit = "open"
        if unit == "open":
            before = self._glance(browser)
            roll = rng.random()
            others = [i for i in range(len(browser.tabs)) if i != browser.current]
            if others and roll < 0.25:
                browser.select(rng.choice(others))
            else:
                module = rng.choice([m for m in DOC_PAGES if m != browser.tab.module])
                browser.navigate(module, new_tab=roll < 0.45)
            yield "open"
            yield from self._read(browser, before)

    def _terminal_unit(self) -> Iterator[str]:
        rng = self.rng
        terminal = self.terminal
        command, chunks = _command(rng, self.editor.doc.rel)
        before = self._glance(terminal)
        text = command
        while text:
            size = rng.randint(3, 8)
            terminal.type(text[:size])
            text = text[size:]
            yield "type"
        if command == "clear":
            terminal.clear()
            yield "type"
        else:
            terminal.enter()
            for i, chunk in enumerate(chunks):
                terminal.output(chunk, done=i == len(chunks) - 1)
                yield "type" if i == 0 else "scroll"
        if self.reading:  # the output, read partly while it came
            yield from self._read(terminal, before, watched=len(chunks) - 1)
        elif rng.random() < 0.5:
            yield from self._idle(1, 3)  # reading the output

    def _run(self, command: str, chunks: list[list[TermLine]]) -> None:
        """Put a command and its whole output in the terminal's history, without frames."""
        if command == "clear":
            return
        self.terminal.typed = command
        self.terminal.enter()
        for chunk in chunks:
            self.terminal.output(chunk, done=True)


def _snippet(rng: random.Random) -> list[str]:
    """1-3 consecutive lines of real code from some stdlib file, dedented."""
    while True:
        rel = rng.choice(_source_files())
        doc = _Doc(rel, list(_source_lines(rel)))
        starts = [
            i
            for i, line in enumerate(doc.lines)
            if doc.states[i] is None
            and 8 < len(line.strip()) < 80
            and not line.strip().startswith(("#", "@", '"', "'"))
        ]
        if not starts:
            continue
        start = rng.choice(starts)
        base = len(doc.lines[start]) - len(doc.lines[start].lstrip())
        block = []
        for line in doc.lines[start : start + rng.randint(1, 3)]:
            if not line.strip() or len(line) - len(line.lstrip()) < base or len(line) > 90:
                break
            if "'''" in line or '"""' in line:
                break
            block.append(line[base:])
        if block and sum(len(b) for b in block) <= 140:
            return block


def _clock(at: datetime) -> str:
    """GNOME's clock text; English names by hand, as strftime follows the locale."""
    day = "Mon Tue Wed Thu Fri Sat Sun".split()[at.weekday()]
    month = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[at.month - 1]
    return f"{day} {month} {at.day}  {at:%H:%M}"


@functools.lru_cache(maxsize=8)
def _panel(clock: str, active: str) -> tuple[Image.Image, Strings]:
    img = Image.new("RGB", (SCREEN_W, PANEL_H), "#000000")
    draw = _Draw(img)
    font = ("DejaVuSans", 14)
    bold = ("DejaVuSans-Bold", 14)
    mid = PANEL_H // 2
    _text(draw, (16, mid), "Activities", bold, "#ffffff", "lm")
    x = 130
    icons = {"code": "#0065a9", "gnome-terminal": "#3d3846", "firefox": "#ff7139"}
    for app, label in (
        ("code", "Visual Studio Code"),
        ("gnome-terminal", "Terminal"),
        ("firefox", "Firefox"),
    ):
        width = int(_width(*font, label)) + 44
        if app == active:
            draw.rounded_rectangle((x, 3, x + width, PANEL_H - 4), radius=4, fill="#3a3a3a")
        draw.rounded_rectangle((x + 8, mid - 8, x + 24, mid + 8), radius=3, fill=icons[app])
        color = "#ffffff" if app == active else "#bdbdbd"
        _text(draw, (x + 32, mid), label, bold if app == active else font, color, "lm")
        x += width + 10
    _text(draw, (SCREEN_W // 2, mid), clock, bold, "#ffffff", "mm")
    right = SCREEN_W - 16
    draw.rectangle((right - 28, mid - 6, right - 6, mid + 6), outline="#ffffff")
    draw.rectangle((right - 26, mid - 4, right - 12, mid + 4), fill="#ffffff")
    draw.rectangle((right - 5, mid - 3, right - 3, mid + 3), fill="#ffffff")
    draw.polygon(((right - 60, mid - 2), (right - 54, mid - 2), (right - 48, mid - 8)), fill="#fff")
    draw.polygon(((right - 48, mid - 8), (right - 48, mid + 8), (right - 54, mid + 2)), fill="#fff")
    draw.rectangle((right - 60, mid - 2, right - 54, mid + 2), fill="#ffffff")
    for r in (4, 8, 12):
        draw.arc((right - 90 - r, mid - r + 4, right - 90 + r, mid + r + 4), 225, 315, "#fff", 2)
    _text(draw, (right - 120, mid), "en", font, "#ffffff", "mm")
    return img, tuple(draw.strings)


# --- command line -------------------------------------------------------------------------


def _contact_sheet(thumbs: list[tuple[int, str, Image.Image]]) -> Image.Image:
    cols = 4
    tw, th = 480, 270
    rows = math.ceil(len(thumbs) / cols)
    sheet = Image.new("RGB", (cols * tw, rows * (th + 24)), "#202020")
    draw = _Draw(sheet)
    for n, (index, event, thumb) in enumerate(thumbs):
        x, y = (n % cols) * tw, (n // cols) * (th + 24)
        sheet.paste(thumb, (x, y + 24))
        _text(draw, (x + 6, y + 12), f"#{index} {event}", ("DejaVuSans-Bold", 14), "#ffffff", "lm")
    return sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="directory for frame_NNNN.png and contact.png")
    parser.add_argument("--no-caret", action="store_true", help="carets never blink")
    parser.add_argument(
        "--no-reading", action="store_true", help="no pauses to read newly shown text"
    )
    args = parser.parse_args(argv)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    every = max(1, args.count // 16)
    thumbs: list[tuple[int, str, Image.Image]] = []
    events: Counter[str] = Counter()
    identical = 0
    words = 0
    timings: list[float] = []
    previous: bytes | None = None
    started = time.perf_counter()
    frames = replay_frames(
        args.count, args.seed, caret=not args.no_caret, reading=not args.no_reading
    )
    for frame in _timed(frames, timings):
        events[frame.event] += 1
        words += sum(len(text.split()) for text in frame.text)
        raw = frame.image.tobytes()
        identical += raw == previous
        previous = raw
        if args.out:
            frame.image.save(args.out / f"frame_{frame.index:04d}.png")
        if frame.index % every == 0 and len(thumbs) < 16:
            thumb = frame.image.resize((480, 270), Image.Resampling.LANCZOS)
            thumbs.append((frame.index, frame.event, thumb))
    total = time.perf_counter() - started
    if args.out:
        _contact_sheet(thumbs).save(args.out / "contact.png")
        print(f"wrote {args.count} frames and contact.png to {args.out}")
    print("events: " + ", ".join(f"{e} {events[e]}" for e in EVENTS))
    print(f"frames identical to the previous one: {identical}")
    print(f"words on screen (ReplayFrame.text): {words / max(1, args.count):.1f} per frame")
    ms = sorted(t * 1000 for t in timings)
    print(
        f"render: mean {statistics.fmean(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms, "
        f"max {ms[-1]:.1f} ms per frame ({total:.1f} s in all, PNG writing included)"
    )
    return 0


def _timed(frames: Iterator[ReplayFrame], timings: list[float]) -> Iterator[ReplayFrame]:
    while True:
        started = time.perf_counter()
        try:
            frame = next(frames)
        except StopIteration:
            return
        timings.append(time.perf_counter() - started)
        yield frame


if __name__ == "__main__":
    sys.exit(main())
