"""The `ChatModel` interface every provider implements, and its message type.

A provider turns a list of chat messages into a stream of text chunks. It
knows how much context it holds and how to count tokens, so the assistant can
trim what it sends (prompt.py) instead of letting the model fail. Errors are
`LlmError`s (errors.py) with a message the user can act on; a stream that
breaks after some text raises after yielding that text, so callers keep the
partial answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]

# Without a tokenizer (remote models), English text averages ~4 characters per
# token; 3.5 errs on the side of sending less.
CHARS_PER_TOKEN_ESTIMATE = 3.5


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 512
    temperature: float = 0.2
    # Seconds for the whole answer, from the request to the last chunk.
    timeout_s: float = 60.0


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN_ESTIMATE) + 1


class ChatModel(Protocol):
    """A language model that streams its answer."""

    @property
    def name(self) -> str:
        """What the user sees: provider and model, e.g. 'openai:qwen2.5:3b'."""
        ...

    @property
    def context_tokens(self) -> int:
        """Tokens the model holds: prompt and answer together."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        """Yields the answer's text chunks; raises LlmError (after any partial text)."""
        ...

    def close(self) -> None: ...
