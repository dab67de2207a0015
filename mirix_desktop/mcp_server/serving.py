"""Starting the MCP server: the view, the asker and the tools put together, then a transport.

The command (`cli/mcp_command.py`) calls `serve_stdio` or `serve_http`. Calls
are logged to `DATA_DIR/logs/mcp.log` (see `audit.py`); the SDK's and
uvicorn's own loggers are kept to warnings, as their info lines can quote
a request (an error message, a tool's arguments).
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import MCPServer

from mirix_desktop.app.services import AppServices
from mirix_desktop.logfiles import log_to_file
from mirix_desktop.mcp_server import http, wire
from mirix_desktop.mcp_server.asking import Asker, model_configured
from mirix_desktop.mcp_server.tools import build_server
from mirix_desktop.mcp_server.view import McpView

LOG_FILE = "mcp.log"
_QUIET_LOGGERS = ("mcp", "mcp_types", "uvicorn", "uvicorn.error", "httpx2", "sse_starlette")


def _start_logging(services: AppServices) -> None:
    services.paths.ensure()
    log_to_file(services.paths.data_dir, LOG_FILE)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def make_server(services: AppServices, *, allow_write: bool) -> tuple[MCPServer[Any], Asker | None]:
    view = McpView(services, services.settings.mcp.exclude_apps)
    asker = Asker(services, view) if model_configured(services) else None
    server = build_server(view, asker=asker, allow_write=allow_write)
    return server, asker


def serve_stdio(services: AppServices, *, allow_write: bool) -> None:
    """Serves on stdin/stdout until the client closes them; a malformed line is answered."""
    _start_logging(services)
    server, asker = make_server(services, allow_write=allow_write)
    logging.getLogger("mirix.mcp").info("mcp server started (stdio, write=%s)", allow_write)
    try:
        wire.serve_stdio(server)
    finally:
        if asker is not None:
            asker.close()


def serve_http(
    services: AppServices, token_hash: str, *, host: str, port: int, allow_write: bool
) -> None:
    """Serves Streamable HTTP on a loopback address until interrupted."""
    host = http.loopback_host(host)
    _start_logging(services)
    server, asker = make_server(services, allow_write=allow_write)
    logging.getLogger("mirix.mcp").info(
        "mcp server started (http %s:%d, write=%s)", host, port, allow_write
    )
    try:
        http.serve(server, token_hash, host, port)
    finally:
        if asker is not None:
            asker.close()
