"""Colour models of a face's skin and lips: Gaussian classes learned from the frame itself.

The colour space is CIELAB with its chroma taken relative to lightness (:func:`to_features`: L,
``a * K / (L + 16)``, ``b * K / (L + 16)``): shading that darkens a surface scales its a and b with its
L + 16, so a lip in shadow keeps its two colour coordinates and differs only in L, which varies within
any class anyway. Each class is a 3D Gaussian there, learned from pixels the landmarks say are that
class, with the pixels under occluders left out and outliers trimmed (a stray tooth, a nostril's
shadow). The lips are told apart from the skin by their colour in this face, not by a fixed threshold:
``lip_probability`` compares a pixel's likelihood under the lip class, the skin class and a flat
"anything else" class (teeth, the mouth's inside, a finger nail, a cup), so a pixel that looks like
neither lip nor skin is not lip either.

Written here (numpy, OpenCV's colour conversion) rather than with a mixture-model library: two
classes with known samples need a mean and a covariance each, and scikit-learn would be a heavy
dependency for that.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from arlens import landmarks as L
from arlens.errors import InputError
from arlens.scene.regions import Box, box_around, is_empty

#: Smallest standard deviation of a class along its three coordinates: noise and JPEG blocks
#: make even a flat patch vary this much, and a class learned from few pixels must not be a spike.
MIN_STD = np.array([5.0, 2.0, 2.0], dtype=np.float64)
#: Density of the "anything else" class: uniform over L 0..100, a and b -60..60.
OTHER_DENSITY = 1.0 / (100.0 * 120.0 * 120.0)
#: Prior weights of lip, skin and anything else among the pixels a lip lens asks about.
PRIORS = (0.5, 0.35, 0.15)
#: Largest chroma spread (standard deviation) a skin reference sets for the first cut of a robust fit:
#: skin's chroma varies this little within a face region; a reference sampled over hair, brows or
#: glasses frames varies more, which would let an object's colour through.
REFERENCE_MAX_SPREAD = 6.0
#: Most samples a class is learned from (more are thinned evenly).
MAX_SAMPLES = 800
#: Samples whose squared Mahalanobis distance exceeds this are trimmed before the class is refitted.
TRIM_D2 = 11.3  # chi-square, 3 degrees of freedom, 99%
#: The colour classes are learned on every k-th pixel, k the mouth's width over this (at least 1).
LEARN_WIDTH = 64
#: The skin ring is sampled on every k-th pixel, k the mouth's width over this (at least the lips' step).
SKIN_LEARN_WIDTH = 32
#: Below this share of the outline's pixels (by weight) redder than the skin, the lip class is learned
#: from all of them instead.
MIN_REDDER_SHARE = 0.3
#: The skin ring sampled around the lips: from this far outside the lips' outline to this far, in
#: mouth widths.
SKIN_RING = (0.12, 0.35)
#: A pixel's chroma away from grey under the face's light (:func:`grey_point`), as a share of the skin's own:
#: below the first it is grey and neither skin nor lip (a white cup, a grey microphone), from the second it
#: counts in full, linearly between (:func:`grey_weights`). The white patch the light is read from can itself be
#: tinted (the astronaut's, by a pink backdrop: grey read 3-4 units off), so the band reaches well above grey:
#: there a white cup under warm light still fell inside a (0.1, 0.2) band. The test faces' skin-ring pixels lie
#: at 0.44 or more of the skin's (one in two hundred: 0.5 percentile) in neutral, dim, warm and cool light, but
#: on the talking-head clip (deep skin in strong side light, highlights near grey): 1.3% of its ring samples
#: weigh under one half, which moves her skin class's mean by 0.02 units (median frame; at most 0.17 of its
#: spread) and sends the object search (finding nothing) over 2-3 more of its 69 frames.
GREY_SHARE = (0.2, 0.35)
#: The grey rule holds only where the skin is at least this far from grey (colour-model chroma units; the test
#: faces 11.5 to 38 in neutral, dim, warm and cool light): a white patch that is itself skin-coloured (no white
#: near the face, the forehead's highlight the brightest surface) says nothing of what grey is there.
MIN_SKIN_CHROMA = 8.0


def to_lab(bgr: np.ndarray) -> np.ndarray:
    """uint8 BGR (..., 3) -> float32 CIELAB (..., 3) (D65, L 0..100), OpenCV's float conversion."""
    arr = np.asarray(bgr, dtype=np.uint8)
    if arr.size == 0:
        return np.zeros(arr.shape, np.float32)
    # scaled straight from the (possibly strided) pixels into a new float32 array: no uint8 copy first
    flat = np.empty(arr.shape, np.float32)
    np.multiply(arr, np.float32(1.0 / 255.0), out=flat)
    return cv2.cvtColor(flat.reshape(1, -1, 3), cv2.COLOR_BGR2Lab).reshape(arr.shape)


#: Chroma scale of :func:`to_features`: at L = 44 (a typical lip) the coordinates equal CIELAB's a and b.
CHROMA_SCALE = 60.0


