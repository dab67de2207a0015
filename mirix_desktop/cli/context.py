"""What every command shares: the app's services, with a terminal passphrase prompt."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Self

import click

from mirix_desktop.app.services import AppServices

if TYPE_CHECKING:
    from mirix_desktop.memory.keys import PassphrasePrompt


def _prompt_passphrase(message: str, confirm: bool) -> str:
    return str(click.prompt(message, hide_input=True, confirmation_prompt=confirm, err=True))


class AppContext(AppServices):
    """`AppServices` as a command sees it: asks for a passphrase on a terminal only."""

    @classmethod
    def create(
        cls,
        data_dir: Path | None = None,
        *,
        prompt: PassphrasePrompt | None = None,
        tolerant: bool = False,
    ) -> Self:
        # Not interactive (a pipe, a service): no prompt, so a missing
        # passphrase is an error naming MIRIX_PASSPHRASE instead of a hang.
        if prompt is None and sys.stdin.isatty():
            prompt = _prompt_passphrase
        return super().create(data_dir, prompt=prompt, tolerant=tolerant)


pass_app = click.make_pass_decorator(AppContext)
