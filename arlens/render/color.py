"""Colour science for makeup lenses: sRGB <-> CIELAB, CIEDE2000 and the lipstick shade model.

All functions are vectorised float32 numpy (with OpenCV kernels where they are faster) and work on
BGR arrays, OpenCV's channel order. CIELAB uses the D65 white point and the exact sRGB transfer curve.

The shade model (``composite_lipstick``) works per pixel of the lip box:

1. The photo's lightness ``L0`` is compared with the lips' median lightness ``Lm``:
   ``d = ln((L0 + 16) / (Lm + 16))``. ``L + 16`` is proportional to the cube root of luminance, so
   ``d`` is the photo's shading and texture as a luminance ratio, independent of the lips' own colour.
2. The finish reshapes that detail: ``d' = shadow_gain * min(d, 0) + highlight_gain * max(d, 0)``
   (matte flattens highlights, gloss and metallic strengthen them).
3. The shade's lightness takes the place of the mean and the detail is re-applied:
   ``L1 = Ls' + (exp(d') - 1) * sqrt((Ls' + 16) * (Lm + 16))`` with ``Ls' = Lm + follow * (Ls - Lm)``.
   A purely multiplicative model (``(Ls' + 16) * exp(d') - 16``) wipes the texture out of dark shades;
   the geometric mean of the two scales keeps it visible without exaggerating it on light shades. A dark
   shade on pale lips and a nude shade on dark lips both land on the shade's lightness with the
   photo's shading.
4. Chroma and hue are the shade's, scaled by ``exp(k * d')`` (shadows lose chroma the way a real
   pigment does; metallic gains chroma in its highlights).
5. An optional liner colour (and coverage) replaces the shade's along the outer contour.
6. White light is added where the finish reflects: ``w = spec * gloss_map * (0.25 + 0.75 * hl) +
   sheen * hl + sparkle * sparkle_map * (0.5 + hl)`` with ``hl`` the strength of the pixel's highlight; the colour
   moves towards white by ``w``.
7. Back to sRGB (clipped), then blended over the photo by ``opacity * mask`` (the liner's coverage
   in the liner band).

:mod:`arlens.render.onnx_lipstick` builds the same computation as an ONNX graph.
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from arlens.catalog.product import Finish
from arlens.errors import InputError
from arlens.render.mask import GLOSS, LINER, MASK, NUM_MAPS, SPARKLE

# sRGB (linear) -> XYZ, rows X, Y, Z; columns R, G, B.
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]],
    dtype=np.float64,
)
WHITE_D65 = np.array([0.950456, 1.0, 1.088754], dtype=np.float64)
#: linear BGR -> XYZ / white, rows X/Xn, Y/Yn, Z/Zn; columns B, G, R.
BGR_TO_XYZN = (_RGB_TO_XYZ[:, ::-1] / WHITE_D65[:, None]).astype(np.float32)
#: XYZ / white -> linear BGR, rows B, G, R; columns X/Xn, Y/Yn, Z/Zn.
XYZN_TO_BGR = np.linalg.inv(_RGB_TO_XYZ[:, ::-1] / WHITE_D65[:, None]).astype(np.float32)
#: linear B, G, R weights of the luminance Y.
BGR_TO_Y = BGR_TO_XYZN[1].copy()
LAB_EPS = np.float32(216.0 / 24389.0)
LAB_KAPPA = np.float32(24389.0 / 27.0)
_DELTA = 6.0 / 29.0

#: sRGB decode of every uint8 value, float32 (256,) linear 0..1.
_c = np.arange(256, dtype=np.float64) / 255.0
SRGB_TO_LINEAR_LUT = np.where(_c <= 0.04045, _c / 12.92, ((_c + 0.055) / 1.055) ** 2.4).astype(np.float32)
del _c


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """Exact sRGB decode of float values 0..1 (any shape), float32."""
    c = np.asarray(c, dtype=np.float32)
    return np.where(c <= 0.04045, c / np.float32(12.92), ((c + np.float32(0.055)) / np.float32(1.055)) ** 2.4).astype(
        np.float32
    )


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Exact sRGB encode of linear values (clipped to 0..1), float32 0..1, any shape."""
    c = np.clip(np.asarray(c, dtype=np.float32), 0.0, 1.0)
    return np.where(
        c <= 0.0031308, c * np.float32(12.92), np.float32(1.055) * c ** np.float32(1.0 / 2.4) - np.float32(0.055)
    ).astype(np.float32)


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > LAB_EPS, np.cbrt(t), (LAB_KAPPA * t + 16.0) / 116.0).astype(np.float32)


def _lab_finv(f: np.ndarray) -> np.ndarray:
    return np.where(f > _DELTA, f**3, (116.0 * f - 16.0) / LAB_KAPPA).astype(np.float32)


