"""The "already wears glasses" check: a real pair, bare faces, drawn pairs on faces it was not trained on."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from arlens.errors import InputError, RuntimeUnavailableError
from arlens.resources import assets_dir
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.glasses import DETECTOR_FILE, eye_canvas, glasses_probability
from arlens.tracking.pose import estimate_pose
from arlens.tracking.results import Face, bbox_of
from tests.lenses.conftest import REFERENCE, TESTDATA, load_still


@pytest.mark.parametrize(("stem", "file", "wears"), [
    ("grace_hopper", "grace_hopper.jpg", True),  # real glasses, never trained on
    ("astronaut", "astronaut.png", False),
    ("frontal_smile", "frontal_smile.png", False),
])
def test_the_portraits(stem, file, wears):
    image, face = load_still(stem, file)
    p = glasses_probability(image, face)
    assert (p >= 0.5) == wears, p
    assert p > 0.8 if wears else p < 0.2  # with a margin


def _clip_frames(step: int, offset: int):
    path, ref = TESTDATA / "faces" / "talking_head.gif", REFERENCE / "talking_head.npz"
    if not path.is_file() or not ref.is_file():
        pytest.skip(f"test data not found: {path} / {ref} (set ARLENS_TESTDATA)")
    cap = cv2.VideoCapture(str(path))
    with np.load(ref) as data:
        meshes, found = data["face_mesh_478"], data["face_found"]
    i = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        if found[i] and i % step == offset and np.isfinite(meshes[i]).all():
            cam = PerspectiveCamera(image.shape[1], image.shape[0])
            lm = meshes[i].astype(np.float32)
            pose = estimate_pose(lm, cam)
            if abs(math.degrees(math.atan2(pose[0, 2], pose[2, 2]))) < 30:
                yield image, Face(lm, 1.0, bbox_of(lm), pose), cam
        i += 1


def test_frames_it_was_not_trained_on():
    """The clip's odd frames (training used the even ones): bare, almost never flagged; with a pair of the demo
    frames drawn on, almost always."""
    from arlens.lenses.eyewear import EyewearLens, EyewearOptions

    bare, worn = [], []
    try:
        lenses = [EyewearLens(EyewearOptions(model=m, frame_width_mm=w)) for m, w in
                  (("round.glb", 132.0), ("rectangular.glb", 142.0), ("cat_eye.glb", 136.0))]
    except RuntimeUnavailableError as exc:
        pytest.skip(f"no OpenGL context on this machine: {exc}")
    try:
        for k, (image, face, cam) in enumerate(_clip_frames(2, 1)):
            bare.append(glasses_probability(image, face))
            worn.append(glasses_probability(lenses[k % 3].render(image, [face], cam), face))
    finally:
        for lens in lenses:
            lens.close()
    assert len(bare) >= 10
    assert np.mean(np.array(bare) >= 0.5) <= 0.1, np.round(bare, 2)
    assert np.mean(np.array(worn) >= 0.5) >= 0.8, np.round(worn, 2)


def test_the_detector_file_says_how_it_was_made():
    with np.load(assets_dir() / DETECTOR_FILE) as data:
        report = json.loads(str(data["report"]))
    assert "grace_hopper" not in " ".join(report["people"])  # the held-out real pair
    assert report["probabilities"]["grace_hopper.jpg"] >= 0.5


def test_bad_inputs():
    image, face = load_still("astronaut", "astronaut.png")
    with pytest.raises(InputError, match="uint8 BGR"):
        glasses_probability(image.astype(np.float32), face)
    with pytest.raises(InputError, match="478 landmarks"):
        glasses_probability(image, object())
    flat = np.zeros((478, 3), np.float32)
    with pytest.raises(InputError, match="eye corners"):
        eye_canvas(image, flat)


def test_face_carries_the_answer():
    image, face = load_still("astronaut", "astronaut.png")
    assert face.glasses is None and face.wears_glasses is None
    checked = Face(face.landmarks, face.score, face.bbox, face.pose, glasses=0.9)
    assert checked.wears_glasses is True
    with pytest.raises(InputError, match="Face.glasses"):
        Face(face.landmarks, face.score, face.bbox, glasses=1.5)
