"""The audit log page: a table read on a worker, newest first, a period, an empty state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.errors import KnownError
from mirix_desktop.memory.audit import append_audit
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.audit_view import EMPTY, PERIODS, AuditView

DAY = 86400.0


class Services:
    """The store, and the threads that asked for it."""

    def __init__(self, store: MemoryStore | None, error: str | None = None) -> None:
        self._store = store
        self._error = error
        self.threads: list[threading.Thread] = []

    def store(self) -> MemoryStore:
        self.threads.append(threading.current_thread())
        if self._store is None:
            raise KnownError(self._error or "no store")
        return self._store


@pytest.fixture
def make_view(qtbot: QtBot) -> Iterator[Callable[[Services], AuditView]]:
    made: list[AuditView] = []

    def make(services: Services) -> AuditView:
        view = AuditView(services)
        qtbot.add_widget(view)
        made.append(view)
        return view

    yield make
    for view in made:
        assert view.shutdown()


def _cells(view: AuditView, row: int) -> list[str]:
    return [view.table.item(row, c).text() for c in range(view.table.columnCount())]


def test_shows_entries_newest_first_read_on_a_worker(
    qtbot: QtBot, store: MemoryStore, make_view: Callable[[Services], AuditView]
) -> None:
    now = time.time()
    with store.transaction() as conn:
        append_audit(conn, "export", {"memories": 12, "format": "jsonl"}, actor="cli", at=now - 60)
        append_audit(
            conn, "mcp_read", {"tool": "search_memory", "count": 3}, actor="mcp", at=now - 30
        )
        append_audit(conn, "forget", {"app": "Signal"}, actor="app", at=now - 10 * DAY)
    services = Services(store)
    view = make_view(services)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()  # the first show reads
    assert threading.main_thread() not in services.threads
    assert view.table.rowCount() == 2  # the default period is the last 7 days
    time_text, by, what, details = _cells(view, 0)
    assert (by, what, details) == (
        "MCP server",
        "Read by an MCP client",
        "tool: search_memory; count: 3",
    )
    assert time_text[:4].isdigit()
    assert _cells(view, 1)[1:] == ["command line", "Export", "memories: 12; format: jsonl"]
    assert view.status.text() == "2 entries"
    assert view.stack.currentWidget() is view.table

    everything = [label for label, span in PERIODS].index("Everything")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.period.setCurrentIndex(everything)
    assert view.table.rowCount() == 3
    assert _cells(view, 2)[1:] == ["app", "Forget", "app: Signal"]


def test_an_empty_period_says_so_and_refresh_reads_again(
    qtbot: QtBot, store: MemoryStore, make_view: Callable[[Services], AuditView]
) -> None:
    view = make_view(Services(store))
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    assert view.stack.currentWidget() is view.empty and view.empty.text() == EMPTY
    with store.transaction() as conn:
        append_audit(conn, "vault_read", {"memory_id": 4}, actor="cli")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.refresh_button.click()
    assert view.stack.currentWidget() is view.table
    assert _cells(view, 0)[2:] == ["Vault item shown", "memory id: 4"]


def test_a_store_that_cannot_open_is_said_in_the_status(
    qtbot: QtBot, make_view: Callable[[Services], AuditView]
) -> None:
    view = make_view(Services(None, "The passphrase is wrong."))
    view.show()
    qtbot.waitUntil(lambda: "passphrase is wrong" in view.status.text(), timeout=10_000)
    assert view.status.text().startswith("Could not read the audit log")
