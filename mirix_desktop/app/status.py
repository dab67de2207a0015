"""The daemon's status: read from its files, and put in words for a person at a window.

`read_status` is what `mirix-desktop status` prints: the daemon's last word
from `status.json`, corrected when the daemon is gone without saying so.
`status_view` turns a `Status` into what the tray shows: one of six states,
a headline, a reason in plain words and the counts. The daemon's own reasons
are written for logs and the terminal ("capture.enabled is false in the
config"); a window user gets "Capture is switched off in the settings", never
a command to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from mirix_desktop.memory.records import now_utc
from mirix_desktop.paths import AppPaths
from mirix_desktop.pipeline.control import ControlFile, DaemonLock, Status, StatusFile

TrayState = Literal["recording", "paused", "excluded", "error", "starting", "stopped"]

# Every state the daemon writes (pipeline/daemon.py) and the two `read_status` adds.
DAEMON_STATES: dict[str, TrayState] = {
    "capturing": "recording",
    "paused": "paused",
    "disabled": "paused",
    "idle": "paused",
    "locked": "paused",
    "excluded": "excluded",
    "display unavailable": "error",
    "store unavailable": "error",
    "low disk": "error",
    "starting": "starting",
    "stopped": "stopped",
    "not running": "stopped",
}

_CRASHED = "the daemon stopped without saying so (crashed or killed)"
_NEVER_RAN = "no daemon has run here yet"
_PAUSED_NOTE = "capture is paused"
_EXCLUDED_PREFIX = "the active window is excluded: "
_RULE_PREFIX = "your rule: "


def read_status(paths: AppPaths) -> Status:
    """The daemon's last word, corrected for a daemon that is no longer there."""
    data_dir = paths.data_dir
    status = StatusFile(data_dir / "status.json").read()
    pid = DaemonLock(data_dir / "daemon.lock").holder()
    if status is None:
        status = Status(state="not running", reason=_NEVER_RAN, running=False)
        status.pid = 0
    elif pid is None or pid != status.pid:
        if status.running:
            status.reason = _CRASHED
        status.state, status.running = "not running", False
    pause = ControlFile(data_dir / "control.json").read()
    if pause is not None and pause.active(now_utc()) and not status.running:
        status.paused_until = pause.until.isoformat() if pause.until else None
        status.reason = (status.reason or "") + f"; {_PAUSED_NOTE}"
    return status


@dataclass(frozen=True)
class StatusView:
    """The status as the tray and the status window show it."""

    state: TrayState
    headline: str
    reason: str | None
    frames_today: int
    queue_depth: int
    paused_until: datetime | None
    # The space cap reached for the first time: told once (`notice_id` tells
    # one from the next); `warning` while the cap cannot be kept.
    notice: str | None = None
    notice_id: str | None = None
    warning: str | None = None

    def tooltip(self) -> str:
        frames = "1 frame" if self.frames_today == 1 else f"{self.frames_today} frames"
        lines = [f"MIRIX — {self.headline}"]
        if self.reason:
            lines.append(self.reason)
        if self.warning:
            lines.append(self.warning)
        lines.append(f"{frames} today · {self.queue_depth} waiting")
        return "\n".join(lines)


def status_view(status: Status, now: datetime | None = None) -> StatusView:
    """What a person at a window is told about `status` (`now` decides how dates read)."""
    now = now or now_utc()
    paused_until = _moment(status.paused_until)
    state = DAEMON_STATES.get(status.state, "error")
    if status.state == "capturing" and _ocr_broken(status):
        state = "error"
    headline, reason = _words(status, paused_until, now)
    return StatusView(
        state=state,
        headline=headline,
        reason=reason,
        frames_today=status.frames_today,
        queue_depth=status.queue_depth,
        paused_until=paused_until,
        notice=status.space_notice,
        notice_id=status.space_notice_at,
        warning=status.space_warning,
    )


