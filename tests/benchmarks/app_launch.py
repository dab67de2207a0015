"""Launch of the tray app to its icon in the tray, and the idle memory of its two processes.

    .venv/bin/python -m tests.benchmarks.app_launch [--warm 5] [--idle 20]

Under a private Xvfb display with openbox and trayer (the e2e helpers), a
passphrase store is made with the CLI in a fresh data dir, then the real
`mirix-desktop --data-dir D run` (MIRIX_PASSPHRASE set) is launched, stopped
and launched again. Each launch is timed from the process start to:
- "ready": the app's ready line on stderr (printed once the tray icon is shown);
- "icon": the app's window embedded in trayer, viewable (read from the X server).
Cold is the first launch (a new data dir and the first app process after the
store was built; the page cache cannot be dropped here, so files Python and Qt
read are warm from the CLI run before); warm are the next `--warm` launches.
Between launches the app is told to quit over its socket (it stops the daemon
it started), so every launch starts from nothing running.

After the last launch the app and its capture daemon sit `--idle` seconds on
an idle desktop; then the resident memory of each (RSS; USS, the pages only it
holds, and PSS beside it) is read with psutil, once more after the chat window
has been opened and has answered a question (extractive: no model).
Targets: warm launch to icon <= 1.5 s; app + daemon RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.benchmarks.common import MODELS_DIR, REPO, percentile
from tests.helpers.tray_host import TrayHost, trayer_host
from tests.helpers.x_windows import activate, press, type_text, wait_for_window
from tests.helpers.xdisplay import XDisplay, xvfb_display

PASSPHRASE = "benchmark passphrase"
CLI = Path(sys.executable).with_name("mirix-desktop")
READY_MESSAGE = "mirix-desktop: tray ready"
LAUNCH_TIMEOUT_S = 60.0
POLL_S = 0.01


@dataclass
class Launch:
    ready_s: float
    icon_s: float
    reported_s: float | None  # what the app itself says it took (from its QApplication)


def environment(display: XDisplay, data_dir: Path) -> dict[str, str]:
    env = dict(display.env)
    for name in list(env):
        if name.startswith("MIRIX_"):
            del env[name]
    env.update(
        MIRIX_PASSPHRASE=PASSPHRASE,
        MIRIX_MODELS_DIR=str(MODELS_DIR),
        HOME=str(data_dir.parent / "home"),
    )
    return env


def cli(env: dict[str, str], data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "--data-dir", str(data_dir), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def launch(
    env: dict[str, str], data_dir: Path, tray: TrayHost, log: Path
) -> tuple[subprocess.Popen[bytes], Launch]:
    with open(log, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(CLI), "--data-dir", str(data_dir), "run"],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    ready = icon = None
    reported = None
    deadline = started + LAUNCH_TIMEOUT_S
    while ready is None or icon is None:
        now = time.perf_counter()
        if process.poll() is not None or now > deadline:
            raise RuntimeError(
                f"launch failed (exit code {process.poll()}):\n{log.read_text(errors='replace')}"
            )
        if ready is None:
            text = log.read_text(errors="replace")
            if READY_MESSAGE in text:
                ready = now - started
                found = re.search(re.escape(READY_MESSAGE) + r" \(([\d.]+) s\)", text)
                reported = float(found.group(1)) if found else None
        if icon is None and any(
            i.pid == process.pid and i.viewable and i.geometry.width > 1 for i in tray.icons()
        ):
            icon = time.perf_counter() - started
        time.sleep(POLL_S)
    return process, Launch(ready, icon, reported)


def quit_app(process: subprocess.Popen[bytes], data_dir: Path) -> None:
    """Quit over the app's socket, as its menu's Quit does; the daemon it started stops too."""
    code = (
        "import sys; from pathlib import Path; from mirix_desktop.ui.ipc import send_command; "
        "sys.exit(0 if send_command(Path(sys.argv[1]), 'quit') else 1)"
    )
    subprocess.run([sys.executable, "-c", code, str(data_dir)], cwd=REPO, timeout=30, check=False)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for leftover in daemons(data_dir):
        leftover.terminate()
    psutil.wait_procs(daemons(data_dir), timeout=15)


def daemons(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "--no-ui" in cmdline and str(data_dir) in cmdline:
            found.append(process)
    return found


def memory_mb(process: psutil.Process) -> tuple[float, float, float]:
    info = process.memory_full_info()
    return info.rss / 1e6, info.uss / 1e6, info.pss / 1e6


def report_memory(label: str, app: psutil.Process, daemon: psutil.Process) -> None:
    a, d = memory_mb(app), memory_mb(daemon)
    print(
        f"{label}: app RSS {a[0]:.0f} MB (USS {a[1]:.0f}, PSS {a[2]:.0f}); "
        f"daemon RSS {d[0]:.0f} MB (USS {d[1]:.0f}, PSS {d[2]:.0f}); "
        f"together RSS {a[0] + d[0]:.0f} MB, PSS {a[2] + d[2]:.0f} MB (target RSS <= 400 MB)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=5, help="warm launches after the cold one")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds idle before RSS")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="mirix-launch-"))
    data_dir = scratch / "data"
    try:
        with xvfb_display() as display, trayer_host(display) as tray:
            env = environment(display, data_dir)
            cli(env, data_dir, "memory", "list")  # builds the passphrase store
            launches: list[Launch] = []
            process = None
            for number in range(1 + args.warm):
                process, timing = launch(env, data_dir, tray, scratch / f"launch-{number}.err")
                launches.append(timing)
                kind = "cold" if number == 0 else f"warm {number}"
                print(
                    f"{kind:>7}: ready line {timing.ready_s:.3f} s, icon in tray "
                    f"{timing.icon_s:.3f} s (the app's own count: {timing.reported_s} s)",
                    flush=True,
                )
                if number < args.warm:
                    quit_app(process, data_dir)
            assert process is not None
            warm = launches[1:]
            if warm:
                icons = [w.icon_s for w in warm]
                readies = [w.ready_s for w in warm]
                print(
                    f"warm launch to icon: p50 {percentile(icons, 50):.3f} s, max "
                    f"{max(icons):.3f} s (n={len(icons)}; target <= 1.5 s); ready line p50 "
                    f"{percentile(readies, 50):.3f} s, max {max(readies):.3f} s"
                )
            print(f"cold launch to icon: {launches[0].icon_s:.3f} s")

            time.sleep(args.idle)
            app = psutil.Process(process.pid)
            found = daemons(data_dir)
            if len(found) != 1:
                raise RuntimeError(f"expected one daemon, found {len(found)}")
            daemon = found[0]
            report_memory(f"idle {args.idle:g} s", app, daemon)

            subprocess.run(
                [str(CLI), "--data-dir", str(data_dir), "show", "chat"],
                env=env, cwd=REPO, check=True, timeout=60, capture_output=True,
            )  # fmt: skip
            chat = wait_for_window(display, "MIRIX — Chat", 20)
            activate(display, chat)
            press(display, "ctrl+l")
            type_text(display, "what did I see today?")
            press(display, "Return")
            time.sleep(max(5.0, args.idle / 2))
            report_memory("after the chat answered (extractive)", app, daemon)
            quit_app(process, data_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n{os.cpu_count()} cores; Xvfb 1920x1080 with openbox and trayer")
    print(f"load average {load} (1, 5, 15 min): other work on the machine")


if __name__ == "__main__":
    main()
