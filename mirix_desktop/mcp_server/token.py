"""The bearer token of `mcp --http`: made at random, shown once, only its hash kept.

The hash lives in the store's `meta` table, inside the encrypted file, so
the token is never written anywhere in the clear: the person copies it into
their client's config when it is shown, and `--new-token` replaces it (the
old one stops working at once). A presented token is compared in constant
time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from mirix_desktop.memory.meta import read_meta, write_meta
from mirix_desktop.memory.store import MemoryStore

TOKEN_HASH_KEY = "mcp_http_token_sha256"
TOKEN_BYTES = 32


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def stored_hash(store: MemoryStore) -> str | None:
    """The kept token's hash (None: no token was made yet)."""
    with store.read() as conn:
        return read_meta(conn, TOKEN_HASH_KEY)


def new_token(store: MemoryStore) -> str:
    """A new random token, replacing any earlier one; the caller shows it once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with store.transaction() as conn:
        write_meta(conn, TOKEN_HASH_KEY, _digest(token))
    return token


def matches(presented: str, expected_hash: str) -> bool:
    """Whether a presented token is the one whose hash is kept."""
    return hmac.compare_digest(_digest(presented), expected_hash)
