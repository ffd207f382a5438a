"""Tracking results: frozen dataclasses of numpy arrays, shape-checked when built."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from arlens.errors import InputError

#: The largest magnitude a landmark or box coordinate may have, in pixels: 30 times the widest frame the
#: trackers take (32,766 px). Landmarks may lie outside the frame (a face cut by its edge), never this far;
#: beyond it a value is a bug or an attack, and lenses would do arithmetic on it (3.4e38 overflowed).
MAX_COORDINATE = 1e6
#: The largest distance (cm) a pose may put a face from the camera: 10 km.
MAX_TRANSLATION_CM = 1e6
#: How far a pose's rotation may be from orthonormal (max |R^T R - I|) and its last row from (0, 0, 0, 1):
#: float32 rotations are orthonormal to ~1e-6; a scaled or sheared matrix is not a rigid pose.
RIGID_TOLERANCE = 1e-3


def _array(name: str, value: object, shape: tuple[int | None, ...], dtype: type) -> np.ndarray:
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # 1e300 becomes inf in float32: refused right after
            arr = np.array(value, dtype=dtype, order="C", copy=True)  # a copy: the value must not change later
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"{name}: expected an array of numbers, got {type(value).__name__} ({exc})") from None
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)):
        want = "x".join("N" if s is None else str(s) for s in shape)
        raise InputError(f"{name}: expected an array of shape ({want}), got {arr.shape}")
    arr.setflags(write=False)
    return arr


def _coordinates(name: str, arr: np.ndarray, bound: float = MAX_COORDINATE) -> None:
    """InputError unless every value of ``arr`` is finite and within +-``bound``."""
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(arr) <= bound)  # NaN compares False: caught too
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{name}: expected finite values within +-{bound:g}, got {arr[where]!r} at {list(where)}")


def usable_points(points: np.ndarray) -> bool:
    """Whether landmark ``points`` can make a Face or Hand (finite, within +-MAX_COORDINATE): the trackers
    drop a model output that cannot (lost, as when its presence score is low) rather than fail the frame."""
    with np.errstate(invalid="ignore"):
        return bool((np.abs(points) <= MAX_COORDINATE).all())


def _unit_score(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"{name}: expected a number in [0, 1], got {type(value).__name__}")
    score = float(value)
    if not 0.0 <= score <= 1.0:
        raise InputError(f"{name}: expected a number in [0, 1], got {score!r}")
    return score


def _track_id(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise InputError(f"{name}: expected a whole number >= 0, got {value!r}")
    return int(value)


def _check_pose(pose: np.ndarray) -> None:
    """InputError unless ``pose`` is a finite rigid transform (rotation, translation within bounds)."""
    if not np.isfinite(pose).all():
        raise InputError(f"Face.pose: expected a finite 4x4 rigid transform, got {pose.tolist()!r}")
    r = pose[:3, :3].astype(np.float64)
    off = max(float(np.abs(r.T @ r - np.eye(3)).max()), float(np.abs(pose[3] - (0, 0, 0, 1)).max()))
    if off > RIGID_TOLERANCE:
        raise InputError(f"Face.pose: expected a rigid transform (orthonormal rotation, last row 0 0 0 1), "
                         f"got one {off:.3g} away from it")
    _coordinates("Face.pose translation (cm)", pose[:3, 3], MAX_TRANSLATION_CM)


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

    Raises:
        InputError: a wrong shape, a landmark or box value that is not finite or beyond +-MAX_COORDINATE,
            a pose that is not a finite rigid transform, a score outside [0, 1], a negative track id.
    """

    landmarks: np.ndarray
    score: float
    bbox: np.ndarray
    pose: np.ndarray = field(default_factory=lambda: np.eye(4, dtype=np.float32))
    track_id: int = 0
    glasses: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "landmarks", _array("Face.landmarks", self.landmarks, (478, 3), np.float32))
        _coordinates("Face.landmarks", self.landmarks)
        object.__setattr__(self, "bbox", _array("Face.bbox", self.bbox, (4,), np.float32))
        _coordinates("Face.bbox", self.bbox)
        object.__setattr__(self, "pose", _array("Face.pose", self.pose, (4, 4), np.float32))
        _check_pose(self.pose)
        object.__setattr__(self, "score", _unit_score("Face.score", self.score))
        object.__setattr__(self, "track_id", _track_id("Face.track_id", self.track_id))
        if self.glasses is not None:
            g = self.glasses
            if isinstance(g, bool) or not isinstance(g, int | float | np.integer | np.floating) or not 0.0 <= g <= 1.0:
                raise InputError(f"Face.glasses: expected a probability in [0, 1] or None, got {self.glasses!r}")
            object.__setattr__(self, "glasses", float(g))

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

    Raises:
        InputError: as for :class:`Face` (landmarks, box, scores, track id), or a handedness that is neither
            'Left' nor 'Right'.
    """

    landmarks: np.ndarray
    handedness: str
    score: float
    bbox: np.ndarray
    handedness_score: float = 1.0
    track_id: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "landmarks", _array("Hand.landmarks", self.landmarks, (21, 3), np.float32))
        _coordinates("Hand.landmarks", self.landmarks)
        object.__setattr__(self, "bbox", _array("Hand.bbox", self.bbox, (4,), np.float32))
        _coordinates("Hand.bbox", self.bbox)
        if not isinstance(self.handedness, str) or self.handedness not in ("Left", "Right"):
            raise InputError(f"Hand.handedness: expected 'Left' or 'Right', got {self.handedness!r}")
        object.__setattr__(self, "score", _unit_score("Hand.score", self.score))
        object.__setattr__(self, "handedness_score", _unit_score("Hand.handedness_score", self.handedness_score))
        object.__setattr__(self, "track_id", _track_id("Hand.track_id", self.track_id))

    @property
    def size(self) -> float:
        """Wrist to middle-finger MCP (points 0 and 9) in pixels: the hand's scale."""
        return float(np.linalg.norm(self.landmarks[0, :2] - self.landmarks[9, :2]))


def bbox_of(points: np.ndarray) -> np.ndarray:
    """Axis-aligned x0, y0, x1, y1 box of (N, >=2) points."""
    xy = np.asarray(points)[:, :2]
    with np.errstate(over="ignore", invalid="ignore"):  # values past float32 become inf (and Face refuses them)
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