def _words(status: Status, paused_until: datetime | None, now: datetime) -> tuple[str, str | None]:
    """The headline and the reason in plain words."""
    reason = status.reason or ""
    match status.state:
        case "capturing":
            if _ocr_broken(status):
                return (
                    "Cannot read the screen's text",
                    "The text reader (OCR) is not working. What is captured waits "
                    "and is read once it works again.",
                )
            behind = status.degraded or reason.startswith("OCR is behind")
            return (
                "Recording",
                "Reading the screen is behind: only the main moments are kept for now."
                if behind
                else None,
            )
        case "paused":
            return f"Paused until {_until(paused_until, now)}", "Paused by you."
        case "disabled":
            return "Capture is off", "Capture is switched off in the settings."
        case "idle":
            away = _idle_seconds(reason)
            return (
                "Paused while you are away",
                "No keyboard or mouse input"
                + (f" for {_duration(away)}." if away is not None else "."),
            )
        case "locked":
            return "Paused while the screen is locked", "The screen is locked."
        case "excluded":
            return "Not recording this window", _exclusion(reason)
        case "display unavailable":
            return "Capture stopped: the screen cannot be read", _display_problem(reason)
        case "store unavailable":
            return "Capture stopped: memories cannot be saved", _store_problem(reason)
        case "low disk":
            return "Capture paused: the disk is almost full", _low_disk(reason)
        case "starting":
            return "Starting…", None
        case "stopped" | "not running":
            return _not_running(reason, paused_until, now)
    return "Capture state unknown", None


def _ocr_broken(status: Status) -> bool:
    # The OCR worker records the failure and forgets the engine; the next job
    # read sets the engine again, which is how recovery shows.
    return status.ocr_engine is None and (status.last_error or "").startswith("OCR unavailable")


def _not_running(
    reason: str, paused_until: datetime | None, now: datetime
) -> tuple[str, str | None]:
    if _CRASHED in reason:
        headline = "Capture stopped: the recorder quit unexpectedly"
    elif _NEVER_RAN in reason:
        headline = "Capture stopped: the recorder has not started yet"
    else:
        headline = "Capture stopped"
    note = None
    if reason.endswith(_PAUSED_NOTE):
        note = f"Capture is paused until {_until(paused_until, now)}."
    return headline, note


def _exclusion(reason: str) -> str | None:
    why = reason.removeprefix(_EXCLUDED_PREFIX).strip()
    if not why:
        return None
    if why.startswith(_RULE_PREFIX):
        return f"One of your exclusions ({why.removeprefix(_RULE_PREFIX)})."
    return why[0].upper() + why[1:] + "."


def _display_problem(reason: str) -> str:
    if "wayland" in reason.lower():
        return (
            "This desktop session (Wayland) does not let apps see the screen; "
            "capture needs an X11 session."
        )
    return (
        "The display is not available or stopped answering. Capture tries again every few seconds."
    )


def _store_problem(reason: str) -> str:
    lowered = reason.lower()
    if "full" in lowered:
        return "The disk is full. Capture goes on by itself once there is space again."
    if "locked" in lowered or "busy" in lowered:
        return "Another program is holding your memories. Capture goes on when it lets go."
    if "damaged" in lowered or "corrupt" in lowered:
        return "The file that holds your memories is damaged; nothing more is written to it."
    return "Your memories cannot be written right now. Capture tries again every few seconds."


def _low_disk(reason: str) -> str:
    # The daemon says "only 0.8 GB free on the disk, below storage.min_free_gb (1 GB)".
    words = reason.split()
    free = f"Only {words[1]} GB is free on the disk. " if reason.startswith("only ") else ""
    return (
        f"{free}Capture goes on by itself once there is room again: free some space, "
        "or set a space cap in the settings (Storage and power)."
    )


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _until(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "you resume"
    local, today = moment.astimezone(), now.astimezone()
    if local.date() == today.date():
        return f"{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def _idle_seconds(reason: str) -> int | None:
    # The daemon says "no keyboard or mouse input for 312 s".
    words = reason.split()
    if len(words) >= 2 and words[-1] == "s" and words[-2].isdigit():
        return int(words[-2])
    return None


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    if minutes < 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    hours, rest = divmod(minutes, 60)
    text = "1 hour" if hours == 1 else f"{hours} hours"
    return text + (f" {rest} min" if rest else "")
