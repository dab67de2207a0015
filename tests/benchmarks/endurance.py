"""Endurance: hours of capture replayed faster than life, the daemon's process measured.

    python -m tests.benchmarks.endurance [--hours 8] [--speed 10] [--out DIR]
        [--search-size 100000] [--no-search] [--trace]

The real `Daemon` (capture loop, OCR worker, events, status file, log file,
the encrypted store; no consolidation, as without a configured model) runs
in a child process. Its desktop is the replay benchmark's session
(`replay_frames`: editor, terminal and browser at 1920x1080) looped, each
loop with its own seed so files, pages and commands differ and the store
grows as in a working day. The frames are rendered in this process and sent
over a pipe (`tests/helpers/replay_desktop.py`), so the child's memory is
the daemon's own. Time runs `--speed` times faster: the daemon looks at the
screen every 2/speed s of wall time while its clock advances 2 s per look,
so 8 hours take 48 minutes at 10x (14,400 looks).

Every second the child's RSS, open file descriptors, threads, CPU time and
the queue depth from `status.json` are sampled (`samples.csv` in the output
dir). The first 10% of the run is warm-up; after it, and then every 5
minutes, a line is printed. RSS growth compares the median of the minute
after warm-up with the median of the capture's last minute. At the end the
screen stays still, the queue must drain, and the daemon stops on SIGTERM.

Then search: the store the run grew is topped up to `--search-size`
memories with `search_latency`'s corpus and measured as that benchmark does
(200 queries per mode after 200 warm-up queries, k=10).

`--trace` runs the child under tracemalloc and writes the top allocation
growth between the end of warm-up and the end of capture to
`tracemalloc.txt`: how a leak is found.
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import json
import logging
import logging.handlers
import multiprocessing
import os
import shutil
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil

from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.memory.embedder import make_embedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.control import StatusFile
from mirix_desktop.pipeline.daemon import WRITER_CACHE_MB, Daemon
from mirix_desktop.pipeline.events import DaemonEvent, JsonLinesSink
from tests.benchmarks.common import MODELS_DIR, PASSPHRASE, temp_dir
from tests.helpers.replay_desktop import FRAME_SECONDS, FrameSender, ReplayFeed, SimClock

RESULT_FILE = "endurance-result.json"
TRACE_FILE = "tracemalloc.txt"
# The daemon's process reports its heaps every this many frames.
HEAP_EVERY = 10


# -- the daemon's process ------------------------------------------------------------------
def sqlite_memory_used() -> Callable[[], int]:
    """SQLite's own heap in this process (page cache included): `sqlite3_memory_used()`
    of the SQLCipher library the store uses, which Python's sqlite API does not expose."""
    from sqlcipher3 import _sqlite3

    used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    used.restype, used.argtypes = ctypes.c_int64, []
    return lambda: int(used())


class _CountingSink:
    """The supervised daemon's event stream (to /dev/null here), and the deepest queue seen."""

    def __init__(self) -> None:
        self._null = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the run
        self._lines = JsonLinesSink(self._null)
        self.events = 0
        self.max_queue = 0

    def emit(self, event: DaemonEvent) -> None:
        self._lines.emit(event)
        self.events += 1
        self.max_queue = max(self.max_queue, event.status.queue_depth)

    def close(self) -> None:
        self._null.close()


class _TracedFeed(ReplayFeed):
    """The feed that also takes tracemalloc snapshots: at the end of warm-up and of capture."""

    def __init__(self, conn: Connection, clock: SimClock, warmup_sim_s: float) -> None:
        super().__init__(conn)
        self.clock = clock
        self.warmup_sim_s = warmup_sim_s
        self.snapshots: list[tracemalloc.Snapshot] = []

    def windows(self) -> list[WindowInfo]:
        if not self.snapshots and self.clock.elapsed_s() >= self.warmup_sim_s:
            self.snapshots.append(tracemalloc.take_snapshot())
        windows = super().windows()
        if self.ended and len(self.snapshots) == 1:
            self.snapshots.append(tracemalloc.take_snapshot())
        return windows


def _log_to_file(data_dir: Path) -> None:
    """As `run --no-ui` does: INFO and up to DATA_DIR/logs/daemon.log, rotated."""
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / "daemon.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    logging.getLogger("mirix").setLevel(logging.INFO)


