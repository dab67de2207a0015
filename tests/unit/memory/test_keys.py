import json
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from mirix_desktop.errors import KeyUnavailable, WrongPassphrase
from mirix_desktop.memory import keys
from mirix_desktop.platform_support import secure_keyring
from tests.helpers.keyring_backend import MemoryKeyring


class PlaintextFileKeyring(MemoryKeyring):
    """Looks like keyrings.alt's plaintext backend: must never be used."""


PlaintextFileKeyring.__module__ = "keyrings.alt.file"


def test_passphrase_key_round_trip(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    key, mode = keys.create_key(store, keys.KeySource(passphrase="pw"))
    assert mode == "passphrase" and len(key) == 32
    assert keys.unlock_key(store, keys.KeySource(passphrase="pw")) == key
    info = json.loads(keys.keyinfo_path(store).read_text())
    assert info["kdf"]["name"] == "scrypt" and len(bytes.fromhex(info["kdf"]["salt"])) == 16
    assert "pw" not in keys.keyinfo_path(store).read_text()
    assert keys.keyinfo_path(store).stat().st_mode & 0o777 == 0o600


def test_wrong_passphrase_is_reported(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    keys.create_key(store, keys.KeySource(passphrase="right"))
    with pytest.raises(WrongPassphrase, match="passphrase is wrong"):
        keys.unlock_key(store, keys.KeySource(passphrase="wrong"))


def test_no_keyring_and_not_interactive_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable, match="MIRIX_PASSPHRASE"):
        keys.create_key(tmp_path / "s.db", keys.KeySource())


def test_prompt_is_used_when_interactive(tmp_path: Path) -> None:
    asked: list[tuple[str, bool]] = []

    def prompt(message: str, confirm: bool) -> str:
        asked.append((message, confirm))
        return "typed"

    store = tmp_path / "s.db"
    keys.create_key(store, keys.KeySource(prompt=prompt))
    keys.unlock_key(store, keys.KeySource(prompt=prompt))
    assert [confirm for _, confirm in asked] == [True, False]


def test_random_key_goes_to_a_secure_keyring(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    store = tmp_path / "s.db"
    key, mode = keys.create_key(store, keys.KeySource())
    assert mode == "keyring"
    assert list(memory_keyring.secrets.values()) == [key.hex()]
    assert keys.unlock_key(store, keys.KeySource()) == key


def test_passphrase_in_environment_wins_over_keyring(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    _, mode = keys.create_key(tmp_path / "s.db", keys.KeySource(passphrase="pw"))
    assert mode == "passphrase"
    assert memory_keyring.secrets == {}


def test_plaintext_keyring_backend_is_never_used(tmp_path: Path) -> None:
    backend: KeyringBackend = PlaintextFileKeyring()
    keyring.set_keyring(backend)
    assert secure_keyring() is None
    with pytest.raises(KeyUnavailable, match="MIRIX_PASSPHRASE"):
        keys.create_key(tmp_path / "s.db", keys.KeySource())


def test_key_missing_from_keyring_is_a_clear_error(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = tmp_path / "s.db"
    keys.create_key(store, keys.KeySource())
    memory_keyring.secrets.clear()
    with pytest.raises(KeyUnavailable, match="not in the OS keyring"):
        keys.unlock_key(store, keys.KeySource())
