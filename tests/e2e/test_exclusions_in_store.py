"""Excluded windows leave nothing in the store, checked page by page, not only through search.

One display of two monitors (a 2560x900 Xvfb screen split by RandR, which mss
sees as two) and one real daemon (`run --no-ui`, a custom `[[privacy.exclude]]`
rule in its config) serve the module. Each test puts an excluded window on
screen beside, under or away from allowed ones, waits until the daemon has
read the allowed windows (so frames holding the excluded one were captured),
changes the excluded window's text and waits again, then decrypts every page
of the store file and every frame of its WAL and looks for the excluded
window's words and title. The allowed windows' words are found the same way,
so the scan is shown to see what was stored.

Window titles are drawn in a large font here, as on a HiDPI desktop, so a
title bar is within OCR's reach: the excluded window's title bar must be
masked with it.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import MODELS_DIR, REPO
from tests.helpers import sqlcipher_pages, xdisplay
from tests.helpers.monitors import split_into_monitors
from tests.helpers.sqlcipher_pages import PageError
from tests.helpers.text_window import TextWindow
from tests.helpers.waiting import wait_for
from tests.helpers.x_windows import xdotool
from tests.helpers.xdisplay import XDisplay, xvfb_display

_MISSING = [tool for tool in ("Xvfb", "openbox", "xdotool") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(_MISSING), reason=f"{', '.join(_MISSING)} not installed (apt install xvfb openbox xdotool)"
)

PASSPHRASE = "e2e exclusions passphrase"
SCREEN = (2560, 900)  # two monitors of 1280x900 side by side
CUSTOM_APP = "tapirvault"
CONFIG = f"""
[[privacy.exclude]]
field = "app"
pattern = "{CUSTOM_APP}"
"""
FOUND_WITHIN_S = 60.0  # generous: a busy machine reads two monitors slowly
_BIG_TITLES = """  <theme>
    <font place="ActiveWindow"><name>DejaVu Sans</name><size>16</size><weight>bold</weight></font>
    <font place="InactiveWindow"><name>DejaVu Sans</name><size>16</size><weight>bold</weight></font>
  </theme>
</openbox_config>
"""

# Summed over the module and printed at the end (run with -s to see it).
FIGURES = {"layouts": 0, "frames_with_excluded_window": 0, "frames_storing_it": 0}
# Every excluded window's words, scanned for once more after the daemon stopped.
SECRET_WORDS: list[str] = []


@dataclass
class Daemon:
    display: XDisplay
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    store: MemoryStore | None = None
    key: bytes = field(default=b"", repr=False)

    @property
    def db(self) -> Path:
        return self.data_dir / "mirix.db"

    def open_store(self, embedder: StaticEmbedder) -> MemoryStore:
        if self.store is None:
            self.store = MemoryStore.open(self.db, KeySource(passphrase=PASSPHRASE), embedder)
            self.key = sqlcipher_pages.store_key(self.db, PASSPHRASE)
        return self.store

    def wait_read(self, word: str, what: str) -> None:
        """Until a line holding `word` is stored; on a timeout, with the daemon's log."""
        try:
            wait_for(lambda: self.lines_with(word), FOUND_WITHIN_S, what)
        except AssertionError as exc:
            logs = [self.log, self.data_dir / "logs" / "daemon.log"]
            tails = [p.read_text(errors="replace")[-2000:] for p in logs if p.exists()]
            raise AssertionError(
                f"{exc}\n--- daemon output ---\n" + "\n".join(tails) + self.recent_capture()
            ) from None

    def recent_capture(self) -> str:
        """The last frames and capture-off intervals: why nothing was read, when it was not."""
        assert self.store is not None
        with self.store.read() as conn:
            frames = conn.execute(
                "SELECT f.captured_at, f.monitor, f.app, f.window_title,"
                " (SELECT count(*) FROM ocr_lines l WHERE l.frame_id = f.id)"
                " FROM frames f ORDER BY f.id DESC LIMIT 12"
            ).fetchall()
            off = conn.execute("SELECT * FROM capture_off ORDER BY rowid DESC LIMIT 6").fetchall()
            jobs = conn.execute("SELECT count(*) FROM capture_jobs").fetchone()[0]
        now_ms = int(time.time() * 1000)
        rows = [
            f"  {now_ms - r[0]} ms ago, monitor {r[1]}, {r[2]!r} {r[3]!r}, {r[4]} lines"
            for r in frames
        ]
        return (
            "\n--- last frames ---\n"
            + "\n".join(rows)
            + f"\n--- capture off ---\n{off}\n--- queued jobs: {jobs}"
        )

    def lines_with(self, word: str) -> int:
        assert self.store is not None
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM ocr_lines WHERE text LIKE ?", (f"%{word}%",)
            ).fetchone()
        return int(row[0])

    def pages(self) -> list[sqlcipher_pages.Page]:
        """Every page on disk now; retried while the daemon is midway through a WAL frame."""
        for _ in range(20):
            try:
                return sqlcipher_pages.store_pages(self.db, self.key)
            except PageError:
                time.sleep(0.1)
        return sqlcipher_pages.store_pages(self.db, self.key)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    data_dir = tmp_path_factory.mktemp("exclusions-data")
    (data_dir / "config.toml").write_text(CONFIG, encoding="utf-8")
    with ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        big = xdisplay._OPENBOX_RC.replace("</openbox_config>\n", _BIG_TITLES)
        assert big != xdisplay._OPENBOX_RC, "the window manager's config has changed shape"
        patch.setattr(xdisplay, "_OPENBOX_RC", big)
        display = stack.enter_context(xvfb_display(*SCREEN))
        patch.undo()
        monitors = split_into_monitors(display, 2)
        assert [m["left"] for m in monitors] == [0, 1280]
        env = {k: v for k, v in display.env.items() if not k.startswith("MIRIX_")}
        env.update(
            MIRIX_DATA_DIR=str(data_dir),
            MIRIX_PASSPHRASE=PASSPHRASE,
            MIRIX_MODELS_DIR=str(MODELS_DIR),
            HOME=str(data_dir / "home"),
            PYTHONPATH=str(REPO),
        )
        log = data_dir / "daemon.out"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "mirix_desktop", "run", "--no-ui"],
                env=env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        running = Daemon(display, data_dir, process, log)
        try:
            wait_for(lambda: running.db.exists(), 30, "the daemon's store")
            yield running
        finally:
            if running.store is not None:
                running.store.close()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print(
            "\nexclusions: {layouts} layouts, {frames_with_excluded_window} frames captured "
            "with an excluded window on screen, {frames_storing_it} stored any of its text "
            "or title".format(**FIGURES)
        )
    assert process.returncode == 0, log.read_text(errors="replace")[-3000:]
    # Stopped: the WAL is checkpointed into the file, which is scanned again.
    found = sqlcipher_pages.occurrences(running.pages(), SECRET_WORDS)
    assert {word: pages for word, pages in found.items() if pages} == {}


