"""Skin and lip colour models: lips are lip, skin and teeth are not, learned per face."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arlens import landmarks as named
from arlens.errors import InputError
from arlens.render import mask as M
from arlens.scene import ColorClass, ColorModel, Scene
from arlens.scene.colors import to_features
from tests.lenses.conftest import STILLS, load_still


def _probabilities(image, face, where):
    fs = Scene(image, [face]).face(0)
    x0, y0, x1, y1 = fs.mouth_box
    lab = to_features(image[y0:y1, x0:x1])
    return fs.colors.lip_probability(lab[where[y0:y1, x0:x1]])


def _regions(image, face):
    geom = M.lip_geometry(face.landmarks, image.shape)
    core = np.zeros(image.shape[:2], bool)
    x0, y0, x1, y1 = geom.box
    core[y0:y1, x0:x1] = M.lip_mask(geom) > 0.98
    lips = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(face.landmarks[list(named.lips_outer()), :2]).astype(np.int32)], 1)
    dist = cv2.distanceTransform(1 - lips, cv2.DIST_L2, 3)
    width = float(np.ptp(face.landmarks[list(named.lips_outer()), 0]))
    skin = (dist > 0.15 * width) & (dist < 0.3 * width)
    return core, skin


def test_lips_are_lip_and_skin_is_not(face_still):
    name, image, face = face_still
    core, skin = _regions(image, face)
    assert np.median(_probabilities(image, face, core)) > 0.7, name
    assert np.median(_probabilities(image, face, skin)) < 0.2, name


#: The still faces whose mouth shows teeth (astronaut's smile a little, frontal_smile's wide), and the
#: one whose lips are closed (grace_hopper: the inner contour encloses only the seam between the lips).
OPEN_MOUTHS = ("astronaut", "frontal_smile")
CLOSED_MOUTHS = ("grace_hopper",)


def _inside_inner_contour(image, face):
    inner = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(face.landmarks[list(named.lips_inner()), :2]).astype(np.int32)], 1)
    return cv2.distanceTransform(inner, cv2.DIST_L2, 3)


@pytest.mark.parametrize("stem", OPEN_MOUTHS)
def test_teeth_are_not_lip(stem):
    image, face = load_still(stem, dict(STILLS)[stem])
    # more than 2 px inside the inner contour of an open mouth: teeth (and the mouth's dark inside)
    teeth = _inside_inner_contour(image, face) > 2
    assert teeth.sum() >= 100, f"{stem}: expected an open mouth, found {teeth.sum()} px inside the inner contour"
    assert np.median(_probabilities(image, face, teeth)) < 0.2


@pytest.mark.parametrize("stem", CLOSED_MOUTHS)
def test_closed_lips_meet_as_lip(stem):
    """Closed lips: what the inner contour encloses is the seam where the lips meet, lip-coloured: it is
    lip, and the lens paints it (no bare line between the lips)."""
    from arlens.lenses.lipstick import LipstickLens

    image, face = load_still(stem, dict(STILLS)[stem])
    dist = _inside_inner_contour(image, face)
    seam = dist > 0
    assert not (dist > 1).any(), f"{stem}: expected closed lips"
    assert seam.sum() >= 20
    assert np.median(_probabilities(image, face, seam)) > 0.7
    out = LipstickLens(color="#1F5FBF", opacity=1.0).render(image, [face])
    painted = np.abs(out.astype(np.int16) - image).max(axis=2) > 2
    assert painted[seam].mean() > 0.95


def test_class_fit_and_checks():
    rng = np.random.default_rng(0)
    lab = rng.normal([50, 20, 10], [5, 2, 2], size=(500, 3))
    cls = ColorClass.fit(lab)
    np.testing.assert_allclose(cls.mean, [50, 20, 10], atol=0.8)
    assert cls.count > 480 and cls.mahalanobis2(np.array([[50, 20, 10]])).item() < 0.1
    assert ColorClass.fit(lab[:5]) is None
    with pytest.raises(InputError, match="ColorClass"):
        ColorClass(np.zeros(2), np.eye(3), 1)
    unknown = ColorModel(None, None)
    assert np.all(unknown.lip_probability(lab[:4]) == 0.5)


def test_a_mouth_covered_completely_gives_no_classes():
    """Everything around the mouth under an occluder: no samples, no classes, no error."""
    from arlens.scene.colors import face_color_model, mouth_box, to_features
    from tests.lenses.conftest import load_still

    image, face = load_still("astronaut", "astronaut.png")
    box = mouth_box(face.landmarks, image.shape)
    covered = np.ones((box[3] - box[1], box[2] - box[0]), np.float32)
    model = face_color_model(image, face.landmarks, covered, box)
    assert model.skin is None and model.lip is None and model.separation == 0.0
    assert to_features(np.zeros((0, 3), np.uint8)).shape == (0, 3)
