"""`mirix-desktop audit [--since WHEN] [--limit N] [--json]`: the store's audit log."""

from __future__ import annotations

import json
from datetime import datetime

import click

from mirix_desktop.app import audit
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.when import parse_when

_TIME = "%Y-%m-%d %H:%M:%S"


@click.command("audit")
@click.option("--since", help="Only entries from this time on (ISO date/time or a phrase).")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def audit_(app: AppContext, since: str | None, limit: int, as_json: bool) -> None:
    """What was done with your data: exports, imports, forgets, vault reads, MCP reads."""
    start = parse_when(since, datetime.now().astimezone(), "--since") if since else None
    found = audit.entries(app.store(), since=start.timestamp() if start else None, limit=limit)
    if as_json:
        click.echo(json.dumps([audit.entry_json(e) for e in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("No audit entries" + (f" since {start:%Y-%m-%d %H:%M}." if start else " yet."))
        return
    rows = [
        (
            datetime.fromtimestamp(e.at).astimezone().strftime(_TIME),
            e.actor,
            e.action,
            audit.describe(e.details),
        )
        for e in found
    ]
    widths = [max(len(header), *(len(r[i]) for r in rows)) for i, header in enumerate(_HEADERS)]
    for row in (_HEADERS, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=False)]
        click.echo("  ".join([*cells, row[3]]).rstrip())


_HEADERS = ("TIME", "ACTOR", "ACTION", "DETAILS")
