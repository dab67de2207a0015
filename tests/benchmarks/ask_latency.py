"""Time to first token and total time of `ask`, per provider, and the overhead of
retrieval plus prompt building at scale.

The store: `--size` memories (default 100,000) of real text (blocks of Python's
standard library, as in search_latency.py) in an encrypted file, built
through `add_many`. Questions are 2-4 words drawn from stored memories. Each
question goes through `Assistant.ask` with 5 snippets retrieved
(llm.snippets = 5), so the timings include retrieval, prompt building,
generation, citations and saving the conversation:

- extractive: no model;
- local: llama.cpp with a tiny random llama GGUF written at run time
  (mechanics only: a real model's speed depends on its size);
- remote: the openai client against a real HTTP server on 127.0.0.1 that
  streams a 60-word answer in 4-character chunks without delay (mechanics
  and client overhead only: a real server adds its own generation time).

Overhead = retrieval + prompt building for the same questions (target <=
150 ms at 100k memories).

    .venv/bin/python -m tests.benchmarks.ask_latency [--size 100000] [--questions 50]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time

from mirix_desktop.assistant.assistant import Assistant
from mirix_desktop.assistant.prompt import PromptBuilder
from mirix_desktop.config import Settings
from mirix_desktop.llm.base import estimate_tokens
from mirix_desktop.llm.local_provider import LocalChatModel
from mirix_desktop.llm.openai_provider import OpenAIChatModel
from tests.benchmarks.common import describe_ms, embedder, open_store, temp_dir
from tests.benchmarks.search_latency import grow, memory_blocks, sample_queries
from tests.helpers.fake_openai import FakeOpenAIServer
from tests.helpers.tiny_gguf import write_tiny_llama_gguf

ANSWER = (
    "You read about this in the standard library source [1], where the function is "
    "defined and documented; the same module appears again a little later [2]. The "
    "details you asked about are in the first memory, with the surrounding code and "
    "its comments, which explain the behaviour in a few short lines."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()
    directory = temp_dir("mirix-ask-")
    store = open_store(directory / "mirix.db", embedder())
    started = time.perf_counter()
    grow(store, memory_blocks(), args.size)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"store: {args.size:,} memories built in {time.perf_counter() - started:.0f} s")
    rng = random.Random(5)
    warm_up, questions = sample_queries(store, rng), sample_queries(store, rng)
    questions = questions[: args.questions]
    settings = Settings()
    settings.llm.snippets = 5

    # -- overhead: retrieval + prompt building -----------------------------------------
    assistant = Assistant(store, None, settings)
    for question in warm_up[:100]:
        assistant.retriever.retrieve(question, limit=5)
    overhead = []
    for question in questions:
        begin = time.perf_counter()
        retrieved = assistant.retriever.retrieve(question, limit=5)
        PromptBuilder(estimate_tokens, 8192).build(
            question, retrieved.candidates, core=retrieved.core
        )
        overhead.append(time.perf_counter() - begin)
    print(f"retrieval + prompt at {args.size:,} memories: {describe_ms(overhead)}")

    # -- the three providers ---------------------------------------------------------------
    gguf = write_tiny_llama_gguf(directory / "tiny-llama.gguf")
    server = FakeOpenAIServer().start()
    server.reply(ANSWER, chunk_chars=4)
    providers = {
        "extractive": None,
        "local (tiny GGUF)": LocalChatModel(gguf, context_tokens=2048),
        "remote (127.0.0.1)": OpenAIChatModel(server.base_url, server.model, None),
    }
    try:
        for name, model in providers.items():
            helper = Assistant(store, model, settings)
            helper.ask(warm_up[0])  # loads the local model; opens the HTTP connection
            first, total = [], []
            for question in questions:
                answer = helper.ask(question)
                if answer.status != "complete":
                    raise SystemExit(f"{name}: {answer.status}: {answer.error}")
                first.append(answer.first_chunk_s or answer.total_s)
                total.append(answer.total_s)
            print(f"{name}:\n    first token {describe_ms(first)}\n    total       "
                  f"{describe_ms(total)}")  # fmt: skip
            if model is not None:
                model.close()
    finally:
        server.stop()
        store.close()
        shutil.rmtree(directory)
    print(f"\n{os.cpu_count()} cores; 5 snippets per question; encrypted store (SQLCipher)")


if __name__ == "__main__":
    main()
