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
