"""Colour science for makeup lenses: sRGB <-> CIELAB, CIEDE2000 and the lipstick shade model.

All functions are vectorised float32 numpy (with OpenCV kernels where they are faster) and work on
BGR arrays, OpenCV's channel order. CIELAB uses the D65 white point and the exact sRGB transfer curve.

The shade model (``composite_lipstick``) works per pixel of the lip box:

1. The photo's lightness ``L0`` is compared with the lips' median lightness ``Lm``:
   ``d = ln((L0 + 16) / (Lm + 16))``. ``L + 16`` is proportional to the cube root of luminance, so
   ``d`` is the photo's shading and texture as a luminance ratio, independent of the lips' own colour.
2. The finish reshapes that detail: ``d' = shadow_gain * min(d, 0) + highlight_gain * max(d, 0) +
   lustre * gloss_map`` (matte flattens highlights, gloss and metallic strengthen them; ``lustre`` is a
   metal's specular reflection: it brightens where the light is reflected and keeps, or with
   ``chroma_highlight`` deepens, the colour there, a tinted highlight rather than a white one).
3. The shade's lightness takes the place of the mean and the detail is re-applied:
   ``L1 = Ls' + (exp(d') - 1) * sqrt((Ls' + 16) * (Lm + 16))`` with ``Ls' = Lm + follow * (Ls - Lm)``.
   A purely multiplicative model (``(Ls' + 16) * exp(d') - 16``) wipes the texture out of dark shades;
   the geometric mean of the two scales keeps it visible without exaggerating it on light shades. A dark
   shade on pale lips and a nude shade on dark lips both land on the shade's lightness with the
   photo's shading.
4. Chroma and hue are the shade's, scaled by ``exp(chroma_shadow * min(d', 0) + chroma_highlight *
   max(d', 0))`` (shadows lose chroma the way a real pigment does; metallic gains chroma in its
   highlights; the lustre term counts as highlight).
5. An optional liner colour (and coverage) replaces the shade's along the outer contour.
6. White light is added where the finish reflects: ``w = spec * gloss_map * (0.6 + 0.4 * hl) +
   sheen * hl + sparkle * sparkle_map * (0.5 + hl)`` with ``hl`` the strength of the pixel's highlight; the colour
   moves towards white by ``w``.
7. Back to sRGB (clipped), then blended over the photo by ``opacity * mask`` (the liner's coverage
   in the liner band).

The lips' median lightness ``Lm`` is computed once per face (:func:`lip_lightness`); everything else is
per pixel and runs on the painted pixels only (:func:`composite_pixels`, the numpy/OpenCV reference;
:func:`composite_lipstick` is the same on a whole box). The finish gains (``shadow_gain``,
``highlight_gain``) are non-negative, so ``d'`` has the sign of ``d``.

:mod:`arlens.render.onnx_lipstick` builds the same computation as an ONNX graph.
"""

from __future__ import annotations

import math
import re

import cv2
import numpy as np

from arlens.catalog.product import Finish
from arlens.errors import InputError
from arlens.render.mask import GLOSS, LINER, MASK, NUM_MAPS, SPARKLE

__all__ = [
    "FINISH_PARAMS",
    "NUM_PARAMS",
    "Finish",
    "bgr_to_lab",
    "bgr_to_lightness",
    "composite_lipstick",
    "composite_pixels",
    "delta_e2000",
    "hex_to_lab",
    "lab_to_bgr",
    "lab_to_lch",
    "lip_lightness",
    "median_lightness",
    "parse_finish",
    "parse_hex",
    "pixel_luminance",
    "shade_params",
]

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


def bgr_to_lightness(bgr: np.ndarray) -> np.ndarray:
    """CIELAB L of sRGB BGR (uint8 or float 0..255, (..., 3)): float32 (...), the values ``bgr_to_lab(bgr)[..., 0]``
    holds (the same products and rounding), without working out a and b, for callers that need the lightness only."""
    arr = np.asarray(bgr)
    lin = SRGB_TO_LINEAR_LUT[arr] if arr.dtype == np.uint8 else srgb_to_linear(arr.astype(np.float32) / 255.0)
    y = np.ascontiguousarray((lin @ BGR_TO_XYZN.T)[..., 1])  # the same product as bgr_to_lab's, its Y taken
    return 116.0 * _lab_f(y) - 16.0


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
P_LUSTRE = 16
NUM_PARAMS = 17

