"""Several monitors on one test display: a wide Xvfb screen split into RandR monitors.

Xvfb has one output covering its whole screen. RandR 1.5 lets a client
declare monitors on it (what ``xrandr --setmonitor`` does, without needing
the xrandr tool): the first claims the output, so its automatic monitor
goes away, the others claim none. mss (10.x) and window managers then see
side-by-side monitors, as on a desk with two screens.

python-xlib's own ``set_monitor`` cannot encode its request, so the
request is declared here.
"""

from __future__ import annotations

from contextlib import closing
from typing import Any

from Xlib import display as xlib_display
from Xlib.ext import randr
from Xlib.protocol import rq

from tests.helpers.xdisplay import XDisplay, _open_mss

# Roughly 96 dpi; only shown by tools, nothing here depends on it.
_PX_PER_MM = 3.78


class _SetMonitor(rq.Request):
    _request = rq.Struct(
        rq.Card8("opcode"),
        rq.Opcode(43),  # RRSetMonitor
        rq.RequestLength(),
        rq.Window("window"),
        rq.Card32("name"),
        rq.Bool("primary"),
        rq.Bool("automatic"),
        rq.LengthOf("outputs", 2),
        rq.Int16("x"),
        rq.Int16("y"),
        rq.Card16("width"),
        rq.Card16("height"),
        rq.Card32("width_mm"),
        rq.Card32("height_mm"),
        rq.List("outputs", rq.Card32Obj),
    )


def split_into_monitors(display: XDisplay, count: int) -> list[dict[str, Any]]:
    """Split the display's screen into `count` equal monitors side by side.

    Returns the monitors as mss then reports them (``left``, ``top``,
    ``width``, ``height``), after checking there are `count` of them.
    """
    with closing(xlib_display.Display(display.name)) as conn:
        root = conn.screen().root
        geometry = root.get_geometry()
        width, height = geometry.width // count, geometry.height
        output = root.xrandr_get_screen_resources().outputs[0]
        opcode = conn.display.get_extension_major(randr.extname)
        for index in range(count):
            _SetMonitor(
                display=conn.display,
                opcode=opcode,
                window=root,
                name=conn.intern_atom(f"MIRIX-TEST-{index + 1}"),
                primary=index == 0,
                automatic=False,
                x=index * width,
                y=0,
                width=width,
                height=height,
                width_mm=round(width / _PX_PER_MM),
                height_mm=round(height / _PX_PER_MM),
                outputs=[output] if index == 0 else [],
            )
        conn.sync()
    with _open_mss(display.name) as grabber:
        monitors = [dict(m) for m in grabber.monitors[1:]]
    if len(monitors) != count:
        raise RuntimeError(f"asked for {count} monitors, mss sees {len(monitors)}: {monitors}")
    return monitors
