"""A cancel token: how a Stop button reaches an answer streaming on another thread.

The token is set from one thread (the GUI) and read by the thread running
`Assistant.ask`, which checks it between chunks. A stream cannot be
interrupted while it waits for its next chunk (an HTTP read, a llama.cpp
token), so Stop takes effect when that chunk arrives; the chunk is dropped
and the stream closed, which ends the HTTP response or the llama.cpp
generation instead of letting it run on unread.
"""

from __future__ import annotations

import threading

# What a stopped answer says about itself (the `error` of a partial answer).
STOPPED_BY_USER = "stopped by you"


class CancelToken:
    """Set once by `cancel()`, from any thread; never reset."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Blocks until cancelled or `timeout_s` passed; True if cancelled."""
        return self._event.wait(timeout_s)