#: Per-finish (shadow_gain, highlight_gain, chroma_shadow, chroma_highlight, specular, sheen, sparkle,
#: lustre). Matte flattens the lip's own highlights; satin keeps them with a soft sheen; gloss keeps the
#: texture as it is and adds a wet white highlight where the gloss map places it; metallic a tinted one
#: (lustre, with chroma rising in it) and a strong sheen; shimmer satin plus glints.
FINISH_PARAMS: dict[Finish, tuple[float, float, float, float, float, float, float, float]] = {
    Finish.MATTE: (0.9, 0.3, 0.6, 0.0, 0.0, 0.0, 0.0, 0.0),
    Finish.SATIN: (1.0, 0.9, 0.6, 0.0, 0.12, 0.03, 0.0, 0.0),
    Finish.GLOSS: (1.0, 1.0, 0.6, 0.0, 0.8, 0.02, 0.0, 0.0),
    Finish.METALLIC: (1.1, 1.0, 0.9, 0.6, 0.1, 0.12, 0.0, 0.7),
    Finish.SHIMMER: (1.0, 0.9, 0.6, 0.0, 0.08, 0.03, 1.5, 0.0),
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
    finish_params = FINISH_PARAMS[fin]
    p[P_SHADOW_GAIN : P_SPARKLE + 1] = finish_params[:7]
    p[P_LUSTRE] = finish_params[7]
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


#: linear B, G, R (, A) weights of the luminance Y, as cv2.transform matrices for 3 and 4 channels.
_Y_ROWS = {3: BGR_TO_Y[None, :].copy(), 4: np.append(BGR_TO_Y, np.float32(0.0))[None, :].astype(np.float32)}
_LN_116 = math.log(116.0)


def _check_pixels(px: np.ndarray, maps: np.ndarray) -> int:
    if px.dtype != np.uint8 or px.ndim != 2 or px.shape[1] not in (3, 4):
        raise InputError(f"px: expected uint8 (n, 3) or (n, 4) BGR pixels, got {px.dtype} {px.shape}")
    if maps.shape != (len(px), NUM_MAPS):
        raise InputError(f"maps: expected shape {(len(px), NUM_MAPS)}, got {maps.shape}")
    return px.shape[1]


#: BGRA -> (wB lin(B), wG lin(G), wR lin(R), 0): the luminance's terms, one table lookup per channel.
_Y_TERMS_LUT = np.zeros((1, 256, 4), dtype=np.float32)
_Y_TERMS_LUT[0, :, :3] = SRGB_TO_LINEAR_LUT.reshape(-1, 1) * BGR_TO_Y  # float32 products, rounded once


def _luminance(px: np.ndarray) -> np.ndarray:
    """Relative luminance Y (linear, 0..1) of uint8 BGR(A) pixels (n, C): float32 (n,)."""
    channels = px.shape[1]
    if channels == 4:
        # the float32 sum (wB B + wG G) + wR R that cv2.transform's 4 -> 1 row computes (within an ULP: its
        # AVX-512 kernel rounds differently; checked on all colours by tests/render), from one lookup and two
        # adds instead of a lookup and a slow generic transform
        terms = cv2.LUT(px.reshape(1, -1, 4), _Y_TERMS_LUT).reshape(-1, 4)
        y = terms[:, 0] + terms[:, 1]
        y += terms[:, 2]
        return y
    lin = cv2.LUT(px.reshape(1, -1, channels), SRGB_TO_LINEAR_LUT)
    return cv2.transform(lin, _Y_ROWS[channels]).reshape(-1)


def lightness_of(y: float) -> float:
    """CIELAB L of one relative luminance (the inverse of :func:`luminance_of`)."""
    return 116.0 * y ** (1.0 / 3.0) - 16.0 if y > LAB_EPS else float(LAB_KAPPA) * y


def luminance_of(lightness: float) -> float:
    """The relative luminance of a CIELAB lightness (the inverse of :func:`lightness_of`)."""
    return ((lightness + 16.0) / 116.0) ** 3 if lightness > LAB_KAPPA * LAB_EPS else lightness / float(LAB_KAPPA)


def _median_luminance_lightness(y: np.ndarray, mask: np.ndarray) -> np.float32:
    # L is increasing in Y, so the median of L is L of the median Y (same element, same upper median)
    values = y[mask > MEDIAN_MASK_THRESHOLD]
    n = values.size
    if n == 0:
        return np.float32(50.0)
    k = n - (n // 2 + 1)
    values.partition(k)  # in place: boolean indexing gave a fresh copy
    return np.float32(lightness_of(float(values[k])))


def lip_lightness(px: np.ndarray, mask: np.ndarray, *, luminance: np.ndarray | None = None) -> np.float32:
    """The lips' reference lightness ``Lm`` from their pixels: :func:`median_lightness` of their CIELAB L.

    Args:
        px: uint8 (n, 3) or (n, 4) BGR(A) pixels (alpha ignored).
        luminance: their :func:`pixel_luminance`, when the caller has it (the composite needs it too).
        mask: float32 (n,) lip mask at those pixels; pixels above 0.5 count.

    Returns:
        float32 L (0..100), 50 when no pixel counts.
    """
    if luminance is None:
        px = np.asarray(px)
        luminance = _luminance(px.reshape(-1, px.shape[-1]))
    return _median_luminance_lightness(luminance, np.asarray(mask).reshape(-1))


def pixel_luminance(px: np.ndarray) -> np.ndarray:
    """Relative luminance Y (linear, 0..1) of uint8 BGR(A) pixels (n, C): float32 (n,). Computed once, it
    serves both :func:`lip_lightness` and :func:`composite_checked` (a lens needs the lightness first)."""
    return _luminance(px)


class _Prepared:
    """The per-pixel part of the composite, shared by every shade painted on the same pixels."""

    __slots__ = ("channels", "d", "dneg", "gloss", "liner", "lm", "mask", "n", "src")

    def __init__(
        self, px: np.ndarray, maps: np.ndarray, lightness: float | None, liner: bool = True,
        luminance: np.ndarray | None = None,
    ) -> None:
        self.n, self.channels = len(px), px.shape[1]
        y = _luminance(px) if luminance is None else luminance
        self.mask = np.ascontiguousarray(maps[:, MASK])
        band = maps[:, LINER]
        self.liner = np.ascontiguousarray(band) if liner and band.any() else None
        self.gloss = maps[:, GLOSS]
        self.lm = float(_median_luminance_lightness(y, self.mask) if lightness is None else lightness)
        # d = ln((L0 + 16) / (Lm + 16)) with L0 + 16 = 116 cbrt(Y) (or kappa Y + 16 in the dark)
        ln_xm = math.log(self.lm + 16.0)
        d = cv2.log(y).reshape(-1)  # -inf at Y = 0, replaced below
        d *= np.float32(1.0 / 3.0)
        d += np.float32(_LN_116 - ln_xm)
        if y.min() <= LAB_EPS:  # rare: very dark pixels
            dark = y <= LAB_EPS
            d[dark] = np.log(LAB_KAPPA * y[dark] + np.float32(16.0)) - np.float32(ln_xm)
        self.d = d
        self.dneg = np.minimum(d, np.float32(0.0))
        self.src = px.reshape(1, self.n, self.channels).astype(np.float32)

    @classmethod
    def of_lightness(cls, light: np.ndarray, lightness: float) -> _Prepared:
        """Grey pixels of CIELAB lightness ``light`` (float (n,)), reference lightness ``lightness``, full mask, no
        liner or gloss: what :meth:`colour` needs to tabulate a shade over lightness."""
        self = cls.__new__(cls)
        self.n, self.channels = len(light), 3
        self.mask = np.ones(self.n, np.float32)
        self.liner = None
        self.gloss = np.zeros(self.n, np.float32)
        self.lm = float(lightness)
        d = np.log(np.asarray(light, np.float64) + 16.0) - math.log(self.lm + 16.0)
        self.d = d.astype(np.float32)
        self.dneg = np.minimum(self.d, np.float32(0.0))
        self.src = np.zeros((1, self.n, 3), np.float32)
        return self

    def paint(self, params: np.ndarray, sparkle_map: np.ndarray) -> np.ndarray:
        """One shade on the pixels: uint8 (n, channels)."""
        p = params.tolist()
        out = self.colour(params, sparkle_map)
        n, c = self.n, self.channels
        lw = self.liner
        f32 = np.float32
        if lw is not None and p[P_LINER_OPACITY] != p[P_OPACITY]:
            alpha = self.mask * (f32(p[P_OPACITY]) + f32(p[P_LINER_OPACITY] - p[P_OPACITY]) * lw)
        else:
            alpha = self.mask * f32(p[P_OPACITY])
        alpha = alpha.reshape(1, n)
        out = cv2.blendLinear(out, self.src, alpha, f32(1.0) - alpha)  # out * alpha + src * (1 - alpha)
        return cv2.convertScaleAbs(out).reshape(n, c)  # rounds to nearest, saturates

    def colour(self, params: np.ndarray, sparkle_map: np.ndarray) -> np.ndarray:
        """The shade's colour over each pixel before the blend by opacity: float32 (1, n, channels), 0..255 (the
        alpha channel, if any, the pixel's own)."""
        p = params.tolist()
        f32 = np.float32
        lm, xm = self.lm, self.lm + 16.0
        gs, gh, cs, ch = p[P_SHADOW_GAIN], p[P_HIGHLIGHT_GAIN], p[P_CHROMA_SHADOW], p[P_CHROMA_HIGHLIGHT]
        d, dneg, lw = self.d, self.dneg, self.liner
        # 1-3: the photo's shading as a luminance ratio, reshaped by the finish, re-applied to the shade
        dp = d * f32(gh)
        if gs != gh:
            dp += f32(gs - gh) * dneg  # gs * min(d, 0) + gh * max(d, 0)
        if p[P_LUSTRE] != 0:
            dp += self.gloss * f32(p[P_LUSTRE])  # a metal's tinted specular: brighter, the colour kept
        ratio = cv2.exp(dp).reshape(-1)
        # 4: chroma follows the shading: exp(cs * gs * min(d, 0) + ch * (gh * max(d, 0) + lustre * gloss))
        expo = dneg * f32(cs * gs) if ch == 0 else dp * f32(ch) + dneg * f32((cs - ch) * gs)
        chroma = cv2.exp(expo).reshape(-1)
        rm1 = ratio - f32(1.0)
        target = lm + p[P_FOLLOW] * (p[P_L] - lm) + 16.0
        liner_target = lm + p[P_FOLLOW] * (p[P_LINER_L] - lm) + 16.0
        if lw is not None and liner_target != target:
            base = f32(target) + f32(liner_target - target) * lw
            light1 = base - f32(16.0) + rm1 * cv2.sqrt(base * f32(xm)).reshape(-1)
        else:
            light1 = rm1 * f32(math.sqrt(target * xm)) + f32(target - 16.0)
        light1.clip(f32(0.0), f32(100.0), out=light1)  # (the method: np.clip's wrapper costs more than the clip)
        # 6: white light from the finish
        hl = rm1 * HIGHLIGHT_SCALE
        hl.clip(f32(0.0), f32(1.0), out=hl)
        white = hl * f32(p[P_SHEEN])
        if p[P_SPECULAR] != 0:
            spec = hl * f32(0.4)
            spec += f32(0.6)
            spec *= self.gloss * f32(p[P_SPECULAR])  # (gloss * specular) * (0.6 + 0.4 hl)
            white += spec
        if p[P_SPARKLE] != 0:
            glint = hl + f32(0.5)
            glint *= sparkle_map * f32(p[P_SPARKLE])  # (sparkle * strength) * (0.5 + hl)
            white += glint
        white.clip(f32(0.0), MAX_WHITE, out=white)
        n, c = self.n, self.channels
        lab = np.empty((1, n, 3), dtype=np.float32)  # L, a, b written in place, for cv2.cvtColor
        keep = f32(1.0) - white
        np.subtract(f32(100.0), light1, out=light1)
        light1 *= keep
        np.subtract(f32(100.0), light1, out=lab[0, :, 0])  # 100 - (100 - light1) keep = light1 + (100 - light1) white
        ck = chroma * keep
        # 5: the shade's (or the liner's) chroma and hue
        if lw is not None and (p[P_LINER_A] != p[P_A] or p[P_LINER_B] != p[P_B]):
            np.multiply(ck, f32(p[P_A]) + f32(p[P_LINER_A] - p[P_A]) * lw, out=lab[0, :, 1])
            np.multiply(ck, f32(p[P_B]) + f32(p[P_LINER_B] - p[P_B]) * lw, out=lab[0, :, 2])
        else:
            np.multiply(ck, f32(p[P_A]), out=lab[0, :, 1])
            np.multiply(ck, f32(p[P_B]), out=lab[0, :, 2])
        # 7: back to sRGB (OpenCV's float CIELAB conversion: D65, clipped, sRGB curve); the caller blends
        out = cv2.cvtColor(lab, cv2.COLOR_Lab2BGR, dstCn=c)
        out *= f32(255.0)
        if c == 4:
            out[..., 3] = self.src[..., 3]  # alpha passes through
        return out


def _check_gains(params: np.ndarray) -> None:
    gains = params[:, [P_SHADOW_GAIN, P_HIGHLIGHT_GAIN]]
    if (gains < 0).any() or not np.isfinite(params).all():
        raise InputError(f"params: expected finite shade parameters with non-negative gains, got {params!r}")


def composite_pixels(
    px: np.ndarray, maps: np.ndarray, params: np.ndarray, lightness: float | None = None
) -> np.ndarray:
    """Paint shades on the painted pixels of a lip box: the numpy/OpenCV reference of the lipstick composite.

    Args:
        px: uint8 (n, 3) BGR or (n, 4) BGRA pixels (alpha passes through untouched).
        maps: float32 (n, 4) mask, liner, gloss and sparkle at those pixels
            (:func:`arlens.render.mask.lip_pixels`).
        params: float32 (NUM_PARAMS,) from :func:`shade_params`, or (N, NUM_PARAMS) for N shades.
        lightness: the lips' reference lightness ``Lm``; None computes it from these pixels
            (:func:`lip_lightness`).

    Returns:
        uint8 (n, C), or (N, n, C) for N shades.

    Raises:
        InputError: when the shapes or dtypes do not match, or a gain is negative.
    """
    _check_pixels(px, maps)
    params = np.asarray(params, dtype=np.float32)
    single = params.ndim == 1
    params = params.reshape(-1, NUM_PARAMS)
    _check_gains(params)
    if len(px) == 0:
        out = np.broadcast_to(px, (len(params),) + px.shape).copy()
        return out[0] if single else out
    out = composite_checked(px, maps, params, lightness)
    return out[0] if single else out


def composite_checked(
    px: np.ndarray, maps: np.ndarray, params: np.ndarray, lightness: float | None = None, *, liner: bool = True,
    luminance: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`composite_pixels` minus its checks, for callers whose inputs are already valid.

    ``px`` uint8 (n, C) with n > 0, ``maps`` float32 (n, NUM_MAPS), ``params`` float32 (N, NUM_PARAMS)
    with non-negative gains: returns uint8 (N, n, C). ``liner=False`` says the liner map is all zeros
    (the caller computed none), which saves looking. ``luminance``: the pixels' :func:`pixel_luminance`,
    when the caller already has it (from :func:`lip_lightness`'s input).
    """
    prepared = _Prepared(px, maps, lightness, liner, luminance)
    sparkle = maps[:, SPARKLE]
    if len(params) == 1:
        return prepared.paint(params[0], sparkle)[None]
    return np.stack([prepared.paint(p, sparkle) for p in params])


def composite_lipstick(roi: np.ndarray, maps: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Paint one shade on the lips of a box: :func:`composite_pixels` on the box's painted pixels.

    Args:
        roi: uint8 (h, w, 3) BGR box of the frame around the lips.
        maps: float32 (h, w, 4) mask, liner, gloss and sparkle maps from :func:`arlens.render.mask.lip_maps`.
        params: float32 (NUM_PARAMS,) from :func:`shade_params`.

    Returns:
        A new uint8 (h, w, 3) BGR box.
    """
    if maps.shape[:2] != roi.shape[:2] or maps.shape[2] != NUM_MAPS:
        raise InputError(f"maps: expected shape {roi.shape[:2] + (NUM_MAPS,)}, got {maps.shape}")
    out = np.array(roi, dtype=np.uint8, order="C", copy=True)
    index = np.flatnonzero(maps[..., MASK] > 0)
    if index.size == 0:
        return out
    flat = out.reshape(-1, 3)
    mp = np.take(maps.reshape(-1, NUM_MAPS), index, axis=0)
    flat[index] = composite_pixels(np.take(flat, index, axis=0), mp, np.asarray(params).reshape(NUM_PARAMS))
    return out
