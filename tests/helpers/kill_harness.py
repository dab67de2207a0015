"""Crash trials: the real daemon SIGKILLed at random points during capture and ingest.

One trial, on a private X display with a text window whose text keeps
changing (a scrolling log, switching between two documents) while an
`ingest` of rendered screenshots runs beside the daemon:

1. after a random delay (seeded), or, in every fourth trial, once the daemon
   has stopped itself inside a memory write before its COMMIT
   (`kill_launcher.py`), the harness notes where each process is (its
   threads' stacks, dumped on SIGUSR1: `landing()`), freezes it (SIGSTOP),
   reads the memories and frames committed through a second connection, and
   SIGKILLs it: the daemon, and the ingest too in about half the trials;
2. the store the crash left is opened (WAL recovery) and checked:
   `integrity_check`, everything committed before the kill still there (a
   memory may have grown since, never lost text), nothing duplicated, no
   job given up;
3. the daemon is restarted (in some trials killed again while it starts);
   the screen goes still, and the queue, including the jobs of a killed
   ingest, must drain to 0; then the checks run again on what the redone
   jobs wrote, every frame of the trial's ingest must hold its image's text
   (all images when the ingest finished), and no log may hold a warning,
   an error or a traceback.

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
from tests.helpers.kill_launcher import STOPPED
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
# Armed to stop in its next memory write, the daemon (its screen changing) writes within.
WRITE_STOP_TIMEOUT_S = 20.0
# Lines of the logs that no kill may cause (a restart after SIGKILL is routine).
LOG_PROBLEMS = ("Traceback", " WARNING", " ERROR", " CRITICAL", "internal error")

CHECKS = (
    "daemon restarted",
    "integrity_check ok",
    "committed memories kept",
    "committed frames kept",
    "queue drained",
    "no job given up",
    "ingested images stored",
    "no error logged",
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
    # Where each SIGKILL of the daemon landed (`landing()`), then the ingest's.
    landed: list[str] = field(default_factory=list)
    ingest_landed: str | None = None

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


def ingest_title(trial: int) -> str:
    return f"Scanned report {trial}"


def marker_key(trial: int, index: int) -> str:
    return line_key(f"zq{trial:03d}x{index:02d}")


# -- where a kill lands ----------------------------------------------------------------------
# What a thread is doing, by the frames on its stack ((module file stem, function)),
# the first that matches; the order is also the priority among a process's threads.
ACTIVITIES: tuple[tuple[str, frozenset[tuple[str, str]]], ...] = (
    ("embedding a memory", frozenset({("store", "prepare"), ("embedder", "embed")})),
    ("writing lines and memories", frozenset({("processor", "_write")})),
    ("writing a frame and its job", frozenset({("submit", "_write")})),
    ("OCR", frozenset({("processor", "_recognize")})),
    ("building memories", frozenset({("processor", "_commit")})),
    ("redacting, merging lines", frozenset({("processor", "_frame")})),
    ("taking a job from the queue", frozenset({("processor", "process_next")})),
    ("adopting an ingest's jobs", frozenset({("daemon", "_adopt_orphans")})),
    ("comparing a screenshot", frozenset({("submit", "_submit")})),
    ("reading an image", frozenset({("ingest", "load_image"), ("ingest", "ingest_image")})),
    ("looking at the screen", frozenset({("daemon", "tick")})),
    ("opening the store", frozenset({("store", "open")})),
    # The process is loading its modules, or its daemon starting its threads.
    ("starting", frozenset({("daemon", "start"), ("<frozen importlib._bootstrap>", "")})),
)
IDLE = "idle (waiting)"
IN_WRITE = "inside a memory write, before COMMIT"


def _threads(stacks: str) -> list[list[tuple[str, str]]]:
    """The frames of each thread in a `faulthandler` dump, most recent first:
    (file, function)."""
    threads: list[list[tuple[str, str]]] = []
    for line in stacks.splitlines():
        text = line.strip()
        if text.startswith(("Thread 0x", "Current thread 0x")):
            threads.append([])
        elif text.startswith("File ") and threads:
            path, _, func = text.partition(" in ")
            threads[-1].append((path.split('"')[1] if '"' in path else path, func))
    return threads


def _activity(frames: list[tuple[str, str]]) -> str | None:
    """What one thread does (None: it waits, or runs no code of the app)."""
    present = {(Path(path).stem if "/" in path else path, func) for path, func in frames}
    files = {stem for stem, _func in present}
    for label, marks in ACTIVITIES:
        if any((stem, func) in present if func else stem in files for stem, func in marks):
            return label
    if not frames or Path(frames[0][0]).name in ("threading.py", "selectors.py", "queue.py"):
        return None
    own = next((f for f in frames if "/mirix_desktop/" in f[0]), None)
    return None if own is None else f"other ({Path(own[0]).stem}.{own[1]})"


def landing(stacks: str) -> str:
    """Where a process was, from its threads' stacks: the busiest thread's activity."""
    threads = _threads(stacks)
    if not threads:
        return "unknown (no stacks)"
    found = {a for frames in threads if (a := _activity(frames)) is not None}
    for label, _marks in ACTIVITIES:
        if label in found:
            return label
    return min(found, default=IDLE)


def _state(pid: int) -> str:
    """The process state letter from /proc ("T": stopped), or "" when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[0]


