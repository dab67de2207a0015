"""The click group: global options, logging set-up, error reporting and the command table.

Known errors (wrong passphrase, locked store, ...) become a one-line message
and their exit code; anything else is a bug and keeps its traceback.

Commands are imported when they run, not when the group is built: the tray
app (`run`) must not wait for the capture pipeline, OCR, the store and the
assistant that other commands import (they were two thirds of its start).
`--help` lists every command from the table below without importing any.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import click

from mirix_desktop import __version__
from mirix_desktop.errors import ConfigError, KnownError

# name -> (module in mirix_desktop.cli, attribute, the summary `--help` lists).
# The summary is the first sentence of the command's docstring; a unit test
# checks that each one still matches its command.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ask": (
        "ask_command",
        "ask",
        "Ask about your screen history; the answer cites the memories it used.",
    ),
    "audit": (
        "audit_command",
        "audit_",
        "What was done with your data: exports, imports, forgets, vault reads, MCP reads.",
    ),
    "autostart": (
        "autostart_command",
        "autostart",
        "Start the tray app when you log in (Linux desktops: XDG autostart), or stop that.",
    ),
    "capture": (
        "capture_commands",
        "capture",
        "Capture the screen once, read it whole, and store what it shows.",
    ),
    "chats": (
        "chat_commands",
        "chats",
        "Past conversations with the assistant (also found by `search`).",
    ),
    "doctor": (
        "llm_commands",
        "doctor",
        "Check the set-up: display, tray, hotkey, keyring, store, OCR, embedder, model and disk.",
    ),
    "export": (
        "export_commands",
        "export",
        "Export memories to a JSONL file (for `import`) or Markdown (one section per day).",
    ),
    "forget": (
        "forget_command",
        "forget_command",
        "Forget what was captured: a time range, an app, a title, a memory, a search, or all.",
    ),
    "import": (
        "export_commands",
        "import_",
        "Import a JSONL export into this store, skipping memories it already holds.",
    ),
    "ingest": (
        "capture_commands",
        "ingest",
        "Read screenshots into memory through the capture pipeline.",
    ),
    "llm": (
        "llm_commands",
        "llm",
        "Settings of the remote model that are not kept in the config file.",
    ),
    "memory": ("memory_commands", "memory", "Add, list, show, edit and delete memories."),
    "mcp": (
        "mcp_command",
        "mcp",
        "Serve your memory to MCP clients (Claude Desktop, Cursor, VS Code), read-only by default.",
    ),
    "models": (
        "models_commands",
        "models",
        "List, download and locate local chat models (GGUF files).",
    ),
    "passphrase": (
        "passphrase_command",
        "passphrase",
        "Change the store's passphrase, or keep its key in the OS keyring instead (re-keys it).",
    ),
    "pause": (
        "capture_commands",
        "pause",
        "Pause screen capture (a running daemon stops within one tick).",
    ),
    "query": (
        "query_command",
        "query",
        "Open the quick query box of the running app (starting it if needed), TEXT typed in.",
    ),
    "resume": ("capture_commands", "resume", "Resume screen capture after `pause`."),
    "run": (
        "run_command",
        "run",
        "Start mirix-desktop: the tray app, or with --no-ui the capture daemon alone.",
    ),
    "search": (
        "search_command",
        "search",
        'Search your memories (keywords and meaning; time phrases like "yesterday" filter).',
    ),
    "show": (
        "show_command",
        "show",
        "Show a window of the running tray app (started by `mirix-desktop run`).",
    ),
    "status": (
        "capture_commands",
        "status",
        "Is capture running, and if not, why; frames today, queue depth, last error.",
    ),
    "timeline": (
        "timeline_command",
        "timeline",
        "Show a day's episodes, when capture was off, and the time spent per app.",
    ),
}


def _click_error(exc: KnownError) -> click.ClickException:
    """A ClickException that prints the known error and exits with its code."""
    error_type = type("KnownClickError", (click.ClickException,), {"exit_code": exc.exit_code})
    error: click.ClickException = error_type(exc.message)
    return error


def load_command(name: str) -> click.Command:
    """The command `name` of the table, its module imported now."""
    module, attribute, _ = COMMANDS[name]
    command = getattr(importlib.import_module(f"mirix_desktop.cli.{module}"), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"mirix_desktop.cli.{module}.{attribute} is not a click command")
    return command


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in COMMANDS:
            command = load_command(cmd_name)
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The table's summaries stand in for commands not imported yet; a
        # stand-in shortens its summary to the column exactly as the command would.
        listed = [
            (name, self.commands.get(name) or click.Command(name, help=COMMANDS[name][2]))
            for name in self.list_commands(ctx)
        ]
        listed = [(name, command) for name, command in listed if not command.hidden]
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, command.get_short_help_str(limit)) for name, command in listed]
            )

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KnownError as exc:
            raise _click_error(exc) from exc
        finally:
            # Imported here: cli.context pulls in the settings, which `--help` does not need.
            from mirix_desktop.cli.context import AppContext

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
    from mirix_desktop.cli.context import AppContext

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        try:
            ctx.obj = AppContext.create(data_dir)
        except ConfigError:
            if ctx.invoked_subcommand != "run":
                raise
            # A hand-edited config.toml with a mistake does not stop MIRIX: the
            # valid options are used, the tray app shows the rest in its settings
            # window and the daemon names the keys it left out.
            ctx.obj = AppContext.create(data_dir, tolerant=True)
    except KnownError as exc:
        raise _click_error(exc) from exc


def main() -> None:
    cli(prog_name="mirix-desktop")
