"""Lip masks that follow the image: the landmark outline refined by the face's own lip and skin colours.

The landmark lips (:mod:`arlens.render.mask`) are a few pixels off where it shows most: the lower lip's
outline runs onto the chin, the inner contour sits below the lower teeth's edge (a strip of bare lip
between teeth and paint), and where the outline takes in teeth or a finger they get painted. Here each
pixel of the lips' box gets a probability of being lip from two pieces of evidence, added as log-odds:

- a prior from the landmarks, by signed distance (in mouth widths) to the outline: high inside the
  lip band, even at its outer edge, falling off within a couple of pixels outside it, and falling off
  from the inner contour into the mouth opening over ``OPENING_REACH`` (so the lip's real edge, up to the
  teeth, can be found there);
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
#: The colour evidence's weight and bound (log-likelihood ratio).
COLOR_WEIGHT = 1.0
COLOR_CLIP = 6.0
#: Blur (Gaussian sigma, mouth widths) of the colour evidence.
LLR_BLUR = 0.012
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
    h, w = geom.shape
    width = geom.width
    regions = M.lip_regions(geom)
    outer_in = (regions.outer >= 0.5).view(np.uint8)
    lips_in = (regions.lips >= 0.5).view(np.uint8)
    # signed distance to the outer outline (mouth widths, > 0 inside), distance into the opening
    d_in = cv2.distanceTransform(outer_in, cv2.DIST_L2, 3)
    d_out = cv2.distanceTransform(1 - outer_in, cv2.DIST_L2, 3)
    opening = cv2.subtract(outer_in, lips_in)
    d_open = cv2.distanceTransform(opening, cv2.DIST_L2, 3)
    inv = np.float32(1.0 / width)
    logit = np.where(d_out > 0, np.float32(EDGE_LOGIT) - d_out * np.float32(OUTSIDE_SLOPE * inv),
                     np.minimum(np.float32(EDGE_LOGIT) + d_in * np.float32(40.0 * inv), np.float32(BAND_LOGIT)))
    in_opening = opening > 0
    logit[in_opening] = np.float32(OPENING_LOGIT) - d_open[in_opening] * np.float32(1.0 / (OPENING_REACH * width))
    # colour evidence where the outline's feather reaches
    feather = regions.feather  # float32 (h, w): the outer outline's feathered ramp
    candidates = np.flatnonzero(feather.reshape(-1) > 0)
    if len(candidates) == 0:
        return candidates, np.zeros(0, np.float32)
    lab = to_features(roi.reshape(-1, 3)[candidates])
    evidence = np.zeros(h * w, np.float32)
    evidence[candidates] = _lip_llr(colors, lab)
    # averaged over a neighbourhood (about a hundredth of the mouth's width): one noisy pixel does not
    # flip, a region does
    sigma = max(0.7, LLR_BLUR * width)
    evidence = M.gaussian_blur(evidence.reshape(h, w), sigma, cv2.BORDER_REPLICATE)  # bounded cost (close-ups)
    logit += evidence * np.float32(COLOR_WEIGHT)
    np.clip(logit, -20.0, 20.0, out=logit)
    p = 1.0 / (1.0 + np.exp(-logit))
    guide = cv2.cvtColor(np.ascontiguousarray(roi), cv2.COLOR_BGR2GRAY).astype(np.float32)
    guide *= np.float32(1.0 / 255.0)
    radius = max(1, round(0.012 * width))
    p = cv2.ximgproc.guidedFilter(guide, p.astype(np.float32), radius, 0.03**2)
    t = np.clip((p - np.float32(PAINT_LO)) * np.float32(1.0 / (PAINT_HI - PAINT_LO)), 0.0, 1.0)
    alpha = t * t * (np.float32(3.0) - np.float32(2.0) * t)
    alpha *= feather
    index = np.flatnonzero(alpha.reshape(-1) > 1e-3)
    return index, alpha.reshape(-1)[index].astype(np.float32)


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

    log_lip = colors.lip.log_density(lab)  # type: ignore[union-attr]
    log_rest = np.full(len(lab), np.float32(math.log(S.OTHER_DENSITY) + math.log(0.3)))
    if colors.skin is not None:
        w = np.float32(skin_weight(colors))
        log_skin = colors.skin.log_density(lab) * w + log_lip * (np.float32(1.0) - w)
        log_rest = np.logaddexp(log_rest, log_skin + np.float32(math.log(0.7)))
    return np.clip(log_lip - log_rest, -COLOR_CLIP, COLOR_CLIP).astype(np.float32)
