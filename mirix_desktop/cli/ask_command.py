"""`mirix-desktop ask`: a question about your past, answered from your memories.

The answer streams to stdout as it is written, followed by its sources. A
model flag (--provider, --model, --base-url) changes only this question;
the config file holds the lasting choice.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click

from mirix_desktop.app.services import apply_model_choice
from mirix_desktop.assistant.assistant import Answer, Assistant
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.when import parse_when
from mirix_desktop.llm.providers import PROVIDERS

PROVIDER_CHOICE = click.Choice(["auto", *PROVIDERS])


def model_options(command: Any) -> Any:
    """The flags that choose a model for one command."""
    for option in reversed(
        (
            click.option(
                "--provider",
                type=PROVIDER_CHOICE,
                help="Who answers: local, openai, extractive (no model) or auto.",
            ),
            click.option("--model", help="The model: a GGUF name/path (local) or a model name."),
            click.option("--base-url", help="An OpenAI-compatible server's API root."),
        )
    ):
        command = option(command)
    return command


def _print_sources(answer: Answer) -> None:
    if not answer.citations:
        return
    click.echo("\nSources:")
    for citation in answer.citations:
        when = datetime.fromisoformat(citation.time).astimezone().strftime("%Y-%m-%d %H:%M")
        where = " · ".join(p for p in (citation.app, citation.title) if p)
        click.echo(
            f"  [{citation.number}] memory {citation.memory_id} · {when} · {citation.type}"
            + (f" · {where}" if where else "")
        )


@click.command()
@click.argument("question", nargs=-1, required=True)
@model_options
@click.option("--since", help="Only memories from this time on (ISO date/time or a phrase).")
@click.option("--until", help="Only memories up to this time (ISO date/time or a phrase).")
@click.option("--app", "apps", multiple=True, help="Only memories from this app.")
@click.option(
    "--conversation",
    type=int,
    help="Continue this conversation (ids: `mirix-desktop chats list`).",
)
@click.option("--continue", "continue_", is_flag=True, help="Continue the latest conversation.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON at the end.")
@pass_app
def ask(
    app: AppContext,
    question: tuple[str, ...],
    provider: str | None,
    model: str | None,
    base_url: str | None,
    since: str | None,
    until: str | None,
    apps: tuple[str, ...],
    conversation: int | None,
    continue_: bool,
    as_json: bool,
) -> None:
    """Ask about your screen history; the answer cites the memories it used.

    Without a configured model the answer quotes the best-matching memories.
    Start with "remember that ..." to tell the assistant a fact to keep.
    """
    settings = app.settings
    requested = apply_model_choice(settings, provider, model, base_url)
    now = datetime.now().astimezone()
    store = app.store()
    chat_model = app.chat_model(requested)
    assistant = Assistant(store, chat_model, settings)
    if continue_ and conversation is None:
        conversation = assistant.conversations.latest()

    def stream(chunk: str) -> None:
        click.echo(chunk, nl=False)
        sys.stdout.flush()

    try:
        answer = assistant.ask(
            " ".join(question),
            conversation_id=conversation,
            on_chunk=None if as_json else stream,
            since=parse_when(since, now, "--since") if since else None,
            until=parse_when(until, now, "--until", end=True) if until else None,
            apps=apps,
        )
    finally:
        if chat_model is not None:
            chat_model.close()
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        if not answer.text.endswith("\n"):
            click.echo()
        _print_sources(answer)
    if answer.failure is not None:
        kept = "the partial answer above was kept" if answer.text.strip() else "nothing came"
        answer.failure.message = f"answer {answer.status} ({kept}): {answer.failure.message}"
        raise answer.failure
