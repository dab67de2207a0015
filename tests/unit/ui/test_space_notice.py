"""The space cap reached is told once, beside (never instead of) capture failures."""

from __future__ import annotations

from mirix_desktop.app.status import status_view
from mirix_desktop.pipeline.control import Status
from mirix_desktop.ui.tray import StatusNotices

CAP = "Your memories reached the 5 GB space cap."


def _status(state: str = "capturing", **fields: object) -> Status:
    return Status(state=state, **fields)  # type: ignore[arg-type]


def test_the_cap_notice_is_shown_once_per_time_it_is_reached() -> None:
    notices = StatusNotices(min_interval_s=0)
    assert notices.observe(status_view(_status())) is None
    reached = _status(space_notice=CAP, space_notice_at="2026-11-02T10:00:00+00:00")
    notice = notices.observe(status_view(reached))
    assert notice is not None and (notice.kind, notice.text) == ("info", CAP)
    assert notice.title == "Space cap reached"
    for _ in range(3):  # the same status every few seconds: not news
        assert notices.observe(status_view(reached)) is None


def test_a_failure_goes_first_and_the_cap_notice_follows() -> None:
    clock = [0.0]
    notices = StatusNotices(min_interval_s=30, clock=lambda: clock[0])
    failing = _status(
        "store unavailable",
        reason="the disk is full",
        space_notice=CAP,
        space_notice_at="2026-11-02T10:00:00+00:00",
    )
    first = notices.observe(status_view(failing))
    assert first is not None and first.kind == "error"
    clock[0] = 31.0
    second = notices.observe(status_view(failing))
    assert second is not None and second.kind == "info"
    # The failure told before is not told again because a notice came in between.
    clock[0] = 62.0
    assert notices.observe(status_view(failing)) is None


def test_low_disk_is_a_failure_notice_naming_the_free_space() -> None:
    notices = StatusNotices(min_interval_s=0)
    low = _status(
        "low disk", reason="only 0.4 GB free on the disk, below storage.min_free_gb (1 GB)"
    )
    notice = notices.observe(status_view(low))
    assert notice is not None and notice.kind == "error"
    assert notice.title == "Capture paused: the disk is almost full"
    assert "Only 0.4 GB is free" in notice.text
    back = notices.observe(status_view(_status()))
    assert back is not None and back.kind == "recovered"
