"""One store shared by threads (the tray app's workers, the daemon's loops): the
locking rule in `MemoryStore` keeps readers and writers from meeting half-way."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from mirix_desktop.assistant.conversations import ConversationLog
from mirix_desktop.memory.records import ResourceMemory
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore

_START = datetime(2026, 3, 2, 9, 0).astimezone()


def _page(n: int) -> ResourceMemory:
    return ResourceMemory(
        app="firefox",
        title=f"Budget review {n}",
        content=f"Quarterly budget line {n}: travel {n * 13} euros, hardware {n * 7} euros.",
        thread=f"doc:budget:{n % 5}",
        first_seen=_START + timedelta(minutes=n),
    )


def test_a_search_waits_for_a_transaction_of_another_thread(store: MemoryStore) -> None:
    store.add_many([_page(n) for n in range(20)])
    engine = SearchEngine(store)
    inside, release = threading.Event(), threading.Event()
    found: list[int] = []

    def writer() -> None:
        with store.transaction():
            inside.set()
            release.wait(10)

    def searcher() -> None:
        found.append(len(engine.search(SearchQuery("quarterly budget travel")).hits))

    holding = threading.Thread(target=writer)
    holding.start()
    assert inside.wait(10)
    searching = threading.Thread(target=searcher)
    searching.start()
    searching.join(0.5)
    try:
        # The search must not run inside another thread's open transaction.
        assert searching.is_alive(), "the search did not wait for the store's lock"
    finally:
        release.set()
        holding.join(10)
        searching.join(10)
    assert found and found[0] > 0


def test_searching_and_reading_chats_while_another_thread_writes(store: MemoryStore) -> None:
    store.add_many([_page(n) for n in range(40)])
    conversations = ConversationLog(store)
    chat = conversations.start("budget questions")
    # A budget of 1 makes every multi-term keyword search take the path that
    # writes the query's stems into a temp table, on the shared connection.
    engines = [SearchEngine(store), SearchEngine(store, postings_budget=1)]
    failures: list[BaseException] = []
    hits: list[int] = []
    stop = threading.Event()

    def writing() -> None:
        n = 40
        try:
            while not stop.is_set():
                store.add_many([_page(n), _page(n + 1)])
                asked = conversations.add_question(chat, f"what about line {n}?", _START)
                conversations.add_answer(
                    chat, asked, f"what about line {n}?", _START, f"line {n} [1]",
                    [], "complete", None, "extractive", _START,
                )  # fmt: skip
                n += 2
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost
            failures.append(exc)

    def reading(engine: SearchEngine) -> None:
        try:
            while not stop.is_set():
                result = engine.search(SearchQuery("quarterly budget travel hardware"))
                hits.append(len(result.hits))
                conversations.messages(chat)
                conversations.history(chat)
                conversations.conversations()
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=writing)]
    threads += [threading.Thread(target=reading, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join(20)
    assert not failures, failures
    assert hits and min(hits) > 0
    messages = conversations.messages(chat)
    assert len(messages) % 2 == 0 and messages  # every question has its answer
