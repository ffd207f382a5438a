"""Compositing a render whose transparent parts filter the frame (lenses) instead of hazing it.

The lit pass (:mod:`arlens.render.gl`) reads back premultiplied RGBA in which alpha is how much of the frame
behind is taken away and colour what is added on top. For opaque parts that is the usual "over". For a lens,
alpha is ``1 - transmittance`` and colour only its reflection; a tinted lens keeps each channel by a
different factor, which a per-channel look-up table (:func:`arlens.render.gl.lens_keep_lut`) turns alpha
into. A shade (the glasses' contact shadow on the face) multiplies the frame first. Everything stays in
bytes with OpenCV, as :func:`arlens.image.over_premultiplied` does.
"""

from __future__ import annotations

import cv2
import numpy as np

from arlens.errors import InputError
from arlens.image import check_bgr

#: The look-up table of a neutral filter: keep ``255 - alpha`` of every channel (plain "over").
NEUTRAL_KEEP = (255 - np.arange(256, dtype=np.uint8)).reshape(256, 1, 1).repeat(3, axis=2)


def composite_filtered(dst: np.ndarray, rgba: np.ndarray, keep_lut: np.ndarray = NEUTRAL_KEEP) -> np.ndarray:
    """``dst = dst * keep_lut[alpha] / 255 + colour``, per channel, in place; returns ``dst``.

    Args:
        dst: uint8 (H, W, 3) BGR, a view into the frame is fine.
        rgba: uint8 (H, W, 4) premultiplied RGBA of the same height and width (GL's read-back order).
        keep_lut: uint8 (256, 1, 3) BGR table from alpha to the factor each channel is kept by.

    Raises:
        InputError: wrong dtype or shape, read-only ``dst``, or a size mismatch.
    """
    check_bgr(dst, "composite_filtered: dst", writeable=True)
    if not isinstance(rgba, np.ndarray) or rgba.dtype != np.uint8 or rgba.shape != (*dst.shape[:2], 4):
        got = f"{rgba.dtype} {rgba.shape}" if isinstance(rgba, np.ndarray) else type(rgba).__name__
        raise InputError(f"composite_filtered: rgba: expected uint8 {(*dst.shape[:2], 4)} RGBA, got {got}")
    if keep_lut.dtype != np.uint8 or keep_lut.shape != (256, 1, 3):
        got = f"{keep_lut.dtype} {keep_lut.shape}"
        raise InputError(f"composite_filtered: keep_lut: expected uint8 (256, 1, 3), got {got}")
    rgba = np.ascontiguousarray(rgba)
    color = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)
    alpha = cv2.extractChannel(rgba, 3)
    keep = cv2.LUT(cv2.merge((alpha, alpha, alpha)), keep_lut)
    cv2.add(cv2.multiply(dst, keep, scale=1.0 / 255.0), color, dst=dst)
    return dst


def shade(dst: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``dst = dst * factor / 255`` with a uint8 (H, W) ``factor`` for every channel, in place; returns ``dst``."""
    check_bgr(dst, "shade: dst", writeable=True)
    if factor.dtype != np.uint8 or factor.shape != dst.shape[:2]:
        raise InputError(f"shade: factor: expected uint8 {dst.shape[:2]}, got {factor.dtype} {factor.shape}")
    cv2.multiply(dst, cv2.merge((factor, factor, factor)), dst=dst, scale=1.0 / 255.0)
    return dst
