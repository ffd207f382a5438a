"""The face's UV layout and the per-triangle warps between it and a frame."""

from __future__ import annotations

import numpy as np
import pytest

from arlens import landmarks as named
from arlens.render import face_uv as F


def test_triangles_are_read_from_the_tesselation_table():
    tris = named.face_triangles()
    assert tris.shape == (852, 3)
    edges = {tuple(e) for e in named.tesselation().tolist()}
    for a, b, c in tris[:50].tolist():
        assert {(a, b), (b, c), (c, a)} <= edges


def test_mirror_table_pairs_the_eyes_and_keeps_the_midline():
    m = F.mirror_table()
    assert np.array_equal(m[m], np.arange(named.NUM_MESH_LANDMARKS))  # an involution
    for a, b in zip(named.right_eye(), named.left_eye(), strict=True):
        assert m[a] == b
    assert m[named.NOSE_BRIDGE] == named.NOSE_BRIDGE and m[named.RIGHT_EYE_OUTER] == named.LEFT_EYE_OUTER
    assert sorted(m[list(named.right_eyebrow())]) == sorted(named.left_eyebrow())


def test_layout_is_symmetric_unfolded_and_in_the_unit_square():
    lay = F.layout()
    assert lay.uv.shape == (F.NUM_VERTICES, 2) and lay.mesh_triangles == 852
    assert lay.uv.min() >= 0.0 and lay.uv.max() <= 1.0
    np.testing.assert_allclose(lay.uv[:, 0] + lay.uv[lay.mirror, 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(lay.uv[:, 1], lay.uv[lay.mirror, 1], atol=1e-6)
    area = F._signed_area(lay.tri_uv.astype(np.float64))
    assert (area > 0).all()  # no folded triangle, all counter-clockwise (the hole fans included)
    # the right eye is on the image's left, above the mouth
    assert lay.uv[named.RIGHT_EYE_OUTER, 0] < 0.5 < lay.uv[named.LEFT_EYE_OUTER, 0]
    assert lay.uv[list(named.right_eye()), 1].max() < lay.uv[list(named.lips_outer()), 1].min()


def test_lids_and_brow_rows_run_from_outside_in():
    lay = F.layout()
    for side in F.SIDES:
        upper, lower = F.eyelids(side)
        assert upper[0] == lower[0] and upper[-1] == lower[-1]  # shared corners
        outer, inner = lay.uv[upper[0]], lay.uv[upper[-1]]
        assert abs(outer[0] - 0.5) > abs(inner[0] - 0.5)
        assert lay.uv[list(upper[1:-1]), 1].mean() < lay.uv[list(lower[1:-1]), 1].mean()
        b_up, b_lo = F.brow_rows(side)
        assert abs(lay.uv[b_up[0], 0] - 0.5) > abs(lay.uv[b_up[-1], 0] - 0.5)
        assert lay.uv[list(b_up), 1].mean() < lay.uv[list(b_lo), 1].mean()


def _frame_points(seed: int = 0) -> np.ndarray:
    """Mesh points of a plausible face in a frame: the layout scaled, rotated and a little deformed."""
    rng = np.random.default_rng(seed)
    lay = F.layout()
    a = np.deg2rad(12.0)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    base = lay.uv[: named.NUM_MESH_LANDMARKS].astype(np.float64) @ rot.T * 300.0 + np.array([120.0, 60.0])
    base += rng.normal(0.0, 0.4, base.shape)  # a little expression, well below folding any triangle
    lm = np.zeros((named.NUM_FACE_LANDMARKS, 3), np.float32)
    lm[: named.NUM_MESH_LANDMARKS, :2] = base + 0.5  # landmark pixels: centres at +0.5
    return F.mesh_points(lm)


def test_warp_puts_vertices_on_the_landmarks():
    lay = F.layout()
    pts = _frame_points()
    located = F.locate(lay.uv[:50])
    assert located.inside.all()
    np.testing.assert_allclose(F.warp(located, pts), pts[:50], atol=1e-3)


def test_uv_map_inverts_the_warp():
    """UV points warped into a frame and looked up again through the frame's UV map come back (to a fraction of
    a pixel: the map is resized from a coarse grid, exact inside triangles, within a grid step of a kink)."""
    lay = F.layout()
    pts = _frame_points(1)
    rng = np.random.default_rng(2)
    uv = rng.uniform([0.25, 0.3], [0.45, 0.6], (300, 2))
    located = F.locate(uv)
    xy = F.warp(located, pts)
    tris = lay.triangles_in((0.2, 0.25, 0.5, 0.65))
    box = F.box_of(pts, tris, (800, 800))
    m = F.uv_map(pts, tris, box, step=2.0)
    x0, y0 = box[:2]
    ix, iy = np.rint(xy[:, 0] - x0).astype(int), np.rint(xy[:, 1] - y0).astype(int)
    back = np.stack([m.u[iy, ix], m.v[iy, ix]], axis=1)
    # a pixel is 1/300 UV here; rounding to the pixel grid moves a point by up to 0.71 px
    err_px = np.linalg.norm(back - uv, axis=1) * 300.0
    assert np.median(err_px) < 0.5 and err_px.max() < 1.5
    assert (m.on_mesh[iy, ix] > 0.99).mean() > 0.97


def test_uv_map_off_the_mesh_and_degenerate_input():
    pts = _frame_points()
    tris = np.arange(F.layout().mesh_triangles)
    m = F.uv_map(pts, tris, (0, 0, 40, 40), step=3.0)  # far from the face
    assert m.on_mesh.max() == 0.0 and m.shape == (40, 40)
    assert F.box_of(pts, tris, (10, 10)) is None  # the face is outside a 10x10 frame
    bad = pts.copy()
    bad[3] = np.nan
    assert F.box_of(bad, tris, (800, 800)) is None


def _folded(near_left: bool) -> tuple[np.ndarray, np.ndarray]:
    """A face folded along its midline so that its two halves lie on each other in the frame (the layout is
    mirror-symmetric: a vertex and its partner land on one pixel), the left half (u > 0.5) nearer the camera when
    ``near_left``: mesh points and depths."""
    lay = F.layout()
    uv = lay.uv[: named.NUM_MESH_LANDMARKS].astype(np.float64)
    lm = np.zeros((named.NUM_FACE_LANDMARKS, 3), np.float32)
    lm[: named.NUM_MESH_LANDMARKS, 0] = 100.0 + 400.0 * np.abs(uv[:, 0] - 0.5) + 0.5
    lm[: named.NUM_MESH_LANDMARKS, 1] = 50.0 + 400.0 * uv[:, 1] + 0.5
    # depth grows away from the midline on the far half, falls on the near half (a page turned towards the camera)
    side = np.sign(uv[:, 0] - 0.5) * (1.0 if near_left else -1.0)
    lm[: named.NUM_MESH_LANDMARKS, 2] = -60.0 * side * np.abs(uv[:, 0] - 0.5)
    return F.mesh_points(lm), F.mesh_depths(lm)


@pytest.mark.parametrize("near_left", [True, False])
def test_uv_grid_shows_the_nearer_of_two_surfaces(near_left):
    """Where two parts of the face lie over one pixel (a turned head's nose over its far eye), the UV grid made with
    the depths shows the nearer; the samples where one surface hides another are marked."""
    pts, depths = _folded(near_left)
    tris = np.arange(F.layout().mesh_triangles)
    box = (90, 40, 320, 460)
    grid = F.uv_grid(pts, tris, box, step=2.0, max_samples=200, depths=depths)
    u, on = grid.values[..., 0], grid.values[..., 2] > 0
    away = on & (grid.hides > 0)  # off the midline, where the halves overlap at different depths
    assert away.mean() > 0.5 * on.mean()
    if near_left:
        assert (u[away] > 0.5).all()
    else:
        assert (u[away] < 0.5).all()
    # without depths the last triangle drawn wins, whichever half it is on
    plain = F.uv_grid(pts, tris, box, step=2.0, max_samples=200)
    assert plain.hides is None
    assert 0.0 < (plain.values[..., 0][away] > 0.5).mean() < 1.0


def test_a_frontal_face_has_nothing_hidden():
    pts = _frame_points(3)
    lm_depths = np.zeros(F.NUM_VERTICES, np.float32)
    grid = F.uv_grid(pts, np.arange(len(F.layout().triangles)), (100, 40, 460, 420), step=3.0, max_samples=160,
                     depths=lm_depths)
    assert grid.hides is None
    plain = F.uv_grid(pts, np.arange(len(F.layout().triangles)), (100, 40, 460, 420), step=3.0, max_samples=160)
    np.testing.assert_array_equal(grid.values, plain.values)


def test_mesh_depths():
    lm = np.zeros((named.NUM_FACE_LANDMARKS, 3), np.float32)
    lm[:, 2] = np.arange(named.NUM_FACE_LANDMARKS)
    z = F.mesh_depths(lm)
    assert z.shape == (F.NUM_VERTICES,) and z.dtype == np.float32
    np.testing.assert_array_equal(z[: named.NUM_MESH_LANDMARKS], np.arange(named.NUM_MESH_LANDMARKS))
    assert z[named.NUM_MESH_LANDMARKS] == pytest.approx(np.mean(list(named.right_eye())))
    assert F.mesh_depths(lm[:, :2]) is None  # no z: no depth test
    lm[5, 2] = np.nan
    assert F.mesh_depths(lm) is None


@pytest.mark.parametrize("uv", [(0.5, 0.5), (0.3, 0.33), (0.7, 0.62)])
def test_locate_inside_and_off_mesh(uv):
    located = F.locate(np.array([uv]))
    assert located.inside[0] and abs(located.weights.sum() - 1.0) < 1e-5
    off = F.locate(np.array([[0.001, 0.001]]))
    assert not off.inside[0] and (off.weights >= 0).all()


@pytest.mark.parametrize("n", [1, 3, F.REMAP_ROW - 1, F.REMAP_ROW, 40_000])
def test_remap_points_looks_up_any_number_of_points(n):
    """OpenCV's remap asserts that its maps are narrower than 32,767 columns, and the full look on a 1080p close-up
    looked up about 40,000 shimmer points in one row (a cv2.error). Every point's value must be the bilinear lookup
    it gets alone: compared with cv2.remap on short rows of the same points. Within 1e-6 (values 0..1): the same
    weights of the same four texels, though a point may fall to OpenCV's vector loop in one layout and to its
    scalar tail in the other, which may sum in another order (a few float32 ulps)."""
    import cv2

    rng = np.random.default_rng(n)
    src = rng.random((64, 80, 2), dtype=np.float32)
    x = rng.uniform(-3, 83, (1, n)).astype(np.float32)
    y = rng.uniform(-3, 67, (1, n)).astype(np.float32)
    expected = np.concatenate([cv2.remap(src, x[:, i : i + 1000], y[:, i : i + 1000], cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_REPLICATE) for i in range(0, n, 1000)], axis=1)
    got = F.remap_points(src, x, y)
    assert got.shape == (1, n, 2)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    # one (1, n, 2) map of x and y, a constant border, a one-channel source
    xy = np.stack([x, y], axis=2)
    one = np.ascontiguousarray(src[..., 0])
    expected = np.concatenate([cv2.remap(one, xy[:, i : i + 1000], None, cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_CONSTANT) for i in range(0, n, 1000)], axis=1)
    got = F.remap_points(one, xy, border=cv2.BORDER_CONSTANT)
    assert got.shape == (1, n)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
