"""What of an excluded window is blacked out: all of it that shows, title bar included."""

from __future__ import annotations

from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.config import Settings
from mirix_desktop.geometry import Rect
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.pipeline.pipeline import Pipeline

# Openbox-like decorations: a 1 px border and a 21 px title bar above the content.
VAULT = WindowInfo(
    app="KeePassXC",
    title="Passwords.kdbx - KeePassXC",
    rect=Rect(100, 122, 1200, 800),
    frame=Rect(99, 100, 1202, 823),
)


def _covered(masked: list[Rect], x: int, y: int) -> bool:
    return any(r.contains_point(x, y) for r in masked)


def test_an_excluded_windows_title_bar_is_masked_with_it(store: MemoryStore) -> None:
    kept, masked = Pipeline(store, Settings()).submitter.visible_windows([VAULT])
    assert kept == []
    # The title bar, where the window manager writes "Passwords.kdbx - KeePassXC".
    assert _covered(masked, 600, 110)
    assert _covered(masked, 600, 500)


def test_a_window_in_front_keeps_its_own_title_bar_visible(store: MemoryStore) -> None:
    front = WindowInfo(
        app="mousepad",
        title="Ferry times - Mousepad",
        rect=Rect(600, 472, 1200, 800),
        frame=Rect(599, 450, 1202, 823),
        active=True,
    )
    kept, masked = Pipeline(store, Settings()).submitter.visible_windows([front, VAULT])
    assert [w.app for w in kept] == ["mousepad"]
    assert _covered(masked, 300, 110)  # the vault's title bar, left of the front window
    assert not _covered(masked, 900, 460)  # the front window's title bar, over the vault
    assert not _covered(masked, 900, 700)
    assert _covered(masked, 300, 700)


def test_without_declared_decorations_the_rect_is_masked(store: MemoryStore) -> None:
    bare = WindowInfo(app="KeePassXC", title="Vault", rect=Rect(0, 0, 400, 300))
    _, masked = Pipeline(store, Settings()).submitter.visible_windows([bare])
    assert masked == [Rect(0, 0, 400, 300)]
