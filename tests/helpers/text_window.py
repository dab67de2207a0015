"""A window of known text for end-to-end tests, and the handle tests drive it with.

Run as a script (``python -m tests.helpers.text_window --title T --wm-class NAME
--text-file F``) it shows a read-only PySide6 window of large monospace text, activates
it, prints ``READY <window id>`` and then obeys lines on stdin:

- ``TEXT <text>`` replaces the text (``\\n``, ``\\t`` and ``\\\\`` escapes), then prints
  ``DONE TEXT``;
- ``TITLE <title>`` changes the title, then prints ``DONE TITLE``;
- ``QUIT`` or end of input exits.

`TextWindow` runs that script on an `XDisplay` as a context manager. The script lives in
a separate process so that the code under test sees a foreign client, as it would on a
real desktop, and so that no QApplication is created inside the pytest process.
"""

from __future__ import annotations

import argparse
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

from PySide6.QtCore import QSocketNotifier, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QPlainTextEdit

if TYPE_CHECKING:
    from tests.helpers.xdisplay import XDisplay

REPO = Path(__file__).resolve().parent.parent.parent
READY_TIMEOUT = 20.0
COMMAND_TIMEOUT = 10.0
QUIT_TIMEOUT = 5.0
# How long the script waits for the window manager to hand it focus before reporting
# READY anyway: without a window manager there is no one to hand it over.
ACTIVATION_GRACE_MS = 3000
WINDOW_GEOMETRY = (100, 100, 1200, 800)


