"""The storage section and the battery policy: defaults, and bad values refused in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirix_desktop.config import Settings, load_settings
from mirix_desktop.errors import ConfigError


def _load(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config, environ={})


def test_defaults_keep_everything_with_no_cap_and_a_1_gb_floor() -> None:
    settings = Settings()
    assert settings.storage.retention_days == 0
    assert settings.storage.max_gb == 0
    assert settings.storage.min_free_gb == 1.0
    assert settings.capture.on_battery == "slower"
    assert settings.capture.battery_interval_s == 10.0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.5", r"storage\.retention_days: .*a retention shorter than a day \(0\.5\) is not "
                r"allowed: use 1 or more days, or 0 to keep everything"),
        ("-3", r"storage\.retention_days: .*cannot be negative: use 0 to keep everything"),
        ("1.5", r"storage\.retention_days: .*a whole number of days, not 1\.5"),
    ],
)  # fmt: skip
def test_a_retention_shorter_than_a_day_is_refused_with_the_reason(
    tmp_path: Path, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, f"[storage]\nretention_days = {value}\n")


def test_whole_days_are_kept_as_they_are(tmp_path: Path) -> None:
    assert _load(tmp_path, "[storage]\nretention_days = 30\n").storage.retention_days == 30
    assert _load(tmp_path, "[storage]\nretention_days = 2.0\n").storage.retention_days == 2


def test_the_environment_sets_retention_too(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"MIRIX_STORAGE_RETENTION_DAYS": "7"})
    assert settings.storage.retention_days == 7
    with pytest.raises(ConfigError, match="shorter than a day"):
        load_settings(None, environ={"MIRIX_STORAGE_RETENTION_DAYS": "0.25"})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[storage]\nmax_gb = -1\n", "storage.max_gb"),
        ("[storage]\nmin_free_gb = -0.5\n", "storage.min_free_gb"),
        ('[capture]\non_battery = "sleep"\n', "capture.on_battery"),
        ("[capture]\nbattery_interval_s = 0\n", "capture.battery_interval_s"),
    ],
)
def test_other_bad_values_name_their_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        _load(tmp_path, text)
