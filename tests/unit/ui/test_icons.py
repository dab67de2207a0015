"""Icons: every tray state has one, they draw at panel sizes, and they differ."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

import mirix_desktop.assets
from mirix_desktop.app.status import TrayState
from mirix_desktop.ui import icons
from mirix_desktop.ui.qt import QtGui

STATES: tuple[TrayState, ...] = icons.tray_states()


def opaque_pixels(icon: QtGui.QIcon, size: int) -> int:
    image = icon.pixmap(size, size).toImage()
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 0
    )


def test_there_is_a_tray_state_for_each_state_the_tray_shows() -> None:
    assert set(STATES) == {"recording", "paused", "excluded", "error", "starting", "stopped"}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("size", [16, 22, 32])
def test_every_tray_icon_draws_at_panel_sizes(qtbot: QtBot, state: TrayState, size: int) -> None:
    icon = icons.tray_icon(state)
    assert not icon.isNull()
    pixmap = icon.pixmap(size, size)
    assert not pixmap.isNull()
    assert pixmap.width() == size
    # Something is drawn, and it is not a filled square (the icon has a shape).
    assert size * size // 5 < opaque_pixels(icon, size) < size * size


def test_the_states_look_different(qtbot: QtBot) -> None:
    images = {state: icons.tray_icon(state).pixmap(22, 22).toImage() for state in STATES}
    for state in STATES:
        for other in STATES:
            if state != other:
                assert images[state] != images[other], (state, other)


def test_app_icon_draws_at_small_and_large_sizes(qtbot: QtBot) -> None:
    icon = icons.app_icon()
    assert not icon.isNull()
    for size in (16, 48, 256):
        assert opaque_pixels(icon, size) > size * size // 2


def test_an_unknown_state_is_refused(qtbot: QtBot) -> None:
    with pytest.raises(ValueError, match="sleeping"):
        icons.tray_icon("sleeping")  # type: ignore[arg-type]


def test_icons_are_package_data_of_mirix_desktop_assets() -> None:
    # Found beside the package in any install (checkout, wheel, PyInstaller),
    # not from a path relative to a source checkout.
    package_dir = Path(mirix_desktop.assets.__file__).parent
    assert icons.icon_path("tray-recording.svg") == package_dir / "icons" / "tray-recording.svg"


def test_icons_draw_without_the_svg_icon_engine(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoEngineIcon(QtGui.QIcon):
        """What QIcon does with an SVG file when the SVG icon engine plugin is missing."""

        def __init__(self, *_: object) -> None:
            super().__init__()

    monkeypatch.setattr(QtGui, "QIcon", NoEngineIcon)
    icon = icons._render(icons.icon_path("tray-error.svg"))
    assert not icon.isNull()
    for size in (16, 22, 32):
        assert opaque_pixels(icon, size) > size * size // 5


def test_a_missing_icon_names_where_it_was_looked_for() -> None:
    with pytest.raises(FileNotFoundError, match=r"mirix_desktop/assets/icons/no-such-icon\.svg"):
        icons.icon_path("no-such-icon.svg")
