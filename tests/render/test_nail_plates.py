"""arlens.render.nail_plates: the finger's sides found on the image, at any size; the largest blob."""

from __future__ import annotations

import cv2
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


def _labelled_largest(binary: np.ndarray) -> tuple[int, np.ndarray] | None:
    """What largest_blob stands for: OpenCV's labelling, the first of the largest blobs by label."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return int(stats[biggest, cv2.CC_STAT_AREA]), cv2.findNonZero((labels == biggest).view(np.uint8))


def test_largest_blob_is_the_labellings():
    """The flood fills find the blob (size, pixels, and the one among equals) OpenCV's labelling finds, from empty
    images to speckle of more blobs than it fills (the labelling then), closed as seen_plate closes them or not."""
    rng = np.random.default_rng(7)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for _ in range(1500):
        h, w = (int(v) for v in rng.integers(1, 70, 2))
        binary = (rng.random((h, w)) < rng.random() ** 2).astype(np.uint8)
        if rng.random() < 0.5:
            binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, disc) & binary.max(initial=0)
        want, got = _labelled_largest(binary), NP.largest_blob(binary)
        assert (want is None) == (got is None)
        if want is not None:
            assert want[0] == got[0] and np.array_equal(want[1], got[1]), (h, w)


def test_segments_measured_together_as_alone():
    """Segments measured in one batch get, pixel for pixel, the distances and depths each gets measured alone: the
    same float64 operations per element (finger_ownership measures a nail's fingers' bones together)."""
    rng = np.random.default_rng(11)
    px, py = np.arange(40, 71) + 0.5, np.arange(20, 45) + 0.5
    for _ in range(50):
        ends = [(rng.normal(55, 30, 3).tolist(), rng.normal(35, 30, 3).tolist()) for _ in range(6)]
        ends[0] = (ends[0][0], list(ends[0][0]))  # a segment of no length
        d, z = NP._segments(px, py, ends)
        for k, end in enumerate(ends):
            dk, zk = NP._segments(px, py, [end])
            assert np.array_equal(d[k], dk[0]) and np.array_equal(z[k], zk[0])
