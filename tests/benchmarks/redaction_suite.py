"""Redaction as OCR reads secrets: rendered secrets stored in clear, and false positives.

Secrets: every case of `tests/helpers/secret_screens.py` (51 made-up
credentials of 17 kinds, each in its own context: terminal `export`, `.env`,
YAML, JSON, DSNs, HTTP headers, a checkout form, PEM files, a window's title
and URL ...) is drawn in
each of 8 styles (light and dark, DejaVu Sans Mono and DejaVu Sans, 14 and 18
px, long lines wrapped at the window's edge) and sent through the real
`ingest` path: `ingest_image` with a `Pipeline` on a fresh passphrase store,
real tesseract, then `finish`. Then EVERY value stored (`stored_texts`: OCR
lines, memories' titles, bodies and fields, frame titles and URLs, the FTS
index, job payloads) is searched for any run of 8 consecutive characters of
the secret, case-sensitively as is, and after folding both sides (lowercase;
O/o/Q/D→0, l/I/i/|/!/j→1, S→5, B→8, Z→2, G→9; everything but letters and
digits dropped, so spaces OCR put in or dashes it lost do not hide a run). A
trial is "stored in clear" when any run is found either way. "OCR exposed"
counts the trials where the unredacted OCR text held such a run: the ones
where redaction had something to do.

False positives: the 484 lines of `tests/data/ordinary_lines.json` (standard-
library code about passwords and keys, JS/Go/Rust/YAML/Dockerfile lines that
handle them, prose, terminal output with git SHAs, digests, UUIDs, pod names,
`--help` texts), redacted (a) as text, each line alone and each
kind as one screen, and (b) as OCR reads them: drawn 24 lines to a screen in
each of the 8 styles and ingested the same way; a line counts as changed when
redaction changed its OCR text.

    .venv/bin/python -m tests.benchmarks.redaction_suite [--styles 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mirix_desktop.config import Settings
from mirix_desktop.memory.embedder import MiniLMEmbedder, StaticEmbedder
from mirix_desktop.pipeline.ingest import finish, ingest_image
from mirix_desktop.pipeline.pipeline import Pipeline
from mirix_desktop.privacy.redaction import Redactor
from tests.benchmarks.common import REPO, embedder, open_store, temp_dir
from tests.helpers.secret_screens import (
    SEED,
    STYLES,
    SecretCase,
    Style,
    cases,
    held_out_cases,
    leaks,
    render,
    stored_texts,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CORPUS = REPO / "tests" / "data" / "ordinary_lines.json"
KINDS = ("code", "prose", "terminal")
LINES_PER_SCREEN = 24

Model = StaticEmbedder | MiniLMEmbedder


@dataclass
class Spy:
    """Records what the pipeline's redactor was given and what it returned."""

    calls: list[tuple[list[str], list[str]]] = field(default_factory=list)
    ocr: list[tuple[list[str], list[str]]] = field(default_factory=list)  # with boxes: OCR lines

    def attach(self, redactor: Redactor) -> None:
        original: Callable[..., tuple[list[str], int]] = redactor.redact_lines

        def redact_lines(
            lines: Sequence[str], boxes: Sequence[tuple[int, int, int, int]] | None = None
        ) -> tuple[list[str], int]:
            out, count = original(lines, boxes)
            self.calls.append((list(lines), list(out)))
            if boxes is not None:
                self.ocr.append((list(lines), list(out)))
            return out, count

        redactor.redact_lines = redact_lines  # type: ignore[method-assign]


def ingest_screen(
    model: Model,
    directory: Path,
    image_name: str,
    draw: Callable[[], Any],
    *,
    app: str,
    title: str | None,
    url: str | None,
) -> tuple[list[tuple[str, str]], Spy, float]:
    """One screen through a fresh store and pipeline: (stored texts, spy, seconds)."""
    store = open_store(directory / f"{image_name}.db", model)
    try:
        pipeline = Pipeline(store, Settings())
        spy = Spy()
        spy.attach(pipeline.redactor)
        image = directory / f"{image_name}.png"
        draw().save(image)
        started = time.perf_counter()
        outcome = ingest_image(pipeline, image, app=app, title=title, url=url, at=T0)
        finish(pipeline, T0 + timedelta(seconds=30))
        seconds = time.perf_counter() - started
        pipeline.close()
        if not outcome.ok:
            raise RuntimeError(f"{image_name}: {outcome.reason}")
        return stored_texts(store), spy, seconds
    finally:
        store.close()


