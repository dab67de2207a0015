"""A password manager's web vault, known only from the address bar OCR reads, stores nothing.

No desktop API gives a browser's URL: the pipeline reads it from the address
bar's text, after OCR. A window found to show a vault that way must leave
nothing behind: not its lines, not its title in the frame row, no memory.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mirix_desktop.capture.screen import MonitorShot
from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.pipeline import Pipeline
from tests.helpers.screens import pixels, screen

SIZE = (1280, 800)
VAULT_TITLE = "Vaults | Bitwarden Web Vault - Mozilla Firefox"
SECRETS = ["Marmoset bank login seventeen", "Caracal mailbox recovery phrase"]


def _stored_text(store: MemoryStore) -> str:
    with store.read() as conn:
        rows = [r[0] for r in conn.execute("SELECT text FROM ocr_lines")]
        rows += [f"{r[0]} {r[1]}" for r in conn.execute("SELECT app, window_title FROM frames")]
        rows += [f"{r[0]} {r[1]}" for r in conn.execute("SELECT title, body FROM memories")]
    return "\n".join(str(r) for r in rows)


@pytest.mark.xfail(
    strict=True,
    reason="known leak (issue 17 item 5): OCR reads the address bar as 'vault. bitwarden.com', "
    "which no URL rule matches; and a window excluded by its URL still has its OCR lines "
    "and its title (in the frame row) stored: only its memories are skipped",
)
def test_a_web_vault_recognised_by_its_address_bar_stores_nothing(store: MemoryStore) -> None:
    pipeline = Pipeline(store, Settings())
    # As a browser shows it; OCR reads "vault. bitwarden.com/#/vault".
    page = screen(["vault.bitwarden.com/#/vault", "", *SECRETS], size=SIZE, top=20)
    vault = WindowInfo(app="firefox", title=VAULT_TITLE, rect=Rect(0, 0, *SIZE), active=True)
    at = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    shot = MonitorShot(1, Rect(0, 0, *SIZE), pixels(page))
    assert pipeline.submit(shot, [vault], at).state == "queued"
    pipeline.drain()
    # The capture loop's word that the same window is still active.
    pipeline.record_activity("active", vault, at + timedelta(seconds=2))
    pipeline.drain()
    pipeline.processor.flush(at + timedelta(seconds=4))

    stored = _stored_text(store)
    for secret in SECRETS:
        assert secret.split()[0] not in stored
    assert "Bitwarden" not in stored
