"""The settings window's local model picker: downloads from a loopback stand-in for the Hub."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.config import Settings
from mirix_desktop.llm.catalogue import CATALOGUE
from mirix_desktop.paths import AppPaths, resolve_paths
from mirix_desktop.ui.model_picker import ModelPicker
from mirix_desktop.ui.qt import Qt, QtCore, QtWidgets
from tests.helpers.fake_hub import FakeHub

QWEN = next(entry for entry in CATALOGUE if entry.name == "qwen2.5-0.5b")
LLAMA = next(entry for entry in CATALOGUE if entry.name == "llama3.2-1b")
PAYLOAD = b"GGUF" + hashlib.sha256(b"picker").digest() * 20_000


@dataclass
class PathServices:
    paths: AppPaths
    settings: Settings

    def store(self) -> object:
        raise AssertionError("the model picker needs no store")

    def chat_model(self, requested: str | None = None) -> object:
        raise AssertionError("the model picker builds no model")


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "models"
    monkeypatch.setenv("MIRIX_MODELS_DIR", str(directory))
    return directory


@pytest.fixture
def make_picker(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> Callable[..., ModelPicker]:
    def make(current: str = "") -> ModelPicker:
        settings = Settings()
        settings.local_model.model = current
        picker = ModelPicker(PathServices(resolve_paths(tmp_path / "data"), settings))  # type: ignore[arg-type]
        qtbot.add_widget(picker)
        picker.show()
        qtbot.wait_until(lambda: picker.table.topLevelItem(0).text(2) != "…", timeout=5000)
        return picker

    return make


def row_state(picker: ModelPicker, name: str) -> str:
    for index in range(picker.table.topLevelItemCount()):
        item = picker.table.topLevelItem(index)
        if item.text(0) == name:
            return item.text(2)
    raise AssertionError(name)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_lists_the_catalogue_with_sizes_and_what_is_downloaded_and_in_use(
    make_picker: Callable[..., ModelPicker], models_dir: Path
) -> None:
    models_dir.mkdir()
    (models_dir / LLAMA.filename).write_bytes(b"GGUF")
    (models_dir / QWEN.filename).write_bytes(b"GGUF")
    picker = make_picker(current=QWEN.name)
    names = [picker.table.topLevelItem(i).text(0) for i in range(picker.table.topLevelItemCount())]
    assert names == [entry.name for entry in CATALOGUE]
    assert picker.table.topLevelItem(0).text(1) == "491 MB"
    assert row_state(picker, QWEN.name) == "In use"
    assert row_state(picker, LLAMA.name) == "Downloaded"
    assert row_state(picker, "qwen2.5-3b") == "Not downloaded"
    # The model in use is selected; it cannot be chosen again nor downloaded.
    assert picker.selected() == QWEN.name
    assert not picker.use_button.isEnabled()
    assert not picker.download_button.isEnabled()
    picker.select("qwen2.5-3b")
    assert picker.download_button.isEnabled() and not picker.use_button.isEnabled()
    assert picker.description.text() == CATALOGUE[2].description
    assert str(models_dir) in picker.folder_label.text()


def test_a_download_shows_its_progress_then_the_model_can_be_chosen(
    qtbot: QtBot, make_picker: Callable[..., ModelPicker], models_dir: Path, hub: FakeHub
) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    picker = make_picker()
    picker.select(QWEN.name)
    values: list[int] = []
    picker.progress.valueChanged.connect(values.append)
    with qtbot.wait_signal(picker.downloaded, timeout=15_000) as finished:
        qtbot.mouseClick(picker.download_button, Qt.MouseButton.LeftButton)
        assert picker.cancel_button.isVisible() and not picker.download_button.isVisible()
        assert row_state(picker, QWEN.name).startswith("Downloading")
    assert finished.args == [QWEN.name]
    assert (models_dir / QWEN.filename).read_bytes() == PAYLOAD
    assert values[-1] == 1000, values  # the bar reached the end before it was hidden
    assert picker.status.kind == "ok"
    assert "Downloaded qwen2.5-0.5b" in picker.status.text()
    qtbot.wait_until(lambda: row_state(picker, QWEN.name) == "Downloaded", timeout=5000)
    assert not picker.progress.isVisible()
    assert picker.download_button.isVisible() and not picker.download_button.isEnabled()
    with qtbot.wait_signal(picker.chosen, timeout=1000) as chosen:
        qtbot.mouseClick(picker.use_button, Qt.MouseButton.LeftButton)
    assert chosen.args == [QWEN.name]
    assert row_state(picker, QWEN.name) == "In use"


def test_cancel_stops_the_download_and_keeps_nothing(
    qtbot: QtBot, make_picker: Callable[..., ModelPicker], models_dir: Path, hub: FakeHub
) -> None:
    held = hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    held.hold_at = len(PAYLOAD) // 2
    picker = make_picker()
    picker.select(QWEN.name)
    picker.download(QWEN.name)
    # The first progress report: the file is being received.
    qtbot.wait_until(
        lambda: "Downloading qwen2.5-0.5b: 0 MB of" in picker.status.text(), timeout=10_000
    )
    qtbot.mouseClick(picker.cancel_button, Qt.MouseButton.LeftButton)
    assert not picker.cancel_button.isEnabled()
    held.release.set()
    qtbot.wait_until(lambda: picker.downloading is None, timeout=10_000)
    assert picker.status.text() == (
        "The download of qwen2.5-0.5b was cancelled; nothing of it was kept."
    )
    assert picker.status.kind == "info"
    assert list(models_dir.iterdir()) == []  # neither the file nor a partial one
    qtbot.wait_until(lambda: row_state(picker, QWEN.name) == "Not downloaded", timeout=5000)
    assert picker.download_button.isVisible() and picker.download_button.isEnabled()


def test_without_a_network_the_error_says_so_and_the_picker_recovers(
    qtbot: QtBot,
    make_picker: Callable[..., ModelPicker],
    models_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    picker = make_picker()
    picker.select(QWEN.name)
    qtbot.mouseClick(picker.download_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: picker.downloading is None, timeout=15_000)
    assert picker.status.kind == "error"
    text = picker.status.text()
    assert text == (
        f"Could not download qwen2.5-0.5b: network error talking to {endpoint}: connection "
        "refused. Check that this computer is online, then try again."
    ), text
    assert not picker.progress.isVisible()
    assert picker.download_button.isEnabled()
    assert not models_dir.exists() or list(models_dir.iterdir()) == []


def test_a_file_missing_on_the_hub_is_named(
    qtbot: QtBot, make_picker: Callable[..., ModelPicker], hub: FakeHub
) -> None:
    hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD).missing = True
    picker = make_picker()
    picker.download(QWEN.name)
    qtbot.wait_until(lambda: picker.downloading is None, timeout=15_000)
    assert picker.status.kind == "error"
    assert f"{QWEN.filename} is not in {QWEN.repo_id}" in picker.status.text()
    assert "404" in picker.status.text()


def test_closing_during_a_download_cancels_it(
    qtbot: QtBot, make_picker: Callable[..., ModelPicker], models_dir: Path, hub: FakeHub
) -> None:
    held = hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    held.hold_at = len(PAYLOAD) // 2
    picker = make_picker()
    picker.download(QWEN.name)
    qtbot.wait_until(lambda: "Downloading" in picker.status.text(), timeout=10_000)
    # The rest of the file arrives while the widget is being deleted.
    threading.Timer(0.3, held.release.set).start()
    picker.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    QtWidgets.QApplication.processEvents()
    assert list(models_dir.iterdir()) == []


def test_shutdown_cancels_a_download_and_waits_for_it(
    make_picker: Callable[..., ModelPicker], models_dir: Path, hub: FakeHub, qtbot: QtBot
) -> None:
    held = hub.add(QWEN.repo_id, QWEN.filename, PAYLOAD)
    held.hold_at = len(PAYLOAD) // 2
    picker = make_picker()
    picker.download(QWEN.name)
    qtbot.wait_until(lambda: "Downloading" in picker.status.text(), timeout=10_000)
    threading.Timer(0.3, held.release.set).start()
    assert picker.shutdown(10_000)
    assert list(models_dir.iterdir()) == []
