"""A failed answer is logged without what the person asked."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from mirix_desktop.config import Settings
from mirix_desktop.paths import resolve_paths
from mirix_desktop.ui.workers import AnswerJob

QUESTION = "what was the zqxcanaryword on my screen?"


class BrokenServices:
    def __init__(self, data_dir: Path) -> None:
        self.paths = resolve_paths(data_dir)
        self.settings = Settings()

    def store(self) -> Any:
        raise RuntimeError("the store broke")

    def chat_model(self, requested: str | None = None) -> Any:
        return None


@pytest.mark.expected_log("mirix.ui.workers", "ERROR", r"^answering .* failed$")
def test_a_failed_answer_logs_the_error_but_not_the_question(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    job = AnswerJob(BrokenServices(tmp_path), lambda: None, QUESTION, None)
    failures: list[str] = []
    job.signals.failed.connect(failures.append)
    with caplog.at_level(logging.ERROR, logger="mirix"):
        job.run()
    assert failures and "store broke" in failures[0]
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None  # the bug is still there to read
    logged = caplog.text
    assert "zqxcanaryword" not in logged
    assert "my screen" not in logged
