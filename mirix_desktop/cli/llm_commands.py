"""`mirix-desktop doctor` (is the set-up well, and what to fix) and `llm set-key | clear-key`."""

from __future__ import annotations

import json

import click

from mirix_desktop.app.doctor import Check, ModelChoice, all_well, as_json, run_checks
from mirix_desktop.cli.ask_command import model_options
from mirix_desktop.cli.context import AppContext, pass_app

_MARKS = {
    "ok": click.style("ok  ", fg="green"),
    "warn": click.style("WARN", fg="yellow"),
    "fail": click.style("FAIL", fg="red"),
    "skip": click.style("skip", fg="bright_black"),
}


def _line(check: Check) -> None:
    click.echo(f"{_MARKS[check.status]} {check.name:<9} {check.detail}")
    if check.fix and check.status in ("warn", "fail"):
        click.echo(f"{'':<15}fix: {check.fix}")


@click.command()
@model_options
@click.option("--json", "as_json_output", is_flag=True, help="Print the checks as JSON.")
@pass_app
def doctor(
    app: AppContext,
    provider: str | None,
    model: str | None,
    base_url: str | None,
    as_json_output: bool,
) -> None:
    """Check the set-up: display, tray, hotkey, keyring, store, OCR, embedder, model and disk.

    Each line is ok, WARN (works, but see the fix), FAIL (does not work: the
    fix says what to do) or skip (not checked here). The exit code is 0 when
    nothing failed, 1 when a check failed.
    """
    checks: list[Check] = []
    for check in run_checks(app, ModelChoice(provider, model, base_url)):
        checks.append(check)
        if not as_json_output:
            _line(check)
    if as_json_output:
        click.echo(json.dumps(as_json(checks), indent=2, ensure_ascii=False))
    if not all_well(checks):
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
