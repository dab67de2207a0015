"""Streamable HTTP for the MCP server: loopback only, every request behind the bearer token.

Only a loopback address is accepted (the memory is never offered to the
network); the SDK adds its DNS-rebinding guard (Host and Origin checked)
for such an address. The token check wraps the whole app, so no path, not
even an unknown one, answers without it.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Receive, Scope, Send

from mirix_desktop.errors import ConfigError
from mirix_desktop.mcp_server.token import matches

MCP_PATH = "/mcp"


def loopback_host(host: str) -> str:
    """`host` if it is a loopback address (or 'localhost'); else a ConfigError."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ConfigError(
            f"--host {host}: the MCP server listens on this computer only (127.0.0.1 or ::1). "
            "To reach it from elsewhere, tunnel to it (e.g. ssh -L)."
        )
    return host


class BearerAuth:
    """An ASGI wrapper answering 401 to any HTTP request without the right bearer token."""

    def __init__(self, app: ASGIApp, token_hash: str) -> None:
        self.app = app
        self.token_hash = token_hash

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorised(scope):
            await self._refuse(send)
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name.lower() == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and matches(token.strip(), self.token_hash)
        return False

    @staticmethod
    async def _refuse(send: Send) -> None:
        message = (
            "unauthorized: send 'Authorization: Bearer <token>' (mirix-desktop mcp --http "
            "showed the token when it was made; --new-token makes another)"
        )
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="mirix-desktop"'),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def serve(server: MCPServer[Any], token_hash: str, host: str, port: int) -> None:
    """Serves `server` over Streamable HTTP until interrupted."""
    import uvicorn

    app = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    config = uvicorn.Config(
        BearerAuth(app, token_hash),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # request lines say when the memory was read: not needed
        lifespan="on",
    )
    uvicorn.Server(config).run()
