"""Forget: what each filter takes, what a cut memory keeps, refusals, and capture going on."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np
import pytest

from mirix_desktop.app.audit import entries
from mirix_desktop.app.forget import ForgetFilter, ForgetRefused, forget, plan_forget
from mirix_desktop.assistant.conversations import ConversationLog
from mirix_desktop.memory import forget as forget_rows
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import EpisodicMemory, MemoryType, ResourceMemory, to_ms
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers.forget_store import DAY1, DAY2, add_frames, canary, filler, seed_day


def _rows(store: MemoryStore) -> dict[str, int]:
    with store.read() as conn:
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("frames", "ocr_lines", "memories", "conversations", "capture_jobs")
        }


def test_the_dry_run_counts_what_forget_removes(store: MemoryStore) -> None:
    filler(store, DAY1 - timedelta(hours=5))
    seed_day(store, DAY1, canary("a"))
    seed_day(store, DAY2, canary("b"))
    add_frames(store, DAY1 + timedelta(minutes=5), 4, app="firefox", title="t", lines=[],
               queued=True)  # fmt: skip
    flt = ForgetFilter(since=DAY1 - timedelta(hours=1), until=DAY1 + timedelta(hours=2))
    before = _rows(store)

    planned = plan_forget(store, flt)
    assert _rows(store) == before  # the dry run changes nothing
    report = forget(store, flt)

    assert report.counts == planned
    assert planned.frames == 34 and planned.queued_jobs == 4 and planned.thumbnails == 34
    assert planned.lines == 90 and planned.memories == 4 and planned.conversations == 1
    after = _rows(store)
    assert before["frames"] - after["frames"] == planned.frames
    assert before["ocr_lines"] - after["ocr_lines"] == planned.lines
    assert before["memories"] - after["memories"] == planned.memories
    assert before["conversations"] - after["conversations"] == planned.conversations
    assert before["capture_jobs"] - after["capture_jobs"] == planned.queued_jobs


def test_an_episode_and_a_resource_are_cut_to_what_remains(store: MemoryStore) -> None:
    early, late = "Early paragraph about apples and pears", "Late paragraph about the merger plan"
    start = DAY1
    add_frames(store, start, 30, app="writer", title="Plan", lines=[early])  # 09:00-09:01
    add_frames(store, start + timedelta(minutes=5), 30, app="writer", title="Plan", lines=[late])
    end = start + timedelta(minutes=6)
    episode_id, resource_id = store.add_many(
        [
            EpisodicMemory(
                app="writer", thread="doc:writer:Plan", title="Plan", started_at=start,
                ended_at=end, summary=f"Edited Plan (writer): {early} / {late}",
                details=f"{early}\n{late}", source_frames=[1, 2, 40],
            ),
            ResourceMemory(
                app="writer", thread="doc:writer:Plan", title="Plan",
                content=f"{early}\n{late}", first_seen=start, last_seen=end,
            ),
        ]
    )  # fmt: skip
    cut_at = start + timedelta(minutes=4)

    report = forget(store, ForgetFilter(since=cut_at))

    assert report.counts.frames == 30 and report.counts.memories == 2
    left = {r.type: r for r in store.list(limit=10)}
    episode, resource = left[MemoryType.EPISODIC], left[MemoryType.RESOURCE]
    assert {episode.id, resource.id}.isdisjoint({episode_id, resource_id})  # rewritten anew
    assert episode.time == start and episode.end_time is not None
    assert episode.end_time < cut_at
    assert early in episode.body and "merger" not in episode.body
    assert episode.fields["summary"] == f"Edited Plan (writer): {early}"
    assert episode.fields["source_frames"] == [1, 2]
    assert resource.fields["content"] == early
    # Their vectors follow: the old ids have none, the new ones have theirs.
    assert store.vectors.vectors([episode_id, resource_id]) == {}
    assert set(store.vectors.vectors([episode.id, resource.id])) == {episode.id, resource.id}


def test_facts_learned_from_a_cut_resource_go(store: MemoryStore) -> None:
    seeded = seed_day(store, DAY1, canary("a"), ask=False)
    fact_id = seeded.memory_ids[2]
    forget(store, ForgetFilter(since=DAY1 + timedelta(seconds=30)))
    # Its lines were also read before the cut: the resource keeps them.
    assert fact_id not in store.get_many([fact_id])
    kinds = sorted(r.type.value for r in store.list(limit=10))
    assert kinds == ["episodic", "resource"]  # cut, not removed


@pytest.mark.parametrize(
    ("flt", "words"),
    [
        (ForgetFilter(), "Nothing to forget"),
        (ForgetFilter(app="  "), "Nothing to forget"),
        (ForgetFilter(everything=True, app="firefox"), "--everything takes no other filter"),
        (ForgetFilter(memory_id=3, app="firefox"), "--id names one memory"),
        (ForgetFilter(since=DAY2, until=DAY1), "the range is empty"),
        (ForgetFilter(query="the of and"), "no word to look for"),
    ],
)
def test_a_filter_that_selects_nothing_sensible_is_refused(
    store: MemoryStore, flt: ForgetFilter, words: str
) -> None:
    seed_day(store, DAY1, canary("a"))
    before = _rows(store)
    with pytest.raises(ForgetRefused, match=words):
        forget(store, flt)
    with pytest.raises(ForgetRefused):
        plan_forget(store, flt)
    assert _rows(store) == before
    assert entries(store) == []


def test_an_app_forget_keeps_other_apps_and_audits_without_naming_it(store: MemoryStore) -> None:
    secret = canary("app")
    seed_day(store, DAY1, canary("a"), app=secret, ask=False)
    other = seed_day(store, DAY1 + timedelta(minutes=2), canary("b"), app="code", ask=False)

    forget(store, ForgetFilter(app=secret.upper()), actor="app")

    with store.read() as conn:
        apps = {row[0] for row in conn.execute("SELECT DISTINCT app FROM frames")}
    assert apps == {"code"}
    assert sorted(store.get_many(other.memory_ids)) == sorted(other.memory_ids)
    (entry,) = entries(store)
    assert (entry.action, entry.actor) == ("forget", "app")
    assert entry.details["app_given"] is True and entry.details["frames"] == 30
    assert secret not in str(entry.details) and secret.upper() not in str(entry.details)


def test_an_episode_by_id_takes_its_frames_a_resource_its_lines(store: MemoryStore) -> None:
    seeded = seed_day(store, DAY1, canary("a"), ask=False)
    other = add_frames(store, DAY1 + timedelta(hours=3), 5, app="code", title="x", lines=["ok"])
    episode_id, resource_id, _fact = seeded.memory_ids

    counts = forget(store, ForgetFilter(memory_id=resource_id)).counts
    assert (counts.frames, counts.lines, counts.memories) == (0, 60, 2)  # + its fact
    assert _rows(store)["frames"] == 35

    counts = forget(store, ForgetFilter(memory_id=episode_id)).counts
    assert (counts.frames, counts.memories) == (30, 1)
    with store.read() as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM frames ORDER BY id")] == other
    assert store.count() == 0


def test_a_query_takes_matching_memories_and_frames_showing_it(store: MemoryStore) -> None:
    word = canary("q")
    seed_day(store, DAY1, canary("a"), ask=False)
    add_frames(store, DAY2, 3, app="term", title="shell", lines=[f"echo {word} > out"])
    add_frames(store, DAY2 + timedelta(minutes=1), 2, app="term", title="shell", lines=["ls"])
    kept = store.add(ResourceMemory(app="term", content="nothing to see"))
    gone = store.add(ResourceMemory(app="term", content=f"cat {word.upper()}"))

    counts = forget(store, ForgetFilter(query=word)).counts

    assert (counts.frames, counts.memories) == (3, 1)
    assert kept in store.get_many([kept, gone]) and gone not in store.get_many([gone])


def test_forget_during_capture_keeps_what_arrives_after_it(
    store: MemoryStore, store_path: object
) -> None:
    """Another connection (the daemon's) writes frames all along; the forget waits for
    its lock and takes only what was there when it ran."""
    capture = MemoryStore.open(store.path, KeySource(passphrase=PASSPHRASE), store.embedder)
    # Frame number (its second after DAY1), commit started, commit done. Not ids:
    # SQLite hands out a deleted highest id again.
    written: list[tuple[int, float, float]] = []
    stop = threading.Event()

    def capture_loop() -> None:
        n = 0
        while not stop.is_set():
            began = time.monotonic()
            add_frames(capture, DAY1 + timedelta(seconds=n), 1, app="x", title="t",
                       lines=[f"line {n}"])  # fmt: skip
            written.append((n, began, time.monotonic()))
            n += 1
            time.sleep(0.005)

    worker = threading.Thread(target=capture_loop)
    worker.start()
    try:
        time.sleep(0.4)
        forget_began = time.monotonic()
        forget(store, ForgetFilter(since=DAY1))
        forget_done = time.monotonic()
        time.sleep(0.4)
    finally:
        stop.set()
        worker.join()
        capture.close()
    with store.read() as conn:
        left = {
            round((row[0] - to_ms(DAY1)) / 1000)
            for row in conn.execute("SELECT captured_at FROM frames")
        }
    before = [fid for fid, _, done in written if done < forget_began]
    after = [fid for fid, began, _ in written if began > forget_done]
    assert before and after
    assert left.isdisjoint(before)
    assert set(after) <= left


def test_a_mirror_in_another_connection_stops_serving_forgotten_vectors(
    store: MemoryStore,
) -> None:
    seeded = seed_day(store, DAY1, canary("a"), ask=False)
    kept = seed_day(store, DAY2, canary("b"), ask=False)
    other = MemoryStore.open(store.path, KeySource(passphrase=PASSPHRASE), store.embedder)
    try:
        query = np.packbits(store.embedder.embed(["budget review"])[0] > 0)
        assert set(seeded.memory_ids) <= set(other.vectors.mirror.nearest(query, 50))
        with store.read() as conn:
            generation = forget_rows.generation(conn)

        forget(store, ForgetFilter(until=DAY1 + timedelta(hours=2)))

        with other.read() as conn:
            assert forget_rows.generation(conn) == generation + 1
        served = set(other.vectors.mirror.nearest(query, 50))
        assert served.isdisjoint(seeded.memory_ids)
        assert set(kept.memory_ids) <= served
    finally:
        other.close()


def test_a_conversation_cut_by_the_range_loses_its_old_title(store: MemoryStore) -> None:
    log = ConversationLog(store)
    conversation = log.start("about the walrus plan", at=DAY1)
    for n, at in enumerate((DAY1, DAY2)):
        question = log.add_question(conversation, f"question {n} on walrus {n}", at)
        log.add_answer(conversation, question, f"question {n}", at, f"answer {n}", [],
                       "complete", None, "extractive", at + timedelta(seconds=1))  # fmt: skip

    counts = forget(store, ForgetFilter(until=DAY1 + timedelta(hours=1))).counts

    assert (counts.conversations, counts.memories) == (1, 1)
    (left,) = log.conversations()
    assert left.title == "question 1 on walrus 1" and left.messages == 2
