"""Several products' changes on one face grid: cells aligned with the frame, crops resized like the whole, changes
composed in order and kept off each product's outlines at full resolution."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arlens.render import skin as S
from arlens.render.face_grid import Erase, FaceGrid, GridChange, Layer, cell_size, put_rows, take_rows
from arlens.render.face_space import FaceSpace


@pytest.fixture(scope="module")
def face(portraits):
    name, image, face = portraits[0]
    return image, face, FaceSpace.of(face, image.shape)


def test_rows_are_taken_and_put():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (50, 3), dtype=np.uint8)
    index = np.array([3, 7, 49, 0])
    assert np.array_equal(take_rows(a, index), a[index])
    b = a.copy()
    put_rows(b, index, np.full((4, 3), 9, np.uint8))
    expected = a.copy()
    expected[index] = 9
    assert np.array_equal(b, expected)


def test_the_grid_is_whole_cells_inside_the_frame(face):
    image, _, space = face
    grid = FaceGrid.around(space, [space.box], 3)
    x0, y0, x1, y1 = grid.box
    assert (x1 - x0) % 3 == 0 and (y1 - y0) % 3 == 0 and grid.shape == ((y1 - y0) // 3, (x1 - x0) // 3)
    assert x0 >= 0 and y0 >= 0 and x1 <= image.shape[1] and y1 <= image.shape[0]
    assert x0 <= space.box[0] and x1 >= space.box[2] - 0  # it holds the face's box (grown towards the frame's inside)
    small = grid.downsample(image)
    assert small.shape == grid.shape + (3,)
    # a cell's colour is its block's mean
    block = image[y0 : y0 + 3, x0 + 6 : x0 + 9].reshape(-1, 3).mean(axis=0)
    assert np.abs(small[0, 2].astype(float) - block).max() <= 0.5 + 1e-6
    assert cell_size(335.0, 190.0) == 2 and cell_size(100.0, 190.0) == 1


def test_a_crop_upsamples_as_the_whole(face):
    """Resizing cells around a box (a cell of margin) gives exactly the pixels the whole field's resize gives."""
    _, _, space = face
    grid = FaceGrid.around(space, [space.box], 3)
    rng = np.random.default_rng(1)
    field = rng.uniform(0, 1, grid.shape + (3,)).astype(np.float32)
    x0, y0, x1, y1 = grid.box
    whole = cv2.resize(field, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    for _ in range(20):
        bx0, by0 = int(rng.integers(x0, x1 - 5)), int(rng.integers(y0, y1 - 5))
        box = (bx0, by0, int(rng.integers(bx0 + 1, x1)), int(rng.integers(by0 + 1, y1)))
        got = grid.upsample(field, (0, 0), box)
        np.testing.assert_allclose(got, whole[box[1] - y0 : box[3] - y0, box[0] - x0 : box[2] - x0], atol=1e-5)


def test_changes_compose_in_order_and_keep_off_their_outlines(face):
    """Two layers on a grid of one-pixel cells apply as each applied in turn (pixel * g + o, twice), and nothing
    changes inside an eye opening a layer keeps off."""
    image, _, space = face
    grid = FaceGrid.around(space, [space.box], 1)
    change = GridChange(grid, image)
    gh, gw = grid.shape
    rng = np.random.default_rng(2)
    g1 = rng.uniform(0.8, 1.2, (gh, gw)).astype(np.float32)
    o1 = rng.uniform(-10, 10, (gh, gw, 3)).astype(np.float32)
    cells = np.flatnonzero(rng.uniform(0, 1, gh * gw) < 0.3)
    g2 = rng.uniform(0.8, 1.2, len(cells)).astype(np.float32)
    o2 = rng.uniform(-10, 10, (len(cells), 3)).astype(np.float32)
    full = (0, 0, gh, gw)
    change.add(Layer(full, None, g1, o1, full), None)
    change.add(Layer(full, cells, g2, o2, full, erase=(Erase("right_eye"),)), None)
    out = image.copy()
    change.apply(out)
    x0, y0, x1, y1 = grid.box
    roi = image[y0:y1, x0:x1].astype(np.float32)
    step1 = roi * g1[..., None] + o1
    g2d, o2d = np.ones(gh * gw, np.float32), np.zeros((gh * gw, 3), np.float32)
    g2d[cells], o2d[cells] = g2, o2
    expected = step1 * g2d.reshape(gh, gw, 1) + o2d.reshape(gh, gw, 3)
    (mx0, my0, mx1, my1), mask = space.mask("right_eye")
    inside = np.zeros((gh, gw), bool)
    inside[my0 - y0 : my1 - y0, mx0 - x0 : mx1 - x0] = mask > 0.999
    got = out[y0:y1, x0:x1].astype(np.float32)
    # outside the eye's box the layers compose exactly (to rounding); inside the eye only the first layer shows
    away = np.ones((gh, gw), bool)
    away[my0 - y0 : my1 - y0, mx0 - x0 : mx1 - x0] = False
    assert np.abs(got[away] - np.clip(np.rint(expected[away]), 0, 255)).max() <= 1.0
    assert np.abs(got[inside] - np.clip(np.rint(step1[inside]), 0, 255)).max() <= 1.0


def test_products_keeping_off_an_outline_differently_are_put_together_again(face):
    """Foundation keeps only off a brow's hair, a shadow off the whole brow: where both change the brow, each is
    faded by its own outline (the shadow gone from the brow, the foundation on its skin)."""
    image, _, space = face
    grid = FaceGrid.around(space, [space.box], 2)
    change = GridChange(grid, image)
    gh, gw = grid.shape
    full = (0, 0, gh, gw)
    ones = np.ones((gh, gw), np.float32)
    brow_hair = S.luminance(image).mean()
    change.add(Layer(full, None, ones * 1.1, np.zeros((gh, gw, 3), np.float32), full,
                     erase=(Erase("right_brow", 1.0, float(brow_hair)),)), None)
    change.add(Layer(full, None, ones, np.full((gh, gw, 3), 20.0, np.float32), full,
                     erase=(Erase("right_brow", 2.0),)), None)
    out = image.copy()
    change.apply(out)
    (bx0, by0, bx1, by1), mask = space.mask("right_brow", 2.0)
    core = mask > 0.999
    delta = out[by0:by1, bx0:bx1].astype(np.float32) - image[by0:by1, bx0:bx1]
    # the second layer's +20 is gone on the brow; what is left is at most the first layer's 10% gain
    assert (delta[core] <= 0.1 * image[by0:by1, bx0:bx1][core] + 1.0).all()


def test_glints_of_products_sharing_a_region_add_up_once_and_keep_off_their_outlines(face):
    """Two shimmer layers drawn on overlapping parts of the face (one part joining two others) glint as one layer of
    their summed sparkle over the parts' union, each pixel drawn once; glints only brighten, and none lands in the
    eye opening the layers keep off."""
    image, _, space = face
    grid = FaceGrid.around(space, [space.box], 2)
    change = GridChange(grid, image)
    gh, gw = grid.shape
    full = (0, 0, gh, gw)
    sparkle = np.random.default_rng(3).uniform(0.0, 0.5, (gh, gw)).astype(np.float32)
    eye = (Erase("right_eye"),)

    def layer(s: np.ndarray, parts: list) -> Layer:
        return Layer(full, None, np.ones((gh, gw), np.float32), np.zeros((gh, gw, 3), np.float32), full,
                     erase=eye, sparkle=s, parts=parts)

    def keep(erase, box):
        return change.outline_keep(erase, box)

    half = gh // 2
    top, bottom, middle = (0, 0, half - 6, gw), (half + 6, 0, gh, gw), (half - 8, 0, half + 8, gw)
    two = image.copy()
    change.glints(two, [layer(sparkle, [top, bottom]), layer(sparkle, [middle])], keep, 0.9)
    one = image.copy()
    change.glints(one, [layer(sparkle * np.float32(2.0), [full])], keep, 0.9)
    assert not np.array_equal(one, image)
    # the same field over the same pixels (the union's box is the whole grid either way); sums in another order
    assert np.abs(two.astype(np.int16) - one).max() <= 1
    assert (two >= image).all()
    (mx0, my0, mx1, my1), mask = space.mask("right_eye")
    opening = mask > 0.999
    assert np.array_equal(two[my0:my1, mx0:mx1][opening], image[my0:my1, mx0:mx1][opening])


def test_an_outline_named_twice_is_kept_off_once(face):
    """A cheek product's two sides both keep off the lips: the lips' soft edge fades its change once (a cell half
    inside the lips keeps half of it), not once per side (a quarter)."""
    image, _, space = face
    grid = FaceGrid.around(space, [space.box], 3)  # cells of 3 x 3 pixels: the edge's mask averaged to halves
    change = GridChange(grid, image)
    (r0, c0, r1, c1), mask = grid.erase_part("lips", 0.0)
    edge = np.unravel_index(np.argmin(np.abs(mask - 0.5)), mask.shape)
    assert abs(float(mask[edge]) - 0.5) < 0.1  # the lips have a soft edge to test
    rect = (0, 0) + grid.shape
    once = change.keep((Erase("lips"),), rect, None)
    twice = change.keep((Erase("lips"), Erase("right_eye"), Erase("lips")), rect, None)
    at = (edge[0] + r0, edge[1] + c0)
    assert once[at] == pytest.approx(1.0 - float(mask[edge]), abs=1e-6)
    assert twice[at] == pytest.approx(once[at], abs=1e-6)
    eye = change.keep((Erase("right_eye"),), rect, None)
    np.testing.assert_allclose(twice, once * eye, atol=1e-6)
