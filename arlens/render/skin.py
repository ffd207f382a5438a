"""Colour models of make-up on skin, built on the lipstick's CIELAB machinery (:mod:`arlens.render.color`).

Pigment products (eyeshadow, liner, mascara, blush, contour, highlighter) use the lipstick's composite as
it is: a shade's CIELAB colour, the photo's own shading re-applied as a luminance ratio around the region's
median lightness, the finish's highlight, sheen and shimmer terms, and an alpha blend whose alpha is the
pattern's zone times the palette colour's intensity. A zone map soft at its edges gives the soft gradients
of blush and contour; a coverage map from sharp strokes gives liner and lashes.

Two categories need models of their own:

- **foundation** (:func:`foundation_colours`) evens tone instead of painting over it. At low resolution it
  splits the skin's colour into a smooth base (lighting and shading, kept) and mid-size blotches (evened),
  and sets the base to the product's shade. The change is carried to full resolution as a smooth brightness
  gain and colour offset (:func:`gain_offset`): every pore, hair and freckle keeps its contrast (texture)
  and the face its shading, while the local mean colour becomes the shade.
- **brows** (:func:`hair_weight`): the colour goes on the hair, found as the pixels of the brow darker than
  the skin around it, and only lightly on the skin between hairs.

Shimmer is fixed to the skin: its glints come from the lipstick's hashed glint grid laid out in the face's
UV (:func:`uv_sparkle`), so they move with the face and never re-randomise.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from arlens.render import color as C
from arlens.render import mask as M
from arlens.stats import median, percentile

#: Alpha below which a pixel is left alone (half a level of 8 bits).
MIN_ALPHA = np.float32(1.0 / 512.0)
#: Glint cells per UV unit of shimmer on skin (a glint is about a third of a cell across).
SPARKLE_CELLS_PER_UV = 200.0


class PackedBox:
    """A box of the frame packed one BGRA pixel per uint32, so the painted pixels gather and scatter in one step."""

    def __init__(self, roi: np.ndarray) -> None:
        self.packed = cv2.cvtColor(roi, cv2.COLOR_BGR2BGRA)

    def take(self, index: np.ndarray) -> np.ndarray:
        """uint8 (n, 4) BGRA pixels at flat ``index``."""
        return np.take(self.packed.view(np.uint32).reshape(-1), index).view(np.uint8).reshape(-1, 4)

    def put(self, index: np.ndarray, pixels: np.ndarray) -> None:
        """Write uint8 (n, 4) BGRA ``pixels`` at flat ``index``."""
        self.packed.view(np.uint32).reshape(-1)[index] = np.ascontiguousarray(pixels).view(np.uint32).reshape(-1)

    def bgr(self) -> np.ndarray:
        """The box as BGR (h, w, 3)."""
        return cv2.cvtColor(self.packed, cv2.COLOR_BGRA2BGR)


def pigment_params(color: str, finish: object) -> np.ndarray:
    """The composite's parameters of a palette colour, float32 (1, NUM_PARAMS): full opacity (the alpha map
    carries the intensity) and the lightness of the shade itself (``follow`` 1)."""
    return C.shade_params(color, finish, opacity=1.0)[None]


def reference_lightness(px: np.ndarray, weight: np.ndarray) -> np.float32:
    """The region's reference lightness: the median CIELAB L of the pixels whose weight is above 0.5 (all of
    them if none is)."""
    if not (weight > 0.5).any():
        weight = np.ones_like(weight)
    return C.lip_lightness(px, weight)


def paint(px: np.ndarray, alpha: np.ndarray, params: np.ndarray, lightness: float,
          sparkle: np.ndarray | None = None) -> np.ndarray:
    """One palette colour on pixels: the lipstick composite with ``alpha`` as its mask.

    Args:
        px: uint8 (n, 4) BGRA pixels (alpha channel passes through).
        alpha: float32 (n,) coverage times intensity, 0..1.
        params: float32 (1, NUM_PARAMS) from :func:`pigment_params`.
        lightness: the region's reference lightness (:func:`reference_lightness`).
        sparkle: float32 (n,) the shimmer glints, or None.

    Returns:
        uint8 (n, 4) painted pixels.
    """
    maps = np.zeros((len(px), M.NUM_MAPS), dtype=np.float32)
    maps[:, M.MASK] = alpha
    if sparkle is not None:
        maps[:, M.SPARKLE] = sparkle
    return C.composite_checked(px, maps, params, lightness, liner=False)[0]


#: Steps of CIELAB lightness per unit in a :class:`PigmentTable` (a quarter: the colour moves by a hundredth of a level
#: at most between neighbouring entries).
TABLE_STEPS = 4
#: Relative luminance codes per unit for the pixel -> lightness lookup (steps of under 0.02 L everywhere).
_Y_CODES = 65535


def _lightness_index() -> np.ndarray:
    y = np.arange(_Y_CODES + 1, dtype=np.float64) / _Y_CODES
    light = np.where(y > C.LAB_EPS, 116.0 * np.cbrt(y) - 16.0, float(C.LAB_KAPPA) * y)
    return np.rint(light * TABLE_STEPS).astype(np.intp)


#: relative luminance code -> table index (CIELAB L x TABLE_STEPS, rounded)
_LIGHTNESS_INDEX = _lightness_index()
#: BGR byte -> its weighted linear value, the terms of the relative luminance
_Y_TERMS = (C.SRGB_TO_LINEAR_LUT.reshape(-1, 1) * C.BGR_TO_Y * np.float32(_Y_CODES)).astype(np.float32)[None]


def luminance_codes(px: np.ndarray) -> np.ndarray:
    """Each uint8 BGR pixel's relative luminance in codes of 1 / 65535: float32 (n,) 0 .. 65535."""
    terms = cv2.LUT(px.reshape(-1, 1, 3), _Y_TERMS).reshape(-1, 3)
    y = terms[:, 0] + terms[:, 1]
    y += terms[:, 2]
    return y


