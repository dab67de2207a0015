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
    """Memories of these types and apps whose time span meets [since, until] (ms).

    `exclude_apps`: memories of these apps are left out (a memory with no app
    is kept); the MCP server hides the apps of `mcp.exclude_apps` this way.
    """

    types: tuple[str, ...] = ()
    since: int | None = None
    until: int | None = None
    apps: tuple[str, ...] = ()
    exclude_apps: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(
            self.types
            or self.apps
            or self.exclude_apps
            or self.since is not None
            or self.until is not None
        )

    def sql(
        self, prefix: str = "", end_column: str | None = None, *, vec0: bool = False
    ) -> tuple[list[str], list[Any]]:
        """WHERE clauses and their parameters; `end_column` is the span's end expression.

        `vec0`: for the vector table, whose metadata columns hold '' for no app
        and take no OR (so no `IS NULL` either).
        """
        end = end_column or f"coalesce({prefix}end_time, {prefix}time)"
        clauses: list[str] = []
        params: list[Any] = []
        for column, values in (("type", self.types), ("app", self.apps)):
            if values:
                clauses.append(f"{prefix}{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if self.exclude_apps:
            marks = ",".join("?" * len(self.exclude_apps))
            if vec0:
                clauses.append(f"{prefix}app NOT IN ({marks})")
            else:
                clauses.append(f"({prefix}app IS NULL OR {prefix}app NOT IN ({marks}))")
            params.extend(self.exclude_apps)
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
            and (record.app is None or record.app not in self.exclude_apps)
            and (self.until is None or to_ms(record.time) <= self.until)
            and (self.since is None or end >= self.since)
        )
