"""SSD detection as MediaPipe's BlazeFace and BlazePalm graphs do it: anchors, decoding, weighted NMS.

Re-implements ``SsdAnchorsCalculator``, ``TensorsToDetectionsCalculator`` and the WEIGHTED algorithm of
``NonMaxSuppressionCalculator`` with numpy, with the constants of MediaPipe's graphs passed in as
:class:`SsdOptions`. The input image is letterboxed into the model's square input, as MediaPipe's
``ImageToTensorCalculator`` with ``keep_aspect_ratio: true`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from arlens.tracking.roi import Roi


@dataclass(frozen=True)
class SsdOptions:
    """Anchor and decoding constants of one SSD model (values from MediaPipe's .pbtxt graphs)."""

    input_size: int
    strides: tuple[int, ...]
    num_keypoints: int
    min_scale: float
    max_scale: float
    input_range: tuple[float, float]
    score_threshold: float = 0.5
    nms_threshold: float = 0.3
    interpolated_scale_aspect_ratio: float = 1.0
    score_clipping: float = 100.0


#: face_detection_short_range.tflite (face_detection_short_range.pbtxt, face_detection.pbtxt)
FACE_SHORT_RANGE = SsdOptions(
    input_size=128, strides=(8, 16, 16, 16), num_keypoints=6, min_scale=0.1484375, max_scale=0.75,
    input_range=(-1.0, 1.0), score_threshold=0.5, nms_threshold=0.3,
)
#: face_detection_full_range_sparse.tflite (face_detection_full_range.pbtxt, face_detection.pbtxt): one
#: 48x48 grid (stride 4) of one anchor per cell, 2304 anchors; score threshold 0.6 (what MediaPipe's
#: ``FaceDetection(model_selection=1)`` applies whatever its ``min_detection_confidence``).
FACE_FULL_RANGE = SsdOptions(
    input_size=192, strides=(4,), num_keypoints=6, min_scale=0.1484375, max_scale=0.75,
    input_range=(-1.0, 1.0), score_threshold=0.6, nms_threshold=0.3, interpolated_scale_aspect_ratio=0.0,
)


def ssd_anchors(options: SsdOptions) -> np.ndarray:
    """Anchor centres (N, 2) in [0, 1], in the model's output order (fixed anchor size of 1).

    Consecutive layers with the same stride share one grid; each grid cell gets one anchor per
    aspect ratio (only 1.0 here) plus one for the interpolated scale.
    """
    per_cell = 1 + (1 if options.interpolated_scale_aspect_ratio > 0 else 0)
    centres = []
    layer = 0
    n = len(options.strides)
    while layer < n:
        stride = options.strides[layer]
        count = 0
        while layer < n and options.strides[layer] == stride:
            count += per_cell
            layer += 1
        size = int(np.ceil(options.input_size / stride))
        ys, xs = np.meshgrid((np.arange(size) + 0.5) / size, (np.arange(size) + 0.5) / size, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, count, axis=0))
    return np.concatenate(centres).astype(np.float32)


