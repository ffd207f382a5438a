"""Composite in the scene's light: take the light out of the pixels, paint, put the light back.

A product's swatch is its colour under white light of intensity 1. A lens shows it as a person would
see it in the frame's light by compositing on *light-normalised* pixels (each channel's linear value
divided by the light's gain, :attr:`arlens.scene.Light.gains`) and multiplying the result by the gains
again. Everything the compositor does (the shade's lightness and colour, the lip's own shading kept as a
ratio, white highlights, the blend by opacity) then happens under white light and comes out under the
scene's: a dim frame gets a dim shade, a warm frame a warmer one, highlights the light's colour. Since
the estimate scales with the light, render(g · frame) = g · render(frame) for per-channel gains g, up
to uint8 rounding.

Both steps are per-channel lookup tables on uint8 pixels (OpenCV's ``LUT``), so they cost a few
microseconds on the few thousand pixels a lens paints.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from arlens.render.color import SRGB_TO_LINEAR_LUT

#: Gains within this of 1 are taken as white light (the pixels pass through untouched).
NEUTRAL_TOLERANCE = 1e-3


#: float64 (256, 1): the linear value of each sRGB byte.
_LINEAR = SRGB_TO_LINEAR_LUT.astype(np.float64)[:, None]
_BYTES = np.arange(256, dtype=np.uint8)
_ZERO, _FULL = np.int16(0), np.int16(255)


def _encode(lin: np.ndarray) -> np.ndarray:
    """float64 linear values -> uint8 sRGB bytes (rounded). In place on temporaries, the power once: two
    tables per lens and face per frame."""
    lin = np.minimum(np.maximum(lin, 0.0), 1.0)  # np.clip's values, without its wrappers (small tables)
    enc = np.power(lin, 1.0 / 2.4)
    enc *= 1.055
    enc -= 0.055
    small = lin <= 0.0031308
    enc[small] = lin[small] * 12.92
    enc *= 255.0
    np.rint(enc, out=enc)
    np.minimum(np.maximum(enc, 0.0, out=enc), 255.0, out=enc)
    return enc.astype(np.uint8)


def gain_lut(gains: np.ndarray, channels: int) -> np.ndarray:
    """uint8 (1, 256, channels): each B, G, R value's sRGB encoding of its linear value times ``gains``;
    a fourth channel (alpha) passes through."""
    return _gain_luts(np.asarray(gains, dtype=np.float64).reshape(1, 3), channels)[0]


def _gain_luts(gains: np.ndarray, channels: int) -> np.ndarray:
    """uint8 (k, 1, 256, channels): :func:`gain_lut` of each row of float64 (k, 3) ``gains``, from one
    :func:`_encode` of all their columns (its per-call work paid once, not k times)."""
    k = len(gains)
    enc = _encode(_LINEAR * gains.reshape(1, 3 * k))  # (256, 3 k): the rows' B G R side by side
    luts = np.empty((k, 1, 256, channels), dtype=np.uint8)
    luts[:, 0, :, :3] = enc.reshape(256, k, 3).transpose(1, 0, 2)
    if channels == 4:
        luts[:, 0, :, 3] = _BYTES
    return luts


def is_neutral(gains: np.ndarray) -> bool:
    """Whether ``gains`` are white light of intensity 1 (nothing to take out or put back)."""
    return bool(np.abs(np.asarray(gains, dtype=np.float64) - 1.0).max() <= NEUTRAL_TOLERANCE)


def light_luts(gains: np.ndarray, channels: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The two tables :func:`composite_in_light` applies for ``gains`` (out of the light, back into it), for a
    caller that composites several pixel sets in one light (a hand's nails): None for white light."""
    if is_neutral(gains):
        return None
    g = np.maximum(np.asarray(gains, dtype=np.float64), 1e-4)
    inverse, back = _gain_luts(np.stack([1.0 / g.reshape(3), g.reshape(3)]), channels)  # both in one encoding
    return inverse, back


def composite_in_light(
    px: np.ndarray, gains: np.ndarray | None, composite: Callable[[np.ndarray], np.ndarray],
    luts: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Run ``composite`` on light-normalised pixels and return its result in the light.

    Args:
        px: uint8 (n, C) BGR or BGRA pixels (alpha passes through).
        gains: float32 (3,) linear B, G, R gains of the light (:attr:`arlens.scene.Light.gains`), or None for
            white light (or for the light of ``luts``).
        composite: maps uint8 (n, C) pixels under white light to uint8 (N, n, C) painted ones.
        luts: :func:`light_luts` of the light and C channels, when the caller has them (then ``gains`` is not
            looked at); None: made from ``gains``.

    Returns:
        uint8 (N, n, C). A pixel the composite leaves as it was comes back exactly as it was (the
        round trip's rounding is taken out: the result is ``px + lit(painted) - lit(normalised px)``).
    """
    n, c = px.shape
    if luts is None:
        luts = None if gains is None else light_luts(gains, c)
        if luts is None:
            return composite(px)
    inverse, back = luts
    flat_in = px.reshape(1, n, c)
    normal = cv2.LUT(flat_in, inverse).reshape(n, c)
    painted = composite(normal)
    lit = cv2.LUT(painted.reshape(1, -1, c), back).reshape(painted.shape).astype(np.int16)
    lit -= cv2.LUT(normal.reshape(1, n, c), back).reshape(1, n, c).astype(np.int16)
    lit += px.astype(np.int16)[None]
    return lit.clip(_ZERO, _FULL, out=lit).astype(np.uint8)  # np.clip's values (int16 bounds: its fast path)
