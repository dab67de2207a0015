"""`mirix-desktop timeline`: a day's episodes, when capture was off, and time per app."""

from __future__ import annotations

import json
from datetime import date, datetime

import click

from mirix_desktop.app.timeline import TimelineDay, day_json, load_day
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.when import parse_when


def _clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{round(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _print_day(day: TimelineDay) -> None:
    heading = f"{day.day:%A %Y-%m-%d}" + (f", {day.app} only" if day.app else "")
    click.secho(f"{heading}: {len(day.frames)} frames, {len(day.blocks)} episodes", bold=True)
    click.echo("\nEpisodes")
    for block in day.blocks:
        title = f"  {block.title}" if block.title else ""
        click.echo(f"  {_clock(block.start)}-{_clock(block.end)}  {block.app}{title}")
    if not day.blocks:
        click.echo("  none")
    if day.gaps:
        click.echo("\nCapture off")
        for gap in day.gaps:
            click.echo(f"  {_clock(gap.start)}-{_clock(gap.end)}  {gap.reason}")
    click.echo("\nTime per app")
    width = max((len(a.app) for a in day.apps), default=0)
    for app_time in day.apps:
        click.echo(f"  {app_time.app:<{width}}  {_duration(app_time.seconds):>12}")
    if not day.apps:
        click.echo("  none")


@click.command()
@click.option("--date", "when", help="The day: ISO date (2026-11-20) or a phrase (yesterday).")
@click.option("--app", "only_app", help="Only this app's episodes and frames.")
@click.option("--json", "as_json", is_flag=True, help="Print the day as JSON.")
@pass_app
def timeline(app: AppContext, when: str | None, only_app: str | None, as_json: bool) -> None:
    """Show a day's episodes, when capture was off, and the time spent per app."""
    now = datetime.now().astimezone()
    # The date is checked before the store is unlocked: a typo costs no passphrase.
    day: date = parse_when(when, now, "--date").astimezone().date() if when else now.date()
    loaded = load_day(app.store(), day, only_app, now=now)
    if as_json:
        click.echo(json.dumps(day_json(loaded), ensure_ascii=False, indent=2))
        return
    if loaded.empty:
        what = f"of {only_app} " if only_app else ""
        click.echo(f"No frames {what}were captured on {day:%A %Y-%m-%d}.")
        for gap in loaded.gaps:
            click.echo(f"  {_clock(gap.start)}-{_clock(gap.end)}  capture off: {gap.reason}")
        return
    _print_day(loaded)
