"""Capture from the command line: ingest, capture --once, pause, resume, status."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import click

from mirix_desktop.app.status import read_status
from mirix_desktop.capture.screen import ScreenGrabber
from mirix_desktop.capture.session import open_probe
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.cli.when import parse_when
from mirix_desktop.errors import BadImage, KnownError
from mirix_desktop.memory.records import now_utc
from mirix_desktop.pipeline.control import ControlFile
from mirix_desktop.pipeline.ingest import Outcome, capture_once, finish, ingest_image
from mirix_desktop.pipeline.pipeline import Pipeline


def _control(app: AppContext) -> ControlFile:
    return ControlFile(app.paths.data_dir / "control.json")


def _pipeline(app: AppContext) -> Pipeline:
    return Pipeline(app.store(), app.settings, owner=os.getpid())


def _report(outcome: Outcome, verb: str) -> None:
    if outcome.ok:
        detail = outcome.reason or (
            f"{outcome.lines} lines of text, {outcome.ocr_regions} regions read, "
            f"{outcome.memories} memories written"
        )
        click.echo(f"{verb} {outcome.source}: {detail}")
    else:
        click.echo(f"rejected {outcome.source}: {outcome.reason}", err=True)


@click.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--app", "source_app", help="The app the screenshots show (for filters).")
@click.option("--title", help="The window title (default: the file name).")
@click.option("--url", help="The page's URL, for screenshots of a browser.")
@click.option("--at", help="When it was on screen (ISO; default: the file's modification time).")
@pass_app
def ingest(
    app: AppContext,
    images: tuple[Path, ...],
    source_app: str | None,
    title: str | None,
    url: str | None,
    at: str | None,
) -> None:
    """Read screenshots into memory through the capture pipeline.

    Each image meets the same privacy rules, OCR and redaction as a captured
    screen. Bad images are rejected with the reason; the others go on.
    """
    when = parse_when(at, datetime.now().astimezone(), "--at") if at else None
    pipeline = _pipeline(app)
    rejected = 0
    try:
        for image in images:
            outcome = ingest_image(pipeline, image, app=source_app, title=title, url=url, at=when)
            _report(outcome, "ingested")
            rejected += not outcome.ok
        finish(pipeline)
    finally:
        pipeline.close()
    if rejected:
        raise BadImage(f"{rejected} of {len(images)} images were rejected (see above)")


@click.command()
@click.option("--once", is_flag=True, required=True, help="Capture every monitor once and exit.")
@click.option("--print-text", is_flag=True, help="Also print the text that was read.")
@pass_app
def capture(app: AppContext, once: bool, print_text: bool) -> None:
    """Capture the screen once, read it whole, and store what it shows."""
    pipeline = _pipeline(app)
    probe = open_probe()
    grabber = ScreenGrabber()
    try:
        outcomes = capture_once(pipeline, probe, grabber, now_utc())
        finish(pipeline)
    finally:
        grabber.close()
        probe.close()
        pipeline.close()
    for outcome in outcomes:
        _report(outcome, "captured")
        if print_text and outcome.ok:
            click.echo("\n".join(f"    {line}" for line in outcome.text))
    if not all(o.ok for o in outcomes):
        raise KnownError("nothing was captured" if len(outcomes) == 1 else "some monitors failed")


@click.command()
@click.option("--for", "duration", help="How long, e.g. 15m, 1h30m, 2d (default: until resumed).")
@pass_app
def pause(app: AppContext, duration: str | None) -> None:
    """Pause screen capture (a running daemon stops within one tick)."""
    from mirix_desktop.pipeline.control import parse_duration

    span = parse_duration(duration) if duration else None
    paused = _control(app).pause(span)
    if paused.until is None:
        click.echo("Capture paused until you run `mirix-desktop resume`.")
    else:
        local = paused.until.astimezone()
        click.echo(f"Capture paused until {local:%Y-%m-%d %H:%M:%S %Z}.")


@click.command()
@pass_app
def resume(app: AppContext) -> None:
    """Resume screen capture after `pause`."""
    _control(app).resume()
    click.echo("Capture resumed.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Is capture running, and if not, why; frames today, queue depth, last error."""
    current = read_status(app.paths)
    if as_json:
        click.echo(json.dumps(current.to_json(), indent=2))
        return
    state = current.state + (f" ({current.reason})" if current.reason else "")
    click.echo(f"State:        {state}")
    if current.running:
        click.echo(f"Daemon:       pid {current.pid}, since {current.started_at}")
    click.echo(f"Frames today: {current.frames_today} (all time: {current.frames_total})")
    queue = f"{current.queue_depth} waiting for OCR"
    if current.degraded:
        queue += " - OCR is behind, keyframes only"
    if current.failed_jobs:
        queue += f", {current.failed_jobs} failed"
    click.echo(f"Queue:        {queue}")
    if current.ocr_engine:
        click.echo(f"OCR engine:   {current.ocr_engine}")
    error = current.last_error or "none"
    if current.last_error_at:
        error += f" (at {current.last_error_at})"
    click.echo(f"Last error:   {error}")
    if current.on_battery:
        click.echo("Power:        on battery (capture.on_battery applies)")
    if current.retention_at:
        click.echo(
            f"Retention:    last run {_local(current.retention_at)}: {current.retention_summary}"
        )
    else:
        click.echo("Retention:    not run yet by this daemon")
    if current.space_notice:
        click.echo(f"Space cap:    {current.space_notice} ({_local(current.space_notice_at)})")
    if current.space_warning:
        click.echo(f"Space:        {current.space_warning}")


def _local(moment: str | None) -> str:
    """An ISO time from status.json as local time to the minute (as written if unreadable)."""
    try:
        return datetime.fromisoformat(moment or "").astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return moment or "?"
