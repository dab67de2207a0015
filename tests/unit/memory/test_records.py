from datetime import UTC, datetime

import pytest

from mirix_desktop.memory.records import (
    MEMORY_MODELS,
    CoreMemory,
    KnowledgeVaultItem,
    MemoryType,
    build_memory,
)


def test_every_type_has_a_model() -> None:
    assert set(MEMORY_MODELS) == set(MemoryType)


def test_vault_secret_is_never_in_the_search_text() -> None:
    item = KnowledgeVaultItem(secret_value="hunter2-SECRET", caption="router admin password")
    assert "hunter2" not in item.search_text()
    assert "router admin password" in item.search_text()


def test_core_memory_longer_than_its_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        CoreMemory(value="x" * 30, limit=10).search_text()


@pytest.mark.parametrize("memory_type", list(MemoryType))
def test_build_memory_for_each_type(memory_type: MemoryType) -> None:
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    memory = build_memory(memory_type, "Line one\nline two", title="A title", app="App", at=when)
    assert memory.memory_type is memory_type
    assert memory.span()[0] == when
    assert memory.app == "App"


def test_vault_item_needs_a_caption() -> None:
    with pytest.raises(ValueError, match="caption"):
        build_memory(MemoryType.KNOWLEDGE_VAULT, "secret")


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValueError, match="colour"):
        CoreMemory.model_validate({"value": "v", "colour": "red"})
