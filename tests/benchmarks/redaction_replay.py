"""Redaction replayed on saved OCR output: the suite's figures in seconds, not minutes.

`redaction_suite` spends its five minutes per seed drawing screens and
running tesseract; the redaction rules see only what OCR returned. `capture`
runs the same screens through the same `ingest` path once and saves what the
pipeline's `Redactor` was given (each call's lines and their boxes) to a JSON
file; `replay` runs today's rules on those inputs and reports, per seed and
kind, the trials where a run of 8 of the secret's characters survives in
what the redactor returned, each line and each call's lines joined as a
memory's text joins them (`leaks`, as the suite judges stored texts), and,
for a capture of the ordinary lines (`--fp`), the OCR lines it changed.

    .venv/bin/python -m tests.benchmarks.redaction_replay capture OUT.json --seed seed-11 \\
        [--seed default] [--only CASES] [--fp]
    .venv/bin/python -m tests.benchmarks.redaction_replay replay OUT.json... [-v] [--fp-lines]

A replay judges the redactor's output, not the store: a rule that works only
inside the pipeline (memories built from redacted lines) is not seen. The
suite stays the measure; this is for iterating on the rules. `--seed
default` is the suite's own seed.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mirix_desktop.privacy.redaction import Box, Redactor
from tests.benchmarks.common import embedder, temp_dir
from tests.benchmarks.redaction_suite import (
    CORPUS,
    KINDS,
    LINES_PER_SCREEN,
    corpus_case,
    ingest_screen,
)
from tests.helpers.secret_screens import SEED, STYLES, cases, held_out_cases, leaks, render

Call = dict[str, Any]  # {"lines": [...], "boxes": [[x, y, w, h], ...] | None}


def _recording() -> tuple[list[Call], Callable[[], None]]:
    """Record every `Redactor.redact_lines` call; returns the list and an undo."""
    calls: list[Call] = []
    original = Redactor.redact_lines

    def spy(
        self: Redactor, lines: Sequence[str], boxes: Sequence[Box] | None = None
    ) -> tuple[list[str], int]:
        calls.append({"lines": list(lines), "boxes": None if boxes is None else list(boxes)})
        return original(self, lines, boxes)

    Redactor.redact_lines = spy  # type: ignore[method-assign]

    def undo() -> None:
        Redactor.redact_lines = original  # type: ignore[method-assign]

    return calls, undo


def capture(
    out: Path, seeds: list[str], fp: bool, only: set[str] | None = None, held_out: bool = False
) -> None:
    model = embedder()
    directory = temp_dir("mirix-redaction-capture-")
    calls, undo = _recording()
    saved: dict[str, list[dict[str, Any]]] = {"secrets": [], "fp": []}
    try:
        for seed in seeds:
            suite = held_out_cases if held_out else cases
            for case in suite(SEED if seed == "default" else seed):
                if only and case.name not in only and case.kind not in only:
                    continue
                for style in STYLES:
                    calls.clear()
                    ingest_screen(
                        model,
                        directory,
                        f"{seed}-{case.name}-{style.label}",
                        lambda case=case, style=style: render(case, style),  # type: ignore[misc]
                        app=case.app,
                        title=case.title,
                        url=case.url,
                    )
                    saved["secrets"].append(
                        {"seed": seed, "case": case.name, "kind": case.kind,
                         "style": style.label, "secret": case.secret, "calls": list(calls)}
                    )  # fmt: skip
            print(f"{seed} done", flush=True)
        if fp:
            corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
            for kind in KINDS:
                for start in range(0, len(corpus[kind]), LINES_PER_SCREEN):
                    case = corpus_case(kind, corpus[kind][start : start + LINES_PER_SCREEN])
                    for style in STYLES:
                        calls.clear()
                        ingest_screen(
                            model,
                            directory,
                            f"fp-{kind}-{start}-{style.label}",
                            lambda case=case, style=style: render(case, style),  # type: ignore[misc]
                            app=case.app,
                            title=case.title,
                            url=None,
                        )
                        saved["fp"].append({"kind": kind, "calls": list(calls)})
            print("ordinary lines done", flush=True)
    finally:
        undo()
    out.write_text(json.dumps(saved))


def _redacted(redactor: Redactor, call: Call) -> list[str]:
    boxes = None if call["boxes"] is None else [tuple(box) for box in call["boxes"]]
    return redactor.redact_lines(call["lines"], boxes)[0]


def replay(paths: list[Path], verbose: bool, fp_lines: bool) -> int:
    """Print leaks and false positives; return the number of trials in clear."""
    redactor = Redactor()
    trials: dict[str, Counter[str]] = defaultdict(Counter)
    clear: dict[str, Counter[str]] = defaultdict(Counter)
    fp_count = Counter[str]()
    for path in paths:
        saved = json.loads(path.read_text(encoding="utf-8"))
        for trial in saved["secrets"]:
            outs = [(call, _redacted(redactor, call)) for call in trial["calls"]]
            # Each line, and each call's lines joined as a memory's text joins
            # them: a run can cross a row break ("…ROKEO" | "jl").
            texts = [("line", line) for _c, out in outs for line in out]
            texts += [("joined", "\n".join(out)) for _c, out in outs]
            found = leaks(trial["secret"], texts)
            trials[trial["seed"]][trial["kind"]] += 1
            if not found:
                continue
            clear[trial["seed"]][trial["kind"]] += 1
            runs = sorted({leak.run for leak in found})
            print(f"CLEAR {trial['seed']} {trial['case']} {trial['style']} {runs}")
            if verbose:
                for call, out in outs:
                    for before, after in zip(call["lines"], out, strict=True):
                        print(f"      {before!r}\n   -> {after!r}")
        for screen in saved["fp"]:
            for call in screen["calls"]:
                if call["boxes"] is None:
                    continue  # titles; the suite counts OCR lines
                out = _redacted(redactor, call)
                for before, after in zip(call["lines"], out, strict=True):
                    fp_count["lines"] += 1
                    if before != after:
                        fp_count["changed"] += 1
                        if fp_lines:
                            print(f"  FP {before!r}\n  -> {after!r}")
    for seed, kinds in trials.items():
        by_kind = ", ".join(f"{k} {clear[seed][k]}/{n}" for k, n in sorted(kinds.items()))
        print(f"{seed}: {sum(clear[seed].values())} / {sum(kinds.values())} in clear ({by_kind})")
    if fp_count["lines"]:
        print(f"ordinary OCR lines changed: {fp_count['changed']} / {fp_count['lines']}")
    return sum(sum(c.values()) for c in clear.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture", help="run the suite's screens once and save the OCR input")
    cap.add_argument("out", type=Path)
    cap.add_argument("--seed", action="append", default=[], help="repeatable; 'default' = SEED")
    cap.add_argument("--fp", action="store_true", help="also the ordinary lines")
    cap.add_argument("--only", help="comma-separated case names or kinds (default: all)")
    cap.add_argument("--held-out", action="store_true", help="the held-out contexts")
    rep = sub.add_parser("replay", help="today's rules on saved OCR input")
    rep.add_argument("paths", type=Path, nargs="+")
    rep.add_argument("-v", "--verbose", action="store_true", help="show each leaking screen")
    rep.add_argument("--fp-lines", action="store_true", help="show each changed ordinary line")
    args = parser.parse_args()
    if args.command == "capture":
        only = set(args.only.split(",")) if args.only else None
        capture(args.out, args.seed, args.fp, only, args.held_out)
    else:
        replay(args.paths, args.verbose, args.fp_lines)


if __name__ == "__main__":
    main()
