"""Shared fixtures: isolation from the user's files, keys, embedder, stores, and a guard
that fails a test on an unexpected warning or error of mirix-desktop's loggers.

The log guard. Every test runs with a handler on the `mirix` and
`mirix_desktop` loggers: a WARNING, ERROR or CRITICAL record from them that
the test did not declare fails the test (a record logged during set-up or
tear-down makes that phase an error). A test that provokes a warning on
purpose (a failing OCR engine, a broken file) declares each record it
expects, with the logger (it and its children), the level name and a regular
expression searched in the message:

    @pytest.mark.expected_log("mirix.pipeline.processor", "WARNING", r"OCR failed")

or, for a record known only at run time, `log_guard.expect(...)` with the
same arguments through the `log_guard` fixture. A declared record may occur
any number of times (none included); a test that must see it asserts that
itself (`log_guard.seen(...)` lists the declared records that were logged).
Only records of this process are seen: a daemon run as a subprocess logs to
its own file.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.store import MemoryStore
from tests.helpers.fake_hub import FakeHub
from tests.helpers.keyring_backend import MemoryKeyring

REPO = Path(__file__).resolve().parent.parent
# The static embedding model is distilled once per checkout and shared.
MODELS_DIR = REPO / ".cache" / "models"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        # OPENAI_BASE_URL is the default of openai.base_url: a developer's own would leak in.
        if name.startswith("MIRIX_") or name == "OPENAI_BASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIRIX_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    # No OS keyring unless a test asks for one: like a headless machine.
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture(scope="session")
def embedder() -> StaticEmbedder:
    model = StaticEmbedder(MODELS_DIR)
    model.embed(["warm up"])
    return model


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "mirix.db"


@pytest.fixture
def store(store_path: Path, embedder: StaticEmbedder) -> Iterator[MemoryStore]:
    opened = MemoryStore.open(store_path, KeySource(passphrase=PASSPHRASE), embedder)
    yield opened
    opened.close()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A fake Hugging Face Hub on 127.0.0.1, which model downloads are pointed at."""
    with FakeHub() as running:
        monkeypatch.setenv("HF_ENDPOINT", running.url)
        yield running


# -- the log guard ------------------------------------------------------------------
_GUARDED_LOGGERS = ("mirix", "mirix_desktop")
_GUARD_KEY = pytest.StashKey["LogGuard"]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "expected_log(logger, level, pattern): a WARNING/ERROR record this test may log "
        "(see tests/conftest.py)",
    )


@dataclass(frozen=True)
class ExpectedLog:
    logger: str  # the logger or a parent of it
    level: str  # "WARNING", "ERROR" or "CRITICAL"
    pattern: str  # searched in the formatted message

    def matches(self, record: logging.LogRecord) -> bool:
        return (
            (record.name == self.logger or record.name.startswith(self.logger + "."))
            and record.levelname == self.level
            and re.search(self.pattern, record.getMessage()) is not None
        )


class LogGuard(logging.Handler):
    """Collects the mirix loggers' WARNING+ records; `check` fails on undeclared ones."""

    def __init__(self, expected: list[ExpectedLog]) -> None:
        super().__init__(logging.WARNING)
        self.expected = expected
        self.unexpected: list[logging.LogRecord] = []
        self.declared: list[logging.LogRecord] = []
        self._records_lock = threading.Lock()

    def expect(self, logger: str, level: str, pattern: str) -> None:
        """Declares a record this test may log (like the `expected_log` marker)."""
        self.expected.append(ExpectedLog(logger, level, pattern))

    def seen(self, logger: str, level: str, pattern: str) -> list[logging.LogRecord]:
        """The declared records logged so far that match."""
        wanted = ExpectedLog(logger, level, pattern)
        with self._records_lock:
            return [record for record in self.declared if wanted.matches(record)]

    def emit(self, record: logging.LogRecord) -> None:
        with self._records_lock:
            if any(expected.matches(record) for expected in self.expected):
                self.declared.append(record)
            else:
                self.unexpected.append(record)

    def forget(self) -> None:
        with self._records_lock:
            self.unexpected = []

    def check(self, when: str) -> None:
        with self._records_lock:
            found, self.unexpected = self.unexpected, []
        if not found:
            return
        lines = []
        for record in found:
            line = f"  {record.name} {record.levelname}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                line += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
            lines.append(line)
        pytest.fail(
            f"unexpected log records {when}:\n" + "\n".join(lines) + "\n"
            "If the test provokes them on purpose, declare them: "
            '@pytest.mark.expected_log("<logger>", "<LEVEL>", r"<regex>") (tests/conftest.py).',
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def log_guard(request: pytest.FixtureRequest) -> Iterator[LogGuard]:
    expected = [ExpectedLog(*m.args) for m in request.node.iter_markers("expected_log")]
    guard = LogGuard(expected)
    loggers = [logging.getLogger(name) for name in _GUARDED_LOGGERS]
    for logger in loggers:
        logger.addHandler(guard)
    request.node.stash[_GUARD_KEY] = guard
    try:
        yield guard
    finally:
        for logger in loggers:
            logger.removeHandler(guard)
    guard.check("during set-up or tear-down")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Checked right after the test body, so the test itself fails.
    guard = item.stash.get(_GUARD_KEY, None)
    try:
        yield
    except BaseException:
        if guard is not None:
            guard.forget()  # the test failed anyway; its log is shown with it
        raise
    if guard is not None:
        guard.check("during the test")
