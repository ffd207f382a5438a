"""Foreign objects in front of the mouth: a cup, a microphone, a straw, anything that is neither lips,
skin, teeth nor the mouth's inside, found from the face's own colour classes and made spatially coherent.

Hands have landmarks; a cup does not. What gives it away is its colour where the face's colour model
expects something else: on the lips' band a pixel should be lip (or skin, where the landmark outline is
a few pixels off and where pale lips look like skin), in the ring around them skin, in the mouth's opening
lip, skin, teeth or the dark inside. When the colour model found foreign colours among the pixels it
learned from (``ColorModel.foreign``; otherwise nothing is looked for, at no cost), on a coarse grid over
the mouth box (the mouth ``OBJECT_CELLS`` cells
wide, so the cost does not grow with the face), each cell gets the posterior of a flat "anything else"
class against the expected ones (:class:`~arlens.scene.colors.ColorModel`'s classes, the same priors as
``lip_probability``). The unexplained cells are cleaned (a morphological opening: a stray cell of noise or
a glint is no object) and grouped into connected regions; a region is an object only when it is coherent
as one:

- it covers part of the lips' band (at least ``MIN_BAND_SHARE`` of it): an object over the skin alone
  (a beard, a mole, a shadow) hides no lipstick;
- it comes from outside: it reaches the outer part of the ring or the box's edge (a cup, a microphone or
  a straw is held from outside the face; a glint or a dark seam inside the lips is not).

The kept regions are closed (a printed pattern or a grille's lines that happen to match the skin do not
punch holes in the cup), grown by ``GROW`` (its edge is where the grid is unsure), and brought back to
the frame's pixels by bilinear interpolation: a soft coverage over the mouth box, 1 on the object. A
lens subtracts it like a hand's mask (:meth:`arlens.scene.FaceScene.occlusion`); the lips' own colour
evidence (:mod:`arlens.render.lip_edges`) then settles the edge pixel by pixel.

An object of the lips' colour (a red cup) is explained by the lip class on the lips, which it teaches its
colour when it covers much of them; but the skin ring beyond the outline is no place for lip colour. When
much of the ring looks like the lips and not like the skin (``ColorModel.lip_coloured``), the part of that
which comes from outside is taken for an object, its colour learned as a class of its own, and the lips'
own colour from the cells on and near the lips that lie clearly outside it; cells there that the object's
class explains better than the lips' are the object too, and the regions are judged as above.

Grey under the face's light (:func:`~arlens.scene.colors.grey_point`: a white cup, a grey microphone) is neither
lip nor skin on the lips' band and in the ring, whatever the classes say: a lip class whose highlights reach
toward white would explain a white cup (Grace Hopper's, remembered in video from the frames before the cup), and
the skin class of a face in strong light can spread far enough to explain one too (so the colour model leaves
grey out of the skin it learns, :func:`~arlens.scene.colors.face_color_model`). Teeth in the mouth's opening stay
expected; teeth or a lip's highlight on the band are grey too, but come from inside, and are no object by the
rules above.

What it cannot see: an object of the very colour of the lips (nothing is left to tell them apart), and one
the colour of the skin, which the skin class explains (a finger: the hand tracker's business, and the lip
edges' colour evidence keeps paint off skin-coloured pixels on the lips).

Written here (OpenCV's morphology and connected components on a grid of a few thousand cells) because no
maintained library estimates occluders from a face's colour model.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from arlens import landmarks as L
from arlens.scene.colors import OTHER_DENSITY, PRIORS, ColorClass, ColorModel, fill_polygon, log_densities, to_features
from arlens.scene.regions import Box, box_shape, is_empty

#: Below this share of foreign samples among those the face's colour classes were learned from
#: (:attr:`~arlens.scene.colors.ColorModel.foreign`; about 0.003 on the clean test faces in any light, 0.37
#: to 0.55 with a cup or a microphone over half the mouth) the objects are not looked for: nothing in the
#: ring or on the lips is foreign, and the grid would find nothing either.
MIN_FOREIGN = 0.02
#: From this share of the skin ring's samples that look like the lips and not the skin
#: (:attr:`~arlens.scene.colors.ColorModel.lip_coloured`; at most 0.09 on the test faces in any light, 0.37 to
#: 0.43 with a red cup over a third to half of the mouth) an object of the lips' colour is looked for.
MIN_LIP_COLOURED = 0.2
#: Squared Mahalanobis distance under a lip-coloured object's class within which a cell may be the object (chi
#: square with three degrees of freedom: 99%); the lips' own class is learned from the cells beyond it.
OBJECT_D2 = 11.3
#: Cells across the mouth's width on the grid the objects are looked for on.
OBJECT_CELLS = 40
#: Posterior of "anything else" from which a cell is unexplained.
UNEXPLAINED = 0.8
#: Share of the lips' band cells a region must cover to count as an object in front of the lips.
MIN_BAND_SHARE = 0.02
#: The ring around the lips (mouth widths outside the outer outline) where skin is expected; a region
#: reaching beyond ``FAR_RING`` of it (or the box's edge) comes from outside.
RING = 0.35
FAR_RING = 0.2
#: Within this of the outer outline (mouth widths, either side) lip and skin are both expected.
EDGE = 0.05
#: The object's mask is grown by this (mouth widths, at least a cell): its edge is where the grid and the
#: colour classes are unsure, and paint beside a cup shows less than paint on it.
GROW = 0.02
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
_SQUARE = np.ones((3, 3), np.uint8)


def _mouth_parts(landmarks: np.ndarray, box: Box, step: float, shape: tuple[int, int], width: float):
    """Coarse-grid masks (uint8 0/1): inside the outer outline, inside the inner contour, and the distance
    (mouth widths) outside the outer outline."""
    lm = np.asarray(landmarks, dtype=np.float64)
    outer = np.zeros(shape, np.uint8)
    fill_polygon(outer, lm[list(L.lips_outer()), :2], box, 1, step)
    inner = np.zeros(shape, np.uint8)
    fill_polygon(inner, lm[list(L.lips_inner()), :2], box, 1, step)
    outside = cv2.distanceTransform(1 - outer, cv2.DIST_L2, 3) * np.float32(step / width)
    inside = cv2.distanceTransform(outer, cv2.DIST_L2, 3) * np.float32(step / width)
    return outer, inner, outside, inside


def object_mask(frame: np.ndarray, landmarks: np.ndarray, colors: ColorModel, box: Box) -> np.ndarray:
    """float32 (h, w) 0..1 over ``box`` (the mouth box): how much of each pixel a foreign object covers.

    Args:
        frame: the unrendered uint8 BGR frame.
        landmarks: the face's float32 (478, 3) landmarks (pixels).
        colors: the face's :class:`~arlens.scene.colors.ColorModel` (without a lip class nothing is found:
            nothing tells an object from the lips).
        box: (x0, y0, x1, y1) frame pixels, the face's mouth box.

    Returns:
        A new float32 array shaped like the box; zeros where no object is found.
    """
    h, w = box_shape(box)
    out = np.zeros((h, w), np.float32)
    lips = np.asarray(landmarks, dtype=np.float64)[list(L.lips_outer()), :2]
    if is_empty(box) or colors.lip is None or not np.isfinite(lips).all():
        return out
    lip_coloured = colors.lip_coloured >= MIN_LIP_COLOURED
    if colors.foreign < MIN_FOREIGN and not lip_coloured:  # the colours were learned from a ring and lips nothing
        return out  # foreign covers
    width = max(float(np.ptp(lips[:, 0])), 1.0)
    step = max(1, int(width // OBJECT_CELLS))
    grid = frame[box[1] : box[3] : step, box[0] : box[2] : step]
    gh, gw = grid.shape[:2]
    outer, inner, outside, inside = _mouth_parts(landmarks, box, step, (gh, gw), width)
    band = (outer > 0) & (inner == 0)
    opening = (outer > 0) & (inner > 0)
    ring = (outer == 0) & (outside <= RING)
    near_edge = np.where(outer > 0, inside, outside) <= EDGE
    lab = to_features(grid).reshape(-1, 3)
    p_lip, p_skin, p_other = PRIORS
    log_other = np.float32(math.log(OTHER_DENSITY * p_other))
    log_lip = colors.lip.log_density(lab).reshape(gh, gw) + np.float32(math.log(p_lip))
    if colors.skin is not None:
        log_skin = colors.skin.log_density(lab).reshape(gh, gw) + np.float32(math.log(p_skin))
    else:
        log_skin = np.full((gh, gw), -np.inf, np.float32)
    # what each place expects: the band lip or skin, the ring skin (lip too near the outline), the
    # opening anything of the mouth (teeth and the dark inside by their look relative to the skin)
    expected = np.where(ring & ~near_edge, log_skin, np.maximum(log_lip, log_skin))
    if opening.any() and colors.skin is not None:
        lab3 = lab.reshape(gh, gw, 3)
        skin_l = float(colors.skin.mean[0])
        skin_c = float(np.hypot(colors.skin.mean[1], colors.skin.mean[2]))
        mouthy = (np.hypot(lab3[..., 1], lab3[..., 2]) < 0.5 * skin_c) | (lab3[..., 0] < 0.5 * skin_l)
        expected = np.where(opening & mouthy, np.float32(np.inf), expected)
    # grey under the face's light (a white cup, a grey microphone) is neither lip nor skin, however far a lip
    # class's highlights reach toward white (teeth in the opening stay expected above)
    not_grey = colors.not_grey(lab)
    if not_grey is not None:
        grey = (not_grey.reshape(gh, gw) < np.float32(0.5)) & (band | ring)
        if grey.any():
            expected = np.where(grey, np.float32(-np.inf), expected)
    # posterior of "anything else" >= UNEXPLAINED  <=>  log_other - expected >= logit(UNEXPLAINED)
    unexplained = (log_other - expected >= np.float32(math.log(UNEXPLAINED / (1.0 - UNEXPLAINED)))) & (
        band | opening | ring)
    far = (outside > FAR_RING) & (outer == 0)
    border = np.zeros((gh, gw), bool)
    border[[0, -1], :] = True
    border[:, [0, -1]] = True
    if lip_coloured and colors.skin is not None:
        # where the ring expects skin alone and the lip class explains what the skin does not
        seen = unexplained & ring & ~near_edge & (log_lip > log_other)
        found = _lip_coloured_object(lab, seen, far | border, (outer > 0) | near_edge,
                                     band | (near_edge & (outer == 0)))
        if found is not None:
            unexplained |= found
    cand = cv2.morphologyEx(unexplained.view(np.uint8), cv2.MORPH_OPEN, _CROSS)
    if not cand.any():
        return out
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
    band_cells = max(int(band.sum()), 1)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        x, y, cw, ch, _ = stats[i]
        part = labels[y : y + ch, x : x + cw] == i
        on_band = int((part & band[y : y + ch, x : x + cw]).sum())
        if on_band < max(2, MIN_BAND_SHARE * band_cells):
            continue
        keep[i] = bool((part & (far | border)[y : y + ch, x : x + cw]).any())
    if not keep.any():
        return out
    found = keep[labels].view(np.uint8)
    found = cv2.morphologyEx(found, cv2.MORPH_CLOSE, _SQUARE)
    grow = max(1, math.ceil(GROW * width / step))
    found = cv2.dilate(found, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    # back to the box's pixels: cell (i, j) holds frame pixel (y0 + i step, x0 + j step)
    coarse = found.astype(np.float32)
    m = np.float32([[1.0 / step, 0.0, 0.0], [0.0, 1.0 / step, 0.0]])
    return cv2.warpAffine(coarse, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _lip_coloured_object(lab: np.ndarray, seen: np.ndarray, outside: np.ndarray, lips: np.ndarray,
                         lip_band: np.ndarray) -> np.ndarray | None:
    """bool (gh, gw): the cells of an object of the lips' colour held over the mouth from outside, or None.

    Args:
        lab: float32 (gh * gw, 3) the grid's colour coordinates.
        seen: bool (gh, gw), the ring's cells away from the outline (skin expected) that the skin does not explain
            and the lip class does; ``outside``: the far ring and the grid's edge (where what is held from outside
            comes from).
        lips: where the lips may be (inside the outline and near it); ``lip_band``: the part of that the lips'
            own colour is learned from (the band and the ring's edge, not the mouth's opening).
    """
    seen = cv2.morphologyEx(seen.view(np.uint8), cv2.MORPH_OPEN, _CROSS)
    n, labels = cv2.connectedComponents(seen, connectivity=8)
    if n <= 1:
        return None
    held = np.zeros(n, bool)
    held[labels[outside & (seen > 0)]] = True
    held[0] = False
    part = held[labels]
    if np.count_nonzero(part) < 12:
        return None
    thing = ColorClass.fit(lab[part.reshape(-1)])
    if thing is None:
        return None
    index = np.flatnonzero(lips.reshape(-1))
    d2 = thing.mahalanobis2(lab[index])
    own = lip_band.reshape(-1)[index] & (d2 > np.float32(OBJECT_D2))
    lip = ColorClass.fit(lab[index[own]])  # the lips' colour, from what clearly is not the object
    if lip is None:  # the lips look like the object: nothing tells them apart
        return part
    dens = log_densities((thing, lip), lab[index])
    on = (d2 <= np.float32(OBJECT_D2)) & (dens[:, 0] > dens[:, 1])
    part.reshape(-1)[index[on]] = True
    return part
