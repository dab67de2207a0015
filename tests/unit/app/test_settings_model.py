"""The settings window's schema: every option, one value checked, a bad file read kindly."""

from __future__ import annotations

from pathlib import Path

from mirix_desktop.app.settings_model import (
    check_value,
    find_spec,
    option_specs,
    parse_config_text,
    read_config_file,
)
from mirix_desktop.config import Settings
from mirix_desktop.privacy.exclusions import PrivacyRule


def test_every_option_of_the_schema_is_listed_with_its_description() -> None:
    specs = {spec.key: spec for spec in option_specs()}
    expected = {
        f"{section}.{name}"
        for section, field in Settings.model_fields.items()
        for name in field.annotation.model_fields  # type: ignore[union-attr]
    }
    assert set(specs) == expected
    assert all(spec.description for spec in specs.values())
    interval = specs["capture.interval_s"]
    assert (interval.kind, interval.default, interval.minimum, interval.maximum) == (
        "float",
        2.0,
        0.25,
        600.0,
    )
    assert specs["llm.provider"].choices == ("auto", "extractive", "local", "openai")
    assert specs["privacy.exclude"].kind == "rules"
    assert specs["mcp.exclude_apps"].kind == "str_list"
    assert find_spec("ui.hotkey").kind == "str"


def test_one_value_is_checked_by_the_same_model_as_the_file() -> None:
    assert check_value("capture", "interval_s", 5).value == 5.0
    low = check_value("capture", "interval_s", 0.1)
    assert low.problem == "must be greater than or equal to 0.25"
    assert "not a key chord" in (check_value("ui", "hotkey", "A").problem or "")
    assert check_value("ui", "hotkey", " Ctrl+Alt+M ").value == "Ctrl+Alt+M"
    bad_regex = check_value(
        "privacy", "exclude", [{"field": "title", "pattern": "(", "regex": True}]
    )
    assert bad_regex.problem is not None
    assert "entry 1" in bad_regex.problem and "not a valid regular expression" in bad_regex.problem
    assert check_value("capture", "nope", 1).problem == "is not an option MIRIX knows (a typo?)"


def test_a_hand_edited_file_keeps_its_valid_options_and_names_each_bad_key() -> None:
    text = """\
[capture]
interval_s = "fast"
idle_pause_s = 60
snapshot = true

[privacy]
redact_emails = true
[[privacy.exclude]]
field = "app"
pattern = "Signal"

[shortcuts]
hotkey = "Ctrl+K"
"""
    contents = parse_config_text(text)
    problems = {p.key: p.problem for p in contents.problems}
    assert set(problems) == {"capture.interval_s", "capture.snapshot", "shortcuts"}
    assert "number" in problems["capture.interval_s"]
    assert "typo" in problems["capture.snapshot"]
    settings = contents.settings()
    assert settings.capture.idle_pause_s == 60
    assert settings.privacy.redact_emails is True
    assert settings.privacy.exclude == [PrivacyRule(field="app", pattern="Signal")]
    assert settings.capture.interval_s == 2.0  # the bad value is not used


def test_a_file_that_is_not_toml_is_one_problem_with_its_place(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[capture\ninterval_s = 3\n")
    contents = read_config_file(config)
    assert contents.values == {}
    assert [p.key for p in contents.problems] == ["(the whole file)"]
    assert "line 1" in contents.problems[0].problem
    assert read_config_file(tmp_path / "missing.toml").problems == []


def test_run_starts_with_the_valid_part_of_a_file_with_mistakes(tmp_path: Path) -> None:
    import pytest

    from mirix_desktop.app.settings_model import load_tolerant
    from mirix_desktop.errors import ConfigError

    config = tmp_path / "config.toml"
    config.write_text('[capture]\ninterval_s = "fast"\nidle_pause_s = 60\nthumbnail_width = 0\n')
    settings, problems = load_tolerant(config, environ={"MIRIX_CAPTURE_THUMBNAIL_WIDTH": "160"})
    assert [p.key for p in problems] == ["capture.interval_s"]
    assert settings.capture.interval_s == 2.0  # the default stands in
    assert settings.capture.idle_pause_s == 60  # the rest of the file is kept
    assert settings.capture.thumbnail_width == 160  # the environment still wins
    config.write_text("[capture]\nidle_pause_s = 60\n")
    assert load_tolerant(config, environ={})[1] == []
    with pytest.raises(ConfigError, match=r"capture\.interval_s"):  # not the file's mistake
        load_tolerant(config, environ={"MIRIX_CAPTURE_INTERVAL_S": "fast"})
