"""Input frames: one place for the rules every tracker and lens applies, and the byte-level helpers they share.

The image forms arlens accepts
------------------------------
Every public entry point that reads an image (``FaceTracker.detect``/``track``/``detect_batch``,
``HandTracker``, every lens's ``render`` and ``LipstickLens.render_shades``, ``TryOn.process`` and
``process_image``, :mod:`arlens.batch`, :func:`arlens.interop.draw_landmarks`) takes the same forms,
through :func:`as_bgr`:

- uint8 BGR (H, W, 3), OpenCV's convention: used as it is;
- uint8 grayscale (H, W) or (H, W, 1): converted to BGR;
- uint8 BGRA (H, W, 4) (``cv2.IMREAD_UNCHANGED`` of a PNG with alpha): the alpha is dropped;
- any of these as a non-contiguous view (a crop, ``frame[:, ::2]``, a channel of a bigger array).

Images that come back (a lens's ``render``, ``TryOnResult.frame``) are new uint8 BGR (H, W, 3) arrays of
the input's height and width; the input is never modified. Anything else
(another dtype, shape or channel count, an empty image, not an array) raises
:class:`~arlens.errors.InputError` saying what was received and what is expected.

The one exception is ``render_into(out, ...)``, which draws into the caller's own array: ``out`` must be
a writeable uint8 BGR (H, W, 3) array (a view is fine), since a grey or BGRA buffer cannot hold the
colours drawn (:func:`check_bgr`).
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


def bgr_copy(image: object, name: str = "image") -> np.ndarray:
    """:func:`as_bgr`, always a new array the caller may draw into (what a lens's ``render`` starts from)."""
    bgr = as_bgr(image, name)
    return bgr.copy() if bgr is image else bgr


def check_bgr(image: object, name: str = "frame", writeable: bool = False) -> np.ndarray:
    """``image`` itself if it is a non-empty uint8 (H, W, 3) BGR array (a view is fine), else InputError.

    For the lenses, which draw on exactly what they are given: no conversion, unlike :func:`as_bgr`.
    ``writeable`` also requires that it can be drawn into (not a read-only array).
    """
    if not isinstance(image, np.ndarray):
        raise InputError(f"{name}: expected a uint8 BGR image of shape (H, W, 3), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(f"{name}: expected a uint8 BGR image of shape (H, W, 3), got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InputError(f"{name}: expected a uint8 BGR image of shape (H, W, 3), got shape {image.shape}")
    if writeable and not image.flags.writeable:
        raise InputError(f"{name}: expected a writeable image to draw into, got a read-only array")
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


def over_premultiplied(dst: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """Composite premultiplied RGBA (as OpenGL reads it back) over a BGR image, in place; returns ``dst``.

    ``dst``: uint8 (H, W, 3) BGR, a view into the frame is fine; ``rgba``: uint8 (H, W, 4) premultiplied
    RGBA of the same height and width. Each channel becomes ``round(dst * (255 - a) / 255) + colour``
    (saturated), which equals rounding the float "over" operator once because the colour is an integer;
    OpenCV does it in the bytes, ten times faster than going through float32.

    Raises:
        InputError: wrong dtype or shape, a read-only ``dst``, or a size mismatch (both shapes are named).
    """
    check_bgr(dst, "over_premultiplied: dst", writeable=True)
    if not isinstance(rgba, np.ndarray) or rgba.dtype != np.uint8 or rgba.shape != (*dst.shape[:2], 4):
        got = f"{rgba.dtype} {rgba.shape}" if isinstance(rgba, np.ndarray) else type(rgba).__name__
        want = (*dst.shape[:2], 4)
        raise InputError(f"over_premultiplied: rgba: expected uint8 {want} premultiplied RGBA, got {got}")
    rgba = np.ascontiguousarray(rgba)
    color = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)
    keep = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(rgba, 3)), cv2.COLOR_GRAY2BGR)  # 255 - alpha
    cv2.add(cv2.multiply(dst, keep, scale=1.0 / 255.0), color, dst=dst)
    return dst
