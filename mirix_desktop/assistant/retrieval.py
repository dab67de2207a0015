"""What the assistant reads before it answers: memories for one question.

The same hybrid search as `search` (time phrases become filters), with three
rules of its own:
- core memory is always given (it is about the user), not searched;
- knowledge-vault items are never given, except one the question names by
  its caption ("what is my <caption>?"): the user asked for it;
- the assistant's own past exchanges are left out unless the question is
  about a conversation ("what did I ask...", "you said..."), so old answers
  do not crowd out the memories they came from.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mirix_desktop.app import audit
from mirix_desktop.assistant.conversations import CHAT_APP
from mirix_desktop.assistant.prompt import memory_text
from mirix_desktop.memory.records import MemoryRecord, MemoryType
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.memory.timephrases import TimeRange

MAX_CORE = 50
SEARCHED_TYPES = tuple(
    t for t in MemoryType if t not in (MemoryType.KNOWLEDGE_VAULT, MemoryType.CORE)
)
_ABOUT_CONVERSATION = re.compile(
    r"\b(?:i|we)\s+(?:ask|asked|tell|told|say|said|talk|talked|chat|chatted|discuss|discussed)\b"
    r"|\byou\s+(?:said|told|answered|replied|suggested)\b"
    r"|\b(?:conversation|chat)s?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Retrieved:
    candidates: list[tuple[MemoryRecord, str]]  # rank order: (record, text for the prompt)
    core: list[MemoryRecord]
    time_range: TimeRange | None
    search_text: str
    seconds: float


class MemoryRetriever:
    """`exclude_apps` and `named_vault=False` narrow what it reads for a caller that
    must not see everything (the MCP server: `mcp.exclude_apps`, no vault value)."""

    def __init__(
        self,
        store: MemoryStore,
        candidates: int = 100,
        *,
        exclude_apps: Sequence[str] = (),
        named_vault: bool = True,
        actor: str = "cli",
    ) -> None:
        self.store = store
        self.engine = SearchEngine(store, candidates=candidates)
        self.exclude_apps = tuple(exclude_apps)
        self.named_vault = named_vault
        self.actor = actor  # who asked: a named vault item is a "vault_read" in the audit log

    def retrieve(
        self,
        question: str,
        *,
        limit: int,
        now: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        apps: Sequence[str] = (),
    ) -> Retrieved:
        started = time.perf_counter()
        with_chat = bool(_ABOUT_CONVERSATION.search(question))
        # Chat exchanges are dropped after the search, so ask for a few more.
        result = self.engine.search(
            SearchQuery(
                text=question,
                types=SEARCHED_TYPES,
                since=since,
                until=until,
                apps=list(apps),
                limit=limit if with_chat else limit * 2,
                now=now,
                exclude_apps=self.exclude_apps,
            )
        )
        candidates: list[tuple[MemoryRecord, str]] = []
        for vault_item in self._vault_items_named(question):
            audit.record(
                self.store,
                "vault_read",
                {"memory_id": vault_item.id, "via": "assistant"},
                actor=self.actor,
            )
            candidates.append((vault_item, memory_text(vault_item, reveal_secret=True)))
        for hit in result.hits:
            record = result.records[hit.id]
            if record.app == CHAT_APP and not with_chat:
                continue
            candidates.append((record, memory_text(record)))
        core = [
            record
            for record in self.store.list(types=[MemoryType.CORE], limit=MAX_CORE)
            if record.app is None or record.app not in self.exclude_apps
        ]
        core.reverse()  # oldest first reads like a profile
        return Retrieved(
            candidates=candidates[:limit],
            core=core,
            time_range=result.time_range,
            search_text=result.text,
            seconds=time.perf_counter() - started,
        )

    def _vault_items_named(self, question: str) -> list[MemoryRecord]:
        if not self.named_vault:
            return []
        lowered = " ".join(question.lower().split())
        return [
            item
            for item in self.store.of_type(MemoryType.KNOWLEDGE_VAULT)
            if item.title and len(item.title.strip()) >= 3 and _names(lowered, item.title)
        ]


def _names(question: str, caption: str) -> bool:
    """Whether the question names the caption as a whole phrase."""
    phrase = " ".join(caption.lower().split())
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", question) is not None
