"""Reads a store's encrypted pages without SQLCipher: every page of the file and its WAL.

Tests use it to look *inside* the store, below what SQL shows: a row deleted
but left in a free page, an old frame still in the WAL, a value in an index
page. The format is SQLCipher 4's defaults, which `memory/connection.py`
keeps (it only passes a raw key, ``PRAGMA key = "x'<64 hex>'"``):

- pages of 4096 bytes, each ending in an 80-byte reserve: a 16-byte IV, then
  a 64-byte HMAC-SHA512, then nothing;
- the file's first 16 bytes are the KDF salt; page 1 is encrypted from byte
  16 on, and reads "SQLite format 3\\0" there once decrypted;
- with a raw key, the key *is* the AES-256 key (no PBKDF2 over it); the HMAC
  key is PBKDF2-HMAC-SHA512(key, salt XOR 0x3a, 2 iterations, 32 bytes);
- a page's HMAC covers its ciphertext and IV followed by its page number as
  4 little-endian bytes; the ciphertext is AES-256-CBC without padding.

(SQLCipher `src/crypto_impl.c`: `sqlcipher_cipher_ctx_key_derive`,
`sqlcipher_page_cipher`, `sqlcipher_page_hmac`.)

A WAL file holds a 32-byte plaintext header, then frames of a 24-byte
plaintext header (page number, big-endian, first) and one page encrypted as
above. Stale frames of earlier WAL generations are decrypted too: they are
bytes on disk as much as current ones. Every page's HMAC is checked; one that
does not verify raises `PageError`, so a scan never passes by skipping pages
it could not read. All-zero pages (never written) are returned as zeros.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from mirix_desktop.memory.keys import KeySource, unlock_key

PAGE_SIZE = 4096
SALT_SIZE = 16
IV_SIZE = 16
HMAC_SIZE = 64
RESERVE_SIZE = 80  # IV + HMAC, rounded up to the AES block
HMAC_SALT_MASK = 0x3A
FAST_KDF_ITER = 2
SQLITE_HEADER = b"SQLite format 3\x00"
WAL_HEADER_SIZE = 32
WAL_FRAME_HEADER_SIZE = 24
_WAL_MAGIC = (0x377F0682, 0x377F0683)

Source = Literal["db", "wal"]


class PageError(RuntimeError):
    """A page that does not verify: wrong key, not a SQLCipher 4 file, or damage."""


@dataclass(frozen=True)
class Page:
    """One decrypted page: where it came from and its plaintext.

    `data` is the whole page with the reserve (IV and HMAC) zeroed, so the
    pages of the main file, written in order, form a plain SQLite database.
    """

    source: Source
    index: int  # page index in the file, or frame index in the WAL (0-based)
    number: int  # SQLite page number (1-based)
    data: bytes


@dataclass(frozen=True)
class PageKeys:
    """The two keys a store's pages need."""

    cipher_key: bytes
    hmac_key: bytes

    @classmethod
    def derive(cls, key: bytes, salt: bytes) -> PageKeys:
        if len(key) != 32 or len(salt) != SALT_SIZE:
            raise ValueError("a SQLCipher raw key is 32 bytes and its salt 16")
        hmac_salt = bytes(b ^ HMAC_SALT_MASK for b in salt)
        hmac_key = hashlib.pbkdf2_hmac("sha512", key, hmac_salt, FAST_KDF_ITER, 32)
        return cls(cipher_key=key, hmac_key=hmac_key)


def store_key(store_path: Path, passphrase: str) -> bytes:
    """The raw key of a passphrase store, as the app derives it (scrypt, key info file)."""
    return unlock_key(store_path, KeySource(passphrase=passphrase))


def read_salt(db_path: Path) -> bytes:
    with db_path.open("rb") as handle:
        salt = handle.read(SALT_SIZE)
    if len(salt) != SALT_SIZE:
        raise PageError(f"{db_path} is too short to hold a SQLCipher salt")
    if salt == SQLITE_HEADER:
        raise PageError(f"{db_path} is a plaintext SQLite database")
    return salt


