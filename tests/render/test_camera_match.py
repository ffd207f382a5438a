"""Camera look: noise and blur measured on frames whose noise and blur are known, and given to an overlay."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arlens.errors import InputError
from arlens.render import camera_match as CM
from arlens.render.camera_match import (
    SHARP_SIGMA_PX,
    CameraLook,
    NoiseTile,
    apply_camera_look,
    estimate_blur,
    estimate_camera_look,
    estimate_noise,
)


def _scene(size: int = 160) -> np.ndarray:
    """A sharp grey test scene: flat patches with step edges between them (what an eye region has)."""
    rng = np.random.default_rng(4)
    img = np.full((size, size), 100.0, np.float32)
    for _ in range(14):
        x0, y0 = rng.integers(0, size - 30, 2)
        w, h = rng.integers(20, 70, 2)
        img[y0 : y0 + h, x0 : x0 + w] = rng.uniform(40, 220)
    return img


def _photo(blur: float, noise: float, seed: int = 0) -> np.ndarray:
    img = _scene()
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    img = img + np.random.default_rng(seed).standard_normal(img.shape).astype(np.float32) * noise
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("noise", [0.0, 2.0, 5.0, 10.0])
def test_noise_level_is_measured(noise):
    # the median estimator's byte histogram has steps of 0.49 grey levels; 8-bit rounding adds 0.29 in quadrature
    assert estimate_noise(_photo(0.8, noise)) == pytest.approx(np.hypot(noise, 0.29), abs=0.8)


@pytest.mark.parametrize("blur", [0.8, 1.5, 2.5, 3.5])
@pytest.mark.parametrize("noise", [0.0, 4.0])
def test_blur_is_measured_through_noise(blur, noise):
    # a step edge gives the re-blur ratio exactly; pixel sampling and corners of the patches bias it by
    # a few tenths of a pixel, noise adds a little more
    assert estimate_blur(_photo(blur, noise), noise) == pytest.approx(blur, abs=0.35 + 0.1 * blur)


def test_dither_is_not_grain():
    """A checkerboard dither (a palette GIF's) is finer than a pixel pair: the eye averages it away."""
    img = _photo(1.0, 0.0).astype(np.int16)
    checker = (np.indices(img.shape).sum(axis=0) % 2) * 16 - 8
    dithered = np.clip(img + checker, 0, 255).astype(np.uint8)
    assert estimate_noise(dithered) < 2.0


def test_flat_or_tiny_crops_measure_nothing():
    assert estimate_camera_look(np.full((40, 40), 128, np.uint8)) == CameraLook(0.0, 0.0)
    assert estimate_camera_look(np.zeros((5, 5), np.uint8)).blur_sigma_px == 0.0
    with pytest.raises(InputError, match="uint8 grey image"):
        estimate_camera_look(np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(InputError, match="blur_sigma_px"):
        CameraLook(blur_sigma_px=-1.0)


def test_overlay_gets_only_the_blur_beyond_sharp():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 10:30] = 255
    assert apply_camera_look(rgba, CameraLook(SHARP_SIGMA_PX, 0.0)) is rgba  # a sharp frame: untouched
    soft = apply_camera_look(rgba, CameraLook(2.0, 0.0))
    assert soft[20, 9, 3] > 0 and soft[20, 20, 3] == 255  # the edge spreads, colour and coverage alike
    np.testing.assert_array_equal(soft[..., 0], soft[..., 3])


def test_grain_is_added_where_masked_with_the_asked_sigma():
    tile = NoiseTile()
    dst = np.full((300, 300, 3), 128, np.uint8)  # larger than a tile: tiled
    mask = np.zeros((300, 300), np.uint8)
    mask[:, 150:] = 255
    tile.add(dst, mask, 6.0, (17, 33))
    assert (dst[:, :150] == 128).all()
    grain = dst[:, 150:, 0].astype(float) - 128
    assert grain.std() == pytest.approx(6.0, rel=0.1) and abs(grain.mean()) < 0.5
    np.testing.assert_array_equal(dst[..., 0], dst[..., 2])  # luminance grain
    again = np.full((300, 300, 3), 128, np.uint8)
    tile.add(again, mask, 6.0, (17, 33))
    np.testing.assert_array_equal(again, dst)  # the same offset gives the same grain


def test_render_scale_follows_the_frames_blur():
    from arlens.render.camera_match import (
        DENSE_SCALE,
        LEAST_BLUR_LEFT,
        SCALE_STEP,
        SMALLEST_SCALE,
        SPARSE_BLUR_LEFT,
        render_scale,
        scale_softness,
    )

    assert render_scale(CameraLook(0.0, 0.0)) == 1.0  # a sharp frame: drawn at its own resolution
    assert render_scale(CameraLook(SHARP_SIGMA_PX, 0.0)) == 1.0
    assert scale_softness(1.0) == 0.0
    scales = [render_scale(CameraLook(s, 0.0)) for s in np.linspace(0.0, 8.0, 81)]
    assert all(a >= b for a, b in zip(scales, scales[1:], strict=False))  # blurrier: never finer
    assert min(scales) == SMALLEST_SCALE
    for sigma in np.linspace(0.0, 8.0, 81):
        k = render_scale(CameraLook(float(sigma), 0.0))
        assert (k / SCALE_STEP) == pytest.approx(round(k / SCALE_STEP))  # in steps: few buffer sizes
        if k < 1.0:  # the blur still to add covers what drawing coarser added, with some to spare
            left2 = sigma**2 - SHARP_SIGMA_PX**2 - scale_softness(k) ** 2
            assert left2 >= ((LEAST_BLUR_LEFT if k >= DENSE_SCALE else SPARSE_BLUR_LEFT) / k) ** 2 - 1e-9
    assert render_scale(CameraLook(1.13, 0.0)) == DENSE_SCALE  # not coarser unless blurred well beyond


def test_a_coarser_drawing_is_blurred_less():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 10:30] = 255
    look = CameraLook(1.2, 0.0)
    full, coarse = apply_camera_look(rgba, look), apply_camera_look(rgba, look, 0.75)
    spread = [int(a[20, :10, 3].astype(int).sum()) for a in (full, coarse)]  # coverage spread out of the square
    assert spread[0] > spread[1] > 0  # still blurred, less


