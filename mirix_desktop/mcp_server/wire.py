"""The stdio transport with every line answered: a malformed one gets a JSON-RPC error.

The SDK's stdio transport turns a line it cannot read (not JSON, or JSON that
is no JSON-RPC message) into an exception on its read stream, and the server
drops it without a word: a client waiting on that request would wait for
ever. Here such a line is answered as JSON-RPC 2.0 asks: -32700 when it is
not JSON, -32600 when it is no message, with the request's id when one can
be read, else null. The line itself is never quoted back nor logged (it may
hold a query); the log says only that a message was refused.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from types import TracebackType
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

log = logging.getLogger("mirix.mcp.audit")

# At most this many of the request's own faults are named in the answer.
_SHOWN_FAULTS = 3


def refusal(error: Exception) -> JSONRPCError:
    """The JSON-RPC error answering a line the transport could not read as a message."""
    faults = error.errors() if isinstance(error, ValidationError) else []
    if not faults or any(f["type"] == "json_invalid" for f in faults):
        return JSONRPCError(
            jsonrpc="2.0",
            id=None,
            error=ErrorData(code=PARSE_ERROR, message="Parse error: the line is not JSON."),
        )
    request_id: int | str | None = None
    for fault in faults:
        sent = fault.get("input")
        # A request's id only: an id on anything else may be one of our own requests'.
        if isinstance(sent, dict) and "method" in sent:
            found = sent.get("id")
            if isinstance(found, int | str) and not isinstance(found, bool):
                request_id = found
                break
    # What is wrong with it read as a request (field names and pydantic's wording: no values).
    named = [
        f"{'.'.join(str(part) for part in fault['loc'][1:]) or 'message'}: {fault['msg']}"
        for fault in faults
        if fault["loc"][:1] == ("JSONRPCRequest",)
    ][:_SHOWN_FAULTS]
    message = "Invalid Request: not a JSON-RPC 2.0 request, notification or response"
    return JSONRPCError(
        jsonrpc="2.0",
        id=request_id,
        error=ErrorData(
            code=INVALID_REQUEST, message=message + (f" ({'; '.join(named)})." if named else ".")
        ),
    )


class AnsweringReader:
    """The server's read stream, minus unreadable lines, which are answered on `write`."""

    def __init__(
        self,
        inner: ReadStream[SessionMessage | Exception],
        write: WriteStream[SessionMessage],
    ) -> None:
        self.inner = inner
        self.write = write

    @property
    def last_context(self) -> contextvars.Context | None:
        # The SDK reads the sender's context from its stream, if it has one.
        context: contextvars.Context | None = getattr(self.inner, "last_context", None)
        return context

    async def receive(self) -> SessionMessage | Exception:
        while True:
            item = await self.inner.receive()
            if not isinstance(item, Exception):
                return item
            answer = refusal(item)
            log.info("mcp message refused: code=%d", answer.error.code)
            # Closed: the server is shutting down, nobody is left to tell.
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await self.write.send(SessionMessage(answer))

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __aiter__(self) -> AnsweringReader:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> AnsweringReader:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _serve(server: MCPServer[Any]) -> None:
    # `MCPServer.run_stdio_async` with the read stream wrapped; the SDK offers
    # no hook for unreadable lines, hence its low-level server, as it does.
    lowlevel = server._lowlevel_server
    async with stdio_server() as (read_stream, write_stream):
        await lowlevel.run(
            AnsweringReader(read_stream, write_stream),
            write_stream,
            lowlevel.create_initialization_options(),
        )


def serve_stdio(server: MCPServer[Any]) -> None:
    """Serves `server` on stdin/stdout until the client closes them."""
    anyio.run(_serve, server)
