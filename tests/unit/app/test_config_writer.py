"""Exclusions chosen at first run are written into config.toml, keeping the person's edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirix_desktop.app.config_writer import add_exclusions
from mirix_desktop.config import load_settings
from mirix_desktop.errors import ConfigError
from mirix_desktop.privacy.exclusions import PrivacyRule

SIGNAL = PrivacyRule(field="app", pattern="Signal")
BANK = PrivacyRule(field="title", pattern="bank")

EXISTING = """\
# My settings. Do not lose this comment.
[capture]
interval_s = 5.0  # slow machine

[privacy]
# e-mails are private too
redact_emails = true

[[privacy.exclude]]
field = "app"
pattern = "Signal"
regex = false

[llm]
provider = "extractive"
"""


def test_a_new_config_file_gets_the_rules(tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.toml"
    assert add_exclusions(config, [SIGNAL, BANK]) == [SIGNAL, BANK]
    assert load_settings(config, environ={}).privacy.exclude == [SIGNAL, BANK]
    assert config.stat().st_mode & 0o777 == 0o600
    assert "[[privacy.exclude]]" in config.read_text()


def test_comments_order_and_other_settings_are_kept(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(EXISTING)
    added = add_exclusions(config, [SIGNAL, BANK])
    assert added == [BANK]  # Signal was already there: not written twice
    text = config.read_text()
    assert text.startswith(EXISTING.split("[llm]")[0])
    assert "interval_s = 5.0  # slow machine" in text
    assert "# e-mails are private too" in text
    assert text.index("[capture]") < text.index("[privacy]") < text.index("[llm]")
    settings = load_settings(config, environ={})
    assert settings.privacy.exclude == [SIGNAL, BANK]
    assert settings.privacy.redact_emails is True
    assert settings.capture.interval_s == 5.0
    assert settings.llm.provider == "extractive"


def test_nothing_new_leaves_the_file_untouched(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(EXISTING)
    before = config.stat().st_mtime_ns
    assert add_exclusions(config, [SIGNAL]) == []
    assert config.read_text() == EXISTING
    assert config.stat().st_mtime_ns == before


def test_an_inline_list_keeps_its_style(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('privacy.exclude = [{field = "app", pattern = "Signal"}]\n')
    add_exclusions(config, [BANK])
    assert load_settings(config, environ={}).privacy.exclude == [SIGNAL, BANK]
    assert "[[privacy.exclude]]" not in config.read_text()


def test_a_regex_rule_round_trips(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    rule = PrivacyRule(field="url", pattern=r"^https://bank\.example/", regex=True)
    add_exclusions(config, [rule])
    assert load_settings(config, environ={}).privacy.exclude == [rule]


@pytest.mark.parametrize("text", ["[privacy\nbroken = ", 'privacy = "off"\n'])
def test_a_broken_file_is_named_and_left_alone(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=r"config\.toml"):
        add_exclusions(config, [BANK])
    assert config.read_text() == text


# -- write_options (the settings window) ----------------------------------------------


def test_write_options_changes_values_and_keeps_comments_and_order(tmp_path: Path) -> None:
    from mirix_desktop.app.config_writer import write_options

    config = tmp_path / "config.toml"
    config.write_text(EXISTING)
    write_options(
        config,
        {
            "capture": {"interval_s": 7.5, "idle_pause_s": 60.0},
            "ui": {"hotkey": "Super+F12"},
            "privacy": {"exclude": [BANK.model_dump(), SIGNAL.model_dump()]},
        },
    )
    text = config.read_text()
    assert text.startswith("# My settings. Do not lose this comment.\n[capture]\n")
    assert "interval_s = 7.5  # slow machine" in text  # the value's own comment stays
    assert "# e-mails are private too" in text
    assert text.index("[capture]") < text.index("[privacy]") < text.index("[llm]")
    assert text.index("[llm]") < text.index("[ui]")  # a new section goes at the end
    settings = load_settings(config, environ={})
    assert settings.capture.interval_s == 7.5 and settings.capture.idle_pause_s == 60
    assert settings.ui.hotkey == "Super+F12"
    assert settings.privacy.exclude == [BANK, SIGNAL]  # replaced, in the new order
    assert settings.privacy.redact_emails is True and settings.llm.provider == "extractive"


def test_write_options_removes_keys_sections_and_empties_rules(tmp_path: Path) -> None:
    from mirix_desktop.app.config_writer import write_options

    config = tmp_path / "config.toml"
    config.write_text("stray = 1\n" + EXISTING + "snapshot = true\n\n[shortcuts]\nkey = 1\n")
    write_options(
        config,
        {
            "stray": None,
            "shortcuts": None,
            "llm": {"provider": None, "snapshot": None},
            "privacy": {"exclude": []},
        },
    )
    text = config.read_text()
    assert "stray" not in text and "shortcuts" not in text and "provider" not in text
    assert "# My settings. Do not lose this comment." in text
    settings = load_settings(config, environ={})  # valid again
    assert settings.privacy.exclude == [] and settings.llm.provider == "auto"
    assert settings.capture.interval_s == 5.0


def test_write_options_creates_an_owner_only_file_and_refuses_a_broken_one(
    tmp_path: Path,
) -> None:
    from mirix_desktop.app.config_writer import write_options

    config = tmp_path / "new" / "config.toml"
    write_options(config, {"capture": {"interval_s": 3.0}})
    assert config.stat().st_mode & 0o777 == 0o600
    assert load_settings(config, environ={}).capture.interval_s == 3.0
    broken = tmp_path / "broken.toml"
    broken.write_text("[capture\n")
    with pytest.raises(ConfigError, match="cannot read"):
        write_options(broken, {"capture": {"interval_s": 3.0}})
    assert broken.read_text() == "[capture\n"