def daemon_process(
    data_dir: str,
    passphrase: str,
    speed: float,
    conn: Connection,
    heaps: Connection,
    trace_after_s: float | None,
) -> None:
    """The child: the daemon on the replayed desktop until SIGTERM, then its counts."""
    if trace_after_s is not None:
        tracemalloc.start(12)
    paths = resolve_paths(Path(data_dir))
    paths.ensure()
    settings = Settings()
    # Faster than the shipped minimum (0.25 s) on purpose: `model_copy` skips validation.
    settings.capture = settings.capture.model_copy(update={"interval_s": FRAME_SECONDS / speed})
    embedding = settings.embedding
    store = MemoryStore.open(
        paths.store_file,
        KeySource(passphrase=passphrase),
        make_embedder(embedding.model, MODELS_DIR, embedding.batch_size),
        settings.store,
    )
    _log_to_file(paths.data_dir)
    store.embedder.embed(["warm up"])
    sink = _CountingSink()
    clock = SimClock(speed, time.monotonic)
    feed = (
        ReplayFeed(conn)
        if trace_after_s is None
        else _TracedFeed(conn, clock, trace_after_s * speed)
    )
    # What `build_daemon` gives `run --no-ui` without a configured model, with
    # the replayed desktop and the fast clock in place of X11, mss and the wall.
    daemon = Daemon(
        paths,
        settings,
        store,
        probe_factory=lambda: feed,
        grabber_factory=lambda: feed,  # type: ignore[arg-type, return-value]
        clock=clock,
        events=sink,
    )
    ended_at: list[float] = []
    feed.on_end = lambda: ended_at.append(clock.elapsed_s())
    sqlite_used = sqlite_memory_used()

    def report_heaps(frames_taken: int) -> None:
        # SQLite's heap and Python's live blocks: where RSS growth would come from.
        if frames_taken % HEAP_EVERY == 0:
            heaps.send((sqlite_used(), sys.getallocatedblocks()))

    feed.on_frame = report_heaps
    daemon.run_forever()
    sink.close()
    with store.read() as db:
        frame_rows = int(db.execute("SELECT count(*) FROM frames").fetchone()[0])
        memories = dict(db.execute("SELECT type, count(*) FROM memories GROUP BY type").fetchall())
    status = daemon.status_snapshot()
    store.close()
    result = {
        "frames_fed": feed.frames,
        "starved_ticks": feed.starved,
        "sim_s": ended_at[0] if ended_at else clock.elapsed_s(),
        "frame_rows": frame_rows,
        "memories": memories,
        "max_queue_events": sink.max_queue,
        "events": sink.events,
        "failed_jobs": status.failed_jobs,
        "frames_total": status.frames_total,
        "last_error": status.last_error,
        "heap_trims": daemon._heap.trims,
    }
    (paths.data_dir / RESULT_FILE).write_text(json.dumps(result), encoding="utf-8")
    if isinstance(feed, _TracedFeed) and len(feed.snapshots) == 2:
        stats = feed.snapshots[1].compare_to(feed.snapshots[0], "traceback")
        lines = []
        for stat in stats[:25]:
            lines.append(f"{stat.size_diff / 1e6:+.3f} MB in {stat.count_diff:+d} blocks")
            lines.extend(f"    {line}" for line in stat.traceback.format(limit=8))
        (paths.data_dir / TRACE_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- measuring it ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    wall_s: float  # since capture started
    rss: int
    fds: int
    threads: int
    cpu_s: float
    queue: int | None
    frames_total: int | None
    sqlite: int | None  # bytes of SQLite's heap, as last reported
    py_blocks: int | None  # Python's allocated blocks, as last reported

    @property
    def rss_mb(self) -> float:
        return self.rss / 1e6


@dataclass
class EnduranceResult:
    hours: float
    speed: float
    capture_s: float  # wall seconds of capture
    warmup_s: float
    window_s: float  # the RSS medians' window
    samples: list[Sample]
    after_drain: list[Sample]
    drained: bool
    drain_s: float
    exit_code: int | None
    frames_sent: int
    frames_changed: int
    render_cpu_s: float
    child: dict[str, Any] = field(default_factory=dict)
    log_problems: list[str] = field(default_factory=list)

    def measured(self) -> list[Sample]:
        """Samples after warm-up, up to the end of capture."""
        return [s for s in self.samples if s.wall_s >= self.warmup_s]

    def _median(self, what: str, start: float, end: float) -> float:
        window = [getattr(s, what) for s in self.samples if start <= s.wall_s <= end]
        window = [v for v in window if v is not None]
        return statistics.median(window) if window else float("nan")

    def after_warmup(self, what: str = "rss") -> float:
        """The median of `what` over the window after warm-up."""
        return self._median(what, self.warmup_s, self.warmup_s + self.window_s)

    def at_end(self, what: str = "rss") -> float:
        """The median of `what` over the last window of capture."""
        return self._median(what, self.capture_s - self.window_s, self.capture_s)

    @property
    def rss_after_warmup(self) -> float:
        return self.after_warmup()

    @property
    def rss_end(self) -> float:
        return self.at_end()

    @property
    def rss_growth(self) -> float:
        return self.rss_end / self.rss_after_warmup - 1

    def fds_at(self, start: float, end: float) -> int:
        """The fewest open fds in a window: a file open for a moment (status.json) is no leak."""
        return min(s.fds for s in self.samples if start <= s.wall_s <= end)

    def threads_at(self, start: float, end: float) -> int:
        return min(s.threads for s in self.samples if start <= s.wall_s <= end)

    @property
    def max_queue(self) -> int:
        sampled = [s.queue for s in self.samples + self.after_drain if s.queue is not None]
        return max([*sampled, int(self.child.get("max_queue_events", 0))])

    @property
    def cpu_share(self) -> float:
        """The daemon's CPU over the measured part, as a share of one core."""
        part = self.measured()
        return (part[-1].cpu_s - part[0].cpu_s) / max(1e-9, part[-1].wall_s - part[0].wall_s)


def _sample(
    process: psutil.Process, status: StatusFile, since: float, heaps: tuple[int, int] | None
) -> Sample:
    with process.oneshot():
        times = process.cpu_times()
        sample = Sample(
            wall_s=time.monotonic() - since,
            rss=process.memory_info().rss,
            fds=process.num_fds(),
            threads=process.num_threads(),
            cpu_s=times.user + times.system,
            queue=None,
            frames_total=None,
            sqlite=None if heaps is None else heaps[0],
            py_blocks=None if heaps is None else heaps[1],
        )
    current = status.read()
    if current is None:
        return sample
    return Sample(**{**asdict(sample), "queue": current.queue_depth,
                     "frames_total": current.frames_total})  # fmt: skip


def _clock_text(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _line(label: str, sample: Sample, speed: float) -> str:
    return (
        f"  {label:<16} wall {_clock_text(sample.wall_s)} = {_clock_text(sample.wall_s * speed)}"
        f" simulated | RSS {sample.rss_mb:7.1f} MB | fds {sample.fds:3d} | threads "
        f"{sample.threads:2d} | queue {sample.queue if sample.queue is not None else '?':>3} | "
        f"frames {sample.frames_total or 0:,}"
    )


def _wait_capturing(status: StatusFile, child: multiprocessing.process.BaseProcess) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if not child.is_alive():
            raise RuntimeError(f"the daemon's process died at start (exit {child.exitcode})")
        current = status.read()
        if current is not None and current.state == "capturing":
            return
        time.sleep(0.1)
    raise RuntimeError("the daemon did not start capturing within 300 s")


def _log_problems(data_dir: Path) -> list[str]:
    problems = []
    for path in sorted((data_dir / "logs").glob("daemon.log*")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if " WARNING: " in line or " ERROR: " in line:
                problems.append(line)
    return problems


def run(
    hours: float,
    speed: float,
    data_dir: Path,
    *,
    warmup: float = 0.1,
    sample_s: float = 1.0,
    report_every_s: float = 300.0,
    window_s: float = 60.0,
    trace: bool = False,
    say: Callable[[str], None] = print,
) -> EnduranceResult:
    """Runs the daemon for `hours` of simulated capture and measures its process."""
    capture_s = hours * 3600 / speed
    warmup_s = warmup * capture_s
    window_s = min(window_s, (capture_s - warmup_s) / 4)
    data_dir.mkdir(parents=True, exist_ok=True)
    status = StatusFile(data_dir / "status.json")
    context = multiprocessing.get_context("spawn")
    receiver, sender_end = context.Pipe(duplex=False)
    heaps_in, heaps_out = context.Pipe(duplex=False)
    child = context.Process(
        target=daemon_process,
        args=(str(data_dir), PASSPHRASE.passphrase, speed, receiver, heaps_out,
              warmup_s if trace else None),
        name="mirix-endurance-daemon",
    )  # fmt: skip
    child.start()
    receiver.close()
    heaps_out.close()
    heaps: tuple[int, int] | None = None

    def take_sample() -> Sample:
        nonlocal heaps
        while heaps_in.poll():
            try:
                heaps = heaps_in.recv()
            except EOFError:
                break
        return _sample(process, status, since, heaps)

    sender = FrameSender(sender_end)
    sender.start()
    samples: list[Sample] = []
    after_drain: list[Sample] = []
    drained, drain_s = False, 0.0
    try:
        _wait_capturing(status, child)
        assert child.pid is not None
        process = psutil.Process(child.pid)
        since = time.monotonic()
        next_report = warmup_s
        while (now := time.monotonic() - since) < capture_s:
            if not child.is_alive():
                raise RuntimeError(f"the daemon's process died (exit {child.exitcode})")
            sample = take_sample()
            samples.append(sample)
            if now >= next_report:
                label = "after warm-up" if next_report == warmup_s else f"{now / 60:.0f} min"
                say(_line(label, sample, speed))
                next_report += report_every_s
            time.sleep(max(0.0, sample_s - (time.monotonic() - since - now)))
        say(_line("end of capture", samples[-1], speed))
        # A still screen from here: what is queued must drain.
        sender.finish()
        drain_started = time.monotonic()
        deadline = drain_started + max(60.0, 0.25 * capture_s)
        while time.monotonic() < deadline:
            current = status.read()
            if current is not None and current.queue_depth == 0:
                drained = True
                break
            time.sleep(0.2)
        drain_s = time.monotonic() - drain_started
        for _ in range(5):
            after_drain.append(take_sample())
            time.sleep(sample_s)
        say(_line("queue drained" if drained else "NOT drained", after_drain[-1], speed))
    finally:
        sender.finish()
        if child.is_alive():
            child.terminate()  # SIGTERM: the daemon stops cleanly
        child.join(180)
        if child.is_alive():
            child.kill()
            child.join()
        sender_end.close()
        heaps_in.close()
    result_file = data_dir / RESULT_FILE
    child_result = (
        json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    )
    return EnduranceResult(
        hours=hours,
        speed=speed,
        capture_s=capture_s,
        warmup_s=warmup_s,
        window_s=window_s,
        samples=samples,
        after_drain=after_drain,
        drained=drained,
        drain_s=drain_s,
        exit_code=child.exitcode,
        frames_sent=sender.sent,
        frames_changed=sender.changed,
        render_cpu_s=sender.render_s,
        child=child_result,
        log_problems=_log_problems(data_dir),
    )


def write_samples(result: EnduranceResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["wall_s", "sim_s", "rss", "fds", "threads", "cpu_s", "queue", "frames",
                         "sqlite_heap", "py_blocks"])  # fmt: skip
        for s in result.samples + result.after_drain:
            writer.writerow([f"{s.wall_s:.2f}", f"{s.wall_s * result.speed:.0f}", s.rss, s.fds,
                             s.threads, f"{s.cpu_s:.2f}", s.queue, s.frames_total, s.sqlite,
                             s.py_blocks])  # fmt: skip


def report(result: EnduranceResult, say: Callable[[str], None] = print) -> None:
    r, child = result, result.child
    end = r.capture_s
    fds = sorted({s.fds for s in r.measured()})
    threads = sorted({s.threads for s in r.measured()})
    say(
        f"RSS: {r.rss_after_warmup / 1e6:.1f} MB after warm-up, {r.rss_end / 1e6:.1f} MB at the "
        f"end (medians of {r.window_s:.0f} s): growth {r.rss_growth * 100:+.1f}% (target <= 10%); "
        f"max {max(s.rss for s in r.samples) / 1e6:.1f} MB"
    )
    sqlite = (r.after_warmup("sqlite") / 1e6, r.at_end("sqlite") / 1e6)
    blocks = (r.after_warmup("py_blocks"), r.at_end("py_blocks"))
    say(
        f"  of which SQLite's heap {sqlite[0]:.1f} -> {sqlite[1]:.1f} MB (the daemon's page "
        f"cache: at most {WRITER_CACHE_MB} MiB); Python's allocated blocks {blocks[0]:,.0f} -> "
        f"{blocks[1]:,.0f} ({(blocks[1] / blocks[0] - 1) * 100:+.1f}%); "
        f"{child.get('heap_trims', 0)} heap trims"
    )
    say(
        f"fds: {r.fds_at(r.warmup_s, r.warmup_s + r.window_s)} after warm-up, "
        f"{r.fds_at(end - r.window_s, end)} at the end (fewest in each window; seen "
        f"{fds[0]}-{fds[-1]}); after the drain {min(s.fds for s in r.after_drain)}"
    )
    say(
        f"threads: {r.threads_at(r.warmup_s, r.warmup_s + r.window_s)} after warm-up, "
        f"{r.threads_at(end - r.window_s, end)} at the end (seen {threads[0]}-{threads[-1]})"
    )
    settings = Settings().capture
    say(
        f"queue: max {r.max_queue} (keyframes only from {settings.keyframe_queue}, capture "
        f"waits at {settings.max_queue}); {'drained' if r.drained else 'NOT drained'} "
        f"{r.drain_s:.1f} s after capture stopped"
    )
    expected = int(r.hours * 3600 / FRAME_SECONDS)
    memories = child.get("memories", {})
    say(
        f"ticks: {child.get('frames_fed', 0):,} frames taken of {expected:,} expected "
        f"({r.frames_changed:,} of those sent changed; {child.get('starved_ticks', 0)} ticks "
        f"waited for the renderer); simulated {child.get('sim_s', 0) / 3600:.2f} h"
    )
    say(
        f"written: {child.get('frame_rows', 0):,} frames, {sum(memories.values()):,} memories "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(memories.items()))}); "
        f"failed jobs {child.get('failed_jobs')}; {child.get('events', 0):,} events"
    )
    say(
        f"daemon CPU {r.cpu_share * 100:.1f}% of one core after warm-up; renderer "
        f"{r.render_cpu_s:.0f} CPU-s in this process; exit code {r.exit_code}; "
        f"{len(r.log_problems)} warnings/errors in the daemon log"
    )
    for line in r.log_problems[:10]:
        say(f"    {line}")


