"""Every MCP call, logged without its content: who, which tool, which argument names, how many.

Each call goes to the daemon-style log (`DATA_DIR/logs/mcp.log`, 0600, see
`logfiles.py`) and, once a call has opened the store, to the store's audit
log too ("mcp_read", or "mcp_write" for `remember`; see `app/audit.py`). A
call refused before the store opened (a wrong key) is in mcp.log only.
Neither ever holds an argument's value, a result or an error message (they
may quote the memory); names a client chose (its own name, argument names,
an unknown tool's name) are reduced to a short, plain form, so they cannot
carry content either.

It is a middleware of the SDK's server: it sees calls the SDK refuses
(unknown tool, arguments that fail the schema) as well as those that run.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mirix_desktop.app import audit
from mirix_desktop.errors import KnownError
from mirix_desktop.memory.store import MemoryStore

log = logging.getLogger("mirix.mcp.audit")
# Tools that change the store; every other call only reads it.
WRITE_TOOLS = frozenset({"remember"})

_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.\- ]{1,40}$")
_AUDITED = {"tools/call": "tool", "resources/read": "resource"}


def plain(name: object) -> str:
    """A client-chosen name as logged: kept if short and plain, else '?'."""
    return name if isinstance(name, str) and _PLAIN_NAME.match(name) else "?"


def client_name(ctx: ServerRequestContext[Any, Any]) -> str:
    params = ctx.session.client_params
    if params is None:
        return "?"
    return plain(params.client_info.name)


def _outcome(result: HandlerResult) -> tuple[str, int | None]:
    """('ok' or 'error', the result's count) from a tools/call or resources/read result."""
    if isinstance(result, Mapping):
        is_error, structured = result.get("isError", False), result.get("structuredContent")
    else:
        is_error = getattr(result, "is_error", False)
        structured = getattr(result, "structured_content", None)
    count = structured.get("count") if isinstance(structured, Mapping) else None
    return ("error" if is_error else "ok"), count if isinstance(count, int) else None


class AuditMiddleware:
    """Logs each tools/call and resources/read with its outcome."""

    def __init__(
        self,
        tools: Collection[str],
        resources: Collection[str],
        *,
        store: Callable[[], MemoryStore | None] = lambda: None,
    ) -> None:
        self.tools = frozenset(tools)
        self.resources = frozenset(resources)
        self.store = store

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        kind = _AUDITED.get(ctx.method)
        if kind is None:
            return await call_next(ctx)
        params = ctx.params if isinstance(ctx.params, Mapping) else {}
        if kind == "tool":
            known = self.tools
            target = params.get("name")
            arguments = params.get("arguments")
            names = sorted(plain(n) for n in arguments) if isinstance(arguments, Mapping) else []
        else:
            known = self.resources
            target, names = params.get("uri"), []
        shown = target if isinstance(target, str) and target in known else "(unknown)"
        started = time.perf_counter()
        try:
            result = await call_next(ctx)
        except Exception:
            details = self._write(ctx, kind, shown, names, "refused", None, started)
            await self._record(shown, details)
            raise
        outcome, count = _outcome(result)
        details = self._write(ctx, kind, shown, names, outcome, count, started)
        await self._record(shown, details)
        return result

    async def _record(self, target: str, details: dict[str, object]) -> None:
        """The call in the store's audit log (on a thread: the store's lock may be held)."""
        store = self.store()
        if store is None:
            return
        action = "mcp_write" if target in WRITE_TOOLS else "mcp_read"
        write = functools.partial(audit.record, store, action, details, actor="mcp")
        try:
            await anyio.to_thread.run_sync(write)
        except KnownError as exc:  # a busy or full store: the call itself stands
            log.warning("mcp call not written to the audit log: %s", type(exc).__name__)

    @staticmethod
    def _write(
        ctx: ServerRequestContext[Any, Any],
        kind: str,
        target: str,
        names: list[str],
        outcome: str,
        count: int | None,
        started: float,
    ) -> dict[str, object]:
        """Logs the call to mcp.log; returns the same facts for the store's audit log."""
        details: dict[str, object] = {
            kind: target,
            "client": client_name(ctx),
            "result": outcome,
            "count": count,
            "args": names,
            "ms": int((time.perf_counter() - started) * 1000),
        }
        log.info(
            "mcp call: client=%s %s=%s args=[%s] result=%s count=%s ms=%d",
            details["client"],
            kind,
            target,
            ",".join(names),
            outcome,
            "-" if count is None else count,
            details["ms"],
        )
        return details
