import keyring
import pytest

from mirix_desktop.config import OpenAISettings
from mirix_desktop.errors import KeyUnavailable
from mirix_desktop.llm import api_key
from tests.helpers.keyring_backend import MemoryKeyring

URL = "https://llm.example.org/v1"
SETTINGS = OpenAISettings(base_url=URL, model="m", api_key_env="TEST_LLM_KEY")


class PlaintextFileKeyring(MemoryKeyring):
    """Looks like keyrings.alt's plaintext backend: must never be used."""


PlaintextFileKeyring.__module__ = "keyrings.alt.file"


def test_stored_key_comes_from_the_keyring_before_the_environment(
    memory_keyring: MemoryKeyring,
) -> None:
    api_key.store_api_key(URL, "sk-from-keyring")
    assert memory_keyring.secrets == {("mirix-desktop", f"openai:{URL}"): "sk-from-keyring"}
    environ = {"TEST_LLM_KEY": "sk-from-env"}
    assert api_key.resolve_api_key(SETTINGS, environ) == "sk-from-keyring"


def test_keys_are_kept_per_endpoint(memory_keyring: MemoryKeyring) -> None:
    api_key.store_api_key("http://gpu-box:8080/v1/", "sk-gpu")
    other = OpenAISettings(base_url="http://other:8080/v1", model="m", api_key_env="TEST_LLM_KEY")
    assert api_key.resolve_api_key(other, {}) is None
    same = OpenAISettings(base_url="http://gpu-box:8080/v1", model="m")
    assert api_key.resolve_api_key(same, {}) == "sk-gpu"


def test_environment_is_the_fallback(memory_keyring: MemoryKeyring) -> None:
    assert api_key.resolve_api_key(SETTINGS, {"TEST_LLM_KEY": "sk-from-env"}) == "sk-from-env"
    assert api_key.resolve_api_key(SETTINGS, {"OPENAI_API_KEY": "not this one"}) is None
    assert api_key.resolve_api_key(SETTINGS, {"TEST_LLM_KEY": ""}) is None


def test_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-exported")
    assert api_key.resolve_api_key(SETTINGS) == "sk-exported"


def test_without_a_secure_keyring_storing_points_to_the_environment_variable() -> None:
    # The autouse fixture leaves only the "fail" keyring, like a headless machine.
    with pytest.raises(KeyUnavailable, match=r"no secure OS keyring.*OPENAI_API_KEY"):
        api_key.store_api_key(URL, "sk-nowhere")
    assert api_key.resolve_api_key(SETTINGS, {"TEST_LLM_KEY": "sk-env"}) == "sk-env"
    assert api_key.delete_api_key(URL) is False


def test_plaintext_keyring_is_never_read_or_written() -> None:
    plaintext = PlaintextFileKeyring()
    plaintext.secrets[("mirix-desktop", f"openai:{URL}")] = "sk-on-disk"
    keyring.set_keyring(plaintext)
    assert api_key.resolve_api_key(SETTINGS, {}) is None
    with pytest.raises(KeyUnavailable):
        api_key.store_api_key(URL, "sk-new")
    assert plaintext.secrets == {("mirix-desktop", f"openai:{URL}"): "sk-on-disk"}


def test_delete_removes_only_that_endpoint(memory_keyring: MemoryKeyring) -> None:
    api_key.store_api_key(URL, "sk-a")
    api_key.store_api_key("http://localhost:11434/v1", "sk-b")
    assert api_key.delete_api_key(URL) is True
    assert api_key.delete_api_key(URL) is False
    assert api_key.resolve_api_key(SETTINGS, {}) is None
    assert list(memory_keyring.secrets.values()) == ["sk-b"]


def test_empty_key_is_refused(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(KeyUnavailable, match="empty"):
        api_key.store_api_key(URL, "  ")
    assert memory_keyring.secrets == {}
