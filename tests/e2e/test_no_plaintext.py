"""Canaries on screen, in a title, asked on the CLI and typed into the chat: in no file in clear.

One run serves the module. Random canary words go where a person's private
text goes: a window's text and its title (captured by the daemon the tray
app starts), a question to `ask` and a `search` on the command line, and a
question typed into the chat window. Every process of the app gets its own
HOME, XDG dirs and TMPDIR, all under one directory; after the app has
stopped, every file there (data dir, config, cache, logs, temp files), the
display's runtime dir and any core dump is scanned for each canary in UTF-8
and UTF-16. Each canary is also shown to be in the store, decrypted page by
page, so the scan looks for words that really went through the app.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mirix_desktop.app.status import read_status
from mirix_desktop.assistant.conversations import ConversationLog
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.control import DaemonLock
from mirix_desktop.ui.app import READY_MESSAGE
from tests.conftest import MODELS_DIR, REPO
from tests.helpers import sqlcipher_pages
from tests.helpers.text_window import TextWindow
from tests.helpers.waiting import wait_for
from tests.helpers.x_windows import activate, press, type_text, wait_for_window
from tests.helpers.xdisplay import xvfb_display

_MISSING = [tool for tool in ("Xvfb", "openbox", "xdotool") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(_MISSING), reason=f"{', '.join(_MISSING)} not installed (apt install xvfb openbox xdotool)"
)

PASSPHRASE = "e2e canary passphrase"
CLI = Path(sys.executable).with_name("mirix-desktop")
CHAT_TITLE = "MIRIX — Chat"
WITHIN_S = 40.0
# Letters tesseract does not confuse with others (no i/l/o/j/g/q).
_LETTERS = "acdehkmnprstuvwxz"


def canary() -> str:
    return "zx" + "".join(secrets.choice(_LETTERS) for _ in range(8))


@dataclass
class Run:
    root: Path  # everything the app's processes may write: data, home, tmp, their output
    data_dir: Path
    runtime_dir: Path
    canaries: dict[str, str]  # where it was put -> the word
    context: dict[str, str]  # where -> other words said with it (for the log check)
    store_pages: list[sqlcipher_pages.Page]
    started: float
    live_files: list[Path]  # what existed while the app ran (the WAL, temp files)
    live_found: dict[str, list[str]]  # canary -> files holding it then

    def logs(self) -> list[Path]:
        logs = sorted((self.data_dir / "logs").glob("*"))
        return logs + sorted((self.root / "out").glob("*"))


def core_files(since: float, roots: list[Path]) -> list[Path]:
    """Core dumps written since `since`, wherever core_pattern sends them (if readable)."""
    try:
        pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        pattern = "core"
    if pattern.startswith("|"):  # a handler (systemd-coredump, apport) keeps them
        places = [Path("/var/lib/systemd/coredump"), Path("/var/crash")]
        prefix = ""
    else:
        where = Path(pattern)
        places = [where.parent] if where.is_absolute() else [REPO, *roots]
        prefix = where.name.split("%")[0] or "core"
    found = []
    for place in places:
        if not place.is_dir():
            continue
        for path in place.rglob(f"{prefix}*") if prefix else place.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime >= since:
                    found.append(path)
            except OSError:
                continue
    return found


def scan(paths: list[Path], words: list[str]) -> dict[str, list[str]]:
    """For each word, the files holding it (UTF-8 or UTF-16, any case)."""
    forms = {w: [f.lower() for f in sqlcipher_pages.encodings(w)] for w in words}
    found: dict[str, list[str]] = {w: [] for w in words}
    for path in paths:
        try:
            data = path.read_bytes().lower()
        except OSError:
            continue
        for word, encoded in forms.items():
            if any(form in data for form in encoded):
                found[word].append(str(path))
    return found


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def _cli(env: dict[str, str], data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "--data-dir", str(data_dir), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_QUIT = (
    "import sys; from pathlib import Path; from mirix_desktop.ui.ipc import send_command; "
    "sys.exit(0 if send_command(Path(sys.argv[1]), 'quit', timeout_ms=10000) else 1)"
)


def _stop(process: subprocess.Popen[bytes], env: dict[str, str], data_dir: Path) -> None:
    """Quit the app as its menu does (it stops its daemon); else SIGTERM both."""
    if process.poll() is None:
        subprocess.run([sys.executable, "-c", _QUIT, str(data_dir)], env=env, cwd=REPO, timeout=30)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    lock = DaemonLock(data_dir / "daemon.lock")
    holder = lock.holder()
    if holder is not None:  # the app did not stop it: a failure, but leave nothing behind
        os.kill(holder, signal.SIGTERM)
        wait_for(lambda: lock.holder() is None, 30, "the daemon to stop")
    assert holder is None, "quitting the app left its daemon running"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, embedder: StaticEmbedder) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("canary")
    data_dir, home, out = root / "data", root / "home", root / "out"
    for directory in (home, root / "tmp", out):
        directory.mkdir()
    words = {where: canary() for where in ("screen", "title", "cli", "chat")}
    context = {
        "screen": "Harbourmaster rota",
        "title": "Lantern inventory",
        "cli": "what do I know about",
        "chat": "tell me everything about",
    }
    started = time.time()
    with xvfb_display() as display:
        env = {k: v for k, v in display.env.items() if not k.startswith("MIRIX_")}
        env.update(
            MIRIX_PASSPHRASE=PASSPHRASE,
            MIRIX_MODELS_DIR=str(MODELS_DIR),
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
            TMPDIR=str(root / "tmp"),
            PYTHONPATH=str(REPO),
        )
        made = _cli(env, data_dir, "memory", "list")  # the store, before the app opens it
        assert made.returncode == 0, made.stderr
        with open(out / "app.out", "wb") as app_out, open(out / "app.err", "wb") as app_err:
            app = subprocess.Popen(
                [str(CLI), "--data-dir", str(data_dir), "run"],
                env=env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=app_out,
                stderr=app_err,
            )
        runtime_dir = Path(display.env["XDG_RUNTIME_DIR"])
        store: MemoryStore | None = None
        try:
            ready = out / "app.err"
            wait_for(lambda: READY_MESSAGE.encode() in ready.read_bytes(), WITHIN_S, "app ready")
            paths = resolve_paths(data_dir)
            wait_for(lambda: read_status(paths).state == "capturing", WITHIN_S, "capture")
            store = MemoryStore.open(
                data_dir / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder
            )
            shown = f"{context['screen']} code {words['screen']} for Friday\n"
            title = f"{context['title']} {words['title']} - Mousepad"
            with TextWindow(display, title, "mousepad", shown):
                wait_for(lambda: _lines_with(store, words["screen"]), WITHIN_S, "OCR of it")

            question = f"{context['cli']} {words['screen']} and {words['cli']}?"
            asked = _cli(env, data_dir, "ask", question)
            assert asked.returncode == 0, asked.stderr
            assert words["screen"] in asked.stdout  # the answer quotes the screen
            searched = _cli(env, data_dir, "search", words["screen"])
            assert searched.returncode == 0 and words["screen"] in searched.stdout

            assert _cli(env, data_dir, "show", "chat").returncode == 0
            chat = wait_for_window(display, CHAT_TITLE, 20)
            activate(display, chat)
            press(display, "ctrl+l")
            typed = f"{context['chat']} {words['chat']} and {words['screen']}"
            type_text(display, typed)
            press(display, "Return")
            wait_for(lambda: _answered(store, typed), WITHIN_S, "the chat's answer")
            live_files = files_under(root, runtime_dir)
            live_found = scan(live_files, list(words.values()))
        finally:
            if store is not None:
                store.close()
            _stop(app, env, data_dir)
        assert app.returncode == 0, (out / "app.err").read_text(errors="replace")[-3000:]
        key = sqlcipher_pages.store_key(data_dir / "mirix.db", PASSPHRASE)
        pages = sqlcipher_pages.store_pages(data_dir / "mirix.db", key)
        yield Run(
            root, data_dir, runtime_dir, words, context, pages, started, live_files, live_found
        )


def _lines_with(store: MemoryStore, word: str) -> bool:
    with store.read() as conn:
        row = conn.execute("SELECT 1 FROM ocr_lines WHERE text LIKE ?", (f"%{word}%",))
        return row.fetchone() is not None


def _answered(store: MemoryStore, question: str) -> bool:
    log = ConversationLog(store)
    latest = log.latest()
    if latest is None:
        return False
    messages = log.messages(latest)
    return (
        len(messages) >= 2
        and messages[-1].role == "assistant"
        and messages[-2].content.strip() == question
    )


def test_every_canary_went_into_the_store(run: Run) -> None:
    found = sqlcipher_pages.occurrences(run.store_pages, list(run.canaries.values()))
    missing = [where for where, word in run.canaries.items() if not found[word]]
    assert missing == [], f"canaries not in the decrypted store: {missing}"


def test_no_file_holds_a_canary_in_clear(run: Run) -> None:
    files = files_under(run.root, run.runtime_dir)
    cores = core_files(run.started, [run.root])
    assert any(p.name == "mirix.db" for p in files)
    assert any(p.name == "mirix.db-wal" for p in run.live_files)
    assert any(p.parent.name == "logs" for p in files)
    found = scan(files + cores, list(run.canaries.values()))
    leaked = {
        where: sorted({*found[word], *run.live_found[word]})
        for where, word in run.canaries.items()
        if found[word] or run.live_found[word]
    }
    scanned = len({*files, *run.live_files})
    hits = sum(map(len, leaked.values()))
    print(
        f"\ncanaries: {len(run.canaries)} placed, {scanned} files (while running and after) "
        f"and {len(cores)} core dumps scanned, {hits} found in clear"
    )
    assert leaked == {}


def test_logs_hold_no_screen_text_title_or_question(run: Run) -> None:
    logs = run.logs()
    assert any(p.name == "daemon.log" for p in logs) and any(p.name == "app.log" for p in logs)
    words = [*run.canaries.values(), *run.context.values()]
    found = scan(logs, words)
    assert {w: paths for w, paths in found.items() if paths} == {}
    assert os.environ.get("MIRIX_PASSPHRASE") is None
