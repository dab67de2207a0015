"""Grounding of the assistant's answers on LoCoMo, with the extractive provider.

Protocol: the store is built as in locomo_recall.py (every turn an episodic
memory, one thread per session, an encrypted store on disk). Each category
1-4 question with evidence is asked through `Assistant.ask` (retrieval with
time phrases, prompt, extractive answer, citations, the conversation kept),
with "now" = the day after the last session. An answer is grounded when one
of the memories it cites is an evidence turn. The exchange's own memory is
deleted after each question, so later questions see the dataset's store.
Dev = conversations 0-4, test = 5-9: tune on dev, report test.

    .venv/bin/python -m tests.benchmarks.locomo_grounding [--split dev|test|both]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time

from mirix_desktop.assistant import extractive
from mirix_desktop.assistant.assistant import Assistant
from mirix_desktop.config import Settings
from tests.benchmarks.common import embedder, temp_dir
from tests.benchmarks.locomo_recall import DATA, SPLITS, evidence_ids, load_conversation

QUOTED_VARIANTS = (1, extractive.QUOTED, 5)


def evaluate(split: str) -> dict[int, dict[str, float]]:
    model = embedder()
    data = json.loads(DATA.read_text())
    grounded = dict.fromkeys(QUOTED_VARIANTS, 0)
    cited: dict[int, list[int]] = {q: [] for q in QUOTED_VARIANTS}
    in_prompt = 0
    asked = 0
    seconds: list[float] = []
    for index in SPLITS[split]:
        directory = temp_dir("locomo-grounding-")
        store, dia_of_id, now = load_conversation(data[index], directory, model)
        known = set(dia_of_id.values())
        sample = data[index]
        assistant = Assistant(store, None, Settings(), clock=lambda now=now: now)
        for qa in sample["qa"]:
            if qa.get("category") not in (1, 2, 3, 4):
                continue
            wanted = set(evidence_ids(qa.get("evidence", []), known))
            if not wanted:
                continue
            asked += 1
            for quoted in QUOTED_VARIANTS:
                extractive.QUOTED = quoted  # the benchmark's one knob
                started = time.perf_counter()
                answer = assistant.ask(str(qa["question"]))
                if quoted == QUOTED_VARIANTS[1]:
                    seconds.append(time.perf_counter() - started)
                store.delete(answer.memory_id or 0)  # keep the dataset's store as it was
                ids = {dia_of_id.get(c.memory_id) for c in answer.citations}
                grounded[quoted] += bool(ids & wanted)
                cited[quoted].append(len(answer.citations))
            # Was any evidence among the snippets offered at all (the ceiling)?
            retrieved = assistant.retriever.retrieve(
                str(qa["question"]), limit=Settings().llm.snippets, now=now
            )
            in_prompt += bool({dia_of_id.get(r.id) for r, _ in retrieved.candidates} & wanted)
        store.close()
        shutil.rmtree(directory)
    extractive.QUOTED = QUOTED_VARIANTS[1]
    print(
        f"  {split}: {asked} questions; ask() p50 {statistics.median(seconds) * 1000:.0f} ms; "
        f"evidence among the {Settings().llm.snippets} snippets offered: {in_prompt / asked:.3f}"
    )
    return {
        quoted: {
            "grounded": grounded[quoted] / asked,
            "citations": statistics.fmean(cited[quoted]),
            "n": asked,
        }
        for quoted in QUOTED_VARIANTS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    args = parser.parse_args()
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    results = {}
    for split in splits:
        started = time.perf_counter()
        results[split] = evaluate(split)
        print(f"  {split}: {time.perf_counter() - started:.0f} s")
    print("\nLoCoMo grounding, extractive provider (share of answers citing an evidence turn)")
    print("| memories quoted | " + " | ".join(f"{s} (n={results[s][1]['n']:.0f})" for s in splits)
          + " | citations per answer |")  # fmt: skip
    print("|---|" + "---|" * (len(splits) + 1))
    for quoted in QUOTED_VARIANTS:
        shipped = " (shipped)" if quoted == extractive.QUOTED else ""
        cells = " | ".join(f"{results[s][quoted]['grounded']:.3f}" for s in splits)
        mean_cited = results[splits[-1]][quoted]["citations"]
        print(f"| {quoted}{shipped} | {cells} | {mean_cited:.2f} |")


if __name__ == "__main__":
    main()
