"""Wrong passphrases are counted beside the store: the wait grows and holds; a right one resets."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from mirix_desktop.errors import PassphraseWait, WrongPassphrase
from mirix_desktop.memory import keys

RIGHT = keys.KeySource(passphrase="right passphrase")
WRONG = keys.KeySource(passphrase="wrong passphrase")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "mirix.db"
    keys.create_key(path, RIGHT)
    return path


def _fail(store: Path, clock: Clock) -> None:
    with pytest.raises(WrongPassphrase, match="passphrase is wrong"):
        keys.unlock_key(store, WRONG, clock=clock)


def test_two_typos_are_free_then_the_right_passphrase_waits_too(store: Path) -> None:
    clock = Clock()
    _fail(store, clock)
    _fail(store, clock)
    assert keys.read_attempts(store).wait_s(clock.now) == 0
    _fail(store, clock)
    # Within the wait no passphrase is checked, not even the right one, and
    # the refused tries are not counted.
    clock.now += 1.2
    for source in (RIGHT, WRONG):
        with pytest.raises(PassphraseWait, match="try again in 1 s") as refused:
            keys.unlock_key(store, source, clock=clock)
        assert refused.value.exit_code == 4
        assert refused.value.wait_s == pytest.approx(0.8)
    assert keys.read_attempts(store).failures == 3
    clock.now += 1
    assert len(keys.unlock_key(store, RIGHT, clock=clock)) == 32
    assert not keys.attempts_path(store).exists()
    _fail(store, clock)  # after a success, the next typo is free again
    assert keys.read_attempts(store).wait_s(clock.now) == 0


def test_the_count_is_a_private_file_beside_the_store(store: Path) -> None:
    clock = Clock()
    _fail(store, clock)
    path = keys.attempts_path(store)
    assert path.parent == store.parent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"failures": 1, "last_failure_at": clock.now}
    assert "wrong passphrase" not in path.read_text()


def test_a_clock_set_back_does_not_lengthen_the_wait(store: Path) -> None:
    clock = Clock()
    for _ in range(5):
        _fail(store, clock)
        clock.now += 100
    clock.now -= 10_000  # the clock went back by hours
    assert keys.read_attempts(store).wait_s(clock.now) == keys.retry_delay(5) == 8


def test_the_keyring_key_handed_to_the_daemon_is_not_counted(store: Path) -> None:
    with pytest.raises(WrongPassphrase):
        keys.unlock_key(store, keys.KeySource(key=bytes(32)))
    assert not keys.attempts_path(store).exists()
