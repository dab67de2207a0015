#!/usr/bin/env bash
# One-time (and idempotent) set-up for a fresh machine: system packages, the
# virtual environment and the Python packages. `make run` and `make test` call
# it first, so a clean clone needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

# tesseract: OCR engine data (tesserocr bundles the library, not the tessdata).
# xvfb, openbox, xdotool: the headless display, window manager and input the
# end-to-end tests drive. fonts-dejavu-core: text for those windows and the
# replay benchmark. The libxcb/libxkbcommon/libegl ones: Qt's xcb platform. g++ and
# cmake: llama-cpp-python compiles llama.cpp on first install (pip caches the wheel).
SYSTEM_PACKAGES=(tesseract-ocr tesseract-ocr-eng xvfb xdotool openbox fonts-dejavu-core
                 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1
                 libfontconfig1 libdbus-1-3 trayer g++ cmake desktop-file-utils)
PYTHON="${PYTHON:-python3}"
VENV=.venv

say() { printf 'bootstrap: %s\n' "$*" >&2; }

# --- Python interpreter -------------------------------------------------------
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "Python >= 3.11 is required; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)."
    say "Install python3.11 (e.g. 'apt-get install python3 python3-venv') or set PYTHON=/path/to/python3.11."
    exit 1
fi

# --- System packages ------------------------------------------------------------
if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
            say "installing system packages: ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq >/dev/null
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        else
            say "missing system packages: ${missing[*]}"
            say "install them with:  sudo apt-get install -y ${missing[*]}"
            exit 1
        fi
    fi
else
    for tool in tesseract Xvfb xdotool c++ cmake; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            say "'$tool' is missing. Install tesseract (with English data), Xvfb, xdotool,"
            say "a C++ compiler and cmake (llama.cpp is compiled on first install)"
            say "with your system's package manager (Fedora: dnf install tesseract xorg-x11-server-Xvfb xdotool;"
            say "macOS: brew install tesseract)."
            exit 1
        fi
    done
fi

# --- Virtual environment and Python packages ------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
    say "installing Python packages into $VENV (the first run compiles llama.cpp: ~5-10 min)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # torch first, pinned to the CPU build: otherwise sentence-transformers
    # drags in several GB of CUDA wheels.
    "$VENV/bin/python" -m pip install -q "torch==2.13.0"
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc 2>/dev/null || echo 2)" \
        "$VENV/bin/python" -m pip install -q -e ".[dev]"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi
