"""The perspective camera that head poses and eyewear rendering share.

Camera space follows OpenGL: x right, y up, the camera at the origin looking down -z, units in
centimetres. Image pixels have their origin at the top-left corner of the top-left pixel, x right,
y down; a pixel's centre is at (i + 0.5, j + 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arlens.errors import InputError


@dataclass(frozen=True)
class PerspectiveCamera:
    """A pinhole camera for a ``width`` x ``height`` image with vertical field of view ``fov_y_deg``.

    MediaPipe's face geometry assumes a 63 degree vertical field of view for a phone camera; a
    webcam is usually 45-60 degrees. The principal point is the image centre.
    """

    width: int
    height: int
    fov_y_deg: float = 63.0

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise InputError(f"PerspectiveCamera: expected a positive image size, got {self.width}x{self.height}")
        if not 1.0 <= self.fov_y_deg <= 170.0:
            raise InputError(f"PerspectiveCamera: expected fov_y_deg in [1, 170], got {self.fov_y_deg}")

    @property
    def focal_px(self) -> float:
        """Focal length in pixels (same on both axes)."""
        return 0.5 * self.height / math.tan(math.radians(self.fov_y_deg) / 2)

    @property
    def intrinsics(self) -> np.ndarray:
        """3x3 matrix K mapping camera rays (x, -y, -z) to pixels, OpenCV style."""
        f = self.focal_px
        return np.array([[f, 0, self.width / 2], [0, f, self.height / 2], [0, 0, 1]], dtype=np.float64)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Project (N, 3) camera-space points (cm, -z in front) to (N, 2) pixel coordinates."""
        p = np.asarray(points, dtype=np.float64)
        depth = -p[:, 2]
        f = self.focal_px
        out = np.empty((len(p), 2))  # filled in place: np.stack costs more than the arithmetic on a few points
        out[:, 0] = self.width / 2 + f * p[:, 0] / depth
        out[:, 1] = self.height / 2 - f * p[:, 1] / depth
        return out

    def unproject(self, pixels: np.ndarray, depth: np.ndarray | float) -> np.ndarray:
        """Camera-space points (N, 3) for pixel coordinates (N, 2) at distance ``depth`` (cm) along -z."""
        px = np.asarray(pixels, dtype=np.float64)
        d = np.asarray(depth, dtype=np.float64)
        if d.ndim and d.shape != (px.shape[0],):
            d = np.broadcast_to(d, (px.shape[0],))
        f = self.focal_px
        out = np.empty((px.shape[0], 3))  # filled in place: np.stack costs more than the arithmetic on a few points
        out[:, 0] = (px[:, 0] - self.width / 2) * d / f
        out[:, 1] = -(px[:, 1] - self.height / 2) * d / f
        out[:, 2] = -d
        return out

    def projection_matrix(self, near: float = 1.0, far: float = 10000.0) -> np.ndarray:
        """OpenGL 4x4 projection (column vectors) matching :meth:`project`, for a full-image viewport."""
        f = 1.0 / math.tan(math.radians(self.fov_y_deg) / 2)
        aspect = self.width / self.height
        return np.array(
            [
                [f / aspect, 0, 0, 0],
                [0, f, 0, 0],
                [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
                [0, 0, -1, 0],
            ],
            dtype=np.float64,
        )
