"""The filters every search takes (type, app, time span), as SQL and in Python.

One definition serves the FTS5 pass (over `memories`), the vec0 pass (whose
metadata columns carry the same names) and the final check of records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mirix_desktop.memory.records import MemoryRecord, to_ms


@dataclass(frozen=True)
class MemoryFilter:
    """Memories of these types and apps whose time span meets [since, until] (ms)."""

    types: tuple[str, ...] = ()
    since: int | None = None
    until: int | None = None
    apps: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.types or self.apps or self.since is not None or self.until is not None)

    def sql(self, prefix: str = "", end_column: str | None = None) -> tuple[list[str], list[Any]]:
        """WHERE clauses and their parameters; `end_column` is the span's end expression."""
        end = end_column or f"coalesce({prefix}end_time, {prefix}time)"
        clauses: list[str] = []
        params: list[Any] = []
        for column, values in (("type", self.types), ("app", self.apps)):
            if values:
                clauses.append(f"{prefix}{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if self.until is not None:
            clauses.append(f"{prefix}time <= ?")
            params.append(self.until)
        if self.since is not None:
            clauses.append(f"{end} >= ?")
            params.append(self.since)
        return clauses, params

    def accepts(self, record: MemoryRecord) -> bool:
        end = to_ms(record.end_time or record.time)
        return (
            (not self.types or record.type.value in self.types)
            and (not self.apps or record.app in self.apps)
            and (self.until is None or to_ms(record.time) <= self.until)
            and (self.since is None or end >= self.since)
        )
