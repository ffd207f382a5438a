"""Lip masks that follow the image: the landmark outline refined by the face's own lip and skin colours.

The landmark lips (:mod:`arlens.render.mask`) are a few pixels off where it shows most: the lower lip's
outline runs onto the chin, the inner contour sits below the lower teeth's edge (a strip of bare lip
between teeth and paint), and where the outline takes in teeth or a finger they get painted. Here each
pixel of the lips' box gets a probability of being lip from two pieces of evidence, added as log-odds:

- a prior from the landmarks, by signed distance (in mouth widths) to the outline: high inside the
  lip band, even at its outer edge, falling off within a couple of pixels outside it, and falling off
  from the inner contour into the mouth opening over ``OPENING_REACH`` (so the lip's real edge, up to the
  teeth, can be found there; not where the colours cannot tell lip from skin, ``OPENING_LOGIT_BLIND``);
- the log-likelihood ratio of the pixel's colour under the face's lip class against its skin class and a
  flat "anything else" class (teeth, the mouth's inside, a finger, a cup) from the scene's
  :class:`~arlens.scene.ColorModel`, learned on this face in this frame.

The probability is then smoothed along the image's edges with a guided filter (He et al.; OpenCV's
``cv2.ximgproc.guidedFilter``, the frame's grey levels as guide), so the paint's edge lands on the lip's
edge without speckle, and multiplied by the outer outline's feathered ramp (nothing beyond the outline
plus its feather is painted). Where the colours say nothing (lips the colour of the skin), the
prior alone decides and the result is the landmark mask.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from arlens.render import mask as M
from arlens.scene.colors import ColorModel, to_features

#: Prior log-odds of "lip" deep inside the lip band.
BAND_LOGIT = 4.0
#: Prior log-odds at the outer outline, and their fall per mouth width outside / inside it (the
#: outline's own position is uncertain by a few hundredths of the mouth's width).
EDGE_LOGIT = 1.0
OUTSIDE_SLOPE = 200.0
#: Prior log-odds at the inner contour, and how far (mouth widths) into the opening they fall by one.
OPENING_LOGIT = 0.5
OPENING_REACH = 0.016
#: Prior log-odds at the inner contour where the colours cannot tell lip from skin (:func:`skin_weight` 0;
#: between, by that weight): such a lip class is broad and low in chroma, it scores the teeth's edge as
#: lip as well (the talking-head clip's sepia frames: +0.3, the same as its lips), so it cannot find the
#: lip's edge in the opening either, and the landmark contour stands (with OPENING_LOGIT the paint ran
#: 2-4 px onto the lower teeth there).
OPENING_LOGIT_BLIND = -2.0
#: The colour evidence's weight and bound (log-likelihood ratio).
COLOR_WEIGHT = 1.0
COLOR_CLIP = 6.0
#: Blur (Gaussian sigma, mouth widths) of the colour evidence: wide enough that the edge of pale lips, where
#: the evidence is weak and noisy pixel by pixel, comes out smooth rather than ragged (Grace Hopper's lower
#: lip: 0.40 px RMS off a smooth curve at 0.012, 0.24 here), narrow enough to stop at the teeth.
LLR_BLUR = 0.03
#: From this blur (pixels) on, the colours are looked at on a grid of every second pixel (2x2 means).
HALF_RES_SIGMA = 2.5
#: The guided filter's radius (mouth widths) and its regularisation (grey level contrast, 0..1, below which
#: the guide's edges are smoothed over rather than followed).
GUIDE_RADIUS = 0.016
GUIDE_EPS = 0.05
#: Separation of the lip and skin classes (Mahalanobis distance of their means) from which the skin
#: class starts to count, and from which it counts in full.
SEPARATION = (1.0, 2.5)
#: Probability ramp to paint: none below LO, all above HI (smoothstep between).
PAINT_LO, PAINT_HI = 0.25, 0.75


def refine_painted(
    geom: M.LipGeometry, roi: np.ndarray, colors: ColorModel | None
) -> tuple[np.ndarray, np.ndarray]:
    """The painted pixels of a lip box, following the image: (flat indices intp (n,), mask float32 (n,) > 0).

    Args:
        geom: the lips from :func:`arlens.render.mask.lip_geometry`.
        roi: uint8 (h, w, 3) BGR of the unrendered frame over ``geom.box``.
        colors: the face's :class:`~arlens.scene.ColorModel` (None or one without a lip class: the
            landmark mask of :func:`arlens.render.mask.lip_pixels`, unchanged).

    Returns:
        Indices ascending, as :class:`arlens.render.mask.LipPixels` holds them.
    """
    if colors is None or colors.lip is None:
        return M.painted_pixels(geom)
    width = geom.width
    outer, feather = M.outer_regions(geom)  # feather: the outer outline's feathered ramp
    outer_in = (outer >= 0.5).view(np.uint8)
    # the mouth opening: inside the outer outline, less than half covered by the lips (outer minus inner)
    opening = cv2.bitwise_and(outer_in, (outer - M.inner_coverage(geom) < 0.5).view(np.uint8))
    # signed distance to the outer outline (pixels, > 0 inside), distance into the opening
    d_in = cv2.distanceTransform(outer_in, cv2.DIST_L2, 3)
    d_out = cv2.distanceTransform(1 - outer_in, cv2.DIST_L2, 3)
    inv = np.float32(1.0 / width)
    logit = np.minimum(d_in * np.float32(40.0 * inv) + np.float32(EDGE_LOGIT), np.float32(BAND_LOGIT))
    # outside the outline: EDGE_LOGIT less the slope (there d_in is 0, so the line above left EDGE_LOGIT, below
    # BAND_LOGIT; inside, d_out is 0 and nothing is taken off): one subtraction over the box, not a masked one
    logit -= d_out * np.float32(OUTSIDE_SLOPE * inv)
    box = _nonzero_box(opening)
    if box is not None:  # the distance into the opening, on the opening's own box (and a pixel around)
        y0, y1, x0, x1 = box
        sub = opening[y0:y1, x0:x1]
        d_open = cv2.distanceTransform(sub, cv2.DIST_L2, 3)
        part = logit[y0:y1, x0:x1]
        start = OPENING_LOGIT_BLIND + (OPENING_LOGIT - OPENING_LOGIT_BLIND) * skin_weight(colors)
        np.subtract(np.float32(start), d_open * np.float32(1.0 / (OPENING_REACH * width)), out=part,
                    where=sub > 0)
    # colour evidence where the outline's feather reaches
    if not feather.any():
        return np.zeros(0, np.intp), np.zeros(0, np.float32)
    evidence = _blurred_evidence(colors, roi, feather, max(0.7, LLR_BLUR * width))
    logit += evidence * np.float32(COLOR_WEIGHT)
    np.clip(logit, -20.0, 20.0, out=logit)
    p = np.exp(-logit)
    p += np.float32(1.0)
    np.divide(np.float32(1.0), p, out=p)
    # grey levels to 0..1 in one pass (the same float32 products as a conversion and a scaling)
    guide = np.multiply(cv2.cvtColor(np.ascontiguousarray(roi), cv2.COLOR_BGR2GRAY), np.float32(1.0 / 255.0),
                        dtype=np.float32)
    radius = max(1, round(GUIDE_RADIUS * width))
    p = cv2.ximgproc.guidedFilter(guide, p, radius, GUIDE_EPS**2)
    t = np.clip((p - np.float32(PAINT_LO)) * np.float32(1.0 / (PAINT_HI - PAINT_LO)), 0.0, 1.0)
    alpha = t * t * (np.float32(3.0) - np.float32(2.0) * t)
    alpha *= feather
    index = np.flatnonzero(alpha.reshape(-1) > 1e-3)
    return index, alpha.reshape(-1)[index]


def _blurred_evidence(colors: ColorModel, roi: np.ndarray, feather: np.ndarray, sigma: float) -> np.ndarray:
    """float32 (h, w): the colour evidence (:func:`_evidence`) of the box's pixels where ``feather`` > 0,
    blurred by ``sigma`` (pixels).

    Averaged over a neighbourhood (a few hundredths of the mouth's width): one noisy pixel does not flip,
    a region does. A blur that wide (``HALF_RES_SIGMA`` or more) loses nothing when the colours are looked at
    on every second pixel (their 2x2 means), which a large mouth's box is, for a quarter of the cost.
    """
    h, w = feather.shape
    if sigma < HALF_RES_SIGMA:
        evidence = _evidence(colors, roi, feather > 0)
        return M.gaussian_blur(evidence, sigma, cv2.BORDER_REPLICATE)  # bounded cost (close-ups)
    small = cv2.resize(np.ascontiguousarray(roi), ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    reach = cv2.resize(feather, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_LINEAR) > 0
    evidence = _evidence(colors, small, reach)
    evidence = M.gaussian_blur(evidence, 0.5 * sigma, cv2.BORDER_REPLICATE)  # bounded cost (close-ups)
    # back to the box's pixels: pixel x's centre is at (x + 0.5) / 2 - 0.5 on the half grid
    m = np.float32([[0.5, 0.0, -0.25], [0.0, 0.5, -0.25]])
    evidence = cv2.warpAffine(evidence, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
    return evidence


def _evidence(colors: ColorModel, bgr: np.ndarray, where: np.ndarray) -> np.ndarray:
    """float32 (h, w): the colour evidence (:func:`_lip_llr`) of uint8 (h, w, 3) pixels where bool (h, w) ``where``
    says, 0 elsewhere (only those pixels are converted and scored: the box's corners beyond the outline's
    feather are not)."""
    out = np.zeros(where.shape, np.float32)
    flat = where.reshape(-1)
    pixels = np.ascontiguousarray(bgr).reshape(-1, 3).compress(flat, axis=0)
    out.reshape(-1)[flat] = _lip_llr(colors, to_features(pixels))
    return out


def _nonzero_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the non-zero pixels of a uint8 mask and a pixel around them, or None."""
    x, y, bw, bh = cv2.boundingRect(mask)
    if bw == 0 or bh == 0:
        return None
    h, w = mask.shape
    return max(0, y - 1), min(h, y + bh + 1), max(0, x - 1), min(w, x + bw + 1)


def skin_weight(colors: ColorModel) -> float:
    """How much the skin class is trusted against the lip class: 0 at a separation of ``SEPARATION[0]``
    or less (lips the colour of the skin), 1 from ``SEPARATION[1]``."""
    lo, hi = SEPARATION
    return min(max((colors.separation - lo) / (hi - lo), 0.0), 1.0)


def _lip_llr(colors: ColorModel, lab: np.ndarray) -> np.ndarray:
    """Log-likelihood ratio, lip against (skin or anything else), of (n, 3) CIELAB colours, clipped.

    Where the classes barely differ, the skin class is moved toward the lip class (in log density, by
    :func:`skin_weight`): lip against skin then says nothing, lip against anything else still does.
    """
    from arlens.scene import colors as S

    rest = np.float32(S.OTHER_DENSITY * 0.3)
    if colors.skin is None:
        log_lip = colors.lip.log_density(lab)  # type: ignore[union-attr]
        out = log_lip - np.float32(math.log(rest))
    else:
        # log(other + 0.7 skin'): in densities (a skin density far below the flat class's underflows to 0,
        # which changes nothing; none can overflow, a density is far below 1)
        w = np.float32(skin_weight(colors))
        both = S.log_densities((colors.lip, colors.skin), lab)  # type: ignore[arg-type]
        log_lip, log_skin = both[:, 0], np.ascontiguousarray(both[:, 1])
        log_skin *= w
        log_skin += log_lip * (np.float32(1.0) - w) + np.float32(math.log(0.7))
        dens = cv2.exp(log_skin).reshape(-1)
        dens += rest
        out = log_lip - cv2.log(dens).reshape(-1)
    return np.clip(out, -COLOR_CLIP, COLOR_CLIP, out=out)
