"""Colour models on skin: the pigment composite, foundation's tone gain, brow hair."""

from __future__ import annotations

import numpy as np

from arlens.render import color as C
from arlens.render import skin as S


def _skin(h=60, w=80, seed=0):
    rng = np.random.default_rng(seed)
    base = np.array([120, 140, 190], np.float32)  # BGR, a light warm skin
    shading = np.linspace(0.8, 1.1, w, dtype=np.float32)[None, :, None]
    blotch = np.zeros((h, w, 3), np.float32)
    blotch[20:35, 20:40] = [-10, -15, 10]  # a red patch
    texture = rng.normal(0, 4, (h, w, 1)).astype(np.float32)
    return np.clip(base * shading + blotch + texture, 0, 255).astype(np.uint8)


def test_foundation_changes_nothing_without_foundation_and_evens_a_blotch():
    img = _skin()
    before, after = S.foundation_colours(img, np.zeros(img.shape[:2], np.float32), C.hex_to_lab("#CF9E78"), 80)
    gain, offset = S.gain_offset(before, after)
    assert np.array_equal(S.apply_gain_offset(img, gain, offset), img)
    alpha = np.ones(img.shape[:2], np.float32)
    gain, offset = S.gain_offset(*S.foundation_colours(img, alpha, C.hex_to_lab("#CF9E78"), face_width=80))
    out = S.apply_gain_offset(img, gain, offset)
    lab_in, lab_out = C.bgr_to_lab(img.reshape(-1, 3)), C.bgr_to_lab(out.reshape(-1, 3))
    patch = np.zeros(img.shape[:2], bool)
    patch[22:33, 22:38] = True
    around = np.zeros(img.shape[:2], bool)
    around[22:33, 45:60] = True
    red_before = lab_in[patch.reshape(-1), 1].mean() - lab_in[around.reshape(-1), 1].mean()
    red_after = lab_out[patch.reshape(-1), 1].mean() - lab_out[around.reshape(-1), 1].mean()
    assert red_after < 0.5 * red_before  # the blotch is evened
    # the texture (pixel-to-pixel contrast) is kept: what a small blur removes is as strong after as before
    import cv2

    def fine(im):
        y = C.bgr_to_lab(im.reshape(-1, 3))[:, 0].reshape(im.shape[:2])
        return (y - cv2.GaussianBlur(y, (5, 5), 1.5))[5:-5, 45:-5].std()

    assert 0.8 < fine(out) / fine(img) < 1.25
    # the shade: the face's mean colour is the shade's (the photo's shading around it)
    mean_ab = lab_out[:, 1:].mean(axis=0)
    want = C.hex_to_lab("#CF9E78")[1:]
    assert np.linalg.norm(mean_ab - want) < 4
    # shading kept: the right side stays lighter than the left
    assert lab_out.reshape(60, 80, 3)[:, -10:, 0].mean() > lab_out.reshape(60, 80, 3)[:, :10, 0].mean() + 5


