"""Tracking results: frozen dataclasses of numpy arrays, shape-checked when built."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from arlens.errors import InputError


def _array(name: str, value: object, shape: tuple[int | None, ...], dtype: type) -> np.ndarray:
    arr = np.ascontiguousarray(value, dtype=dtype)
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)):
        want = "x".join("N" if s is None else str(s) for s in shape)
        raise InputError(f"{name}: expected an array of shape ({want}), got {arr.shape}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class Face:
    """One tracked face.

    Attributes:
        landmarks: float32 (478, 3). x, y in image pixels; z is MediaPipe's relative depth times
            the image width (pixels, smaller is nearer the camera). Indices are MediaPipe's:
            0-467 the face mesh, 468-472 the right-eye iris (centre 468), 473-477 the left (473).
        score: face-presence score of the landmark model, 0..1.
        bbox: float32 (4,) x0, y0, x1, y1 in pixels, the box around the landmarks.
        pose: float32 (4, 4) rigid transform from the canonical face (centimetres) to the
            camera space of ``camera`` (centimetres, OpenGL convention: x right, y up, looking down -z).
        track_id: stable id of this face across video frames (0 for a still image).
        glasses: probability (0..1) that the face already wears glasses, or None when it was not checked
            (:func:`arlens.tracking.glasses.glasses_probability`; :class:`~arlens.TryOn` checks while a pair of
            glasses is worn, so an app can say "take your glasses off for the best fit").
    """

    landmarks: np.ndarray
    score: float
    bbox: np.ndarray
    pose: np.ndarray = field(default_factory=lambda: np.eye(4, dtype=np.float32))
    track_id: int = 0
    glasses: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "landmarks", _array("Face.landmarks", self.landmarks, (478, 3), np.float32))
        object.__setattr__(self, "bbox", _array("Face.bbox", self.bbox, (4,), np.float32))
        object.__setattr__(self, "pose", _array("Face.pose", self.pose, (4, 4), np.float32))
        object.__setattr__(self, "score", float(self.score))
        if self.glasses is not None:
            g = float(self.glasses)
            if not 0.0 <= g <= 1.0:
                raise InputError(f"Face.glasses: expected a probability in [0, 1] or None, got {self.glasses!r}")
            object.__setattr__(self, "glasses", g)

    @property
    def wears_glasses(self) -> bool | None:
        """Whether the face already wears glasses (``glasses >= 0.5``), or None when it was not checked."""
        return None if self.glasses is None else self.glasses >= 0.5

    @property
    def interocular(self) -> float:
        """Distance in pixels between the outer eye corners (landmarks 33 and 263)."""
        return float(np.linalg.norm(self.landmarks[33, :2] - self.landmarks[263, :2]))


@dataclass(frozen=True)
class Hand:
    """One tracked hand.

    Attributes:
        landmarks: float32 (21, 3) in MediaPipe's order (0 wrist, 4 thumb tip, 8 index tip, ...);
            x, y in pixels, z relative depth times image width.
        handedness: 'Left' or 'Right', the label MediaPipe gives for the same image.
        score: hand-presence score, 0..1.
        handedness_score: confidence of the handedness label, 0..1.
        bbox: float32 (4,) x0, y0, x1, y1 in pixels.
        track_id: stable id of this hand across video frames.
    """

    landmarks: np.ndarray
    handedness: str
    score: float
    bbox: np.ndarray
    handedness_score: float = 1.0
    track_id: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "landmarks", _array("Hand.landmarks", self.landmarks, (21, 3), np.float32))
        object.__setattr__(self, "bbox", _array("Hand.bbox", self.bbox, (4,), np.float32))
        if self.handedness not in ("Left", "Right"):
            raise InputError(f"Hand.handedness: expected 'Left' or 'Right', got {self.handedness!r}")
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "handedness_score", float(self.handedness_score))

    @property
    def size(self) -> float:
        """Wrist to middle-finger MCP (points 0 and 9) in pixels: the hand's scale."""
        return float(np.linalg.norm(self.landmarks[0, :2] - self.landmarks[9, :2]))


def bbox_of(points: np.ndarray) -> np.ndarray:
    """Axis-aligned x0, y0, x1, y1 box of (N, >=2) points."""
    xy = np.asarray(points)[:, :2]
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)]).astype(np.float32)


def as_hands(hands: object, name: str = "hands") -> list[Hand]:
    """Validate a list of :class:`Hand` (a single Hand is accepted too); raise InputError naming the bad item."""
    if isinstance(hands, Hand):
        return [hands]
    if not isinstance(hands, Iterable) or isinstance(hands, str | bytes | np.ndarray):
        raise InputError(f"{name}: expected a list of Hand, got {type(hands).__name__}")
    out = list(hands)
    for i, hand in enumerate(out):
        if not isinstance(hand, Hand):
            raise InputError(f"{name}[{i}]: expected a Hand, got {type(hand).__name__}")
    return out