@dataclass
class Trial:
    case: str
    kind: str
    style: str
    exposed: bool  # the OCR text before redaction held a run of the secret
    clear: bool  # a stored text holds a run, exactly or folded
    exact: bool  # ... exactly as typed
    where: list[str]
    seconds: float


def run_secrets(
    model: Model,
    styles: Sequence[Style],
    directory: Path,
    only: set[str] | None,
    seed: str,
    held_out: bool = False,
) -> list[Trial]:
    trials = []
    for case in (held_out_cases if held_out else cases)(seed):
        if only and case.name not in only and case.kind not in only:
            continue
        for style in styles:
            trials.append(trial(model, case, style, directory))
            done = trials[-1]
            mark = "CLEAR " + ", ".join(done.where) if done.clear else "ok"
            print(f"  {case.name:28} {style.label:16} {mark}", flush=True)
    return trials


def trial(model: Model, case: SecretCase, style: Style, directory: Path) -> Trial:
    texts, spy, seconds = ingest_screen(
        model,
        directory,
        f"{case.name}-{style.label}",
        lambda: render(case, style),
        app=case.app,
        title=case.title,
        url=case.url,
    )
    raw = [("raw", line) for lines, _out in spy.calls for line in lines]
    found = leaks(case.secret, texts)
    return Trial(
        case=case.name,
        kind=case.kind,
        style=style.label,
        exposed=bool(leaks(case.secret, raw)),
        clear=bool(found),
        exact=any(not leak.folded for leak in found),
        where=sorted({f"{leak.where} '{leak.run}'" for leak in found}),
        seconds=seconds,
    )


def fp_text(corpus: dict[str, list[str]]) -> dict[str, tuple[int, int, int]]:
    """Per kind: (lines, changed alone, changed as one screen)."""
    redactor = Redactor()
    out = {}
    for kind in KINDS:
        lines = corpus[kind]
        alone = sum(redactor.redact(line)[0] != line for line in lines)
        screen, _ = redactor.redact_lines(lines)
        together = sum(a != b for a, b in zip(lines, screen, strict=True))
        out[kind] = (len(lines), alone, together)
    return out


def corpus_case(kind: str, lines: list[str]) -> SecretCase:
    return SecretCase(f"corpus-{kind}", kind, "", tuple(lines), app="code", title=f"{kind}.txt")


