"""The real tray app under a private X display, with trayer as the tray host.

One display, one tray host and one `mirix-desktop run` (a subprocess, with
MIRIX_PASSPHRASE and a store made beforehand by the CLI) serve the main tests,
in order: the icon embeds in the tray and a right click opens its menu; a
window of known text is captured by the daemon the app started, and the chat
window, typed into with xdotool, answers a question about it citing that window
(read back with the project's OCR and from `chats show --json`); the daemon is
killed, a notification says so, and it comes back; a second `run` hands over
to the first. Two more launches, without a
tray host, show the status window and the chat at 200% scale and in the dark
palette. Every window is saved as a picture (in the test's directory, and in
$MIRIX_SHOTS_DIR when set) for people to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from PIL import Image, ImageStat

from mirix_desktop.app.status import read_status
from mirix_desktop.assistant.conversations import ConversationLog
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import ResourceMemory
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ocr.engine import TesserocrEngine
from mirix_desktop.paths import resolve_paths
from mirix_desktop.pipeline.control import DaemonLock, Status
from mirix_desktop.ui.app import READY_MESSAGE
from tests.conftest import MODELS_DIR, REPO
from tests.helpers.text_window import TextWindow
from tests.helpers.tray_host import Geometry, TrayHost, trayer_host
from tests.helpers.waiting import wait_for
from tests.helpers.x_windows import (
    activate,
    find_windows,
    frame_geometry,
    is_viewable,
    press,
    request_close,
    save_shot,
    screen_image,
    type_text,
    wait_for_window,
    window_shot,
    windows_of_type,
    xdotool,
)
from tests.helpers.xdisplay import XDisplay, xvfb_display

_MISSING = [tool for tool in ("Xvfb", "openbox", "trayer", "xdotool") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"{', '.join(_MISSING)} not installed (apt install xvfb openbox trayer xdotool)",
)

PASSPHRASE = "e2e tray passphrase"
CLI = Path(sys.executable).with_name("mirix-desktop")
SCREEN = (1920, 1080)
CHAT_TITLE = "MIRIX — Chat"
STATUS_TITLE = "^MIRIX$"
# Generous on a busy 2-core machine: Qt, the key (scrypt) and the store at start.
READY_WITHIN_S = 30.0
TRAY_WITHIN_S = 20.0
CAPTURING_WITHIN_S = 40.0
# OCR of a first full frame takes about a second on these machines.
FOUND_WITHIN_S = 30.0
ANSWER_WITHIN_S = 30.0
# The supervisor's first restart waits 1 s; the daemon then opens the store.
RESTART_WITHIN_S = 30.0

KNOWN_APP = "mousepad"
KNOWN_TITLE = "Harbour log - Mousepad"
KNOWN_TEXT = (
    "The pelican ferry Quillwort leaves pier eleven at dawn\n"
    "Cargo manifest: forty crates of saffron and one tuba\n"
)
QUESTION = "when does the Quillwort ferry leave pier eleven?"
LIGHTHOUSE_QUESTION = "who is on the lighthouse keeper rota?"


# -- the processes --------------------------------------------------------------------------
def base_env(display: XDisplay | None, data_dir: Path) -> dict[str, str]:
    env = dict(display.env if display is not None else os.environ)
    for name in list(env):
        if name.startswith("MIRIX_"):
            del env[name]
    env.update(
        MIRIX_PASSPHRASE=PASSPHRASE,
        MIRIX_MODELS_DIR=str(MODELS_DIR),
        HOME=str(data_dir.parent / f"{data_dir.name}-home"),
        PYTHONPATH=str(REPO),
    )
    return env


def cli(
    env: dict[str, str], data_dir: Path, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "--data-dir", str(data_dir), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def supervised_daemons(data_dir: Path) -> list[psutil.Process]:
    """The `run --no-ui --supervised` processes of this data dir (as pgrep -f would find)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "--supervised" in cmdline and "--no-ui" in cmdline and str(data_dir) in cmdline:
            found.append(process)
    return found


