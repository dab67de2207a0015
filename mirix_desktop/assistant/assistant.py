"""One question in, one grounded answer out: retrieve, prompt, stream, cite, keep.

The assistant never loses what it was told or what it said: the question is
stored before the model is asked, and the answer after the stream ends, even
when a timeout or a broken connection cut it short (then it is marked
'partial', with the error). Streaming goes to a callback, so the CLI prints
chunks as they come and the UI can forward them through a signal; a
`CancelToken` (a Stop button) ends the stream between chunks and keeps what
was said, marked 'partial', "stopped by you".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mirix_desktop.assistant.cancel import STOPPED_BY_USER, CancelToken
from mirix_desktop.assistant.citations import Citation, resolve_citations
from mirix_desktop.assistant.conversations import AnswerStatus, ConversationLog
from mirix_desktop.assistant.extractive import PREAMBLE, extractive_answer
from mirix_desktop.assistant.prompt import Prompt, PromptBuilder
from mirix_desktop.assistant.remember import Remembered, remember, remembered_fact
from mirix_desktop.assistant.retrieval import MemoryRetriever, Retrieved
from mirix_desktop.config import Settings
from mirix_desktop.errors import InvalidQuery, LlmError, MemoryNotFound
from mirix_desktop.llm.base import ChatModel, GenerationOptions, estimate_tokens
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.memory.timephrases import TimeRange

log = logging.getLogger(__name__)

EXTRACTIVE_NAME = "extractive"
# The extractive answer reads snippets, not a context window; this only
# bounds how much of each long memory it looks at.
EXTRACTIVE_CONTEXT_TOKENS = 16384
MAX_QUESTION_CHARS = 8000

ChunkSink = Callable[[str], None]


@dataclass
class Answer:
    conversation_id: int
    question: str
    text: str
    citations: list[Citation]
    status: AnswerStatus
    model: str
    error: str | None = None
    memory_id: int | None = None  # the searchable memory of this exchange
    remembered: Remembered | None = None
    time_range: TimeRange | None = None
    trimmed: bool = False
    retrieval_s: float = 0.0
    prompt_s: float = 0.0
    first_chunk_s: float | None = None
    total_s: float = 0.0
    failure: LlmError | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "question": self.question,
            "answer": self.text,
            "status": self.status,
            "error": self.error,
            "model": self.model,
            "citations": [c.to_json() for c in self.citations],
            "remembered": None
            if self.remembered is None
            else {"memory_id": self.remembered.memory_id, "type": self.remembered.type.value},
            "time_range": None if self.time_range is None else self.time_range.to_json(),
            "trimmed_to_fit": self.trimmed,
            "timings_s": {
                "retrieval": round(self.retrieval_s, 4),
                "prompt": round(self.prompt_s, 4),
                "first_chunk": None if self.first_chunk_s is None else round(self.first_chunk_s, 4),
                "total": round(self.total_s, 4),
            },
        }


class Assistant:
    """Answers questions from one store with one model (None: extractive)."""

    def __init__(
        self,
        store: MemoryStore,
        model: ChatModel | None,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        actor: str = "cli",
    ) -> None:
        self.store = store
        self.model = model
        self.settings = settings
        self.clock = clock
        self.conversations = ConversationLog(store)
        self.retriever = MemoryRetriever(store, candidates=settings.search.candidates, actor=actor)

    @property
    def model_name(self) -> str:
        return self.model.name if self.model is not None else EXTRACTIVE_NAME

    def ask(
        self,
        question: str,
        *,
        conversation_id: int | None = None,
        on_chunk: ChunkSink | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        apps: Sequence[str] = (),
        cancel: CancelToken | None = None,
    ) -> Answer:
        started = time.perf_counter()
        question = question.strip()
        if not question:
            raise InvalidQuery("The question is empty.")
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidQuery(
                f"The question is {len(question)} characters long; the limit is "
                f"{MAX_QUESTION_CHARS}. Ask about a part of it."
            )
        asked_at = self.clock()
        if conversation_id is None:
            conversation_id = self.conversations.start(question[:120], asked_at)
        elif not self.conversations.exists(conversation_id):
            raise MemoryNotFound(f"No conversation with id {conversation_id}.")
        history = self.conversations.history(conversation_id)
        question_id = self.conversations.add_question(conversation_id, question, asked_at)
        sink = on_chunk or (lambda _chunk: None)

        fact = remembered_fact(question)
        if fact is not None:
            remembered = remember(self.store, fact, asked_at)
            text = remembered.confirmation()
            sink(text)
            answer = Answer(conversation_id, question, text, [], "complete", "memory")
            answer.remembered = remembered
            return self._finish(answer, question_id, asked_at, started)

        retrieved = self.retriever.retrieve(
            question,
            limit=self.settings.llm.snippets,
            now=asked_at,
            since=since,
            until=until,
            apps=apps,
        )
        prompt_started = time.perf_counter()
        prompt = self._prompt(question, retrieved, history, asked_at)
        answer = Answer(conversation_id, question, "", [], "complete", self.model_name)
        answer.time_range = retrieved.time_range
        answer.trimmed = prompt.trimmed
        answer.retrieval_s = retrieved.seconds
        answer.prompt_s = time.perf_counter() - prompt_started

        parts: list[str] = []
        stopped = cancel is not None and cancel.cancelled
        stream: Iterator[str] = iter(())
        try:
            if not stopped:
                stream = self._generate(question, prompt)
            for chunk in stream:
                # A chunk arriving after Stop is dropped: the kept answer is
                # what the person saw when they stopped it.
                if cancel is not None and cancel.cancelled:
                    stopped = True
                    break
                if answer.first_chunk_s is None:
                    answer.first_chunk_s = time.perf_counter() - started
                parts.append(chunk)
                sink(chunk)
        except LlmError as exc:
            answer.failure = exc
            answer.error = exc.message
            answer.status = "partial" if "".join(parts).strip() else "failed"
            log.warning("answer %s: %s", answer.status, exc.message)
        except KeyboardInterrupt:
            answer.text = "".join(parts)
            answer.status, answer.error = "partial", "interrupted by the user"
            self._finish(answer, question_id, asked_at, started, prompt)
            raise
        finally:
            # Ends the provider's work: the HTTP response is closed, llama.cpp
            # stops generating. A stream that already ended ignores it.
            _close(stream)
        if stopped:
            answer.status, answer.error = "partial", STOPPED_BY_USER
            log.info("answer stopped by the user after %d chunks", len(parts))
        answer.text = "".join(parts)
        return self._finish(answer, question_id, asked_at, started, prompt)

    def _prompt(
        self, question: str, retrieved: Retrieved, history: Sequence[Any], now: datetime
    ) -> Prompt:
        if self.model is None:
            builder = PromptBuilder(estimate_tokens, EXTRACTIVE_CONTEXT_TOKENS)
        else:
            builder = PromptBuilder(self.model.count_tokens, self.model.context_tokens)
        return builder.build(
            question,
            retrieved.candidates,
            core=retrieved.core,
            history=history,
            max_answer_tokens=self.settings.llm.max_answer_tokens,
            now=now.strftime("%A %Y-%m-%d %H:%M %Z"),
        )

    def _generate(self, question: str, prompt: Prompt) -> Iterator[str]:
        if self.model is None:
            return extractive_answer(question, prompt.snippets)
        options = GenerationOptions(
            max_tokens=prompt.answer_tokens,
            temperature=self.settings.llm.temperature,
            timeout_s=self.settings.llm.timeout_s,
        )
        return self.model.stream(prompt.messages, options)

    def _finish(
        self,
        answer: Answer,
        question_id: int,
        asked_at: datetime,
        started: float,
        prompt: Prompt | None = None,
    ) -> Answer:
        if prompt is not None:
            answer.citations = resolve_citations(answer.text, prompt.snippets)
        _, answer.memory_id = self.conversations.add_answer(
            answer.conversation_id,
            question_id,
            answer.question,
            asked_at,
            answer.text,
            [c.to_json() for c in answer.citations],
            answer.status,
            answer.error,
            answer.model,
            self.clock(),
            searchable_answer=answer.text.removeprefix(PREAMBLE),
        )
        answer.total_s = time.perf_counter() - started
        return answer


def _close(stream: Iterable[str]) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()
