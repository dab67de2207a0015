"""The conftest's log guard: an undeclared mirix warning fails a test, a declared one does not."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import LogGuard


def test_an_undeclared_warning_or_error_fails_the_test(log_guard: LogGuard) -> None:
    logging.getLogger("mirix.pipeline.example").warning("the disk is %s", "full")
    logging.getLogger("mirix_desktop.ui.tray").error("no tray")
    with pytest.raises(pytest.fail.Exception) as failed:
        log_guard.check("now")
    message = str(failed.value)
    assert "mirix.pipeline.example WARNING: the disk is full" in message
    assert "mirix_desktop.ui.tray ERROR: no tray" in message
    # Reported once; other loggers and lower levels are not the guard's business.
    logging.getLogger("mirix.pipeline.example").info("fine")
    logging.getLogger("somebody.else").warning("not ours")
    log_guard.check("now")


@pytest.mark.expected_log("mirix.ocr", "WARNING", r"^OCR failed on \d+ regions$")
def test_a_declared_record_passes_but_only_at_its_level(log_guard: LogGuard) -> None:
    logging.getLogger("mirix.ocr.engine").warning("OCR failed on %d regions", 3)
    log_guard.check("now")
    assert len(log_guard.seen("mirix.ocr", "WARNING", "3 regions")) == 1
    logging.getLogger("mirix.ocr").error("OCR failed on 3 regions")
    logging.getLogger("mirix.ocr").warning("something else")
    with pytest.raises(pytest.fail.Exception, match="ERROR: OCR failed") as failed:
        log_guard.check("now")
    assert "something else" in str(failed.value)


def test_a_record_expected_at_run_time(log_guard: LogGuard) -> None:
    log_guard.expect("mirix.daemon", "ERROR", "internal error")
    logging.getLogger("mirix.daemon").error("internal error in the OCR worker")
    log_guard.check("now")
