"""Anti-aliased polygon coverage and the erase masks of the make-up lenses."""

from __future__ import annotations

import cv2
import numpy as np

from arlens import landmarks as named
from arlens.render import coverage as COV
from arlens.render import face_uv as F


def test_coverage_area_and_overlaps():
    square = np.array([[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]])
    cov = COV.coverage([square], (0, 0, 40, 40))
    # the area, to the supersampling's resolution: OpenCV's fill includes the sub-samples on the edges, so a
    # 20 px side covers 81 quarter-pixels (+1.25%)
    assert abs(cov.sum() - 400.0) / 400.0 < 0.03
    assert cov[20, 20] == 1.0 and cov[0, 0] == 0.0 and 0.0 < cov[10, 20] < 1.0  # an edge pixel is partial
    # overlapping polygons are a union, not an even-odd fill
    both = COV.coverage([square, square + 5.0], (0, 0, 40, 40))
    assert abs(both.sum() - (800.0 - 225.0)) / 575.0 < 0.03 and both[27, 27] == 1.0
    shifted = COV.coverage([square + 0.25], (0, 0, 40, 40))
    assert abs(shifted.sum() - cov.sum()) < 1.0 and not np.array_equal(shifted, cov)  # sub-pixel motion shows


def _strip(width: float, angle_deg: float, start=(4.3, 20.2), length: float = 40.0) -> np.ndarray:
    """A strip ``width`` px wide and ``length`` long from ``start`` at ``angle_deg`` below the x axis."""
    a = np.radians(angle_deg)
    d, n = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    p0 = np.asarray(start)
    p1 = p0 + length * d
    return np.array([p0 + 0.5 * width * n, p1 + 0.5 * width * n, p1 - 0.5 * width * n, p0 - 0.5 * width * n])


def test_supersampling_grows_for_strokes_under_two_samples_wide():
    assert COV.supersampling(0.5) == 4 and COV.supersampling(3.0) == 4  # two samples across at 4x4
    assert COV.supersampling(0.3) == 7 and COV.supersampling(0.2) == 10
    assert COV.supersampling(0.05) == COV.MAX_SUPERSAMPLING and COV.supersampling(0.0) == COV.MAX_SUPERSAMPLING
    assert COV.supersampling(float("nan")) == COV.MAX_SUPERSAMPLING


def test_a_thin_stroke_is_filled_as_a_faint_even_line():
    # a lash on a face far from the camera: 0.1-0.45 px wide. OpenCV's fill takes every sample its edges touch (up to
    # a sample's width more), so at a fixed 4x4 such a stroke covered 1.4-5x its area, more in one column than the
    # next (beads); at supersampling(width) it is within 1.75x of its area (two samples across: up to half again,
    # plus the phase of the sample grid) and even along its length (a column's share within 35% of any other's)
    worst_fixed = 1.0
    for width in (0.1, 0.15, 0.2, 0.3, 0.45):
        for angle in (5.0, 17.0, 41.0, 70.0):
            strip = _strip(width, angle, start=(10.3, 5.2), length=30.0)
            for ss in (4, COV.supersampling(width)):
                cov = COV.packed_coverage(strip, np.array([4]), (0, 0, 50, 40), ss=ss)
                area = cov.sum() / (30.0 * width)
                # along the strip's length, away from its ends: columns for a shallow strip, rows for a steep one
                along = cov.sum(axis=0)[14:30] if angle < 45.0 else cov.sum(axis=1)[10:30]
                if ss == 4:
                    worst_fixed = max(worst_fixed, area)
                    continue
                assert 0.9 < area < 1.75, (width, angle, ss, area)
                assert along.max() / along.min() < 1.35, (width, angle, ss, along)
    assert worst_fixed > 3.0  # what the fixed 4x4 did: the check above can fail


def test_a_fine_supersampling_is_bounded_over_a_large_box():
    # thin strokes thrown across a 4K frame (garbage landmarks) must not ask for a 16x canvas of it (2 GB)
    strip = _strip(0.1, 17.0, start=(100.3, 50.2), length=3000.0)
    box = (0, 0, 3840, 2160)
    fine = COV.packed_coverage(strip, np.array([4]), box, ss=16)
    np.testing.assert_array_equal(fine, COV.packed_coverage(strip, np.array([4]), box, ss=4))
    small = (90, 40, 140, 80)  # a box that fits keeps its supersampling
    assert not np.array_equal(COV.packed_coverage(strip, np.array([4]), small, ss=16),
                              COV.packed_coverage(strip, np.array([4]), small, ss=4))

def test_spline_passes_through_its_points():
    pts = np.array([[0.0, 0.0], [10.0, 5.0], [20.0, 0.0], [30.0, 8.0]])
    s = COV.spline(pts, 4)
    np.testing.assert_allclose(s[::4], pts, atol=1e-5)
    closed = COV.spline(pts, 4, closed=True)
    assert len(closed) == 16


def test_erase_mask_holds_every_pixel_whose_centre_is_inside(portraits):
    for _, image, face in portraits:
        pts = F.mesh_points(face.landmarks)
        box = (0, 0, image.shape[1], image.shape[0])
        erase = COV.erase_mask(pts, ["right_eye", "left_eye", "mouth"], box)
        for loop in (named.right_eye(), named.left_eye(), named.lips_inner()):
            inside = np.zeros(image.shape[:2], np.uint8)
            cv2.fillPoly(inside, [np.round(pts[list(loop)] * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
            assert (erase[inside > 0] == 1.0).all()
        grown = COV.erase_mask(pts, ["right_brow"], box, grow=4.0)
        plain = COV.erase_mask(pts, ["right_brow"], box)
        assert (grown >= plain).all() and grown.sum() > plain.sum() * 1.2
