"""`mirix-desktop memory add | list | show | edit | delete`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click
from pydantic import ValidationError

from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.search_command import TYPE_CHOICE
from mirix_desktop.cli.when import parse_when
from mirix_desktop.memory.records import MemoryRecord, MemoryType, build_memory

_SECRET_FIELDS = {"secret_value"}


def record_json(record: MemoryRecord, *, reveal: bool = False) -> dict[str, Any]:
    fields = {k: v for k, v in record.fields.items() if reveal or k not in _SECRET_FIELDS}
    return {
        "id": record.id,
        "type": record.type.value,
        "time": record.time.isoformat(),
        "end_time": record.end_time.isoformat() if record.end_time else None,
        "app": record.app,
        "title": record.title,
        "text": record.body,
        "thread": record.thread,
        "fields": fields,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


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
    if not text.strip():
        raise click.BadParameter("the text is empty", param_hint="--text")
    try:
        memory_item = build_memory(
            MemoryType(type_), text, title=title, app=source_app, at=when, thread=thread
        )
    except (ValidationError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc
    memory_id = app.store().add(memory_item)
    click.echo(memory_id)


@memory.command("list")
@click.option("--type", "types", multiple=True, type=TYPE_CHOICE, help="Only these types.")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def list_(app: AppContext, types: tuple[str, ...], limit: int, as_json: bool) -> None:
    """List memories, newest first."""
    records = app.store().list([MemoryType(t) for t in types], limit=limit)
    if as_json:
        click.echo(json.dumps([record_json(r) for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("No memories yet.")
        return
    for record in records:
        when = record.time.astimezone().strftime("%Y-%m-%d %H:%M")
        head = " ".join(record.body.split())[:80]
        label = f"{record.title}: " if record.title else ""
        click.echo(f"[{record.id}] {when}  {record.type.value:<15} {label}{head}")


@memory.command("show")
@click.argument("memory_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def show(app: AppContext, memory_id: int, as_json: bool) -> None:
    """Show one memory in full (a vault item's secret included: you asked for it)."""
    record = app.store().get(memory_id)
    data = record_json(record, reveal=True)
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
    current = record.model()
    text_field = current.text_field
    if text is None and title is None:
        if not sys.stdin.isatty():
            raise click.UsageError("Give --text or --title (no terminal to open an editor).")
        edited = click.edit(str(getattr(current, text_field)))
        if edited is None:
            click.echo("Nothing changed.")
            return
        text = edited.strip()
    changes: dict[str, Any] = {}
    if text is not None:
        if not text.strip():
            raise click.BadParameter("the text is empty", param_hint="--text")
        changes[text_field] = text.strip()
    if title is not None:
        if current.title_field is None:
            raise click.BadParameter(f"a {record.type.value} memory has no title")
        changes[current.title_field] = title
    try:
        updated = type(current).model_validate({**current.model_dump(), **changes})
        updated.search_text()  # checks limits, e.g. a core memory's length
    except (ValidationError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc
    store.update(memory_id, updated)
    click.echo(f"Updated memory {memory_id}.")
