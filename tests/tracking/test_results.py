"""Face and Hand values: every field checked when made, so no lens does arithmetic on NaN or 3.4e38."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.tracking.results import MAX_COORDINATE, Face, Hand, bbox_of


def _points(n: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    return rng.uniform(0, 500, (n, 3)).astype(np.float32)


def _face(**kw) -> Face:
    lm = kw.pop("landmarks", _points(478))
    bbox = kw.pop("bbox") if "bbox" in kw else bbox_of(lm)
    return Face(**{"landmarks": lm, "score": 0.9, "bbox": bbox, **kw})


def _hand(**kw) -> Hand:
    lm = kw.pop("landmarks", _points(21))
    bbox = kw.pop("bbox") if "bbox" in kw else bbox_of(lm)
    return Hand(**{"landmarks": lm, "handedness": "Left", "score": 0.9, "bbox": bbox, **kw})


def _with(array: np.ndarray, index: tuple[int, ...], value: float) -> np.ndarray:
    out = array.astype(np.float64)
    out[index] = value
    return out


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 3.4e38, MAX_COORDINATE * 1.01])
@pytest.mark.parametrize("make, n, name", [(_face, 478, "Face"), (_hand, 21, "Hand")])
def test_landmarks_must_be_finite_and_within_bounds(make, n, name, value):
    """A landmark at 3.4e38 made NailPolishLens raise OverflowError; NaN went through to every lens."""
    lm = _with(_points(n), (5, 0), value)
    with pytest.raises(InputError, match=rf"{name}.landmarks: expected finite values within \+-1e\+06.*at \[5, 0\]"):
        make(landmarks=lm, bbox=np.zeros(4, np.float32))
    with pytest.raises(InputError, match=rf"{name}.bbox: expected finite values"):
        make(bbox=_with(np.zeros(4), (2,), value))


def test_the_bound_itself_is_accepted():
    lm = _with(_points(478), (0, 0), -MAX_COORDINATE)
    assert _face(landmarks=lm).landmarks[0, 0] == -MAX_COORDINATE


@pytest.mark.parametrize("pose, what", [
    (_with(np.eye(4), (0, 3), np.nan), "expected a finite 4x4 rigid transform"),
    (_with(np.eye(4), (2, 3), np.inf), "expected a finite 4x4 rigid transform"),
    (np.diag([2.0, 2.0, 2.0, 1.0]), "expected a rigid transform"),
    (np.zeros((4, 4)), "expected a rigid transform"),
    (_with(np.eye(4), (3, 0), 1.0), "expected a rigid transform"),
    (_with(np.eye(4), (2, 3), -2e6), "translation \\(cm\\): expected finite values within"),
])
def test_pose_must_be_a_finite_rigid_transform(pose, what):
    """A NaN in Face.pose made EyewearLens raise a bare ValueError."""
    with pytest.raises(InputError, match=f"Face.pose.*{what}"):
        _face(pose=pose)


def test_a_rotation_and_translation_is_accepted():
    a = 0.4
    pose = np.eye(4)
    pose[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    pose[:3, 3] = [3.0, -2.0, -45.0]
    np.testing.assert_allclose(_face(pose=pose).pose, pose, atol=1e-6)


@pytest.mark.parametrize("field, value", [
    ("score", np.nan), ("score", 1.5), ("score", -0.1), ("score", "high"), ("score", True), ("track_id", -1),
    ("track_id", 1.5),
])
def test_scores_and_ids(field, value):
    with pytest.raises(InputError, match=f"Face.{field}"):
        _face(**{field: value})
    with pytest.raises(InputError, match=f"Hand.{field}"):
        _hand(**{field: value})


@pytest.mark.parametrize("value", [["Left"], None, 1, "left"])
def test_handedness(value):
    with pytest.raises(InputError, match="Hand.handedness: expected 'Left' or 'Right'"):
        _hand(handedness=value)


@pytest.mark.parametrize("landmarks", [[[10**400] * 3] * 478, "not numbers", [[1, 2]] * 478, None])
def test_landmarks_that_are_not_an_array_of_numbers(landmarks):
    with pytest.raises(InputError, match="Face.landmarks"):
        _face(landmarks=landmarks, bbox=np.zeros(4))


def test_values_are_copies_the_caller_cannot_change():
    lm = _points(478)
    face = _face(landmarks=lm)
    lm[0, 0] = np.nan
    assert np.isfinite(face.landmarks).all()
    assert lm.flags.writeable  # the caller's array is left as it was
    with pytest.raises(ValueError):
        face.landmarks[0, 0] = 1.0
