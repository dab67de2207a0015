"""The `ask` tool: a question answered by the configured model from the memories MCP sees.

Unlike the assistant of the chat window, it keeps nothing (the server is
read-only unless `--allow-write`, and even then only `remember` writes), it
never offers the model a vault item, not even one the question names, and
it reads through the same `mcp.exclude_apps` as the other tools. The model
is made on the first question and kept: a local one loads once.
"""

from __future__ import annotations

import threading
from typing import Any

from mirix_desktop.app.services import AppServices
from mirix_desktop.assistant.assistant import MAX_QUESTION_CHARS
from mirix_desktop.assistant.citations import resolve_citations
from mirix_desktop.assistant.prompt import PromptBuilder
from mirix_desktop.assistant.retrieval import MemoryRetriever
from mirix_desktop.errors import InvalidQuery
from mirix_desktop.llm.base import ChatModel, GenerationOptions
from mirix_desktop.llm.providers import choose_provider
from mirix_desktop.mcp_server.view import McpView


def model_configured(services: AppServices) -> bool:
    """Whether a model (local or remote) is configured; `ask` is offered only then."""
    return choose_provider(services.settings) != "extractive"


class Asker:
    """Answers one question at a time with the configured model."""

    def __init__(self, services: AppServices, view: McpView) -> None:
        self.services = services
        self.view = view  # its store, its clock and its excluded apps
        self._model: ChatModel | None = None
        # A local model generates one answer at a time.
        self._lock = threading.Lock()

    def ask(self, question: str) -> dict[str, Any]:
        question = question.strip()
        if not question:
            raise InvalidQuery("The question is empty.")
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidQuery(
                f"The question is {len(question)} characters long; at most {MAX_QUESTION_CHARS}."
            )
        settings = self.services.settings
        now = self.view.clock()
        retriever = MemoryRetriever(
            self.view.store(),
            candidates=settings.search.candidates,
            exclude_apps=self.view.exclude_apps,
            named_vault=False,
        )
        retrieved = retriever.retrieve(question, limit=settings.llm.snippets, now=now)
        with self._lock:
            model = self._chat_model()
            prompt = PromptBuilder(model.count_tokens, model.context_tokens).build(
                question,
                retrieved.candidates,
                core=retrieved.core,
                max_answer_tokens=settings.llm.max_answer_tokens,
                now=now.strftime("%A %Y-%m-%d %H:%M %Z"),
            )
            options = GenerationOptions(
                max_tokens=prompt.answer_tokens,
                temperature=settings.llm.temperature,
                timeout_s=settings.llm.timeout_s,
            )
            text = "".join(model.stream(prompt.messages, options))
        citations = resolve_citations(text, prompt.snippets)
        return {
            "answer": text,
            "model": model.name,
            "count": len(citations),
            "citations": [c.to_json() for c in citations],
        }

    def _chat_model(self) -> ChatModel:
        if self._model is None:
            model = self.services.chat_model()
            if model is None:
                raise InvalidQuery("No model is configured: use search_memory instead.")
            self._model = model
        return self._model

    def close(self) -> None:
        with self._lock:
            if self._model is not None:
                self._model.close()
                self._model = None
