"""Fuzzing `ingest`: over a thousand malformed and adversarial images through the real path.

Each case of `tests/helpers/bad_images.py` is written to disk and handed to
`ingest_image` with a real `Pipeline`, real tesseract and a passphrase store,
exactly as `mirix-desktop ingest` does. The cases run one after another in a
worker process; the parent is the watchdog: a case without an answer within
the timeout is a hang (the worker is killed and a new one takes the next
case), a worker that dies is a crash, and so is any exception `ingest_image`
lets out that is not a `KnownError`. Python warnings raised while ingesting
are recorded too: under the test suite each would be an error.

    .venv/bin/python -m tests.benchmarks.fuzz_ingest              # all cases (~1400)
    .venv/bin/python -m tests.benchmarks.fuzz_ingest --fresh      # each read whole, not as a change
    .venv/bin/python -m tests.benchmarks.fuzz_ingest --small      # the default run's ~60
    .venv/bin/python -m tests.benchmarks.fuzz_ingest --only exif --timeout 30 -v
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import multiprocessing
import os
import re
import resource
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tests.helpers.bad_images import WORDS, Case, cases, small_cases

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "fuzz passphrase"
INGEST = "mirix_desktop.pipeline.ingest:ingest_image"
# A worker must open the store and load the embedder and tesseract in this time.
STARTUP_S = 120.0
# A worker may use this much address space: a decoder that tries to allocate a
# bomb's gigabytes fails (a MemoryError, reported as a crash) instead of
# taking the machine down.
MEMORY_LIMIT_MB = 6144


@dataclass
class Result:
    name: str
    family: str
    expect: str
    status: str  # "processed", "rejected", "crash" or "hang"
    reason: str | None = None
    seconds: float = 0.0
    text: str = ""
    warnings: list[str] = field(default_factory=list)
    readable: bool = False  # the case shows WORDS upright

    @property
    def unexpected(self) -> bool:
        """Processed where it should be rejected, or the other way round."""
        return self.status in ("processed", "rejected") and self.expect not in (
            "either",
            self.status,
        )

    @property
    def read_words(self) -> bool:
        return WORDS.split()[0] in self.text


def reason_kind(reason: str | None, path: str) -> str:
    """A rejection's reason without the path and the decoder's details: what to count."""
    if not reason:
        return "(no reason given)"
    text = reason.replace(path, "").lstrip(": ")
    return re.sub(r"\s*\(.*", "", text).strip() or text


# -- the worker ---------------------------------------------------------------------------


def _resolve(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    func: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return func


def _worker(conn: Connection, data_dir: str, models_dir: str, target: str, limit_mb: int) -> None:
    if limit_mb:
        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from mirix_desktop.config import Settings
    from mirix_desktop.errors import KnownError
    from mirix_desktop.memory.embedder import StaticEmbedder
    from mirix_desktop.memory.keys import KeySource
    from mirix_desktop.memory.store import MemoryStore
    from mirix_desktop.pipeline.ingest import finish
    from mirix_desktop.pipeline.pipeline import Pipeline

    ingest = _resolve(target)
    store = MemoryStore.open(
        Path(data_dir) / "mirix.db",
        KeySource(passphrase=PASSPHRASE),
        StaticEmbedder(Path(models_dir)),
    )
    pipeline = Pipeline(store, Settings(), owner=os.getpid())
    conn.send(("ready", os.getpid()))
    try:
        while (message := conn.recv()) is not None:
            path, fresh = message
            if fresh:  # read it whole, not as a change from the case before
                pipeline.submitter.reset()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    outcome = ingest(
                        pipeline, Path(path), app="fuzz", title=None, url=None, at=None
                    )
                except KnownError as exc:
                    reply: tuple[Any, ...] = ("raised", type(exc).__name__, exc.message)
                except Exception as exc:  # noqa: BLE001 - a crash is what the fuzzer looks for
                    reply = ("crash", type(exc).__name__, traceback.format_exc())
                else:
                    reply = ("outcome", outcome.ok, outcome.reason, "\n".join(outcome.text))
            conn.send((*reply, [f"{w.category.__name__}: {w.message}" for w in caught]))
    except EOFError:
        pass
    finish(pipeline)
    pipeline.close()
    store.close()


class Worker:
    """One worker process, restarted after a hang or a death."""

    def __init__(self, data_dir: Path, models_dir: Path, target: str, limit_mb: int) -> None:
        self.args = (str(data_dir), str(models_dir), target, limit_mb)
        self.context = multiprocessing.get_context("spawn")
        self.process: Any = None
        self.conn: Connection | None = None
        self.starts = 0

    def start(self) -> None:
        parent, child = self.context.Pipe()
        self.process = self.context.Process(target=_worker, args=(child, *self.args), daemon=True)
        self.process.start()
        child.close()
        self.conn = parent
        self.starts += 1
        if not parent.poll(STARTUP_S):
            self.kill()
            raise RuntimeError("the fuzz worker did not start")
        try:
            parent.recv()
        except EOFError as exc:
            raise RuntimeError(f"the fuzz worker died at start ({self.process.exitcode})") from exc

    def ask(self, path: Path, fresh: bool, timeout_s: float) -> tuple[Any, ...]:
        """The worker's reply; ("hang",) past the timeout, ("died", code) if it died."""
        if self.conn is None:
            self.start()
        assert self.conn is not None
        try:
            self.conn.send((str(path), fresh))
            if not self.conn.poll(timeout_s):
                self.kill()
                return ("hang",)
            reply: tuple[Any, ...] = self.conn.recv()
            return reply
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self.process.join(10)
            code = self.process.exitcode
            self.conn = None
            return ("died", code)

    def kill(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
        if self.process is not None:
            self.process.join(10)
        self.conn = None

    def stop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(BrokenPipeError):
                self.conn.send(None)
            self.process.join(60)
        self.kill()


def _result(case: Case, reply: tuple[Any, ...], seconds: float, path: Path) -> Result:
    result = Result(case.name, case.family, case.expect, "crash", seconds=seconds)
    result.readable = case.readable
    kind = reply[0]
    if kind == "hang":
        result.status = "hang"
    elif kind == "died":
        result.reason = f"the worker process died (exit code {reply[1]})"
    elif kind == "crash":
        result.reason = f"{reply[1]}: {reply[2]}"
        result.warnings = reply[3]
    elif kind == "raised":  # a KnownError out of ingest_image: a reason, but the run stops
        result.status = "rejected"
        result.reason = f"raised {reply[1]}: {reply[2]}"
        result.warnings = reply[3]
    else:
        ok, reason, text, caught = reply[1:]
        result.status = "processed" if ok else "rejected"
        result.reason, result.text, result.warnings = reason, text, caught
    if result.status == "rejected":
        result.reason = reason_kind(result.reason, str(path))
    return result


@dataclass
class Report:
    results: list[Result]
    seconds: float
    worker_starts: int
    max_rss_mb: float

    def by_status(self, status: str) -> list[Result]:
        return [r for r in self.results if r.status == status]

    @property
    def crashes(self) -> list[Result]:
        return self.by_status("crash")

    @property
    def hangs(self) -> list[Result]:
        return self.by_status("hang")

    @property
    def unexpected(self) -> list[Result]:
        return [r for r in self.results if r.unexpected]

    @property
    def warned(self) -> list[Result]:
        return [r for r in self.results if r.warnings]

    @property
    def unread(self) -> list[Result]:
        """Processed pictures of the words in which the words were not read."""
        return [
            r for r in self.results if r.readable and r.status == "processed" and not r.read_words
        ]

    def summary(self) -> str:
        lines = [
            f"cases {len(self.results)}: processed {len(self.by_status('processed'))}, "
            f"rejected {len(self.by_status('rejected'))}, crashes {len(self.crashes)}, "
            f"hangs {len(self.hangs)}; unexpected outcome {len(self.unexpected)}, "
            f"warnings {len(self.warned)}, words not read {len(self.unread)}",
            f"time {self.seconds:.0f} s, worker starts {self.worker_starts}, "
            f"max worker RSS {self.max_rss_mb:.0f} MB, slowest case "
            + max(
                (f"{r.name} {r.seconds:.1f} s" for r in self.results),
                key=lambda s: float(s.split()[-2]),
                default="-",
            ),
            "",
            f"{'family':<12} {'cases':>6} {'processed':>10} {'rejected':>9} {'crash':>6} "
            f"{'hang':>5} {'unexpected':>11}",
        ]
        families = dict.fromkeys(r.family for r in self.results)
        for family in families:
            rows = [r for r in self.results if r.family == family]
            count = Counter(r.status for r in rows)
            lines.append(
                f"{family:<12} {len(rows):>6} {count['processed']:>10} {count['rejected']:>9} "
                f"{count['crash']:>6} {count['hang']:>5} {sum(r.unexpected for r in rows):>11}"
            )
        lines += ["", "rejected, by reason:"]
        reasons = Counter(r.reason for r in self.by_status("rejected"))
        lines += [f"{n:>6}  {reason}" for reason, n in reasons.most_common()]
        for title, rows in (
            ("CRASHES", self.crashes),
            ("HANGS", self.hangs),
            ("UNEXPECTED", self.unexpected),
            ("WARNINGS", self.warned),
            ("WORDS NOT READ", self.unread),
        ):
            if rows:
                lines += ["", f"{title}:"]
                for r in rows:
                    detail = r.reason if title != "WARNINGS" else "; ".join(r.warnings)
                    last = (detail or "").strip().splitlines()[-1:] or [""]
                    lines.append(f"  {r.name} [{r.status}, expected {r.expect}]: {last[0][:300]}")
        return "\n".join(lines)


def run(
    chosen: Sequence[Case],
    workdir: Path,
    *,
    timeout_s: float = 60.0,
    target: str = INGEST,
    models_dir: Path | None = None,
    memory_limit_mb: int = MEMORY_LIMIT_MB,
    fresh: bool = False,
    progress: Callable[[Result], None] | None = None,
) -> Report:
    """Builds and ingests every case (files under `workdir/cases`, store in `workdir/data`).

    Cases follow one another as a batch of `ingest` does: a picture is read
    as a change from the one before. With `fresh`, every picture is read
    whole (cases showing the words always are, to check they were read).
    """
    models = models_dir or Path(os.environ.get("MIRIX_MODELS_DIR", REPO / ".cache" / "models"))
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    worker = Worker(workdir / "data", models, target, memory_limit_mb)
    started = time.perf_counter()
    results = []
    try:
        for case in chosen:
            path = case.build(workdir / "cases")
            began = time.perf_counter()
            reply = worker.ask(path, fresh or case.readable, timeout_s)
            result = _result(case, reply, time.perf_counter() - began, path)
            results.append(result)
            if progress is not None:
                progress(result)
    finally:
        worker.stop()
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Report(results, time.perf_counter() - started, worker.starts, rss)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a hang")
    parser.add_argument("--small", action="store_true", help="only the default run's cases")
    parser.add_argument("--only", help="only cases whose name contains this")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--fresh", action="store_true", help="read every picture whole")
    parser.add_argument("--keep", action="store_true", help="keep the cases and the store")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each case")
    args = parser.parse_args(argv)
    chosen = small_cases(args.seed) if args.small else cases(args.seed)
    if args.only:
        chosen = [c for c in chosen if args.only in c.name]
    workdir = Path(tempfile.mkdtemp(prefix="mirix-fuzz-"))

    def show(result: Result) -> None:
        if args.verbose or result.status in ("crash", "hang"):
            line = (
                f"{result.status:>9} {result.seconds:6.2f} s  {result.name}: {result.reason or ''}"
            )
            print(line[:240], flush=True)

    try:
        report = run(chosen, workdir, timeout_s=args.timeout, fresh=args.fresh, progress=show)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    batch = "each picture read whole" if args.fresh else "pictures read as a batch"
    print(f"seed {args.seed}, timeout {args.timeout:.0f} s per case, {batch}")
    print(report.summary())
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in report.results], indent=1))
    if args.keep:
        print(f"cases and store kept in {workdir}")
    return 1 if report.crashes or report.hangs else 0


if __name__ == "__main__":
    sys.exit(main())
