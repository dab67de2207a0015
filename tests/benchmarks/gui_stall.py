"""How long the tray app's GUI thread stalls while capture works and an answer streams.

    .venv/bin/python -m tests.benchmarks.gui_stall [--count 320] [--pace 0.1]
        [--chunk-chars 3] [--chunk-delay 0.004] [--no-answers] [--diagnose] [--gc-freeze]

The app runs in this process, composed as `mirix-desktop run` composes it
(ui/app.py's DesktopApp: the tray in trayer, the single-instance socket, the
supervised capture daemon as a child process, the chat window) on a private
Xvfb display with openbox. A 10 ms QTimer (precise) on the GUI thread is the
probe: each tick's lateness (time since the previous tick minus 10 ms) is a
stall of the event loop.

While the probe runs:
- another process feeds the replay's frames (tests/benchmarks/replay_frames.py,
  rendered before the probe starts) through the capture pipeline into the same
  store, as capture_replay.py does, `--pace` seconds apart (0.1: about 80 s
  for the 320 frames on 2 cores; 0: as fast as it goes, about 20 s);
- the chat window asks, again and again, a remote model: the loopback OpenAI
  server (tests/helpers/fake_openai.py) in a third process streams a long
  Markdown answer with citations in small chunks; a new chat every 4 answers;
- the daemon the app started captures the display, chat window included.
The figures cover the whole feed. Targets: max <= 50 ms, p99 <= 20 ms.
`--no-answers` measures the feed and the daemon alone (nothing streams), the
baseline of what CPU contention alone costs the GUI thread; `--diagnose` also
times every event the GUI thread handles (Qt's notify, which slows it a little)
and every garbage collection (they stop every thread), and lists the slowest;
`--gc-freeze` calls gc.freeze() before measuring, to see what that would save.
"""

from __future__ import annotations

import argparse
import gc
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import MODELS_DIR, REPO, percentile

PASSPHRASE = "benchmark passphrase"
PROBE_MS = 10
ANSWERS_PER_CHAT = 4
QUESTION = "what was I reading about the sqlite3 module and its cursor objects?"


def answer_text() -> str:
    """A long Markdown answer (about 4000 characters) citing the memories offered."""
    paragraph = (
        "The **sqlite3** module wraps SQLite: `connect()` opens a database and returns a "
        "`Connection`, whose `cursor()` gives a `Cursor` [1]. Queries run with "
        "`execute()`, and rows come back as tuples unless a `row_factory` is set [2].\n\n"
        "- `executemany()` runs one statement over a sequence of parameters [1]\n"
        "- `fetchone()`, `fetchmany()` and `fetchall()` read the results [3]\n"
        "- transactions commit with `commit()`, and `rollback()` undoes them [2]\n\n"
    )
    return paragraph * 9


# -- helper processes -----------------------------------------------------------------------
def serve(chunk_chars: int, chunk_delay: float) -> None:
    """The loopback OpenAI server, in its own process: prints its URL, runs until killed."""
    from tests.helpers.fake_openai import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        server.reply(answer_text(), chunk_chars=chunk_chars, chunk_delay_s=chunk_delay)
        print(server.base_url, flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})


def feed(data_dir: Path, count: int, pace: float) -> None:
    """Renders the replay, says RENDERED, waits for a line on stdin, feeds, says DONE."""
    from mirix_desktop.capture.changes import pixels_from_image
    from mirix_desktop.capture.screen import MonitorShot
    from mirix_desktop.config import Settings
    from mirix_desktop.geometry import Rect
    from mirix_desktop.memory.embedder import StaticEmbedder
    from mirix_desktop.memory.keys import KeySource
    from mirix_desktop.memory.store import MemoryStore
    from mirix_desktop.pipeline.pipeline import Pipeline
    from tests.benchmarks.capture_replay import windows_of
    from tests.benchmarks.replay_frames import replay_frames

    frames = list(replay_frames(count))
    pixels = [pixels_from_image(f.image) for f in frames]
    model = StaticEmbedder(MODELS_DIR)
    model.embed(["warm up"])
    store = MemoryStore.open(data_dir / "mirix.db", KeySource(passphrase=PASSPHRASE), model)
    pipeline = Pipeline(store, Settings())
    print("RENDERED", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    for frame, frame_pixels in zip(frames, pixels, strict=True):
        shot = MonitorShot(1, Rect(0, 0, 1920, 1080), frame_pixels)
        pipeline.submit(shot, windows_of(frame), frame.at)
        for _processed in pipeline.drain():
            pass
        if pace:
            time.sleep(pace)
    pipeline.processor.flush(frames[-1].at)
    store.close()
    print(f"DONE {len(frames)} {time.perf_counter() - started:.1f}", flush=True)


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError("a helper process did not answer in time")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"a helper process exited with {process.wait()}")
    return line.strip()


