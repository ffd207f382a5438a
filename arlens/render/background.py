"""Background blur behind the people in a frame: what a kiosk's mirror shows instead of the shop behind.

The person mask (:class:`~arlens.tracking.segmentation.PersonMask`) decides, pixel by pixel, how much of
the sharp frame stays; the rest is the frame blurred. The blur is a Gaussian of ``strength`` times the
frame's width, computed on a copy shrunk so that it is a few pixels there (the same look at a fraction
of the cost of a wide kernel at full size), then brought back bilinearly.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from arlens.errors import InputError
from arlens.image import check_bgr
from arlens.tracking.segmentation import PersonMask

#: The blur's Gaussian sigma on the shrunk copy (pixels); the copy is shrunk so that the requested sigma
#: is about this.
SMALL_SIGMA = 3.0


def blur_background(frame: np.ndarray, person: PersonMask, strength: float = 0.02) -> np.ndarray:
    """A new frame: ``frame`` (uint8 BGR (H, W, 3)) where ``person`` says person, blurred elsewhere.

    Args:
        frame: the frame to show (rendered or not), the size ``person`` was computed for.
        person: its person mask.
        strength: the background blur's sigma as a fraction of the frame's width (0.02: 26 px at 1280).

    Raises:
        InputError: a bad frame, a mask of another frame size, or a strength outside (0, 0.2].
    """
    frame = check_bgr(frame, "frame")
    if isinstance(strength, bool) or not isinstance(strength, int | float) or not 0.0 < float(strength) <= 0.2:
        raise InputError(f"strength: expected a number in (0, 0.2], got {strength!r}")
    h, w = frame.shape[:2]
    if not isinstance(person, PersonMask) or person.frame_shape != (h, w):
        shape = getattr(person, "frame_shape", None)
        raise InputError(f"person: expected the PersonMask of a {w}x{h} frame, got {shape!r}")
    sigma = float(strength) * w
    shrink = max(1, math.floor(sigma / SMALL_SIGMA))
    small = cv2.resize(frame, (max(1, w // shrink), max(1, h // shrink)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / shrink, borderType=cv2.BORDER_REFLECT)
    blurred = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    alpha = person.full()
    return cv2.blendLinear(frame, blurred, alpha, np.float32(1.0) - alpha)
