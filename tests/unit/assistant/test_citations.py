"""Citations: the numbers an answer cites, mapped to memories."""

from datetime import UTC, datetime

from mirix_desktop.assistant.citations import cited_numbers, resolve_citations
from mirix_desktop.assistant.prompt import Snippet
from mirix_desktop.memory.records import MemoryRecord, MemoryType

AT = datetime(2026, 11, 20, 14, 2, tzinfo=UTC)


def snippet(number: int, memory_id: int) -> Snippet:
    record = MemoryRecord(
        memory_id, MemoryType.EPISODIC, AT, None, "code", "notes", "body", {}, None, AT, AT
    )
    return Snippet(number, record, "body")


def test_forms_of_citation() -> None:
    assert cited_numbers("It was 12 EUR [2]. Dana approved it [1][3].") == [2, 1, 3]
    assert cited_numbers("See [1, 4] and [2-3].") == [1, 4, 2, 3]
    assert cited_numbers("Repeated [1] and [1] again") == [1]
    assert cited_numbers("No citations here, not even [a] or [].") == []


def test_resolve_maps_numbers_to_memory_ids_and_drops_made_up_ones() -> None:
    snippets = [snippet(1, 40), snippet(2, 17)]
    citations = resolve_citations("Yes [2], also [9].", snippets)
    assert [(c.number, c.memory_id) for c in citations] == [(2, 17)]
    assert citations[0].app == "code"
    assert datetime.fromisoformat(citations[0].time) == AT
