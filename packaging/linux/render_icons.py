"""Renders the app icon (an SVG) to the PNG sizes of the hicolor theme.

Usage: python render_icons.py SVG OUT_DIR [SIZE ...]
Writes OUT_DIR/<N>x<N>/apps/mirix-desktop.png for each size (by default the
usual 16 to 256). Desktops that draw SVG icons do not need these; older
panels and some menus pick a PNG of the exact size first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    svg, out_dir = Path(argv[0]), Path(argv[1])
    sizes = [int(size) for size in argv[2:]] or list(SIZES)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed
    from mirix_desktop.ui.icons import svg_image
    from mirix_desktop.ui.qt import QtGui, QtSvg

    app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(["render_icons"])
    renderer = QtSvg.QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"render_icons: {svg} is not a valid SVG", file=sys.stderr)
        return 1
    for size in sizes:
        image = svg_image(renderer, size)
        target = out_dir / f"{size}x{size}" / "apps" / "mirix-desktop.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target), "PNG"):
            print(f"render_icons: cannot write {target}", file=sys.stderr)
            return 1
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
