"""A small real store for the forget tests: frames with OCR lines, episodes, resources,
facts learned from a resource, a conversation, each day marked with its own canary word."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mirix_desktop.assistant.conversations import ConversationLog
from mirix_desktop.memory import capture_jobs
from mirix_desktop.memory import frames as frame_rows
from mirix_desktop.memory.records import (
    EpisodicMemory,
    ResourceMemory,
    SemanticMemory,
    to_ms,
)
from mirix_desktop.memory.store import MemoryStore

DAY1 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def canary(label: str) -> str:
    return f"zq{label}{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Line:
    text: str
    x: int = 10
    y: int = 10
    width: int = 200
    height: int = 20
    confidence: float = 95.0


@dataclass
class Seeded:
    frame_ids: list[int]
    memory_ids: list[int]


def add_frames(
    store: MemoryStore,
    start: datetime,
    count: int,
    *,
    app: str,
    title: str,
    lines: list[str],
    every_s: float = 2.0,
    thumbnail: bytes | None = b"\xff\xd8jpeg-bytes",
    queued: bool = False,
) -> list[int]:
    ids = []
    with store.transaction() as conn:
        for n in range(count):
            at = start + timedelta(seconds=every_s * n)
            frame_id = frame_rows.insert_frame(
                conn,
                frame_rows.NewFrame(
                    captured_at=at,
                    monitor=0,
                    app=app,
                    window_title=title,
                    url=None,
                    image_hash=secrets.token_hex(8),
                    width=1920,
                    height=1080,
                    thumbnail=thumbnail,
                    changed_share=0.5,
                ),
            )
            if queued:
                capture_jobs.put(conn, "frame", b"pixels", frame_id, to_ms(at))
            else:
                frame_rows.save_ocr(conn, frame_id, [Line(text) for text in lines])
            ids.append(frame_id)
    return ids


def seed_day(
    store: MemoryStore, start: datetime, word: str, *, app: str = "firefox", ask: bool = True
) -> Seeded:
    """A morning of one day: 30 frames over a minute, an episode, a resource, a fact
    learned from the resource, and (`ask`) a question to the assistant, all holding `word`."""
    lines = [f"Quarterly budget review {word} notes", f"second line about {word} figures"]
    frame_ids = add_frames(
        store, start, 30, app=app, title=f"Report {word} - Docs", lines=[*lines, "Menu File Edit"]
    )
    end = start + timedelta(seconds=58)
    episode = EpisodicMemory(
        app=app,
        thread=f"doc:{app}:Report {word}",
        started_at=start,
        ended_at=end,
        title=f"Report {word}",
        summary=f"Read Report {word} ({app}): {lines[0]}",
        details="\n".join(lines),
        source_frames=frame_ids[:10],
    )
    resource = ResourceMemory(
        app=app,
        thread=f"doc:{app}:Report {word}",
        title=f"Report {word}",
        content="\n".join(lines),
        first_seen=start,
        last_seen=end,
    )
    episode_id, resource_id = store.add_many([episode, resource])
    fact_id = store.add(
        SemanticMemory(
            name=f"Budget {word}",
            summary=f"The budget {word} grew",
            source=f"resource #{resource_id}",
            app=app,
            thread=f"learned:{resource_id}",
            created=end,
        )
    )
    if not ask:
        return Seeded(frame_ids, [episode_id, resource_id, fact_id])
    log = ConversationLog(store)
    conversation = log.start(f"About {word}", at=end)
    asked = end + timedelta(seconds=1)
    question = log.add_question(conversation, f"what was {word} about?", asked)
    _, chat_memory = log.add_answer(
        conversation,
        question,
        f"what was {word} about?",
        asked,
        f"It was the budget {word}.",
        [],
        "complete",
        None,
        "extractive",
        asked + timedelta(seconds=1),
    )
    return Seeded(frame_ids, [episode_id, resource_id, fact_id, chat_memory])


def filler(store: MemoryStore, start: datetime, count: int = 60) -> None:
    """Ordinary memories written in several transactions (several FTS segments)."""
    for batch in range(3):
        store.add_many(
            [
                ResourceMemory(
                    app="code",
                    content=f"def handler_{batch}_{n}(): return {n} plus ordinary text",
                    title=f"module_{batch}.py",
                    first_seen=start + timedelta(minutes=batch * 60 + n),
                    last_seen=start + timedelta(minutes=batch * 60 + n),
                )
                for n in range(count // 3)
            ]
        )
