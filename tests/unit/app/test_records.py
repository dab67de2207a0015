"""Memories as shown to a person: vault secrets hidden unless that item is opened."""

from __future__ import annotations

import json

import pytest

from mirix_desktop.app.records import (
    InvalidMemory,
    add_memory,
    edit_memory,
    get_record,
    list_records,
    new_memory,
    search_json,
    search_memories,
)
from mirix_desktop.config import Settings
from mirix_desktop.memory.records import MemoryType
from mirix_desktop.memory.store import MemoryStore

SECRET = "pw-123-xyz"


@pytest.fixture
def vault_item(store: MemoryStore) -> int:
    return add_memory(store, MemoryType.KNOWLEDGE_VAULT, SECRET, title="NAS login")


def test_lists_and_searches_never_show_a_vault_secret(store: MemoryStore, vault_item: int) -> None:
    add_memory(store, MemoryType.CORE, "My NAS is in the attic", title="human")
    listed = list_records(store)
    assert {record.id for record in listed} >= {vault_item}
    assert SECRET not in json.dumps([record.to_json() for record in listed])
    assert all(SECRET not in record.headline for record in listed)
    found = search_memories(store, Settings(), "NAS login")
    assert vault_item in [hit.id for hit in found.hits]
    assert SECRET not in json.dumps(search_json(found))


def test_the_secret_is_shown_only_when_asked_for(store: MemoryStore, vault_item: int) -> None:
    hidden = get_record(store, vault_item)
    assert "secret_value" not in hidden.fields and SECRET not in json.dumps(hidden.to_json())
    revealed = get_record(store, vault_item, reveal=True)
    assert revealed.fields["secret_value"] == SECRET
    assert revealed.fields["caption"] == "NAS login"


def test_bad_new_memories_are_refused_before_any_store_is_touched() -> None:
    with pytest.raises(InvalidMemory) as empty:
        new_memory(MemoryType.CORE, "   ")
    assert empty.value.field == "text"
    with pytest.raises(InvalidMemory, match="caption"):
        new_memory(MemoryType.KNOWLEDGE_VAULT, SECRET)


def test_edit_checks_like_a_new_memory(store: MemoryStore) -> None:
    memory_id = add_memory(store, MemoryType.CORE, "I like tea", title="human")
    edit_memory(store, memory_id, text="I like green tea ", title="preferences")
    record = get_record(store, memory_id)
    assert record.fields["value"] == "I like green tea" and record.title == "preferences"
    with pytest.raises(InvalidMemory) as empty:
        edit_memory(store, memory_id, text=" ")
    assert empty.value.field == "text"
    with pytest.raises(InvalidMemory):
        edit_memory(store, memory_id, text="x" * 100_000)
    assert get_record(store, memory_id).fields["value"] == "I like green tea"
