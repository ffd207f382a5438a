"""Pixel boxes and masks that live in a box: how the scene hands out cropped arrays instead of whole frames.

A box is a tuple ``(x0, y0, x1, y1)`` of integer pixel indices into the frame, ``x1`` and ``y1``
exclusive (the lipstick's :class:`~arlens.render.mask.LipGeometry` ``box`` uses the same convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arlens.errors import InputError

Box = tuple[int, int, int, int]


def check_box(box: object, name: str = "box") -> Box:
    """``box`` as a tuple of four ints with ``x0 <= x1`` and ``y0 <= y1``, or InputError naming ``name``."""
    try:
        x0, y0, x1, y1 = (int(v) for v in box)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected (x0, y0, x1, y1) integers, got {box!r}") from None
    if x1 < x0 or y1 < y0:
        raise InputError(f"{name}: expected x0 <= x1 and y0 <= y1, got {box!r}")
    return x0, y0, x1, y1


def clip_box(box: Box, shape: tuple[int, ...]) -> Box:
    """``box`` cut to a frame of ``shape`` (H, W, ...); an empty box where they do not meet."""
    h, w = int(shape[0]), int(shape[1])
    x0, y0 = min(max(box[0], 0), w), min(max(box[1], 0), h)
    return x0, y0, max(x0, min(box[2], w)), max(y0, min(box[3], h))


def box_around(points: np.ndarray, pad: float, shape: tuple[int, ...]) -> Box:
    """The pixels within ``pad`` of the (N, >=2) pixel ``points``' extent, clipped to a frame of ``shape``.

    Points are in the frame's continuous pixel coordinates (pixel ``i`` spans ``[i, i + 1)``).
    Non-finite points are ignored; with none finite the box is empty.
    """
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    if not np.isfinite(xy).all():  # rows with a non-finite value left out (the common all-finite case: one test)
        xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) == 0:
        return 0, 0, 0, 0
    # per column in plain floats: numpy's axis reductions and clip of a (N, 2) array cost several times more
    xs, ys = xy[:, 0], xy[:, 1]
    h, w = int(shape[0]), int(shape[1])
    # far off-frame values are clipped before the int conversion, so no overflow whatever the landmarks
    x0 = min(max(float(xs.min()) - pad, -1.0), w + 1.0)
    y0 = min(max(float(ys.min()) - pad, -1.0), h + 1.0)
    x1 = min(max(float(xs.max()) + pad, -1.0), w + 1.0)
    y1 = min(max(float(ys.max()) + pad, -1.0), h + 1.0)
    return clip_box((math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)), shape)


def box_shape(box: Box) -> tuple[int, int]:
    """(h, w) of ``box``."""
    return box[3] - box[1], box[2] - box[0]


def is_empty(box: Box) -> bool:
    """Whether ``box`` holds no pixel."""
    return box[2] <= box[0] or box[3] <= box[1]


def intersect(a: Box, b: Box) -> Box | None:
    """The pixels in both boxes, or None."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


@dataclass(frozen=True)
class RegionMask:
    """A soft mask that is non-zero only inside its box: the form every scene mask takes.

    Attributes:
        box: (x0, y0, x1, y1) frame pixels the mask covers.
        alpha: float32 (h, w) coverage 0..1 of the box's pixels, read-only.
    """

    box: Box
    alpha: np.ndarray

    def __post_init__(self) -> None:
        box = check_box(self.box, "RegionMask.box")
        alpha = np.asarray(self.alpha, dtype=np.float32)
        if alpha.shape != box_shape(box):
            raise InputError(f"RegionMask.alpha: expected shape {box_shape(box)} for box {box}, got {alpha.shape}")
        alpha = alpha.view()  # a read-only view: the caller's array stays as it was
        alpha.setflags(write=False)
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "alpha", alpha)

    def crop(self, box: Box) -> np.ndarray:
        """The mask over another box: a new float32 (h, w) array, zero where this mask's box does not reach."""
        out = np.zeros(box_shape(box), dtype=np.float32)
        self.max_into(out, box)
        return out

    def max_into(self, out: np.ndarray, box: Box) -> np.ndarray:
        """``out`` (float32 over ``box``) raised to this mask where it is larger (a union of masks); returns it."""
        both = intersect(self.box, box)
        if both is not None:
            x0, y0, x1, y1 = both
            src = self.alpha[y0 - self.box[1] : y1 - self.box[1], x0 - self.box[0] : x1 - self.box[0]]
            dst = out[y0 - box[1] : y1 - box[1], x0 - box[0] : x1 - box[0]]
            np.maximum(dst, src, out=dst)
        return out

    @property
    def area(self) -> float:
        """Sum of the coverage (pixels)."""
        return float(self.alpha.sum(dtype=np.float64))


_PIXEL = np.dtype((np.void, 3))


def every_kth_pixel(frame: np.ndarray, box: Box, step: int) -> np.ndarray:
    """uint8 (h, w, 3), C-contiguous: every ``step``-th pixel of ``box`` of a uint8 (H, W, 3) frame.

    The same as ``np.ascontiguousarray(frame[y0:y1:step, x0:x1:step])``, copied as 3-byte pixels (numpy
    copies a strided (h, w, 3) view three bytes at a time, at about twice the cost).
    """
    x0, y0, x1, y1 = box
    if frame.strides[-1] != 1 or frame.strides[-2] != 3:  # pixels not packed: numpy's own copy
        return np.ascontiguousarray(frame[y0:y1:step, x0:x1:step])
    packed = np.ascontiguousarray(frame.view(_PIXEL)[y0:y1:step, x0:x1:step])
    return packed.view(np.uint8).reshape(*packed.shape[:2], 3)


def take_pixels(frame: np.ndarray, box: Box, index: np.ndarray) -> np.ndarray:
    """uint8 (n, 3): the pixels of ``box`` of a uint8 (H, W, 3) frame at flat ``index`` (row-major within the
    box), as ``np.ascontiguousarray(frame[y0:y1, x0:x1]).reshape(-1, 3)[index]`` at a third of the cost (the
    box copied and indexed as 3-byte pixels)."""
    packed = every_kth_pixel(frame, box, 1)  # C-contiguous
    return np.take(packed.view(_PIXEL).reshape(-1), index).view(np.uint8).reshape(-1, 3)

