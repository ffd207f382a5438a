"""Does a face already wear glasses? A linear classifier over the gradients of the eye region.

So an app can say "take your glasses off for the best fit" before drawing a pair over a pair. The face's eye
region is cut out of the frame by a similarity transform that puts the outer eye corners at fixed places
(:data:`CANVAS`), its histogram of oriented gradients (OpenCV's :class:`cv2.HOGDescriptor`) is scored by a
logistic regression, and the score is the probability that the face wears glasses. The weights ship in
``assets/glasses_detector.npz``, made by ``assets/make_glasses_detector.py`` (which says what it was trained
on and how well it does on faces it did not see).

A learned score rather than hand-set rules: rims, bridges and end pieces are thin edges in fixed places
around the eyes, which is what oriented gradients on a face-aligned grid describe; hand-tuned gradient
rules did not separate a real pair (``grace_hopper.jpg``) from wrinkles, brows and hair.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from arlens import landmarks as L
from arlens.errors import InputError, ModelError
from arlens.image import check_bgr
from arlens.resources import assets_dir

DETECTOR_FILE = "glasses_detector.npz"
#: The eye-region canvas (width, height) and where the outer eye corners are put on it (subject's right, left).
CANVAS = (128, 64)
EYE_CORNERS = ((28.0, 30.0), (100.0, 30.0))


def eye_canvas(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """uint8 (64, 128) grey eye region of ``image`` (uint8 BGR), the outer eye corners at :data:`EYE_CORNERS`."""
    lm = np.asarray(landmarks, dtype=np.float64)
    src = np.float32([lm[L.RIGHT_EYE_OUTER, :2], lm[L.LEFT_EYE_OUTER, :2]])
    dst = np.float32(EYE_CORNERS)
    m, _ = cv2.estimateAffinePartial2D(src, dst)
    if m is None or not np.isfinite(m).all():
        raise InputError("eye_canvas: expected a face whose eye corners are apart, got coincident corners")
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.warpAffine(grey, m, CANVAS, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


@cache
def _hog() -> cv2.HOGDescriptor:
    return cv2.HOGDescriptor(CANVAS, (16, 16), (8, 8), (8, 8), 9)


def features(canvas: np.ndarray) -> np.ndarray:
    """float32 (F,) histogram of oriented gradients of an eye canvas (contrast-normalised per block)."""
    c = cv2.equalizeHist(np.ascontiguousarray(canvas, dtype=np.uint8))  # one exposure for every photo
    return _hog().compute(c).ravel().astype(np.float32)


@dataclass(frozen=True)
class GlassesDetector:
    """Weights of the logistic regression: ``p = sigmoid(weights . (features - mean) / scale + bias)``."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float = 0.5

    def probability(self, image: np.ndarray, landmarks: np.ndarray) -> float:
        """Probability (0..1) that the face with these landmarks wears glasses in ``image``."""
        x = (features(eye_canvas(image, landmarks)) - self.mean) / self.scale
        z = float(x @ self.weights + self.bias)
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))))


@cache
def default_detector() -> GlassesDetector:
    """The shipped detector (``assets/glasses_detector.npz``).

    Raises:
        ModelError: the file is missing or not a detector for this canvas.
    """
    path = assets_dir() / DETECTOR_FILE
    try:
        with np.load(path) as data:
            det = GlassesDetector(
                data["mean"].astype(np.float32),
                data["scale"].astype(np.float32),
                data["weights"].astype(np.float32),
                float(data["bias"]),
                float(data["threshold"]),
            )
    except (OSError, KeyError) as exc:
        raise ModelError(f"glasses detector: expected {path} (made by assets/make_glasses_detector.py): {exc}") from exc
    size = _hog().getDescriptorSize()
    if det.weights.shape != (size,) or det.mean.shape != (size,) or det.scale.shape != (size,):
        raise ModelError(f"glasses detector {path}: expected {size} weights, got {det.weights.shape}")
    return det


def glasses_probability(image: np.ndarray, face: object) -> float:
    """Probability (0..1) that ``face`` (a :class:`~arlens.tracking.results.Face`) wears glasses in ``image``
    (uint8 BGR, the frame it was tracked in).

    Raises:
        InputError: a bad image, or a face without usable eye corners.
    """
    image = check_bgr(image, "image")
    landmarks = getattr(face, "landmarks", None)
    if landmarks is None or np.shape(landmarks)[0] < L.NUM_MESH_LANDMARKS:
        raise InputError(f"face: expected a Face with 478 landmarks, got {type(face).__name__}")
    return default_detector().probability(image, landmarks)
