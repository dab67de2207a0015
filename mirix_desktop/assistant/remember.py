""" "Remember that ..." in a conversation: a fact the user tells the assistant.

A fact about the user ("I ...", "my ...") becomes core memory, which goes
into every prompt; anything else becomes a semantic memory, found by search
like the rest. Both can be listed, edited and deleted with `mirix-desktop
memory list|edit|delete`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from mirix_desktop.memory.records import CoreMemory, MemoryFields, MemoryType, SemanticMemory
from mirix_desktop.memory.store import MemoryStore

_REMEMBER = re.compile(
    r"^\s*(?:please\s+|hey,?\s+)?(?:remember|note|keep in mind|don't forget)"
    r"(?:\s+that|\s*:|\s*,)?\s+(?P<fact>\S.*?)\s*[.!]?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ABOUT_USER = re.compile(r"^(?:i|i'm|i've|i'd|i'll|my|me|mine)\b", re.IGNORECASE)
CORE_LABEL = "human"
# Core memory goes into every prompt; a longer "fact" is really a note.
CORE_MAX_CHARS = 500


@dataclass(frozen=True)
class Remembered:
    memory_id: int
    type: MemoryType
    fact: str

    def confirmation(self) -> str:
        where = "core memory" if self.type is MemoryType.CORE else "semantic memory"
        return (
            f"Noted. I will remember: “{self.fact}” ({where} #{self.memory_id}; change it "
            f"with `mirix-desktop memory edit {self.memory_id}` or remove it with "
            f"`mirix-desktop memory delete {self.memory_id}`)."
        )


def remembered_fact(message: str) -> str | None:
    """The fact in a "remember that ..." message, or None if it is not one."""
    match = _REMEMBER.match(message)
    if match is None:
        return None
    fact = " ".join(match.group("fact").split())
    # "remember when I ..." / "remember what ..." are questions about the past.
    if re.match(r"^(?:when|what|where|who|how|which|if|whether)\b", fact, re.IGNORECASE):
        return None
    if message.rstrip().endswith("?"):
        return None
    return fact or None


def memory_for_fact(fact: str, at: datetime) -> MemoryFields:
    if _ABOUT_USER.match(fact) and len(fact) <= CORE_MAX_CHARS:
        return CoreMemory(label=CORE_LABEL, value=fact, created=at, thread="core:human")
    return SemanticMemory(
        name=fact[:80], summary=fact, source="told by the user in a chat", created=at
    )


def remember(store: MemoryStore, fact: str, at: datetime) -> Remembered:
    memory = memory_for_fact(fact, at)
    memory_id = store.add(memory)
    return Remembered(memory_id, memory.memory_type, fact)
