"""What an MCP client may read and write: the memory as search sees it, narrowed.

Three rules hold in every read here, so every tool and resource obeys them:
- it sees only what `search` sees (what capture excluded was never stored);
- a knowledge-vault item shows its caption, never its value (`app.records.shown`);
- memories, episodes, apps and screens of the apps in `mcp.exclude_apps` are
  not there at all: an id or a moment of one is answered like a missing one.

Results are plain JSON-able dicts; every one carries `count`, the number the
audit log records. The store opens on the first call, so a wrong or missing
key is a tool error the client can show, not a server that never starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from mirix_desktop.app.records import get_record, search_memories
from mirix_desktop.app.services import AppServices
from mirix_desktop.assistant.remember import remember
from mirix_desktop.errors import (
    InvalidQuery,
    KeyUnavailable,
    KnownError,
    MemoryNotFound,
    PassphraseWait,
    WrongPassphrase,
)
from mirix_desktop.mcp_server.arguments import (
    MAX_APP_CHARS,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    Span,
    bounded,
    moment,
    time_range,
)
from mirix_desktop.memory import timeline
from mirix_desktop.memory.records import MemoryType, from_ms, to_ms
from mirix_desktop.memory.store import MemoryStore

# get_screen_text(at): the nearest frame within this much of `at`.
SCREEN_REACH = timedelta(minutes=5)
# list_apps without `since`: the last this many days.
APPS_DEFAULT_DAYS = 30
MAX_EPISODES = 500
MAX_REMEMBER_CHARS = 4000


def _iso(ms: int) -> str:
    return from_ms(ms).astimezone().isoformat()


class McpView:
    """The memory as MCP clients see it (one per server process)."""

    def __init__(
        self,
        services: AppServices,
        exclude_apps: Sequence[str] = (),
        *,
        clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    ) -> None:
        self.services = services
        self.exclude_apps = tuple(exclude_apps)
        self._hidden = frozenset(self.exclude_apps)
        self.clock = clock
        self._refused: KnownError | None = None
        self._opened: MemoryStore | None = None

    def store(self) -> MemoryStore:
        """The store; a key that did not open it is not tried again.

        The key (MIRIX_PASSPHRASE, the keyring) cannot change while the server
        runs: trying it on every call would only add wrong attempts, and with
        them the waits the next unlock must sit out.
        """
        if self._refused is not None:
            raise self._refused
        try:
            self._opened = self.services.store()
        except (WrongPassphrase, KeyUnavailable) as exc:
            if not isinstance(exc, PassphraseWait):
                self._refused = exc
            raise
        return self._opened

    def opened_store(self) -> MemoryStore | None:
        """The store if a call opened it (the audit log's entries go there), else None."""
        return self._opened

    def hidden(self, app: str | None) -> bool:
        return app is not None and app in self._hidden

    # -- memories ---------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        types: Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
        app: str | None = None,
        limit: int = 10,
    ) -> dict[str, Any]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}; {limit} was asked.")
        bounded(query, "query", MAX_QUERY_CHARS)
        if app is not None:
            bounded(app, "app", MAX_APP_CHARS)
        now = self.clock()
        start, stop = time_range(since, until, now)
        if app is not None and self.hidden(app):
            return {"query": query, "time_range": None, "count": 0, "results": []}
        result = search_memories(
            self.store(),
            self.services.settings,
            query,
            # Each type once: a list repeating one (the schema lets it) must not
            # become a query with more parameters than SQLite takes.
            types=[MemoryType(t) for t in dict.fromkeys(types)],
            since=start,
            until=stop,
            apps=[app] if app else [],
            limit=limit,
            now=now,
            exclude_apps=self.exclude_apps,
        )
        hits = [hit.to_json() for hit in result.hits]
        return {
            "query": result.text,
            "time_range": None if result.time_range is None else result.time_range.to_json(),
            "count": len(hits),
            "results": hits,
        }

    def memory(self, memory_id: int) -> dict[str, Any]:
        try:
            record = get_record(self.store(), memory_id)  # the vault value stays hidden
        except MemoryNotFound:
            record = None
        if record is None or self.hidden(record.app):
            raise MemoryNotFound(f"No memory with id {memory_id}.")
        return {**record.to_json(), "count": 1}

    def remember(self, text: str) -> dict[str, Any]:
        fact = " ".join(text.split())
        if not fact:
            raise InvalidQuery("The text to remember is empty.")
        if len(fact) > MAX_REMEMBER_CHARS:
            raise InvalidQuery(
                f"The text is {len(fact)} characters long; at most {MAX_REMEMBER_CHARS}."
            )
        kept = remember(self.store(), fact, self.clock())
        return {"memory_id": kept.memory_id, "type": kept.type.value, "count": 1}

    # -- the timeline -----------------------------------------------------------------------
    def timeline(self, span: Span) -> dict[str, Any]:
        start_ms, end_ms = to_ms(span.start), to_ms(span.end)
        with self.store().read() as conn:
            episodes = timeline.episodes_between(conn, start_ms, end_ms)
            apps = timeline.time_per_app(conn, start_ms, end_ms)
        shown = [e for e in episodes if not self.hidden(e.app)]
        return {
            "start": span.start.isoformat(),
            "end": span.end.isoformat(),
            "count": len(shown),
            "episodes": [
                {
                    "memory_id": e.memory_id,
                    "start": _iso(e.start_ms),
                    "end": _iso(e.end_ms),
                    "app": e.app,
                    "title": e.title,
                }
                for e in shown[:MAX_EPISODES]
            ],
            "episodes_left_out": max(0, len(shown) - MAX_EPISODES),
            "time_per_app": [
                {"app": app or None, "seconds": round(seconds, 1)}
                for app, seconds in apps
                if not self.hidden(app or None)
            ],
        }

    def apps(self, since: str | None) -> dict[str, Any]:
        now = self.clock()
        start = moment(since, now, "since") or now - timedelta(days=APPS_DEFAULT_DAYS)
        if start > now:
            raise InvalidQuery(f"since ({start.isoformat()}) is in the future.")
        with self.store().read() as conn:
            apps = timeline.time_per_app(conn, to_ms(start), to_ms(now))
        shown = [
            {"app": app, "seconds": round(seconds, 1)}
            for app, seconds in apps
            if app and not self.hidden(app)
        ]
        return {"since": start.isoformat(), "count": len(shown), "apps": shown}

    def screen_text(self, at: str | None, frame_id: int | None) -> dict[str, Any]:
        """The OCR text of one captured frame: by id, or the nearest to a moment."""
        if frame_id is None:
            when = moment(at, self.clock(), "at")
            assert when is not None  # the tool asks for one of the two
            ms, reach = to_ms(when), int(SCREEN_REACH.total_seconds() * 1000)
            with self.store().read() as conn:
                frame_id = timeline.frame_near(conn, ms, ms - reach, ms + reach)
            if frame_id is None:
                raise MemoryNotFound(
                    f"Nothing was captured within {SCREEN_REACH.seconds // 60} minutes of "
                    f"{when.isoformat()}."
                )
        with self.store().read() as conn:
            detail = timeline.frame_detail(conn, frame_id)
            lines = timeline.frame_lines(conn, frame_id) if detail is not None else []
        if detail is None or self.hidden(detail.app):
            raise MemoryNotFound(f"No captured screen with frame id {frame_id}.")
        return {
            "frame_id": detail.id,
            "at": _iso(detail.at_ms),
            "app": detail.app,
            "title": detail.title,
            "url": detail.url,
            "ocr_state": detail.ocr_state,
            "count": len(lines),
            "text": "\n".join(line.text for line in lines),
        }
