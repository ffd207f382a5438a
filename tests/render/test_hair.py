"""Hair over the face told from the skin by the face's own skin colour."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arlens.render.hair import HairModel, hair_class, hair_classes, hair_classes_of, hair_probability, sheen_weight
from arlens.scene import Scene
from arlens.scene.colors import ColorClass, to_features


def _bgr_of(features: np.ndarray) -> np.ndarray:
    """uint8 BGR pixels of colour-model coordinates (L, a and b times 60 / (L + 16))."""
    import cv2

    lab = features.astype(np.float32).copy()
    lab[:, 1:] *= (lab[:, :1] + 16.0) / 60.0
    bgr = cv2.cvtColor(lab.reshape(1, -1, 3), cv2.COLOR_Lab2BGR).reshape(-1, 3)
    return np.clip(np.rint(bgr * 255.0), 0, 255).astype(np.uint8)


def test_skin_is_skin_and_dark_or_odd_hair_is_not():
    skin = ColorClass(np.float32([62.0, 20.0, 18.0]), np.diag([60.0, 9.0, 9.0]).astype(np.float32), 500)
    rng = np.random.default_rng(0)
    samples = rng.multivariate_normal(skin.mean, skin.covariance, 3000)
    samples[:, 0] = np.clip(samples[:, 0], 5, 95)
    skin_px = _bgr_of(samples)
    p_skin = hair_probability(skin_px, skin)
    assert (p_skin < 0.1).mean() > 0.97  # shading moves lightness, which a skin class expects
    shade = samples.copy()
    shade[:, 0] -= 20  # deeper shadow than the class's spread: its chroma is still the skin's
    assert (hair_probability(_bgr_of(shade), skin) < 0.5).mean() > 0.9
    dark = _bgr_of(np.float32([[8.0, 2.0, 4.0], [15.0, 5.0, 8.0]]))  # black and dark brown hair
    grey = _bgr_of(np.float32([[60.0, 0.0, 1.0]]))  # grey hair as light as the skin
    assert (hair_probability(dark, skin) > 0.9).all() and (hair_probability(grey, skin) > 0.9).all()
    assert hair_probability(dark, None) is None


def test_a_hair_class_is_learned_above_the_forehead(portraits):
    """On the astronaut the band above the forehead is her hair: the class learned there is the hair's colour; with
    it her hair's colour is hair and her skin's is skin."""
    name, image, face = portraits[0]
    skin = Scene(image, [face]).face(face).colors.skin
    hair = hair_class(image, face.landmarks, skin)
    assert hair is not None and hair.count >= 12
    assert hair.mean[0] < skin.mean[0] - 10  # darker than her skin
    hair_px = _bgr_of(hair.mean[None].astype(np.float32))
    skin_px = _bgr_of(skin.mean[None].astype(np.float32))
    assert hair_probability(hair_px, skin, hair)[0] > 0.9 and hair_probability(skin_px, skin, hair)[0] < 0.1
    assert float(to_features(hair_px)[0, 0]) < skin.mean[0]


def test_a_hair_model_gives_hair_probability_in_fewer_passes(portraits):
    """HairModel (the make-up lenses' per-face model) gives hair_probability's values over the whole astronaut, with
    her hair class and without: the same formula with its sums in another order (OpenCV's transforms), so float32
    rounding apart (1e-5 of a probability: the log odds pass through exp, a few ulps of 30 at most)."""
    name, image, face = portraits[0]
    skin = Scene(image, [face]).face(face).colors.skin
    hair = hair_class(image, face.landmarks, skin)
    for h in (None, hair):
        expected = hair_probability(image, skin, h)
        got = HairModel(skin, h).probability(image)
        assert got.shape == expected.shape and got.dtype == np.float32
        assert np.abs(got - expected).max() <= 1e-5
        assert (expected > 0.5).any() and (expected < 0.5).any()  # both hair and skin were compared
    assert HairModel(skin, hair).probability(image[:0]).shape == (0, image.shape[1])


def _cloud(mean, std, n: int, seed: int) -> np.ndarray:
    """uint8 BGR of ``n`` colours scattered around colour-model ``mean`` by ``std`` (per coordinate)."""
    rng = np.random.default_rng(seed)
    f = np.asarray(mean, np.float64) + rng.normal(size=(n, 3)) * np.asarray(std, np.float64)
    f[:, 0] = np.clip(f[:, 0], 1.0, 99.0)
    return _bgr_of(f.astype(np.float32))


def test_the_band_is_learned_as_hair_and_background_but_not_the_skin_in_shadow():
    """The band above the forehead holds black hair and, beside it, what else is there. A light wall is a colour of
    its own (two classes, each as tight as its colours: the old single class of both spanned the skin in shadow
    between them). The skin in shadow (darker, of the skin's hue, more saturated as a deep skin's shadows are) is
    not hair: one class, the black hair's. Golden hair lighter than the dark hair but off the skin's hue stays."""
    skin = ColorClass(np.float32([62.0, 10.0, 12.0]), np.diag([110.0, 16.0, 16.0]).astype(np.float32), 500)
    black = _cloud([8.0, 1.0, 3.0], [3.0, 1.0, 1.0], 60, 1)
    on_skin = _cloud(skin.mean, [4.0, 1.5, 1.5], 150, 2)  # the band's forehead and temples: gated out
    hue = np.arctan2(12.0, 10.0)
    for lighter, kept in (
        (_cloud([88.0, 0.0, 0.5], [2.0, 0.5, 0.5], 50, 3), True),  # a light grey wall
        (_cloud([26.0, 28.0 * np.cos(hue), 28.0 * np.sin(hue)], [3.0, 1.5, 1.5], 45, 4), False),  # skin in shadow
        (_cloud([40.0, 3.0, 28.0], [3.0, 1.5, 1.5], 45, 5), True),  # golden hair, 30 degrees off the skin's hue
    ):
        classes = hair_classes_of(np.concatenate([black, on_skin, lighter]), skin)
        assert len(classes) == (2 if kept else 1)
        darkest = min(classes, key=lambda c: float(c.mean[0]))
        assert darkest.mean[0] < 15 and np.sqrt(darkest.covariance[0, 0]) < 6  # the hair's own spread, not the band's
        lighter_px = lighter[:20]
        p = hair_probability(lighter_px, skin, classes)
        if kept:  # the band's other colour stays explained by a class of its own
            assert (p > 0.9).all()
        else:  # the skin in shadow: a hair class spanning it would call it hair
            assert (p < 0.5).mean() > 0.9 and (hair_probability(lighter_px, skin, _one_class_of_all(
                np.concatenate([black, on_skin, lighter]), skin)) > 0.5).mean() > 0.9


def _one_class_of_all(pixels: np.ndarray, skin: ColorClass) -> ColorClass:
    """One class of every non-skin pixel of the band (what the make-up lenses learned before the split)."""
    from arlens.render.hair import hair_class_of

    out = hair_class_of(pixels, skin)
    assert out is not None
    return out


def test_hair_classes_of_the_portraits(portraits):
    """On each portrait the band gives one or two classes, the darkest darker than the skin (the hair); a hair model
    of them gives hair_probability's values (float32 rounding apart, as for one class)."""
    for name, image, face in portraits:
        skin = Scene(image, [face]).face(face).colors.skin
        classes = hair_classes(image, face.landmarks, skin)
        assert 1 <= len(classes) <= 2, name
        assert min(float(c.mean[0]) for c in classes) < skin.mean[0] - 10, name
        expected = hair_probability(image, skin, classes)
        assert np.abs(HairModel(skin, classes).probability(image) - expected).max() <= 1e-5, name


def _lit(features: np.ndarray, white: float, shade: float = 1.0) -> np.ndarray:
    """uint8 BGR of a colour seen under a highlight: its linear RGB times ``shade`` plus ``white`` of white light."""
    from arlens.render.color import SRGB_TO_LINEAR_LUT

    lin = np.clip(SRGB_TO_LINEAR_LUT[_bgr_of(features)].astype(np.float64) * shade + white, 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(srgb * 255.0), 0, 255).astype(np.uint8)


def test_the_skin_under_a_highlight_is_skin_not_hair():
    """A highlight adds white light to the skin: lighter and greyer, the same hue. With a hair class learned from a
    light grey wall above the head (the talking head turned to the light: her lit cheek was taken for hair and left
    without foundation), the skin lit by 0.15 to 0.5 of white is skin; grey and white hair, the wall itself, a golden
    and a platinum strand stay hair."""
    skin = ColorClass(np.float32([55.0, 12.4, 14.0]), np.diag([82.0, 17.8, 9.6]).astype(np.float32), 250)
    wall = ColorClass(np.float32([78.4, 1.05, 1.97]), np.diag([346.0, 22.3, 15.0]).astype(np.float32), 96)
    model = HairModel(skin, wall)
    lit = np.concatenate([_lit(skin.mean[None], w, k) for w in (0.15, 0.2, 0.3, 0.4, 0.5) for k in (1.0, 1.5)])
    assert (skin.mahalanobis2(to_features(lit)) > 12.0).mean() >= 0.5  # half lie past the skin class's 99%
    assert (sheen_weight(lit, skin) > 0.9).all()
    assert hair_probability(lit, skin, wall).max() < 0.05 and model.probability(lit).max() < 0.05
    others = _bgr_of(np.float32([[60.0, 0.0, 1.0], [85.0, 0.5, 1.5], [80.0, 1.0, 2.0], [55.0, 5.0, 30.0],
                                 [80.0, 3.0, 12.0]]))  # grey, white, the wall, golden, platinum
    assert sheen_weight(others, skin).max() < 0.05
    assert hair_probability(others, skin, wall).min() > 0.85 and model.probability(others).min() > 0.85
    grey_skin = ColorClass(np.float32([55.0, 1.0, 1.0]), skin.covariance, 250)  # no hue to keep: nothing is its sheen
    assert not sheen_weight(lit, grey_skin).any()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(0, 400), st.integers(0, 2**32 - 1), st.sampled_from(["noise", "two", "flat"]))
def test_hair_classes_of_any_band(n, seed, kind):
    """Any band of pixels (none, a few, all alike, noise, two colours): at most two classes, finite and usable by a
    hair model, whose probabilities stay in 0..1."""
    rng = np.random.default_rng(seed)
    if kind == "flat":
        pixels = np.full((n, 3), rng.integers(0, 256, 3), np.uint8)
    elif kind == "two":
        pixels = rng.integers(0, 256, (2, 3)).astype(np.uint8)[rng.integers(0, 2, n)]
    else:
        pixels = rng.integers(0, 256, (n, 3)).astype(np.uint8)
    skin = ColorClass(np.float32([62.0, 10.0, 12.0]), np.diag([110.0, 16.0, 16.0]).astype(np.float32), 500)
    for s in (skin, None):
        classes = hair_classes_of(pixels, s)
        assert isinstance(classes, tuple) and len(classes) <= 2
        for c in classes:
            assert np.isfinite(c.mean).all() and np.isfinite(c.covariance).all() and c.count >= 1
    p = HairModel(skin, hair_classes_of(pixels, skin)).probability(rng.integers(0, 256, (50, 3)).astype(np.uint8))
    assert p.shape == (50,) and np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