@pytest.fixture
def live(daemon: Daemon, embedder: StaticEmbedder) -> Daemon:
    daemon.open_store(embedder)
    return daemon


def allowed(display: XDisplay, title: str, text: str) -> TextWindow:
    return TextWindow(display, f"{title} - Mousepad", "mousepad", text)


def place(display: XDisplay, window: TextWindow, x: int, y: int, width: int, height: int) -> None:
    xdotool(display, "windowsize", "--sync", str(window.window_id), str(width), str(height))
    xdotool(display, "windowmove", "--sync", str(window.window_id), str(x), str(y))


def frames_since(daemon: Daemon, since_ms: int, words: list[str]) -> tuple[int, int]:
    """(frames captured since, those of them holding any of `words` in a line or title)."""
    assert daemon.store is not None
    holding = " OR ".join(["l.text LIKE ? OR f.window_title LIKE ?"] * len(words))
    likes = [f"%{word}%" for word in words for _ in range(2)]
    with daemon.store.read() as conn:
        total = conn.execute("SELECT count(*) FROM frames WHERE captured_at >= ?", (since_ms,))
        stored = conn.execute(
            "SELECT count(DISTINCT f.id) FROM frames f LEFT JOIN ocr_lines l ON l.frame_id = f.id"
            f" WHERE f.captured_at >= ? AND ({holding})",
            (since_ms, *likes),
        )
        return int(total.fetchone()[0]), int(stored.fetchone()[0])


def check_nothing_stored(
    daemon: Daemon, secret_words: list[str], shown_words: list[str], since_ms: int
) -> None:
    """The excluded window's words are in no page and no search hit; the shown ones are."""
    SECRET_WORDS.extend(secret_words)
    pages = daemon.pages()
    assert {p.source for p in pages} == {"db", "wal"}
    found = sqlcipher_pages.occurrences(pages, [*secret_words, *shown_words])
    frames, storing = frames_since(daemon, since_ms, secret_words)
    leaked = {word: len(found[word]) for word in secret_words if found[word]}
    FIGURES["layouts"] += 1
    FIGURES["frames_with_excluded_window"] += frames
    FIGURES["frames_storing_it"] += storing
    assert leaked == {}, f"excluded window's words in decrypted pages: {leaked}"
    assert storing == 0
    missing = [word for word in shown_words if not found[word]]
    assert missing == [], f"allowed windows' words not found by the scan: {missing}"
    assert frames >= 2
    assert daemon.store is not None
    engine = SearchEngine(daemon.store)
    for word in secret_words:
        result = engine.search(SearchQuery(text=word))
        bodies = [f"{r.title}\n{r.body}" for r in result.records.values()]
        assert not any(word.lower() in body.lower() for body in bodies), word
    # Raw bytes of every file in the data dir: neither words nor their UTF-16 forms.
    for path in daemon.data_dir.rglob("*"):
        if path.is_file() and path.name != "daemon.out":
            raw = path.read_bytes()
            for word in secret_words:
                assert not any(form in raw for form in sqlcipher_pages.encodings(word)), path


