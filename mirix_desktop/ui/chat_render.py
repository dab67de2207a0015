"""A conversation as HTML for the chat window's QTextBrowser.

Colours come from the window's palette (the system's light or dark theme):
muted text is the palette's placeholder colour, the question's band its
alternate base. The one colour with no palette role, the red of an error
note, is derived from the palette's lightness so it stays readable on both.
Everything a person or a model wrote is escaped; answers go through
ui/markdown.py, which does not interpret HTML.

An answer still streaming is not rendered here: the window appends its text
as plain paragraphs (`plain_paragraphs`) as it arrives, and the answer is
rendered as Markdown once, when it ends.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from mirix_desktop.app.texts import for_window
from mirix_desktop.assistant.assistant import EXTRACTIVE_NAME
from mirix_desktop.assistant.cancel import STOPPED_BY_USER
from mirix_desktop.ui.chat_turns import Source, Turn
from mirix_desktop.ui.markdown import link_colour, markdown_to_html, memory_url
from mirix_desktop.ui.qt import QtGui

EMPTY_TEXT = (
    "Ask about anything you saw on your screen — “what was the ticket number this "
    "morning?”, “which paper about retrieval did I read last week?”. Answers cite the "
    "memories they come from; click a citation to see it."
)
# Qt's line separator: a line break inside a paragraph (HTML's <br>).
LINE_BREAK = "\u2028"
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")


class Colours:
    """The few colours a conversation uses, taken from a palette (on the GUI thread:
    drawing with them then needs no palette, on any thread)."""

    def __init__(self, palette: QtGui.QPalette) -> None:
        role = QtGui.QPalette.ColorRole
        text, base = palette.color(role.Text), palette.color(role.Base)
        # Between the text and its background: quieter than the text on any theme
        # (some styles' placeholder colour is nearly the text's).
        self.muted = _mix(text, base, 0.62).name()
        self.band = palette.color(role.AlternateBase).name()
        # No palette role means "error": a red as light or dark as the text, so
        # its contrast with the background is the text's.
        dark_background = base.lightness() < 128
        self.error = QtGui.QColor.fromHsl(0, 200, 175 if dark_background else 95).name()
        self.link = link_colour()  # what answers' converted links take


def _mix(first: QtGui.QColor, second: QtGui.QColor, weight: float) -> QtGui.QColor:
    """`weight` of `first` and the rest of `second`."""
    return QtGui.QColor.fromRgbF(
        first.redF() * weight + second.redF() * (1 - weight),
        first.greenF() * weight + second.greenF() * (1 - weight),
        first.blueF() * weight + second.blueF() * (1 - weight),
    )


def model_label(model: str | None) -> str:
    if not model or model == "memory":
        return "MIRIX"
    if model == EXTRACTIVE_NAME:
        return "MIRIX · quotes from your memories"
    provider, _, name = model.partition(":")
    where = {"local": "on this computer", "openai": "remote"}.get(provider)
    return f"MIRIX · {name} ({where})" if where else f"MIRIX · {model}"


def render_conversation(turns: Sequence[Turn], palette: QtGui.QPalette) -> str:
    colours = Colours(palette)
    return render_turns(turns, colours) if turns else empty_html(colours)


def empty_html(colours: Colours) -> str:
    return f'<p style="color:{colours.muted}">{html.escape(EMPTY_TEXT)}</p>'


def render_turns(turns: Sequence[Turn], colours: Colours) -> str:
    return "\n".join(render_turn(turn, colours) for turn in turns)


def render_turn(turn: Turn, colours: Colours, *, with_answer: bool = True) -> str:
    """The turn as HTML; without its answer (and what follows it) for `with_answer=False`."""
    asked = turn.asked_at.astimezone().strftime("%H:%M")
    question = html.escape(turn.question).replace("\n", "<br>")
    parts = [
        f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{colours.band}" '
        'style="margin-top:14px">'
        f'<tr><td><p style="margin:0"><span style="color:{colours.muted}">You · {asked}</span>'
        f"<br>{question}</p></td></tr></table>",
        f'<p style="margin-top:8px; margin-bottom:0; color:{colours.muted}">'
        f"{html.escape(model_label(turn.model))}</p>",
    ]
    if not with_answer:
        return "\n".join(parts)
    parts.append(_answer_body(turn, colours))
    note = _status_note(turn, colours)
    if note:
        parts.append(note)
    if turn.sources:
        parts.append(_sources(turn.sources, colours))
    return "\n".join(parts)


def plain_paragraphs(text: str) -> list[str]:
    """Text as it streams in: paragraphs split at blank lines, lines broken inside them."""
    return [part.replace("\n", LINE_BREAK) for part in _BLANK_LINES.split(text)]


def _answer_body(turn: Turn, colours: Colours) -> str:
    if turn.remembered is not None:
        fact = turn.remembered
        return (
            f"<p>{html.escape(fact.confirmation())} "
            f'<a href="{memory_url(fact.memory_id)}">Show it</a></p>'
        )
    if turn.status == "waiting":
        return f'<p style="color:{colours.muted}"><i>Looking through your memories…</i></p>'
    if not turn.text.strip():
        return ""
    return markdown_to_html(turn.text, turn.cited, colours.link)


def _status_note(turn: Turn, colours: Colours) -> str:
    if turn.status == "partial" and turn.error == STOPPED_BY_USER:
        return (
            f'<p style="color:{colours.muted}"><i>Stopped by you — the answer is incomplete '
            "(kept as a partial answer).</i></p>"
        )
    if turn.status == "partial":
        return _error_note(
            f"The answer broke off: {_sentence(turn.error)} What arrived is kept above.", colours
        )
    if turn.status == "failed":
        return _error_note(f"No answer: {_sentence(turn.error)}", colours)
    return ""


def _error_note(text: str, colours: Colours) -> str:
    return f'<p style="color:{colours.error}"><b>⚠</b> {html.escape(text)}</p>'


def _sentence(text: str | None) -> str:
    text = for_window((text or "something went wrong").strip())
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _sources(sources: Sequence[Source], colours: Colours) -> str:
    rows = ['<p style="margin-top:10px; margin-bottom:2px"><b>Sources</b></p>']
    for source in sources:
        where = " · ".join(
            html.escape(part) for part in (source.app, source.title, source.when) if part
        )
        if source.missing:
            rows.append(
                f'<p style="margin-left:12px; margin-top:2px; margin-bottom:4px">[{source.number}] '
                f'{where} <span style="color:{colours.muted}">(this memory was deleted)</span></p>'
            )
            continue
        snippet = (
            f'<br><span style="color:{colours.muted}">{html.escape(source.snippet)}</span>'
            if source.snippet
            else ""
        )
        rows.append(
            f'<p style="margin-left:12px; margin-top:2px; margin-bottom:4px">'
            f'<a href="{memory_url(source.memory_id)}">[{source.number}]</a> {where}{snippet}</p>'
        )
    return "\n".join(rows)
