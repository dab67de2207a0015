"""Byte-level checks on store files."""

from __future__ import annotations

import hashlib
from pathlib import Path


def store_files(store: Path) -> list[Path]:
    """The store and its WAL/SHM companions that exist."""
    candidates = [store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")]
    return [p for p in candidates if p.exists()]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(directory: Path) -> dict[str, str]:
    """A digest of every file in a directory, to prove nothing was changed."""
    return {p.name: digest(p) for p in sorted(directory.iterdir()) if p.is_file()}
