"""Parses the time arguments of commands (--since, --until, --at)."""

from __future__ import annotations

from datetime import datetime

import click

from mirix_desktop.memory.timephrases import parse_time_phrases


def parse_when(value: str, now: datetime, option: str, *, end: bool = False) -> datetime:
    """An ISO date/time, or a phrase such as "yesterday" or "last week"."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        if moment.tzinfo is None:
            moment = moment.astimezone()
        if end and len(value) <= 10:  # a bare date as --until means the end of that day
            moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
        return moment
    parsed = parse_time_phrases(value, now)
    if parsed.time_range is None:
        raise click.BadParameter(
            f"{value!r} is not a date/time: use ISO form (2026-11-20 or 2026-11-20T14:30) "
            "or a phrase like 'yesterday', 'last week', '3 days ago'.",
            param_hint=option,
        )
    bound = parsed.time_range.until if end else parsed.time_range.since
    return bound or now