def decrypt_page(raw: bytes, number: int, keys: PageKeys, *, where: str = "") -> bytes:
    """The plaintext of one encrypted page (page 1 gets its SQLite header back)."""
    if len(raw) != PAGE_SIZE:
        raise PageError(f"{where}: a page of {len(raw)} bytes, not {PAGE_SIZE}")
    if not any(raw):
        return raw
    start = SALT_SIZE if number == 1 else 0
    end = PAGE_SIZE - RESERVE_SIZE
    iv = raw[end : end + IV_SIZE]
    mac = hmac.new(keys.hmac_key, raw[start : end + IV_SIZE], hashlib.sha512)
    mac.update(struct.pack("<I", number))
    if not hmac.compare_digest(mac.digest(), raw[end + IV_SIZE : end + IV_SIZE + HMAC_SIZE]):
        raise PageError(f"{where}: page {number} fails its HMAC (wrong key or damaged)")
    decryptor = Cipher(algorithms.AES(keys.cipher_key), modes.CBC(iv)).decryptor()
    body = decryptor.update(raw[start:end]) + decryptor.finalize()
    head = SQLITE_HEADER if number == 1 else b""
    return head + body + bytes(RESERVE_SIZE)


def database_pages(db_path: Path, keys: PageKeys) -> Iterator[Page]:
    """Every page of the main store file, in file order."""
    data = db_path.read_bytes()
    if len(data) % PAGE_SIZE:
        raise PageError(f"{db_path}: {len(data)} bytes is not a whole number of pages")
    for index in range(len(data) // PAGE_SIZE):
        raw = data[index * PAGE_SIZE : (index + 1) * PAGE_SIZE]
        plain = decrypt_page(raw, index + 1, keys, where=str(db_path))
        yield Page("db", index, index + 1, plain)


def wal_pages(wal_path: Path, keys: PageKeys) -> Iterator[Page]:
    """Every whole frame of a WAL file, current or stale, in file order.

    A torn last frame (fewer bytes than a frame) is reported, not skipped.
    """
    data = wal_path.read_bytes()
    if not data:
        return
    if len(data) < WAL_HEADER_SIZE:
        raise PageError(f"{wal_path}: {len(data)} bytes cannot hold a WAL header")
    magic, _version, page_size = struct.unpack(">III", data[:12])
    if magic not in _WAL_MAGIC or page_size != PAGE_SIZE:
        raise PageError(f"{wal_path}: not a WAL of {PAGE_SIZE}-byte pages")
    frame_size = WAL_FRAME_HEADER_SIZE + PAGE_SIZE
    body = len(data) - WAL_HEADER_SIZE
    if body % frame_size:
        raise PageError(f"{wal_path}: a torn frame at the end ({body % frame_size} bytes)")
    for index in range(body // frame_size):
        offset = WAL_HEADER_SIZE + index * frame_size
        (number,) = struct.unpack(">I", data[offset : offset + 4])
        raw = data[offset + WAL_FRAME_HEADER_SIZE : offset + frame_size]
        if number == 0 and not any(data[offset : offset + frame_size]):
            continue  # preallocated, never written
        plain = decrypt_page(raw, number, keys, where=f"{wal_path} frame {index}")
        yield Page("wal", index, number, plain)


def wal_path_of(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + "-wal")


def store_pages(db_path: Path, key: bytes) -> list[Page]:
    """Every page of the store file and every frame of its WAL (if there is one)."""
    keys = PageKeys.derive(key, read_salt(db_path))
    pages = list(database_pages(db_path, keys))
    wal = wal_path_of(db_path)
    if wal.exists():
        pages.extend(wal_pages(wal, keys))
    return pages


def encodings(text: str) -> list[bytes]:
    """The byte forms a text may take inside a page: UTF-8 and both UTF-16s."""
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def occurrences(pages: Iterable[Page], needles: Iterable[str]) -> dict[str, list[Page]]:
    """For each needle, the pages holding it in any encoding, case-insensitively for ASCII.

    A needle split across two pages (an overflow chain) is still found in
    one of them as long as it is no longer than a page's content; callers
    pick needles short enough (a word, a title) for that not to matter.
    """
    wanted = {needle: [form.lower() for form in encodings(needle)] for needle in needles}
    found: dict[str, list[Page]] = {needle: [] for needle in wanted}
    for page in pages:
        lowered = page.data.lower()
        for needle, forms in wanted.items():
            if any(form in lowered for form in forms):
                found[needle].append(page)
    return found


def plaintext_database(db_path: Path, key: bytes, out: Path) -> Path:
    """Writes the main file's decrypted pages as a plain SQLite file (WAL not applied)."""
    keys = PageKeys.derive(key, read_salt(db_path))
    with out.open("wb") as handle:
        for page in database_pages(db_path, keys):
            handle.write(page.data)
    return out
