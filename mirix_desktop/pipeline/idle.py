"""Work the daemon does while the user is away, behind a protocol the pipeline owns.

The daemon knows when the user is idle; what to do then (consolidating
memories with a language model) is built outside `pipeline/` by the
composition root (`app/daemon_factory.py`), so the pipeline does not depend
on the assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IdleStep:
    """What one step did: `summary` for the log, or `error` when it failed."""

    summary: str
    error: str | None = None


class IdleWork(Protocol):
    @property
    def name(self) -> str:
        """What the work is called in messages ("consolidation")."""
        ...

    def step(self) -> IdleStep | None:
        """Does one small piece of work; None when there is nothing to do for now.

        Loads what it needs (a model) on first use, so an idle daemon never
        pays for it. Raises `KnownError` for environmental failures (no
        model, a server gone); the daemon shows them and tries again later.
        """
        ...

    def close(self) -> None:
        """Frees what `step` loaded; called once, after the last step."""
        ...
