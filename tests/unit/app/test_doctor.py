"""The set-up checks as data: a failure is a failed check, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirix_desktop.app.doctor import Check, ModelChoice, check_model, doctor_checks
from mirix_desktop.app.services import AppServices
from tests.conftest import PASSPHRASE


def test_checks_in_order_with_the_store_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRIX_PASSPHRASE", PASSPHRASE)
    services = AppServices.create(tmp_path / "data")
    try:
        checks = doctor_checks(services)
    finally:
        services.close()
    assert [check.name for check in checks] == ["config", "store", "ocr", "hotkey", "model"]
    store = checks[1]
    assert store.ok and "0 memories" in store.detail and "key: passphrase" in store.detail
    assert checks[4] == Check(
        "model",
        True,
        "provider extractive: no language model; answers quote your memories. "
        "Configure local_model.model or openai.model for written answers.",
    )


def test_a_store_that_does_not_open_is_a_failed_check(tmp_path: Path) -> None:
    services = AppServices.create(tmp_path / "data")
    checks = doctor_checks(services)
    assert not checks[1].ok and "MIRIX_PASSPHRASE" in checks[1].detail


def test_a_model_flag_without_a_provider_is_a_failed_model_check(tmp_path: Path) -> None:
    services = AppServices.create(tmp_path / "data")
    check = check_model(services, ModelChoice(model="some-model"))
    assert not check.ok and "--provider" in check.detail