@dataclass
class RunningApp:
    display: XDisplay
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def logs(self) -> str:
        parts = [f"--- app stderr ---\n{self.stderr()[-3000:]}"]
        for name in ("app.log", "daemon.log"):
            path = self.data_dir / "logs" / name
            if path.exists():
                parts.append(f"--- {name} ---\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the app exited with {self.process.returncode}\n{self.logs()}"
                )
            return READY_MESSAGE in self.stderr()

        wait_for(ready, READY_WITHIN_S, "the app's ready message")

    def status(self) -> Status:
        return read_status(resolve_paths(self.data_dir))

    def daemon_pid(self) -> int | None:
        return DaemonLock(self.data_dir / "daemon.lock").holder()

    def wait_capturing(self) -> Status:
        def capturing() -> Status | None:
            status = self.status()
            return status if status.state == "capturing" and status.running else None

        try:
            found: Status = wait_for(capturing, CAPTURING_WITHIN_S, "the daemon to capture")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; status {self.status()}\n{self.logs()}") from None
        return found

    def show_chat(self) -> int:
        shown = cli(self.env, self.data_dir, "show", "chat")
        assert shown.returncode == 0, shown.stderr
        return wait_for_window(self.display, CHAT_TITLE, 20)


@contextmanager
def launched_app(display: XDisplay, data_dir: Path, env: dict[str, str]) -> Iterator[RunningApp]:
    """`mirix-desktop run` for the block; then it and every daemon of its data dir stop."""
    stderr_path = data_dir.parent / f"{data_dir.name}-app.err"
    with (
        open(stderr_path, "wb") as err,
        open(data_dir.parent / f"{data_dir.name}-app.out", "wb") as out,
    ):
        process = subprocess.Popen(
            [str(CLI), "--data-dir", str(data_dir), "run"],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    app = RunningApp(display, data_dir, env, process, stderr_path)
    try:
        yield app
    finally:
        _stop(process)
        for daemon in supervised_daemons(data_dir):
            daemon.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(supervised_daemons(data_dir), timeout=15)
        for daemon in alive:
            daemon.kill()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the store ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, embedder: StaticEmbedder) -> Path:
    """A passphrase store made by the CLI, holding one note for the palette and scale runs."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    made = cli(base_env(None, data_dir), data_dir, "memory", "list")
    assert made.returncode == 0, made.stderr
    assert (data_dir / "mirix.db.keyinfo").exists()
    store = MemoryStore.open(data_dir / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder)
    try:
        store.add(
            ResourceMemory(
                content="Lighthouse keeper rota: Wren on Tuesday, Osprey on Friday night",
                title="Rota - Mousepad",
                app=KNOWN_APP,
            )
        )
    finally:
        store.close()
    return data_dir


def copy_store(template: Path, where: Path) -> Path:
    data_dir = where / "data"
    shutil.copytree(template, data_dir)
    return data_dir


def open_store(data_dir: Path, embedder: StaticEmbedder) -> MemoryStore:
    return MemoryStore.open(data_dir / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder)


def search_hits(store: MemoryStore, text: str, containing: str) -> list[Any]:
    result = SearchEngine(store).search(SearchQuery(text=text))
    records = [result.records[hit.id] for hit in result.hits]
    return [r for r in records if containing in f"{r.title}\n{r.body}"]


# -- pictures -------------------------------------------------------------------------------
def ocr_text(image: Image.Image) -> str:
    engine = TesserocrEngine()
    try:
        return "\n".join(line.text for line in engine.recognize(image.convert("L")))
    finally:
        engine.close()


def luminance(image: Image.Image) -> float:
    return float(ImageStat.Stat(image.convert("L")).mean[0])


# -- the main run: tray host, app, daemon ----------------------------------------------------
@dataclass
class Desktop:
    display: XDisplay
    tray: TrayHost
    app: RunningApp
    shots: Path


@pytest.fixture(scope="module")
def desktop(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    where = tmp_path_factory.mktemp("tray-app")
    data_dir = copy_store(template, where)
    with ExitStack() as stack:
        display = stack.enter_context(xvfb_display(*SCREEN))
        tray = stack.enter_context(trayer_host(display))
        app = stack.enter_context(launched_app(display, data_dir, base_env(display, data_dir)))
        app.wait_ready()
        yield Desktop(display, tray, app, where / "shots")


def test_the_icon_embeds_in_the_tray(desktop: Desktop) -> None:
    app = desktop.app
    icon = desktop.tray.wait_for_icon(TRAY_WITHIN_S)
    # The icon is the app's own window, not something else in the tray.
    assert icon.pid == app.process.pid
    assert icon.geometry.width >= 16 and icon.geometry.height >= 16
    app.wait_capturing()
    # The picture in it is drawn: not one flat colour.
    time.sleep(0.5)  # the "recording" icon replaces "starting"
    screen = screen_image(desktop.display, desktop.shots.parent)
    drawn = screen.crop(icon.geometry.box())
    colours = drawn.getcolors(maxcolors=4096)
    assert colours is None or len(colours) > 3, "the tray icon is blank"
    panel = desktop.tray.panel()
    assert panel is not None
    x, y, right, bottom = panel.box()
    area = screen.crop((max(0, x - 200), y, right, bottom + 8)).resize(
        ((right - max(0, x - 200)) * 4, (bottom + 8 - y) * 4), Image.Resampling.NEAREST
    )
    save_shot(area, desktop.shots, "tray-area")
    assert app.process.poll() is None


def test_the_tray_menu_opens_from_the_icon(desktop: Desktop) -> None:
    app, display = desktop.app, desktop.display
    app.wait_capturing()
    icon = desktop.tray.wait_for_icon(TRAY_WITHIN_S)
    x = icon.geometry.x + icon.geometry.width // 2
    y = icon.geometry.y + icon.geometry.height // 2
    xdotool(display, "mousemove", str(x), str(y), "click", "3")
    try:
        menu = wait_for(lambda: menus(app), 10, "the tray menu")[0]
        time.sleep(0.3)  # painted
        picture = screen_image(display, desktop.shots.parent).crop(menu.box())
        save_shot(picture, desktop.shots, "tray-menu")
    finally:
        press(display, "Escape")
        xdotool(display, "mousemove", "960", "1000")  # no tooltip left over the icon
    seen = ocr_text(picture.resize((picture.width * 2, picture.height * 2)))
    # Every action but Resume, which is greyed out while recording (OCR skips grey text).
    items = ("Ask", "Chat", "15 minutes", "1 hour", "until resumed", "Open data folder", "Quit")
    for item in items:
        assert item in seen, f"{item!r} not in the tray menu: {seen}"
    wait_for(lambda: not menus(app), 5, "the menu to close")


def menus(app: RunningApp) -> list[Geometry]:
    return windows_of_type(app.display, app.process.pid, "POPUP_MENU")


def test_the_chat_answers_about_a_window_and_cites_it(
    desktop: Desktop, embedder: StaticEmbedder
) -> None:
    app, display = desktop.app, desktop.display
    app.wait_capturing()
    store = open_store(app.data_dir, embedder)
    try:
        with TextWindow(display, KNOWN_TITLE, KNOWN_APP, KNOWN_TEXT):
            wait_for(
                lambda: search_hits(store, "Quillwort ferry pier", "Quillwort"),
                FOUND_WITHIN_S,
                "the daemon to store the window's text",
                every=0.5,
            )
    finally:
        store.close()

    chat = app.show_chat()
    ask_in_chat(display, chat, QUESTION)
    conversation = wait_for_answer(app, embedder, QUESTION)
    answer = stored_conversation(app, conversation)[-1]
    assert answer["status"] == "complete", answer
    assert answer["citations"], answer
    cited = answer["citations"][0]
    assert cited["app"] == KNOWN_APP
    assert "Harbour log" in (cited["title"] or "")

    # What the person sees: read the window back with the project's OCR.
    time.sleep(0.3)  # the last render
    picture = window_shot(display, chat, desktop.shots.parent)
    save_shot(picture, desktop.shots, "chat-light")
    seen = ocr_text(picture)
    assert "Quillwort" in seen, seen
    assert "Harbour log" in seen, seen  # the source under the answer


def ask_in_chat(display: XDisplay, chat: int, question: str) -> None:
    """Type the question and press Enter, from the keyboard only."""
    activate(display, chat)
    press(display, "ctrl+l")  # the question box (the window opens on "New chat")
    type_text(display, question)
    press(display, "Return")


def wait_for_answer(app: RunningApp, embedder: StaticEmbedder, question: str) -> int:
    """The id of the conversation whose last exchange is `question`, once it is answered."""
    store = open_store(app.data_dir, embedder)
    try:
        log = ConversationLog(store)

        def answered() -> int | None:
            latest = log.latest()
            if latest is None:
                return None
            messages = log.messages(latest)
            if len(messages) < 2 or messages[-1].role != "assistant":
                return None
            return latest if messages[-2].content.strip() == question else None

        found: int = wait_for(answered, ANSWER_WITHIN_S, f"an answer to {question!r}")
        return found
    finally:
        store.close()


def stored_conversation(app: RunningApp, conversation_id: int) -> list[dict[str, Any]]:
    """The conversation as `mirix-desktop chats show ID --json` prints it."""
    shown = cli(app.env, app.data_dir, "chats", "show", str(conversation_id), "--json")
    assert shown.returncode == 0, shown.stderr
    messages: list[dict[str, Any]] = json.loads(shown.stdout)
    return messages


def test_a_killed_daemon_is_restarted(desktop: Desktop) -> None:
    app = desktop.app
    app.wait_capturing()
    killed = app.daemon_pid()
    assert killed is not None
    children = {child.pid for child in psutil.Process(app.process.pid).children(recursive=True)}
    assert killed in children, "the daemon should be the app's child"
    assert [p.pid for p in supervised_daemons(app.data_dir)] == [killed]

    os.kill(killed, signal.SIGKILL)

    def restarted() -> int | None:
        pid = app.daemon_pid()
        return pid if pid is not None and pid != killed else None

    # A person is told: a notification (Qt's balloon by the icon: no notification
    # service runs here).
    balloon = wait_for(
        lambda: windows_of_type(app.display, app.process.pid, "TOOLTIP"), 10, "a notification"
    )[0]
    time.sleep(0.3)
    picture = screen_image(desktop.display, desktop.shots.parent).crop(balloon.box())
    save_shot(picture, desktop.shots, "daemon-killed-notice")
    assert "Capture stopped" in ocr_text(picture.resize((picture.width * 2, picture.height * 2)))

    new = wait_for(restarted, RESTART_WITHIN_S, "a new daemon to hold daemon.lock")
    status = app.wait_capturing()
    assert status.pid == new
    assert app.process.poll() is None, "the app must survive its daemon"
    assert new in {c.pid for c in psutil.Process(app.process.pid).children(recursive=True)}


def test_a_second_run_hands_over_to_the_first(desktop: Desktop) -> None:
    app, display = desktop.app, desktop.display

    def closed() -> bool:
        # Asked again on every look: on a loaded machine the window manager
        # can drop a close request sent while it is still busy with the window.
        windows = find_windows(display, CHAT_TITLE)
        for window in windows:
            request_close(display, window)
        return not windows

    wait_for(closed, 20, "the chat window to close", every=1.0)
    daemon = app.daemon_pid()

    second = cli(app.env, app.data_dir, "run", timeout=60)

    assert second.returncode == 0, second.stderr
    chat = wait_for_window(display, CHAT_TITLE, 15)
    assert is_viewable(display, chat)
    assert app.process.poll() is None
    assert app.daemon_pid() == daemon, "the second run must not start another daemon"


# -- the other looks: 200% and dark, without a tray host ------------------------------------
@pytest.mark.parametrize(
    ("look", "extra_env"),
    [
        ("scale2", {"QT_SCALE_FACTOR": "2"}),
        ("dark", {"MIRIX_UI_THEME": "dark"}),
    ],
)
def test_windows_are_readable_at_200_percent_and_in_the_dark(
    look: str,
    extra_env: dict[str, str],
    template: Path,
    tmp_path: Path,
    embedder: StaticEmbedder,
) -> None:
    data_dir = copy_store(template, tmp_path)
    with xvfb_display(*SCREEN) as display:
        env = base_env(display, data_dir) | extra_env
        with launched_app(display, data_dir, env) as app:
            app.wait_ready()
            # No tray host: the small MIRIX window stands in for the tray.
            status_window = wait_for_window(display, STATUS_TITLE, 20)
            app.wait_capturing()
            time.sleep(0.5)
            status_picture = window_shot(display, status_window, tmp_path)
            save_shot(status_picture, tmp_path / "shots", f"status-{look}")
            assert "Recording" in ocr_text(status_picture)

            chat = app.show_chat()
            ask_in_chat(display, chat, LIGHTHOUSE_QUESTION)
            wait_for_answer(app, embedder, LIGHTHOUSE_QUESTION)
            time.sleep(0.3)
            chat_picture = window_shot(display, chat, tmp_path)
            save_shot(chat_picture, tmp_path / "shots", f"chat-{look}")
            seen = ocr_text(chat_picture)
            assert "Osprey" in seen, seen

            for window in (chat, status_window):
                # A window larger than the screen hides its own buttons.
                frame = frame_geometry(display, window)
                assert frame.x >= 0 and frame.y >= 0, frame
                assert frame.x + frame.width <= SCREEN[0], f"wider than the screen: {frame}"
                assert frame.y + frame.height <= SCREEN[1], f"taller than the screen: {frame}"
            geometry = frame_geometry(display, chat)
            if look == "scale2":
                # Sized in characters: at 200% the window is about twice as large.
                assert geometry.width >= 1400, geometry
            else:
                assert luminance(chat_picture) < 90, "the dark palette was not applied"
                assert luminance(status_picture) < 90, "the dark palette was not applied"


# -- no display at all -----------------------------------------------------------------------
def test_run_without_a_display_points_to_the_headless_daemon(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = base_env(None, data_dir)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)

    result = cli(env, data_dir, "run", timeout=60)

    assert result.returncode == 6, result.stderr
    assert "run --no-ui" in result.stderr
    assert "Traceback" not in result.stderr
