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
    from arlens.errors import InputError

    with pytest.raises(InputError, match="Hand.landmarks"):  # a broken hand cannot be made (issue #24)
        Hand(np.full((21, 3), np.nan, np.float32), "Left", 1.0, hand.bbox)


@pytest.mark.parametrize("which", ["palm", "pointing"])
def test_a_close_up_hands_outline_distance_at_half_resolution(request, monkeypatch, which):
    """A hand with fingers wider than ``HALF_RES_FINGER`` measures its distance to the outline on every second
    pixel: the refined mask stays within 0.15 of the full-resolution one (the prior moves by well under half
    a log-odds unit; the colours decide the edge), and its edge moves on under 0.1% of the hand's pixels."""
    image, hand = request.getfixturevalue(which)
    assert S.finger_width(hand) >= S.HALF_RES_FINGER  # the photos' hands are close-ups
    box = (0, 0, image.shape[1], image.shape[0])
    half = S.hand_mask(image, hand, box)
    monkeypatch.setattr(S, "HALF_RES_FINGER", float("inf"))
    full = S.hand_mask(image, hand, box)
    assert not np.array_equal(half, full)  # the half-resolution path ran
    assert float(np.abs(half - full).max()) < 0.15
    assert int(((half > 0.5) != (full > 0.5)).sum()) < 0.001 * (full > 0.5).sum()


def test_finger_width_from_3d_size(palm):
    """The mean finger width is measured from the photo's fingers (66-81 px at the middle phalanges)."""
    _, hand = palm
    assert 65 < S.finger_width(hand) < 82


@pytest.mark.parametrize("scale", [1.0, 2000.0])
@pytest.mark.parametrize("shape", [(1, 1, 3), (48, 64, 3)])
def test_a_hand_at_the_coordinate_bound_has_a_silhouette(palm, scale, shape):
    """Found by tests/fuzz (issue #24, shrunk: one landmark at x = 1e6 on a 1x1 frame): the silhouette's line
    widths passed OpenCV's 32,767 and cv2.line asserted, failing the nail lens on a valid Hand."""
    from arlens.lenses.nails import NailPolishLens

    _, hand = palm
    lm = hand.landmarks.astype(np.float64)
    lm[:, :2] = (lm[:, :2] - lm[:, :2].mean(axis=0)) * scale + 10
    lm[:, 2] *= scale
    lm = np.clip(lm, -1e6, 1e6)
    lm[0, 0] = 1e6
    far = Hand(lm.astype(np.float32), "Left", 1.0, hand.bbox)
    frame = np.full(shape, 120, np.uint8)
    assert S.hand_prior(far, (0, 0, shape[1], shape[0])).shape == shape[:2]
    assert NailPolishLens(color="#1F5FBF").render(frame, [far]).shape == shape


def test_colours_are_learned_only_where_the_edge_is_looked_at(palm):
    """A box the silhouette misses, or one deep inside the palm (farther than ``COLOR_REACH`` finger widths from
    the outline), is decided by the landmarks alone: the hand's colour classes are not learned for it (a hand
    beside a mouth costs no colour fit); a box across the outline learns them."""
    image, hand = palm
    hs = Scene(image, hands=[hand]).hand(0)
    centre = hand.landmarks[[0, 5, 9, 13, 17], :2].mean(axis=0)
    x, y = int(centre[0]), int(centre[1])
    assert hs.mask((x - 3, y - 3, x + 3, y + 3)).min() > 0.99
    x0, y0 = hs.box[:2]
    assert not hs.mask((x0, y0, x0 + 5, y0 + 5)).any()
    assert "colors" not in vars(hs)  # cached_property: present once computed
    across = hs.mask(hs.box)
    assert "colors" in vars(hs)
    # the same mask as with the classes handed over up front
    assert np.array_equal(across, S.hand_mask(image, hand, hs.box, True, hs.colors, hs.box))


def test_a_partial_mask_holds_the_needed_pixels(palm):
    """``need`` (the pixels a lens reads) skips the colours elsewhere: the needed pixels keep the whole mask's
    values, the others fall back to the landmark prior's refinement, and the partial map is not cached (the
    next caller without ``need`` gets the whole one)."""
    image, hand = palm
    scene = Scene(image, hands=[hand])
    hs = scene.hand(0)
    box = hs.box
    whole = S.hand_mask(image, hand, box)
    h, w = whole.shape
    need = np.zeros((h, w), bool)
    need[h // 3 : h // 2, w // 4 : 3 * w // 4] = True  # a band across the fingers and their edges
    calls = []
    partial = scene.occlusion(box, need=lambda: calls.append(1) or need)
    assert calls == [1]  # a close-up hand's box has far more than NEED_MIN_PIXELS near its outline
    # the same operations on the same pixels; the colour transforms' SIMD tails may round differently by an ulp
    assert np.allclose(partial[need], whole[need], rtol=0, atol=1e-6)
    assert not np.allclose(partial, whole, rtol=0, atol=1e-3)  # elsewhere the colours were not looked at
    assert np.allclose(scene.occlusion(box), whole, rtol=0, atol=1e-6)  # not the partial map from the cache
    # below NEED_MIN_PIXELS the whole mask is made (need is not even asked for)
    small = (box[0], box[1], box[0] + 40, box[1] + 40)
    calls.clear()
    out = Scene(image, hands=[hand]).occlusion(small, need=lambda: calls.append(1) or need[:40, :40])
    assert calls == []
    assert np.allclose(out, S.hand_mask(image, hand, small), rtol=0, atol=1e-6)