def _wait_state(pid: int, wanted: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(pid)
        if state == wanted:
            return True
        if state in ("", "Z"):
            return False
        time.sleep(0.005)
    return False


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


def given_up(store: MemoryStore) -> list[Failure]:
    """Jobs the queue gave up on: a kill must leave every job doable."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT id, kind, attempts, last_error FROM capture_jobs WHERE failed = 1"
        ).fetchall()
    return [
        Failure("no job given up", f"{kind} job {job_id} after {attempts} attempts: {error}")
        for job_id, kind, attempts, error in rows
    ]


def ingest_stored(store: MemoryStore, trial: int, images: int, *, finished: bool) -> list[Failure]:
    """Every frame the trial's ingest stored was read (its image's marker is among
    its lines), and when the ingest finished, every image is there."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT f.id, f.ocr_state, group_concat(l.text, char(10)) FROM frames f "
            "LEFT JOIN ocr_lines l ON l.frame_id = f.id WHERE f.window_title = ? GROUP BY f.id",
            (ingest_title(trial),),
        ).fetchall()
    failures = []
    seen: set[int] = set()
    for frame_id, state, text in rows:
        keys_ = line_key(text or "")
        found = {i for i in range(images) if marker_key(trial, i) in keys_}
        if len(found) != 1:
            failures.append(
                Failure(
                    "ingested images stored",
                    f"ingest {trial}: frame {frame_id} ({state}) holds markers {sorted(found)}",
                )
            )
        seen |= found
    if finished and seen != set(range(images)):
        missing = sorted(set(range(images)) - seen)
        failures.append(
            Failure(
                "ingested images stored",
                f"ingest {trial} finished, but images {missing} of {images} are not stored",
            )
        )
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
        self._stacks = workdir / "stacks"
        self._stacks.mkdir(exist_ok=True)
        # Created to make the daemon stop itself in its next memory write (kill_launcher).
        self._armed = workdir / "stop-in-next-write"
        self._started = itertools.count()
        self._stack_files: dict[int, Path] = {}  # pid -> where its stacks go
        # Where each log was read up to: "no error logged" reads what came since.
        self._logs = {workdir / "processes.log": 0, self.data_dir / "logs" / "daemon.log": 0}

    def _launch(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """`python -m mirix_desktop ARGS` through `kill_launcher` (stacks on SIGUSR1)."""
        stacks = self._stacks / f"{next(self._started):03d}-{name}.txt"
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.kill_launcher", str(stacks), *args],
            env=env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._stack_files[process.pid] = stacks
        return process

    def where(self, process: subprocess.Popen[bytes]) -> str:
        """What the process is doing now, from its threads' stacks (`landing()`)."""
        path = self._stack_files[process.pid]
        if _state(process.pid) == "T":
            # It stopped itself there, its stacks written after a line: `kill_launcher`.
            stacks = path.read_bytes().rpartition(STOPPED)[2].decode("utf-8", "replace")
            return f"{IN_WRITE} ({landing(stacks)})"
        if not path.exists():
            # Python is still starting: the launcher has not set up its dump.
            return "starting"
        size = path.stat().st_size
        process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 2.0
        last = size
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = path.stat().st_size
            if now > size and now == last:
                break  # written, and no more coming
            last = now
        with path.open("rb") as file:
            file.seek(size)
            return landing(file.read().decode("utf-8", "replace"))

    # -- processes ----------------------------------------------------------------------
    def start_daemon(self) -> subprocess.Popen[bytes]:
        self._log.write(b"\n--- daemon start ---\n")
        self._log.flush()
        self._armed.unlink(missing_ok=True)
        env = dict(self.env, KILL_HARNESS_STOP_FILE=str(self._armed))
        self.daemon = self._launch("daemon", ["-v", "run", "--no-ui"], env)
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
        self.ingest = self._launch(
            "ingest",
            ["ingest", *map(str, images), "--app", "scanner", "--title", ingest_title(trial)],
            self.env,
        )

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

    def _wait_ingest_queued(self, timeout: float) -> None:
        """Until the ingest has a job in the queue, or `timeout`."""
        assert self.ingest is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.ingest.poll() is None:
            if self._jobs_of(self.ingest.pid):
                return
            time.sleep(0.1)

    def _kill_ingest_alone(self, result: TrialResult) -> None:
        """The ingest dies while the daemon runs on: its queued jobs must still be done."""
        assert self.ingest is not None
        owner = self.ingest.pid
        before = self._freeze_and_kill(result, [self.ingest])
        if before is None:
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
            found = compare(before, now) + duplicates(store, self.ingested) + given_up(store)
        if integrity != "ok":
            found.insert(0, Failure("integrity_check ok", integrity[:300]))
        self._report(result, found, when)
        return now

    def _report(self, result: TrialResult, found: list[Failure], when: str) -> None:
        for failure in found:
            known = (failure.check, failure.detail)
            if known in self._reported and failure.check != "integrity_check ok":
                continue
            self._reported.add(known)
            result.failures.append(Failure(failure.check, f"{when}: {failure.detail}"))

    def _check_logs(self, result: TrialResult) -> None:
        """No traceback, warning or error in the daemon's log or any process's output."""
        found = []
        for path, offset in self._logs.items():
            try:
                with path.open("rb") as file:
                    if file.seek(0, os.SEEK_END) < offset:
                        offset = 0  # rotated
                    file.seek(offset)
                    text = file.read().decode("utf-8", "replace")
                    self._logs[path] = file.tell()
            except FileNotFoundError:
                continue
            found += [
                Failure("no error logged", f"{path.name}: {line.strip()[:200]}")
                for line in text.splitlines()
                if any(mark in line for mark in LOG_PROBLEMS)
            ]
        self._report(result, found, "during the trial")

    def _freeze_and_kill(
        self, result: TrialResult, victims: list[subprocess.Popen[bytes] | None]
    ) -> Snapshot | None:
        """Notes where each live victim is, stops them all (SIGSTOP), reads what is
        committed, then SIGKILLs them: the snapshot is exactly what the kill left
        committed. None when no victim was alive."""
        alive = [p for p in victims if p is not None and p.poll() is None]
        if not alive:
            return None
        for process in alive:
            where = self.where(process)
            if process is self.daemon:
                result.landed.append(where)
            else:
                result.ingest_landed = where
        for process in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGSTOP)
        for process in alive:
            _wait_state(process.pid, "T", 5.0)
        with self.open_store() as store:
            before = snapshot(store)
        for process in alive:
            self._kill(process)
        return before

    def _snapshot_and_kill(self, result: TrialResult, *, ingest_too: bool) -> Snapshot:
        ingest = self.ingest if ingest_too else None
        ingest_alive = ingest is not None and ingest.poll() is None
        before = self._freeze_and_kill(result, [self.daemon, ingest])
        result.killed_ingest = result.killed_ingest or ingest_alive
        if before is None:
            raise RuntimeError("the daemon had died before its kill; see processes.log")
        return before

    def _stop_in_a_write(self, timeout: float = WRITE_STOP_TIMEOUT_S) -> bool:
        """Arms the daemon's stop in its next memory write (`kill_launcher`); True
        once it is stopped there, False (disarmed) if no write came in time."""
        assert self.daemon is not None
        self._armed.touch()
        if _wait_state(self.daemon.pid, "T", timeout):
            return True
        self._armed.unlink(missing_ok=True)
        # It may have taken the file and stopped just now.
        return _wait_state(self.daemon.pid, "T", 0.5)

    # -- one trial ---------------------------------------------------------------------------
    def trial(self, number: int, scribbler: Scribbler) -> TrialResult:
        """One trial. The ingest dies with the daemon in even trials, and alone
        (the daemon running on) in every fifth (4, 9, 14...); in every fourth
        (2, 6, 10...) the daemon is killed inside a memory write, before it
        commits (`kill_launcher`), elsewhere after a random delay; in every
        third (1, 4, 7...) the restarted daemon is killed again while it starts."""
        rng = self.rng
        delay = rng.uniform(0.5, self.max_delay_s)
        result = TrialResult(number, delay, killed_ingest=False, killed_while_starting=False)
        scribbler.resume()
        self.start_ingest(number)
        if number % 5 == 4:
            # Once it has queued an image (so there is work to take over), or a while.
            self._wait_ingest_queued(rng.uniform(4.0, 8.0))
            self._kill_ingest_alone(result)
        if number % 4 == 2:
            time.sleep(delay / 2)
            self._stop_in_a_write()
        else:
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
        ingest = self.ingest
        finished = False
        if ingest is not None:
            try:
                finished = ingest.wait(timeout=INGEST_TIMEOUT_S) == 0
            except subprocess.TimeoutExpired:
                self._kill(ingest)
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
        with self.open_store() as store:
            stored = ingest_stored(store, number, self.ingest_images, finished=finished)
        self._report(result, stored, "after the restart")
        self._check_logs(result)
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

    def kills(self) -> int:
        """SIGKILLs of the daemon (one or two a trial)."""
        return sum(len(r.landed) for r in self.results)

    def landings(self) -> Counter[str]:
        """Where the daemon's kills landed: activity -> kills."""
        return Counter(where for r in self.results for where in r.landed)

    def ingest_landings(self) -> Counter[str]:
        return Counter(r.ingest_landed for r in self.results if r.ingest_landed)

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
        lines.append(f"  daemon kills landed ({self.kills()} kills):")
        for where, count in self.landings().most_common():
            lines.append(f"    {count:>3}  {where}")
        lines.append(f"  ingest kills landed ({sum(self.ingest_landings().values())} kills):")
        for where, count in self.ingest_landings().most_common():
            lines.append(f"    {count:>3}  {where}")
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
                    landed = " / ".join(result.landed)
                    if result.ingest_landed:
                        landed += f"; ingest: {result.ingest_landed}"
                    say(
                        f"trial {number}: {alone}killed after {result.delay_s:.1f} s [{landed}]"
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
