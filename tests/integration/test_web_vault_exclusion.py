"""A password manager's web vault, known only from the address bar OCR reads, stores nothing.

No desktop API gives a browser's URL: the pipeline reads it from the address
bar's text, after OCR. A window found to show a vault that way must leave
nothing behind: not its lines, not its title in the frame row, no memory, no
episode from the capture loop's "still active" word, nothing in the search
index or the thumbnail; the job holding its pixels is gone. Beside it, an
allowed window is kept as usual.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.conftest import PASSPHRASE
from tests.helpers import sqlcipher_pages
from tests.helpers.screens import FONT_PATH, pixels, screen

SIZE = (1280, 800)
VAULT_TITLE = "Vaults | Bitwarden Web Vault - Mozilla Firefox"
SECRETS = ["Marmoset bank login seventeen", "Caracal mailbox recovery phrase"]
AT = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


def _stored_text(store: MemoryStore) -> str:
    with store.read() as conn:
        rows = [r[0] for r in conn.execute("SELECT text FROM ocr_lines")]
        rows += [
            f"{r[0]} {r[1]} {r[2]}"
            for r in conn.execute("SELECT app, window_title, url FROM frames")
        ]
        rows += [f"{r[0]} {r[1]}" for r in conn.execute("SELECT title, body FROM memories")]
        rows += [f"{r[0]} {r[1]}" for r in conn.execute("SELECT title, body FROM memory_fts")]
    return "\n".join(str(r) for r in rows)


def _thumbnails(store: MemoryStore) -> list[np.ndarray]:
    with store.read() as conn:
        blobs = [r[0] for r in conn.execute("SELECT thumbnail FROM frames ORDER BY id")]
    assert all(blobs)
    return [np.asarray(Image.open(io.BytesIO(blob)).convert("L")) for blob in blobs]


def _jobs_left(store: MemoryStore) -> int:
    with store.read() as conn:
        return int(conn.execute("SELECT count(*) FROM capture_jobs").fetchone()[0])


def _run(pipeline: Pipeline, page: Image.Image, windows: list[WindowInfo]) -> None:
    """A frame, then the capture loop's "still active" words for 40 s: an episode's worth."""
    shot = MonitorShot(1, Rect(0, 0, *SIZE), pixels(page))
    assert pipeline.submit(shot, windows, AT).state == "queued"
    pipeline.drain()
    active = next(w for w in windows if w.active)
    for seconds in (2, 20, 38):
        pipeline.record_activity("active", active, AT + timedelta(seconds=seconds))
        pipeline.drain()
    pipeline.processor.flush(AT + timedelta(seconds=40))


def test_a_web_vault_recognised_by_its_address_bar_stores_nothing(
    store: MemoryStore, store_path: Path
) -> None:
    pipeline = Pipeline(store, Settings())
    # As a browser shows it; OCR reads "vault. bitwarden.com/#/vault".
    page = screen(["vault.bitwarden.com/#/vault", "", *SECRETS], size=SIZE, top=20)
    vault = WindowInfo(app="firefox", title=VAULT_TITLE, rect=Rect(0, 0, *SIZE), active=True)

    _run(pipeline, page, [vault])

    stored = _stored_text(store)
    for secret in SECRETS:
        assert secret.split()[0] not in stored
    assert "Bitwarden" not in stored
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM memories").fetchone()[0] == 0
        assert conn.execute("SELECT app, window_title, url FROM frames").fetchall() == [
            (None, None, None)
        ]
    assert _jobs_left(store) == 0
    # The vault was the whole screen: its thumbnail is black.
    (thumb,) = _thumbnails(store)
    assert thumb.max() < 16
    # Below SQL: the vault's text is in no page of the store or its WAL (it
    # never was text), and once the WAL is checkpointed the title is in no
    # page of the store file (the frame row rewritten, the job zeroed).
    key = sqlcipher_pages.store_key(store_path, PASSPHRASE)
    words = [secret.split()[0] for secret in SECRETS]
    found = sqlcipher_pages.occurrences(sqlcipher_pages.store_pages(store_path, key), words)
    assert {word: pages for word, pages in found.items() if pages} == {}
    with store.read() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    pages = sqlcipher_pages.store_pages(store_path, key)
    assert {p.source for p in pages} == {"db"}
    found = sqlcipher_pages.occurrences(pages, [*words, "Bitwarden"])
    assert {word: pages for word, pages in found.items() if pages} == {}


def _two_windows() -> Image.Image:
    """A vault in a browser on the left, an editor on the right (text at other heights)."""
    font = ImageFont.truetype(FONT_PATH, 16)
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    draw.line([(640, 0), (640, SIZE[1])], fill="gray")
    for y, text in [(20, "vault. bitwarden.com/#/vault"), (140, SECRETS[0]), (188, SECRETS[1])]:
        draw.text((30, y), text, font=font, fill="black")
    for y, text in [(320, "Heron survey counts for the marsh"), (368, "Osprey nest seen at dawn")]:
        draw.text((680, y), text, font=font, fill="black")
    return image


def test_only_the_vault_goes_when_it_shares_the_screen(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings())
    vault = WindowInfo(app="firefox", title=VAULT_TITLE, rect=Rect(0, 0, 640, 800), active=True)
    notes = WindowInfo(app="mousepad", title="Marsh notes - Mousepad", rect=Rect(641, 0, 639, 800))

    _run(pipeline, _two_windows(), [vault, notes])

    stored = _stored_text(store)
    for secret in SECRETS:
        assert secret.split()[0] not in stored
    assert "Bitwarden" not in stored
    assert "Heron" in stored and "Osprey" in stored
    with store.read() as conn:
        # The frame is labelled as if the vault had been excluded at capture.
        assert conn.execute("SELECT app, window_title FROM frames").fetchall() == [
            ("mousepad", "Marsh notes - Mousepad")
        ]
    (thumb,) = _thumbnails(store)
    half = thumb.shape[1] // 2
    assert thumb[:, : half - 1].max() < 16  # the vault: black
    assert thumb[:, half + 2 :].min() < 128 < thumb[:, half + 2 :].max()  # the notes: text
