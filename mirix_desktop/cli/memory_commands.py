"""`mirix-desktop memory add | list | show | edit | delete`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click

from mirix_desktop.app import audit
from mirix_desktop.app.records import (
    InvalidMemory,
    edit_memory,
    editable_text,
    get_record,
    list_records,
    new_memory,
)
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.search_command import TYPE_CHOICE
from mirix_desktop.cli.when import parse_when
from mirix_desktop.memory.records import MemoryType


@contextmanager
def _bad_parameter() -> Iterator[None]:
    """An unacceptable text or title is a usage error, naming --text when it is at fault."""
    try:
        yield
    except InvalidMemory as exc:
        hint = "--text" if exc.field == "text" else None
        raise click.BadParameter(exc.message, param_hint=hint) from exc


@click.group()
def memory() -> None:
    """Add, list, show, edit and delete memories."""


@memory.command("add")
@click.option("--type", "type_", type=TYPE_CHOICE, required=True, help="The memory type.")
@click.option("--text", required=True, help="The memory's text (a vault item: its secret).")
@click.option("--title", help="Title / label / name / caption, depending on the type.")
@click.option("--app", "source_app", help="The application it comes from.")
@click.option("--at", "at", help="When it happened (ISO date/time); default now.")
@click.option("--thread", help="What it was part of (a chat, a document), for context.")
@pass_app
def add(
    app: AppContext,
    type_: str,
    text: str,
    title: str | None,
    source_app: str | None,
    at: str | None,
    thread: str | None,
) -> None:
    """Store a memory and print its id."""
    now = datetime.now().astimezone()
    when = parse_when(at, now, "--at") if at else now
    with _bad_parameter():
        memory_item = new_memory(
            MemoryType(type_), text, title=title, app=source_app, at=when, thread=thread
        )
    memory_id = app.store().add(memory_item)
    click.echo(memory_id)


@memory.command("list")
@click.option("--type", "types", multiple=True, type=TYPE_CHOICE, help="Only these types.")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def list_(app: AppContext, types: tuple[str, ...], limit: int, as_json: bool) -> None:
    """List memories, newest first."""
    records = list_records(app.store(), [MemoryType(t) for t in types], limit=limit)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("No memories yet.")
        return
    for record in records:
        when = record.time.astimezone().strftime("%Y-%m-%d %H:%M")
        label = f"{record.title}: " if record.title else ""
        click.echo(f"[{record.id}] {when}  {record.type.value:<15} {label}{record.headline}")


@memory.command("show")
@click.argument("memory_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def show(app: AppContext, memory_id: int, as_json: bool) -> None:
    """Show one memory in full (a vault item's secret included: you asked for it)."""
    data = get_record(app.store(), memory_id, reveal=True).to_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key in ("id", "type", "time", "end_time", "app", "title", "thread"):
        if data[key] is not None:
            click.echo(f"{key}: {data[key]}")
    for key, value in data["fields"].items():
        if value not in (None, [], ""):
            click.echo(f"{key}: {value}")


@memory.command("delete")
@click.argument("memory_id", type=int)
@pass_app
def delete(app: AppContext, memory_id: int) -> None:
    """Delete a memory (and its index entries)."""
    app.store().delete(memory_id)
    click.echo(f"Deleted memory {memory_id}.")


@memory.command("edit")
@click.argument("memory_id", type=int)
@click.option("--text", help="The new text (default: open it in your $EDITOR).")
@click.option("--title", help="A new title / label / name / caption.")
@pass_app
def edit(app: AppContext, memory_id: int, text: str | None, title: str | None) -> None:
    """Change a memory's text or title (e.g. a fact you told the assistant)."""
    store = app.store()
    record = store.get(memory_id)
    if text is None and title is None:
        if not sys.stdin.isatty():
            raise click.UsageError("Give --text or --title (no terminal to open an editor).")
        if record.type is MemoryType.KNOWLEDGE_VAULT:  # the editor shows its secret
            audit.record(store, "vault_read", {"memory_id": memory_id, "via": "edit"})
        edited = click.edit(editable_text(record))
        if edited is None:
            click.echo("Nothing changed.")
            return
        text = edited.strip()
    with _bad_parameter():
        edit_memory(store, memory_id, text=text, title=title)
    click.echo(f"Updated memory {memory_id}.")
