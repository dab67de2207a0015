"""Change detection: unchanged frames cost nothing, edits and scrolls read little."""

from __future__ import annotations

from mirix_desktop.capture.changes import ChangePlan, ChangeTracker, Pixels
from mirix_desktop.geometry import Rect
from tests.helpers.screens import LINE_HEIGHT, pixels, screen, text_lines


def _committed(tracker: ChangeTracker, image_pixels: Pixels) -> ChangePlan:
    plan = tracker.plan(image_pixels)
    assert plan is not None
    tracker.commit(plan, image_pixels)
    return plan


def test_the_first_frame_is_read_whole_and_an_identical_one_not_at_all() -> None:
    tracker = ChangeTracker()
    first = pixels(screen(text_lines(20)))
    plan = _committed(tracker, first)
    assert plan.regions == (Rect(0, 0, 1280, 800),)
    assert plan.base_state is None
    assert tracker.plan(first.copy()) is None


def test_typing_reads_only_the_edited_line_whole() -> None:
    tracker = ChangeTracker()
    lines = text_lines(20)
    _committed(tracker, pixels(screen(lines)))
    lines[5] += " over the lazy dog"
    plan = _committed(tracker, pixels(screen(lines)))
    assert len(plan.regions) == 1
    region = plan.regions[0]
    line_top = 40 + 5 * LINE_HEIGHT
    # The whole line, from its first letter, not just the new words.
    assert region.x <= 41 and region.right >= 500
    assert region.y <= line_top + 4 and region.bottom <= line_top + LINE_HEIGHT + 2
    assert region.height < 2 * LINE_HEIGHT
    assert not plan.moves


def test_scrolling_moves_known_text_and_reads_only_the_new_strip() -> None:
    tracker = ChangeTracker()
    all_lines = text_lines(60)
    _committed(tracker, pixels(screen(all_lines)))
    plan = _committed(tracker, pixels(screen(all_lines[3:])))
    assert plan.moves, "the scroll was not recognised"
    assert {move.dy for move in plan.moves} == {3 * LINE_HEIGHT}
    read = sum(region.area for region in plan.regions)
    # Three new lines' worth of pixels, not the screen.
    assert 0 < read <= 3 * LINE_HEIGHT * 1280
    assert all(region.y >= 600 for region in plan.regions)


def test_switching_back_to_an_earlier_picture_reads_nothing() -> None:
    tracker = ChangeTracker()
    editor = pixels(screen(text_lines(20)))
    other = pixels(screen([f"terminal output row {i}" for i in range(25)], top=60))
    first = _committed(tracker, editor)
    _committed(tracker, other)
    back = tracker.plan(editor.copy())
    assert back is not None
    assert back.regions == ()
    assert back.base_state == first.state_id


def test_a_different_size_is_read_whole() -> None:
    tracker = ChangeTracker()
    _committed(tracker, pixels(screen(text_lines(20))))
    plan = _committed(tracker, pixels(screen(text_lines(20), size=(1024, 768))))
    assert plan.regions == (Rect(0, 0, 1024, 768),)


def test_rect_subtract_leaves_the_uncovered_parts() -> None:
    outer = Rect(0, 0, 100, 100)
    parts = outer.subtract(Rect(25, 25, 50, 50))
    assert sum(p.area for p in parts) == 100 * 100 - 50 * 50
    assert not any(p.intersects(Rect(25, 25, 50, 50)) for p in parts)
    assert outer.subtract(Rect(0, 0, 100, 100)) == []
    assert outer.subtract(Rect(200, 200, 5, 5)) == [outer]


def _side_by_side(left: list[str], right: list[str]) -> Pixels:
    """Two windows of text, 640 px each, with no blank column between them."""
    from PIL import Image

    image = Image.new("RGB", (1280, 800), "white")
    image.paste(screen(left, size=(640, 800)), (0, 0))
    # The right window's text starts right at its edge: widening a changed
    # line of the left window sideways would run into it.
    image.paste(screen(right, size=(640, 800)).crop((36, 0, 640, 800)), (640, 0))
    return pixels(image)