def grey_point(light_color: np.ndarray) -> np.ndarray:
    """float32 (2,): the colour-model chroma (:func:`to_features`' a and b) of a grey surface under a light of
    linear B, G, R colour ``light_color`` (:attr:`arlens.scene.light.Light.color`): where a white cup or a grey
    microphone lies in this frame, whatever the light's cast (taken at mid-grey: the lightness-relative chroma
    of one colour hardly changes with its lightness)."""
    # three numbers: plain floats through the sRGB curve, then one pixel through OpenCV's Lab (as to_lab's)
    c = [max(float(v), 0.0) for v in np.asarray(light_color, dtype=np.float64).reshape(3).tolist()]
    top = max(c)
    lin = [v / top * 0.2 for v in c] if top > 1e-9 else [0.2, 0.2, 0.2]
    srgb = [12.92 * v if v <= 0.0031308 else 1.055 * v ** (1.0 / 2.4) - 0.055 for v in lin]
    lab = cv2.cvtColor(np.array([[srgb]], np.float32), cv2.COLOR_BGR2Lab)[0, 0]
    k = CHROMA_SCALE / (float(lab[0]) + 16.0)
    return np.array([lab[1] * k, lab[2] * k], np.float32)


def grey_weights(lab: np.ndarray, grey: np.ndarray | None, skin_ab: np.ndarray) -> np.ndarray | None:
    """float32 (n,) 0..1: how far each of (n, 3) colour-model samples is from grey (:func:`grey_point` ``grey``)
    relative to the skin (chroma ``skin_ab``, the a and b of its mean) by :data:`GREY_SHARE`: 0 for a grey
    sample, which is neither skin nor lip. None when there is no rule to apply: no grey point, or skin within
    :data:`MIN_SKIN_CHROMA` of it."""
    if grey is None:
        return None
    ga, gb = float(grey[0]), float(grey[1])
    scale = math.hypot(float(skin_ab[0]) - ga, float(skin_ab[1]) - gb)
    if not scale >= MIN_SKIN_CHROMA:
        return None
    lab = np.asarray(lab, dtype=np.float32).reshape(-1, 3)
    lo, hi = GREY_SHARE
    d = np.hypot(lab[:, 1] - np.float32(ga), lab[:, 2] - np.float32(gb))
    d *= np.float32(1.0 / ((hi - lo) * scale))
    d -= np.float32(lo / (hi - lo))
    return _unit(d)


def to_features(bgr: np.ndarray) -> np.ndarray:
    """uint8 BGR (..., 3) -> float32 (..., 3) colour-model coordinates: L, a and b times 60 / (L + 16)."""
    lab = to_lab(bgr)
    flat = lab.reshape(-1, 3)
    scale = np.float32(CHROMA_SCALE) / (flat[:, 0] + np.float32(16.0))
    flat[:, 1] *= scale
    flat[:, 2] *= scale
    return lab


