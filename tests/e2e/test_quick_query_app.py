"""The quick query end to end: the real app under Xvfb with openbox and trayer.

A window of known text is shown and captured by the daemon the app started;
xdotool presses Ctrl+Alt+Space, the box appears, a typed query finds that
window, and Enter opens the timeline at that moment. `mirix-desktop query`
opens the box too (and starts the app when none runs); Esc gives the focus
back to the window the person was in. Pictures of the box are saved (in
$MIRIX_SHOTS_DIR when set) for people to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.search import SearchEngine, SearchQuery
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ui.ipc import send_command
from tests.e2e.test_tray_app import (
    CLI,
    PASSPHRASE,
    REPO,
    RunningApp,
    base_env,
    cli,
    launched_app,
    ocr_text,
)
from tests.helpers.text_window import TextWindow
from tests.helpers.tray_host import trayer_host
from tests.helpers.waiting import wait_for
from tests.helpers.x_windows import (
    find_windows,
    press,
    save_shot,
    type_text,
    wait_for_window,
    window_shot,
)
from tests.helpers.xdisplay import XDisplay, xvfb_display

_MISSING = [tool for tool in ("Xvfb", "openbox", "trayer", "xdotool") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"{', '.join(_MISSING)} not installed (apt install xvfb openbox trayer xdotool)",
)

BOX_TITLE = "MIRIX Quick Query"
TIMELINE_TITLE = "MIRIX — Timeline"
WINDOW_TITLE = "Tide table - Mousepad"
WINDOW_APP = "mousepad"
WINDOW_TEXT = (
    "High water at Brindlecombe quay: 06:42 and 19:05\n"
    "The dredger Marigold is moored at berth seven\n"
)
FOUND_WITHIN_S = 40.0


@dataclass
class Session:
    display: XDisplay
    app: RunningApp
    shots: Path


def open_store(data_dir: Path, embedder: StaticEmbedder) -> MemoryStore:
    return MemoryStore.open(data_dir / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder)


def make_data_dir(where: Path) -> Path:
    data_dir = where / "data"
    made = cli(base_env(None, data_dir), data_dir, "memory", "list")
    assert made.returncode == 0, made.stderr
    return data_dir


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    where = tmp_path_factory.mktemp("quick-query")
    data_dir = make_data_dir(where)
    with ExitStack() as stack:
        display = stack.enter_context(xvfb_display(1920, 1080))
        stack.enter_context(trayer_host(display))
        app = stack.enter_context(launched_app(display, data_dir, base_env(display, data_dir)))
        app.wait_ready()
        app.wait_capturing()
        yield Session(display, app, where / "shots")


def app_log(app: RunningApp) -> str:
    path = app.data_dir / "logs" / "app.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def test_the_hotkey_opens_the_box_a_query_finds_a_window_and_enter_opens_the_timeline(
    session: Session, embedder: StaticEmbedder
) -> None:
    display, app = session.display, session.app
    assert "global hotkey Ctrl+Alt+Space registered" in app_log(app), app.logs()
    store = open_store(app.data_dir, embedder)
    with TextWindow(display, WINDOW_TITLE, WINDOW_APP, WINDOW_TEXT) as window:
        try:

            def stored() -> int | None:
                result = SearchEngine(store).search(SearchQuery(text="Brindlecombe quay"))
                for hit in result.hits:
                    record = result.records[hit.id]
                    if "Brindlecombe" in record.body and record.app == WINDOW_APP:
                        return hit.id
                return None

            memory_id: int = wait_for(stored, FOUND_WITHIN_S, "the window's text stored", 0.5)
        finally:
            store.close()
        window.activate()
        assert display.active_window_title() == WINDOW_TITLE

        press(display, "ctrl+alt+space")
        box = wait_for_window(display, BOX_TITLE, 10)
        wait_for(lambda: display.active_window_title() == BOX_TITLE, 10, "the box to take focus")
        type_text(display, "Brindlecombe")
        time.sleep(1.0)  # the debounce, the search on its worker, the paint
        picture = window_shot(display, box, session.shots.parent)
        save_shot(picture, session.shots, "quick-query-e2e-results")
        seen = ocr_text(picture.resize((picture.width * 2, picture.height * 2)))
        assert "Tide table" in seen, seen
        assert "Brindlecombe" in seen, seen
        assert "Used Screen" not in seen, "results found by meaning alone are left out"

        press(display, "Return")
        timeline = wait_for_window(display, TIMELINE_TITLE, 20)
        assert not find_windows(display, BOX_TITLE), "Enter closes the box"
        opened = wait_for(
            lambda: re.search(r"opening the timeline at (\S+) \(memory (\d+)\)", app_log(app)),
            10,
            "the timeline opened at a moment",
        )
        assert int(opened.group(2)) == memory_id
        time.sleep(1.5)  # the day loads and the moment is drawn
        shot = window_shot(display, timeline, session.shots.parent)
        save_shot(shot, session.shots, "quick-query-e2e-timeline")
        # The moment shown is the window's (its title in the moment's header; its
        # text is drawn at thumbnail scale, too small to read back reliably).
        moment = ocr_text(shot)
        assert "Tide table" in moment, moment


def test_query_command_opens_the_box_and_escape_gives_focus_back(session: Session) -> None:
    display, app = session.display, session.app
    for window in find_windows(display, TIMELINE_TITLE):
        subprocess.run(["xdotool", "windowclose", str(window)], env=display.env, check=False)
    with TextWindow(display, "Scratch - Mousepad", WINDOW_APP, "scratch notes\n") as window:
        window.activate()
        assert display.active_window_title() == "Scratch - Mousepad"
        started = cli(app.env, app.data_dir, "query", "dredger", "Marigold")
        assert started.returncode == 0, started.stderr
        box = wait_for_window(display, BOX_TITLE, 10)
        wait_for(lambda: display.active_window_title() == BOX_TITLE, 10, "the box to take focus")
        time.sleep(1.0)
        picture = window_shot(display, box, session.shots.parent)
        save_shot(picture, session.shots, "quick-query-e2e-command")
        assert "Marigold" in ocr_text(picture.resize((picture.width * 2, picture.height * 2)))

        press(display, "Escape")
        wait_for(lambda: not find_windows(display, BOX_TITLE), 10, "the box to close")
        wait_for(
            lambda: display.active_window_title() == "Scratch - Mousepad",
            10,
            "the focus back in the window the person was in",
        )


def test_query_starts_the_app_when_none_runs(tmp_path: Path) -> None:
    data_dir = make_data_dir(tmp_path)
    with xvfb_display(1280, 800) as display:
        env = base_env(display, data_dir)
        try:
            result = subprocess.run(
                [str(CLI), "--data-dir", str(data_dir), "query", "hello"],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=90,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            assert "Started mirix-desktop" in result.stderr
            wait_for_window(display, BOX_TITLE, 20)
        finally:
            send_command(data_dir, "quit", {}, timeout_ms=5000)
            apps = [
                p
                for p in psutil.process_iter(["cmdline"])
                if str(data_dir) in (p.info["cmdline"] or []) and "run" in (p.info["cmdline"] or [])
            ]
            _, alive = psutil.wait_procs(apps, timeout=20)
            for process in alive:
                process.kill()


def test_query_without_a_display_exits_6_with_a_clear_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = base_env(None, data_dir)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    result = cli(env, data_dir, "query", "anything", timeout=60)
    assert result.returncode == 6, result.stderr
    assert "needs a display" in result.stderr
    assert "Traceback" not in result.stderr
