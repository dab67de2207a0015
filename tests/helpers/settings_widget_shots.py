"""Pictures of the settings window's widgets (model picker, API key, Test, space) to look at.

    .venv/bin/python -m tests.helpers.settings_widget_shots OUT_DIR

Each look (light, dark, light at 200 %) runs in its own process, because the
theme and QT_SCALE_FACTOR are read when Qt starts, on Qt's offscreen
platform: downloads come from the loopback stand-in for the Hub, answers
from the loopback OpenAI-compatible server, keys from an in-memory keyring.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

LOOKS = {
    "light": {"MIRIX_UI_THEME": "light"},
    "dark": {"MIRIX_UI_THEME": "dark"},
    "scale2": {"MIRIX_UI_THEME": "light", "QT_SCALE_FACTOR": "2"},
}


def _one_look(out: Path, look: str) -> None:
    import keyring

    from mirix_desktop.app.retention import GB, run_retention
    from mirix_desktop.config import Settings, StorageSettings
    from mirix_desktop.llm.catalogue import CATALOGUE
    from mirix_desktop.memory import frames as frame_rows
    from mirix_desktop.memory.embedder import StaticEmbedder
    from mirix_desktop.memory.keys import KeySource
    from mirix_desktop.memory.store import MemoryStore
    from mirix_desktop.paths import resolve_paths
    from mirix_desktop.ui.api_key_field import ApiKeyField
    from mirix_desktop.ui.model_picker import ModelPicker
    from mirix_desktop.ui.provider_test import ProviderTestButton
    from mirix_desktop.ui.qt import QtCore, QtWidgets
    from mirix_desktop.ui.space_view import SpaceView
    from mirix_desktop.ui.theme import apply_theme
    from tests.conftest import MODELS_DIR
    from tests.helpers.fake_hub import FakeHub
    from tests.helpers.fake_openai import FakeOpenAIServer
    from tests.helpers.keyring_backend import MemoryKeyring
    from tests.integration.ui.conftest import StoreServices

    qapp = QtWidgets.QApplication(["mirix-desktop"])
    apply_theme(qapp)

    def wait(condition: Callable[[], bool], timeout_s: float = 20) -> None:
        deadline = datetime.now() + timedelta(seconds=timeout_s)
        while not condition() and datetime.now() < deadline:
            qapp.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)

    def page(widget: QtWidgets.QWidget, title: str) -> QtWidgets.QWidget:
        """The widget as a settings page holds it: in a group box, a page's width."""
        frame = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(frame)
        box = QtWidgets.QGroupBox(title, frame)
        inner = QtWidgets.QVBoxLayout(box)
        inner.addWidget(widget)
        layout.addWidget(box)
        layout.addStretch(1)
        frame.resize(frame.fontMetrics().averageCharWidth() * 84, frame.sizeHint().height())
        frame.show()
        return frame

    def shot(frame: QtWidgets.QWidget, name: str) -> None:
        wait(lambda: False, 0.2)
        frame.adjustSize()
        frame.resize(frame.fontMetrics().averageCharWidth() * 84, frame.sizeHint().height())
        wait(lambda: False, 0.2)
        frame.grab().save(str(out / f"settings-widget-{name}-{look}.png"))

    with tempfile.TemporaryDirectory() as scratch, FakeHub() as hub, FakeOpenAIServer() as server:
        root = Path(scratch)
        os.environ["HF_ENDPOINT"] = hub.url
        os.environ["MIRIX_MODELS_DIR"] = str(root / "models")
        (root / "models").mkdir()
        qwen = next(entry for entry in CATALOGUE if entry.name == "qwen2.5-0.5b")
        small = next(entry for entry in CATALOGUE if entry.name == "qwen2.5-1.5b")
        (root / "models" / small.filename).write_bytes(b"GGUF")
        payload = b"GGUF" + bytes(25_000_000)
        held = hub.add(qwen.repo_id, qwen.filename, payload)
        held.hold_at = 12_000_000

        store = MemoryStore.open(
            root / "data" / "mirix.db", KeySource(passphrase="shots"), StaticEmbedder(MODELS_DIR)
        )
        now = datetime.now().astimezone()
        for day in range(4):
            with store.transaction() as conn:
                for i in range(40):
                    frame_rows.insert_frame(
                        conn,
                        frame_rows.NewFrame(
                            captured_at=now - timedelta(days=3 - day, minutes=90 - i),
                            monitor=0,
                            app="editor",
                            window_title="notes",
                            url=None,
                            image_hash=f"{day:08x}{i:08x}",
                            width=1920,
                            height=1080,
                            thumbnail=os.urandom(20_000),
                            changed_share=0.1,
                        ),
                    )
        (root / "data" / "logs").mkdir()
        (root / "data" / "logs" / "daemon.log").write_bytes(b"x" * 180_000)

        settings = Settings()
        settings.local_model.model = small.name
        settings.llm.provider = "openai"
        settings.openai.base_url = server.base_url
        settings.openai.model = server.model
        services = StoreServices(resolve_paths(root / "data"), settings, store)

        # The model picker: a download under way, then done, then an error.
        picker = ModelPicker(services)
        frame = page(picker, "Local model")
        wait(lambda: picker.table.topLevelItem(0).text(2) != "…")
        picker.select(qwen.name)
        picker.download(qwen.name)
        wait(lambda: picker.progress.value() > 0)
        shot(frame, "model-downloading")
        held.release.set()
        wait(lambda: picker.downloading is None)
        wait(lambda: picker.table.topLevelItem(0).text(2) == "Downloaded")
        shot(frame, "model-downloaded")
        os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
        picker.select("llama3.2-1b")
        picker.download("llama3.2-1b")
        wait(lambda: picker.downloading is None)
        shot(frame, "model-error")
        frame.close()

        # The API key: none kept, then kept; a machine without a secure keyring.
        memory = MemoryKeyring()
        keyring.set_keyring(memory)
        key_field = ApiKeyField(services)
        frame = page(key_field, "API key")
        wait(lambda: key_field.stored is not None)
        key_field.key_edit.setText("sk-shots-0123456789")
        shot(frame, "apikey-typing")
        key_field.save()
        wait(lambda: key_field.stored is True)
        shot(frame, "apikey-stored")
        frame.close()
        from keyring.backends import fail

        keyring.set_keyring(fail.Keyring())
        bare = ApiKeyField(services)
        frame = page(bare, "API key")
        wait(lambda: not bare.state_label.text().startswith("Looking"))
        shot(frame, "apikey-nokeyring")
        frame.close()

        # The Test button: an answer, then a refused key.
        server.reply("OK", chunk_delay_s=0.02)
        tester = ProviderTestButton(services, lambda: settings)
        frame = page(tester, "Test the model")
        tester.run_test()
        wait(lambda: not tester.running)
        shot(frame, "test-ok")
        server.fail(401, "Incorrect API key provided: sk-shots***789")
        tester.run_test()
        wait(lambda: not tester.running)
        shot(frame, "test-401")
        frame.close()

        # Space: a cap, its forecast and the last run.
        with store.read() as conn:
            from mirix_desktop.memory import retention as raw

            used = raw.store_space(conn).used_bytes
        capped = Settings(
            storage=StorageSettings.model_validate({"max_gb": used * 6 / GB, "min_free_gb": 0})
        )
        run_retention(store, capped)
        services.settings = capped
        space = SpaceView(services)
        frame = page(space, "Space")
        wait(lambda: space.report is not None and not space.busy)
        shot(frame, "space")
        run_retention(store, Settings(storage=StorageSettings(max_gb=0.001, min_free_gb=0)))
        space.refresh(Settings(storage=StorageSettings(max_gb=0.001, min_free_gb=0)))
        wait(lambda: not space.busy)
        wait(lambda: False, 0.3)
        shot(frame, "space-overcap")
        frame.close()
        store.close()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    out.mkdir(parents=True, exist_ok=True)
    if len(sys.argv) > 2:
        _one_look(out, sys.argv[2])
        return
    for look, extra in LOOKS.items():
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **extra}
        if "QT_SCALE_FACTOR" not in extra:
            env.pop("QT_SCALE_FACTOR", None)
        subprocess.run(
            [sys.executable, "-m", "tests.helpers.settings_widget_shots", str(out), look],
            env=env,
            check=True,
            timeout=180,
        )
        print(f"{look}: saved in {out}")
    print("\n".join(sorted(str(p) for p in out.glob("settings-widget-*.png"))))


if __name__ == "__main__":
    main()
