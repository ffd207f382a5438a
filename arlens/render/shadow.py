"""A soft contact shadow of an overlay on the surface right behind it (glasses on a face).

Rims sit a centimetre or so in front of the skin and nose pads touch it. Their shadow on the face is the
overlay's coverage moved away from the light by that gap and blurred by the light's size (a cast shadow),
plus a tighter darkening around whatever touches the skin (ambient occlusion). Both are drawn in the image,
from the rendered coverage, inside a receiver mask (the face): a shadow map of the face mesh would cost a
second render pass for a soft shadow that this gives at a fraction of that.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: A contact shadow in a lit room never takes more than this share of the light (the room fills it in).
MAX_DARKENING = 0.5
#: Factors from this up (less than 2% darker) are left at 255: unshaded.
FAINTEST = 250


@dataclass(frozen=True)
class ShadowStyle:
    """How a contact shadow falls.

    Attributes:
        offset_px: (dx, dy) image shift of the cast shadow (away from the light), pixels.
        blur_px: Gaussian sigma of the cast shadow (the light's size seen from the skin), pixels.
        cast: darkness of the cast shadow where the overlay is fully opaque, 0..1.
        occlusion_px: sigma of the ambient-occlusion darkening, pixels.
        occlusion: its darkness, 0..1.
    """

    offset_px: tuple[float, float]
    blur_px: float
    cast: float
    occlusion_px: float
    occlusion: float

    @property
    def reach_px(self) -> int:
        """How far beyond the overlay the shadow can reach (pixels)."""
        dx, dy = self.offset_px
        return int(np.ceil(max(abs(dx), abs(dy)) + 2.5 * max(self.blur_px, self.occlusion_px) + 1))


def working_scale(style: ShadowStyle) -> int:
    """The factor (1..4) a shadow of this style is worked out smaller by: its softest detail (the darkening around
    what touches the skin, a Gaussian of ``occlusion_px``) stays a pixel or more wide there, and the result is
    interpolated back."""
    return int(max(1, min(4, style.occlusion_px // 1.0)))


#: uint8 to float32 0..1: ``float32(v) * float32(1 / 255)``, what ``astype(float32)`` then ``*= 1 / 255`` gives.
_UNIT = np.arange(256, dtype=np.float32) * np.float32(1.0 / 255.0)


def _blurred(a: np.ndarray, sigma: float, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """``a`` (float32, H x W) moved by ``shift`` pixels and blurred by ``sigma``, worked out on a grid coarse enough
    that the blur spans about two of its cells (a cast shadow's blur is ten or more pixels on a near face: a
    Gaussian that wide at full size cost more than the rest of the shadow), and brought back to ``a``'s size."""
    h, w = a.shape[:2]
    m = int(max(1, min(8, sigma // 2.0, min(h, w) // 4)))
    small = cv2.resize(a, (max(1, w // m), max(1, h // m)), interpolation=cv2.INTER_AREA) if m > 1 else a
    sx, sy = small.shape[1] / w, small.shape[0] / h
    dx, dy = shift
    if dx or dy:
        small = cv2.warpAffine(small, np.float32([[1, 0, dx * sx], [0, 1, dy * sy]]), (small.shape[1], small.shape[0]),
                               flags=cv2.INTER_LINEAR)
    out = cv2.GaussianBlur(small, (0, 0), max(sigma * sx, 0.5))
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR) if m > 1 else out


def contact_shade_small(alpha: np.ndarray, receiver: np.ndarray, style: ShadowStyle, k: int) -> np.ndarray:
    """:func:`contact_shade` at its working size: ``alpha`` and ``receiver`` uint8 (h, w) are the overlay's coverage
    and where the shadow may fall already reduced ``k`` times (:func:`working_scale`); returns the uint8 factor at
    that size (255 = unshaded, nothing clamped to 255 yet)."""
    # bytes to 0..1 by a table (one pass; the same float32 products as ``astype`` then ``*= 1 / 255``), and every
    # product below in place: canvas-sized passes are what this costs at full size (a small face's k of 1)
    a = cv2.LUT(alpha, _UNIT)
    dx, dy = style.offset_px
    dark = _blurred(a, style.blur_px / k, (dx / k, dy / k))  # a new array
    dark *= style.cast
    if style.occlusion > 0:
        ao = cv2.GaussianBlur(a, (0, 0), max(style.occlusion_px / k, 0.5))
        ao *= style.occlusion
        dark += ao
    rec = receiver
    if rec.shape[:2] != a.shape[:2]:
        rec = cv2.resize(receiver, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    dark *= cv2.LUT(rec, _UNIT)
    return cv2.convertScaleAbs(np.minimum(dark, MAX_DARKENING, out=dark), alpha=-255.0, beta=255.0)


def contact_shade(alpha: np.ndarray, receiver: np.ndarray, style: ShadowStyle) -> np.ndarray:
    """uint8 (H, W) factor to multiply the frame by (255 = unshaded) under an overlay's uint8 ``alpha``.

    A shadow is smooth: it is worked out at a lower resolution (the softest detail it keeps is
    ``style.occlusion_px``; the cast shadow's wide blur on a coarser grid still) and scaled back, which costs a
    fraction of a full-resolution pass on a 720p face.

    Args:
        alpha: uint8 (H, W) coverage of the overlay (already padded by :attr:`ShadowStyle.reach_px`).
        receiver: uint8 0..255 where the shadow may fall (the face): (H, W), or already at the working size
            (``(H // k, W // k)`` with ``k =`` :func:`working_scale`), which spares drawing it full size.
        style: the shadow's geometry and strength.
    """
    h, w = alpha.shape[:2]
    k = working_scale(style)
    size = (max(1, w // k), max(1, h // k))
    a = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) if k > 1 else alpha
    factor = contact_shade_small(a, receiver, style, k)
    if k > 1:
        factor = cv2.resize(factor, (w, h), interpolation=cv2.INTER_LINEAR)
    factor[factor >= FAINTEST] = 255  # a tail under 2% changes nothing one sees, and keeps the shadow's box tight
    return factor
