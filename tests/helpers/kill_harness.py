"""Crash trials: the real daemon SIGKILLed at random points during capture and ingest.

One trial, on a private X display with a text window whose text keeps
changing (a scrolling log, switching between two documents) while an
`ingest` of rendered screenshots runs beside the daemon:

1. after a random delay (seeded), the memories and frames committed so far
   are read through a second connection; then the daemon is SIGKILLed, and
   the ingest too in about half the trials;
2. the store the crash left is opened (WAL recovery) and checked:
   `integrity_check`, everything committed before the kill still there (a
   memory may have grown since, never lost text), nothing duplicated;
3. the daemon is restarted (in some trials killed again while it starts);
   the screen goes still, and the queue, including the jobs of a killed
   ingest, must drain to 0; then the checks run again on what the redone
   jobs wrote.

What "duplicated" means follows the pipeline's promises: a frame row and
its job are written together, its OCR lines and the job's deletion
together, so no frame (captured_at, monitor) and no (frame, line_no) may
repeat; a document's resource memory grows chunk by chunk and never holds
a line twice, and a new chunk starts only when the last one is full;
episodes of one document follow each other; an ingested image (a unique
marker, a unique time) is stored once.

`tests/benchmarks/kill_trials.py` runs 20 or more trials and prints the
figures; `tests/e2e/test_kill_safety.py` runs three.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from mirix_desktop.memory import keys
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.memories import CHUNK_CHARS, line_key
from tests.helpers.text_window import TextWindow
from tests.helpers.xdisplay import XDisplay

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = Path(os.environ.get("MIRIX_MODELS_DIR", REPO / ".cache" / "models"))
PASSPHRASE = "kill trials passphrase"
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

START_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 120.0
INGEST_TIMEOUT_S = 180.0
# A killed ingest's queued jobs, with the daemon running on: taken over and done within.
ORPHAN_TIMEOUT_S = 60.0

CHECKS = (
    "daemon restarted",
    "integrity_check ok",
    "committed memories kept",
    "committed frames kept",
    "queue drained",
    "no duplicate frames",
    "no duplicate OCR lines",
    "no line twice in a document",
    "no chunk started early",
    "no ingest image twice",
    "episodes in order",
)

_WORDS = (
    "amber basil cedar delta ember fjord garnet harbor iris juniper kelp lotus maple "
    "nectar onyx pepper quartz raven saffron tundra umber violet willow yarrow zephyr "
    "anchor bramble cobalt dune falcon glacier hazel indigo jasper kestrel lagoon"
).split()


@dataclass
class Failure:
    check: str
    detail: str


@dataclass
class TrialResult:
    number: int
    delay_s: float
    killed_ingest: bool
    killed_while_starting: bool
    failures: list[Failure] = field(default_factory=list)
    queued_at_kill: int = 0  # jobs the killed daemon left in the queue
    killed_ingest_alone: bool = False  # an ingest killed while the daemon ran on
    orphans: int = 0  # jobs that ingest left
    orphans_done_s: float = 0.0  # until the running daemon had done them
    memories: int = 0
    frames: int = 0
    drain_s: float = 0.0

    @property
    def survived(self) -> bool:
        return not self.failures


@dataclass
class Snapshot:
    """What was committed at one moment: memories and frames."""

    memories: dict[int, dict[str, Any]]
    frames: dict[int, tuple[str, int]]  # id -> (ocr_state, OCR line rows)


# -- what the screen shows ---------------------------------------------------------------
class Scribbler:
    """Keeps a text window changing: a log that grows a line at a time and scrolls.

    Two documents take turns in the window (title and text), so threads,
    chunks and episodes of more than one document are in play. Every line is
    unique in the whole run (a counter), so a line stored twice is a duplicate.
    """

    # A full window holds more text than a resource chunk (`CHUNK_CHARS`), as
    # an editor or a terminal does: a document always spans chunks.
    VISIBLE = 34
    FONT_SIZE = 12
    TITLES = ("Field notes - Mousepad", "Ledger draft - Mousepad")

    def __init__(self, rng: random.Random, period_s: float = 0.6) -> None:
        self.rng = rng
        self.period_s = period_s
        self.counter = 0
        self.docs = {title: [self._line() for _ in range(self.VISIBLE)] for title in self.TITLES}
        self.current = self.TITLES[0]
        self.window: TextWindow | None = None
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._busy = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="scribbler", daemon=True)

    def text(self) -> str:
        return "\n".join(self.docs[self.current])

    def start(self, window: TextWindow) -> None:
        self.window = window
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.running.set()
        self._thread.join(timeout=30)

    def resume(self) -> None:
        self.running.set()

    def pause(self) -> None:
        """Stops changing the screen; returns once the last change is shown."""
        self.running.clear()
        with self._busy:
            pass

    def _line(self) -> str:
        self.counter += 1
        words = " ".join(self.rng.choice(_WORDS) for _ in range(7))
        return f"{words} row {self.counter:05d} done"

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.running.wait()
                if self.stopping.is_set():
                    return
                with self._busy:
                    if not self.running.is_set():
                        continue
                    self._step()
                self.stopping.wait(self.period_s)
        except BaseException as exc:  # noqa: BLE001 - reported by the harness
            self.error = exc

    def _step(self) -> None:
        assert self.window is not None
        if self.rng.random() < 0.08:
            self.current = next(t for t in self.TITLES if t != self.current)
            self.window.set_title(self.current)
        lines = self.docs[self.current]
        lines.append(self._line())
        del lines[: -self.VISIBLE]
        self.window.set_text(self.text())


def render_ingest_images(folder: Path, trial: int, count: int, rng: random.Random) -> list[Path]:
    """Screenshots of a document, each with a marker line naming it; distinct mtimes."""
    font = ImageFont.truetype(FONT_PATH, 20)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    base = time.time() - 3600 + trial * 120
    for index in range(count):
        image = Image.new("RGB", (1100, 700), "white")
        draw = ImageDraw.Draw(image)
        draw.text((40, 30), f"Scanned report {trial} page", font=font, fill="black")
        marker = f"marker zq{trial:03d}x{index:02d} stored once"
        draw.text((40, 70), marker, font=font, fill="black")
        for row in range(12):
            words = " ".join(rng.choice(_WORDS) for _ in range(5))
            text = f"{words} item {trial:03d}-{index:02d}-{row:02d}"
            draw.text((40, 120 + 40 * row), text, font=font, fill="black")
        path = folder / f"scan-{trial:03d}-{index:02d}.png"
        image.save(path)
        at = base + 5 * index
        os.utime(path, (at, at))
        paths.append(path)
    return paths


def marker_key(trial: int, index: int) -> str:
    return line_key(f"zq{trial:03d}x{index:02d}")


# -- reading the store -----------------------------------------------------------------------
def snapshot(store: MemoryStore) -> Snapshot:
    with store.read() as conn:
        conn.execute("BEGIN")
        try:
            memories = {
                row[0]: {
                    "type": row[1],
                    "updated_at": row[2],
                    "body": row[3],
                    "fields": json.loads(row[4]),
                    "thread": row[5],
                }
                for row in conn.execute(
                    "SELECT id, type, updated_at, body, fields, thread FROM memories"
                ).fetchall()
            }
            frames = {
                row[0]: (row[1], row[2])
                for row in conn.execute(
                    "SELECT f.id, f.ocr_state, (SELECT count(*) FROM ocr_lines l "
                    "WHERE l.frame_id = f.id) FROM frames f"
                ).fetchall()
            }
        finally:
            conn.execute("COMMIT")
    return Snapshot(memories, frames)


def _kept(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """Why `new` lost something of `old` (the same memory, read later); None if it did not."""
    if old["body"] == new["body"]:
        return None
    if new["type"] != old["type"]:
        return f"its type changed from {old['type']} to {new['type']}"
    if old["type"] == "resource":
        before, after = old["fields"]["content"], new["fields"]["content"]
        if not after.startswith(before):
            return f"its content lost text ({len(before)} -> {len(after)} characters)"
        return None
    if old["type"] == "episodic":
        before, after = old["fields"], new["fields"]
        if before["started_at"] != after["started_at"]:
            return "its start changed"
        if not (after.get("details") or "").startswith(before.get("details") or ""):
            return "its details lost text"
        if not set(before.get("source_frames") or []) <= set(after.get("source_frames") or []):
            return "it lost source frames"
        return None
    return "its text changed"


def compare(before: Snapshot, after: Snapshot) -> list[Failure]:
    """Everything committed in `before` is in `after`: memories kept or grown, frames kept."""
    failures = []
    for memory_id, old in sorted(before.memories.items()):
        new = after.memories.get(memory_id)
        if new is None:
            failures.append(
                Failure("committed memories kept", f"{old['type']} memory {memory_id} is gone")
            )
            continue
        why = _kept(old, new)
        if why:
            failures.append(
                Failure("committed memories kept", f"{old['type']} memory {memory_id}: {why}")
            )
    for frame_id, (state, lines) in sorted(before.frames.items()):
        now = after.frames.get(frame_id)
        if now is None:
            failures.append(Failure("committed frames kept", f"frame {frame_id} is gone"))
        elif state == "done" and now != (state, lines):
            failures.append(
                Failure("committed frames kept", f"frame {frame_id}: {state}/{lines} -> {now}")
            )
    return failures


def duplicates(store: MemoryStore, ingested: dict[str, int]) -> list[Failure]:
    """The uniqueness the data model promises (see the module docstring)."""
    failures = []
    with store.read() as conn:
        for captured_at, monitor, count in conn.execute(
            "SELECT captured_at, monitor, count(*) FROM frames GROUP BY captured_at, monitor "
            "HAVING count(*) > 1"
        ).fetchall():
            failures.append(
                Failure(
                    "no duplicate frames",
                    f"{count} frames of monitor {monitor} captured at {captured_at}",
                )
            )
        for frame_id, line_no, count in conn.execute(
            "SELECT frame_id, line_no, count(*) FROM ocr_lines GROUP BY frame_id, line_no "
            "HAVING count(*) > 1"
        ).fetchall():
            failures.append(
                Failure("no duplicate OCR lines", f"frame {frame_id} line {line_no} x{count}")
            )
        resources = conn.execute(
            "SELECT id, thread, fields FROM memories WHERE type = 'resource' ORDER BY id"
        ).fetchall()
        episodes = conn.execute(
            "SELECT id, thread, fields FROM memories WHERE type = 'episodic' ORDER BY id"
        ).fetchall()
        marks = conn.execute(
            "SELECT l.frame_id, l.text FROM ocr_lines l JOIN frames f ON f.id = l.frame_id "
            "WHERE f.monitor = 0"
        ).fetchall()
    chunks: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for memory_id, thread, fields in resources:
        chunks[thread].append((memory_id, json.loads(fields)["content"]))
    for thread, parts in chunks.items():
        seen: dict[str, int] = {}
        again: Counter[tuple[int, int]] = Counter()
        for memory_id, content in parts:
            for text in content.splitlines():
                key = line_key(text)
                if key in seen:
                    again[seen[key], memory_id] += 1
                elif key:
                    seen[key] = memory_id
        for (first_id, then_id), count in sorted(again.items()):
            failures.append(
                Failure(
                    "no line twice in a document",
                    f"{thread}: {count} lines of memory {first_id} again in memory {then_id}",
                )
            )
        for (first_id, first), (_next_id, following) in itertools.pairwise(parts):
            head = following.splitlines()[0] if following else ""
            if len(first) + 1 + len(head) <= CHUNK_CHARS:
                failures.append(
                    Failure(
                        "no chunk started early",
                        f"{thread}: memory {first_id} ({len(first)} characters) was not full",
                    )
                )
    spans: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for memory_id, thread, fields in episodes:
        data = json.loads(fields)
        spans[thread].append((data["started_at"], data["ended_at"], memory_id))
    for thread, items in spans.items():
        items.sort()
        for (_s1, end, first_id), (start, _e2, next_id) in itertools.pairwise(items):
            if start < end:
                failures.append(
                    Failure(
                        "episodes in order",
                        f"{thread}: episodes {first_id} and {next_id} overlap",
                    )
                )
    frames_by_mark: dict[str, set[int]] = defaultdict(set)
    for frame_id, text in marks:
        key = line_key(text)
        for mark in ingested:
            if mark in key:
                frames_by_mark[mark].add(frame_id)
    for mark, found in frames_by_mark.items():
        if len(found) > 1:
            failures.append(Failure("no ingest image twice", f"{mark} in frames {sorted(found)}"))
    return failures


# -- the harness ------------------------------------------------------------------------------
class KillHarness:
    """The daemon, the ingests, the window and the checks of a series of trials."""

    def __init__(
        self,
        display: XDisplay,
        workdir: Path,
        *,
        seed: int,
        embedder: StaticEmbedder | None = None,
        max_delay_s: float = 7.0,
        ingest_images: int = 5,
    ) -> None:
        self.display = display
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.rng = random.Random(seed)
        self.max_delay_s = max_delay_s
        self.ingest_images = ingest_images
        self.embedder = embedder or StaticEmbedder(MODELS_DIR)
        env = {k: v for k, v in display.env.items() if not k.startswith("MIRIX_")}
        env.update(
            MIRIX_DATA_DIR=str(self.data_dir),
            MIRIX_PASSPHRASE=PASSPHRASE,
            MIRIX_MODELS_DIR=str(MODELS_DIR),
            # Xvfb has no keyboard or mouse: without this, capture stops as "idle".
            MIRIX_CAPTURE_IDLE_PAUSE_S="0",
            MIRIX_CAPTURE_INTERVAL_S="1",
            HOME=str(workdir / "home"),
            PYTHONPATH=str(REPO),
        )
        self.env = env
        self.daemon: subprocess.Popen[bytes] | None = None
        self.ingest: subprocess.Popen[bytes] | None = None
        self.ingested: dict[str, int] = {}  # marker key -> trial
        self._key: bytes | None = None
        # Failures already reported: a duplicate stays in the store, and is
        # counted in the trial that made it only.
        self._reported: set[tuple[str, str]] = set()
        self._log = open(workdir / "processes.log", "ab")  # noqa: SIM115 - closed in close()

    # -- processes ----------------------------------------------------------------------
    def start_daemon(self) -> subprocess.Popen[bytes]:
        self._log.write(b"\n--- daemon start ---\n")
        self._log.flush()
        self.daemon = subprocess.Popen(
            [sys.executable, "-m", "mirix_desktop", "-v", "run", "--no-ui"],
            env=self.env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self.daemon

    def wait_capturing(self, timeout: float = START_TIMEOUT_S) -> bool:
        """True once the daemon started last says it captures (its own status, by pid)."""
        assert self.daemon is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                return False
            status = self.status()
            if status.get("pid") == self.daemon.pid and status.get("state") == "capturing":
                return True
            time.sleep(0.2)
        return False

    def status(self) -> dict[str, Any]:
        try:
            data = json.loads((self.data_dir / "status.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def start_ingest(self, trial: int) -> None:
        images = render_ingest_images(
            self.workdir / "images" / f"trial-{trial:03d}", trial, self.ingest_images, self.rng
        )
        for index in range(len(images)):
            self.ingested[marker_key(trial, index)] = trial
        self._log.write(f"\n--- ingest {trial} ---\n".encode())
        self._log.flush()
        self.ingest = subprocess.Popen(
            [sys.executable, "-m", "mirix_desktop", "ingest", *map(str, images),
             "--app", "scanner", "--title", f"Scanned report {trial}"],
            env=self.env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    @staticmethod
    def _kill(process: subprocess.Popen[bytes] | None) -> bool:
        if process is None or process.poll() is not None:
            return False
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True

    def stop(self) -> None:
        """Ends the processes of the run (the daemon with SIGTERM, as a person would)."""
        if self.ingest is not None and self.ingest.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.ingest.wait(timeout=INGEST_TIMEOUT_S)
            self._kill(self.ingest)
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._kill(self.daemon)

    def close(self) -> None:
        self.stop()
        self._log.close()

    # -- the store ------------------------------------------------------------------------
    @contextlib.contextmanager
    def open_store(self) -> Iterator[MemoryStore]:
        source = KeySource(passphrase=PASSPHRASE, key=self._key)
        store = MemoryStore.open(self.data_dir / "mirix.db", source, self.embedder)
        try:
            if self._key is None:
                self._key = keys.unlock_key(store.path, source)
            yield store
        finally:
            store.close()

    def pending(self) -> tuple[int, int]:
        """(jobs waiting, frames waiting for OCR) over every owner."""
        with self.open_store() as store, store.read() as conn:
            jobs = conn.execute("SELECT count(*) FROM capture_jobs WHERE failed = 0").fetchone()
            frames = conn.execute(
                "SELECT count(*) FROM frames WHERE ocr_state = 'queued'"
            ).fetchone()
        return int(jobs[0]), int(frames[0])

    def _jobs_of(self, owner: int) -> set[int]:
        with self.open_store() as store, store.read() as conn:
            rows = conn.execute(
                "SELECT id FROM capture_jobs WHERE owner = ? AND failed = 0", (owner,)
            ).fetchall()
        return {int(row[0]) for row in rows}

    def _waiting(self, job_ids: set[int]) -> set[int]:
        with self.open_store() as store, store.read() as conn:
            rows = conn.execute("SELECT id FROM capture_jobs WHERE failed = 0").fetchall()
        return job_ids & {int(row[0]) for row in rows}

    def _kill_ingest_alone(self, result: TrialResult) -> None:
        """The ingest dies while the daemon runs on: its queued jobs must still be done."""
        assert self.ingest is not None
        owner = self.ingest.pid
        with self.open_store() as store:
            before = snapshot(store)
        if not self._kill(self.ingest):
            return  # it had finished
        result.killed_ingest = result.killed_ingest_alone = True
        self._check_store(result, before, "after the ingest's kill")
        left = orphans = self._jobs_of(owner)
        result.orphans = len(orphans)
        started = time.monotonic()
        while left and time.monotonic() - started < ORPHAN_TIMEOUT_S:
            time.sleep(0.5)
            left = self._waiting(orphans)
        result.orphans_done_s = time.monotonic() - started
        if left:
            result.failures.append(
                Failure(
                    "queue drained",
                    f"{len(left)} of {len(orphans)} jobs of the killed ingest still waiting "
                    f"after {ORPHAN_TIMEOUT_S:g} s, the daemon running",
                )
            )

    def _check_store(self, result: TrialResult, before: Snapshot, when: str) -> Snapshot:
        with self.open_store() as store:
            integrity = store.integrity_check()
            now = snapshot(store)
            found = compare(before, now) + duplicates(store, self.ingested)
        if integrity != "ok":
            found.insert(0, Failure("integrity_check ok", integrity[:300]))
        for failure in found:
            known = (failure.check, failure.detail)
            if known in self._reported and failure.check != "integrity_check ok":
                continue
            self._reported.add(known)
            result.failures.append(Failure(failure.check, f"{when}: {failure.detail}"))
        return now

    def _snapshot_and_kill(self, result: TrialResult, *, ingest_too: bool) -> Snapshot:
        with self.open_store() as store:
            before = snapshot(store)
        self._kill(self.daemon)
        if ingest_too:
            result.killed_ingest = self._kill(self.ingest) or result.killed_ingest
        return before

    # -- one trial ---------------------------------------------------------------------------
    def trial(self, number: int, scribbler: Scribbler) -> TrialResult:
        """One trial. The ingest dies with the daemon in even trials, and alone
        (the daemon running on) in every fifth (4, 9, 14...); in every third
        (1, 4, 7...) the restarted daemon is killed again while it starts."""
        rng = self.rng
        delay = rng.uniform(0.5, self.max_delay_s)
        result = TrialResult(number, delay, killed_ingest=False, killed_while_starting=False)
        scribbler.resume()
        self.start_ingest(number)
        if number % 5 == 4:
            time.sleep(rng.uniform(1.5, 4.0))  # the ingest is reading its images by then
            self._kill_ingest_alone(result)
        time.sleep(delay)
        before = self._snapshot_and_kill(result, ingest_too=number % 2 == 0)
        before = self._check_store(result, before, "after the kill")
        result.queued_at_kill = self.pending()[0]
        self.start_daemon()
        if number % 3 == 1:
            # Killed again while it starts: adopting orphans, resuming the queue.
            time.sleep(rng.uniform(0.2, 3.0))
            result.killed_while_starting = True
            again = self._snapshot_and_kill(result, ingest_too=False)
            self._check_store(result, again, "after a kill while starting")
            self.start_daemon()
        if not self.wait_capturing():
            result.failures.append(
                Failure("daemon restarted", f"no capturing state within {START_TIMEOUT_S:g} s")
            )
            self._kill(self.daemon)
            self.start_daemon()
            self.wait_capturing()
        scribbler.pause()
        if self.ingest is not None:
            try:
                self.ingest.wait(timeout=INGEST_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._kill(self.ingest)
        started = time.monotonic()
        left = (-1, -1)
        while time.monotonic() - started < DRAIN_TIMEOUT_S:
            left = self.pending()
            if left == (0, 0):
                break
            time.sleep(0.5)
        result.drain_s = time.monotonic() - started
        if left != (0, 0):
            result.failures.append(
                Failure(
                    "queue drained",
                    f"{left[0]} jobs and {left[1]} frames still waiting after "
                    f"{DRAIN_TIMEOUT_S:g} s",
                )
            )
        after = self._check_store(result, before, "after the restart")
        result.memories = len(after.memories)
        result.frames = len(after.frames)
        if scribbler.error is not None:
            raise RuntimeError("the text window stopped answering") from scribbler.error
        return result


@dataclass
class Report:
    results: list[TrialResult]
    seconds: float

    @property
    def survived(self) -> int:
        return sum(r.survived for r in self.results)

    def failures_by_check(self) -> dict[str, int]:
        counts = {check: 0 for check in CHECKS}
        for result in self.results:
            for check in {f.check for f in result.failures}:
                counts[check] = counts.get(check, 0) + 1
        return counts

    def text(self) -> str:
        results = self.results
        lines = [
            f"trials survived: {self.survived} / {len(results)} ({self.seconds:.0f} s)",
            f"  ingest killed alone in {sum(r.killed_ingest_alone for r in results)} "
            f"(max {max((r.orphans for r in results), default=0)} jobs left, done in at most "
            f"{max((r.orphans_done_s for r in results), default=0):.1f} s)",
            f"  ingest killed too in {sum(r.killed_ingest for r in results)}, killed again "
            f"while starting in {sum(r.killed_while_starting for r in results)}, jobs left "
            f"queued by the kill in {sum(r.queued_at_kill > 0 for r in results)} "
            f"(max {max((r.queued_at_kill for r in results), default=0)}); drain after restart "
            f"max {max((r.drain_s for r in results), default=0):.1f} s",
        ]
        for check, count in self.failures_by_check().items():
            lines.append(f"  {check:<32} {count} trial(s) failed")
        for result in self.results:
            for failure in result.failures[:5]:
                lines.append(f"  trial {result.number}: {failure.check}: {failure.detail}")
        return "\n".join(lines)


def run_trials(
    display: XDisplay,
    trials: int,
    *,
    seed: int,
    workdir: Path | None = None,
    embedder: StaticEmbedder | None = None,
    say: Callable[[str], None] = print,
    max_delay_s: float = 7.0,
    ingest_images: int = 5,
) -> Report:
    """Runs `trials` kill trials on `display`; the data dir lives under `workdir`."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="mirix-kill-"))
    started = time.monotonic()
    harness = KillHarness(
        display,
        workdir,
        seed=seed,
        embedder=embedder,
        max_delay_s=max_delay_s,
        ingest_images=ingest_images,
    )
    results = []
    try:
        scribbler = Scribbler(random.Random(seed + 1))
        with TextWindow(
            display, scribbler.current, "mousepad", scribbler.text(), font_size=Scribbler.FONT_SIZE
        ) as window:
            scribbler.start(window)
            try:
                harness.start_daemon()
                if not harness.wait_capturing():
                    raise RuntimeError(f"the daemon did not start; see {workdir}/processes.log")
                for number in range(trials):
                    result = harness.trial(number, scribbler)
                    results.append(result)
                    alone = (
                        f"the ingest killed alone ({result.orphans} jobs left, done in "
                        f"{result.orphans_done_s:.1f} s), then "
                        if result.killed_ingest_alone
                        else ""
                    )
                    say(
                        f"trial {number}: {alone}killed after {result.delay_s:.1f} s"
                        f"{' with the ingest' if result.killed_ingest and not alone else ''}"
                        f"{', again while starting' if result.killed_while_starting else ''}; "
                        f"{result.queued_at_kill} jobs queued at the kill, "
                        f"drained in {result.drain_s:.1f} s; {result.memories} memories, "
                        f"{result.frames} frames; "
                        + ("ok" if result.survived else f"{len(result.failures)} failures")
                    )
            finally:
                scribbler.stop()
    finally:
        harness.close()
    return Report(results, time.monotonic() - started)
