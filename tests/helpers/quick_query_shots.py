"""Pictures of the quick query box for people to look at: light, dark, 200%, results, an answer.

    .venv/bin/python -m tests.helpers.quick_query_shots OUT_DIR

Each look runs in its own process (the theme and QT_SCALE_FACTOR are read
when Qt starts) on a private Xvfb display, over a small encrypted store,
with answers from the loopback OpenAI-compatible server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

LOOKS = {
    "light": {"MIRIX_UI_THEME": "light"},
    "dark": {"MIRIX_UI_THEME": "dark"},
    "scale2": {"MIRIX_UI_THEME": "light", "QT_SCALE_FACTOR": "2"},
}


def _one_look(out: Path, look: str) -> None:
    from mirix_desktop.config import Settings
    from mirix_desktop.memory.embedder import StaticEmbedder
    from mirix_desktop.memory.keys import KeySource
    from mirix_desktop.memory.records import EpisodicMemory, ResourceMemory
    from mirix_desktop.memory.store import MemoryStore
    from mirix_desktop.paths import resolve_paths
    from mirix_desktop.ui.qt import QtCore, QtWidgets
    from mirix_desktop.ui.quick_query import QuickQueryBox
    from mirix_desktop.ui.theme import apply_theme
    from tests.conftest import MODELS_DIR
    from tests.helpers.fake_openai import FakeOpenAIServer
    from tests.integration.ui.conftest import StoreServices

    qapp = QtWidgets.QApplication(["mirix-desktop"])
    apply_theme(qapp)
    now = datetime.now().astimezone()
    with tempfile.TemporaryDirectory() as scratch, FakeOpenAIServer() as server:
        store = MemoryStore.open(
            Path(scratch) / "mirix.db", KeySource(passphrase="shots"), StaticEmbedder(MODELS_DIR)
        )
        yesterday = (now - timedelta(days=1)).replace(hour=14, minute=2)
        store.add_many(
            [
                ResourceMemory(
                    content="JIRA-4521 login page crashes on Safari when the session cookie "
                    "expires; steps to reproduce and a stack trace <script>",
                    title="JIRA-4521 Login crash - Firefox",
                    app="firefox",
                    first_seen=yesterday,
                    last_seen=yesterday,
                ),
                EpisodicMemory(
                    summary="Fixed the login crash ticket in the editor",
                    details="Edited session.py: cookie expiry check; ran the login tests",
                    app="code",
                    title="session.py - auth - Visual Studio Code",
                    started_at=yesterday + timedelta(hours=1),
                    ended_at=yesterday + timedelta(hours=2),
                ),
                ResourceMemory(
                    content="#login-team: the crash on Safari is back, can someone look?",
                    title="Slack | login-team",
                    app="slack",
                    first_seen=now - timedelta(days=4),
                    last_seen=now - timedelta(days=4),
                ),
                ResourceMemory(
                    content="Login form redesign review notes: crash reports dropped by half",
                    title="Design review.odt - LibreOffice Writer",
                    app="libreoffice",
                    first_seen=now - timedelta(days=40),
                    last_seen=now - timedelta(days=40),
                ),
            ]
        )
        settings = Settings()
        settings.llm.provider = "openai"
        settings.openai.base_url = server.base_url
        settings.openai.model = server.model
        server.reply(
            "Yesterday afternoon you read **JIRA-4521**: the login page crashes on Safari "
            "when the session cookie expires [1]. You then fixed the expiry check in "
            "`session.py` [2].",
            chunk_chars=6,
            chunk_delay_s=0.01,
        )
        services = StoreServices(resolve_paths(Path(scratch)), settings, store)
        box = QuickQueryBox(services)
        box.open("login crash yesterday")

        def wait(condition: object, timeout_s: float = 20) -> None:
            loop_deadline = datetime.now() + timedelta(seconds=timeout_s)
            while not condition() and datetime.now() < loop_deadline:  # type: ignore[operator]
                qapp.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)

        wait(lambda: box.results is not None and box.results.query == "login crash yesterday")
        wait(lambda: False, 0.3)
        box.grab().save(str(out / f"quick-query-results-{look}.png"))
        box.input.setText("login crash")
        wait(lambda: box.results is not None and box.results.query == "login crash")
        wait(lambda: False, 0.3)
        box.grab().save(str(out / f"quick-query-results-nochip-{look}.png"))
        box.input.setText("what was the login crash about yesterday afternoon")
        box.ask()
        finished: list[object] = []
        box.answer_finished.connect(finished.append)
        wait(lambda: bool(finished), 30)
        wait(lambda: False, 0.3)
        box.grab().save(str(out / f"quick-query-answer-{look}.png"))
        box.input.setText('" NEAR( the *')
        wait(lambda: box.results is not None and box.results.query == '" NEAR( the *')
        wait(lambda: False, 0.3)
        box.grab().save(str(out / f"quick-query-syntax-{look}.png"))
        box.shutdown()
        store.close()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    out.mkdir(parents=True, exist_ok=True)
    if len(sys.argv) > 2:
        _one_look(out, sys.argv[2])
        return
    from tests.helpers.xdisplay import xvfb_display

    with xvfb_display(1920, 1080) as display:
        for look, extra in LOOKS.items():
            env = display.env | extra | {"MIRIX_PASSPHRASE": "shots"}
            env.pop("QT_SCALE_FACTOR", None) if "QT_SCALE_FACTOR" not in extra else None
            subprocess.run(
                [sys.executable, "-m", "tests.helpers.quick_query_shots", str(out), look],
                env=env,
                check=True,
                timeout=120,
            )
            print(f"{look}: saved in {out}")
    print("\n".join(sorted(str(p) for p in out.glob("quick-query-*.png"))))


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    main()