def bgr_to_lab(bgr: np.ndarray) -> np.ndarray:
    """sRGB BGR -> CIELAB (D65).

    Args:
        bgr: (..., 3) BGR, uint8 0..255 or float 0..255.

    Returns:
        float32 (..., 3): L 0..100, a, b.
    """
    arr = np.asarray(bgr)
    lin = SRGB_TO_LINEAR_LUT[arr] if arr.dtype == np.uint8 else srgb_to_linear(arr.astype(np.float32) / 255.0)
    f = _lab_f(lin @ BGR_TO_XYZN.T)
    return np.stack(
        [116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1
    ).astype(np.float32)


def lab_to_bgr(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) -> sRGB BGR float32 (..., 3) in 0..255 (out-of-gamut colours clipped per channel)."""
    lab = np.asarray(lab, dtype=np.float32)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    lin = _lab_finv(f) @ XYZN_TO_BGR.T
    return (linear_to_srgb(lin) * 255.0).astype(np.float32)


def lab_to_lch(lab: np.ndarray) -> np.ndarray:
    """CIELAB -> (L, C, h) with the hue angle h in degrees 0..360, float32 (..., 3)."""
    lab = np.asarray(lab, dtype=np.float32)
    c = np.hypot(lab[..., 1], lab[..., 2])
    h = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0
    return np.stack([lab[..., 0], c, h], axis=-1).astype(np.float32)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between CIELAB arrays (..., 3) (broadcasting), float64 (...)."""
    l1, a1, b1 = (np.asarray(lab1, dtype=np.float64)[..., i] for i in range(3))
    l2, a2, b2 = (np.asarray(lab2, dtype=np.float64)[..., i] for i in range(3))
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cbar7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(cbar7 / (cbar7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl = l2 - l1
    dc = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    lbar = (l1 + l2) / 2
    cbarp = (c1p + c2p) / 2
    hsum = h1p + h2p
    hbar = np.where(
        c1p * c2p == 0,
        hsum,
        np.where(np.abs(h1p - h2p) <= 180, hsum / 2, np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(hbar - 30))
        + 0.24 * np.cos(np.radians(2 * hbar))
        + 0.32 * np.cos(np.radians(3 * hbar + 6))
        - 0.20 * np.cos(np.radians(4 * hbar - 63))
    )
    dtheta = 30 * np.exp(-(((hbar - 275) / 25) ** 2))
    cbarp7 = cbarp**7
    rc = 2 * np.sqrt(cbarp7 / (cbarp7 + 25.0**7))
    sl = 1 + 0.015 * (lbar - 50) ** 2 / np.sqrt(20 + (lbar - 50) ** 2)
    sc = 1 + 0.045 * cbarp
    sh = 1 + 0.015 * cbarp * t
    rt = -np.sin(np.radians(2 * dtheta)) * rc
    return np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh))


_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


def parse_hex(value: object, field: str = "color") -> tuple[int, int, int]:
    """Parse "#RRGGBB" (the leading # optional) into a (B, G, R) tuple of ints.

    Raises:
        InputError: naming ``field`` when ``value`` is not such a string.
    """
    if not isinstance(value, str) or not _HEX.fullmatch(value.strip()):
        raise InputError(f"{field}: expected a colour as '#RRGGBB', got {value!r}")
    h = _HEX.fullmatch(value.strip()).group(1)  # type: ignore[union-attr]
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return b, g, r


def hex_to_lab(value: str, field: str = "color") -> np.ndarray:
    """CIELAB float32 (3,) of a "#RRGGBB" colour."""
    return bgr_to_lab(np.array(parse_hex(value, field), dtype=np.uint8))


# Finish is the catalog's enum (arlens.catalog.Finish): a Product's finish is the lens's finish.

# Layout of one shade's parameter vector (what the numpy path and the ONNX graph consume).
P_L, P_A, P_B, P_OPACITY = 0, 1, 2, 3
P_LINER_L, P_LINER_A, P_LINER_B, P_LINER_OPACITY = 4, 5, 6, 7
P_SHADOW_GAIN, P_HIGHLIGHT_GAIN, P_CHROMA_SHADOW, P_CHROMA_HIGHLIGHT = 8, 9, 10, 11
P_SPECULAR, P_SHEEN, P_SPARKLE, P_FOLLOW = 12, 13, 14, 15
NUM_PARAMS = 16

#: Per-finish (shadow_gain, highlight_gain, chroma_shadow, chroma_highlight, specular, sheen, sparkle).
FINISH_PARAMS: dict[Finish, tuple[float, float, float, float, float, float, float]] = {
    Finish.MATTE: (0.9, 0.45, 0.6, 0.0, 0.0, 0.0, 0.0),
    Finish.SATIN: (1.0, 0.9, 0.6, 0.0, 0.1, 0.04, 0.0),
    Finish.GLOSS: (1.05, 1.25, 0.6, 0.0, 0.35, 0.08, 0.0),
    Finish.METALLIC: (1.2, 1.3, 1.0, 0.5, 0.12, 0.18, 0.0),
    Finish.SHIMMER: (1.0, 1.0, 0.6, 0.0, 0.08, 0.04, 0.35),
}

#: How strongly a highlight (luminance ratio above the lips' mean) turns into added white light.
HIGHLIGHT_SCALE = np.float32(3.0)
#: Pixels with a mask above this count towards the lips' median lightness.
MEDIAN_MASK_THRESHOLD = np.float32(0.5)
#: The most a pixel may move towards white.
MAX_WHITE = np.float32(0.6)


def parse_finish(value: object, field: str = "finish") -> Finish:
    """A :class:`Finish` from its value ("matte", ...) or the enum itself; InputError naming ``field`` otherwise."""
    if isinstance(value, Finish):
        return value
    try:
        return Finish(str(getattr(value, "value", value)).strip().lower())
    except ValueError:
        allowed = ", ".join(f.value for f in Finish)
        raise InputError(f"{field}: expected one of {allowed}, got {value!r}") from None


def shade_params(
    color: str,
    finish: Finish | str = Finish.SATIN,
    opacity: float = 0.85,
    liner_color: str | None = None,
    liner_opacity: float = 1.0,
    follow: float = 1.0,
) -> np.ndarray:
    """The parameter vector of one shade, float32 (NUM_PARAMS,).

    Args:
        color: shade swatch as "#RRGGBB".
        finish: a :class:`Finish` or its value.
        opacity: coverage 0..1 (1 = opaque pigment).
        liner_color: liner colour as "#RRGGBB", or None for no liner.
        liner_opacity: liner coverage 0..1 inside the liner band (used when ``liner_color`` is given).
        follow: how far the lips' mean lightness moves to the shade's (0..1).

    Raises:
        InputError: naming the field that is malformed or out of range.
    """
    lab = hex_to_lab(color, "color")
    fin = parse_finish(finish)
    for name, val in (("opacity", opacity), ("liner_opacity", liner_opacity), ("follow", follow)):
        if isinstance(val, bool) or not isinstance(val, int | float) or not 0.0 <= float(val) <= 1.0:
            raise InputError(f"{name}: expected a number in [0, 1], got {val!r}")
    p = np.zeros(NUM_PARAMS, dtype=np.float32)
    p[P_L : P_B + 1] = lab
    p[P_OPACITY] = opacity
    if liner_color is not None:
        p[P_LINER_L : P_LINER_B + 1] = hex_to_lab(liner_color, "liner_color")
        p[P_LINER_OPACITY] = liner_opacity
    else:  # no liner: the liner colour and coverage are the shade's, so the band changes nothing
        p[P_LINER_L : P_LINER_B + 1] = lab
        p[P_LINER_OPACITY] = opacity
    p[P_SHADOW_GAIN : P_SPARKLE + 1] = FINISH_PARAMS[fin]
    p[P_FOLLOW] = follow
    return p


def median_lightness(light: np.ndarray, mask: np.ndarray) -> np.float32:
    """The lips' reference lightness: the upper median of ``light`` over pixels with ``mask`` > 0.5.

    A median, not a mean, so the dark seam between closed lips and bright highlights do not shift it.
    Returns 50 when no pixel is inside the mask.
    """
    values = light[mask > MEDIAN_MASK_THRESHOLD]
    n = values.size
    if n == 0:
        return np.float32(50.0)
    return np.float32(np.partition(values, n - (n // 2 + 1))[n - (n // 2 + 1)])


def _lightness(y: np.ndarray) -> np.ndarray:
    """CIELAB L of relative luminance y (float32), as 116 f(y) - 16."""
    f = np.where(y > LAB_EPS, cv2.pow(np.maximum(y, 0), 1.0 / 3.0), (LAB_KAPPA * y + 16.0) / 116.0)
    return (np.float32(116.0) * f - np.float32(16.0)).astype(np.float32)


def composite_lipstick(roi: np.ndarray, maps: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Paint one shade on the lips of a box: the numpy/OpenCV reference of the lipstick composite.

    Args:
        roi: uint8 (h, w, 3) BGR box of the frame around the lips.
        maps: float32 (h, w, 4) mask, liner, gloss and sparkle maps from :func:`arlens.render.mask.lip_maps`.
        params: float32 (NUM_PARAMS,) from :func:`shade_params`.

    Returns:
        A new uint8 (h, w, 3) BGR box.
    """
    if maps.shape[:2] != roi.shape[:2] or maps.shape[2] != NUM_MAPS:
        raise InputError(f"maps: expected shape {roi.shape[:2] + (NUM_MAPS,)}, got {maps.shape}")
    p = [np.float32(x) for x in np.asarray(params, dtype=np.float32).reshape(NUM_PARAMS)]
    f32 = np.float32
    out = np.array(roi, dtype=np.uint8, order="C", copy=True)
    # work on the painted pixels only, as an (n, 1) column (an image OpenCV's kernels accept)
    idx = np.flatnonzero(maps[..., MASK] > 0)
    if idx.size == 0:
        return out
    mp = maps.reshape(-1, NUM_MAPS)[idx]
    mask, lw = mp[:, MASK : MASK + 1], mp[:, LINER : LINER + 1]
    px = out.reshape(-1, 3)[idx][:, None, :]  # (n, 1, 3) uint8
    lum = cv2.transform(cv2.LUT(px, SRGB_TO_LINEAR_LUT), BGR_TO_Y[None, :]).reshape(-1, 1)  # linear Y
    light0 = _lightness(lum)
    lm = median_lightness(light0, mask)

    # 1-3: shading and texture as a luminance ratio, reshaped by the finish, re-applied to the shade.
    d = cv2.log(light0 + f32(16.0)) - np.log(lm + f32(16.0), dtype=np.float32)
    dp = p[P_SHADOW_GAIN] * np.minimum(d, f32(0.0)) + p[P_HIGHLIGHT_GAIN] * np.maximum(d, f32(0.0))
    ratio = cv2.exp(dp)
    target = lm + p[P_FOLLOW] * (p[P_L] - lm) + f32(16.0)
    liner_target = lm + p[P_FOLLOW] * (p[P_LINER_L] - lm) + f32(16.0)
    base = target + (liner_target - target) * lw
    light1 = base - f32(16.0) + (ratio - f32(1.0)) * cv2.sqrt(base * (lm + f32(16.0)))
    # 4-5: chroma and hue of the shade (or liner), following the shading.
    chroma = cv2.exp(p[P_CHROMA_SHADOW] * np.minimum(dp, f32(0.0)) + p[P_CHROMA_HIGHLIGHT] * np.maximum(dp, f32(0.0)))
    a1 = (p[P_A] + (p[P_LINER_A] - p[P_A]) * lw) * chroma
    b1 = (p[P_B] + (p[P_LINER_B] - p[P_B]) * lw) * chroma
    # 6: white light from the finish.
    hl = np.clip((ratio - f32(1.0)) * HIGHLIGHT_SCALE, f32(0.0), f32(1.0))
    white = p[P_SHEEN] * hl
    if p[P_SPECULAR] != 0:
        white += p[P_SPECULAR] * mp[:, GLOSS : GLOSS + 1] * (f32(0.25) + f32(0.75) * hl)
    if p[P_SPARKLE] != 0:
        white += p[P_SPARKLE] * mp[:, SPARKLE : SPARKLE + 1] * (f32(0.5) + hl)
    np.clip(white, f32(0.0), MAX_WHITE, out=white)
    np.clip(light1, f32(0.0), f32(100.0), out=light1)
    light2 = light1 + (f32(100.0) - light1) * white
    keep = f32(1.0) - white
    # 7: back to sRGB and blend.
    fy = (light2 + f32(16.0)) * f32(1.0 / 116.0)
    fxyz = cv2.merge([fy + a1 * (keep * f32(1.0 / 500.0)), fy, fy - b1 * (keep * f32(1.0 / 200.0))])
    xyz = np.where(fxyz > f32(_DELTA), fxyz * fxyz * fxyz, (f32(116.0) * fxyz - f32(16.0)) * f32(1.0 / LAB_KAPPA))
    lin = cv2.transform(xyz, XYZN_TO_BGR)
    np.clip(lin, f32(0.0), f32(1.0), out=lin)
    srgb = np.where(
        lin <= f32(0.0031308),
        lin * f32(12.92 * 255.0),
        cv2.pow(lin, 1.0 / 2.4) * f32(1.055 * 255.0) - f32(0.055 * 255.0),
    )
    alpha = mask * (p[P_OPACITY] + (p[P_LINER_OPACITY] - p[P_OPACITY]) * lw)
    src = px.astype(np.float32)
    blended = src + (srgb - src) * alpha[:, :, None]
    out.reshape(-1, 3)[idx] = np.clip(np.rint(blended), 0, 255).astype(np.uint8).reshape(-1, 3)
    return out

