"""Daemon events as JSON lines: what the app reads from the supervised daemon."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest

from mirix_desktop.pipeline.control import Status
from mirix_desktop.pipeline.events import EVENT_KINDS, DaemonEvent, JsonLinesSink


def _status() -> Status:
    return Status(
        state="paused",
        reason="paused by you until 2026-11-02T14:30:00+00:00",
        pid=4242,
        started_at="2026-11-02T09:00:00+00:00",
        paused_until="2026-11-02T14:30:00+00:00",
        frames_today=123,
        frames_total=45678,
        queue_depth=3,
        failed_jobs=1,
        degraded=True,
        monitors=2,
        ocr_engine="tesserocr",
        last_error="OCR failed: tesseract crashed\nsecond line",
        last_error_at="2026-11-02T10:00:00+00:00",
        running=True,
    )


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
def test_an_event_survives_its_line(kind: str) -> None:
    event = DaemonEvent(kind, _status(), "a message ✓\u2028with a separator")  # type: ignore[arg-type]
    line = event.to_line()
    assert "\n" not in line and "\r" not in line
    assert len(line.splitlines()) == 1  # str.splitlines also splits on U+2028
    assert DaemonEvent.from_line(line) == event
    assert DaemonEvent.from_line(line + "\n") == event  # as read from a pipe


def test_the_line_is_versioned_json_with_only_status_fields() -> None:
    data = json.loads(DaemonEvent("frame", _status()).to_line())
    assert data["v"] == 1 and data["kind"] == "frame" and data["message"] is None
    # What a line may hold is the Status record and nothing else: no window
    # titles, no screen text, whatever the daemon saw.
    assert set(data) == {"v", "kind", "status", "message"}
    assert set(data["status"]) == {f.name for f in dataclasses.fields(Status)}


def _valid() -> dict[str, object]:
    return json.loads(DaemonEvent("queue", _status()).to_line())


def _with(**changes: object) -> str:
    data = _valid()
    data.update(changes)
    return json.dumps(data)


def _with_status(**changes: object) -> str:
    data = _valid()
    status = dict(data["status"])  # type: ignore[call-overload]
    status.update(changes)
    data["status"] = status
    return json.dumps(data)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        "not json",
        '{"v": 1, "kind": "state"',  # cut off
        "[]",
        "null",
        "42",
        '"a string"',
        "[" * 100_000 + "]" * 100_000,  # nested past the parser's recursion limit
        _with(v=2),
        _with(v="1"),
        _with(v=True),  # JSON true is not version 1
        _with(v=None),
        _with(kind="exploded"),
        _with(kind=None),
        _with(message=42),
        _with(status=None),
        _with(status=[1, 2]),
        _with(status="capturing"),
        _with_status(frames_today="123"),
        _with_status(frames_today=True),
        _with_status(frames_today=1.5),
        _with_status(degraded=1),
        _with_status(state=None),
        _with_status(reason={"nested": "object"}),
        json.dumps({"kind": "state", "status": {}, "message": None}),  # no version
    ],
)
def test_invalid_lines_give_none_not_an_exception(line: str) -> None:
    assert DaemonEvent.from_line(line) is None


def test_fields_of_a_newer_daemon_are_ignored() -> None:
    event = DaemonEvent.from_line(_with_status(gpu_temperature=71))
    assert event is not None and event.status == _status()


def test_the_sink_writes_one_line_per_event_and_survives_a_closed_stream() -> None:
    stream = io.StringIO()
    sink = JsonLinesSink(stream)
    first, second = DaemonEvent("started", _status()), DaemonEvent("error", _status(), "boom")
    sink.emit(first)
    sink.emit(second)
    assert [DaemonEvent.from_line(line) for line in stream.getvalue().splitlines()] == [
        first,
        second,
    ]
    stream.close()  # the app that read the pipe went away
    sink.emit(first)  # no exception: the daemon carries on
    assert sink.broken