def test_a_changed_line_is_never_widened_into_the_window_beside_it() -> None:
    windows = [Rect(0, 0, 640, 800), Rect(640, 0, 640, 800)]
    right = [f"terminal output row {i} with more words" for i in range(25)]
    left = text_lines(20)
    tracker = ChangeTracker()
    first = tracker.plan(_side_by_side(left, right), windows)
    assert first is not None
    tracker.commit(first, _side_by_side(left, right))
    # The edited line runs to the window's edge, right next to the other's text.
    left[5] += " over the lazy dog, and on and on to the edge of the window"
    plan = tracker.plan(_side_by_side(left, right), windows)
    assert plan is not None and plan.regions
    assert all(region.right <= 640 for region in plan.regions), plan.regions


def test_switching_back_after_a_long_stretch_elsewhere_still_reads_nothing() -> None:
    """The cache keeps one state per screen, not the last few frames of the busiest one."""
    tracker = ChangeTracker()
    editor = pixels(screen(text_lines(20)))
    first = tracker.plan(editor, screen="editor")
    assert first is not None
    tracker.commit(first, editor)
    lines = [f"terminal output row {i}" for i in range(25)]
    for n in range(20):  # far more frames than states are cached
        lines[3] = f"typing in the terminal {'x' * n}"
        typed = pixels(screen(lines, top=60))
        plan = tracker.plan(typed, screen="terminal")
        assert plan is not None
        tracker.commit(plan, typed)
    back = tracker.plan(editor.copy(), screen="editor")
    assert back is not None
    assert back.regions == ()
    assert back.base_state == first.state_id


def test_a_toolbar_above_a_scrolled_page_is_not_read_again() -> None:
    tracker = ChangeTracker()
    page = text_lines(60)
    toolbar = "address bar https://docs.python.org/3/library/json.html"
    # The toolbar shares a row of tiles with the page's first lines.
    _committed(tracker, pixels(screen([toolbar, *page[:40]], top=50)))
    plan = _committed(tracker, pixels(screen([toolbar, *page[4:44]], top=50)))
    assert plan.moves, "the scroll was not recognised"
    assert all(region.y >= 50 + LINE_HEIGHT - 4 for region in plan.regions), plan.regions


def test_a_terminal_filling_up_as_it_scrolls_is_still_a_scroll() -> None:
    tracker = ChangeTracker()
    output = text_lines(40)
    # Twenty lines of output with blank space below them, then a command
    # prints more: the old lines move up and new ones fill the blank space.
    _committed(tracker, pixels(screen(output[:20])))
    plan = _committed(tracker, pixels(screen(output[5:40])))
    assert {move.dy for move in plan.moves} == {5 * LINE_HEIGHT}, plan
    # Only the lines that came where nothing was are read, not the screen.
    assert all(region.y >= 40 + 15 * LINE_HEIGHT - 4 for region in plan.regions), plan.regions


def test_new_line_numbers_beside_unchanged_lines_are_read_as_one_region() -> None:
    tracker = ChangeTracker()
    code = text_lines(25)
    # A gutter of line numbers, far from the code: after a jump of 100 lines
    # (to lines that read the same) only the numbers changed.
    _committed(tracker, pixels(screen([f"{n:>3}" + " " * 8 + t for n, t in enumerate(code)])))
    numbered = [f"{n + 100:>3}" + " " * 8 + t for n, t in enumerate(code)]
    plan = _committed(tracker, pixels(screen(numbered)))
    # One OCR call for the column of numbers, not one per number.
    assert len(plan.regions) == 1, plan.regions
    (region,) = plan.regions
    assert region.right < 40 + 11 * 10 and region.height > 20 * LINE_HEIGHT


def test_changes_far_apart_stay_apart() -> None:
    tracker = ChangeTracker()
    lines = text_lines(25)
    _committed(tracker, pixels(screen(lines)))
    lines[2] += " over the lazy dog"
    lines[22] += " and the cat"
    plan = _committed(tracker, pixels(screen(lines)))
    # Gathering them would read the twenty lines between again.
    assert len(plan.regions) == 2, plan.regions
