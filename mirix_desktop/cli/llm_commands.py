"""`mirix-desktop doctor` and `llm set-key | clear-key`: is the model set up and answering?"""

from __future__ import annotations

import click

from mirix_desktop.app.doctor import Check, ModelChoice, run_checks
from mirix_desktop.cli.ask_command import model_options
from mirix_desktop.cli.context import AppContext, pass_app


def _line(check: Check) -> None:
    mark = click.style("ok  ", fg="green") if check.ok else click.style("FAIL", fg="red")
    click.echo(f"{mark} {check.name:<10} {check.detail}")


@click.command()
@model_options
@pass_app
def doctor(app: AppContext, provider: str | None, model: str | None, base_url: str | None) -> None:
    """Check the set-up: config, store, OCR, and whether the model answers."""
    problems = 0
    for check in run_checks(app, ModelChoice(provider, model, base_url)):
        _line(check)
        problems += not check.ok
    if problems:
        raise click.exceptions.Exit(1)


@click.group()
def llm() -> None:
    """Settings of the remote model that are not kept in the config file."""


@llm.command("set-key")
@click.option("--base-url", help="The server the key is for (default: openai.base_url).")
@pass_app
def set_key(app: AppContext, base_url: str | None) -> None:
    """Store the remote server's API key in the OS keyring (never in the config file)."""
    from mirix_desktop.llm.api_key import store_api_key

    url = base_url or app.settings.openai.base_url
    key = click.prompt(f"API key for {url}", hide_input=True, err=True).strip()
    if not key:
        raise click.BadParameter("the key is empty")
    store_api_key(url, key)
    click.echo(f"Stored the API key for {url} in the OS keyring.")


@llm.command("clear-key")
@click.option("--base-url", help="The server the key is for (default: openai.base_url).")
@pass_app
def clear_key(app: AppContext, base_url: str | None) -> None:
    """Remove the remote server's API key from the OS keyring."""
    from mirix_desktop.llm.api_key import delete_api_key

    url = base_url or app.settings.openai.base_url
    if delete_api_key(url):
        click.echo(f"Removed the API key for {url}.")
    else:
        click.echo(f"The keyring held no API key for {url}.")