def escape(text: str) -> str:
    """Encode text for one stdin line of the protocol."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def unescape(line: str) -> str:
    """Decode what `escape` produced."""
    out: list[str] = []
    chars = iter(line)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, "\\")
        out.append({"n": "\n", "t": "\t"}.get(following, following))
    return "".join(out)


class TextWindowError(RuntimeError):
    """The text window process failed to start or to answer."""


class TextWindow:
    """A text window in its own process on a test display."""

    window_id: int

    def __init__(
        self,
        display: XDisplay,
        title: str,
        wm_class: str,
        text: str,
        *,
        dark: bool = False,
        font_size: int = 18,
    ) -> None:
        self.display = display
        self.title = title
        self.wm_class = wm_class
        self.text = text
        self.dark = dark
        self.font_size = font_size
        self._process: subprocess.Popen[bytes] | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._buffer = b""

    def __enter__(self) -> TextWindow:
        self._scratch = tempfile.TemporaryDirectory(prefix="mirix-textwin-")
        scratch = Path(self._scratch.name)
        text_file = scratch / "text.txt"
        text_file.write_text(self.text, encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "tests.helpers.text_window",
            "--title",
            self.title,
            "--wm-class",
            self.wm_class,
            "--text-file",
            str(text_file),
            "--font-size",
            str(self.font_size),
        ]
        if self.dark:
            command.append("--dark")
        env = dict(self.display.env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        with open(scratch / "stderr.log", "wb") as stderr:
            self._process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        try:
            line = self._expect("READY ", READY_TIMEOUT)
            self.window_id = int(line.removeprefix("READY "))
        except BaseException:
            self._shutdown()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._shutdown()

    def set_text(self, text: str) -> None:
        """Replace the text; returns once the window has repainted it."""
        self._command(f"TEXT {escape(text)}", "DONE TEXT")
        self.text = text

    def set_title(self, title: str) -> None:
        """Change the title; returns once the window has sent it to the X server."""
        self._command(f"TITLE {escape(title)}", "DONE TITLE")
        self.title = title

    def activate(self) -> None:
        """Ask the window manager to activate the window, and wait until it has."""
        subprocess.run(
            ["xdotool", "windowactivate", "--sync", str(self.window_id)],
            env=self.display.env,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=True,
        )

    def _command(self, line: str, answer: str) -> None:
        process = self._started()
        assert process.stdin is not None
        try:
            process.stdin.write(line.encode("utf-8") + b"\n")
            process.stdin.flush()
        except BrokenPipeError as exc:
            raise TextWindowError(
                f"text window {self.title!r} has exited (exit code {process.poll()}); "
                f"stderr:\n{self._stderr()}"
            ) from exc
        self._expect(answer, COMMAND_TIMEOUT)

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise TextWindowError(f"text window {self.title!r} is not open")
        return self._process

    def _expect(self, prefix: str, timeout: float) -> str:
        """Read stdout lines until one starts with prefix; fail with stderr otherwise."""
        process = self._started()
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\n", 1)
                line = raw.decode("utf-8", errors="replace")
                if line.startswith(prefix):
                    return line
            chunk = _read_chunk(process.stdout, deadline - time.monotonic())
            if not chunk:
                reason = "exited" if process.poll() is not None else "timed out"
                raise TextWindowError(
                    f"text window {self.title!r} {reason} waiting for {prefix.strip()!r} "
                    f"(exit code {process.poll()}); stderr:\n{self._stderr()}"
                )
            self._buffer += chunk

    def _stderr(self) -> str:
        if self._scratch is None:
            return ""
        try:
            log = Path(self._scratch.name) / "stderr.log"
            return log.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return "(no stderr log)"

    def _shutdown(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            # QUIT, then end of input as well; either makes the script exit on its own.
            for stream in (process.stdin, process.stdout):
                if stream is None:
                    continue
                try:
                    if stream is process.stdin and process.poll() is None:
                        stream.write(b"QUIT\n")
                    stream.close()
                except BrokenPipeError:
                    pass  # It is already gone; wait() below reaps it.
            try:
                process.wait(timeout=QUIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def _read_chunk(stream: IO[bytes], timeout: float) -> bytes:
    """Whatever is available on a pipe within the timeout; empty on EOF or timeout."""
    if timeout <= 0:
        return b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            return b""
    return os.read(stream.fileno(), 65536)


# --- the script -------------------------------------------------------------------------


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.helpers.text_window")
    parser.add_argument("--title", required=True)
    parser.add_argument("--wm-class", required=True)
    parser.add_argument("--text-file", required=True, type=Path)
    parser.add_argument("--font-size", type=int, default=18)
    parser.add_argument("--dark", action="store_true")
    return parser.parse_args(argv)


class _Controller:
    """Applies stdin commands to the window and reports readiness on stdout."""

    def __init__(self, app: QApplication, editor: QPlainTextEdit) -> None:
        self.app = app
        self.editor = editor
        self._buffer = b""
        self._exposed_at: float | None = None
        os.set_blocking(sys.stdin.fileno(), False)
        self._notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._read_stdin)
        self._poll = QTimer()
        self._poll.setInterval(20)
        self._poll.timeout.connect(self._check_ready)

    def watch_exposure(self) -> None:
        """Report READY once the window is on screen and, if anyone can grant it, active."""
        self._poll.start()

    def _check_ready(self) -> None:
        handle = self.editor.windowHandle()
        if handle is None or not handle.isExposed():
            return
        if self._exposed_at is None:
            self._exposed_at = time.monotonic()
            self.editor.raise_()
            self.editor.activateWindow()
            return
        waited_ms = (time.monotonic() - self._exposed_at) * 1000
        if not self.editor.isActiveWindow() and waited_ms < ACTIVATION_GRACE_MS:
            return
        self._poll.stop()
        self._sync_to_server()
        self._say(f"READY {int(self.editor.winId())}")

    def _read_stdin(self) -> None:
        try:
            chunk = os.read(sys.stdin.fileno(), 65536)
        except BlockingIOError:
            return
        if not chunk:
            self._notifier.setEnabled(False)
            self.app.quit()
            return
        self._buffer += chunk
        while b"\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n", 1)
            self._handle(raw.decode("utf-8"))

    def _handle(self, line: str) -> None:
        command, _, argument = line.partition(" ")
        if command == "QUIT":
            self._notifier.setEnabled(False)
            self.app.quit()
        elif command == "TEXT":
            self.editor.setPlainText(unescape(argument))
            self._sync_to_server()
            self._say("DONE TEXT")
        elif command == "TITLE":
            self.editor.setWindowTitle(unescape(argument))
            self._sync_to_server()
            self._say("DONE TITLE")
        else:
            print(f"text_window: unknown command {command!r}", file=sys.stderr, flush=True)

    def _sync_to_server(self) -> None:
        """Make what Qt has queued visible to other X clients before we report it."""
        # Paint now rather than on the next idle pass, then round-trip to the server, so
        # an answer on stdout means a screenshot or property read already sees the change.
        self.editor.viewport().repaint()
        self.app.sync()

    @staticmethod
    def _say(line: str) -> None:
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    text = args.text_file.read_text(encoding="utf-8")

    # Qt's xcb plugin takes the WM_CLASS instance from -name and the class from the
    # application name, both read when the first window is created.
    app = QApplication([sys.argv[0], "-name", args.wm_class])
    app.setApplicationName(args.wm_class)
    app.setDesktopFileName(args.wm_class)

    editor = QPlainTextEdit()
    editor.setReadOnly(True)
    editor.setPlainText(text)
    editor.setWindowTitle(args.title)
    editor.setFrameShape(QFrame.Shape.NoFrame)
    editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    editor.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    editor.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    font = QFont("DejaVu Sans Mono", args.font_size)
    font.setStyleHint(QFont.StyleHint.Monospace)
    editor.setFont(font)
    editor.document().setDocumentMargin(24)
    if args.dark:
        palette = editor.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
        palette.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
        editor.setPalette(palette)
    x, y, width, height = WINDOW_GEOMETRY
    editor.resize(width, height)
    editor.move(x, y)

    controller = _Controller(app, editor)
    editor.show()
    controller.watch_exposure()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