def lightness_index(px: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
    """Each uint8 BGR pixel's CIELAB lightness in table steps (from its :func:`luminance_codes`, if given): intp
    (n,) 0 .. 100 * TABLE_STEPS."""
    if codes is None:
        codes = luminance_codes(px)
    return _LIGHTNESS_INDEX[codes.astype(np.intp)]


def median_lightness(codes: np.ndarray, weight: np.ndarray) -> float:
    """The region's reference lightness from :func:`luminance_codes`: the CIELAB lightness of the upper median
    luminance over the pixels whose weight is above 0.5 (all of them if none is), as :func:`reference_lightness`
    finds it."""
    values = codes[weight > 0.5]
    if not len(values):
        values = codes
    n = len(values)
    k = n - (n // 2 + 1)
    return C.lightness_of(float(np.partition(values, k)[k]) / _Y_CODES)


def median_count(weight: np.ndarray) -> int:
    """How many pixels :func:`median_lightness` takes its median over for these weights."""
    return int(np.count_nonzero(weight > 0.5)) or len(weight)


def brighter_lightness(lightness: float, ratio: float) -> float:
    """The CIELAB lightness of skin of ``lightness`` under ``ratio`` times the light (luminance scaled, at most
    white): the reference a side of the face's shading is taken relative to when its own light is dimmer than the
    brightest side's (the make-up lenses, :mod:`arlens.lenses.makeup`)."""
    if ratio == 1.0:
        return lightness
    return C.lightness_of(min(1.0, C.luminance_of(lightness) * ratio))


class PigmentTable:
    """One palette colour's composite as a lookup table: the lipstick composite (:mod:`arlens.render.color`) over
    pixels of every CIELAB lightness.

    With no liner, gloss or glints (make-up on skin), the colour the composite paints over a pixel depends on the
    pixel only through its lightness and the region's reference lightness: the shade, the shading ratio and the
    finish's highlight are all functions of the two. A row of the table holds that colour for every lightness
    (in steps of 1 / ``TABLE_STEPS``) at one reference lightness (whole units), made the first time it is needed
    and kept; painting is a lookup, interpolated between the two rows around the reference, and a blend.
    Within a level of :func:`paint` (the lightness rounded to a quarter).

    Args:
        params: float32 (1, NUM_PARAMS) from :func:`pigment_params`.
    """

    def __init__(self, params: np.ndarray) -> None:
        self.params = np.asarray(params, np.float32).reshape(-1)
        self._rows: dict[int, np.ndarray] = {}
        self._light = np.arange(100 * TABLE_STEPS + 1, dtype=np.float64) / TABLE_STEPS

    def _row(self, lightness: int) -> np.ndarray:
        row = self._rows.get(lightness)
        if row is None:
            prepared = C._Prepared.of_lightness(self._light, float(lightness))
            row = prepared.colour(self.params, np.zeros(len(self._light), np.float32)).reshape(-1, 3)
            self._rows[lightness] = row
        return row

    def colours(self, lightness: float) -> np.ndarray:
        """float32 (100 * TABLE_STEPS + 1, 3) BGR 0..255: the shade's colour over each pixel lightness, for the
        reference ``lightness``."""
        lm = min(max(float(lightness), 0.0), 100.0)
        lo = int(math.floor(lm))
        t = lm - lo
        if t == 0.0 or lo >= 100:
            return self._row(lo)
        a, b = self._row(lo), self._row(lo + 1)
        return a + (b - a) * np.float32(t)

    def paint(self, px: np.ndarray, alpha: np.ndarray, lightness: float, index: np.ndarray | None = None,
              colours: np.ndarray | None = None) -> np.ndarray:
        """The colour on uint8 (n, 3) BGR pixels with float32 (n,) ``alpha``: uint8 (n, 3).

        Args:
            index: the pixels' :func:`lightness_index`, if known.
            colours: :meth:`colours` of ``lightness``, if known.
        """
        if index is None:
            index = lightness_index(px)
        if colours is None:
            colours = self.colours(lightness)
        src = px.astype(np.float32)
        out = np.take(colours, index, axis=0)  # rows gathered (several times faster than colours[index])
        out -= src
        out *= alpha[:, None]
        out += src
        return cv2.convertScaleAbs(out)


def uv_sparkle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Shimmer glints fixed to the skin: the lipstick's glint grid laid out in the face's UV, float32 0..1."""
    k = np.float32(SPARKLE_CELLS_PER_UV / 48.0)  # the lip grid has 48 cells per unit
    return M.sparkle_map(None, (u - np.float32(0.5)) * k, (v - np.float32(0.5)) * k)  # type: ignore[arg-type]


#: Texels per UV unit of :func:`sparkle_texture` (five per glint cell: bilinear lookups stay within 0.04 of
#: :func:`uv_sparkle`, 0.013 for 99% of points).
SPARKLE_TEXELS_PER_UV = 1000


@functools.cache
def sparkle_texture(level: int = 0) -> np.ndarray:
    """:func:`uv_sparkle` over the whole UV square, uint8 (n, n) 0..255 with ``n = SPARKLE_TEXELS_PER_UV >> level``
    (texel ``(i, j)`` at UV ``((j + 0.5) / n, (i + 0.5) / n)``), made once: a frame's glints are then one lookup
    per pixel (``cv2.remap``) instead of the glint grid's hashing per pixel. Levels above 0 are the texture
    averaged over 2**level x 2**level texels, for faces too small to show single glints (a level per halving)."""
    if level > 0:
        finer = sparkle_texture(level - 1)
        return cv2.resize(finer, (finer.shape[1] // 2, finer.shape[0] // 2), interpolation=cv2.INTER_AREA)
    n = SPARKLE_TEXELS_PER_UV
    c = (np.arange(n, dtype=np.float32) + np.float32(0.5)) / np.float32(n)
    out = np.empty((n, n), np.uint8)
    # in bands of rows: the glint grid's hashing holds a dozen float32 arrays the size of what it is given, 81 MiB at
    # its peak over the whole square (a memory spike the first time a shimmer is drawn), 8 over a tenth of it
    for start in range(0, n, _SPARKLE_BAND):
        u, v = np.meshgrid(c, c[start : start + _SPARKLE_BAND])
        out[start : start + _SPARKLE_BAND] = np.rint(uv_sparkle(u, v) * np.float32(255.0)).astype(np.uint8)
    return out


#: Rows of :func:`sparkle_texture` made at a time.
_SPARKLE_BAND = 100


def sparkle_level(pixels_per_uv: float) -> int:
    """The :func:`sparkle_texture` level for a face of ``pixels_per_uv``: the finest with at most 3.5 texels per
    pixel (finer, bilinear lookups would skip glints between pixels)."""
    level = 0
    while level < 3 and (SPARKLE_TEXELS_PER_UV >> level) > 3.5 * pixels_per_uv:
        level += 1
    return level


def hair_weight(light: np.ndarray, brow: np.ndarray, ceiling: float | None = None) -> np.ndarray:
    """How much each pixel of a brow box is hair rather than skin: float32 0..1.

    The skin's lightness is the 80th percentile of the pixels around the brow (brow mask below 0.3); a pixel
    a third darker than that is hair (1), one as light as the skin is not (0).

    Args:
        light: float32 (h, w) relative luminance Y (0..1) of the box.
        brow: float32 (h, w) the brow's mask.
        ceiling: if given, the skin's luminance is taken as at most this (a foundation darker than the skin
            covers what is lighter than itself: only hair darker than the foundation stays hair).
    """
    around = light[brow < 0.3]
    skin = percentile(around, 80.0) if around.size else float(light.max())
    if ceiling is not None:
        skin = min(skin, float(ceiling))
    if skin <= 1e-4:
        return np.zeros_like(light)
    w = (np.float32(skin) - light) * np.float32(1.0 / (0.33 * skin))
    np.clip(w, 0.0, 1.0, out=w)
    return w


#: Linear-light codes per unit of :func:`light_luts`' encoding table (a code is under a twentieth of an sRGB level).
_LINEAR_CODES = 1 << 16


@functools.cache
def _srgb_encoding() -> np.ndarray:
    """uint8 (_LINEAR_CODES + 1,): the sRGB byte of each linear-light code (rounded)."""
    lin = np.arange(_LINEAR_CODES + 1, dtype=np.float64) / _LINEAR_CODES
    enc = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1.0 / 2.4) - 0.055)
    return np.clip(np.rint(enc * 255.0), 0, 255).astype(np.uint8)


def light_luts(gains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables (uint8 (1, 256, 3)) taking BGR pixels out of a light of linear ``gains`` (float (3,)) and back
    into it: :func:`arlens.render.relight.gain_lut` of ``1 / gains`` and of ``gains``, from one encoding table (the
    linear value rounded to 1 / 65536 first: the same bytes but for values within that of a rounding boundary)."""
    g = np.maximum(np.asarray(gains, np.float64).reshape(3), 1e-4)
    lin = C.SRGB_TO_LINEAR_LUT.astype(np.float64)[:, None]
    enc = _srgb_encoding()
    out = []
    for factor in (1.0 / g, g):
        codes = np.rint(np.clip(lin * factor[None, :], 0.0, 1.0) * _LINEAR_CODES).astype(np.intp)
        out.append(enc[codes][None])
    return out[0], out[1]


def luminance(roi: np.ndarray) -> np.ndarray:
    """Relative luminance Y (linear, 0..1) of a uint8 BGR box: float32 (h, w)."""
    lin = cv2.LUT(roi, C.SRGB_TO_LINEAR_LUT)
    return cv2.transform(lin, C.BGR_TO_Y[None, :]).reshape(roi.shape[:2])


#: The share of a blur's window that must be skin for :func:`foundation_colours`' local mean to be the skin's
#: there alone; with less, the wider mean makes up the rest (a pixel inside a band the statistics leave out).
_LOCAL_SUPPORT = 0.25


def _masked_blur(values: np.ndarray, weight: np.ndarray, sigma: float, fallback: np.ndarray | None = None,
                 support: float = _LOCAL_SUPPORT) -> np.ndarray:
    """The ``weight``-ed Gaussian mean of ``values`` (float32 (h, w, 3)) around each pixel (normalised
    convolution).

    ``fallback``: values (h, w, 3) that make up the window's weight where less than ``support`` of it is
    weighted: without, a pixel whose window holds almost no weight (the middle of a brow, or of a glasses frame's
    bar across it, for a blur narrower than the band) gets the mean of a few far samples' Gaussian tails, or 0
    where there are none.
    """
    k = 2 * int(math.ceil(2.5 * sigma)) + 1
    # OpenCV's products and quotients of three channels by a mask's three copies: numpy's, without its slow
    # broadcast over a short last axis
    num = cv2.GaussianBlur(cv2.multiply(values, cv2.merge((weight, weight, weight))), (k, k), sigma,
                           borderType=cv2.BORDER_REPLICATE)
    den = cv2.GaussianBlur(weight, (k, k), sigma, borderType=cv2.BORDER_REPLICATE)
    if fallback is not None:
        lack = np.float32(support) - den
        if (lack > np.float32(0.0)).any():
            np.maximum(lack, np.float32(0.0), out=lack)
            num += cv2.multiply(fallback, cv2.merge((lack, lack, lack)))
            den += lack
    np.maximum(den, np.float32(1e-4), out=den)
    return cv2.divide(num, cv2.merge((den, den, den)))


def foundation_colours(small: np.ndarray, alpha: np.ndarray, shade_lab: np.ndarray, face_width: float,
                       cover: float = 0.8, skin: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The skin's local mean colour and what foundation makes of it, at low resolution.

    Args:
        small: uint8 (h, w, 3) BGR, the face box resized down (its face about 60-160 px wide).
        alpha: float32 (h, w) where and how much foundation goes (zone times intensity), 0..1.
        shade_lab: float32 (3,) the shade's CIELAB colour.
        face_width: the face's width in pixels of ``small`` (sets the blur scales).
        cover: how much of the mid-size blotchiness (redness, spots, uneven patches) is evened, 0..1.
        skin: float32 (h, w) 0..1, which pixels are skin for the colour statistics (the eyes, brows and mouth
            left out); default: where ``alpha`` is above 0.05.

    Returns:
        (before, after), float32 (h, w, 3) BGR 0..255: the local mean colour (blotches and shading, no
        texture), and it with the foundation on: the shade as the base colour, the shading of the photo's light
        kept (relative to the face's median: below it as a ratio of luminance, so a shadow stays as much darker
        than the lit skin as it was; above it as an offset in lightness) and ``1 - cover`` of the blotches, blended
        by ``alpha``. :func:`gain_offset` turns the pair into a change that keeps each pixel's own texture.
    """
    img = small.astype(np.float32) * np.float32(1.0 / 255.0)
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2Lab)
    skin = (alpha > 0.05).astype(np.float32) if skin is None else (skin > 0.5).astype(np.float32)
    if not skin.any():
        same = small.astype(np.float32)
        return same, same.copy()
    base = _masked_blur(lab, skin, max(2.0, 0.09 * face_width))  # lighting and shading only
    # the local mean: blotches and shading (the lighting's where skin is too far for it: a gain from a mean of
    # a few far samples blew the skin beside a glasses frame's top bar out to white)
    mid = _masked_blur(lab, skin, max(0.8, 0.012 * face_width), fallback=base)
    # outside the statistics (brows, eye openings, hair) a sample lighter than the skin's mean around it is
    # skin lit more than that mean (between a brow and a glasses frame's bar): its own colour is its local mean,
    # or the gain taking the darker mean to the shade blows it out
    lighter = (skin == 0) & (lab[..., 0] > mid[..., 0])
    if lighter.any():
        mid[lighter] = lab[lighter]
    median_l = median(base[..., 0][skin > 0])  # (np.median's value, from one partition)
    target = np.empty_like(lab)
    keep = np.float32(1.0 - cover)
    # the photo's light kept, relative to the face's median: where the skin is in shade as a ratio of luminance (L + 16
    # is proportional to its cube root), so the shade is as much darker there as the skin is; where it is lit more,
    # as an offset in lightness (a ratio would take a light shade past white there)
    shading = base[..., 0] - np.float32(median_l)
    ratio = (np.minimum(shading, np.float32(0.0)) + np.float32(median_l + 16.0)) * np.float32(1.0 / (median_l + 16.0))
    target[..., 0] = np.float32(float(shade_lab[0]) + 16.0) * ratio - np.float32(16.0)
    target[..., 0] += np.maximum(shading, np.float32(0.0)) + keep * (mid[..., 0] - base[..., 0])
    target[..., 1] = np.float32(shade_lab[1]) + keep * (mid[..., 1] - base[..., 1])
    target[..., 2] = np.float32(shade_lab[2]) + keep * (mid[..., 2] - base[..., 2])
    np.clip(target[..., 0], 0.0, 100.0, out=target[..., 0])
    before = cv2.cvtColor(mid, cv2.COLOR_Lab2BGR) * np.float32(255.0)
    after = cv2.cvtColor(target, cv2.COLOR_Lab2BGR) * np.float32(255.0)
    after -= before
    after *= alpha[..., None]
    after += before
    return before, after


#: B, G, R weights of the brightness a texture is scaled by (Rec. 601 luma of the sRGB values).
_LUMA = np.float32([0.114, 0.587, 0.299])


def gain_offset(before: np.ndarray, after: np.ndarray, max_gain: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """Split a change of colour (low resolution, smooth) into a brightness gain and a colour offset.

    Applied to the full-resolution pixels as ``pixel * gain + offset`` (:func:`apply_gain_offset`), the change
    takes a pixel's local mean from ``before`` to ``after`` while keeping its texture (its contrast to the mean)
    in proportion to the brightness, the same in every channel: a per-channel gain would multiply a dark
    skin's small blue channel, and its noise, many times over. A brightness change beyond ``max_gain`` (either
    way) goes into the offset instead: the product is then an opaque layer over the texture.

    Args:
        before, after: float32 or uint8 (h, w, 3) BGR 0..255.

    Returns:
        gain float32 (h, w) and offset float32 (h, w, 3) (0..255 units); 1 and 0 where nothing changes.
    """
    b = before.astype(np.float32)
    a = after.astype(np.float32)
    lb = cv2.transform(b, _LUMA[None, :]).reshape(b.shape[:2])
    la = cv2.transform(a, _LUMA[None, :]).reshape(a.shape[:2])
    gain = (la + np.float32(0.5)) / (lb + np.float32(0.5))
    np.clip(gain, np.float32(1.0 / max_gain), np.float32(max_gain), out=gain)
    diff = np.abs(a - b)
    same = (diff[..., 0] < np.float32(0.25)) & (diff[..., 1] < np.float32(0.25)) & (diff[..., 2] < np.float32(0.25))
    gain[same] = 1.0
    offset = a - b * gain[..., None]
    offset[same] = 0.0
    return gain, offset


def towards_white(px: np.ndarray, white: np.ndarray) -> np.ndarray:
    """uint8 (n, 3) pixels moved towards white by float32 (n,) shares: ``px + white * (255 - px)``, rounded and
    saturated. A shimmer's light under white light (its glints at full resolution, or their sheen on a grid)."""
    bright = px.astype(np.float32)
    add = np.float32(255.0) - bright
    add *= white[:, None]
    bright += add
    return cv2.convertScaleAbs(bright)


def gain_offset_pixels(before: np.ndarray, after: np.ndarray,
                       max_gain: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gain_offset` of packed pixels: ``before``, ``after`` uint8 or float32 (n, 3) BGR; returns gain
    float32 (n,) and offset float32 (n, 3)."""
    b = before.astype(np.float32).reshape(-1, 1, 3)
    a = after.astype(np.float32).reshape(-1, 1, 3)
    lb = cv2.transform(b, _LUMA[None, :]).reshape(-1)
    la = cv2.transform(a, _LUMA[None, :]).reshape(-1)
    lb += np.float32(0.5)
    la += np.float32(0.5)
    gain = la / lb
    np.maximum(gain, np.float32(1.0 / max_gain), out=gain)  # clipped (np.clip's dispatch costs more than both)
    np.minimum(gain, np.float32(max_gain), out=gain)
    levels = before.dtype == np.uint8 and after.dtype == np.uint8
    if levels:  # whole levels: unchanged is equal (the channels' differences summed, saturated, are 0)
        diff = cv2.absdiff(before.reshape(-1, 1, 3), after.reshape(-1, 1, 3))
        same = cv2.transform(diff, np.ones((1, 3), np.float32)).reshape(-1) == 0
    else:
        diff = cv2.absdiff(a, b).reshape(-1, 3)
        same = (diff[:, 0] < np.float32(0.25)) & (diff[:, 1] < np.float32(0.25)) & (diff[:, 2] < np.float32(0.25))
    gain[same] = 1.0
    offset = a.reshape(-1, 3) - b.reshape(-1, 3) * gain[:, None]
    if not levels:  # (equal levels give an offset of exactly 0 already: after - before * 1)
        offset[same] = 0.0
    return gain, offset


def apply_gain_offset(roi: np.ndarray, gain: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """``roi * gain + offset`` rounded to uint8 (a gain of 1 and an offset of 0 leave a pixel exactly as it was).

    Args:
        roi: uint8 (h, w, 3); gain float32 (h, w); offset float32 (h, w, 3).
    """
    out = cv2.multiply(roi, cv2.merge([gain, gain, gain]), dtype=cv2.CV_32F)
    # added, rounded to nearest and saturated to 0..255 in one pass
    return cv2.add(out, offset, dtype=cv2.CV_8U)
