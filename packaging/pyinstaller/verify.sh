#!/usr/bin/env bash
# Checks that a built PyInstaller folder starts and works, on a throwaway data
# dir, under its own Xvfb display (`make package` runs it after the build):
#   --version; capture --once reading a known word off the screen (the store,
#   sqlite-vec, OCR, the embedder distilled from the bundled weights); doctor
#   (exit 0: display, hotkey, store integrity, OCR, embedder); search finding
#   the word. Needs xvfb-run, and a Python with PySide6 to put the word on screen.
#
#   packaging/pyinstaller/verify.sh [dist/mirix-desktop/mirix-desktop]
set -euo pipefail
app="$(realpath "${1:-dist/mirix-desktop/mirix-desktop}")"
python="${PYTHON:-$(dirname "$0")/../../.venv/bin/python}"
python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"  # absolute, symlink kept (a venv)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
say() { printf 'verify: %s\n' "$*" >&2; }

# Nothing of the person's set-up: a new data dir, a passphrase, no keyring.
export MIRIX_DATA_DIR="$work/data" MIRIX_PASSPHRASE="verify-passphrase-$$"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring
unset WAYLAND_DISPLAY
mkdir -p "$HOME"
cd "$work"  # far from the checkout: the folder must not lean on it

"$app" --version | grep -qx "mirix-desktop, version [0-9.]*" || { say "--version failed"; exit 1; }
say "--version ok"

cat > "$work/show_word.py" <<'PY'
import sys
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication(["verify-word"])
label = QtWidgets.QLabel(sys.argv[1])
label.setStyleSheet("font-size: 48px; background: white; color: black; padding: 40px;")
label.setGeometry(0, 0, 1280, 800)
label.show()
QtCore.QTimer.singleShot(120_000, app.quit)
app.exec()
PY

export APP="$app" PYTHON_FOR_WORD="$python" WORK="$work"
xvfb-run -a -s "-screen 0 1280x800x24" bash -euo pipefail -c '
    say() { printf "verify: %s\n" "$*" >&2; }
    QT_QPA_PLATFORM=xcb "$PYTHON_FOR_WORD" "$WORK/show_word.py" "Quokka verification marmalade" &
    shower=$!
    trap "kill $shower 2>/dev/null || true" EXIT
    sleep 3
    "$APP" capture --once | tee "$WORK/capture.txt"
    grep -q "[1-9][0-9]* memor" "$WORK/capture.txt" || { say "capture --once wrote no memory"; exit 1; }
    say "capture --once ok"
    "$APP" doctor || { say "doctor is not healthy"; exit 1; }
    say "doctor ok"
    "$APP" search marmalade | tee "$WORK/search.txt"
    grep -qi "marmalade" "$WORK/search.txt" || { say "search did not find the captured word"; exit 1; }
    say "search ok"
'
say "all ok: $(du -sh "$(dirname "$app")" | cut -f1) in $(dirname "$app")"
