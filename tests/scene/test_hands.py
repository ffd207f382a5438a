"""Hand silhouettes: the landmark outline, refined on the image, against the hand photos' known mattes."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.scene import Scene
from arlens.scene import hands as S
from arlens.tracking.results import Hand


@pytest.mark.parametrize("which", ["palm", "pointing"])
def test_refined_mask_matches_the_matte(request, hard_scenes, which):
    """On black, the hand's matte is known: the refined mask misses or adds at most 1.5% of it, the landmark
    silhouette alone about ten times that."""
    image, hand = request.getfixturevalue(which)
    truth = hard_scenes.cutout(image, erode=0) > 0.5
    box = (0, 0, image.shape[1], image.shape[0])
    refined = Scene(image, hands=[hand]).hand(0).mask(box) > 0.5
    prior = S.hand_prior(hand, box) > 0.5
    wrong = int((refined != truth).sum())
    assert wrong <= 0.015 * truth.sum(), wrong / truth.sum()
    assert int((prior != truth).sum()) > 4 * wrong


def test_unrefined_mask_is_the_landmark_silhouette(palm):
    image, hand = palm
    box = (100, 200, 500, 700)
    assert np.array_equal(S.hand_mask(image, hand, box, refine=False), S.hand_prior(hand, box))


def test_covers_agrees_with_the_raster(palm):
    """The analytic point test (used for mesh vertices) and the raster agree away from the outline."""
    image, hand = palm
    ys, xs = np.mgrid[0 : image.shape[0] : 7, 0 : image.shape[1] : 7]
    prior = S.hand_prior(hand, (0, 0, image.shape[1], image.shape[0]))
    inside = S.covers(hand, np.c_[xs.ravel() + 0.5, ys.ravel() + 0.5])
    raster = prior[ys.ravel(), xs.ravel()]
    sure = (raster < 0.05) | (raster > 0.95)
    assert (inside[sure] == (raster[sure] > 0.5)).mean() > 0.995


def test_hand_off_frame_or_broken(palm):
    image, hand = palm
    away = Hand(hand.landmarks + np.float32([5000, 0, 0]), hand.handedness, 1.0, hand.bbox)
    assert S.hand_box(away, image.shape) == (image.shape[1], 0, image.shape[1], image.shape[0]) or \
        S.hand_box(away, image.shape)[2] <= S.hand_box(away, image.shape)[0]
    assert not Scene(image, hands=[away]).hand(0).mask((0, 0, 50, 50)).any()
    broken = Hand(np.full((21, 3), np.nan, np.float32), "Left", 1.0, hand.bbox)
    assert not S.covers(broken, np.zeros((3, 2))).any()
    assert not Scene(image, hands=[broken]).occlusion((0, 0, 40, 40)).any()


def test_finger_width_from_3d_size(palm):
    """The mean finger width is measured from the photo's fingers (66-81 px at the middle phalanges)."""
    _, hand = palm
    assert 65 < S.finger_width(hand) < 82
