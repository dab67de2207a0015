"""A real MCP client (the SDK's `ClientSession`) kept open on a thread, for synchronous tests.

One server process serves a whole test module: its session lives in an
event loop on a background thread, and each test calls tools through it.
Over stdio the server is `python -m mirix_desktop mcp ...`; over HTTP the
client connects to a URL with optional headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import httpx2
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

T = TypeVar("T")
TIMEOUT_S = 60


@contextlib.asynccontextmanager
async def stdio_session(args: list[str], env: dict[str, str]) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mirix_desktop", "mcp", *args], env=env
    )
    async with stdio_client(params) as streams, ClientSession(*streams[:2]) as session:
        await session.initialize()
        yield session


@contextlib.asynccontextmanager
async def http_session(url: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=TIMEOUT_S) as http,
        streamable_http_client(url, http_client=http) as streams,
        ClientSession(*streams[:2]) as session,
    ):
        await session.initialize()
        yield session


class SessionThread:
    """An MCP client session open on a background event loop until `close`."""

    def __init__(self, opener: Callable[[], contextlib.AbstractAsyncContextManager[ClientSession]]):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._stop: asyncio.Event | None = None
        self._opened: asyncio.Future[ClientSession] = self._loop.create_future()
        self._task = asyncio.run_coroutine_threadsafe(self._hold(opener), self._loop)
        self.session = asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(asyncio.shield(self._opened), TIMEOUT_S), self._loop
        ).result(TIMEOUT_S + 5)

    async def _hold(
        self, opener: Callable[[], contextlib.AbstractAsyncContextManager[ClientSession]]
    ) -> None:
        self._stop = asyncio.Event()
        try:
            async with opener() as session:
                self._opened.set_result(session)
                await self._stop.wait()
        except BaseException as exc:
            if not self._opened.done():
                self._opened.set_exception(exc)
            raise

    def run(self, make: Callable[[ClientSession], Coroutine[Any, Any, T]]) -> T:
        return asyncio.run_coroutine_threadsafe(make(self.session), self._loop).result(TIMEOUT_S)

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        return self.run(lambda s: s.call_tool(tool, arguments or {}))

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        with contextlib.suppress(Exception):
            self._task.result(TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT_S)
        self._loop.close()
