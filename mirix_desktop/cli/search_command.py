"""`mirix-desktop search`: hybrid search from the command line."""

from __future__ import annotations

import json
from datetime import datetime

import click

from mirix_desktop.app.records import search_json, search_memories
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.when import parse_when
from mirix_desktop.memory.records import MemoryType
from mirix_desktop.memory.search import describe_range

TYPE_CHOICE = click.Choice([t.value for t in MemoryType])


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--type", "types", multiple=True, type=TYPE_CHOICE, help="Only these memory types.")
@click.option("--since", help="Only memories from this time on (ISO date/time or a phrase).")
@click.option("--until", help="Only memories up to this time (ISO date/time or a phrase).")
@click.option("--app", "apps", multiple=True, help="Only memories from this app.")
@click.option("--limit", type=click.IntRange(1, 1000), default=None, help="Number of results.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON (stable schema).")
@pass_app
def search(
    app: AppContext,
    query: tuple[str, ...],
    types: tuple[str, ...],
    since: str | None,
    until: str | None,
    apps: tuple[str, ...],
    limit: int | None,
    as_json: bool,
) -> None:
    """Search your memories (keywords and meaning; time phrases like "yesterday" filter)."""
    now = datetime.now().astimezone()
    start = parse_when(since, now, "--since") if since else None
    end = parse_when(until, now, "--until", end=True) if until else None
    result = search_memories(
        app.store(),
        app.settings,
        " ".join(query),
        types=[MemoryType(t) for t in types],
        since=start,
        until=end,
        apps=apps,
        limit=limit,
        now=now,
    )
    if as_json:
        click.echo(json.dumps(search_json(result), ensure_ascii=False, indent=2))
        return
    if result.time_range:
        click.secho(f"time: {describe_range(result.time_range)}", dim=True)
    if not result.hits:
        click.echo("No memories match.")
        return
    for hit in result.hits:
        when = hit.time.astimezone().strftime("%Y-%m-%d %H:%M")
        where = " · ".join(p for p in (hit.app, hit.title) if p)
        click.echo(f"[{hit.id}] {when}  {hit.type.value}" + (f"  {where}" if where else ""))
        click.echo(f"    {hit.snippet}")
