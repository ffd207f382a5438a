"""Rotated regions of interest and the affine warps between them and model tensors.

Follows MediaPipe's ``DetectionsToRectsCalculator`` (rotation from two keypoints),
``RectTransformationCalculator`` (shift, square_long, scale) and ``ImageToTensorCalculator`` /
``LandmarkProjectionCalculator`` (crop a rotated rect into a tensor, project landmarks back). All
coordinates are continuous pixels: the image spans [0, W] x [0, H] and pixel i covers [i, i + 1].
Every ROI is cropped with a single affine warp, never by cropping then resizing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


def normalize_radians(angle: float) -> float:
    """Wrap an angle into [-pi, pi)."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def rotation_from(p0: np.ndarray, p1: np.ndarray, target_deg: float = 0.0) -> float:
    """Rotation that brings the vector p0 -> p1 to ``target_deg`` (y down), as MediaPipe computes it."""
    return normalize_radians(math.radians(target_deg) - math.atan2(-(p1[1] - p0[1]), p1[0] - p0[0]))


@dataclass(frozen=True)
class Roi:
    """A rotated rectangle in pixels: centre, size and rotation (radians, clockwise in image space)."""

    cx: float
    cy: float
    width: float
    height: float
    rotation: float = 0.0

    @classmethod
    def from_box(cls, box: np.ndarray, rotation: float = 0.0) -> Roi:
        """ROI of an axis-aligned (x0, y0, x1, y1) box with the given rotation."""
        x0, y0, x1, y1 = (float(v) for v in box)
        return cls((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, rotation)

    def transformed(self, scale_x: float = 1.0, scale_y: float = 1.0, shift_x: float = 0.0, shift_y: float = 0.0,
                    square_long: bool = True) -> Roi:
        """Shift (in the ROI's rotated frame, as fractions of its size), square on the long side, then scale."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        cx = self.cx + self.width * shift_x * c - self.height * shift_y * s
        cy = self.cy + self.width * shift_x * s + self.height * shift_y * c
        w, h = self.width, self.height
        if square_long:
            w = h = max(w, h)
        return Roi(cx, cy, w * scale_x, h * scale_y, self.rotation)

    def corners(self) -> np.ndarray:
        """The ROI's corners (4, 2) as OpenCV's ``RotatedRect::points`` gives them, in float32.

        Order: bottom-left, top-left, top-right, bottom-right of the unrotated box. MediaPipe builds its
        crop from exactly these float32 points; this replays that formula (OpenCV 5's ``cv2.boxPoints``
        returns corners up to 1e-4 px away from OpenCV 4's).
        """
        f = np.float32
        angle = f(f(self.rotation) * f(180.0) / math.pi)  # MediaPipe: rotation * 180.f / M_PI, stored as float
        rad = float(angle) * math.pi / 180.0
        b, a = f(f(math.cos(rad)) * f(0.5)), f(f(math.sin(rad)) * f(0.5))
        cx, cy, w, h = f(self.cx), f(self.cy), f(self.width), f(self.height)
        p0 = (cx - a * h - b * w, cy + b * h - a * w)
        p1 = (cx + a * h - b * w, cy - b * h - a * w)
        return np.array([p0, p1, (f(2) * cx - p0[0], f(2) * cy - p0[1]), (f(2) * cx - p1[0], f(2) * cy - p1[1])],
                        dtype=np.float32)

    def tensor_to_image(self, size: int) -> np.ndarray:
        """2x3 affine from tensor pixel indices (0..size-1) to image pixel indices.

        MediaPipe's ImageToTensorCalculator maps the rect's corners onto the tensor's corners, reading both
        as pixel-index coordinates (no half-pixel shift); its landmarks are only consistent with that.
        """
        p0, p1, p2, _ = self.corners().astype(np.float64)
        return np.array([[(p2[0] - p1[0]) / size, (p0[0] - p1[0]) / size, p1[0]],
                         [(p2[1] - p1[1]) / size, (p0[1] - p1[1]) / size, p1[1]]])

    def crop(self, image: np.ndarray, size: int, flip: bool = False, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
        """Warp the ROI out of ``image`` into a ``size`` x ``size`` image, optionally mirrored.

        Resamples as MediaPipe's CPU graphs do (OpenCV 4's ``warpPerspective``): source coordinates
        rounded to 1/32 pixel and fixed-point bilinear weights, built here as ``convertMaps`` fixed-point
        maps for ``remap``. ``warpAffine`` rounds coordinates differently, and OpenCV 5 interpolates in
        floating point; either shifts the models' outputs enough to move a palm detection by 0.5 px.
        ``border`` is OpenCV's border mode (replicate, as MediaPipe's landmark graphs; constant zero for
        the detectors' letterbox).
        """
        m = self.tensor_to_image(size)
        u = np.arange(size, dtype=np.float64)
        map_x = np.add.outer(m[0, 1] * u + m[0, 2], m[0, 0] * u).astype(np.float32)
        map_y = np.add.outer(m[1, 1] * u + m[1, 2], m[1, 0] * u).astype(np.float32)
        xy, frac = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)
        out = cv2.remap(image, xy, frac, cv2.INTER_LINEAR, borderMode=border, borderValue=(0, 0, 0))
        return np.ascontiguousarray(out[:, ::-1]) if flip else out

    def project(self, points: np.ndarray, size: int, flip: bool = False) -> np.ndarray:
        """Map (N, 3) model outputs in tensor pixels (x, y, z) back to image pixels; z scales with the ROI width."""
        p = np.asarray(points, dtype=np.float64)
        x = p[:, 0] / size
        if flip:
            x = 1.0 - x
        x = x - 0.5
        y = p[:, 1] / size - 0.5
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        out = np.empty((len(p), 3), dtype=np.float32)
        out[:, 0] = (c * x * self.width - s * y * self.height) + self.cx
        out[:, 1] = (s * x * self.width + c * y * self.height) + self.cy
        out[:, 2] = p[:, 2] / size * self.width
        return out


def roi_from_points(points: np.ndarray, start: int, end: int, scale: float) -> Roi:
    """MediaPipe's landmarks-to-ROI: the axis-aligned box of ``points``, rotated by start -> end, squared, scaled."""
    xy = np.asarray(points)[:, :2]
    box = np.concatenate([xy.min(axis=0), xy.max(axis=0)])
    rot = rotation_from(xy[start], xy[end])
    return Roi.from_box(box, rot).transformed(scale, scale, square_long=True)


def roi_iou(a: Roi, b: Roi) -> float:
    """IoU of the axis-aligned boxes of two ROIs (MediaPipe's association uses the same approximation)."""
    ax0, ay0, ax1, ay1 = a.cx - a.width / 2, a.cy - a.height / 2, a.cx + a.width / 2, a.cy + a.height / 2
    bx0, by0, bx1, by1 = b.cx - b.width / 2, b.cy - b.height / 2, b.cx + b.width / 2, b.cy + b.height / 2
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def associate(detected: list[Roi], tracked: list[Roi], threshold: float = 0.5) -> list[tuple[Roi, int | None]]:
    """MediaPipe's ``AssociationNormRectCalculator``: merge new detections with tracked ROIs.

    Each ROI, detections first (in score order) then tracked ones, evicts every earlier ROI it
    overlaps by more than ``threshold`` IoU and takes its place; so a tracked ROI wins over detections
    of the same object, and overlapping detections or tracks collapse into one. Returns the surviving
    ROIs in order, each with the index of its tracked ROI, or None for a new detection.
    """
    result: list[tuple[Roi, int | None]] = []
    for roi, index in [*((r, None) for r in detected), *((r, i) for i, r in enumerate(tracked))]:
        result = [(r, i) for r, i in result if roi_iou(r, roi) <= threshold]
        result.append((roi, index))
    return result
