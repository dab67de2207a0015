"""Citations: the `[n]` in an answer, mapped back to the memories they name."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mirix_desktop.assistant.prompt import Snippet

# [1], [2, 3], [1][4]; also "[2-4]" ranges, which small models like to write.
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*(?:,|-|–)\s*\d{1,3})*)\]")


@dataclass(frozen=True)
class Citation:
    number: int
    memory_id: int
    type: str
    time: str  # ISO
    end_time: str | None
    app: str | None
    title: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.number,
            "memory_id": self.memory_id,
            "type": self.type,
            "time": self.time,
            "end_time": self.end_time,
            "app": self.app,
            "title": self.title,
        }


def cited_numbers(text: str) -> list[int]:
    """The snippet numbers an answer cites, in order of first mention."""
    numbers: list[int] = []
    for match in _CITATION.finditer(text):
        for part in re.split(r"\s*,\s*", match.group(1)):
            bounds = re.split(r"\s*[-–]\s*", part)
            first, last = int(bounds[0]), int(bounds[-1])
            if last < first or last - first > 20:
                last = first
            for number in range(first, last + 1):
                if number not in numbers:
                    numbers.append(number)
    return numbers


def resolve_citations(text: str, snippets: Sequence[Snippet]) -> list[Citation]:
    """Citations of the snippets the answer names; numbers it made up are dropped."""
    by_number = {snippet.number: snippet for snippet in snippets}
    citations = []
    for number in cited_numbers(text):
        snippet = by_number.get(number)
        if snippet is None:
            continue
        record = snippet.record
        citations.append(
            Citation(
                number=number,
                memory_id=record.id,
                type=record.type.value,
                time=record.time.astimezone().isoformat(),
                end_time=record.end_time.astimezone().isoformat() if record.end_time else None,
                app=record.app,
                title=record.title,
            )
        )
    return citations
