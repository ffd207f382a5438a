"""MediaPipe interop: arlens faces and hands as MediaPipe Tasks results (and back), drawn by MediaPipe's helpers."""

from __future__ import annotations

import numpy as np
import pytest
from mediapipe.tasks.python.components.containers.category import Category
from mediapipe.tasks.python.components.containers.landmark import NormalizedLandmark
from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarkerResult
from mediapipe.tasks.python.vision.hand_landmarker import HandLandmarkerResult

import arlens
from arlens import interop
from arlens.errors import InputError
from tests.support import read_image


@pytest.fixture(scope="module")
def portrait(face_tracker):
    image = read_image("faces/astronaut.png")
    return image, face_tracker.detect(image)


@pytest.fixture(scope="module")
def pointing():
    image = read_image("hands/pointing.jpg")
    with arlens.HandTracker() as tracker:
        return image, tracker.detect(image)


def test_faces_become_a_face_landmarker_result(portrait):
    image, faces = portrait
    h, w = image.shape[:2]
    result = interop.face_landmarker_result(faces, image.shape)
    assert isinstance(result, FaceLandmarkerResult)
    assert len(result.face_landmarks) == len(faces) == 1 and result.face_blendshapes == []
    landmarks = result.face_landmarks[0]
    assert len(landmarks) == 478 and all(isinstance(lm, NormalizedLandmark) for lm in landmarks)
    got = np.array([[lm.x, lm.y, lm.z] for lm in landmarks])
    # MediaPipe's normalisation: x / W, y / H, z / W (one float64 division each; 1e-9 covers its rounding)
    np.testing.assert_allclose(got, faces[0].landmarks / np.array([w, h, w]), rtol=1e-9, atol=1e-12)
    assert 0 < got[:, :2].min() and got[:, :2].max() < 1
    np.testing.assert_array_equal(result.facial_transformation_matrixes[0], faces[0].pose)  # a copy of the pose


def test_face_results_come_back_as_faces_the_lenses_draw_on(portrait):
    image, faces = portrait
    result = interop.face_landmarker_result(faces, image.shape)
    back = interop.faces_from_result(result, image.shape)
    # x / W * W in float64, stored as float32: within an ULP of float32 at 500 px (3e-5)
    np.testing.assert_allclose(back[0].landmarks, faces[0].landmarks, atol=1e-4)
    np.testing.assert_array_equal(back[0].pose, faces[0].pose)
    # without MediaPipe's matrix the pose is fitted from the landmarks, as the tracker does
    result.facial_transformation_matrixes = []
    fitted = interop.faces_from_result(result, image.shape)[0]
    np.testing.assert_allclose(fitted.pose, faces[0].pose, atol=1e-3)  # the same fit on landmarks within 1e-4 px
    with arlens.LipstickLens(color="#B3172B", opacity=1.0) as lens:
        a = lens.render(image, faces).astype(int)
        b = lens.render(image, back).astype(int)
    assert (a != image).any()
    assert np.abs(a - b).max() <= 1  # landmarks 1e-4 px apart: a mask value may round one level apart


def test_hands_become_a_hand_landmarker_result_and_back(pointing):
    image, hands = pointing
    assert hands, "the pointing photo has a hand"
    result = interop.hand_landmarker_result(hands, image.shape)
    assert isinstance(result, HandLandmarkerResult)
    assert len(result.hand_landmarks[0]) == 21 and result.hand_world_landmarks == [[] for _ in hands]
    (category,) = result.handedness[0]
    assert isinstance(category, Category)
    assert category.category_name == hands[0].handedness
    assert category.index == {"Left": 0, "Right": 1}[hands[0].handedness]
    assert category.score == pytest.approx(hands[0].handedness_score)
    back = interop.hands_from_result(result, image.shape)
    assert [h.handedness for h in back] == [h.handedness for h in hands]
    np.testing.assert_allclose(back[0].landmarks, hands[0].landmarks, atol=1e-4)
    with arlens.NailPolishLens(color="#8E1B2E") as lens:
        assert np.abs(lens.render(image, back).astype(int) - lens.render(image, hands)).max() <= 1


def test_bad_inputs_are_named():
    with pytest.raises(InputError, match="image_shape"):
        interop.normalized_landmarks(np.zeros((478, 3)), (0, 10))
    with pytest.raises(InputError, match="points"):
        interop.normalized_landmarks(np.zeros((478, 2)), (10, 10))
    with pytest.raises(InputError, match="FaceLandmarkerResult"):
        interop.faces_from_result(object(), (10, 10))
    short = FaceLandmarkerResult(face_landmarks=[[NormalizedLandmark(x=0.5, y=0.5, z=0.0)] * 468],
                                 face_blendshapes=[], facial_transformation_matrixes=[])
    with pytest.raises(InputError, match="expected 478 landmarks"):
        interop.faces_from_result(short, (10, 10))
    unlabelled = HandLandmarkerResult(handedness=[[]], hand_landmarks=[[NormalizedLandmark(x=0.5, y=0.5, z=0.0)] * 21],
                                      hand_world_landmarks=[[]])
    with pytest.raises(InputError, match="handedness"):
        interop.hands_from_result(unlabelled, (10, 10))
    with pytest.raises(InputError, match="faces"):
        interop.face_landmarker_result([object()], (10, 10))


def test_draw_landmarks_uses_mediapipes_drawing(portrait, pointing):
    image, faces = portrait
    before = image.copy()
    out = interop.draw_landmarks(image, faces)
    assert np.array_equal(image, before) and out is not image
    changed = np.abs(out.astype(int) - image).max(axis=2) > 0
    x0, y0, x1, y1 = faces[0].bbox
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 2000  # the tesselation covers the face
    inside = (xs >= x0 - 3) & (xs <= x1 + 3) & (ys >= y0 - 3) & (ys <= y1 + 3)
    assert inside.mean() > 0.99  # and nothing else
    # MediaPipe's default iris colour (green, BGR (48, 255, 48)) is drawn at the left iris
    cx, cy = faces[0].landmarks[473, :2].round().astype(int)
    patch = out[cy - 6 : cy + 7, cx - 6 : cx + 7].reshape(-1, 3)
    assert ((patch == (48, 255, 48)).all(axis=1)).any()
    hand_image, hands = pointing
    drawn = interop.draw_landmarks(hand_image[..., 0], hands=hands)  # grey input: converted, as everywhere
    assert drawn.shape == hand_image.shape
    x, y = hands[0].landmarks[8, :2].round().astype(int)
    grey = hand_image[y - 3 : y + 4, x - 3 : x + 4, :1]
    assert (drawn[y - 3 : y + 4, x - 3 : x + 4] != grey).any()
