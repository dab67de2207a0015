"""Work the daemon does on a timer beside capture (retention, the space cap), behind a protocol.

What retention removes is decided in `app/retention.py`; the composition
root (`app/daemon_factory.py`) hands it to the daemon, which runs it at
start and then every hour on a thread of its own, never on the capture path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mirix_desktop.config import Settings


@dataclass(frozen=True)
class HousekeepingRun:
    """What a run did, in words for `status`: `summary` always (retention is never
    silent), `notice` when the person must be told once (the cap reached for the
    first time), `warning` while something needs them (a cap too small)."""

    at: str  # ISO time of the run
    summary: str
    notice: str | None = None
    warning: str | None = None


class Housekeeping(Protocol):
    @property
    def name(self) -> str:
        """What the work is called in messages ("retention")."""
        ...

    def run(self, settings: Settings) -> HousekeepingRun:
        """One run with the settings in force now; raises `KnownError` when the
        environment fails (the daemon shows it and tries again at the next run)."""
        ...
