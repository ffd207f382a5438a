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


@pytest.mark.parametrize("light", ["neutral", "dim", "warm", "cool"])
def test_grey_point_is_where_grey_lies_under_the_light(light):
    """A grey surface lit by per-channel gains has the colour-model chroma :func:`grey_point` gives for a light of
    that colour, at any grey level. Within 1 unit: a grey level of one step in one uint8 channel moves the chroma
    by 0.3-0.5 at these levels, and lightness-relative chroma shifts a little with lightness; the grey rule's
    scale is the skin's distance from grey, 11.5 or more on the test faces."""
    from arlens.scene.colors import grey_point
    from tests.support import benchmarks_module

    hs = benchmarks_module("hard_scenes")
    gains = (1.0, 1.0, 1.0) if light == "neutral" else hs.LIGHTS[light]
    for level in (70, 140, 210):
        patch = hs.apply_light(np.full((4, 4, 3), level, np.uint8), gains)
        seen = to_features(patch).reshape(-1, 3)[:, 1:].mean(axis=0)
        np.testing.assert_allclose(grey_point(np.asarray(gains)), seen, atol=1.0, err_msg=f"{light} {level}")


def test_grey_weights_leave_grey_out_and_skin_in():
    """Grey weighs 0 and the skin's own chroma 1, linearly between ``GREY_SHARE`` of the skin's distance from grey;
    no rule without a grey point or where the skin itself is near grey."""
    from arlens.scene.colors import GREY_SHARE, MIN_SKIN_CHROMA, grey_weights

    grey = np.float32([2.0, 10.0])  # a warm light's grey
    skin_ab = grey + np.float32([12.0, 9.0])  # 15 from grey
    lo, hi = GREY_SHARE
    lab = np.float32([[60, *grey], [60, *skin_ab], [40, *(grey + 15 * 0.5 * (lo + hi) * np.float32([0.0, 1.0]))],
                      [60, *(grey - np.float32([0.0, 15 * lo * 0.5]))]])
    np.testing.assert_allclose(grey_weights(lab, grey, skin_ab), [0.0, 1.0, 0.5, 0.0], atol=1e-5)
    assert grey_weights(lab, None, skin_ab) is None
    near = grey + np.float32([0.5 * MIN_SKIN_CHROMA, 0.0])
    assert grey_weights(lab, grey, near) is None
    skin = ColorClass(np.float32([60, *skin_ab]), np.diag(np.float32([25.0, 4.0, 4.0])), 100)
    np.testing.assert_allclose(ColorModel(skin, None, grey=list(grey)).not_grey(lab), [0.0, 1.0, 0.5, 0.0], atol=1e-5)
    assert ColorModel(skin, None).not_grey(lab) is None and ColorModel(None, None, grey=grey).not_grey(lab) is None
    for bad in ([1.0], [np.nan, 0.0], "grey"):
        with pytest.raises(InputError, match="ColorModel.grey"):
            ColorModel(skin, None, grey=bad)


def test_a_white_cup_is_not_learned_as_skin(hard_scenes):
    """The talking head's first frame (a deep skin tone in strong side light: her skin around the mouth spreads
    widely) with a white cup over half the mouth: without the grey rule her skin class takes the cup in (its mean
    pulled 4-5 units of chroma toward grey and 11 of lightness toward white, nothing foreign); with the scene's
    grey point the class is the one learned without the cup, the cup's pixels are grey, and the samples count
    foreign, which sends the object search after the cup. "The one learned without the cup" means within a fifth
    of the class's own spread on each axis (the cup hides half the ring, so the class sees less of her lit side:
    0.14 of a spread darker); the blind class is off by 0.65 to 1.1 spreads."""
    from arlens.scene.colors import face_color_model, grey_point, skin_reference
    from arlens.scene.objects import MIN_FOREIGN
    from arlens.tracking.results import Face, bbox_of
    from tests.support import read_frames, reference

    lm = reference("talking_head")["face_mesh_478"][0].astype(np.float32)
    face = Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))
    frame = read_frames("faces/talking_head.gif")[0]
    comp = hard_scenes.object_over_mouth(frame, face, "white_cup", cover=0.5)
    cup = to_features(comp.image[comp.truth > 0.99])

    def model(image, rule):
        grey = grey_point(Scene(image, [face]).face(0).light.color) if rule else None
        return face_color_model(image, lm, reference=skin_reference(image, lm), grey=grey), grey

    clean, _ = model(frame, True)
    blind, _ = model(comp.image, False)
    seeing, grey = model(comp.image, True)
    assert np.abs(blind.skin.mean[1:] - clean.skin.mean[1:]).max() > 3.0 and blind.foreign < MIN_FOREIGN
    spread = np.sqrt(np.diag(clean.skin.covariance))
    assert (np.abs(blind.skin.mean - clean.skin.mean) > 0.5 * spread).all()
    assert (np.abs(seeing.skin.mean - clean.skin.mean) <= 0.2 * spread).all(), (seeing.skin.mean, clean.skin.mean)
    assert seeing.foreign > 10 * MIN_FOREIGN
    np.testing.assert_array_equal(seeing.grey, grey)
    assert blind.grey is None
    assert (seeing.not_grey(cup) < 0.5).mean() > 0.9  # grey, where the rule draws the line
