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
