"""Screenshots of the audit log page, to look at: a week of entries, or none; light, dark, 200 %.

A throw-away store gets one entry of each kind the app writes. Run once per
look (the scale is fixed when Qt starts):

    MIRIX_UI_THEME=light .venv/bin/python -m tests.helpers.audit_shots full OUT.png
    MIRIX_UI_THEME=dark QT_SCALE_FACTOR=2 \
        .venv/bin/python -m tests.helpers.audit_shots empty OUT.png
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from mirix_desktop.memory.audit import append_audit
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.audit_view import AuditView
from mirix_desktop.ui.qt import QtCore, QtWidgets
from mirix_desktop.ui.theme import apply_theme
from tests.conftest import MODELS_DIR

HOUR = 3600.0
ENTRIES: list[tuple[float, str, str, dict[str, object]]] = [
    (
        100,
        "cli",
        "export",
        {
            "memories": 1284,
            "format": "markdown",
            "file": "/home/ana/notes/mirix-november.md",
            "since": "2026-11-01T00:00:00+01:00",
            "apps": [],
            "types": [],
            "include_vault": False,
        },
    ),
    (90, "cli", "import", {"added": 312, "skipped": 4, "file": "/home/ana/old-laptop.jsonl"}),
    (70, "app", "vault_read", {"memory_id": 418, "via": "assistant"}),
    (
        50,
        "mcp",
        "mcp_read",
        {
            "tool": "search_memory",
            "client": "claude-ai",
            "result": "ok",
            "count": 5,
            "args": ["limit", "query"],
            "ms": 41,
        },
    ),
    (
        30,
        "daemon",
        "retention",
        {"retention_days": 90, "frames": 20412, "thumbnails": 20412, "memories": 37},
    ),
    (
        20,
        "app",
        "forget",
        {
            "filter": "app Signal",
            "frames": 4211,
            "lines": 88120,
            "memories": 12,
            "conversations": 0,
            "bytes_reclaimed": 190316544,
        },
    ),
    (10, "app", "settings_change", {"options": ["capture.interval_s", "storage.max_gb"]}),
    (2, "cli", "key_change", {"from": "passphrase", "to": "keyring"}),
    (1, "cli", "vault_read", {"memory_id": 418}),
]


def main() -> None:
    kind, out = sys.argv[1], sys.argv[2]
    app = QtWidgets.QApplication(["mirix-desktop"])
    apply_theme(app)
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore.open(
            Path(tmp) / "mirix.db", KeySource(passphrase="shots"), StaticEmbedder(MODELS_DIR)
        )
        now = time.time()
        if kind == "full":
            with store.transaction() as conn:
                for hours_ago, actor, action, details in ENTRIES:
                    append_audit(conn, action, details, actor=actor, at=now - hours_ago * HOUR)

        class Services:
            def store(self) -> MemoryStore:
                return store

        view = AuditView(Services())
        metrics = view.fontMetrics()
        view.resize(metrics.averageCharWidth() * 120, metrics.lineSpacing() * 24)
        view.show()
        deadline = time.perf_counter() + 30
        while view.status.text() in ("", "Reading…") and time.perf_counter() < deadline:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        for _ in range(10):
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        view.grab().save(out)
        print(f"{out}: {view.width()}x{view.height()} logical, {view.status.text()}")
        view.shutdown()
        store.close()


if __name__ == "__main__":
    main()
