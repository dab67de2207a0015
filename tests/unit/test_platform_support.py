import os

import keyring
import pytest
from keyring.backends import chainer, null

from mirix_desktop import platform_support
from mirix_desktop.platform_support import (
    hub_offline_requested_by_user,
    keep_hub_offline,
    secure_keyring,
)
from tests.helpers.keyring_backend import MemoryKeyring


def test_a_secure_keyring_is_offered(memory_keyring: MemoryKeyring) -> None:
    assert secure_keyring() is memory_keyring


def test_no_keyring_and_the_null_keyring_are_not_secure() -> None:
    assert secure_keyring() is None  # the test default: a failing keyring
    keyring.set_keyring(null.Keyring())
    assert secure_keyring() is None


def test_a_chain_offers_its_first_secure_backend(memory_keyring: MemoryKeyring) -> None:
    class Chain(chainer.ChainerBackend):
        @property
        def backends(self) -> list[MemoryKeyring]:  # type: ignore[override]
            return [memory_keyring]

    keyring.set_keyring(Chain())
    assert secure_keyring() is memory_keyring


def test_keeping_the_hub_offline_is_not_the_user_asking_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(platform_support, "_USER_OFFLINE", False)
    keep_hub_offline()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert hub_offline_requested_by_user() is False


def test_the_users_own_hub_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    keep_hub_offline()
    assert os.environ["HF_HUB_OFFLINE"] == "0"