@pytest.mark.parametrize("blur", [0.9, 1.6, 3.0])
def test_overlay_blurred_around_its_drawing_is_blurred_whole(blur):
    # apply_camera_look blurs only a crop around the drawn pixels; outside it the blur of zeros is zero and inside it
    # the crop's mirrored border reads only zeros, so it is the whole overlay's blur (both are OpenCV's fixed-point
    # uint8 Gaussian on the same pixels; one level of tolerance for a build whose kernels differ by size, while a
    # crop too tight would cut the blur's tails by many levels)
    rng = np.random.default_rng(3)
    rgba = np.zeros((120, 300, 4), np.uint8)
    rgba[40:70, 30:90] = rng.integers(0, 256, (30, 60, 4), dtype=np.uint8)
    rgba[100:120, 250:300] = 255  # touching the bottom-right border
    look = CameraLook(blur, 0.0)
    extra = float(np.sqrt(blur**2 - SHARP_SIGMA_PX**2))
    expected = cv2.GaussianBlur(rgba, (0, 0), extra)
    got = apply_camera_look(rgba, look)
    assert got.shape == rgba.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - expected).max() <= 1
    assert not apply_camera_look(np.zeros_like(rgba), look).any()


@pytest.mark.parametrize("glint_sigma, blur", [(0.6, 1.0), (1.0, 1.5), (0.8, 3.0), (2.0, 0.7)])
def test_glint_gain_keeps_a_glints_peak_through_the_blur(glint_sigma, blur):
    # a Gaussian glint of the given size on a grid fine enough to stand for the continuum (16 samples a pixel),
    # scaled by the gain and blurred: its peak is the sharp glint's, to the grid's sampling (1%)
    k = 16
    r = np.arange(-12 * k, 12 * k + 1) / k
    glint = np.exp(-0.5 * (r[:, None] ** 2 + r[None, :] ** 2) / glint_sigma**2).astype(np.float32)
    blurred = cv2.GaussianBlur(glint * np.float32(CM.glint_gain(glint_sigma, blur)), (0, 0), blur * k)
    assert abs(blurred.max() - 1.0) < 0.01
    assert CM.glint_gain(glint_sigma, 0.0) == 1.0


def test_glint_gain_takes_a_glint_under_half_a_pixel_for_one_pixel():
    assert CM.glint_gain(0.1, 1.0) == CM.glint_gain(CM.LEAST_GLINT_SIGMA, 1.0) == pytest.approx(5.0)


def test_glints_closer_than_the_blur_keep_their_light_not_their_peaks():
    # glints 2 px apart under a 1.5 px blur merge into a sheen: its light is theirs (gain 1), not white
    assert CM.glint_gain(0.5, 1.5, spacing=2.0) == 1.0
    # 6 px apart: up to (6 / 3) ** 2 = 4 of the 10 a lone glint would get; far apart, all of it
    assert CM.glint_gain(0.5, 1.5, spacing=6.0) == pytest.approx(4.0)
    assert CM.glint_gain(0.5, 1.5, spacing=60.0) == CM.glint_gain(0.5, 1.5) == pytest.approx(10.0)