def test_foundation_keeps_the_shadow_of_a_side_light():
    """Skin lit from one side: the shaded part (two-fifths of the face, below its median) a quarter of the lit part's
    luminance (the talking head's cheeks differ 4-9x). Foundation changes the skin's colour, not the light on it:
    the shaded part keeps its ratio to the lit part, for a light shade and a dark one. Kept as an offset in lightness
    from the median, a light shade filled the shadow in and a dark one deepened it: the shaded part's ratio to the lit
    part, 0.25 bare, was 0.32 with #F0D5C0 and 0.055 with #5A3A28 (0.25 and 0.24 now)."""
    h, w = 60, 120
    lin = np.full((h, w, 3), C.srgb_to_linear(np.array([150, 175, 215], np.float32) / 255.0), np.float32)
    lin[:, : 2 * w // 5] *= np.float32(0.25)
    img = np.clip(np.rint(C.linear_to_srgb(lin) * 255.0), 0, 255).astype(np.uint8)
    alpha = np.ones((h, w), np.float32)

    def luminance(bgr: np.ndarray) -> float:
        return float((C.srgb_to_linear(bgr.astype(np.float32) / 255.0) @ np.float32([0.0722, 0.7152, 0.2126])).mean())

    before = luminance(img[:, 5:25]) / luminance(img[:, -25:-5])
    for shade in ("#F0D5C0", "#5A3A28"):
        gain, offset = S.gain_offset(*S.foundation_colours(img, alpha, C.hex_to_lab(shade), face_width=80))
        out = S.apply_gain_offset(img, gain, offset)
        after = luminance(out[:, 5:25]) / luminance(out[:, -25:-5])
        assert abs(after / before - 1.0) < 0.1, (shade, before, after)


def test_foundation_gain_in_a_band_left_out_of_the_statistics():
    """A band the skin statistics leave out (a brow with a glasses frame's bar across it) wider than the local
    mean's blur: its samples take the change the skin around takes, not a gain from far samples' tails (which was
    the 2.5 cap: the skin between a brow and a bar blown out to white)."""
    img = np.full((60, 60, 3), [150, 175, 215], np.uint8)  # a light skin, evenly lit
    img[30:38] = [40, 45, 50]  # the frame's dark bar
    skin = np.ones(img.shape[:2], np.float32)
    skin[22:38] = 0.0  # the band: 8 rows of skin above the bar, then the bar
    alpha = np.ones(img.shape[:2], np.float32)
    gain, _ = S.gain_offset(*S.foundation_colours(img, alpha, C.hex_to_lab("#F0D5C0"), face_width=80, skin=skin))
    around = float(np.median(gain[5:15]))
    assert 0.9 < around < 1.5
    # the band's skin rows: the gain of the skin around (the blur's own roll-off at the band's edge aside)
    assert np.abs(gain[22:30] - around).max() < 0.05, gain[22:30, 30]
    # the bar's samples, darker than any mean of the skin, have no skin within the local blur's reach: the wider
    # mean (the light there) stands in, not the 2.5 cap, which bilinear resizing spread onto the skin beside it
    assert np.abs(gain[30:38] - around).max() < 0.05, gain[30:38, 30]


def test_gain_offset_keeps_texture_and_caps_the_gain():
    rng = np.random.default_rng(3)
    before = np.full((10, 10, 3), [20, 40, 60], np.float32)  # a deep skin
    after = np.full((10, 10, 3), [150, 170, 200], np.float32)  # far lighter
    gain, offset = S.gain_offset(before, after, max_gain=2.5)
    assert np.allclose(gain, 2.5)  # capped: the rest is an offset (an opaque layer)
    texture = np.clip(before + rng.normal(0, 3, before.shape), 0, 255).astype(np.uint8)
    out = S.apply_gain_offset(texture, gain, offset).astype(np.float32)
    assert np.allclose(out.mean(axis=(0, 1)), after[0, 0], atol=1.5)
    # every channel's texture scaled alike (no channel's noise blown up)
    ratio = out.std(axis=(0, 1)) / texture.astype(np.float32).std(axis=(0, 1))
    assert np.allclose(ratio, 2.5, rtol=0.15)


def test_hair_weight_finds_dark_hair_on_skin():
    light = np.full((20, 40), 0.5, np.float32)
    light[8:12, 5:35] = 0.15  # hair
    brow = np.zeros_like(light)
    brow[6:14, 3:37] = 1.0
    w = S.hair_weight(light, brow)
    assert w[10, 20] == 1.0 and w[7, 20] == 0.0
    assert S.hair_weight(np.zeros_like(light), brow).max() == 0.0


def test_paint_at_full_alpha_is_the_shade_hue():
    px = np.tile(np.array([[140, 160, 200, 255]], np.uint8), (50, 1))
    out = S.paint(px, np.ones(50, np.float32), S.pigment_params("#2F6E8E", "matte"), 60.0)
    hue = C.lab_to_lch(C.bgr_to_lab(out[:1, :3]))[0][2]
    want = C.lab_to_lch(C.hex_to_lab("#2F6E8E"))[2]
    assert abs((hue - want + 180) % 360 - 180) < 2
    assert np.array_equal(S.paint(px, np.zeros(50, np.float32), S.pigment_params("#2F6E8E", "matte"), 60.0), px)


def test_a_pigment_table_paints_as_the_composite():
    """The table (the composite's colour over every lightness, rows by reference lightness) paints what the
    composite does to within a level: lightness is looked up to a quarter of a unit (the colour moves by under a
    hundredth of a level per quarter), and the blend's float rounding differs from OpenCV's."""
    rng = np.random.default_rng(3)
    px = rng.integers(0, 256, (5000, 3), dtype=np.uint8)
    alpha = rng.uniform(0.0, 1.0, 5000).astype(np.float32)
    for colour, finish in (("#E2788F", "satin"), ("#2F6E8E", "matte"), ("#E6C19C", "shimmer"), ("#8E8A96", "metallic"),
                           ("#0E0D10", "matte")):
        params = S.pigment_params(colour, finish)
        table = S.PigmentTable(params)
        for lightness in (12.0, 47.3, 88.5):
            expected = S.paint(px, alpha, params, lightness)
            got = table.paint(px, alpha, lightness)
            assert np.abs(expected.astype(int) - got).max() <= 1, (colour, finish, lightness)


def test_lightness_codes_and_median():
    rng = np.random.default_rng(4)
    px = rng.integers(0, 256, (3000, 3), dtype=np.uint8)
    light = C.bgr_to_lab(px)[:, 0]
    assert np.abs(S.lightness_index(px) / S.TABLE_STEPS - light).max() <= 0.5 / S.TABLE_STEPS + 0.02
    weight = rng.uniform(0, 1, 3000).astype(np.float32)
    got = S.median_lightness(S.luminance_codes(px), weight)
    assert abs(got - float(S.reference_lightness(px, weight))) < 0.05


def test_lightness_under_more_light():
    """brighter_lightness scales the luminance of a CIELAB lightness (both branches of CIELAB's curve), at most to
    white; color.luminance_of is the inverse of color.lightness_of."""
    for lightness in (2.0, 7.9, 8.1, 27.3, 50.0, 73.8, 99.0):
        y = C.luminance_of(lightness)
        assert abs(C.lightness_of(y) - lightness) < 1e-9
        assert S.brighter_lightness(lightness, 1.0) == lightness
        for ratio in (1.5, 3.0, 8.0):
            got = S.brighter_lightness(lightness, ratio)
            assert abs(C.luminance_of(got) - min(1.0, ratio * y)) < 1e-9
            assert lightness < got <= 100.0 + 1e-9
    # a skin of L 27.3 in a ninth of the light of one of L 73.8 (the talking head's cheeks): the same skin
    assert abs(S.brighter_lightness(27.3, C.luminance_of(73.8) / C.luminance_of(27.3)) - 73.8) < 1e-9
    assert S.median_count(np.array([0.2, 0.7, 0.9], np.float32)) == 2
    assert S.median_count(np.array([0.2, 0.3], np.float32)) == 2  # none above a half: the median takes them all


def test_light_tables_match_the_relight_tables():
    """From one encoding table (linear light in steps of 1/65536) the bytes are relight's but for values within a
    step of a rounding boundary."""
    from arlens.render.relight import gain_lut

    rng = np.random.default_rng(5)
    for _ in range(20):
        g = rng.uniform(0.2, 2.0, 3)
        out_of, into = S.light_luts(g)
        assert np.abs(out_of.astype(int) - gain_lut(1.0 / g, 3)).max() <= 1
        assert np.abs(into.astype(int) - gain_lut(g, 3)).max() <= 1


def test_the_sparkle_texture_is_the_glint_grid():
    """Looked up bilinearly, the baked glints are uv_sparkle's within 0.04 everywhere (five texels per glint cell);
    coarser levels keep the glints' mean (area averages)."""
    import cv2

    rng = np.random.default_rng(6)
    u, v = rng.uniform(0.2, 0.8, (2, 20000)).astype(np.float32)
    texture = S.sparkle_texture().astype(np.float32) / 255.0
    n = S.SPARKLE_TEXELS_PER_UV
    got = cv2.remap(texture, (u * n - 0.5).reshape(100, -1), (v * n - 0.5).reshape(100, -1), cv2.INTER_LINEAR)
    assert np.abs(got.reshape(-1) - S.uv_sparkle(u, v)).max() < 0.04 + 1 / 255
    assert abs(float(S.sparkle_texture(2).mean()) - float(S.sparkle_texture().mean())) < 0.5
    assert S.sparkle_level(400.0) == 0 and S.sparkle_level(100.0) == 2


def test_the_sparkle_texture_is_made_in_bands_of_bounded_memory(monkeypatch):
    """Made the first time a shimmer is drawn: in bands of rows, so it costs a few MiB at its peak (81 MiB when the
    glint grid was hashed over the whole square in one call, which tripped the session fuzz's memory bound on a small
    frame), and every texel is the one the whole square's hashing gives (within a level: the glint's float32 exp and
    rounding may take another SIMD path over arrays of another length on another CPU; identical on the machine this
    was written on)."""
    import tracemalloc

    S.sparkle_texture.cache_clear()
    monkeypatch.setattr(S, "_SPARKLE_BAND", S.SPARKLE_TEXELS_PER_UV)  # one band: the whole square at once
    whole = S.sparkle_texture(0)
    S.sparkle_texture.cache_clear()
    monkeypatch.undo()
    tracemalloc.start()
    try:
        banded = S.sparkle_texture(0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.abs(banded.astype(np.int16) - whole).max() <= 1
    assert peak < 16 * 2**20, f"{peak / 2**20:.1f} MiB"
