"""The family of known, environmental errors that are shown to the user.

A `KnownError` is something the user can fix (wrong passphrase, locked store,
missing package): the CLI prints its message and exits with its exit code.
Anything else is a bug and goes to the crash handler with a traceback.
"""

from __future__ import annotations

from pathlib import Path


class KnownError(Exception):
    """An error caused by the environment or the user's input, not by a bug."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(KnownError):
    """The configuration file or a setting is invalid."""

    exit_code = 2


class StoreError(KnownError):
    """A problem with a store file: names the file in its message."""

    exit_code = 3

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class WrongPassphrase(StoreError):
    """The passphrase or key does not open the store."""

    exit_code = 4


class PassphraseWait(WrongPassphrase):
    """Wrong passphrases were tried: the next one is not checked before `wait_s` seconds."""

    def __init__(self, path: Path, problem: str, wait_s: float) -> None:
        super().__init__(path, problem)
        self.wait_s = wait_s


class KeyUnavailable(KnownError):
    """No key can be obtained: no secure keyring and no passphrase."""

    exit_code = 4


class NotAStore(StoreError):
    """The file exists but is not a mirix-desktop store (or is damaged)."""


class NewerSchema(StoreError):
    """The store was written by a newer mirix-desktop than this one."""


class StoreLocked(StoreError):
    """Another process holds the store's write lock for too long."""

    exit_code = 5


class UnencryptedStore(StoreError):
    """The SQLite library or the file is not encrypted: refused."""


class MemoryNotFound(KnownError):
    """No memory has the requested id."""


class InvalidQuery(KnownError):
    """A search query or filter cannot be understood."""

    exit_code = 2


class EmbedderUnavailable(KnownError):
    """The embedding model cannot be loaded."""


class OcrUnavailable(KnownError):
    """No OCR engine can run: tesseract or its language data is missing."""

    exit_code = 6


class OcrFailed(KnownError):
    """The OCR engine failed on one image (crashed, timed out, rejected it)."""


class CaptureUnavailable(KnownError):
    """The screen cannot be captured: no display, or the display went away."""

    exit_code = 6


class BadImage(KnownError):
    """An image given to `ingest` cannot be used (corrupt, empty, too large)."""

    exit_code = 2


class DaemonRunning(KnownError):
    """Another mirix-desktop daemon already uses this data directory."""

    exit_code = 5


class LlmError(KnownError):
    """The language model could not answer (endpoint down, refused, broken stream...)."""

    exit_code = 7


class LlmTimeout(LlmError):
    """The model did not finish within the configured timeout."""


class LlmAuthError(LlmError):
    """The remote endpoint refused the API key (401/403)."""


class ModelFileError(LlmError):
    """A local model file is missing, unreadable or not a GGUF; names the path."""


class ModelDownloadError(LlmError):
    """`models pull` failed: network, checksum mismatch, disk."""


class DownloadCancelled(ModelDownloadError):
    """The person stopped a model download; nothing of it is kept."""


class NoDisplay(KnownError):
    """The tray app needs a display and there is none (a server, an SSH session)."""

    exit_code = 6


class AppNotRunning(KnownError):
    """No tray app runs for this data directory to take a command."""


class IpcUnavailable(KnownError):
    """The app's single-instance socket cannot be made (its directory is not private)."""
