"""`mirix-desktop export` and `mirix-desktop import`: the prompts; the work is app.export's."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from mirix_desktop.app import unlock
from mirix_desktop.app.export import (
    ExportFilter,
    ExportFormat,
    ExportRefused,
    check_target,
    export_memories,
    import_memories,
)
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.search_command import TYPE_CHOICE
from mirix_desktop.cli.when import parse_when
from mirix_desktop.memory.records import MemoryType


def _interactive() -> bool:
    """Whether someone at a terminal can answer a prompt (tests replace this)."""
    return sys.stdin.isatty()


def _confirm_vault(app: AppContext) -> None:
    """Asks the person again before vault secrets leave the store in plain text.

    MIRIX_PASSPHRASE proves that a program may open the store, not that the
    person wants the vault copied out: the passphrase is typed again, at a
    terminal, and checked against the key info's HMAC (as unlocking does).
    """
    if not _interactive():
        raise ExportRefused(
            "--include-vault asks for the passphrase again at a terminal, and this session "
            "has none (MIRIX_PASSPHRASE is not enough): run the export in a terminal."
        )
    if unlock.store_kind(app.paths) == "keyring":
        click.echo(
            "This store's key is in your OS keyring, so whoever holds this session is "
            "already its owner.",
            err=True,
        )
        if not click.confirm("Export the vault's secrets in plain text?", err=True):
            raise ExportRefused("The vault was not exported (not confirmed); nothing written.")
        return
    passphrase = click.prompt(
        "Passphrase again, to export the knowledge vault", hide_input=True, err=True
    )
    unlock.unlock_with_passphrase(app.paths, str(passphrase))


@click.command("export")
@click.option(
    "--format",
    "format_",
    type=click.Choice([f.value for f in ExportFormat]),
    default=ExportFormat.JSONL.value,
    show_default=True,
    help="jsonl (for import) or markdown (for reading).",
)
@click.option("--since", help="Only memories from this time on (ISO date/time or a phrase).")
@click.option("--until", help="Only memories up to this time (ISO date/time or a phrase).")
@click.option("--app", "apps", multiple=True, help="Only memories from this app (repeatable).")
@click.option("--type", "types", multiple=True, type=TYPE_CHOICE, help="Only these types.")
@click.option(
    "--include-vault", is_flag=True, help="Also the knowledge vault (asks the passphrase again)."
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (mode 0600).",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@pass_app
def export(
    app: AppContext,
    format_: str,
    since: str | None,
    until: str | None,
    apps: tuple[str, ...],
    types: tuple[str, ...],
    include_vault: bool,
    output: Path,
    force: bool,
) -> None:
    """Export memories to a JSONL file (for `import`) or Markdown (one section per day)."""
    now = datetime.now().astimezone()
    selection = ExportFilter(
        since=parse_when(since, now, "--since") if since else None,
        until=parse_when(until, now, "--until", end=True) if until else None,
        apps=apps,
        types=tuple(MemoryType(t) for t in types),
        include_vault=include_vault,
    )
    # Refusals come before any prompt or work.
    selection.check()
    check_target(output, force=force)
    if include_vault:
        _confirm_vault(app)
    count = export_memories(app.store(), output, ExportFormat(format_), selection, force=force)
    click.echo(f"Exported {count} memories to {output}.")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def import_(app: AppContext, file: Path) -> None:
    """Import a JSONL export into this store, skipping memories it already holds."""
    result = import_memories(app.store(), file)
    click.echo(f"Imported {result.added} memories ({result.skipped} already present).")