@dataclass(frozen=True)
class Detection:
    """One detection in image pixels: box (x0, y0, x1, y1), keypoints (K, 2) and score."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def letterbox(image: np.ndarray, size: int, value_range: tuple[float, float], rgb: bool = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """Fit an image into a ``size`` square with zero borders, as float32 NHWC in ``value_range``.

    Returns the tensor (1, size, size, C) in the image's channel order (BGR -> RGB with ``rgb``) and the
    2x3 affine that maps tensor-normalised [0, 1] coordinates back to image pixels.
    """
    h, w = image.shape[:2]
    return square_tensor(image, (w / 2, h / 2), max(w, h), size, value_range, rgb)


def square_tensor(image: np.ndarray, centre: tuple[float, float], side: float, size: int,
                  value_range: tuple[float, float], rgb: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The axis-aligned square ``side`` pixels wide around ``centre``, resampled to a ``size`` tensor.

    What :func:`letterbox` does for the whole image, for any square of it (a detector's tile): zero
    outside the image, float32 NHWC (1, size, size, C) in ``value_range``, and the 2x3 affine from
    tensor-normalised [0, 1] coordinates back to image pixels. With ``rgb`` a BGR image's channels are
    swapped on the bytes, before they become floats: the values of reversing the float tensor's channels,
    without reading a quarter megabyte backwards (80 us for a 192x192 tensor).
    """
    roi = Roi(float(centre[0]), float(centre[1]), side, side)
    lo, hi = value_range
    tensor = roi.crop(image, size, border=cv2.BORDER_CONSTANT)  # zero border, normalised with the image
    if rgb:
        tensor = cv2.cvtColor(tensor, cv2.COLOR_BGR2RGB)
    tensor = tensor.astype(np.float32) * ((hi - lo) / 255.0) + lo
    back = np.array([[side, 0, roi.cx - side / 2], [0, side, roi.cy - side / 2]], dtype=np.float64)
    return tensor[None], back


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, options: SsdOptions) -> tuple[
    np.ndarray, np.ndarray
]:
    """Decode raw regressors (N, 4 + 2K) and logits (N,) into boxes+keypoints in [0, 1] and scores."""
    s = float(options.input_size)
    r = raw_boxes.reshape(-1, raw_boxes.shape[-1]).astype(np.float32)
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -options.score_clipping, options.score_clipping)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = scores >= options.score_threshold
    r, a, scores = r[keep], anchors[keep], scores[keep]
    cx = r[:, 0] / s + a[:, 0]
    cy = r[:, 1] / s + a[:, 1]
    w = r[:, 2] / s
    h = r[:, 3] / s
    out = np.empty((len(r), 4 + 2 * options.num_keypoints), dtype=np.float32)
    out[:, 0] = cx - w / 2
    out[:, 1] = cy - h / 2
    out[:, 2] = cx + w / 2
    out[:, 3] = cy + h / 2
    kp = r[:, 4 : 4 + 2 * options.num_keypoints].reshape(len(r), options.num_keypoints, 2) / s + a[:, None, :]
    out[:, 4:] = kp.reshape(len(r), 2 * options.num_keypoints)
    return out, scores


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(values: np.ndarray, scores: np.ndarray, threshold: float, max_out: int | None = None) -> list[
    tuple[np.ndarray, float]
]:
    """MediaPipe's WEIGHTED non-maximum suppression.

    Detections overlapping the best remaining one by more than ``threshold`` IoU are merged into it:
    box and keypoints become their score-weighted mean, the score stays the best one's.
    """
    order = np.argsort(-scores, kind="stable")
    values, scores = values[order], scores[order]
    remaining = np.arange(len(scores))
    out = []
    while remaining.size and (max_out is None or len(out) < max_out):
        best = remaining[0]
        overlap = _iou(values[best, :4], values[remaining, :4])
        group = remaining[overlap > threshold]
        if group.size == 0:
            group = remaining[:1]
        w = scores[group][:, None]
        merged = (values[group] * w).sum(axis=0) / w.sum()
        out.append((merged, float(scores[best])))
        remaining = remaining[overlap <= threshold]
        remaining = remaining[remaining != best]
    return out


def to_pixels(merged: np.ndarray, score: float, back: np.ndarray, num_keypoints: int) -> Detection:
    """Map a merged normalised detection back to image pixels through the letterbox inverse ``back``."""
    pts = np.concatenate([merged[:4].reshape(2, 2), merged[4 : 4 + 2 * num_keypoints].reshape(-1, 2)])
    px = pts @ back[:, :2].T + back[:, 2]
    return Detection(box=px[:2].reshape(4).astype(np.float32), keypoints=px[2:].astype(np.float32), score=score)


#: palm_detection_full.tflite (palm_detection_cpu.pbtxt)
PALM_FULL = SsdOptions(
    input_size=192, strides=(8, 16, 16, 16), num_keypoints=7, min_scale=0.1484375, max_scale=0.75,
    input_range=(0.0, 1.0), score_threshold=0.5, nms_threshold=0.3,
)
