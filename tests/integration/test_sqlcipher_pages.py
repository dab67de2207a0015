"""The test page decryptor reads a real store: what SQL wrote is in its pages, not on disk."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from pathlib import Path

import pytest

from mirix_desktop.memory.records import CoreMemory, ResourceMemory
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers import sqlcipher_pages as pages_of
from tests.helpers.files import store_files
from tests.helpers.sqlcipher_pages import Page, PageError


def _canary() -> str:
    return f"zqx{secrets.token_hex(5)}"


def test_live_store_pages_and_wal_frames_decrypt_to_the_written_text(
    store: MemoryStore, store_path: Path
) -> None:
    word = _canary()
    store.add_many([ResourceMemory(content=f"invoice text {word}", title=f"Ledger {word}")])
    key = pages_of.store_key(store_path, PASSPHRASE)

    pages = pages_of.store_pages(store_path, key)

    assert {p.source for p in pages} == {"db", "wal"}
    assert pages[0].number == 1
    assert pages[0].data.startswith(pages_of.SQLITE_HEADER)
    # The store is open and not checkpointed: the text is only in WAL frames.
    holding = pages_of.occurrences(pages, [word])[word]
    assert holding and {p.source for p in holding} == {"wal"}
    for path in store_files(store_path):
        raw = path.read_bytes()
        assert all(form not in raw for form in pages_of.encodings(word)), path


def test_closed_store_decrypts_to_a_plain_sqlite_database(
    store: MemoryStore, store_path: Path, tmp_path: Path
) -> None:
    word = _canary()
    store.add_many([CoreMemory(value=f"the user's cat is called {word}")])
    store.close()  # checkpoints the WAL into the file and removes it
    key = pages_of.store_key(store_path, PASSPHRASE)

    assert {p.source for p in pages_of.store_pages(store_path, key)} == {"db"}
    plain = pages_of.plaintext_database(store_path, key, tmp_path / "plain.db")
    with sqlite3.connect(plain) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
        bodies = [row[0] for row in conn.execute("SELECT body FROM memories")]
    conn.close()
    assert any(word in body for body in bodies)
    assert word.encode() not in store_path.read_bytes()


def test_a_wrong_key_or_a_changed_byte_is_refused(
    store: MemoryStore, store_path: Path, tmp_path: Path
) -> None:
    store.add_many([CoreMemory(value="something to encrypt")])
    store.close()
    key = pages_of.store_key(store_path, PASSPHRASE)
    with pytest.raises(PageError, match="HMAC"):
        pages_of.store_pages(store_path, secrets.token_bytes(32))

    damaged = tmp_path / "damaged" / store_path.name
    damaged.parent.mkdir()
    shutil.copy(store_path, damaged)
    data = bytearray(damaged.read_bytes())
    data[pages_of.PAGE_SIZE + 100] ^= 0x01  # one bit of page 2's ciphertext
    damaged.write_bytes(bytes(data))
    with pytest.raises(PageError, match="page 2 fails"):
        pages_of.store_pages(damaged, key)


def test_occurrences_finds_utf16_and_any_case() -> None:
    page = Page("db", 0, 1, b"\x00" * 10 + "Tapir Notes".encode("utf-16-le") + b"\x00" * 10)
    found = pages_of.occurrences([page], ["tapir notes", "okapi"])
    assert found["tapir notes"] == [page]
    assert found["okapi"] == []
