"""The answer without a model: the best-matching memories, quoted, with when and where.

It is the default until a model is configured, so a fresh install answers
out of the box. Each quoted memory is reduced to its sentences that share the
most words with the question, and cited like a model's answer would be.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from mirix_desktop.assistant.prompt import Snippet, describe_time
from mirix_desktop.memory.search import keyword_terms

# How many memories an extractive answer quotes (and so cites). Measured on
# LoCoMo test (README, "Assistant"): the grounding figure is reported for it.
QUOTED = 3
QUOTE_CHARS = 280
RANK_COST = 0.4
PREAMBLE = "From your memories (no language model is set up, so these are quotes):\n"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _stem(word: str) -> str:
    return word[:5] if len(word) > 5 else word


def _shared_words(text: str, question: str) -> int:
    stems = {_stem(t) for t in keyword_terms(question)}
    return len(stems & {_stem(t) for t in keyword_terms(text)})


def best_passage(text: str, question: str, max_chars: int = QUOTE_CHARS) -> str:
    """The sentence (with its neighbour when short) sharing most words with the question."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    if not sentences:
        return ""

    def score(sentence: str) -> int:
        return _shared_words(sentence, question)

    best = max(range(len(sentences)), key=lambda i: (score(sentences[i]), -i))
    passage = sentences[best]
    if len(passage) < max_chars // 2 and best + 1 < len(sentences):
        passage += " " + sentences[best + 1]
    passage = " ".join(passage.split())
    return passage if len(passage) <= max_chars else passage[: max_chars - 1].rstrip() + "…"


def extractive_answer(question: str, snippets: Sequence[Snippet]) -> Iterator[str]:
    """Yields the answer line by line; it cites the memories it quotes as [n]."""
    if not snippets:
        yield "I found nothing in your memories about that."
        return
    # Quote the memories that share the most words with the question, the
    # search's order breaking ties and costing 0.4 words a place (tuned on
    # LoCoMo dev: +0.01 to +0.04 grounding over the search order alone). A
    # memory sharing no word is quoted only when none does (a match by meaning).
    overlap = {
        s.number: _shared_words(f"{s.record.title or ''} {s.text}", question) for s in snippets
    }
    ranked = sorted(
        snippets, key=lambda s: (RANK_COST * (s.number - 1) - overlap[s.number], s.number)
    )
    chosen = [s for s in ranked if overlap[s.number]] or [snippets[0]]
    yield PREAMBLE
    for snippet in chosen[:QUOTED]:
        record = snippet.record
        where = " · ".join(part for part in (record.app, record.title) if part)
        quote = best_passage(snippet.text, question)
        line = f"[{snippet.number}] {describe_time(record)}"
        line += f" · {where}" if where else ""
        line += f": “{quote}”\n" if quote else "\n"
        yield line
