"""Answers as HTML: Markdown rendered, citations linked, the model's HTML left as text."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from mirix_desktop.ui.markdown import link_citations, markdown_to_html, memory_id_of


def test_known_citations_become_links_to_their_memory() -> None:
    linked = link_citations("Budget is 12,400 EUR [1], see [2, 3] and [9].", {1: 41, 2: 42, 3: 43})
    assert linked == (
        "Budget is 12,400 EUR \\[[1](mirix-memory:41)\\], see "
        "\\[[2](mirix-memory:42), [3](mirix-memory:43)\\] and \\[9\\]."
    )


def test_code_is_left_alone() -> None:
    text = "Use `items[1]` here [1].\n```\nvalues[1] = 2\n```\nThen [1]."
    linked = link_citations(text, {1: 7})
    assert "`items[1]`" in linked
    assert "\nvalues[1] = 2\n" in linked
    assert linked.count("mirix-memory:7") == 2


def test_html_renders_markdown_and_links(qtbot: QtBot) -> None:
    html = markdown_to_html("The budget is **12,400 EUR** [1].\n\n- one\n- two", {1: 5})
    assert "font-weight:700" in html.replace(" ", "")
    assert '<a href="mirix-memory:5">' in html
    assert html.count("<li") == 2
    assert "<body" not in html and "<html" not in html


def test_html_in_an_answer_is_shown_as_text(qtbot: QtBot) -> None:
    html = markdown_to_html('<img src="file:///etc/passwd"> <a href="javascript:x">click</a>')
    assert "<img" not in html and 'href="javascript' not in html
    assert "&lt;img" in html


def test_made_up_numbers_are_not_links(qtbot: QtBot) -> None:
    html = markdown_to_html("As said [4].", {1: 5})
    assert "<a " not in html and "[4]" in html


def test_memory_id_of_reads_only_citation_links() -> None:
    assert memory_id_of("mirix-memory:12") == 12
    assert memory_id_of("https://example.com/mirix-memory:12") is None
    assert memory_id_of("mirix-memory:12x") is None
