"""Lip masks and lip-local maps from landmarks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arlens import landmarks as named
from arlens.errors import InputError
from arlens.render import mask as M


def _polygon_area(points: np.ndarray) -> float:
    return abs(float(cv2.contourArea(points.astype(np.float32))))


def test_maps_shape_range_and_box(portraits):
    for _, image, face in portraits:
        geom = M.lip_geometry(face.landmarks, image.shape)
        maps = M.lip_maps(geom, liner_width=0.03)
        h, w = geom.shape
        assert maps.shape == (h, w, M.NUM_MAPS) and maps.dtype == np.float32
        assert maps.min() >= 0 and maps.max() <= 1
        x0, y0, x1, y1 = geom.box
        lips = face.landmarks[list(named.lips_outer()), :2]
        assert x0 <= lips[:, 0].min() and lips[:, 0].max() <= x1
        assert y0 <= lips[:, 1].min() and lips[:, 1].max() <= y1
        # only the lips' box: a small fraction of the frame
        assert h * w < 0.05 * image.shape[0] * image.shape[1]
        # the liner band lies inside the mask
        assert (maps[..., M.LINER] <= maps[..., M.MASK] + 1e-6).all()
        assert maps[..., M.LINER].max() > 0.5


def test_coverage_area_matches_the_contours(portraits):
    for _, image, face in portraits:
        geom = M.lip_geometry(face.landmarks, image.shape)
        expected = _polygon_area(geom.outer) - _polygon_area(geom.inner)
        assert M.lip_coverage(geom).sum() == pytest.approx(expected, rel=0.03)


def test_feather_spills_at_most_one_pixel(portraits):
    for _, image, face in portraits:
        geom = M.lip_geometry(face.landmarks, image.shape)
        mask = M.lip_mask(geom)
        hard = M.hard_lip_mask(geom).astype(np.uint8)
        dist_outside = cv2.distanceTransform(1 - hard, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        assert mask[dist_outside > 1.5].max(initial=0) == 0
        # and the lips themselves are fully covered away from the edge
        dist_inside = cv2.distanceTransform(hard, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        assert mask[dist_inside > 2 * geom.sigma + 1].min(initial=1.0) > 0.99


def test_mask_moves_smoothly_with_subpixel_landmarks(portraits):
    _, image, face = portraits[1]
    base = M.lip_geometry(face.landmarks, image.shape)
    moved = M.lip_geometry(face.landmarks + np.float32([0.25, 0.0, 0.0]), image.shape)
    assert base.box == moved.box
    a, b = M.lip_mask(base), M.lip_mask(moved)
    assert 0 < np.abs(a - b).max() < 0.5  # changes, but a fraction, not a pixel jump


def test_geometry_outside_frame_is_none(portraits):
    _, image, face = portraits[0]
    assert M.lip_geometry(face.landmarks - np.float32([5000, 0, 0]), image.shape) is None


def test_bad_landmarks():
    with pytest.raises(InputError, match="landmarks"):
        M.lip_geometry(np.zeros((10, 3), np.float32), (100, 100, 3))


def test_sparkle_is_deterministic_and_fixed_to_the_lips(portraits):
    _, image, face = portraits[1]
    geom = M.lip_geometry(face.landmarks, image.shape)
    a = M.lip_maps(geom)[..., M.SPARKLE]
    b = M.lip_maps(M.lip_geometry(face.landmarks.copy(), image.shape))[..., M.SPARKLE]
    assert np.array_equal(a, b)
    assert (a > 0.1).sum() > 10  # there is a pattern
    dx, dy = 13, 7
    moved = M.lip_geometry(face.landmarks + np.float32([dx, dy, 0]), image.shape)
    assert moved.box == (geom.box[0] + dx, geom.box[1] + dy, geom.box[2] + dx, geom.box[3] + dy)
    c = M.lip_maps(moved)[..., M.SPARKLE]
    assert np.abs(a - c).max() < 1e-3


def test_sparkle_follows_rotation(portraits):
    """Rotating the face about the mouth rotates the pattern with it (sampled at glint centres)."""
    _, image, face = portraits[1]
    geom = M.lip_geometry(face.landmarks, image.shape)
    u, v = geom.local_uv()
    angle = np.deg2rad(10.0)
    centre = geom.origin + np.float32(geom.box[:2])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    lm = face.landmarks.copy()
    lm[:, :2] = (lm[:, :2] - 0.5 - centre) @ rot.T + centre + 0.5
    turned = M.lip_geometry(lm, image.shape)
    u2, v2 = turned.local_uv()
    # the lip-local coordinates of the same lip point agree: compare the frames directly
    np.testing.assert_allclose(turned.width, geom.width, rtol=1e-4)
    np.testing.assert_allclose(turned.axis_u, rot @ geom.axis_u, atol=1e-4)


def test_pixels_are_the_dense_maps_where_painted(portraits):
    for _, image, face in portraits:
        geom = M.lip_geometry(face.landmarks, image.shape)
        pixels = M.lip_pixels(geom, liner_width=0.03)
        dense = M.lip_maps(geom, liner_width=0.03)
        h, w = geom.shape
        assert pixels.index.dtype == np.intp and np.all(np.diff(pixels.index) > 0)
        assert pixels.maps.shape == (len(pixels), M.NUM_MAPS) and pixels.maps.dtype == np.float32
        flat = dense.reshape(h * w, M.NUM_MAPS)
        # exact by construction: lip_maps and lip_mask scatter what lip_pixels and _painted compute
        np.testing.assert_array_equal(flat[pixels.index], pixels.maps)
        painted = np.zeros(h * w, bool)
        painted[pixels.index] = True
        assert (pixels.maps[:, M.MASK] > 0).all()
        assert not flat[~painted].any()  # nothing outside the painted pixels
        np.testing.assert_array_equal(M.lip_mask(geom).reshape(-1), flat[:, M.MASK])


def test_mask_cut_by_the_frame_edge_matches_the_whole_mask(portraits):
    """Where the frame cuts the lips, the mask inside the frame is the mask of the uncut lips."""
    _, image, face = portraits[1]
    whole = M.lip_geometry(face.landmarks, image.shape)
    x0, y0, x1, y1 = whole.box
    cut_at = (y0 + y1) // 2  # a frame that ends across the mouth
    cut = M.lip_geometry(face.landmarks, (cut_at,) + image.shape[1:])
    assert cut.box == (x0, y0, x1, cut_at)
    np.testing.assert_allclose(M.lip_mask(cut), M.lip_mask(whole)[: cut_at - y0], atol=1e-6)


def test_sparkle_without_the_range_check_matches_sparkle_map(portraits):
    """lip_pixels skips the shimmer table's per-pixel range check when the box's corners lie inside it."""
    for _, image, face in portraits:
        geom = M.lip_geometry(face.landmarks, image.shape)
        assert M._box_in_sparkle_table(geom)
        u, v = geom.local_uv()
        # exact by construction: the two paths differ only in how they find the cell's table index (integers,
        # exact in float32 below 2**24); the bump is the same basic float32 arithmetic (IEEE, no
        # transcendental functions), rounded alike by every CPU
        np.testing.assert_array_equal(M._sparkle(u, v, in_table=True), M.sparkle_map(geom, u, v))
    # a tiny mouth in a wide box: its far corners fall outside the table
    geom = M.lip_geometry(portraits[0][2].landmarks * np.float32(0.05), portraits[0][1].shape, margin=400)
    assert geom is not None and not M._box_in_sparkle_table(geom)
    pixels = M.lip_pixels(geom)
    u, v = geom.local_uv(pixels.index)
    np.testing.assert_array_equal(pixels.maps[:, M.SPARKLE], M.sparkle_map(geom, u, v))


def test_a_close_up_feather_on_the_coarse_grid_agrees_with_the_exact_raster(portraits, monkeypatch):
    """Above _COARSE_SIGMA the blur runs on a coarse grid; the maps stay those of the exact raster.

    Tolerances: the coarse cells are filled at 4x4 samples each, and OpenCV's fill takes in every sample
    an edge touches, so the coarse lips are up to k/8 px fuller than the exact ones (k = 2 here): the
    feather ramp (about 4x the blurred coverage's slope) moves by up to 0.04; pixels on the hard edge whose
    centre and 4x4 coverage disagree (about 1% of them) flip in or out of the painted set.
    """
    _, image, face = portraits[1]
    s = 12  # a 840 px mouth: sigma 16.8
    big = face.landmarks.copy()
    big[:, :2] = (big[:, :2] + 0.5) * s - 0.5
    geom = M.lip_geometry(big, (image.shape[0] * s, image.shape[1] * s))
    assert geom.sigma > M._COARSE_SIGMA
    coarse = M.lip_maps(geom, liner_width=0.03)
    monkeypatch.setattr(M, "_COARSE_SIGMA", float("inf"))
    exact = M.lip_maps(geom, liner_width=0.03)
    painted_c, painted_e = coarse[..., M.MASK] > 0, exact[..., M.MASK] > 0
    assert (painted_c ^ painted_e).sum() < 0.01 * painted_e.sum()
    both = painted_c & painted_e
    for channel in (M.MASK, M.LINER, M.GLOSS, M.SPARKLE):
        diff = np.abs(coarse[..., channel] - exact[..., channel])[both]
        assert np.percentile(diff, 99.9) < 0.05, channel


def test_the_raster_region_is_bounded_by_the_box_and_the_blur(portraits):
    """A lip point 600,000 px off-frame once made a 2.4M px wide raster; the region now ends at the blur's reach."""
    _, image, face = portraits[0]
    lm = face.landmarks.copy()
    lm[named.lips_outer()[0], 0] = 600_000.0
    geom = M.lip_geometry(lm, image.shape)
    h, w = geom.shape
    assert w <= image.shape[1] and h <= image.shape[0]
    reach = M._reach(geom.sigma)
    x0, y0, x1, y1 = M._region(geom, M._BOX_PAD, reach)
    assert x1 - x0 <= w + 2 * reach and y1 - y0 <= h + 2 * reach
    pixels = M.lip_pixels(geom, liner_width=0.03)  # through the coarse path (sigma is ~12,000 px)
    assert pixels.maps.shape == (len(pixels), M.NUM_MAPS) and np.isfinite(pixels.maps).all()
