"""Hair over the face, told from the skin by the face's own skin colour.

Make-up goes on skin; a fringe over the forehead or a strand across a cheek must stay as it is. The
landmarks cannot say where hair falls, and a person/background mask (the scene's segmentation, where it has one)
counts hair as person. The skin's colour can: the scene learns each face's skin as a Gaussian class in CIELAB with
lightness-relative chroma (:class:`arlens.scene.ColorModel`), in which shading moves a pixel along lightness only.
A pixel is hair (or anything else that is not this skin: a glasses frame, a beard) when

- its two chroma coordinates are far from the skin's (the class's own Mahalanobis distance over them: blond and
  grey hair, whose lightness may be the skin's), or
- it is darker than the skin by more than ``DARK_STDS`` of the skin's own lightness spread (dark hair: shadows on
  the skin keep its chroma and rarely fall that far),

the two added as squared distances and turned into a probability by a smooth ramp (``RAMP``). A pixel lighter than
the skin and of its hue but greyer is the skin under a highlight, not hair (:func:`sheen_weight`). Written here
(numpy and OpenCV's colour conversion) because it is a few lines over the scene's classes; a segmentation model that
told hair from skin would replace it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from arlens.scene import colors as SC

#: Darker than the skin's mean lightness by more than this many of its standard deviations counts towards hair.
DARK_STDS = 2.5
#: Squared distance (chroma Mahalanobis plus the darkness beyond ``DARK_STDS``, in standard deviations) at which a
#: pixel starts to count as hair, and at which it is hair for certain (chi-square with two degrees of freedom: 99%
#: and far beyond).
RAMP = (12.0, 30.0)
#: Skin under a highlight (:func:`sheen_weight`): the specular light adds white to the skin's colour, which keeps its
#: hue and lightens and greys it. Such a pixel is taken for skin when it is lighter than the skin's mean by ``[0]``
#: standard deviations of its lightness (in full from ``[1]``) ...
SHEEN_LIGHTER = (0.5, 1.5)
#: ... keeps a share of the skin's chroma along the skin's hue from ``[0]`` (greyer: grey or white hair, a white wall)
#: in full from ``[1]`` to ``[2]``, none beyond ``[3]`` (more saturated than the skin: no highlight does that) ...
SHEEN_SHARE = (0.15, 0.3, 1.1, 1.3)
#: ... and lies off the skin's hue line by at most ``[0]`` of the skin's own chroma spread across it (in full), ``[1]``
#: (none). On the talking head turned to the light, the lit cheek by the ear lies 2.5-2.7 standard deviations above
#: the skin's lightness with 0.31-0.39 of its chroma, 0.33-0.58 of a spread off its hue (a hair class learned from the
#: light wall above her head took it for hair, and foundation left it bare); the astronaut's golden fringe is darker
#: than her skin and more saturated, grey hair has under a tenth of a skin's chroma, and a platinum strand as light
#: as that cheek lies 1.6 spreads off the hue.
SHEEN_OFF_HUE = (0.8, 1.5)
#: Skin chroma (colour-model units) under which the skin has no hue to keep and nothing is taken for its highlight.
SHEEN_MIN_CHROMA = 3.0


def hair_probability(bgr: np.ndarray, skin: SC.ColorClass | None,
                     hair: SC.ColorClass | Sequence[SC.ColorClass] | None = None) -> np.ndarray | None:
    """How likely each pixel is hair (or anything but this face's skin) rather than skin: float32 shaped like
    ``bgr`` without its last axis, 0..1; None without a skin class.

    Args:
        bgr: uint8 (..., 3) BGR pixels.
        skin: the face's skin class (``FaceScene.colors.skin``).
        hair: the face's hair class (:func:`hair_class`) or classes (:func:`hair_classes`), if known: a pixel the skin
            explains less well than the hair (by the classes' likelihoods; the likeliest hair class of several) is
            hair too, where the skin explains it poorly enough (``SKIN_GATE``): hair of the skin's own colour range
            but not its spread (golden hair on light skin, light hair on deep skin).
    """
    if skin is None:
        return None
    shape = bgr.shape[:-1]
    f = SC.to_features(bgr).reshape(-1, 3)
    hairs = _as_classes(hair)
    if hairs:
        log_skin = skin.log_density(f)
        # the skin's squared distance from its log density: its peak is at its mean
        d2_skin = (skin.log_density(skin.mean[None]) - log_skin) * np.float32(2.0)
        log_hair = hairs[0].log_density(f)
        for other in hairs[1:]:
            np.maximum(log_hair, other.log_density(f), out=log_hair)
        z = np.clip(log_skin - log_hair, -30.0, 30.0)  # log odds of skin over the likeliest hair
        by_class = np.float32(1.0) / (np.float32(1.0) + np.exp(z))
        gate = np.clip((d2_skin - np.float32(SKIN_GATE[0])) * np.float32(1.0 / (SKIN_GATE[1] - SKIN_GATE[0])), 0.0, 1.0)
        by_class *= gate
    mean = skin.mean.astype(np.float32)
    cov = skin.covariance.astype(np.float64)
    (caa, cab), (_, cbb) = cov[1:, 1:]
    det = caa * cbb - cab * cab  # the chroma block's inverse (MIN_STD keeps it positive definite)
    inv = np.float32([[cbb, -cab], [-cab, caa]]) / np.float32(det)
    da = f[:, 1] - mean[1]
    db = f[:, 2] - mean[2]
    d2 = da * da * inv[0, 0]
    d2 += db * db * inv[1, 1]
    d2 += da * db * np.float32(2.0 * inv[0, 1])
    dark = (mean[0] - f[:, 0]) * np.float32(1.0 / np.sqrt(cov[0, 0])) - np.float32(DARK_STDS)
    np.maximum(dark, 0.0, out=dark)
    dark *= dark
    d2 += dark
    t = (d2 - np.float32(RAMP[0])) * np.float32(1.0 / (RAMP[1] - RAMP[0]))
    np.clip(t, 0.0, 1.0, out=t)
    p = t * t * (np.float32(3.0) - np.float32(2.0) * t)
    if hairs:
        np.maximum(p, by_class, out=p)
    sheen = _sheen_affine(skin)
    if sheen is not None and len(f):
        p *= np.float32(1.0) - _sheen_of(f, sheen)
    return p.reshape(shape)


def _sheen_affine(skin: SC.ColorClass) -> np.ndarray | None:
    """float32 (3, 4) affine map of colour-model coordinates to (lightness above the skin's mean in its standard
    deviations, share of the skin's chroma along its hue, offset from its hue line in its chroma spread across it);
    None for a skin without a hue (:data:`SHEEN_MIN_CHROMA`)."""
    mean = skin.mean.astype(np.float64)
    cov = skin.covariance.astype(np.float64)
    chroma = float(np.hypot(mean[1], mean[2]))
    if chroma < SHEEN_MIN_CHROMA:
        return None
    along = mean[1:] / chroma
    across = np.array([-along[1], along[0]])
    spread = math.sqrt(max(float(across @ cov[1:, 1:] @ across), float(SC.MIN_STD[1]) ** 2))
    std = math.sqrt(max(float(cov[0, 0]), float(SC.MIN_STD[0]) ** 2))
    affine = np.zeros((3, 4))
    affine[0, 0], affine[0, 3] = 1.0 / std, -mean[0] / std
    affine[1, 1:3] = along / chroma
    affine[2, 1:3] = across / spread
    return affine.astype(np.float32)


def _ramp_up(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = (x - np.float32(lo)) * np.float32(1.0 / (hi - lo))
    np.clip(t, 0.0, 1.0, out=t)
    return t


def _sheen_of(features: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """float32 (n,): how surely each of n pixels (float32 colour-model coordinates, n x 3 in any shape) is the skin
    under a highlight, by the skin's :func:`_sheen_affine` ``affine``."""
    y = cv2.transform(features.reshape(1, -1, 3), affine).reshape(-1, 3)
    w = _ramp_up(y[:, 0], *SHEEN_LIGHTER)
    share = y[:, 1]
    w *= _ramp_up(share, SHEEN_SHARE[0], SHEEN_SHARE[1])
    w *= np.float32(1.0) - _ramp_up(share, SHEEN_SHARE[2], SHEEN_SHARE[3])
    w *= np.float32(1.0) - _ramp_up(np.abs(y[:, 2]), *SHEEN_OFF_HUE)
    return w


def sheen_weight(bgr: np.ndarray, skin: SC.ColorClass) -> np.ndarray:
    """How surely each pixel is this skin under a highlight (float32 shaped like ``bgr``, uint8 (..., 3), without its
    last axis; 0..1): lighter than the skin's mean (``SHEEN_LIGHTER``), with a share of its chroma along its hue
    (``SHEEN_SHARE``: specular light adds white, which greys a colour without turning its hue) and close to its hue
    line (``SHEEN_OFF_HUE``). Hair probabilities are scaled down by it."""
    shape = bgr.shape[:-1]
    sheen = _sheen_affine(skin)
    if sheen is None:
        return np.zeros(shape, np.float32)
    f = SC.to_features(bgr)
    if f.size == 0:
        return np.zeros(shape, np.float32)
    return _sheen_of(f, sheen).reshape(shape)


class HairModel:
    """:func:`hair_probability` of one face's skin and hair classes, its matrices made once (a face's hair is looked
    for two or three times a frame: on coarse cells, then at its edges) and its arithmetic in fewer passes: the
    chroma distance and the darkness as one affine ``cv2.transform`` of the features (the chroma block's whitening
    and the lightness's scaling, the means folded in), their squares summed and the ramp's scaling folded into a
    second; the skin's and hair's squared distances from their whitenings (:attr:`ColorClass.whitening`), the log
    odds and the gate as transforms of those. The same values as :func:`hair_probability` to float32 rounding
    (summed in another order)."""

    def __init__(self, skin: SC.ColorClass, hair: SC.ColorClass | Sequence[SC.ColorClass] | None = None) -> None:
        mean = skin.mean.astype(np.float64)
        cov = skin.covariance.astype(np.float64)
        # the chroma block's Cholesky factor's inverse: |W2 (ab - mean)|^2 is its Mahalanobis distance
        (caa, cab), (_, cbb) = cov[1:, 1:]
        c00 = np.sqrt(caa)
        c10 = cab / c00
        c11 = np.sqrt(max(cbb - c10 * c10, 1e-12))
        w2 = np.array([[1.0 / c00, 0.0], [-c10 / (c00 * c11), 1.0 / c11]])
        std = np.sqrt(cov[0, 0])
        affine = np.zeros((3, 4))
        affine[:2, 1:3] = w2
        affine[:2, 3] = -w2 @ mean[1:]
        affine[2, 0] = -1.0 / std  # the darkness beyond DARK_STDS, in standard deviations
        affine[2, 3] = mean[0] / std - DARK_STDS
        self._affine = affine.astype(np.float32)
        scale = 1.0 / (RAMP[1] - RAMP[0])
        self._ramp = np.float32([[scale, scale, scale, -RAMP[0] * scale]])
        self._sheen = _sheen_affine(skin)
        self._hairs: list[tuple[np.ndarray, np.ndarray]] = []
        hairs = _as_classes(hair)
        if hairs:
            # log odds of skin over each hair class: -(d2_skin - d2_hair) / 2 + the log normalisers' difference
            peak = float(skin.log_density(skin.mean[None])[0])
            self._skin_whitening = skin.whitening
            for h in hairs:
                odds = peak - float(h.log_density(h.mean[None])[0])
                self._hairs.append((h.whitening, np.float32([[-0.5, -0.5, -0.5, odds]])))
            gate = 1.0 / (SKIN_GATE[1] - SKIN_GATE[0])
            self._gate = np.float32([[gate, gate, gate, -SKIN_GATE[0] * gate]])

    def probability(self, bgr: np.ndarray) -> np.ndarray:
        """float32 shaped like ``bgr`` (uint8 (..., 3)) without its last axis: how likely each pixel is hair."""
        shape = bgr.shape[:-1]
        f = SC.to_features(bgr).reshape(1, -1, 3)
        if f.shape[1] == 0:
            return np.zeros(shape, np.float32)
        y = cv2.transform(f, self._affine)
        dark = y[..., 2]
        np.maximum(dark, np.float32(0.0), out=dark)
        t = cv2.transform(cv2.multiply(y, y), self._ramp)  # (d2 - RAMP[0]) / (RAMP[1] - RAMP[0])
        np.clip(t, 0.0, 1.0, out=t)
        p = t * t
        p *= np.float32(3.0) - np.float32(2.0) * t
        if self._hairs:
            ys = cv2.transform(f, self._skin_whitening)
            ys = cv2.multiply(ys, ys)
            z = None
            for wh, odds in self._hairs:  # the log odds of skin over the likeliest hair class
                yh = cv2.transform(f, wh)
                zk = cv2.transform(ys, odds)
                zk += np.float32(0.5) * cv2.transform(cv2.multiply(yh, yh), _SUM3)
                z = zk if z is None else np.minimum(z, zk, out=z)
            np.clip(z, -30.0, 30.0, out=z)
            by_class = np.exp(z)
            by_class += np.float32(1.0)
            np.reciprocal(by_class, out=by_class)
            gate = cv2.transform(ys, self._gate)
            np.clip(gate, 0.0, 1.0, out=gate)
            by_class *= gate
            np.maximum(p, by_class, out=p)
        if self._sheen is not None:
            p *= np.float32(1.0) - _sheen_of(f, self._sheen).reshape(p.shape)
        return p.reshape(shape)


#: sums a transform's three channels (:meth:`HairModel.probability`)
_SUM3 = np.float32([[1.0, 1.0, 1.0]])


#: The band above the forehead the hair's colour is learned from: this far outside the face outline's upper half,
#: in inter-ocular distances.
HAIR_BAND = (0.12, 0.5)
#: Skin's squared Mahalanobis distance (3D) below which a pixel is never called hair by the hair class alone, and
#: above which the hair class decides fully (a pixel the skin explains well stays skin however the hair looks).
SKIN_GATE = (4.0, 12.0)


def hair_class(frame: np.ndarray, landmarks: np.ndarray, skin: SC.ColorClass | None,
               band: np.ndarray | None = None) -> SC.ColorClass | None:
    """The colour of this face's hair, learned where hair usually is: a band above the forehead (``HAIR_BAND``
    outside the upper half of the face outline), the pixels there that do not look like the skin; None when too
    few are left (a bald head against a wall that looks like skin, a face at the frame's top). One class of every such
    pixel (the eyewear reads its Mahalanobis distance); the make-up lenses learn :func:`hair_classes`.

    Args:
        frame: uint8 BGR (H, W, 3).
        landmarks: float (478, 2+) the face's landmarks in pixels.
        skin: its skin class.
        band: :func:`hair_band_points` of these landmarks, if the caller has them already.
    """
    pixels = _band_pixels(frame, landmarks, band)
    return None if pixels is None else hair_class_of(pixels, skin)


def hair_class_of(pixels: np.ndarray, skin: SC.ColorClass | None) -> SC.ColorClass | None:
    """:func:`hair_class` from the band's pixels (uint8 BGR (n, 3)) already taken from the frame."""
    return SC.ColorClass.fit(_not_skin(pixels, skin))


def hair_classes(frame: np.ndarray, landmarks: np.ndarray, skin: SC.ColorClass | None,
                 band: np.ndarray | None = None) -> tuple[SC.ColorClass, ...]:
    """The colours of what lies in the band above the forehead and is not the skin (as :func:`hair_class` learns
    it), split into up to two classes (:func:`hair_classes_of`); empty when too few pixels are left."""
    pixels = _band_pixels(frame, landmarks, band)
    return () if pixels is None else hair_classes_of(pixels, skin)


def _band_pixels(frame: np.ndarray, landmarks: np.ndarray, band: np.ndarray | None) -> np.ndarray | None:
    """uint8 BGR (n, 3): the frame's pixels at the band's points (:func:`hair_band_points` unless ``band`` is
    given); None when it has fewer than 12."""
    pts = hair_band_points(landmarks, frame.shape) if band is None else band
    if pts is None or len(pts) < 12:
        return None
    return frame[pts[:, 1].astype(np.intp), pts[:, 0].astype(np.intp)]


def hair_classes_of(pixels: np.ndarray, skin: SC.ColorClass | None) -> tuple[SC.ColorClass, ...]:
    """:func:`hair_classes` from the band's pixels (uint8 BGR (n, 3)) already taken from the frame.

    The band above the forehead holds the hair and, beside a short or tied-back cut, the background (a light wall,
    a dark couch). One class of both spans everything between them: on the talking head (black hair, a light grey
    wall) it reached the shaded side of her deep-skinned face (3 standard deviations darker than her skin, with its
    chroma), and foundation left 7-16% of its area bare there on turned frames. So the band's non-skin pixels are
    split in two by colour (:func:`_two_groups`) and each group is learned as a class of its own, its majority kept
    (a robust fit): every colour of the band stays explained, by classes as tight as its colours are. The lighter of
    two groups is left out when it is the skin in shadow (:func:`_skin_in_shadow`: the band also reaches the shaded
    temples, and the blend of skin and dark hair along the hairline), and so are groups of fewer than 12 pixels."""
    groups = _two_groups(_not_skin(pixels, skin))
    if skin is not None and len(groups) == 2:
        dark, light = sorted(groups, key=lambda g: float(g[:, 0].mean()))
        if _skin_in_shadow(light.mean(axis=0), skin):
            groups = [dark]
    fits = (SC.ColorClass.fit(g, robust=True) for g in groups)
    return tuple(c for c in fits if c is not None)


#: A band group lighter than the other but darker than the skin, whose hue lies within this many degrees of the
#: skin's, is the skin in shadow (or blended with dark hair at the hairline), not hair. On the talking head's frames
#: such a group lies 0.3-12.3 degrees off her skin's hue (5-10 on the turned frames whose shaded temples foundation
#: left bare), on frontal_smile's hairline 7.8; the astronaut's lighter golden hair lies 19.5 degrees off, and the
#: clip's other lighter groups (a wall, grey couch light) 24 degrees or more, mostly with no hue at all.
SHADOW_HUE_DEG = 15.0


def _skin_in_shadow(mean: np.ndarray, skin: SC.ColorClass) -> bool:
    """Whether a band group of colour-model ``mean`` (the lighter of two) is the ``skin`` in shadow: darker than the
    skin, of the skin's hue (``SHADOW_HUE_DEG``), and with a hue to compare (both chromas at least
    ``SHEEN_MIN_CHROMA``). A deep skin's shadows keep its hue and gain chroma, so its chroma is not compared."""
    chroma = math.hypot(float(mean[1]), float(mean[2]))
    skin_chroma = math.hypot(float(skin.mean[1]), float(skin.mean[2]))
    if not float(mean[0]) < float(skin.mean[0]) or min(chroma, skin_chroma) < SHEEN_MIN_CHROMA:
        return False
    turn = math.atan2(float(mean[2]), float(mean[1])) - math.atan2(float(skin.mean[2]), float(skin.mean[1]))
    return abs(math.degrees(math.remainder(turn, 2.0 * math.pi))) <= SHADOW_HUE_DEG


def _not_skin(pixels: np.ndarray, skin: SC.ColorClass | None) -> np.ndarray:
    """float32 (n, 3) colour-model coordinates of the band's pixels the skin does not explain (``SKIN_GATE``)."""
    f = SC.to_features(pixels).reshape(-1, 3)
    if skin is not None:
        f = f[skin.mahalanobis2(f) > np.float32(SKIN_GATE[1])]
    return f


#: Rounds of :func:`_two_groups` at most (it settles in 2-5 on the band's hundred or so pixels).
_GROUP_ROUNDS = 12


def _two_groups(f: np.ndarray) -> list[np.ndarray]:
    """(n, 3) colour-model coordinates split in two by 2-means (Lloyd's rounds from the means of the darkest and the
    lightest quarter: deterministic, with no random start; a few lines on a hundred points, so no clustering
    library); one group when there are too few points or a group comes out empty."""
    n = len(f)
    if n < 24:
        return [f]
    x = f.astype(np.float64)
    order = np.argsort(x[:, 0], kind="stable")
    quarter = n // 4
    c0, c1 = x[order[:quarter]].mean(axis=0), x[order[-quarter:]].mean(axis=0)
    total = np.ones(n) @ x
    side = None
    for _ in range(_GROUP_ROUNDS):
        # nearer c1 than c0: on c1's side of the plane halfway between them (one product a round)
        new = x @ (c1 - c0) > 0.5 * (float(c1 @ c1) - float(c0 @ c0))
        if side is not None and np.array_equal(new, side):
            break
        side = new
        n1 = int(np.count_nonzero(side))
        if n1 == 0 or n1 == n:
            return [f]
        s1 = side.astype(np.float64) @ x
        c0, c1 = (total - s1) / (n - n1), s1 / n1
    return [f[~side], f[side]]


def _as_classes(hair: SC.ColorClass | Sequence[SC.ColorClass] | None) -> tuple[SC.ColorClass, ...]:
    """One hair class or several as a tuple (empty for None)."""
    if hair is None:
        return ()
    if isinstance(hair, SC.ColorClass):
        return (hair,)
    return tuple(hair)


def hair_band_points(landmarks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """float64 (n, 2) pixels inside the frame of ``shape`` in the band above the forehead where hair usually is
    (``HAIR_BAND`` outside the upper half of the face outline); None when the outline is unusable."""
    from arlens import landmarks as named
    from arlens.render.coverage import spline

    lm = np.asarray(landmarks, np.float64)[:, :2]
    oval = spline(lm[list(named.face_oval())], 4, closed=True).astype(np.float64)
    eyes = float(lm[[named.RIGHT_EYE_OUTER, named.LEFT_EYE_OUTER], 1].mean())
    upper = oval[oval[:, 1] < eyes]
    if len(upper) < 4 or not np.isfinite(upper).all():
        return None
    iod = float(np.linalg.norm(lm[named.RIGHT_IRIS_CENTER] - lm[named.LEFT_IRIS_CENTER])) if len(lm) > 473 else \
        float(np.linalg.norm(lm[named.RIGHT_EYE_OUTER] - lm[named.LEFT_EYE_OUTER])) * 0.7
    centre = oval.mean(axis=0)
    out = upper - centre
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
    steps = np.linspace(HAIR_BAND[0], HAIR_BAND[1], 5) * iod
    pts = (upper[None] + out[None] * steps[:, None, None]).reshape(-1, 2)
    h, w = shape[:2]
    inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
    return pts[inside]
