"""`mirix-desktop chats list | show ID`: past conversations with the assistant."""

from __future__ import annotations

import json

import click

from mirix_desktop.assistant.conversations import ConversationLog
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.errors import MemoryNotFound


@click.group()
def chats() -> None:
    """Past conversations with the assistant (also found by `search`)."""


@chats.command("list")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@pass_app
def list_chats(app: AppContext, limit: int) -> None:
    """Conversations, newest first."""
    found = ConversationLog(app.store()).conversations(limit)
    if not found:
        click.echo("No conversations yet. Ask something: mirix-desktop ask '...'")
        return
    for info in found:
        when = info.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
        click.echo(f"[{info.id}] {when}  {info.messages:>3} messages  {info.title or ''}")


@chats.command("show")
@click.argument("conversation_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def show_chat(app: AppContext, conversation_id: int, as_json: bool) -> None:
    """One conversation's messages, with their citations and status."""
    log = ConversationLog(app.store())
    if not log.exists(conversation_id):
        raise MemoryNotFound(f"No conversation with id {conversation_id}.")
    messages = log.messages(conversation_id)
    if as_json:
        click.echo(json.dumps([m.to_json() for m in messages], ensure_ascii=False, indent=2))
        return
    for message in messages:
        when = message.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        who = "you" if message.role == "user" else (message.model or "assistant")
        status = "" if message.status == "complete" else f" [{message.status}: {message.error}]"
        click.echo(f"{when} {who}{status}:\n{message.content.strip()}")
        for citation in message.citations:
            click.echo(f"    [{citation['n']}] memory {citation['memory_id']}")
        click.echo()
