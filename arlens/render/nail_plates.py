"""Nail plates from the image: where a nail's polish goes, given its landmark outline and the frame.

The landmark outline (:func:`arlens.lenses.nails.nail_geometry`) says roughly where a nail is; the image
decides the rest, inside a small box around it:

- **On the finger only.** Paint stops a pixel or two inside the hand's silhouette, refined on the image
  (:meth:`arlens.scene.HandScene.mask`), so a nail outline that pokes past the fingertip or beside a
  thumb seen edge-on puts nothing on the background.
- **On its own finger.** Each pixel belongs to the finger whose bone it is nearest to, measured in each
  finger's own width, unless the other finger is nearer the camera there (MediaPipe's relative depth at
  the closest point of each bone): a finger in front hides the nail behind it, a neighbour's nail never
  spills over.
- **Over existing polish.** Within a search outline a little larger than the landmark nail, pixels unlike
  the hand's skin (its colour class, learned from the hand itself; far outside it in colour) are taken as
  the nail plate too, so old polish is painted over rather than left showing beside the new colour.
  Bare nails look much like skin; there the landmark outline decides. Where old polish shows, the image
  bounds the plate: the outline adds only what lies within the polish's convex hull (:func:`seen_plate`), so a
  curled finger's outline, placed past the tip, puts nothing on the palm it is pressed onto.

- **Between the finger's own sides.** Landmarks put a finger's axis a few pixels off its middle, and where
  the background is skin (another face, a skin-coloured wall) the hand's colour cannot tell the finger from
  it, so the silhouette is as far off as the landmarks. The finger's sides are found on the image instead
  (:func:`finger_sides`: the pair of colour edges across the distal phalanx, a finger's width apart, that
  is strongest), the nail is moved onto the middle between them and kept ``EDGE_GAP`` inside them
  (:func:`side_band`). Where no pair stands out (curled fingers pressed together: the edges between them
  are creases), the landmarks decide.

Written here (numpy and OpenCV on boxes of a few hundred pixels) because no maintained library segments
nail plates; ModiFace's published network is not open.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from arlens.landmarks import FINGERS
from arlens.scene.colors import ColorClass, to_features
from arlens.stats import median

#: The search outline for old polish, scaled about the nail's centre.
SEARCH_SCALE = 1.3
#: Squared colour distance from the hand's skin (Mahalanobis) from which a pixel counts as not skin at
#: all, and below which it counts as skin (smoothstep between).
UNLIKE_SKIN = (9.0, 25.0)
#: The least area of old polish seen on a nail (a fraction of its landmark outline's) from which the image, not
#: the outline, bounds the plate (:func:`seen_plate`).
POLISH_SEEN = 0.15
#: ... counting the pixels whose polish evidence (:func:`polish_evidence`) is above this, closed with a 5x5 disc.
POLISH_LEVEL = 0.25
_CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
#: Polish starts this many pixels inside the finger's silhouette and reaches full coverage this many
#: pixels further in.
EDGE_GAP = 2.0
EDGE_RAMP = 1.5
#: Which bones each finger's ownership is measured against: the last two of each chain.
_BONES = {name: ((pip, dip), (dip, tip)) for name, (tip, dip, pip) in FINGERS.items()}
_SHIFT = 4


def outline_coverage(outline: np.ndarray, box: tuple[int, int, int, int], sigma: float, scale: float = 1.0
                     ) -> np.ndarray:
    """float32 (h, w) anti-aliased, blurred coverage of a polygon (frame pixels) over ``box``, optionally
    scaled about its centroid."""
    x0, y0, x1, y1 = box
    pts = np.asarray(outline, dtype=np.float64)
    if scale != 1.0:
        c = np.add.reduce(pts, axis=0) / len(pts)  # the mean's sum and division, without its wrappers
        pts = c + (pts - c) * scale
    # to fixed point: the same operations in the same order as ((pts - origin) - 0.5) * 16 rounded, in place
    xy = pts - (float(x0), float(y0))
    xy -= 0.5
    xy *= float(1 << _SHIFT)
    fixed = np.rint(xy, out=xy).astype(np.int32)  # np.round to 0 decimals is rint
    canvas = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(canvas, [fixed], 255, lineType=cv2.LINE_AA, shift=_SHIFT)
    coverage = np.multiply(canvas, np.float32(1.0 / 255.0), dtype=np.float32)  # cast and scaled in one pass
    return cv2.GaussianBlur(coverage, (0, 0), sigma) if sigma > 0 else coverage


def _segments(px: np.ndarray, py: np.ndarray, ends: list[tuple[list[float], list[float]]]
              ) -> tuple[np.ndarray, np.ndarray]:
    """Distance from pixel centres (a (w,) row ``px`` and an (h,) column ``py``) to each segment a-b of ``ends`` (x,
    y, z plain floats) and the depth z at its closest point: float64 (K, h, w) each, all K segments in one pass of
    each operation (a nail's box is small enough that numpy's per-call cost, not its pixels, was most of the
    work). Each value is what the same float64 operations, in the same order, give for that segment alone."""
    # each segment's constants as (K, 1, 1) columns, worked out in plain floats (the same arithmetic)
    rows = []
    for (ax, ay, az), (bx, by, bz) in ends:
        abx, aby, abz = bx - ax, by - ay, bz - az
        rows.append((ax, ay, az, abx, aby, abz, max(abx**2 + aby**2, 1e-9)))
    ax, ay, az, abx, aby, abz, denom = np.array(rows).T.reshape(7, -1, 1, 1)
    px, py = px.reshape(1, 1, -1), py.reshape(1, -1, 1)
    # in place on the (K, h, w) temporaries
    t = (px - ax) * abx + (py - ay) * aby
    t /= denom
    np.minimum(np.maximum(t, 0.0, out=t), 1.0, out=t)
    dx = t * abx
    dx += ax
    np.subtract(px, dx, out=dx)
    dy = t * aby
    dy += ay
    np.subtract(py, dy, out=dy)
    dx *= dx
    dy *= dy
    dx += dy
    t *= abz
    t += az
    return np.sqrt(dx, out=dx), t


def _beyond(p: list[list[float]], finger: str, radius: float, box: tuple[int, int, int, int]) -> bool:
    """Whether every pixel centre of ``box`` is at least ``radius`` from ``finger``'s bones (their bounding box
    is that far from the pixel centres' box), so the finger owns none of them and need not be measured. ``p``: the
    landmarks as plain floats (the same float64 arithmetic as numpy's scalars, a tenth of the cost)."""
    (a, b), (_, c) = _BONES[finger]
    xs, ys = (p[a][0], p[b][0], p[c][0]), (p[a][1], p[b][1], p[c][1])
    x0, y0, x1, y1 = box
    gap_x = max(min(xs) - (x1 - 0.5), (x0 + 0.5) - max(xs), 0.0)
    gap_y = max(min(ys) - (y1 - 0.5), (y0 + 0.5) - max(ys), 0.0)
    # a margin over the radius for the rounding of the distances measured (a pixel at 1.0 radii is not owned)
    return math.hypot(gap_x, gap_y) > max(radius, 1e-6) * (1.0 + 1e-6) + 1e-6


def finger_ownership(
    landmarks: np.ndarray, finger: str, radii: dict[str, float], box: tuple[int, int, int, int]
) -> np.ndarray:
    """float32 (h, w) 0/1: the pixels of ``box`` that belong to ``finger`` rather than another finger.

    Args:
        landmarks: the hand's (21, 3) landmarks (pixels; z MediaPipe's relative depth in pixels).
        finger: a key of :data:`arlens.landmarks.FINGERS`.
        radii: each finger's half width in pixels.
        box: frame pixels (x0, y0, x1, y1).
    """
    x0, y0, x1, y1 = box
    # a row of x and a column of y: what depends on one coordinate only is computed once per column or row,
    # the rest broadcast to the box (the same values as on full grids)
    px = np.arange(x0, x1, dtype=np.float64) + 0.5
    py = np.arange(y0, y1, dtype=np.float64) + 0.5
    p = np.asarray(landmarks, dtype=np.float64).tolist()
    # the finger's own bones and those of every other finger near enough to own a pixel, measured together
    fingers = [finger] + [other for other in FINGERS if other != finger and not _beyond(p, other, radii[other], box)]
    if len(fingers) == 1:  # no other finger reaches the box: all of it is the finger's
        return np.ones((y1 - y0, x1 - x0), np.float32)
    d, z = _segments(px, py, [(p[a], p[b]) for name in fingers for a, b in _BONES[name]])
    d /= np.array([max(radii[name], 1e-6) for name in fingers for _ in _BONES[name]]).reshape(-1, 1, 1)
    # each finger's nearer bone (the second where strictly nearer than the first)
    closer = d[1::2] < d[::2]
    d, z = np.where(closer, d[1::2], d[::2]), np.where(closer, z[1::2], z[::2])
    own_d, own_z = d[0], z[0]
    d, z = d[1:], z[1:]
    depth_margin = 0.25 * radii[finger]
    on_other = d < 1.0
    in_front = z < own_z - depth_margin
    behind = z > own_z + depth_margin
    # a finger in front takes its pixels; beside one at about the same depth, the nearer bone wins
    taken = (on_other & in_front) | (on_other & ~behind & (d < own_d))
    return (~taken.any(axis=0)).astype(np.float32)


def polish_evidence(roi: np.ndarray, skin: ColorClass | None) -> np.ndarray:
    """float32 (h, w) 0..1: how unlike the hand's skin each pixel of ``roi`` (uint8 BGR) is (0 without a
    skin class): old polish, or a nail plate that stands out from the finger."""
    if skin is None:
        return np.zeros(roi.shape[:2], np.float32)
    d2 = skin.mahalanobis2(to_features(roi).reshape(-1, 3)).reshape(roi.shape[:2])
    lo, hi = UNLIKE_SKIN
    t = ((d2 - np.float32(lo)) * np.float32(1.0 / (hi - lo))).clip(0.0, 1.0)  # np.clip's values, without its wrapper
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


#: :func:`largest_blob` flood-fills at most this many blobs before it labels them all at once instead.
MAX_FILLS = 16


def largest_blob(binary: np.ndarray) -> tuple[int, np.ndarray] | None:
    """The largest 8-connected blob of a uint8 0/1 image: its pixel count and its pixels as int32 (n, 1, 2) x, y
    in row-major order, or None when the image is empty. Among blobs of the same size, the one
    ``cv2.connectedComponentsWithStats`` labels first: the first to reach a 2x2 block in the blocks' raster order
    (its 8-connectivity labelling numbers blobs so; a 2x2 block holds at most one blob).

    Each blob is flood-filled from its first pixel in that order: OpenCV hands a labelling of four rows or more
    to its thread pool, whose worker then spins for about 0.4 ms of CPU after each call, far more than a nail's
    few blobs cost to fill. An image of more than ``MAX_FILLS`` blobs (speckle) is labelled in one call.
    """
    h, w = binary.shape
    ys, xs = np.nonzero(binary)
    if len(ys) == 0:
        return None
    # the set pixels' flat indices in 2x2-block raster order (a stable sort: row-major within a block)
    flat_index = ys * w + xs
    candidates = flat_index[np.argsort((ys >> 1) * w + (xs >> 1), kind="stable")]
    work = binary.copy()
    flat = work.reshape(-1)
    best_area, best_seed, start = 0, (0, 0), 0
    for _ in range(MAX_FILLS):
        left = flat[candidates[start:]]  # 1 where a candidate is in no blob filled yet
        k = int(left.argmax())
        if not left[k]:
            break
        start += k
        seed = (int(candidates[start] % w), int(candidates[start] // w))
        area = cv2.floodFill(work, None, seed, 0, flags=8)[0]  # the blob cleared, its pixels counted
        if area > best_area:
            best_area, best_seed = area, seed
        start += 1
        if start == len(candidates):
            break
    else:
        if flat[candidates[start:]].any():  # more blobs than fills: label them all
            count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
            biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            return int(stats[biggest, cv2.CC_STAT_AREA]), cv2.findNonZero((labels == biggest).view(np.uint8))
    work = binary.copy()
    cv2.floodFill(work, None, best_seed, 2, flags=8)
    return best_area, cv2.findNonZero((work == 2).view(np.uint8))


def seen_plate(
    polish: np.ndarray, inside: np.ndarray, prior: np.ndarray, box: tuple[int, int, int, int], sigma: float
) -> np.ndarray:
    """float32 (h, w) 0..1: where the landmark outline may still add bare-looking pixels to the plate when old
    polish is seen on the nail, else 1 everywhere.

    The outline of a curled finger's nail is placed past the tip landmark, and on a fist seen palm-first it
    lies partly on the palm beyond the nail's free edge. Where old polish shows (the largest blob of
    unlike-skin pixels on the hand inside the search outline, at least ``POLISH_SEEN`` of the outline's area)
    the image shows the plate: the outline then adds only what lies within the blob's convex hull (a nail plate
    is convex: chips and a bare free edge inside it stay painted), feathered like the outline.
    """
    # speckled evidence (polish dim in the light, on a deep skin tone, close to the skin's colour) joined up
    seen = cv2.morphologyEx(((polish > POLISH_LEVEL) & (inside > 0)).astype(np.uint8), cv2.MORPH_CLOSE, _CLOSE)
    seen &= inside
    blob = largest_blob(seen)
    if blob is None or blob[0] < POLISH_SEEN * float(prior.sum()):
        return np.ones(prior.shape, np.float32)
    hull = cv2.convexHull(blob[1])[:, 0, :].astype(np.float64)
    # pixel indices to frame pixel centres, pushed half a pixel out (the hull of centres is a pixel too small)
    c = np.add.reduce(hull, axis=0) / len(hull)  # the mean's sum and division, without its wrappers
    v = hull - c
    n = np.maximum(np.hypot(v[:, 0], v[:, 1]), 1e-9)[:, None]
    outline = hull + 0.5 + np.array(box[:2], np.float64) + v / n * 0.5
    return outline_coverage(outline, box, sigma)


def nail_plate(
    roi: np.ndarray,
    box: tuple[int, int, int, int],
    outline: np.ndarray,
    sigma: float,
    landmarks: np.ndarray,
    finger: str,
    radii: dict[str, float],
    silhouette: np.ndarray,
    skin: ColorClass | None,
) -> np.ndarray:
    """float32 (h, w) 0..1: where the polish of one nail goes in ``box`` (see the module docstring).

    Args:
        roi: uint8 (h, w, 3) BGR of the unrendered frame over ``box``.
        box: frame pixels (x0, y0, x1, y1).
        outline: float32 (V, 2) the landmark nail outline (frame pixels).
        sigma: the edge's feather (pixels).
        landmarks: the hand's (21, 3) landmarks.
        finger: the nail's finger.
        radii: each finger's half width (pixels).
        silhouette: float32 (h, w) the hand's refined mask over ``box``.
        skin: the hand's skin colour class (None: no polish search).
    """
    prior = outline_coverage(outline, box, sigma)
    search = outline_coverage(outline, box, sigma, SEARCH_SCALE)
    evidence = polish_evidence(roi, skin)
    inside = (silhouette > 0.5).astype(np.uint8)
    polish = search * evidence
    prior *= seen_plate(polish, inside, prior, box, sigma)
    plate = np.maximum(prior, polish)
    # polish stops short of the finger's edge: a nail plate is narrower than its finger (the nail folds
    # at its sides), and the silhouette's edge is a pixel uncertain
    depth = cv2.distanceTransform(cv2.copyMakeBorder(inside, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1), cv2.DIST_L2,
                                  3)[1:-1, 1:-1]
    t = ((depth - np.float32(EDGE_GAP)) * np.float32(1.0 / EDGE_RAMP)).clip(0.0, 1.0)
    plate *= t * t * (np.float32(3.0) - np.float32(2.0) * t)
    # the finger's ownership last, and only over the part of the box where the plate is not 0 already: it is 0 or
    # 1, so multiplying by it is exact in any order, and a smaller box has fewer pixels and fewer fingers near
    rows = np.flatnonzero(plate.any(axis=1))
    if rows.size:
        cols = np.flatnonzero(plate.any(axis=0))
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        part = (box[0] + c0, box[1] + r0, box[0] + c1, box[1] + r1)
        plate[r0:r1, c0:c1] *= finger_ownership(landmarks, finger, radii, part)
    return plate


#: Where :func:`finger_sides` looks for a finger's sides: from ``SIDE_SEARCH[0]`` to ``SIDE_SEARCH[1]``
#: finger radii either side of the landmark axis, for a pair ``SIDE_WIDTH`` radii apart; a pair counts when
#: its mean edge strength is ``SIDE_CONTRAST`` times the profile's median gradient.
SIDE_SEARCH = (0.1, 1.5)
SIDE_WIDTH = (1.2, 2.4)
SIDE_CONTRAST = 6.0
#: Profiles across the phalanx, spaced along the nail (fractions of its half length), and their step (px).
SIDE_ALONG = (-0.6, -0.3, 0.0, 0.3, 0.6)
SIDE_STEP = 0.5
#: The most samples a profile across the finger takes: a finger wider than this many steps (a close-up, or a
#: hand far larger than the frame) is sampled more coarsely, so the cost does not grow with the hand's size
#: (the pairs scored grow with the square of the samples). 512 samples still put two per pixel on a
#: finger 80 px wide.
SIDE_MAX_SAMPLES = 512
#: The most a nail is moved across its finger onto the middle between the sides found (finger radii).
MAX_SHIFT = 0.5


def finger_sides(
    frame: np.ndarray, centre: np.ndarray, direction: np.ndarray, half_length: float, radius: float
) -> tuple[float, float] | None:
    """The finger's two sides across its distal phalanx, found on the image: (left, right) in pixels along
    the across direction ``(-dy, dx)`` of the unit ``direction`` (DIP -> tip), from ``centre``, or None.

    Colour profiles across the finger (:data:`SIDE_ALONG` positions along the nail, sampled bilinearly every
    ``SIDE_STEP`` px) are differentiated and averaged; the pair of positions, one each side of the axis and
    a finger's width apart (:data:`SIDE_WIDTH` radii), with the strongest mean edge is the finger's sides,
    unless its edges are no stronger than ``SIDE_CONTRAST`` times the median gradient (nothing stands out).

    Args:
        frame: uint8 BGR frame.
        centre: (2,) pixel coordinates the profiles are centred on (the nail's centre).
        direction: (2,) the finger's direction in the image (normalised here).
        half_length: the nail's half length (pixels).
        radius: the finger's half width from the landmarks (pixels).
    """
    d = np.asarray(direction, dtype=np.float64)
    norm = float(np.hypot(d[0], d[1]))
    if norm < 1e-6 or radius < 2.0 or not all(math.isfinite(v) for v in np.asarray(centre).tolist()):
        return None
    d /= norm
    n = np.array([-d[1], d[0]])
    reach = SIDE_SEARCH[1] * radius
    step = max(SIDE_STEP, 2.0 * reach / SIDE_MAX_SAMPLES)
    across = np.arange(-reach - step, reach + step + 1e-6 * step, step)
    along = np.asarray(SIDE_ALONG) * half_length
    pts = np.asarray(centre, dtype=np.float64)[None, None] + along[:, None, None] * d + across[None, :, None] * n
    h, w = frame.shape[:2]
    # the grid's extremes are at its corners (along and across are sorted, float rounding is monotonic)
    (x00, y00), (x01, y01), (x10, y10), (x11, y11) = pts[:: len(along) - 1, :: len(across) - 1].reshape(4, 2).tolist()
    if (max(x00, x01, x10, x11) < 0 or max(y00, y01, y10, y11) < 0 or min(x00, x01, x10, x11) > w
            or min(y00, y01, y10, y11) > h):  # the profiles miss the frame: nothing to see
        return None
    maps = (pts - 0.5).astype(np.float32)  # pixel centres at integers for remap
    # sampled as one row of (x, y) points: each sample is its own point's (the same values as the profiles' grid),
    # and OpenCV runs a remap of one row in the calling thread; a grid of several rows it hands to its thread
    # pool, whose worker then spins for about half a millisecond of CPU, ten times what the sampling costs
    prof = cv2.remap(frame, maps.reshape(1, -1, 2), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(
        maps.shape[0], maps.shape[1], -1)
    # each step's colour change summed over channels and profiles (exact in integers, as it was in float32), then
    # the profiles' mean: float64 division rounded to float32 is float32's own division (53 >= 2 x 24 + 2 bits)
    g = (cv2.absdiff(prof[:, 1:], prof[:, :-1]).sum(axis=(0, 2)) / float(len(prof))).astype(np.float32)
    g = np.convolve(g, [0.25, 0.5, 0.25], mode="same")
    mid = 0.5 * (across[1:] + across[:-1])
    # the step midpoints either side of the axis: mid ascends (so does any rounding of it), so each side's (those
    # strictly between its two bounds) are a run, found by bisection
    l0, r0 = np.searchsorted(mid, (-SIDE_SEARCH[1] * radius, SIDE_SEARCH[0] * radius), side="right").tolist()
    l1, r1 = np.searchsorted(mid, (-SIDE_SEARCH[0] * radius, SIDE_SEARCH[1] * radius), side="left").tolist()
    if l1 <= l0 or r1 <= r0:
        return None
    left, right = mid[l0:l1], mid[r0:r1]
    width = right[None, :] - left[:, None]
    score = np.where((width >= SIDE_WIDTH[0] * radius) & (width <= SIDE_WIDTH[1] * radius),
                     0.5 * (g[l0:l1, None] + g[None, r0:r1]), -1.0)
    i, j = divmod(int(score.argmax()), score.shape[1])
    # (the bar is at least SIDE_CONTRAST: below it, no need of the median)
    if not score[i, j] > SIDE_CONTRAST or not score[i, j] > SIDE_CONTRAST * max(median(g), 1.0):
        return None
    return float(left[i]), float(right[j])


def side_band(
    box: tuple[int, int, int, int], centre: np.ndarray, across: np.ndarray, left: float, right: float
) -> np.ndarray:
    """float32 (h, w) 0..1 over ``box``: 1 between ``left`` and ``right`` (pixels along the unit ``across``
    direction from ``centre``) less ``EDGE_GAP``, falling to 0 over ``EDGE_RAMP`` toward each."""
    x0, y0, x1, y1 = box
    xs = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - centre[0])
    ys = np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - centre[1])
    a = xs[None, :] * np.float32(across[0]) + ys[:, None] * np.float32(across[1])
    inside = np.minimum(a - np.float32(left), np.float32(right) - a)
    t = ((inside - np.float32(EDGE_GAP)) * np.float32(1.0 / EDGE_RAMP)).clip(0.0, 1.0)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


def finger_radii(hand_width: float, widths: dict[str, float]) -> dict[str, float]:
    """Each finger's half width in pixels from the hand's mean finger width and the relative widths."""
    return {name: 0.5 * hand_width * widths[name] for name in FINGERS if not math.isnan(widths[name])}