@dataclass(frozen=True)
class ColorClass:
    """A Gaussian colour class in the colour-model coordinates (:func:`to_features`).

    Attributes:
        mean: float32 (3,) L and the two lightness-relative chroma coordinates.
        covariance: float32 (3, 3), with at least ``MIN_STD`` along each axis.
        count: how many pixels it was learned from.
    """

    mean: np.ndarray
    covariance: np.ndarray
    count: int

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        cov = np.asarray(self.covariance, dtype=np.float32)
        if mean.shape != (3,) or cov.shape != (3, 3) or not (np.isfinite(mean).all() and np.isfinite(cov).all()):
            raise InputError(f"ColorClass: expected a finite mean (3,) and covariance (3, 3), got {mean.shape}, "
                             f"{cov.shape}")
        for arr in (mean, cov):
            arr.setflags(write=False)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "covariance", cov)
        object.__setattr__(self, "count", int(self.count))

    @functools.cached_property
    def _factors(self) -> tuple[np.ndarray, float, np.ndarray]:
        """(whitening float64 (3, 3), log normaliser, whitening affine float32 (3, 4)) from the covariance's
        Cholesky factor, in plain floats: three 3x3 matrices need none of numpy.linalg's per-call overhead."""
        (a, b, c), (_, e, f), (_, _, i) = self.covariance.astype(np.float64).tolist()
        # cov = C C^T, C lower triangular
        c00 = math.sqrt(max(a, 1e-12))
        c10, c20 = b / c00, c / c00
        c11 = math.sqrt(max(e - c10 * c10, 1e-12))
        c21 = (f - c20 * c10) / c11
        c22 = math.sqrt(max(i - c20 * c20 - c21 * c21, 1e-12))
        # W = C^-1 (lower triangular): |W (x - mean)|^2 is the squared Mahalanobis distance
        w00, w11, w22 = 1.0 / c00, 1.0 / c11, 1.0 / c22
        w10 = -c10 * w00 / c11
        w21 = -c21 * w11 / c22
        w20 = -(c20 * w00 + c21 * w10) / c22
        whiten = np.array([[w00, 0.0, 0.0], [w10, w11, 0.0], [w20, w21, w22]])
        logdet = 2.0 * (math.log(c00) + math.log(c11) + math.log(c22))
        affine = np.empty((3, 4))
        affine[:, :3] = whiten
        affine[:, 3] = -whiten @ self.mean.astype(np.float64)
        return whiten, -0.5 * logdet - 1.5 * math.log(2 * math.pi), affine.astype(np.float32)

    @functools.cached_property
    def _precision_matrix(self) -> np.ndarray:
        """float32 (3, 3) inverse covariance, made when first asked for (the densities need only the whitening)."""
        whiten = self._factors[0]
        return (whiten.T @ whiten).astype(np.float32)

    @property
    def _precision(self) -> tuple[np.ndarray, float]:
        return self._precision_matrix, self._factors[1]

    @functools.cached_property
    def _density_row(self) -> np.ndarray:
        """float32 (1, 4): the transform of squared whitened coordinates to the log density (-1/2 each, plus
        the log normaliser), made once per class (:func:`log_densities` applies it to every pixel batch)."""
        return np.array([[-0.5, -0.5, -0.5, self._factors[1]]], np.float32)

    @property
    def whitening(self) -> np.ndarray:
        """float32 (3, 4) affine map ``y = W x + w0`` of colour coordinates with ``|y|^2`` their squared
        Mahalanobis distance (``W`` the inverse of the covariance's Cholesky factor, ``w0 = -W mean``): one
        ``cv2.transform`` per pixel batch, the mean's subtraction folded in."""
        return self._factors[2]

    def mahalanobis2(self, lab: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distances of float32 (n, 3) colour coordinates: float32 (n,)."""
        return -2.0 * (log_densities((self,), lab)[:, 0] - np.float32(self._precision[1]))

    def log_density(self, lab: np.ndarray) -> np.ndarray:
        """Log of the class's probability density at (n, 3) colour coordinates: float32 (n,)."""
        return log_densities((self,), lab)[:, 0]

    @classmethod
    def fit(
        cls, lab: np.ndarray, weights: np.ndarray | None = None, robust: bool = False,
        reference: np.ndarray | None = None,
    ) -> ColorClass | None:
        """The class of (n, 3) colour-coordinate samples (optionally weighted), outliers trimmed once.

        ``robust`` first keeps only the samples near the coordinate-wise median (by the median absolute
        deviation): the class of the majority, when a minority of something else (an object over the
        skin ring) would pull a mean and widen a covariance until it took that in too. ``reference``
        (float32 (m, 3) colour coordinates of the same surface seen elsewhere) centres that first cut on
        the reference's median instead, with the reference's spread (its chroma spread at most
        ``REFERENCE_MAX_SPREAD``): the class of what looks like the reference, even where something else
        covers most of the samples.

        None for fewer than 12 samples.
        """
        x = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
        if weights is None:
            w = None
            if not math.isfinite(float(x.sum())):  # a NaN or infinity anywhere reaches the sum
                x = x[np.isfinite(x).all(axis=1)]
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            keep = w > 0
            if not math.isfinite(float(x.sum())):  # a NaN or infinity anywhere reaches the sum
                keep &= np.isfinite(x).all(axis=1)
            x, w = x.compress(keep, axis=0), w.compress(keep)  # compress: row selection at a third of x[mask]
        if len(x) > MAX_SAMPLES:  # a mean and a covariance need no more: every k-th sample, deterministically
            step = -(-len(x) // MAX_SAMPLES)
            x = x[::step]
            w = None if w is None else w[::step]
        if robust and len(x) >= 12:
            ref = None if reference is None else np.asarray(reference, dtype=np.float64).reshape(-1, 3)
            if ref is not None and len(ref) >= 12:
                centre = _median(ref)
                spread = np.maximum(1.4826 * _median(np.abs(ref - centre)), MIN_STD)
                spread[1:] = np.minimum(spread[1:], REFERENCE_MAX_SPREAD)
            else:
                centre = _median(x)
                spread = np.maximum(1.4826 * _median(np.abs(x - centre)), MIN_STD)
            z = (x - centre) / spread
            z *= z
            near = z @ _ONES3 <= TRIM_D2
            x = x.compress(near, axis=0)
            w = None if w is None else w.compress(near)
        floor = _FLOOR
        for last in (False, True):
            n = len(x)
            total = float(n) if w is None else float(w.sum())
            if n < 12 or total <= 0:
                return None
            # sums over the samples as matrix products with a ones vector: numpy's axis reductions of an
            # (n, 3) array cost several times more (the same sums to float64 rounding)
            mean = (_ONES[:n] @ x if w is None else w @ x) / total
            d = x - mean
            cov = (d.T if w is None else d.T * w) @ d
            cov /= total
            cov += floor
            q = d @ _inverse3(cov)
            q *= d
            inlier = q @ _ONES3 <= TRIM_D2
            kept = int(np.count_nonzero(inlier))
            if kept == n or last:  # the second fit's inliers are only counted (the class holds their number)
                break
            x = x.compress(inlier, axis=0)
            w = None if w is None else w.compress(inlier)
        return cls._trusted(mean, cov, kept)

    @classmethod
    def _trusted(cls, mean: np.ndarray, cov: np.ndarray, count: int) -> ColorClass:
        """A class from a fit's own finite (3,) mean and (3, 3) covariance, without the checks."""
        out = object.__new__(cls)
        m, c = mean.astype(np.float32), cov.astype(np.float32)
        m.setflags(write=False)
        c.setflags(write=False)
        object.__setattr__(out, "mean", m)
        object.__setattr__(out, "covariance", c)
        object.__setattr__(out, "count", int(count))
        return out


_FLOOR = np.diag(MIN_STD**2)
_FLOOR.setflags(write=False)
_ONES3 = np.ones(3)
_ONES3.setflags(write=False)


#: float64 ones, the summing vector of :meth:`ColorClass.fit` (which keeps at most ``MAX_SAMPLES`` samples)
_ONES = np.ones(MAX_SAMPLES)
_ONES.setflags(write=False)


def _median(x: np.ndarray) -> np.ndarray:
    """The upper median of each column of (n, 3) samples (one partition; numpy's median averages the two
    middle values at several times the cost)."""
    k = len(x) // 2
    return np.partition(x, k, axis=0)[k]


def _inverse3(m: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive-definite 3x3 float64 matrix by its adjugate: the same as
    ``np.linalg.inv`` to rounding, without its per-call overhead (it runs a few times per class fit)."""
    (a, b, c), (_, e, f), (_, _, i) = m.tolist()
    # cofactors of a symmetric matrix (b = d, c = g, f = h)
    ca, cb, cc = e * i - f * f, c * f - b * i, b * f - c * e
    ce, cf, ci = a * i - c * c, b * c - a * f, a * e - b * b
    det = a * ca + b * cb + c * cc
    ca, cb, cc, ce, cf, ci = ca / det, cb / det, cc / det, ce / det, cf / det, ci / det  # as numpy's / det
    return np.array([[ca, cb, cc], [cb, ce, cf], [cc, cf, ci]])


def log_densities(classes: tuple[ColorClass, ...], lab: np.ndarray) -> np.ndarray:
    """Log densities of several classes at (n, 3) colour coordinates: float32 (n, k).

    Three OpenCV per-pixel transforms per class (whiten, square, sum and scale): OpenCV's 3- and
    4-channel transforms run two orders of magnitude faster than numpy's (n, 3) @ (3, 3) (and ten times
    faster than one transform to all classes' channels at once, which takes a generic path).
    """
    x = np.asarray(lab, dtype=np.float32).reshape(1, -1, 3)
    out = np.empty((x.shape[1], len(classes)), np.float32)
    if x.shape[1] == 0:
        return out
    for i, c in enumerate(classes):
        y = cv2.transform(x, c.whitening)
        y = cv2.multiply(y, y)
        out[:, i] = cv2.transform(y, c._density_row).reshape(-1)
    return out


@dataclass(frozen=True, eq=False)
class ColorModel:
    """The skin and lip colours of one face (either may be missing when too little of it shows).

    Attributes:
        skin: the face's skin around the mouth, or None.
        lip: the lips, or None.
        foreign: the share of the pixels the classes were learned from (the skin ring and the lips) that
            neither explains (:func:`sample_shares`): near 0 on a clean face, tens of percent with a cup over
            the mouth; 1 when not measured. What tells :mod:`~arlens.scene.objects` whether to look.
        lip_coloured: the share of the skin ring's samples that the skin does not explain and the lip class does
            (:func:`sample_shares`): 0-0.09 on the test faces, about 0.4 with a red cup over half the mouth
            (the lip class then learns the cup); 1 when not measured. What tells :mod:`~arlens.scene.objects` to
            look for an object of the lips' colour.
        grey: float32 (2,), the colour-model chroma of a grey surface under the face's light
            (:func:`grey_point`), or None (unknown: nothing is taken for grey). Grey is neither skin nor lip
            (:meth:`not_grey`): a white cup over the mouth is not learned as skin, nor explained by a lip class
            whose highlights reach toward white.
    """

    skin: ColorClass | None
    lip: ColorClass | None
    foreign: float = 1.0
    lip_coloured: float = 1.0
    grey: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.grey is not None:
            try:
                grey = np.array(self.grey, dtype=np.float32).reshape(-1)
            except (TypeError, ValueError):
                grey = np.zeros(0, np.float32)
            if grey.shape != (2,) or not np.isfinite(grey).all():
                raise InputError(f"ColorModel.grey: expected two finite numbers (a, b) or None, got {self.grey!r}")
            grey.setflags(write=False)
            object.__setattr__(self, "grey", grey)

    def not_grey(self, lab: np.ndarray) -> np.ndarray | None:
        """float32 (n,) 0..1 of (n, 3) colour-model samples: 0 where grey under the face's light, neither skin nor
        lip (:func:`grey_weights`, relative to the skin class); None where nothing is grey (no grey point, no
        skin class, or skin itself near grey)."""
        if self.skin is None:
            return None
        return grey_weights(lab, self.grey, self.skin.mean[1:])

    @functools.cached_property
    def separation(self) -> float:
        """How far apart the lip and skin classes are: the Mahalanobis distance between their means under
        their average covariance (0 when either is missing; about 3-4 on the test portraits, below 1 where
        the lips are the skin's colour and only the landmarks can tell them apart)."""
        if self.lip is None or self.skin is None:
            return 0.0
        d = (self.lip.mean - self.skin.mean).astype(np.float64)
        cov = 0.5 * (self.lip.covariance + self.skin.covariance).astype(np.float64)
        # d^T cov^-1 d by the adjugate inverse (each class's covariance is positive definite, and so is their
        # mean): numpy.linalg.solve's dispatch costs more than the arithmetic, once per face and frame
        return float(np.sqrt(max(float(d @ _inverse3(cov) @ d), 0.0)))

    def lip_probability(self, lab: np.ndarray) -> np.ndarray:
        """Probability that each of (n, 3) colours (:func:`to_features`) is lip rather than skin or anything
        else: float32 (n,).

        Without a lip class every pixel gets 0.5 and without a skin class only the flat class competes,
        so a caller that multiplies its landmark mask by this keeps a face it knows too little about.
        """
        lab = np.asarray(lab, dtype=np.float32).reshape(-1, 3)
        if self.lip is None:
            return np.full(len(lab), 0.5, dtype=np.float32)
        p_lip, p_skin, p_other = PRIORS
        log_lip = self.lip.log_density(lab) + np.float32(math.log(p_lip))
        log_rest = np.full(len(lab), np.float32(math.log(p_other * OTHER_DENSITY)))
        if self.skin is not None:
            log_rest = np.logaddexp(log_rest, self.skin.log_density(lab) + np.float32(math.log(p_skin)))
        # p = 1 / (1 + exp(rest - lip)), computed without overflow
        z = np.clip(log_rest - log_lip, -60.0, 60.0)
        return (1.0 / (1.0 + np.exp(z))).astype(np.float32)


@functools.cache
def _loop_index() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """intp index arrays of the outer and inner lip loops and the face oval, made once (read-only)."""
    out = tuple(np.array(group, dtype=np.intp) for group in (L.lips_outer(), L.lips_inner(), L.face_oval()))
    for arr in out:
        arr.setflags(write=False)
    return out  # type: ignore[return-value]


def _lip_loops(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lm = np.asarray(landmarks, dtype=np.float64)
    outer, inner, _ = _loop_index()
    return lm[outer, :2], lm[inner, :2]


def _span(values: np.ndarray) -> float:
    """``float(np.ptp(values))`` of a float64 (n,) array in plain floats (the same subtraction of the same two values),
    without numpy's reduction wrappers (a few dozen points, a few times per face and frame)."""
    xs = values.tolist()
    return max(xs) - min(xs)


def mouth_box(landmarks: np.ndarray, shape: tuple[int, ...]) -> Box:
    """The lips and the skin ring around them that the colour model learns from (frame pixels)."""
    outer, _ = _lip_loops(landmarks)
    width = _span(outer[:, 0]) if np.isfinite(outer).all() else 0.0
    return box_around(outer, SKIN_RING[1] * width + 2, shape)


def fill_polygon(canvas: np.ndarray, points: np.ndarray, origin: Box, value: int, step: float = 1) -> None:
    """Fill a polygon (frame pixels) into ``canvas``, whose cell (i, j) is the frame pixel ``step`` (i, j)
    from ``origin``'s corner (the grid of every ``step``-th pixel of a box)."""
    pts = np.rint(((points - np.array(origin[:2], dtype=np.float64)) / step - 0.5) * 8)
    # np.clip's values, without its wrappers (a few dozen points, four polygons a frame)
    pts = np.minimum(np.maximum(pts, -(1 << 28), out=pts), 1 << 28, out=pts).astype(np.int32)
    cv2.fillPoly(canvas, [pts], value, cv2.LINE_8, 3)


#: Hues (degrees in the a, b plane of the colour coordinates) lips take: reds, from plum (-40) to a brown
#: nude (80), with a soft edge of ``LIP_HUE_EDGE`` beyond: a blue cup or a green microphone over the mouth is
#: not learned as lip however much of the outline it covers.
LIP_HUES = (-40.0, 80.0)
LIP_HUE_EDGE = 20.0


def lip_sample_weights(lab: np.ndarray, skin: ColorClass, redder: bool = True) -> np.ndarray:
    """How much each pixel (n, 3 colour coordinates) inside the lip outline should count toward the lip
    class: float32 (n,).

    Teeth (less than half the skin's chroma) and the mouth's dark inside (below half the skin's
    lightness), which the outline takes in where the landmarks miss the lip edge, count for nothing, and
    so do hues no lip has (:data:`LIP_HUES`: a foreign object over the mouth). With ``redder``, only what
    is redder than the skin counts (0 at the skin's mean redness, 1 from two of its standard deviations
    above it): the lips' vermilion is redder than the skin around them, so a finger over the mouth or the
    skin just outside the real lip edge counts for little. Without it (lips hardly redder than the skin),
    what is much less red than the skin (by two of its standard deviations; a skin-coloured cup of a paler
    tone) counts a fifth.
    """
    lab = np.asarray(lab, dtype=np.float32).reshape(-1, 3)
    return _weigh_redness(_plain_lip_weights(lab, skin), lab, skin, redder)


def _plain_lip_weights(lab: np.ndarray, skin: ColorClass) -> np.ndarray:
    """:func:`lip_sample_weights` of float32 (n, 3) ``lab`` before the redness term: teeth, the mouth's
    inside and foreign hues weighed out (what both of its forms share)."""
    skin_chroma = float(np.hypot(skin.mean[1], skin.mean[2]))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    w = _unit((chroma - np.float32(0.5 * skin_chroma)) / np.float32(max(0.25 * skin_chroma, 1.0)))
    w *= _unit((lab[:, 0] - np.float32(0.4 * skin.mean[0])) / np.float32(max(0.15 * skin.mean[0], 1.0)))
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1]))
    lo, hi = LIP_HUES
    w *= _unit(np.minimum(hue - np.float32(lo - LIP_HUE_EDGE), np.float32(hi + LIP_HUE_EDGE) - hue)
               * np.float32(1.0 / LIP_HUE_EDGE))
    return w


def _unit(x: np.ndarray, lo: float = 0.0) -> np.ndarray:
    """``np.clip(x, lo, 1.0)`` of a new float32 array, in place and without np.clip's wrappers (a few hundred
    samples: the wrappers cost more than the work)."""
    return np.minimum(np.maximum(x, lo, out=x), 1.0, out=x)


def _weigh_redness(w: np.ndarray, lab: np.ndarray, skin: ColorClass, redder: bool) -> np.ndarray:
    """``w`` (from :func:`_plain_lip_weights`) times :func:`lip_sample_weights`' redness term, in place."""
    if redder:
        spread = max(2.0 * float(np.sqrt(skin.covariance[1, 1])), 1.0)
        w *= _unit((lab[:, 1] - np.float32(skin.mean[1])) * np.float32(1.0 / spread))
    else:
        # lips are never much less red than the skin around them: what is (a skin-coloured cup, a paler
        # skin) counts for little
        spread = max(2.0 * float(np.sqrt(skin.covariance[1, 1])), 1.0)
        w *= _unit((lab[:, 1] - np.float32(skin.mean[1] - spread)) * np.float32(1.0 / spread), 0.2)
    return w


def _samples(
    frame: np.ndarray, box: Box, grids: list[tuple[int, np.ndarray]],
    occluded: Callable[[np.ndarray], np.ndarray] | None,
) -> list[np.ndarray]:
    """Per ``(step, where)`` of ``grids`` (``where`` a grid of every ``step``-th pixel of ``box``): uint8
    (n, 3), the frame's pixels at its True cells that ``occluded`` (taking (n, 2) frame pixel centres) does
    not say are covered, every k-th of them when there are more than ``MAX_SAMPLES`` (what
    :meth:`ColorClass.fit` keeps). The grids' cells are tested against ``occluded`` in one call."""
    cells = []
    for step, where in grids:
        rows, cols = np.divmod(np.flatnonzero(where), where.shape[1])
        cells.append((rows * step + box[1], cols * step + box[0]))
    if occluded is not None and any(len(rows) for rows, _ in cells):
        rows = np.concatenate([r for r, _ in cells])
        cols = np.concatenate([c for _, c in cells])
        keep = ~occluded(np.stack([cols + 0.5, rows + 0.5], axis=1))
        out_cells, start = [], 0
        for r, c in cells:
            part = keep[start : start + len(r)]
            out_cells.append((r.compress(part), c.compress(part)))
            start += len(r)
        cells = out_cells
    out = []
    for rows, cols in cells:
        if len(rows) > MAX_SAMPLES:
            k = -(-len(rows) // MAX_SAMPLES)
            rows, cols = rows[::k], cols[::k]
        if frame.flags.c_contiguous:  # one gather by flat index
            out.append(np.take(frame.reshape(-1, 3), rows * frame.shape[1] + cols, axis=0))
        else:
            out.append(frame[rows, cols])
    return out


def skin_reference(
    frame: np.ndarray, landmarks: np.ndarray, occluded: Callable[[np.ndarray], np.ndarray] | None = None,
    occluded_vertices: np.ndarray | None = None, patches: Any = None,
) -> np.ndarray:
    """float32 (n, 3) colour coordinates of the face's skin away from the mouth: one pixel under each of
    the mesh's plain-skin vertices (cheeks, forehead, nose; :func:`arlens.scene.light.skin_vertices`)
    inside the frame and not ``occluded``. What a cup over the mouth cannot cover all of.

    ``occluded_vertices``: bool (468,) mesh vertices already known covered (``occluded`` of the
    vertices' landmarks, as the scene keeps them): used instead of calling ``occluded`` again. ``patches``: the
    :class:`~arlens.scene.light.SkinPatches` of the plain-skin vertices left (not covered), as the light samples
    them: their own pixels are read from there instead of the frame."""
    if patches is not None:
        return to_features(patches.values[4].compress(patches.in_frame, axis=0))
    from arlens.scene.light import skin_vertices

    verts = skin_vertices()
    pts = np.asarray(landmarks, dtype=np.float64)[verts, :2]
    h, w = frame.shape[:2]
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(pts).all(axis=1) & (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (
            pts[:, 1] < h)
    if occluded_vertices is not None:
        inside &= ~np.asarray(occluded_vertices, dtype=bool)[verts]
        pts = pts[inside]
    else:
        pts = pts[inside]
        if occluded is not None and len(pts):
            pts = pts[~occluded(pts)]
    return to_features(frame[pts[:, 1].astype(np.intp), pts[:, 0].astype(np.intp)])


def _disc(radius: float) -> np.ndarray:
    """uint8 structuring element of the pixel offsets within ``radius``: eroding by it keeps the pixels
    farther than ``radius`` from every zero (what a distance transform's threshold would). Read-only."""
    # integer offsets: x^2 + y^2 <= r^2 exactly when x^2 + y^2 <= floor(r^2), so the few integers floor(r^2)
    # name every kernel there is and each is built once per process
    return _disc_within(int(math.floor(radius * radius)))


@functools.cache
def _disc_within(r2: int) -> np.ndarray:
    r = math.isqrt(r2)
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    out = (x * x + y * y <= r2).astype(np.uint8)
    out.setflags(write=False)
    return out


def face_color_model(
    frame: np.ndarray,
    landmarks: np.ndarray,
    occlusion: np.ndarray | None = None,
    box: Box | None = None,
    occluded: Callable[[np.ndarray], np.ndarray] | None = None,
    reference: np.ndarray | None = None,
    grey: np.ndarray | None = None,
) -> ColorModel:
    """Learn the skin and lip classes of one face from the frame.

    Args:
        frame: the unrendered uint8 BGR frame.
        landmarks: float32 (478, 3) landmarks (pixels).
        occlusion: optional float32 (h, w) coverage of occluders over ``box`` (pixels above 0.1 are skipped).
        box: the box ``occlusion`` covers; default :func:`mouth_box`.
        occluded: optional test of which (n, 2) frame pixel centres are covered by an occluder (bool (n,)),
            applied to the few hundred sampled pixels only: what the scene passes instead of a mask.
        reference: optional float32 (m, 3) colour coordinates of the face's skin elsewhere
            (:func:`skin_reference`): the skin class is then the ring's pixels that look like it (an
            object over most of the ring is left out).
        grey: optional float32 (2,) colour-model chroma of grey under the face's light (:func:`grey_point`):
            the ring's grey pixels (:func:`grey_weights`, relative to the reference's median skin, else the
            ring's) are then not learned as skin and count as foreign.

    Lips: the pixels inside the lip outline, outside the mouth opening, more than a pixel from both
    (and from the corners' narrow wedges), weighted by :func:`lip_sample_weights`, on a grid of every
    k-th pixel (k the mouth's width over ``LEARN_WIDTH``). Skin: a ring from 12% to 35% of the mouth's
    width outside the lip outline, inside the face, on a coarser grid (the mouth ``SKIN_LEARN_WIDTH``
    cells wide): a wide ring holds plenty of samples there.
    """
    box = mouth_box(landmarks, frame.shape) if box is None else box
    if is_empty(box) or not np.isfinite(np.asarray(landmarks)[_loop_index()[0]]).all():
        return ColorModel(None, None)
    outer, inner = _lip_loops(landmarks)
    width = max(_span(outer[:, 0]), 1.0)
    if occlusion is not None:
        cover = np.asarray(occlusion, dtype=np.float32)
        test = occluded

        def occluded(points: np.ndarray) -> np.ndarray:
            cols = np.clip(points[:, 0].astype(np.intp) - box[0], 0, cover.shape[1] - 1)
            rows = np.clip(points[:, 1].astype(np.intp) - box[1], 0, cover.shape[0] - 1)
            hit = cover[rows, cols] > 0.1
            return hit | test(points) if test is not None else hit

    # statistics need a few hundred pixels, not all of a close-up's: sample every step-th pixel
    step = max(1, int(width // LEARN_WIDTH))
    h, w = -(-(box[3] - box[1]) // step), -(-(box[2] - box[0]) // step)
    lips = np.zeros((h, w), np.uint8)
    fill_polygon(lips, outer, box, 1, step)
    fill_polygon(lips, inner, box, 0, step)
    core = cv2.erode(lips, _disc(max(1.0, 0.02 * width / step)), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    # the skin ring on a coarser grid (a distance transform there costs little)
    step_s = max(step, int(width // SKIN_LEARN_WIDTH))
    width_s = width / step_s
    hs, ws = -(-(box[3] - box[1]) // step_s), -(-(box[2] - box[0]) // step_s)
    band = np.zeros((hs, ws), np.uint8)
    fill_polygon(band, outer, box, 1, step_s)
    outside = cv2.distanceTransform(1 - band, cv2.DIST_L2, 3)  # distance from the lips' outer outline
    ring = (outside > SKIN_RING[0] * width_s) & (outside <= SKIN_RING[1] * width_s)
    # the ring stays on the face: between the lips' top and the nose there is skin, but not beside the jaw
    face = np.zeros((hs, ws), np.uint8)
    fill_polygon(face, np.asarray(landmarks, dtype=np.float64)[_loop_index()[2], :2], box, 1, step_s)
    ring &= face > 0
    ring_px, lip_px = _samples(frame, box, [(step_s, ring), (step, core > 0)], occluded)
    both = to_features(np.concatenate([ring_px, lip_px]))  # one conversion
    skin_lab, lip_lab = both[: len(ring_px)], both[len(ring_px) :]
    # grey in the ring is no skin (a white cup held below the mouth): by the skin seen elsewhere when there is
    # enough of it (what a cup cannot cover), else by the ring's own majority
    centre = reference if reference is not None and len(reference) >= 12 else skin_lab
    not_grey = None
    if grey is not None and len(centre) and len(skin_lab):
        not_grey = grey_weights(skin_lab, grey, _median(centre)[1:])
    some_grey = not_grey is not None and float(not_grey.min()) < 1.0
    # (nothing grey: the fit unweighted, as without the rule)
    skin = ColorClass.fit(skin_lab, not_grey if some_grey else None, robust=True, reference=reference)
    weights = None
    if skin is not None and len(lip_lab):
        # lip_sample_weights, the terms both forms share computed once
        plain = _plain_lip_weights(lip_lab, skin)
        weights = _weigh_redness(plain.copy(), lip_lab, skin, True)
        # lips hardly redder than the skin (a deep skin tone, pale lips): the weights would pick out a
        # sliver of shadow; the outline's pixels (less teeth and the dark inside) describe the lips better
        if weights.sum() < max(12.0, MIN_REDDER_SHARE * len(weights)):
            weights = _weigh_redness(plain, lip_lab, skin, False)
        if weights.sum() < 12:
            weights = None
    lip = ColorClass.fit(lip_lab, weights)
    # the rule holds where the skin learned is far enough from grey too (ColorModel.not_grey's test)
    model_grey = grey if not_grey is not None and skin is not None and math.hypot(
        float(skin.mean[1]) - float(grey[0]), float(skin.mean[2]) - float(grey[1])) >= MIN_SKIN_CHROMA else None
    shares = sample_shares(skin, lip, both, len(ring_px), not_grey if model_grey is not None and some_grey else None)
    return ColorModel(skin, lip, *shares, grey=model_grey)


#: Posterior of "anything else" from which a sample counts as foreign (:func:`sample_shares`).
FOREIGN_POSTERIOR = 0.8


def sample_shares(skin: ColorClass | None, lip: ColorClass | None, lab: np.ndarray,
                  ring: int, ring_not_grey: np.ndarray | None = None) -> tuple[float, float]:
    """What the classes leave unexplained among the (n, 3) colour samples they were learned from, the first
    ``ring`` of them the skin ring's, from one evaluation of the two classes' densities: (foreign, lip_coloured).

    - foreign: the share of all the samples that neither class explains (the flat "anything else" class's
      posterior, the priors of :data:`PRIORS`, at least ``FOREIGN_POSTERIOR``);
    - lip_coloured: the share of the ring's samples that the skin class does not explain (by the same posterior)
      and the lip class does (its density above anything else's): lip colour where skin should be, a
      lip-coloured object held from outside (lips end at the outline; the ring starts well beyond it).

    ``ring_not_grey``: optional float32 (ring,), :func:`grey_weights` of the ring's samples: those below 0.5 are
    grey, which neither class explains (foreign, and not lip-coloured).

    Each is 1 when either class is missing or there are no samples to measure it on (nothing can be said)."""
    if skin is None or lip is None or len(lab) == 0:
        return 1.0, 1.0
    p_lip, p_skin, p_other = PRIORS
    dens = log_densities((lip, skin), lab)
    dens[:, 0] += np.float32(math.log(p_lip))
    dens[:, 1] += np.float32(math.log(p_skin))
    other = math.log(OTHER_DENSITY * p_other)
    threshold = np.float32(other - math.log(FOREIGN_POSTERIOR / (1.0 - FOREIGN_POSTERIOR)))
    best = np.maximum(dens[:, 0], dens[:, 1])  # not dens.max(axis=1): an axis reduction of (n, 2) costs more
    grey = None
    if ring_not_grey is not None and ring:
        grey = np.asarray(ring_not_grey).reshape(-1)[:ring] < np.float32(0.5)
        best[:ring][grey] = -np.inf
    foreign = float(np.count_nonzero(best < threshold) / len(best))
    if ring == 0:
        return foreign, 1.0
    near = dens[:ring]
    lip_coloured = (near[:, 1] <= threshold) & (near[:, 0] > np.float32(other))
    if grey is not None:
        lip_coloured &= ~grey
    return foreign, float(np.count_nonzero(lip_coloured) / ring)
