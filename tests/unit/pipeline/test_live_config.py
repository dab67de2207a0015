"""The daemon follows config.toml: live options change in place, a bad file changes nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mirix_desktop.app.config_writer import write_options
from mirix_desktop.config import load_settings
from mirix_desktop.pipeline.live_config import ConfigWatcher
from mirix_desktop.privacy.exclusions import PrivacyRule

CONFIG = """\
[capture]
interval_s = 2.0
[ocr]
engine = "auto"
"""


def _watcher(tmp_path: Path) -> ConfigWatcher:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    return ConfigWatcher(config, load_settings(config, environ={}))


def test_nothing_happens_while_the_file_is_unchanged(tmp_path: Path) -> None:
    watcher = _watcher(tmp_path)
    assert watcher.poll() is None


def test_live_options_change_in_place_and_the_others_wait_for_a_restart(tmp_path: Path) -> None:
    watcher = _watcher(tmp_path)
    capture = watcher.settings.capture  # what the submitter holds
    rule = PrivacyRule(field="title", pattern="bank")
    write_options(
        watcher.config_file,
        {
            "capture": {"interval_s": 0.5, "episode_gap_s": 60.0},
            "ocr": {"engine": "pytesseract"},
            "privacy": {"exclude": [rule]},
        },
    )
    reload = watcher.poll()
    assert reload is not None
    assert reload.applied == ("capture.interval_s", "privacy.exclude")
    assert reload.need_restart == ("capture.episode_gap_s", "ocr.engine")
    assert capture.interval_s == 0.5 and watcher.settings.capture is capture
    assert watcher.settings.privacy.exclude == [rule]
    assert watcher.settings.ocr.engine == "auto" and capture.episode_gap_s == 300.0
    assert watcher.poll() is None  # seen once


@pytest.mark.expected_log("mirix.daemon.config", "WARNING", r"has an error")
def test_a_file_with_an_error_keeps_the_settings_and_logs_keys_not_values(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = _watcher(tmp_path)
    watcher.config_file.write_text(
        '[capture]\ninterval_s = "secret-looking-value"\nidle_pause_s = 5\n'
    )
    with caplog.at_level(logging.WARNING, logger="mirix.daemon.config"):
        assert watcher.poll() is None
    assert watcher.settings.capture.interval_s == 2.0
    assert watcher.settings.capture.idle_pause_s == 300.0  # nothing of a bad file is taken
    assert "capture.interval_s" in caplog.text
    assert "secret-looking-value" not in caplog.text
    watcher.config_file.write_text("[capture\n")
    with caplog.at_level(logging.WARNING, logger="mirix.daemon.config"):
        assert watcher.poll() is None
    assert "not valid TOML" in caplog.text
