"""The click group: global options, logging set-up and error reporting.

Known errors (wrong passphrase, locked store, ...) become a one-line message
and their exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from mirix_desktop import __version__
from mirix_desktop.cli.context import AppContext
from mirix_desktop.errors import KnownError


def _click_error(exc: KnownError) -> click.ClickException:
    """A ClickException that prints the known error and exits with its code."""
    error_type = type("KnownClickError", (click.ClickException,), {"exit_code": exc.exit_code})
    error: click.ClickException = error_type(exc.message)
    return error


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KnownError as exc:
            raise _click_error(exc) from exc
        finally:
            app = ctx.obj
            if isinstance(app, AppContext):
                app.close()


@click.group(cls=_Group)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="MIRIX_DATA_DIR",
    help="Keep the store, key info and config here (default: the platform's data dir).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="mirix-desktop")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, verbose: int) -> None:
    """mirix-desktop: your screen history, remembered locally and encrypted."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        ctx.obj = AppContext.create(data_dir)
    except KnownError as exc:
        raise _click_error(exc) from exc


def _register() -> None:
    from mirix_desktop.cli import (
        capture_commands,
        memory_commands,
        run_command,
        search_command,
        show_command,
    )
    from mirix_desktop.cli.models_commands import models

    cli.add_command(search_command.search)
    for command in (
        capture_commands.ingest,
        capture_commands.capture,
        capture_commands.pause,
        capture_commands.resume,
        capture_commands.status,
    ):
        cli.add_command(command)
    cli.add_command(memory_commands.memory)
    cli.add_command(run_command.run)
    cli.add_command(show_command.show)
    cli.add_command(models)

    from mirix_desktop.cli import ask_command, chat_commands, llm_commands

    cli.add_command(ask_command.ask)
    cli.add_command(chat_commands.chats)
    cli.add_command(llm_commands.doctor)
    cli.add_command(llm_commands.llm)


_register()


def main() -> None:
    cli(prog_name="mirix-desktop")
