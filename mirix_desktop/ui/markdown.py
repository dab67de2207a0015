"""An answer's Markdown as an HTML fragment, with its `[n]` citations as links.

Answers are written by a model that read screen text, so they are untrusted:
raw HTML in them is not interpreted (Qt's Markdown reader runs with HTML
off) and only citation links carry our own scheme. A citation links to the
memory it names (`mirix-memory:<id>`), so one conversation view can hold many
answers that each have a `[1]`. Numbers the model made up stay plain text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from mirix_desktop.ui.qt import QtCore, QtGui

MEMORY_SCHEME = "mirix-memory"

# The same forms assistant/citations.py reads: [1], [2, 3], [2-4].
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*(?:,|-|–)\s*\d{1,3})*)\]")
_NUMBER = re.compile(r"\d{1,3}")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_INLINE_CODE = re.compile(r"(`+)(?:.|\n)*?\1")
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL)

_FEATURES = (
    QtGui.QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QtGui.QTextDocument.MarkdownFeature.MarkdownNoHTML
)


def memory_url(memory_id: int) -> str:
    return f"{MEMORY_SCHEME}:{memory_id}"


def memory_id_of(url: QtCore.QUrl | str) -> int | None:
    """The memory a citation link names, or None for any other link."""
    text = url.toString() if isinstance(url, QtCore.QUrl) else url
    scheme, _, rest = text.partition(":")
    if scheme != MEMORY_SCHEME or not rest.isdigit():
        return None
    return int(rest)


def link_citations(markdown: str, cited: Mapping[int, int]) -> str:
    """`markdown` with each `[n]` in `cited` (number -> memory id) as a Markdown link.

    Code blocks and code spans are left alone: a `[0]` in code is an index.
    """
    if not cited:
        return markdown
    out: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1) == fence:
                fence = None
            out.append(line)
        elif opening:
            fence = opening.group(1)
            out.append(line)
        else:
            out.append(_link_outside_code(line, cited))
    return "".join(out)


def _link_outside_code(line: str, cited: Mapping[int, int]) -> str:
    pieces: list[str] = []
    last = 0
    for code in _INLINE_CODE.finditer(line):
        pieces.append(_CITATION.sub(lambda m: _linked(m, cited), line[last : code.start()]))
        pieces.append(code.group(0))
        last = code.end()
    pieces.append(_CITATION.sub(lambda m: _linked(m, cited), line[last:]))
    return "".join(pieces)


def _linked(match: re.Match[str], cited: Mapping[int, int]) -> str:
    def number(found: re.Match[str]) -> str:
        memory_id = cited.get(int(found.group(0)))
        if memory_id is None:
            return found.group(0)
        return f"[{found.group(0)}]({memory_url(memory_id)})"

    # "[1, 2]" keeps its brackets (escaped, so they stay text) around two links.
    return "\\[" + _NUMBER.sub(number, match.group(1)) + "\\]"


def link_colour() -> str:
    """The application palette's link colour, which converted answers' links take."""
    return QtGui.QGuiApplication.palette().color(QtGui.QPalette.ColorRole.Link).name()


def markdown_to_html(
    markdown: str, cited: Mapping[int, int] | None = None, link: str | None = None
) -> str:
    """The HTML fragment (no <html>/<body>) for an answer; cited: number -> memory id.

    Safe on a worker thread when given `link` (`link_colour()`, read on the GUI
    thread): the chat converts a finished answer there, so that drawing it
    finds the conversion in the cache.
    """
    # Links take the palette's link colour when converted: a theme change is a new key.
    return _converted(markdown, tuple(sorted((cited or {}).items())), link or link_colour())


@functools.lru_cache(maxsize=512)
def _converted(markdown: str, cited: tuple[tuple[int, int], ...], _link_colour: str) -> str:
    # Redrawing a conversation converts every answer again; finished ones come from here.
    # A document of its own (QTextDocument is reentrant): any thread may convert.
    document = QtGui.QTextDocument()
    document.setMarkdown(link_citations(markdown, dict(cited)), _FEATURES)
    match = _BODY.search(document.toHtml())
    return match.group(1).strip() if match else ""
