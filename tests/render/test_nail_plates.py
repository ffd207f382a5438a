"""arlens.render.nail_plates: the finger's sides found on the image, at any size."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.render import nail_plates as NP


def _finger(height: int, width: int, x0: int, x1: int) -> np.ndarray:
    """A vertical skin-coloured finger between columns x0 and x1 on a dark background."""
    frame = np.full((height, width, 3), 30, np.uint8)
    frame[:, x0:x1] = (120, 160, 210)
    return frame


@pytest.mark.parametrize("radius", [12.0, 600.0])
def test_finger_sides_found_at_any_size(radius):
    """A finger wider than SIDE_MAX_SAMPLES steps is sampled more coarsely (it scored every pair of
    samples: a hand larger than the frame took seconds and 1.4 GB); its sides are still found, within
    the coarser step."""
    cx = 1500
    r = int(radius)
    frame = _finger(400, 3000, cx - r, cx + r)
    found = NP.finger_sides(frame, np.array([cx, 200.0]), np.array([0.0, -1.0]), 50.0, radius)
    assert found is not None
    left, right = found
    step = max(NP.SIDE_STEP, 2 * NP.SIDE_SEARCH[1] * radius / NP.SIDE_MAX_SAMPLES)
    # across is (-dy, dx) = (1, 0) here: left is at x < cx, right at x > cx
    assert abs(left + radius) <= 1.5 * step and abs(right - radius) <= 1.5 * step, (found, step)


def test_finger_sides_off_the_frame_is_none():
    frame = _finger(100, 100, 40, 60)
    assert NP.finger_sides(frame, np.array([5000.0, 50.0]), np.array([0.0, -1.0]), 10.0, 10.0) is None
