#!/usr/bin/env bash
# Installs mirix-desktop into the desktop for the current user: the menu entry,
# the icon in the hicolor theme, and (with --systemd) the headless daemon's
# systemd user unit. Nothing needs root; --uninstall removes what it put.
#
#   packaging/linux/install.sh [--bin PATH] [--systemd] [--uninstall]
#
# --bin      the mirix-desktop to start (default: the one on PATH, else this
#            checkout's .venv/bin/mirix-desktop, else dist/mirix-desktop/mirix-desktop)
# --systemd  also install ~/.config/systemd/user/mirix-desktop.service
#
# Start at log-in is separate: `mirix-desktop autostart enable`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
config_home="${XDG_CONFIG_HOME:-$HOME/.config}"
bin="" systemd=0 uninstall=0

say() { printf 'install: %s\n' "$*" >&2; }
while (($#)); do
    case "$1" in
        --bin) bin="$2"; shift 2 ;;
        --systemd) systemd=1; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) say "unknown option $1 (see --help)"; exit 2 ;;
    esac
done

applications="$data_home/applications"
hicolor="$data_home/icons/hicolor"
unit_dir="$config_home/systemd/user"
sizes=(16 22 24 32 48 64 128 256)

refresh() {
    # Menus and icon caches pick the change up sooner; absent tools are fine.
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$hicolor" || true
}

if ((uninstall)); then
    rm -f "$applications/mirix-desktop.desktop" "$hicolor/scalable/apps/mirix-desktop.svg"
    for size in "${sizes[@]}"; do rm -f "$hicolor/${size}x${size}/apps/mirix-desktop.png"; done
    if [[ -f "$unit_dir/mirix-desktop.service" ]]; then
        systemctl --user disable --now mirix-desktop.service >/dev/null 2>&1 || true
        rm -f "$unit_dir/mirix-desktop.service"
        systemctl --user daemon-reload >/dev/null 2>&1 || true
    fi
    refresh
    say "removed the menu entry, the icons and the systemd unit (if any)."
    say "autostart is separate: mirix-desktop autostart disable"
    exit 0
fi

if [[ -z "$bin" ]]; then
    for candidate in "$(command -v mirix-desktop || true)" "$repo/.venv/bin/mirix-desktop" \
                     "$repo/dist/mirix-desktop/mirix-desktop"; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then bin="$candidate"; break; fi
    done
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
    say "no mirix-desktop found: install it first (make setup, pipx install ., or make package)"
    say "or name it with --bin /path/to/mirix-desktop"
    exit 1
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
case "$bin" in
    *[[:space:]\"\'\\\$\`%]*) say "the path $bin has characters a desktop entry cannot take plainly; move it"; exit 1 ;;
esac

# The menu entry, starting this very program (a menu's PATH may not hold it).
mkdir -p "$applications"
sed -e "s|^Exec=mirix-desktop |Exec=$bin |" -e "s|^TryExec=mirix-desktop\$|TryExec=$bin|" \
    "$here/mirix-desktop.desktop" > "$applications/mirix-desktop.desktop"
say "menu entry: $applications/mirix-desktop.desktop (starts $bin)"

# The icon: the SVG, and PNG sizes when a Python with the app's Qt is at hand.
mkdir -p "$hicolor/scalable/apps"
cp "$repo/mirix_desktop/assets/icons/mirix.svg" "$hicolor/scalable/apps/mirix-desktop.svg"
python="${PYTHON:-$repo/.venv/bin/python}"
if [[ -x "$python" ]] && "$python" "$here/render_icons.py" "$hicolor/scalable/apps/mirix-desktop.svg" \
        "$hicolor" "${sizes[@]}" 2>/dev/null; then
    say "icons: $hicolor/{scalable,16x16..256x256}/apps/mirix-desktop.*"
else
    say "icons: $hicolor/scalable/apps/mirix-desktop.svg (no PNG sizes: set PYTHON to a python with PySide6)"
fi

if ((systemd)); then
    mkdir -p "$unit_dir"
    sed -e "s|^ExecStart=%h/.local/bin/mirix-desktop |ExecStart=$bin |" \
        "$here/mirix-desktop.service" > "$unit_dir/mirix-desktop.service"
    say "systemd unit: $unit_dir/mirix-desktop.service"
    say "  without a keyring: install -m 600 $here/daemon.env.example $config_home/mirix-desktop/daemon.env"
    say "  and put the passphrase in it; then: systemctl --user daemon-reload"
    say "  && systemctl --user enable --now mirix-desktop"
fi
refresh