def fp_rendered(
    model: Model, corpus: dict[str, list[str]], styles: Sequence[Style], directory: Path
) -> tuple[dict[str, Counter[str]], list[tuple[str, str]]]:
    """Per kind: OCR lines and lines changed by redaction; and the changed ones."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    changed: list[tuple[str, str]] = []
    for kind in KINDS:
        lines = corpus[kind]
        for start in range(0, len(lines), LINES_PER_SCREEN):
            case = corpus_case(kind, lines[start : start + LINES_PER_SCREEN])
            for style in styles:
                _texts, spy, _s = ingest_screen(
                    model,
                    directory,
                    f"{case.name}-{start}-{style.label}",
                    lambda case=case, style=style: render(case, style),  # type: ignore[misc]
                    app=case.app,
                    title=case.title,
                    url=None,
                )
                for raw, out in spy.ocr:
                    for before, after in zip(raw, out, strict=True):
                        counts[kind]["lines"] += 1
                        if before != after:
                            counts[kind]["changed"] += 1
                            changed.append((before, after))
    return counts, changed


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def report(
    trials: list[Trial],
    text: dict[str, tuple[int, int, int]],
    rendered: dict[str, Counter[str]],
    styles: int,
) -> None:
    print("\nSecrets rendered and ingested, by kind (trials = secrets x styles):")
    print(f"{'kind':12} {'secrets':>7} {'trials':>6} {'OCR exposed':>11} {'clear':>6} {'exact':>6}")
    by_kind: dict[str, list[Trial]] = defaultdict(list)
    for t in trials:
        by_kind[t.kind].append(t)
    for kind, group in sorted(by_kind.items()):
        secrets = len({t.case for t in group})
        print(
            f"{kind:12} {secrets:>7} {len(group):>6} {sum(t.exposed for t in group):>11} "
            f"{sum(t.clear for t in group):>6} {sum(t.exact for t in group):>6}"
        )
    secrets = len({t.case for t in trials})
    clear = sum(t.clear for t in trials)
    exposed = sum(t.exposed for t in trials)
    print(
        f"{'all':12} {secrets:>7} {len(trials):>6} {exposed:>11} {clear:>6} "
        f"{sum(t.exact for t in trials):>6}"
    )
    seconds = sorted(t.seconds for t in trials)
    if seconds:
        print(f"ingest per screen: median {seconds[len(seconds) // 2]:.2f} s")
    print("\nFalse positives, text (lines changed):")
    total = sum(v[0] for v in text.values())
    for kind, (lines, alone, together) in text.items():
        print(f"  {kind:9} {lines:>4} lines: alone {alone} ({pct(alone, lines)}), "
              f"as a screen {together} ({pct(together, lines)})")  # fmt: skip
    alone_all = sum(v[1] for v in text.values())
    together_all = sum(v[2] for v in text.values())
    print(f"  {'all':9} {total:>4} lines: alone {alone_all} ({pct(alone_all, total)}), "
          f"as a screen {together_all} ({pct(together_all, total)})")  # fmt: skip
    ocr_lines = sum(c["lines"] for c in rendered.values())
    ocr_changed = sum(c["changed"] for c in rendered.values())
    if rendered:
        print(f"\nFalse positives, rendered and OCR'd ({styles} styles):")
        for kind, c in rendered.items():
            print(f"  {kind:9} {c['lines']:>5} OCR lines, changed {c['changed']} "
                  f"({pct(c['changed'], c['lines'])})")  # fmt: skip
        print(f"  {'all':9} {ocr_lines:>5} OCR lines, changed {ocr_changed} "
              f"({pct(ocr_changed, ocr_lines)})")  # fmt: skip

    kinds = len(by_kind)
    print("\nMarkdown rows for the README's Reliability table:")
    print(
        f"| Rendered secrets stored in clear (any run of 8 chars, exact or OCR-folded) | "
        f"{clear} / {len(trials)} trials ({secrets} secrets of {kinds} kinds x {styles} styles; "
        f"OCR exposed the secret in {exposed}) | 0 |"
    )
    per_kind = ", ".join(
        f"{kind} {sum(t.clear for t in group)}/{len(group)}"
        for kind, group in sorted(by_kind.items())
    )
    print(f"| Stored in clear / tried, by kind | {per_kind} | 0 each |")
    print(
        f"| Redaction false positives, text ({total} lines of code, prose, terminal) | "
        f"{pct(alone_all, total)} of lines alone, {pct(together_all, total)} as screens | ≤ 1% |"
    )
    if rendered:
        print(
            f"| Redaction false positives, rendered and OCR'd ({styles} styles) | "
            f"{ocr_changed} / {ocr_lines} OCR lines ({pct(ocr_changed, ocr_lines)}) | ≤ 1% |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", type=int, default=len(STYLES), help="how many of the 8 styles")
    parser.add_argument("--no-rendered-fp", action="store_true", help="skip the OCR'd FP run")
    parser.add_argument("--no-secrets", action="store_true", help="only the false positives")
    parser.add_argument(
        "--seed", default=SEED, help="another seed draws other secrets in the same contexts"
    )
    parser.add_argument(
        "--held-out", action="store_true", help="the 20 held-out contexts, not the suite's 51"
    )
    parser.add_argument("--only", help="comma-separated case names or kinds (default: all)")
    parser.add_argument("--json", type=Path, help="write every trial here")
    args = parser.parse_args()
    styles = STYLES[: args.styles]
    model = embedder()
    directory = temp_dir("mirix-redaction-")
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    started = time.perf_counter()
    suite = (held_out_cases if args.held_out else cases)(args.seed)
    print(f"{len(suite)} secrets x {len(styles)} styles, stores in {directory}")
    only = set(args.only.split(",")) if args.only else None
    trials = (
        []
        if args.no_secrets
        else run_secrets(model, styles, directory, only, args.seed, args.held_out)
    )
    text = fp_text(corpus)
    rendered: dict[str, Counter[str]] = {}
    changed: list[tuple[str, str]] = []
    if not args.no_rendered_fp:
        rendered, changed = fp_rendered(model, corpus, styles, directory)
        for before, after in changed:
            print(f"  FP: {before!r}\n   -> {after!r}")
    report(trials, text, rendered, len(styles))
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "trials": [t.__dict__ for t in trials],
                    "fp_text": text,
                    "fp_rendered": {k: dict(v) for k, v in rendered.items()},
                    "fp_rendered_lines": changed,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
