"""Where the API key of a remote OpenAI-compatible endpoint comes from.

The secure OS keyring comes first (`mirix-desktop llm set-key` puts the key
there, one entry per API root), then the environment variable named by
`[openai] api_key_env`. Plaintext keyring backends are never used, and a
key is never written to the config file: on a machine without a secure keyring
the environment variable is the only place for it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from keyring.errors import KeyringError

from mirix_desktop.config import OpenAISettings
from mirix_desktop.errors import KeyUnavailable
from mirix_desktop.platform_support import secure_keyring

log = logging.getLogger("mirix.llm.api_key")

KEYRING_SERVICE = "mirix-desktop"


def keyring_username(base_url: str) -> str:
    """The keyring entry of an API root; a trailing slash does not make a new entry."""
    return f"openai:{base_url.rstrip('/')}"


def resolve_api_key(
    settings: OpenAISettings, environ: Mapping[str, str] | None = None
) -> str | None:
    """The key for `settings.base_url`: keyring first, then the environment; None if neither."""
    backend = secure_keyring()
    if backend is not None:
        try:
            stored = backend.get_password(KEYRING_SERVICE, keyring_username(settings.base_url))
        except KeyringError as exc:
            # A locked or broken keyring should not hide a key the user exported.
            log.warning("cannot read the API key from the OS keyring: %s", exc)
            stored = None
        if stored:
            return str(stored)
    env = os.environ if environ is None else environ
    return env.get(settings.api_key_env) or None


def store_api_key(base_url: str, key: str) -> None:
    """Keeps `key` for `base_url` in the secure OS keyring; KeyUnavailable if there is none."""
    key = key.strip()
    if not key:
        raise KeyUnavailable("An empty API key cannot be stored.")
    backend = secure_keyring()
    if backend is None:
        raise KeyUnavailable(
            "There is no secure OS keyring on this machine (no Secret Service, Keychain or "
            "Windows Credential Locker in this session), and API keys are never written to "
            "files. Put the key in the environment variable named by `[openai] "
            "api_key_env` instead (OPENAI_API_KEY by default), e.g. "
            "`export OPENAI_API_KEY=...`."
        )
    try:
        backend.set_password(KEYRING_SERVICE, keyring_username(base_url), key)
    except KeyringError as exc:
        raise KeyUnavailable(f"The OS keyring refused to store the API key: {exc}") from exc
    log.info("API key for %s kept in the OS keyring (%s)", base_url, type(backend).__name__)


def delete_api_key(base_url: str) -> bool:
    """Removes the stored key of `base_url`; False if there was none (or no keyring)."""
    backend = secure_keyring()
    if backend is None:
        return False
    user = keyring_username(base_url)
    try:
        if not backend.get_password(KEYRING_SERVICE, user):
            return False
        backend.delete_password(KEYRING_SERVICE, user)
    except KeyringError as exc:
        raise KeyUnavailable(f"The OS keyring refused to delete the API key: {exc}") from exc
    return True


def api_key_stored(base_url: str) -> bool | None:
    """Whether the secure OS keyring holds a key for `base_url`; None: there is no such keyring.

    The key itself is never returned: the settings window only says whether one is kept.
    """
    backend = secure_keyring()
    if backend is None:
        return None
    try:
        return bool(backend.get_password(KEYRING_SERVICE, keyring_username(base_url)))
    except KeyringError as exc:
        raise KeyUnavailable(f"The OS keyring cannot be read: {exc}") from exc
