"""Daemon events a UI can follow: what changed, with a snapshot of the daemon's status.

The supervised daemon writes them to stdout as JSON lines, one event a line,
version 1:

    {"v": 1, "kind": "state", "status": {...Status fields...}, "message": null}

An event carries counts, states and error messages, never screen text or
window titles (the same fields as `status.json`). A reader drops lines it
cannot understand: `DaemonEvent.from_line` returns None for them, never raises.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TextIO, get_args

from mirix_desktop.pipeline.control import Status

log = logging.getLogger("mirix.daemon.events")

EVENT_VERSION = 1
EventKind = Literal["started", "state", "frame", "error", "queue", "stopped"]
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))


def _allowed_types(annotation: Any) -> tuple[type, ...]:
    """The runtime types a Status field may hold: `str | None` -> (str, NoneType)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(t for arg in typing.get_args(annotation) for t in _allowed_types(arg))
    if annotation is None or annotation is type(None):
        return (type(None),)
    return (annotation,)


_STATUS_TYPES: dict[str, tuple[type, ...]] = {
    name: _allowed_types(annotation) for name, annotation in typing.get_type_hints(Status).items()
}


def _fits(value: object, allowed: tuple[type, ...]) -> bool:
    # bool is an int to isinstance(); a count must not read `true`, a flag not `1`.
    return any(
        isinstance(value, kind) and (kind is not int or not isinstance(value, bool))
        for kind in allowed
    )


def _status_from_json(data: object) -> Status | None:
    if not isinstance(data, dict):
        return None
    known: dict[str, Any] = {}
    for name, value in data.items():
        allowed = _STATUS_TYPES.get(name)
        if allowed is None:
            continue  # a field of a newer daemon
        if not _fits(value, allowed):
            return None
        known[name] = value
    return Status(**known)


@dataclass(frozen=True)
class DaemonEvent:
    kind: EventKind
    status: Status  # a snapshot, never screen text or titles
    message: str | None = None  # for "error": the error text

    def to_line(self) -> str:
        """One JSON line (no newline in it; ASCII, so no Unicode line separator either)."""
        return json.dumps(
            {
                "v": EVENT_VERSION,
                "kind": self.kind,
                "status": self.status.to_json(),
                "message": self.message,
            },
            separators=(",", ":"),
            ensure_ascii=True,
        )

    @classmethod
    def from_line(cls, line: str) -> DaemonEvent | None:
        """The event a line holds, or None when it holds none this version understands."""
        try:
            data = json.loads(line)
        except (ValueError, TypeError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        version = data.get("v")
        if type(version) is not int or version != EVENT_VERSION:
            return None
        kind = data.get("kind")
        message = data.get("message")
        if kind not in EVENT_KINDS or not (message is None or isinstance(message, str)):
            return None
        status = _status_from_json(data.get("status"))
        if status is None:
            return None
        return cls(typing.cast(EventKind, kind), status, message)


class EventSink(Protocol):
    def emit(self, event: DaemonEvent) -> None: ...


def snapshot(status: Status) -> Status:
    """A copy of `status` that later changes to it do not reach."""
    return dataclasses.replace(status)


class JsonLinesSink:
    """Writes events to a text stream as JSON lines (the supervised daemon's stdout).

    Safe to call from several threads. When the stream breaks (the app that
    read it died), events are dropped and the daemon keeps running: its
    state is in `status.json` for the next reader.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self.broken = False

    def emit(self, event: DaemonEvent) -> None:
        line = event.to_line() + "\n"
        with self._lock:
            if self.broken:
                return
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError) as exc:  # ValueError: the stream was closed
                self.broken = True
                log.info("daemon events are no longer read (%s); carrying on", exc)
