"""`mirix-desktop models list | pull NAME | path [NAME]`: the local chat models."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mirix_desktop.app.local_models import download_model, size_text
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.errors import ModelFileError
from mirix_desktop.llm import catalogue


@click.group()
def models() -> None:
    """List, download and locate local chat models (GGUF files)."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """The recommended models, and which ones are downloaded."""
    models_dir = app.paths.models_dir
    if as_json:
        rows = [
            {
                "name": entry.name,
                "repo_id": entry.repo_id,
                "filename": entry.filename,
                "revision": entry.revision,
                "size_mb": entry.size_mb,
                "context_tokens": entry.context_tokens,
                "description": entry.description,
                "downloaded": entry.is_downloaded(models_dir),
                "path": str(entry.path_in(models_dir)),
            }
            for entry in catalogue.CATALOGUE
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    table = [("NAME", "SIZE", "DOWNLOADED", "DESCRIPTION")] + [
        (
            entry.name,
            size_text(entry.size_mb),
            "yes" if entry.is_downloaded(models_dir) else "no",
            entry.description,
        )
        for entry in catalogue.CATALOGUE
    ]
    widths = [max(len(row[column]) for row in table) for column in range(3)]
    for name, size, downloaded, description in table:
        click.echo(
            f"{name:<{widths[0]}}  {size:>{widths[1]}}  {downloaded:<{widths[2]}}  {description}"
        )
    click.echo(f"\nModels dir: {models_dir}", err=True)


@models.command("pull")
@click.argument("name")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr (default: when stderr is a terminal).",
)
@pass_app
def pull(app: AppContext, name: str, progress: bool | None) -> None:
    """Download a model from `models list` (checked against its published sha256)."""
    show = sys.stderr.isatty() if progress is None else progress
    result = download_model(name, app.paths.models_dir, progress_bar=show)
    click.echo(str(result.path))
    if result.already_there:
        click.echo("Already downloaded; its sha256 matches the Hub's.", err=True)
    short_name = result.name
    if app.settings.local_model.model.strip().lower() == short_name:
        click.echo(f"mirix-desktop is set to use {short_name}.", err=True)
    else:
        click.echo(
            f"To use it, put this in {app.paths.config_file}:\n\n"
            f'[local_model]\nmodel = "{short_name}"',
            err=True,
        )


@models.command("path")
@click.argument("name", required=False)
@pass_app
def path(app: AppContext, name: str | None) -> None:
    """The models dir, or the file of model NAME (exit 1 if it is not downloaded)."""
    models_dir = app.paths.models_dir
    if name is None:
        click.echo(str(models_dir))
        return
    try:
        resolved: Path = catalogue.resolve_model(name, models_dir)
    except ModelFileError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(str(resolved))
