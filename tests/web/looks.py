"""What a person would see: the colour of the lips in a picture, found by arlens' own face tracker."""

from __future__ import annotations

import cv2
import numpy as np

from arlens import landmarks as L


def lab(bgr) -> np.ndarray:
    """CIELAB (OpenCV's 8-bit scaling, L in 0..255) of one BGR colour or an (N, 3) array of them."""
    arr = np.asarray(bgr, np.uint8).reshape(-1, 1, 3)
    return cv2.cvtColor(arr, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)


def hex_bgr(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (5, 3, 1))  # type: ignore[return-value]


def lip_colour(image: np.ndarray, tracker) -> np.ndarray:
    """Mean CIELAB colour of the lips (outer contour minus the mouth opening, eroded off the edges)."""
    faces = tracker.detect(image)
    assert faces, "no face found in the picture"
    pts = faces[0].landmarks[:, :2]
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(pts[list(L.lips_outer())]).astype(np.int32)], 255)
    cv2.fillPoly(mask, [np.round(pts[list(L.lips_inner())]).astype(np.int32)], 0)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
    assert mask.sum() > 0, "empty lip mask"
    return lab(image[mask > 0]).mean(axis=0)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two CIELAB colours (OpenCV's 8-bit scale)."""
    return float(np.linalg.norm(np.asarray(a, np.float32).reshape(3) - np.asarray(b, np.float32).reshape(3)))
