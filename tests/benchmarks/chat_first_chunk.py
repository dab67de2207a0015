"""Enter in the chat window to the first chunk of the answer on screen, 100k memories.

    .venv/bin/python -m tests.benchmarks.chat_first_chunk [--size 100000] [--questions 50]
        [--dir DIR]

The store is search_latency.py's corpus (blocks of Python's standard library
source and docs as OCR reads them), grown to `--size` memories in an encrypted
file; `--dir` keeps it there and reuses it next time (building 100k takes a
few minutes). The real ChatWindow runs in this process on a private Xvfb
display, answering with the extractive provider (no model), as the app runs
it: the store opened once, retrieval and the answer on a worker thread.

For each question (2-4 words drawn from stored memories, as in
search_latency.py, phrased as a question) the question box gets the text and
a Return key press; the clock runs from that key event to:
- "chunk": the first change of the conversation view's document showing
  answer text (the question's own echo is not counted);
- "painted": the next paint of the view after that.
5 questions warm up first; a new chat every 5 questions. Target: p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks.common import MODELS_DIR, describe_ms, embedder, open_store, temp_dir
from tests.benchmarks.search_latency import grow, memory_blocks, sample_queries

PASSPHRASE = "benchmark passphrase"  # common.PASSPHRASE's
WARM_UP = 5
QUESTIONS_PER_CHAT = 5
ANSWER_TIMEOUT_S = 30.0
PHRASES = (
    "what did I read about {}?",
    "where did I see {}",
    "{}",
    "find the notes on {}",
)


def build_store(directory: Path, size: int, questions: int) -> list[str]:
    model = embedder()
    store = open_store(directory / "mirix.db", model)
    try:
        have = store.count()
        if have < size:
            print(f"growing the store from {have:,} to {size:,} memories…", flush=True)
            started = time.perf_counter()
            grow(store, memory_blocks(), size)
            print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rng = random.Random(23)
        words = sample_queries(store, rng)[: questions + WARM_UP]
        count = store.count()
    finally:
        store.close()
    print(f"store: {count:,} memories in {directory}", flush=True)
    return [PHRASES[i % len(PHRASES)].format(w) for i, w in enumerate(words)]


def measure(directory: Path, questions: list[str]) -> tuple[list[float], list[float]]:
    from mirix_desktop.app.services import AppServices
    from mirix_desktop.ui.chat_window import ChatWindow
    from mirix_desktop.ui.qt import QObject, QtCore, QtGui, QtWidgets

    (directory / "config.toml").write_text('[llm]\nprovider = "extractive"\n', encoding="utf-8")
    _qapp = QtWidgets.QApplication([sys.argv[0]])  # held: the windows need it alive
    services = AppServices.create(directory)
    chat = ChatWindow(services)
    chat.show()
    view = chat.view
    document = view.document()
    assert document is not None

    marks: dict[str, float | None] = {"sent": None, "chunk": None, "painted": None}

    def on_change() -> None:
        if marks["sent"] is None or marks["chunk"] is not None:
            return
        turns = chat.session.turns
        if turns and turns[-1].text:
            marks["chunk"] = time.perf_counter()

    class PaintWatch(QObject):
        def eventFilter(self, watched: QObject, event: QtCore.QEvent) -> bool:
            if (
                event.type() == QtCore.QEvent.Type.Paint
                and marks["chunk"] is not None
                and marks["painted"] is None
            ):
                marks["painted"] = time.perf_counter()
            return False

    document.contentsChanged.connect(on_change)
    watch = PaintWatch()
    viewport = view.viewport()
    assert viewport is not None
    viewport.installEventFilter(watch)

    def wait(condition: Callable[[], bool], timeout: float) -> None:
        # A real event loop, checked every 2 ms: spinning on processEvents() would
        # hold the GIL and slow the worker thread that does the work measured.
        if condition():
            return
        loop = QtCore.QEventLoop()
        deadline = time.perf_counter() + timeout
        expired = False

        def check() -> None:
            nonlocal expired
            if condition():
                loop.quit()
            elif time.perf_counter() > deadline:
                expired = True
                loop.quit()

        poll = QtCore.QTimer()
        poll.setInterval(2)
        poll.timeout.connect(check)
        poll.start()
        loop.exec()
        poll.stop()
        if expired:
            raise RuntimeError("timed out waiting for the chat window")

    def pump(seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        wait(lambda: time.perf_counter() >= deadline, seconds + 1)

    wait(lambda: chat.picker.slot().built() is not None or chat.picker.provider == "extractive", 30)
    inside: list[float] = []  # Assistant.ask's own start to first chunk, on the worker
    retrieval: list[float] = []  # of which hybrid search and core memory
    chunk_times: list[float] = []
    paint_times: list[float] = []
    for number, question in enumerate(questions):
        if number and number % QUESTIONS_PER_CHAT == 0:
            chat.new_chat()
        pump(0.05)  # the previous answer's last renders
        chat.question.setPlainText(question)
        chat.question.setFocus()
        marks.update(sent=None, chunk=None, painted=None)
        enter = QtGui.QKeyEvent(
            QtCore.QEvent.Type.KeyPress,
            QtCore.Qt.Key.Key_Return,
            QtCore.Qt.KeyboardModifier.NoModifier,
            "\r",
        )
        marks["sent"] = time.perf_counter()
        QtWidgets.QApplication.sendEvent(chat.question, enter)
        job = chat.session.job
        assert job is not None, "Return did not send the question"
        finished: list[Any] = []
        job.signals.finished.connect(finished.append)
        wait(lambda: marks["painted"] is not None and chat.session.job is None, ANSWER_TIMEOUT_S)
        sent, chunk, painted = marks["sent"], marks["chunk"], marks["painted"]
        assert sent is not None and chunk is not None and painted is not None
        wait(functools.partial(bool, finished), ANSWER_TIMEOUT_S)
        if number >= WARM_UP:
            chunk_times.append(chunk - sent)
            paint_times.append(painted - sent)
            answer = finished[0]
            inside.append(answer.first_chunk_s or 0.0)
            retrieval.append(answer.retrieval_s or 0.0)
    chat.shutdown(10)
    chat.close()
    services.close()
    print(f"  in Assistant.ask, start to first chunk: {describe_ms(inside)}")
    print(f"  of which retrieval: {describe_ms(retrieval)}")
    return chunk_times, paint_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--dir", type=Path, help="keep the store here and reuse it")
    parser.add_argument("--offscreen", action="store_true", help="no Xvfb: Qt's offscreen platform")
    args = parser.parse_args()

    directory = args.dir or temp_dir("mirix-chat-bench-")
    directory.mkdir(parents=True, exist_ok=True)
    os.environ.update(MIRIX_PASSPHRASE=PASSPHRASE, MIRIX_MODELS_DIR=str(MODELS_DIR))
    try:
        questions = build_store(directory, args.size, args.questions)
        if args.offscreen:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            chunk, painted = measure(directory, questions)
        else:
            from tests.helpers.xdisplay import xvfb_display

            with xvfb_display() as display:
                os.environ.update(display.env)
                chunk, painted = measure(directory, questions)
    finally:
        if not args.dir:
            shutil.rmtree(directory, ignore_errors=True)
    for label, values in (("first chunk in the view", chunk), ("that chunk painted", painted)):
        print(f"Enter to {label}: {describe_ms(values)}; max {max(values) * 1000:.1f} ms")
    print("target: p95 <= 150 ms (extractive provider)")
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n{os.cpu_count()} cores; encrypted store (SQLCipher); embedder static-minilm")
    print(f"load average {load} (1, 5, 15 min): other work on the machine")


if __name__ == "__main__":
    main()
