"""The time options of commands (--since, --until, --at): app.when with click's error."""

from __future__ import annotations

from datetime import datetime

import click

from mirix_desktop.app.when import parse_moment
from mirix_desktop.errors import InvalidQuery


def parse_when(value: str, now: datetime, option: str, *, end: bool = False) -> datetime:
    """An ISO date/time, or a phrase such as "yesterday" or "last week"."""
    try:
        return parse_moment(value, now, end=end)
    except InvalidQuery as exc:
        raise click.BadParameter(exc.message, param_hint=option) from exc