def show_and_wait(
    daemon: Daemon, excluded: list[TextWindow], allowed: TextWindow, new_text: str, marker: str
) -> None:
    """After a first read, change what the excluded windows show, then wait for `marker`.

    The daemon reads changed regions only: the excluded windows' new text is
    a change it sees, so a leak would be read in the frames after it.
    """
    for window in excluded:
        window.set_text(window.text.replace("first", "second") + "Numbat ledger closing\n")
    allowed.set_text(new_text)
    daemon.wait_read(marker, f"{marker!r} read")


def test_a_partly_covered_password_manager_stores_nothing(live: Daemon) -> None:
    display = live.display
    since = int(time.time() * 1000)
    vault_text = "Wombat vault combination seventeen, first copy, running under\nBandicoot pin\n"
    with (
        TextWindow(display, "Passwords.kdbx - KeePassXC", "KeePassXC", vault_text) as vault,
        allowed(display, "Ferry times", "Quokka ferry timetable\n") as ferry,
    ):
        place(display, vault, 40, 60, 1000, 600)
        place(display, ferry, 500, 150, 700, 600)
        ferry.activate()
        live.wait_read("Quokka", "the ferry text read")
        show_and_wait(live, [vault], ferry, "Quokka ferry timetable\nEchidna pier\n", "Echidna")
        check_nothing_stored(
            live, ["Wombat", "Bandicoot", "Numbat", "Passwords.kdbx"], ["Quokka", "Echidna"], since
        )


def test_a_private_window_beside_an_allowed_one_stores_nothing(live: Daemon) -> None:
    display = live.display
    since = int(time.time() * 1000)
    title = "Pangolin statement — Mozilla Firefox Private Browsing"
    private_text = "Axolotl mortgage arrears first notice\n"
    with (
        TextWindow(display, title, "firefox", private_text) as private,
        allowed(display, "Harbour notes", "Puffin harbour notes\n") as notes,
    ):
        place(display, private, 20, 60, 560, 700)
        place(display, notes, 640, 60, 600, 700)
        notes.activate()
        live.wait_read("Puffin", "the harbour notes read")
        show_and_wait(live, [private], notes, "Puffin harbour notes\nGannet quay\n", "Gannet")
        check_nothing_stored(
            live, ["Axolotl", "Numbat", "Pangolin", "Private Browsing"], ["Puffin", "Gannet"], since
        )


def test_an_excluded_window_on_the_second_monitor_stores_nothing(live: Daemon) -> None:
    display = live.display
    since = int(time.time() * 1000)
    ledger_text = "Capybara salary review first draft\n"
    with (
        TextWindow(display, "Tapir ledger", CUSTOM_APP, ledger_text) as ledger,
        allowed(display, "Lighthouse log", "Lighthouse keeper log\n") as log,
        allowed(display, "Kestrel", "Kestrel survey counts\n") as main,
    ):
        # Monitor 2: the excluded ledger and an allowed window beside it.
        place(display, ledger, 1320, 60, 600, 700)
        place(display, log, 1960, 60, 560, 700)
        # Monitor 1: the active window.
        place(display, main, 60, 60, 900, 600)
        main.activate()
        live.wait_read("Lighthouse", "monitor 2 read")
        live.wait_read("Kestrel", "monitor 1 read")
        log.set_text("Lighthouse keeper log\nCormorant sighting\n")
        show_and_wait(live, [ledger], main, "Kestrel survey counts\nPlover nest\n", "Plover")
        live.wait_read("Cormorant", "monitor 2 read again")
        assert live.store is not None
        with live.store.read() as conn:
            monitors = {r[0] for r in conn.execute("SELECT monitor FROM frames")}
        assert monitors >= {1, 2}
        check_nothing_stored(
            live,
            ["Capybara", "Numbat", "Tapir ledger"],
            ["Lighthouse", "Cormorant", "Kestrel", "Plover"],
            since,
        )
