"""What the machine offers that several layers ask about: a secure keyring, the Hub's offline mode.

* `secure_keyring()`: the OS keyring backend when a secure one exists (store
  keys in `memory/`, API keys in `llm/`). Plaintext or "null" backends never
  count: a secret lying on disk next to what it protects protects nothing.
* Hugging Face Hub offline mode: the bundled embedding models must never reach
  for the network, so loading them sets ``HF_HUB_OFFLINE`` (`keep_hub_offline`).
  Whether the *user* asked for offline mode is read before that, when this
  module is imported, so `models pull` can tell the two apart.
"""

from __future__ import annotations

import os
from typing import Any

# huggingface_hub freezes HF_HUB_OFFLINE when it is imported; the user's own
# setting is taken here, before `keep_hub_offline` can add ours.
_USER_OFFLINE = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_offline_requested_by_user() -> bool:
    """True if HF_HUB_OFFLINE was set in the environment the process started with."""
    return _USER_OFFLINE


def keep_hub_offline() -> None:
    """Keeps huggingface_hub off the network for bundled models (a user's setting wins)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def secure_keyring() -> Any | None:
    """Returns the OS keyring backend if a secure one exists, else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None

    def acceptable(backend: Any) -> bool:
        module = type(backend).__module__
        if isinstance(backend, fail.Keyring) or module.startswith("keyrings.alt"):
            return False
        if module == "keyring.backends.null":
            return False
        try:
            return float(backend.priority) > 0
        except Exception:  # noqa: BLE001 - a backend whose priority raises is not viable
            return False

    backend = keyring.get_keyring()
    if isinstance(backend, chainer.ChainerBackend):
        usable = [b for b in backend.backends if acceptable(b)]
        return usable[0] if usable else None
    return backend if acceptable(backend) else None
