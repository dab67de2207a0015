from pathlib import Path

import pytest

from mirix_desktop.config import load_settings
from mirix_desktop.errors import ConfigError


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.toml", environ={})
    assert settings.search.default_limit == 10
    assert settings.embedding.model == "static-minilm"


def test_file_then_env_then_cli_override_in_that_order(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[search]\ndefault_limit = 20\ncandidates = 50\n")
    settings = load_settings(
        config,
        environ={"MIRIX_SEARCH_DEFAULT_LIMIT": "30"},
        cli_overrides={"search": {"candidates": 70}},
    )
    assert settings.search.default_limit == 30
    assert settings.search.candidates == 70


def test_unknown_key_is_rejected_by_name(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[search]\ndefault_limt = 20\n")
    with pytest.raises(ConfigError, match="default_limt"):
        load_settings(config, environ={})


def test_invalid_value_names_file_and_option(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[store]\ncache_mb = 1\n")
    with pytest.raises(ConfigError, match=r"config.toml.*store.cache_mb"):
        load_settings(config, environ={})


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[search\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(config, environ={})


def test_openai_base_url_is_the_default_under_file_and_mirix_variable(tmp_path: Path) -> None:
    sdk = {"OPENAI_BASE_URL": "http://sdk-default:8080/v1"}
    assert load_settings(None, sdk).openai.base_url == "http://sdk-default:8080/v1"
    file = tmp_path / "config.toml"
    file.write_text('[openai]\nbase_url = "http://from-file/v1"\n', encoding="utf-8")
    assert load_settings(file, sdk).openai.base_url == "http://from-file/v1"
    ours = {**sdk, "MIRIX_OPENAI_BASE_URL": "http://ours/v1"}
    assert load_settings(None, ours).openai.base_url == "http://ours/v1"
    assert load_settings(None, {}).openai.base_url == "https://api.openai.com/v1"