def search_check(data_dir: Path, size: int, say: Callable[[str], None] = print) -> None:
    """The grown store topped up to `size` memories, measured as search_latency does."""
    import random

    from tests.benchmarks.common import describe_ms, embedder, open_store
    from tests.benchmarks.search_latency import grow, measure, memory_blocks, sample_queries

    store = open_store(data_dir / "mirix.db", embedder())
    before = store.count()
    added, seconds = grow(store, memory_blocks(), size)
    with store.read() as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rng = random.Random(11)
    warm_up = sample_queries(store, rng)
    for mode in ("hybrid", "keyword", "vector"):
        measure(store, warm_up, mode)
    queries = sample_queries(store, rng)
    say(
        f"search at {store.count():,} memories ({before:,} from the run, {added:,} added in "
        f"{seconds:.0f} s), target p95 <= 50 ms at 100k:"
    )
    for mode in ("hybrid", "keyword", "vector"):
        say(f"    {mode:<7} {describe_ms(measure(store, queries, mode))}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=8.0, help="Simulated hours of capture.")
    parser.add_argument("--speed", type=float, default=10.0, help="Times faster than life.")
    parser.add_argument("--out", type=Path, help="Keep the store, log and samples here.")
    parser.add_argument("--search-size", type=int, default=100_000)
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the daemon.")
    args = parser.parse_args()
    directory = args.out or temp_dir("mirix-endurance-")
    if (directory / "mirix.db").exists():
        parser.error(f"{directory} already holds a store; give an empty --out")
    wall = _clock_text(args.hours * 3600 / args.speed)
    print(
        f"endurance: {args.hours:g} h of capture at {args.speed:g}x (a look every "
        f"{FRAME_SECONDS / args.speed:.2f} s of wall time, {wall} wall); "
        f"{os.cpu_count()} cores; data in {directory}",
        flush=True,
    )

    def say(text: str) -> None:
        print(text, flush=True)

    result = run(args.hours, args.speed, directory, trace=args.trace, say=say)
    write_samples(result, directory / "samples.csv")
    report(result, say)
    if args.trace:
        say(f"tracemalloc: {directory / TRACE_FILE}")
    if not args.no_search:
        search_check(directory, args.search_size, say)
    if args.out is None:
        shutil.rmtree(directory, ignore_errors=True)
    else:
        say(f"kept in {directory}")
    if result.exit_code != 0:
        sys.exit(f"the daemon's process exited with {result.exit_code}")


if __name__ == "__main__":
    threading.current_thread().name = "endurance"
    main()
