"""Colour science: Lab conversions, CIEDE2000, hex parsing and shade parameters."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.render import color as C


def test_lab_of_known_colours():
    lab = C.bgr_to_lab(np.array([[255, 255, 255], [0, 0, 0], [0, 0, 255]], dtype=np.uint8))
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)  # sRGB red, D65


def test_lab_round_trip_every_level():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (5000, 3), dtype=np.uint8)
    back = C.lab_to_bgr(C.bgr_to_lab(bgr))
    assert np.abs(back - bgr).max() < 0.01
    assert C.bgr_to_lab(bgr.astype(np.float32)).dtype == np.float32


def test_lightness_is_labs_first_channel():
    """bgr_to_lightness holds bgr_to_lab's L bit for bit: over every 8-bit grey and a spread of colours, as uint8
    pixels (what the nail lens passes) and as floats."""
    rng = np.random.default_rng(3)
    px = np.concatenate([np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1),
                         rng.integers(0, 256, (20000, 3), dtype=np.uint8)])
    assert np.array_equal(C.bgr_to_lightness(px), C.bgr_to_lab(px)[:, 0])
    assert C.bgr_to_lightness(px).dtype == np.float32
    fl = px.astype(np.float32) + np.float32(0.25)
    assert np.array_equal(C.bgr_to_lightness(fl), C.bgr_to_lab(fl)[:, 0])


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # Sharma, Wu and Dalal (2005) test data
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, -1.3802, -84.2814), (50, 0, -82.7485), 1.0000),
        ((50, 2.5, 0), (50, 0, -2.5), 4.3065),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((22.7233, 20.0904, -46.694), (23.0331, 14.973, -42.5619), 2.0373),
    ],
)
def test_delta_e2000_reference_pairs(lab1, lab2, expected):
    assert C.delta_e2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("value", ["#12345", "red", "#GG0000", 0xFF0000, None, "#1234567"])
def test_bad_hex_names_the_field(value):
    with pytest.raises(InputError, match="liner_color"):
        C.parse_hex(value, "liner_color")


def test_hex_parses_to_bgr():
    assert C.parse_hex("#FF8000") == (0, 128, 255)
    assert C.parse_hex("ff8000") == (0, 128, 255)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"color": "#zzzzzz"}, "color"),
        ({"color": "#B0304A", "opacity": 1.5}, "opacity"),
        ({"color": "#B0304A", "opacity": -0.1}, "opacity"),
        ({"color": "#B0304A", "finish": "velvet"}, "finish"),
        ({"color": "#B0304A", "liner_color": "#12"}, "liner_color"),
    ],
)
def test_shade_params_bad_inputs(kwargs, field):
    with pytest.raises(InputError, match=field):
        C.shade_params(**kwargs)


def test_finish_accepts_enums_and_strings():
    class Other:  # e.g. arlens.catalog's own Finish enum
        value = "gloss"

    assert C.parse_finish("Matte") is C.Finish.MATTE
    assert C.parse_finish(Other()) is C.Finish.GLOSS
    assert C.parse_finish(C.Finish.SHIMMER) is C.Finish.SHIMMER


def test_shade_params_layout():
    p = C.shade_params("#B0304A", "gloss", 0.7)
    assert p.shape == (C.NUM_PARAMS,) and p.dtype == np.float32
    np.testing.assert_allclose(p[: C.P_B + 1], C.hex_to_lab("#B0304A"))
    assert p[C.P_OPACITY] == pytest.approx(0.7)
    assert p[C.P_SPECULAR] > 0 and p[C.P_SPARKLE] == 0
    assert C.shade_params("#B0304A", "shimmer")[C.P_SPARKLE] > 0


def test_composite_outside_mask_is_untouched(portraits):
    from arlens.render import mask as M

    _, image, face = portraits[0]
    geom = M.lip_geometry(face.landmarks, image.shape)
    x0, y0, x1, y1 = geom.box
    roi = image[y0:y1, x0:x1]
    maps = M.lip_maps(geom)
    out = C.composite_lipstick(roi, maps, C.shade_params("#4A0F1D", "matte", 1.0))
    assert out.shape == roi.shape and out.dtype == np.uint8
    outside = maps[..., M.MASK] == 0
    assert np.array_equal(out[outside], roi[outside])
    assert np.abs(out[~outside].astype(int) - roi[~outside]).max() > 20


def test_composite_pixels_batch_and_channels(portraits):
    from arlens.render import mask as M

    _, image, face = portraits[0]
    geom = M.lip_geometry(face.landmarks, image.shape)
    x0, y0, x1, y1 = geom.box
    roi = np.ascontiguousarray(image[y0:y1, x0:x1])
    pixels = M.lip_pixels(geom, liner_width=0.03)
    px = roi.reshape(-1, 3)[pixels.index]
    params = np.stack([C.shade_params(s, f, 0.9, liner_color="#5A0F1E") for s, f in
                       (("#B3172B", "gloss"), ("#E8A0B4", "shimmer"), ("#4A0F1D", "matte"))])
    batch = C.composite_pixels(px, pixels.maps, params)
    assert batch.shape == (3,) + px.shape and batch.dtype == np.uint8
    dense = C.composite_lipstick(roi, pixels.dense(geom.shape), params[1])
    # exact by construction: composite_lipstick gathers the same pixels and maps (same order, same length) and
    # calls composite_pixels on them, and a batch paints each shade with the same per-shade code
    np.testing.assert_array_equal(dense.reshape(-1, 3)[pixels.index], batch[1])
    for i, p in enumerate(params):
        np.testing.assert_array_equal(C.composite_pixels(px, pixels.maps, p), batch[i])
    # BGRA pixels: the same colours, alpha untouched. A different float path: the luminance comes from the
    # BGRA lookup-and-add path and OpenCV converts and blends 4-channel rows with other SIMD loops, which may
    # differ from the BGR path by an ULP of float32 (~1e-7 of the value) on some CPUs; that can move a
    # value across a rounding boundary, one level, on a rare pixel (none on the machines this ran on)
    bgra = np.concatenate([px, np.full((len(px), 1), 77, np.uint8)], axis=1)
    out = C.composite_pixels(bgra, pixels.maps, params[0])
    diff = np.abs(out[:, :3].astype(int) - batch[0])
    assert diff.max() <= 1 and (diff > 0).mean() <= 0.01
    assert (out[:, 3] == 77).all()


def test_composite_pixels_bad_inputs():
    maps = np.zeros((4, 4), np.float32)
    params = C.shade_params("#B3172B")
    with pytest.raises(InputError, match="px"):
        C.composite_pixels(np.zeros((4, 3), np.float32), maps, params)
    with pytest.raises(InputError, match="maps"):
        C.composite_pixels(np.zeros((4, 3), np.uint8), np.zeros((5, 4), np.float32), params)
    negative = params.copy()
    negative[C.P_SHADOW_GAIN] = -1.0
    with pytest.raises(InputError, match="params"):
        C.composite_pixels(np.zeros((4, 3), np.uint8), maps, negative)


def test_lip_lightness_is_the_median_lightness():
    rng = np.random.default_rng(5)
    px = rng.integers(0, 256, (501, 3), dtype=np.uint8)
    mask = rng.random(501).astype(np.float32)
    light = C.bgr_to_lab(px)[:, 0]
    assert C.lip_lightness(px, mask) == pytest.approx(C.median_lightness(light, mask), abs=1e-3)
    assert C.lip_lightness(px, np.zeros(501, np.float32)) == 50.0


def test_finish_is_the_catalogs():
    from arlens.catalog import Finish

    assert C.Finish is Finish


def test_luminance_of_bgra_matches_the_generic_transform():
    """The BGRA fast path of _luminance agrees with cv2.transform's 4 -> 1 row (a grid of colours).

    Two float code paths: bit-identity held where this was written, but on CPUs with AVX-512 (a Xeon, and
    the AMD EPYC of the arlens developers) a quarter of the values differ by one float32 ULP: OpenCV's
    transform kernel for that instruction set sums or fuses the three products differently. A relative
    tolerance of 4 ULP (4.8e-7) plus 1e-9 for Y near 0 allows exactly that and nothing that would change a
    lightness the lenses use (an ULP of Y moves L by less than 1e-5).
    """
    import cv2

    levels = np.arange(0, 256, 3, dtype=np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    px = cv2.cvtColor(grid.reshape(1, -1, 3), cv2.COLOR_BGR2BGRA).reshape(-1, 4)
    lin = cv2.LUT(px.reshape(1, -1, 4), C.SRGB_TO_LINEAR_LUT)
    expected = cv2.transform(lin, C._Y_ROWS[4]).reshape(-1)
    got = C._luminance(px)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(np.float32).eps, atol=1e-9)
