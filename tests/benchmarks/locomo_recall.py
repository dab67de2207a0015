"""LoCoMo evidence recall@10 through the project's own store and search API.

Protocol: ../shared/data/locomo/README.md. Every turn of a conversation becomes
an episodic memory the way the app writes memories (store.add_many, one
batch per session, encrypted store on disk): text "{speaker}: {text}" plus
the image caption, time = the session date, thread = the session. Each
category 1-4 question is searched (time phrases parsed, "now" = the day after
the last session); recall@10 = share of its evidence turns in the top 10.
Dev = conversations 0-4, test = 5-9: tune on dev, report test.

    .venv/bin/python -m tests.benchmarks.locomo_recall [--split dev|test|both]
        [--embedder static-minilm|minilm]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mirix_desktop.memory.records import EpisodicMemory
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from tests.benchmarks.common import REPO, embedder, open_store, temp_dir

DATA = REPO.parent / "shared" / "data" / "locomo" / "locomo10.json"
SPLITS = {"dev": range(0, 5), "test": range(5, 10)}
VARIANTS: dict[str, dict[str, Any]] = {
    "hybrid (shipped)": {},
    "hybrid, time phrases not parsed": {"parse_time": False},
    "hybrid, no neighbour smoothing": {"neighbour_weights": (0.0, 0.0)},
    "keyword only (BM25)": {"mode": "keyword", "neighbour_weights": (0.0, 0.0)},
    "vector only": {"mode": "vector", "neighbour_weights": (0.0, 0.0)},
}


def session_time(text: str) -> datetime:
    return datetime.strptime(text, "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def evidence_ids(raw: list[str], known: set[str]) -> list[str]:
    """Normalises the dataset's few malformed ids ("D1:3; D2:4", "D:11:26", "D30:05")."""
    ids: list[str] = []
    for item in raw:
        for part in re.split(r"[;,\s]+", item):
            match = re.fullmatch(r"D:?(\d+):0*(\d+)", part.strip())
            if match:
                dia = f"D{match.group(1)}:{match.group(2)}"
                if dia in known and dia not in ids:
                    ids.append(dia)
    return ids


def turns(conversation: dict[str, Any]) -> list[tuple[str, datetime, list[dict[str, Any]]]]:
    sessions = []
    number = 1
    while f"session_{number}" in conversation:
        when = session_time(conversation[f"session_{number}_date_time"])
        sessions.append((f"session {number}", when, conversation[f"session_{number}"]))
        number += 1
    return sessions


def load_conversation(
    sample: dict[str, Any], directory: Path, model: Any
) -> tuple[MemoryStore, dict[int, str], datetime]:
    """A store holding one LoCoMo conversation; its dialogue ids by memory id; "now"."""
    store = open_store(directory / "mirix.db", model)
    dia_of_id: dict[int, str] = {}
    last = datetime.min.replace(tzinfo=UTC)
    for thread, when, session in turns(sample["conversation"]):
        memories = []
        for turn in session:
            text = f"{turn['speaker']}: {turn['text']}"
            if turn.get("blip_caption"):
                text += f" [image: {turn['blip_caption']}]"
            memories.append(EpisodicMemory(summary=text, started_at=when, thread=thread))
        ids = store.add_many(memories)
        dia_of_id.update(zip(ids, (t["dia_id"] for t in session), strict=True))
        last = max(last, when)
    return store, dia_of_id, last + timedelta(days=1)


def evaluate(split: str, model: Any) -> dict[str, tuple[float, int]]:
    data = json.loads(DATA.read_text())
    totals = {name: [0.0, 0] for name in VARIANTS}
    phrased = 0
    for index in SPLITS[split]:
        sample = data[index]
        directory = temp_dir("locomo-")
        store, dia_of_id, now = load_conversation(sample, directory, model)
        known = set(dia_of_id.values())
        for qa in sample["qa"]:
            if qa.get("category") not in (1, 2, 3, 4):
                continue
            wanted = evidence_ids(qa.get("evidence", []), known)
            if not wanted:
                continue
            for name, options in VARIANTS.items():
                engine_options = {k: v for k, v in options.items() if k != "parse_time"}
                engine = SearchEngine(store, **engine_options)
                query = SearchQuery(
                    str(qa["question"]),
                    limit=10,
                    now=now,
                    parse_time=options.get("parse_time", True),
                )
                result = engine.search(query)
                if name == "hybrid (shipped)" and result.time_range is not None:
                    phrased += 1
                found = {dia_of_id[h.id] for h in result.hits}
                totals[name][0] += sum(d in found for d in wanted) / len(wanted)
                totals[name][1] += 1
        store.close()
        shutil.rmtree(directory)
    print(f"  ({phrased} {split} questions carried a time phrase that became a filter)")
    return {name: (total / count, int(count)) for name, (total, count) in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument("--embedder", choices=["static-minilm", "minilm"], default="static-minilm")
    args = parser.parse_args()
    model = embedder(args.embedder)
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    results = {}
    for split in splits:
        started = time.perf_counter()
        results[split] = evaluate(split, model)
        print(f"  {split}: {time.perf_counter() - started:.0f} s")
    print(f"\nLoCoMo evidence recall@10 (embedder {model.model_id})")
    print(
        "| variant | "
        + " | ".join(f"{s} (n={results[s]['vector only'][1]})" for s in splits)
        + " |"
    )
    print("|---|" + "---|" * len(splits))
    for name in VARIANTS:
        print(f"| {name} | " + " | ".join(f"{results[s][name][0]:.3f}" for s in splits) + " |")


if __name__ == "__main__":
    main()
