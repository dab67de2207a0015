"""`mirix-desktop forget`: the filter, the counts, the confirmation; the work is app.forget's."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from mirix_desktop.app.forget import (
    ForgetFilter,
    ForgetRefused,
    ForgetReport,
    forget,
    plan_forget,
    what_goes,
)
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.when import parse_when


def _interactive() -> bool:
    """Whether someone at a terminal can answer the confirmation (tests replace this)."""
    return sys.stdin.isatty()


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e5 else f"{count / 1e3:,.0f} kB"


def _done(report: ForgetReport) -> str:
    text = (
        f"Forgot {report.counts.describe()} in {report.seconds:.1f} s. The store went from "
        f"{_size(report.bytes_before)} to {_size(report.bytes_after)}."
    )
    if not report.compacted and report.note:
        text += f"\nNote: {report.note}."
    return text


@click.command("forget")
@click.option("--since", help="Forget what was captured from this time on (ISO or a phrase).")
@click.option("--until", help="Forget what was captured before this time (ISO or a phrase).")
@click.option(
    "--app", "app_name", help="Forget everything from this app (its frames and memories)."
)
@click.option("--title", help="Forget windows whose title holds this text, and their memories.")
@click.option("--id", "memory_id", type=int, help="Forget this one memory (and its frames).")
@click.option("--query", help="Forget the memories matching this search, and frames showing it.")
@click.option("--everything", is_flag=True, help="Forget everything in the store.")
@click.option("--dry-run", is_flag=True, help="Only count what would be forgotten.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def forget_command(
    app: AppContext,
    since: str | None,
    until: str | None,
    app_name: str | None,
    title: str | None,
    memory_id: int | None,
    query: str | None,
    everything: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """Forget what was captured: a time range, an app, a title, a memory, a search, or all.

    Frames, thumbnails, OCR lines, queued capture jobs, the memories built
    from them and conversations in a forgotten time range are deleted, then
    the file is compacted so the bytes are gone. Filters given together must
    all hold. --dry-run prints the counts; without --yes it asks first (and
    refuses when there is no terminal to ask at).
    """
    now = datetime.now().astimezone()
    flt = ForgetFilter(
        since=parse_when(since, now, "--since") if since else None,
        until=parse_when(until, now, "--until", end=True) if until else None,
        app=app_name,
        title=title,
        memory_id=memory_id,
        query=query,
        everything=everything,
    )
    flt.check()  # before the store is opened or anything asked
    store = app.store()
    counts = plan_forget(store, flt)
    if dry_run:
        click.echo(f"Would forget {what_goes(flt, counts)}")
        return
    if counts.total == 0:
        click.echo(f"Nothing matches {flt.describe()}; nothing was forgotten.")
        return
    if not yes:
        if not _interactive():
            raise ForgetRefused(
                f"forget asks for confirmation at a terminal and there is none. It would "
                f"forget {what_goes(flt, counts)} Add --yes to forget without asking, or "
                "--dry-run to only count. Nothing was deleted."
            )
        click.echo(f"This forgets {what_goes(flt, counts)} It cannot be undone.", err=True)
        if not click.confirm("Forget it?", default=False, err=True):
            click.echo("Nothing was forgotten.")
            return
    click.echo(_done(forget(store, flt, actor="cli")))
