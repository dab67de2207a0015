"""Groups of changed tiles: the same boxes, in the same order, as scipy.ndimage gave."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mirix_desktop.capture.changes import tile_groups


def _scipy_groups(mask: np.ndarray) -> list[tuple[slice, slice]]:
    labels, _count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    return [(rows, cols) for rows, cols in ndimage.find_objects(labels)]


@pytest.mark.parametrize("density", [0.02, 0.1, 0.3, 0.5, 0.7])
def test_random_masks_group_as_scipy_does(density: float) -> None:
    rng = np.random.default_rng(int(density * 100))
    for _ in range(60):
        shape = (int(rng.integers(1, 40)), int(rng.integers(1, 70)))
        mask = rng.random(shape) < density
        assert tile_groups(mask) == _scipy_groups(mask)


def test_cells_touching_at_a_corner_are_one_group() -> None:
    mask = np.array(
        [
            [1, 0, 0, 0, 1],
            [0, 1, 0, 0, 1],
            [0, 0, 0, 0, 0],
            [0, 0, 1, 1, 0],
        ],
        dtype=bool,
    )
    assert tile_groups(mask) == [
        (slice(0, 2), slice(0, 2)),
        (slice(0, 2), slice(4, 5)),
        (slice(3, 4), slice(2, 4)),
    ]


def test_an_empty_or_full_mask() -> None:
    assert tile_groups(np.zeros((17, 30), dtype=bool)) == []
    assert tile_groups(np.ones((17, 30), dtype=bool)) == [(slice(0, 17), slice(0, 30))]
