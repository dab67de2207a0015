"""`mirix-desktop passphrase change | use-keyring | use-passphrase`: the prompts only.

The current passphrase comes from MIRIX_PASSPHRASE when it is set (scripts),
else it is asked; it is checked before anything else is asked, and the wait
after wrong ones applies as at any unlock. A new passphrase is asked twice
(MIRIX_NEW_PASSPHRASE stands in for both in scripts). Prompts read the
terminal, or stdin when it is a pipe.
"""

from __future__ import annotations

import os

import click

from mirix_desktop.app import passphrase as key_change
from mirix_desktop.app.unlock import keyring_available, passphrase_problem
from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.errors import KeyUnavailable
from mirix_desktop.memory import keys
from mirix_desktop.memory.keys import KeySource

NEW_PASSPHRASE_ENV = "MIRIX_NEW_PASSPHRASE"

_BACKUPS = "Backups made before now still open only with the old key."


def _env_note() -> None:
    if os.environ.get(keys.PASSPHRASE_ENV):
        click.echo(
            f"{keys.PASSPHRASE_ENV} is set in this environment: change it (or unset it) where "
            "it is set, or the next commands will be refused.",
            err=True,
        )


def _ask(message: str, confirm: bool) -> str:
    return str(click.prompt(message, hide_input=True, confirmation_prompt=confirm, err=True))


def _current_key(app: AppContext) -> KeySource:
    """The current key, checked now (before a new passphrase is asked)."""
    key_change.refuse_while_capturing(app.paths)
    source = KeySource(
        passphrase=os.environ.get(keys.PASSPHRASE_ENV) or None,
        prompt=lambda _message, confirm: _ask("Current passphrase", confirm),
    )
    return KeySource(key=keys.unlock_key(app.paths.store_file, source))


def _new_passphrase() -> str:
    scripted = os.environ.get(NEW_PASSPHRASE_ENV)
    passphrase = scripted if scripted else _ask("New passphrase", True)
    problem = passphrase_problem(passphrase, passphrase)
    if problem is not None:
        raise KeyUnavailable(f"{problem} Nothing changed.")
    return passphrase


def _require_store(app: AppContext) -> None:
    if not keys.keyinfo_path(app.paths.store_file).exists():
        raise KeyUnavailable(
            f"There is no store in {app.paths.data_dir} yet: its key is chosen when it is made."
        )


@click.group("passphrase")
def passphrase() -> None:
    """Change the store's passphrase, or keep its key in the OS keyring instead (re-keys it)."""


@passphrase.command("change")
@pass_app
def change(app: AppContext) -> None:
    """Choose a new passphrase: asks the current one, then the new one twice."""
    _require_store(app)
    if key_change.current_mode(app.paths) != "passphrase":
        raise KeyUnavailable(
            "The store's key is kept in the OS keyring, not made from a passphrase: use "
            "`mirix-desktop passphrase use-passphrase` to protect it with one instead."
        )
    old = _current_key(app)
    new = _new_passphrase()
    done = key_change.change_passphrase(app, old, new)
    click.echo(
        f"Passphrase changed: the store was re-keyed in {done.seconds:.1f} s and the old "
        f"passphrase no longer opens it. {_BACKUPS}"
    )
    _env_note()


@passphrase.command("use-keyring")
@pass_app
def use_keyring(app: AppContext) -> None:
    """Keep a random key in the OS keyring instead of the passphrase (none asked any more)."""
    _require_store(app)
    if key_change.current_mode(app.paths) == "keyring":
        raise KeyUnavailable("The store's key is already kept in the OS keyring; nothing changed.")
    if not keyring_available():
        raise KeyUnavailable(
            "There is no secure OS keyring in this session (is the Secret Service running?); "
            "the store keeps its passphrase."
        )
    old = _current_key(app)
    done = key_change.move_to_keyring(app, old)
    click.echo(
        f"The store's key is now kept in the OS keyring (re-keyed in {done.seconds:.1f} s); "
        f"no passphrase is asked any more, and the old one no longer opens it. {_BACKUPS}"
    )


@passphrase.command("use-passphrase")
@pass_app
def use_passphrase(app: AppContext) -> None:
    """Protect the store with a passphrase instead of the keyring's key (asked twice)."""
    _require_store(app)
    if key_change.current_mode(app.paths) == "passphrase":
        raise KeyUnavailable(
            "The store is already protected by a passphrase: use `mirix-desktop passphrase "
            "change` to choose another one."
        )
    old = _current_key(app)
    new = _new_passphrase()
    done = key_change.move_to_passphrase(app, old, new)
    click.echo(
        f"The store is now protected by your passphrase (re-keyed in {done.seconds:.1f} s); "
        f"its key was removed from the OS keyring. {_BACKUPS}"
    )
    _env_note()
