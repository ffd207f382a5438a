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

import math

import cv2
import numpy as np

from arlens.render import color as C
from arlens.render import mask as M

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


def uv_sparkle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Shimmer glints fixed to the skin: the lipstick's glint grid laid out in the face's UV, float32 0..1."""
    k = np.float32(SPARKLE_CELLS_PER_UV / 48.0)  # the lip grid has 48 cells per unit
    return M.sparkle_map(None, (u - np.float32(0.5)) * k, (v - np.float32(0.5)) * k)  # type: ignore[arg-type]


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
    skin = float(np.percentile(around, 80)) if around.size else float(light.max())
    if ceiling is not None:
        skin = min(skin, float(ceiling))
    if skin <= 1e-4:
        return np.zeros_like(light)
    w = (np.float32(skin) - light) * np.float32(1.0 / (0.33 * skin))
    np.clip(w, 0.0, 1.0, out=w)
    return w


def luminance(roi: np.ndarray) -> np.ndarray:
    """Relative luminance Y (linear, 0..1) of a uint8 BGR box: float32 (h, w)."""
    lin = cv2.LUT(roi, C.SRGB_TO_LINEAR_LUT)
    return cv2.transform(lin, C.BGR_TO_Y[None, :]).reshape(roi.shape[:2])


def _masked_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    k = 2 * int(math.ceil(2.5 * sigma)) + 1
    num = cv2.GaussianBlur(values * weight[..., None], (k, k), sigma, borderType=cv2.BORDER_REPLICATE)
    den = cv2.GaussianBlur(weight, (k, k), sigma, borderType=cv2.BORDER_REPLICATE)
    return num / np.maximum(den, np.float32(1e-4))[..., None]


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
        kept (as a lightness offset from the face's median) and ``1 - cover`` of the blotches, blended by
        ``alpha``. :func:`gain_offset` turns the pair into a change that keeps each pixel's own texture.
    """
    img = small.astype(np.float32) * np.float32(1.0 / 255.0)
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2Lab)
    skin = (alpha > 0.05).astype(np.float32) if skin is None else (skin > 0.5).astype(np.float32)
    if not skin.any():
        same = small.astype(np.float32)
        return same, same.copy()
    mid = _masked_blur(lab, skin, max(0.8, 0.012 * face_width))  # the local mean: blotches and shading
    base = _masked_blur(lab, skin, max(2.0, 0.09 * face_width))  # lighting and shading only
    median_l = float(np.median(base[..., 0][skin > 0]))
    target = np.empty_like(lab)
    keep = np.float32(1.0 - cover)
    shading = base[..., 0] - np.float32(median_l)
    target[..., 0] = np.float32(shade_lab[0]) + shading + keep * (mid[..., 0] - base[..., 0])
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
    same = np.abs(a - b).max(axis=2) < np.float32(0.25)
    gain[same] = 1.0
    offset = a - b * gain[..., None]
    offset[same] = 0.0
    return gain, offset


def apply_gain_offset(roi: np.ndarray, gain: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """``roi * gain + offset`` rounded to uint8 (a gain of 1 and an offset of 0 leave a pixel exactly as it was).

    Args:
        roi: uint8 (h, w, 3); gain float32 (h, w); offset float32 (h, w, 3).
    """
    out = cv2.multiply(roi, cv2.merge([gain, gain, gain]), dtype=cv2.CV_32F)
    out += offset
    return cv2.convertScaleAbs(out)
