"""Time filters as a person types them: an ISO date/time or a phrase ("yesterday").

Used for --since/--until/--at on the command line and for the date fields of
the windows; a text that is neither is an `InvalidQuery` saying what works.
"""

from __future__ import annotations

from datetime import datetime

from mirix_desktop.errors import InvalidQuery
from mirix_desktop.memory.timephrases import parse_time_phrases


def parse_moment(value: str, now: datetime, *, end: bool = False) -> datetime:
    """The moment `value` names; with `end`, the end of the span it names.

    "2026-11-20" as an end means the end of that day; "last week" means its
    first moment, or its last one with `end`.
    """
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        try:
            if moment.tzinfo is None:
                moment = moment.astimezone()
            if end and len(value) <= 10:  # a bare date
                moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
            moment.timestamp()  # the first hours of year 1 are year 0 in UTC
        except (OverflowError, ValueError) as exc:
            raise InvalidQuery(f"{value!r} is not a date that can be used ({exc}).") from exc
        return moment
    parsed = parse_time_phrases(value, now)
    if parsed.time_range is None:
        raise InvalidQuery(
            f"{value!r} is not a date/time: use ISO form (2026-11-20 or 2026-11-20T14:30) "
            "or a phrase like 'yesterday', 'last week', '3 days ago'."
        )
    bound = parsed.time_range.until if end else parsed.time_range.since
    return bound or now
