"""Filtered compositing and the contact shade, in the bytes."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.image import over_premultiplied
from arlens.render.composite import NEUTRAL_KEEP, composite_filtered, shade
from arlens.render.gl import lens_keep_lut
from arlens.render.shadow import ShadowStyle, contact_shade


def test_neutral_table_is_plain_over():
    rng = np.random.default_rng(1)
    dst = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (20, 30, 1), dtype=np.uint8)
    colour = (rng.random((20, 30, 3)) * alpha).astype(np.uint8)  # premultiplied: colour <= alpha
    rgba = np.concatenate([colour, alpha], axis=2)
    expected = over_premultiplied(dst.copy(), rgba)
    np.testing.assert_array_equal(composite_filtered(dst.copy(), rgba, NEUTRAL_KEEP), expected)


def test_tinted_lens_multiplies_each_channel():
    """A brown filter over a grey ramp: every channel is a constant fraction of what was there (a product,
    no offset): what a filter does and a haze does not."""
    t, f0 = (0.30, 0.20, 0.08), (0.04, 0.04, 0.04)
    lum = float(np.dot(np.array(t) * 0.96, [0.2126, 0.7152, 0.0722]))
    alpha = int(round(255 * (1 - lum ** (1 / 2.2))))
    ramp = np.repeat(np.linspace(20, 250, 64).astype(np.uint8)[None, :, None], 3, axis=2)
    rgba = np.zeros((1, 64, 4), np.uint8)
    rgba[..., 3] = alpha
    out = composite_filtered(ramp.copy(), rgba, lens_keep_lut(t, f0)).astype(float)
    for c, t_c in zip((2, 1, 0), t, strict=True):  # BGR
        slope, offset = np.polyfit(ramp[0, :, c].astype(float), out[0, :, c], 1)
        assert slope == pytest.approx((t_c * 0.96) ** (1 / 2.2), abs=0.012) and abs(offset) < 1.0


def test_bad_inputs_are_named():
    dst = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(InputError, match="rgba: expected uint8"):
        composite_filtered(dst, np.zeros((4, 5, 4), np.uint8))
    with pytest.raises(InputError, match="keep_lut"):
        composite_filtered(dst, np.zeros((4, 4, 4), np.uint8), np.zeros((256, 3), np.uint8))
    with pytest.raises(InputError, match="factor"):
        shade(dst, np.zeros((4, 4), np.float32))


def test_contact_shade_falls_away_from_the_light_on_the_receiver_only():
    alpha = np.zeros((80, 80), np.uint8)
    alpha[30:34, 20:60] = 255  # a rim
    receiver = np.zeros_like(alpha)
    receiver[:, :40] = 255  # the face is the left half
    style = ShadowStyle(offset_px=(0.0, 6.0), blur_px=2.0, cast=0.5, occlusion_px=1.0, occlusion=0.2)
    factor = contact_shade(alpha, receiver, style).astype(int)
    assert (factor[:, 41:] == 255).all()  # nothing off the face
    assert factor[38, 30] < factor[26, 30] - 20  # below the rim (light from above) darker than above it
    assert factor[38, 30] < 200 and factor[70, 30] == 255  # soft, and only near the rim
    assert style.reach_px >= 6 + 2 * 2
