"""`mirix-desktop mcp`: your memory as an MCP server for Claude Desktop, Cursor, VS Code...

Over stdio (the client starts it) by default; `--http` serves Streamable
HTTP on 127.0.0.1 behind a bearer token. The store's key comes from
MIRIX_PASSPHRASE or the OS keyring: over stdio there is no terminal to ask
on, stdin being the protocol.
"""

from __future__ import annotations

import click

from mirix_desktop.app.services import AppServices
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.mcp_server.http import MCP_PATH, loopback_host


@click.command()
@click.option("--http", "use_http", is_flag=True, help="Serve Streamable HTTP instead of stdio.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to listen on (--http); other addresses are refused.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on (--http; default: mcp.http_port, 8765).",
)
@click.option(
    "--new-token",
    is_flag=True,
    help="Make a new HTTP bearer token (shown once); the old one stops working.",
)
@click.option(
    "--allow-write", is_flag=True, help="Add the `remember` tool (clients may add memories)."
)
@pass_app
def mcp(
    app: AppContext,
    use_http: bool,
    host: str,
    port: int | None,
    new_token: bool,
    allow_write: bool,
) -> None:
    """Serve your memory to MCP clients (Claude Desktop, Cursor, VS Code), read-only by default.

    Tools: search_memory, get_memory, get_timeline, get_screen_text, list_apps, and ask
    when a model is configured; the resource mirix://today. Vault values are never
    given; config `mcp.exclude_apps` hides more apps. Every call is logged, without its
    content, to DATA_DIR/logs/mcp.log.
    """
    from mirix_desktop.mcp_server import serving, token

    if not use_http and not new_token:
        # No prompt: stdin carries the protocol.
        services = AppServices(app.paths, app.settings, prompt=None)
        try:
            serving.serve_stdio(services, allow_write=allow_write)
        finally:
            services.close()
        return

    host = loopback_host(host)
    store = app.store()  # over HTTP the terminal may ask for the passphrase
    token_hash = token.stored_hash(store)
    if new_token or token_hash is None:
        made = token.new_token(store)
        token_hash = token.stored_hash(store)
        click.echo("MCP bearer token (shown only now; put it in your client's config):")
        click.echo(f"  {made}")
        click.echo("A new one: mirix-desktop mcp --new-token (the old one then stops working).")
    if not use_http:
        return
    assert token_hash is not None
    port = port or app.settings.mcp.http_port
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"MCP server: http://{shown_host}:{port}{MCP_PATH} (Ctrl+C stops it)", err=True)
    serving.serve_http(app, token_hash, host=host, port=port, allow_write=allow_write)