# -- the measurement ------------------------------------------------------------------------
def measure(args: argparse.Namespace, data_dir: Path) -> None:
    from tests.helpers.tray_host import trayer_host
    from tests.helpers.xdisplay import xvfb_display

    with xvfb_display() as display, trayer_host(display):
        os.environ.update(display.env)
        os.environ["MIRIX_PASSPHRASE"] = PASSPHRASE
        os.environ["MIRIX_MODELS_DIR"] = str(MODELS_DIR)
        helper = [sys.executable, "-m", "tests.benchmarks.gui_stall"]
        server = subprocess.Popen(
            [*helper, "--serve", "--chunk-chars", str(args.chunk_chars),
             "--chunk-delay", str(args.chunk_delay)],
            cwd=REPO, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        feeder = subprocess.Popen(
            [*helper, "--feed", str(data_dir), "--count", str(args.count),
             "--pace", str(args.pace)],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            base_url = _read_line(server, 30)
            (data_dir / "config.toml").write_text(
                f'[llm]\nprovider = "openai"\n\n[openai]\nbase_url = "{base_url}"\n'
                'model = "fake-model"\n',
                encoding="utf-8",
            )
            os.environ["OPENAI_API_KEY"] = "sk-benchmark"
            print("rendering the replay's frames…", flush=True)
            if _read_line(feeder, 900) != "RENDERED":
                raise RuntimeError("the feeder did not render the frames")
            run_app(args, data_dir, feeder)
        finally:
            for process in (server, feeder):
                if process.poll() is None:
                    process.terminate()
                process.wait(timeout=30)


def run_app(args: argparse.Namespace, data_dir: Path, feeder: subprocess.Popen[str]) -> None:
    from mirix_desktop.app.services import AppServices
    from mirix_desktop.app.unlock import unlock_with_passphrase
    from mirix_desktop.pipeline.control import Status
    from mirix_desktop.ui.app import DesktopApp
    from mirix_desktop.ui.qt import QtCore, QTimer, QtWidgets

    slow: list[tuple[float, str]] = []  # (ms, what) of events the GUI thread took long over

    class DiagnosingApp(QtWidgets.QApplication):
        """Times every event the GUI thread delivers (only with --diagnose: it costs)."""

        depth = 0

        def notify(self, receiver: Any, event: Any) -> bool:
            DiagnosingApp.depth += 1
            began = time.perf_counter()
            try:
                return bool(super().notify(receiver, event))
            finally:
                DiagnosingApp.depth -= 1
                took = (time.perf_counter() - began) * 1000
                if DiagnosingApp.depth == 0 and took > 15:
                    kind = event.type().name if hasattr(event.type(), "name") else event.type()
                    slow.append((took, f"{type(receiver).__name__} {kind}"))

    collections: list[tuple[float, int]] = []  # (ms, generation) of the garbage collector's runs
    gc_started: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started.append(time.perf_counter())
        elif gc_started:
            took = (time.perf_counter() - gc_started.pop()) * 1000
            collections.append((took, info["generation"]))

    if args.diagnose:
        gc.callbacks.append(on_gc)
    app_class = DiagnosingApp if args.diagnose else QtWidgets.QApplication
    qapp = app_class([sys.argv[0]])
    qapp.setQuitOnLastWindowClosed(False)
    services = AppServices.create(data_dir)
    key = unlock_with_passphrase(services.paths, PASSPHRASE)
    services.use_key(key)
    services.store()
    desktop = DesktopApp(services, qapp)
    if not desktop.ipc.listen():
        raise RuntimeError("another app listens for this data dir")
    desktop.show_surface()
    desktop.start_daemon(key)
    desktop.show_chat()
    chat = desktop.chat
    ticks: list[float] = []
    lateness: list[float] = []
    measuring = False
    answers = chunks = 0
    state: dict[str, Any] = {"asked": 0, "done": None}

    def tick() -> None:
        now = time.perf_counter()
        if measuring and ticks:
            lateness.append(now - ticks[-1] - PROBE_MS / 1000)
        ticks.append(now)

    def count_chunk(_chunk: str) -> None:
        nonlocal chunks
        chunks += 1

    def keep_asking() -> None:
        nonlocal answers
        if chat.session.job is not None:
            return
        if state["asked"]:
            answers += 1
        if state["asked"] and state["asked"] % ANSWERS_PER_CHAT == 0:
            chat.new_chat()
        chat.ask(QUESTION)
        job = running_job(chat)
        if job is not None:
            job.signals.chunk.connect(count_chunk)
        state["asked"] += 1

    def check_feeder() -> None:
        assert feeder.stdout is not None
        ready, _, _ = select.select([feeder.stdout], [], [], 0)
        if ready:
            line = feeder.stdout.readline().strip()
            if line.startswith("DONE") or not line:
                state["done"] = line or f"exited with {feeder.poll()}"
                qapp.quit()
            else:
                print(f"feeder: {line}", flush=True)

    probe = QTimer()
    probe.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(tick)
    probe.start()
    asker = QTimer()
    asker.setInterval(100)
    asker.timeout.connect(keep_asking)
    watcher = QTimer()
    watcher.setInterval(200)
    watcher.timeout.connect(check_feeder)

    def start_measuring() -> None:
        nonlocal measuring
        if args.gc_freeze:
            # What the app could do once started: later full collections skip these objects.
            gc.collect()
            gc.freeze()
        measuring = True
        ticks.clear()
        assert feeder.stdin is not None
        feeder.stdin.write("GO\n")
        feeder.stdin.flush()
        if not args.no_answers:
            asker.start()
        watcher.start()

    # Let the daemon start and the first answer's model be built before measuring.
    statuses: list[Status] = []
    if desktop.supervisor is not None:
        desktop.supervisor.status_changed.connect(statuses.append)
    QTimer.singleShot(int(args.settle * 1000), start_measuring)
    started = time.perf_counter()
    qapp.exec()
    elapsed = time.perf_counter() - started - args.settle
    desktop.quit()
    chat.shutdown(10)
    services.close()

    ms = [value * 1000 for value in lateness]
    print(f"feeder: {state['done']} (frames, seconds)")
    print(
        f"probe: {len(ms)} ticks of {PROBE_MS} ms over {elapsed:.1f} s; {answers} answers "
        f"completed ({chunks} chunks streamed); {len(statuses)} daemon status updates"
    )
    print(
        f"GUI stall: max {max(ms):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"p95 {percentile(ms, 95):.1f} ms, median {statistics.median(ms):.1f} ms "
        f"(targets: max <= 50 ms, p99 <= 20 ms)"
    )
    worst = sorted(ms, reverse=True)[:10]
    print("10 worst: " + ", ".join(f"{v:.0f}" for v in worst))
    if args.diagnose:
        print(f"events that took > 15 ms on the GUI thread: {len(slow)}")
        for took, what in sorted(slow, reverse=True)[:15]:
            print(f"  {took:6.1f} ms  {what}")
        gen2 = sorted((ms for ms, generation in collections if generation == 2), reverse=True)
        print(
            f"garbage collections: {len(collections)}; generation 2: {len(gen2)}, longest "
            + ", ".join(f"{v:.0f}" for v in gen2[:5])
            + " ms"
        )


def running_job(chat: Any) -> Any:
    """The answer the chat window is waiting for, if any."""
    return chat.session.job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=320, help="replay frames to feed")
    parser.add_argument("--pace", type=float, default=0.1, help="seconds between frames fed")
    parser.add_argument("--chunk-chars", type=int, default=3)
    parser.add_argument("--chunk-delay", type=float, default=0.004, help="seconds between chunks")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds before measuring")
    parser.add_argument("--no-answers", action="store_true", help="the feed alone (a baseline)")
    parser.add_argument(
        "--diagnose", action="store_true", help="also time every event the GUI thread handles"
    )
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() before measuring (an experiment)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--feed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.chunk_chars, args.chunk_delay)
        return
    if args.feed:
        feed(args.feed, args.count, args.pace)
        return

    scratch = Path(tempfile.mkdtemp(prefix="mirix-stall-"))
    data_dir = scratch / "data"
    try:
        made = subprocess.run(
            [str(Path(sys.executable).with_name("mirix-desktop")), "--data-dir", str(data_dir),
             "memory", "list"],
            env=dict(os.environ, MIRIX_PASSPHRASE=PASSPHRASE, MIRIX_MODELS_DIR=str(MODELS_DIR)),
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(made.stderr)
        measure(args, data_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n{os.cpu_count()} cores; Xvfb 1920x1080, openbox, trayer")
    print(f"load average {load} (1, 5, 15 min): other work on the machine")


if __name__ == "__main__":
    main()
