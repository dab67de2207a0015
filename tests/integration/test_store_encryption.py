"""Everything written is findable, and none of it is readable on disk."""

from pathlib import Path

import pytest

from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import (
    CoreMemory,
    EpisodicMemory,
    KnowledgeVaultItem,
    MemoryType,
    ProceduralMemory,
    ResourceMemory,
    SemanticMemory,
)
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers.files import store_files

CANARY = "zqxcanary"


def canaries() -> dict[MemoryType, str]:
    return {t: f"{CANARY}{t.value.replace('_', '')}" for t in MemoryType}


def test_canary_in_every_type_is_found_and_never_on_disk(
    store: MemoryStore, store_path: Path
) -> None:
    words = canaries()
    store.add_many(
        [
            EpisodicMemory(summary=f"edited the budget {words[MemoryType.EPISODIC]}", app="Writer"),
            ResourceMemory(content=f"page text {words[MemoryType.RESOURCE]}", title="Jira"),
            CoreMemory(value=f"user likes {words[MemoryType.CORE]}"),
            SemanticMemory(name="fact", summary=f"a fact about {words[MemoryType.SEMANTIC]}"),
            ProceduralMemory(summary="deploy", steps=[f"run {words[MemoryType.PROCEDURAL]}"]),
            KnowledgeVaultItem(
                caption=f"wifi {words[MemoryType.KNOWLEDGE_VAULT]}", secret_value="s3cr3t-zqxvalue"
            ),
        ]
    )
    engine = SearchEngine(store)
    for memory_type, word in words.items():
        hits = engine.search(SearchQuery(word)).hits
        assert hits and hits[0].type is memory_type, memory_type

    # Bytes on disk while the store is open (WAL and SHM included) and after close.
    for phase in ("open", "closed"):
        files = store_files(store_path)
        assert any(p.name.endswith("-wal") for p in files) or phase == "closed"
        for path in files:
            data = path.read_bytes()
            assert CANARY.encode() not in data, (phase, path)
            assert b"zqxvalue" not in data, (phase, path)
            assert b"SQLite format 3" not in data[:16], path
        store.close()


def test_store_reopens_with_the_same_passphrase(store_path: Path, embedder: object) -> None:
    with MemoryStore.open(store_path, KeySource(passphrase=PASSPHRASE), embedder) as first:  # type: ignore[arg-type]
        memory_id = first.add(CoreMemory(value="prefers dark mode"))
    with MemoryStore.open(store_path, KeySource(passphrase=PASSPHRASE), embedder) as again:  # type: ignore[arg-type]
        assert again.get(memory_id).body == "prefers dark mode"
        assert again.info().cipher_version
        assert store_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.usefixtures("memory_keyring")
def test_keyring_mode_store_opens_without_passphrase(store_path: Path, embedder: object) -> None:
    with MemoryStore.open(store_path, KeySource(), embedder) as first:  # type: ignore[arg-type]
        first.add(CoreMemory(value="keyring kept"))
        assert first.info().key_mode == "keyring"
    with MemoryStore.open(store_path, KeySource(), embedder) as again:  # type: ignore[arg-type]
        assert again.count() == 1
