"""Hand silhouettes: where a tracked hand covers the frame, from its 21 landmarks refined on the image.

The landmarks give the skeleton; the silhouette is drawn around it as capsules (a round-capped thick
line per finger bone, tapering slightly toward the tips) and the palm's polygon, with widths taken from
the hand's own size in 3D (the index-to-pinky knuckle span and the palm's length, whichever says the
hand is larger, so a hand seen edge-on keeps its fingers' width). That outline is within a few pixels
of the true one; near it, the pixel's colour decides (the hand's own colour class against that of
what surrounds it, both learned from this frame), so the edge lands on the finger's side against the
lips or a background (:func:`hand_mask`). Against skin of the same colour the landmarks decide.

Only the requested box is rasterised and refined, so a lens asking for the hands over its lips pays for
its lips' box, not the hand's (the colour classes are learned once per hand, on its box shrunk to 64 px).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from arlens.landmarks import HandLandmark as H
from arlens.scene.colors import MAX_SAMPLES, ColorClass, log_densities, to_features
from arlens.scene.regions import Box, box_around, box_shape, every_kth_pixel, is_empty, take_pixels
from arlens.tracking.results import MAX_COORDINATE, Hand

#: Joints of each finger from the palm out (the thumb from its CMC).
FINGER_CHAINS: tuple[tuple[int, ...], ...] = (
    (H.THUMB_CMC, H.THUMB_MCP, H.THUMB_IP, H.THUMB_TIP),
    (H.INDEX_FINGER_MCP, H.INDEX_FINGER_PIP, H.INDEX_FINGER_DIP, H.INDEX_FINGER_TIP),
    (H.MIDDLE_FINGER_MCP, H.MIDDLE_FINGER_PIP, H.MIDDLE_FINGER_DIP, H.MIDDLE_FINGER_TIP),
    (H.RING_FINGER_MCP, H.RING_FINGER_PIP, H.RING_FINGER_DIP, H.RING_FINGER_TIP),
    (H.PINKY_MCP, H.PINKY_PIP, H.PINKY_DIP, H.PINKY_TIP),
)
#: Outline of the palm (wrist, thumb base, knuckles).
PALM = (H.WRIST, H.THUMB_CMC, H.THUMB_MCP, H.INDEX_FINGER_MCP, H.MIDDLE_FINGER_MCP, H.RING_FINGER_MCP, H.PINKY_MCP)
#: Each finger's width relative to the mean finger width (thumb, index, middle, ring, pinky).
FINGER_WIDTH = (1.15, 1.0, 1.0, 0.95, 0.85)
#: The index-to-pinky knuckle span in mean finger widths; the palm's length (wrist to middle knuckle)
#: in mean finger widths.
KNUCKLE_SPAN_FINGERS = 3.2
PALM_LENGTH_FINGERS = 4.6
#: Width at the fingertip relative to the finger's base (fingers taper).
TIP_TAPER = 0.85
#: How far the palm's edge lies outside the polygon of its joints, in finger widths (both sides: the
#: outline is drawn this thick, centred on the polygon).
PALM_RIM = 1.0
#: The wrist and forearm continue below the wrist landmark this far (palm lengths).
FOREARM = 0.35
_SHIFT = 3  # fractional bits of cv2's drawing coordinates
#: Side (pixels) the hand's box is shrunk to for learning its colours.
COLOR_SIDE = 48
#: The hand class is learned deeper inside the silhouette than this, the surround between this and
#: ``RING`` outside it (finger widths).
CORE = 0.33
RING = 1.0
#: Prior log-odds of "hand" per finger width of distance inside the landmark outline, as 1 / this.
EDGE_SCALE = 0.06
#: Beyond this many finger widths from the landmark outline the prior's log-odds (1 / ``EDGE_SCALE`` a
#: finger width) outweigh any colour evidence (``COLOR_WEIGHT`` x ``COLOR_CLIP``): colours are not looked at.
COLOR_REACH = 0.75
#: Weight and bound of the colour log-likelihood ratio in the refinement.
COLOR_WEIGHT = 0.6
COLOR_CLIP = 12.0
#: The 3x3 neighbourhood the refined mask's blur reads.
_BLUR_KERNEL = np.ones((3, 3), np.uint8)
#: From this many pixels whose colours the refinement would look at, a caller's ``need`` (:func:`hand_mask`) is
#: asked for and the colours looked at only where it reads: a close-up's mouth box holds over 10,000 (the
#: colours cost about 14 us a thousand pixels); below, working out what is needed costs about what it saves.
NEED_MIN_PIXELS = 4000
#: From this finger width (pixels) on, the distance to the landmark outline is measured on a grid of every
#: second pixel and interpolated: a close-up's hand (a webcam-size face's is about 41 px wide) then costs
#: what a webcam's does, and an error of a pixel moves the prior by under 1 / (``EDGE_SCALE`` x 48) = 0.35
#: log-odds, next to colour evidence of up to ``COLOR_WEIGHT`` x ``COLOR_CLIP`` = 7.2.
HALF_RES_FINGER = 48.0


def finger_width(hand: Hand) -> float:
    """The hand's mean finger width in pixels, from its 3D size (robust to a hand seen edge-on); at least a
    pixel (a hand whose landmarks coincide divided by zero where widths scale a slope)."""
    return _finger_width(np.asarray(hand.landmarks, dtype=np.float64))


def _finger_width(p: np.ndarray) -> float:
    """:func:`finger_width` of float64 (21, 3) landmarks (in plain floats: it runs several times per hand and
    frame, and numpy's norm of a 3-vector costs more than the arithmetic)."""
    span = math.dist(p[H.PINKY_MCP].tolist(), p[H.INDEX_FINGER_MCP].tolist())
    palm = math.dist(p[H.MIDDLE_FINGER_MCP].tolist(), p[H.WRIST].tolist())
    return max(span / KNUCKLE_SPAN_FINGERS, palm / PALM_LENGTH_FINGERS, 1.0)


def hand_box(hand: Hand, shape: tuple[int, ...]) -> Box:
    """The frame pixels a hand's silhouette can reach: its landmarks plus a finger width and the forearm."""
    p = np.asarray(hand.landmarks, dtype=np.float64)
    if not np.isfinite(p).all():
        return 0, 0, 0, 0
    wrist = p[H.WRIST, :2]
    forearm = wrist + FOREARM * (wrist - p[H.MIDDLE_FINGER_MCP, :2])
    return box_around(np.vstack([p[:, :2], forearm]), 1.5 * _finger_width(p) + 2, shape)


def _fixed(points: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """Frame pixel coordinates -> cv2 drawing coordinates (pixel centres at integers) in fixed point."""
    xy = (np.asarray(points, dtype=np.float64)[..., :2] - np.array(origin, dtype=np.float64) - 0.5) * (1 << _SHIFT)
    # far off-canvas points (a hand half out of frame) are clamped: cv2 clips the drawing itself
    np.rint(xy, out=xy)
    np.maximum(xy, -(1 << 28), out=xy)  # np.clip's value, without its wrappers (three calls per hand and frame)
    np.minimum(xy, 1 << 28, out=xy)
    return xy.astype(np.int32)


#: The finger bones as (start, end) landmark indices and their radius in mean finger widths (the finger's
#: relative width, tapering toward the tip), in drawing order.
_BONES = tuple(
    (a, b, rel, 1.0 - (1.0 - TIP_TAPER) * (k + 1) / (len(chain) - 1))
    for chain, rel in zip(FINGER_CHAINS, FINGER_WIDTH, strict=True)
    for k, (a, b) in enumerate(zip(chain, chain[1:], strict=False))
)
#: The capsules drawn after the palm: the wrist's (forearm point 21 to the wrist), then the bones, as
#: (S, 2) start and end indices of the drawing points; their half widths relative to the finger width and
#: their taper (the wrist's entries unused: its width is set apart).
_SEGMENTS = np.array([[21, H.WRIST]] + [[a, b] for a, b, _, _ in _BONES], dtype=np.intp)
_BONE_HALF_REL = np.array([0.0] + [0.5 * rel for _, _, rel, _ in _BONES])
_BONE_TAPER = np.array([1.0] + [taper for _, _, _, taper in _BONES])
for _table in (_SEGMENTS, _BONE_HALF_REL, _BONE_TAPER):
    _table.setflags(write=False)
#: The bones' (half width relative to the finger width, taper) as plain floats, in drawing order.
_BONE_REL_TAPER = tuple(zip(_BONE_HALF_REL[1:].tolist(), _BONE_TAPER[1:].tolist(), strict=True))
_PALM_POINTS = list(PALM) + [21]  # the forearm point is the 22nd of the drawing points


def hand_prior(hand: Hand, box: Box, antialias: bool = True, grow: float = 0.0) -> np.ndarray:
    """The landmark silhouette of ``hand`` over ``box``: float32 (h, w) 0..1, no image used.

    Anti-aliased by default; ``antialias=False`` draws hard 0/1 edges, several times faster (OpenCV's
    anti-aliased thick lines are polygons filled with coverage), for callers that only threshold it.
    ``grow`` widens every part by that many pixels.
    """
    canvas = _silhouette(np.asarray(hand.landmarks, dtype=np.float64), box, antialias, grow)
    return canvas.astype(np.float32) * np.float32(1.0 / 255.0)


def _silhouette(p: np.ndarray, box: Box, antialias: bool = False, grow: float = 0.0,
                width: float | None = None) -> np.ndarray:
    """:func:`hand_prior` of float64 (21, 3) landmarks as uint8 (h, w) 0 or 255 (0..255 anti-aliased).

    The bones are drawn as one ``cv2.polylines`` call per line width (a two-point polyline is the same
    round-capped thick line as ``cv2.line``): the same pixels as a call per bone, without fifteen calls'
    overhead, for what several callers draw per hand and frame. ``width``: :func:`_finger_width` of ``p``,
    when the caller has it. The line widths are worked out in plain floats (sixteen numbers: numpy's
    per-call cost is most of what this function spends).
    """
    h, w = box_shape(box)
    canvas = np.zeros((h, w), dtype=np.uint8)
    if h == 0 or w == 0:
        return canvas
    width = _finger_width(p) if width is None else width
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    # every point in drawing coordinates at once: the landmarks and the forearm's point below the wrist (in
    # plain floats: the same float64 arithmetic as on the rows), moved to fixed point in place (as _fixed)
    points = np.empty((22, 2))
    points[:21] = p[:, :2]
    (wx, wy), (mx, my) = p[H.WRIST, :2].tolist(), p[H.MIDDLE_FINGER_MCP, :2].tolist()
    points[21] = ((wx - mx) * FOREARM + wx, (wy - my) * FOREARM + wy)
    points -= (float(box[0]), float(box[1]))
    points -= 0.5
    points *= float(1 << _SHIFT)
    np.rint(points, out=points)
    np.maximum(points, -(1 << 28), out=points)
    np.minimum(points, 1 << 28, out=points)
    fixed = points.astype(np.int32)
    hull = cv2.convexHull(fixed[_PALM_POINTS].reshape(-1, 1, 2))
    cv2.fillConvexPoly(canvas, hull, 255, line, _SHIFT)
    # the palm's flesh reaches past the line through its joints (the heel, the thumb's ball)
    cv2.polylines(canvas, [hull], True, 255, _thickness(PALM_RIM * width + 2.0 * grow), line, _SHIFT)
    # the wrist's width: a capsule from the forearm to the wrist as wide as the palm's base; then the bones
    # (the same float64 arithmetic as an array's, rounded half to even by round() as by np.rint)
    thick = [_thickness(2.6 * width + 2.0 * grow)] + [
        min(max(1, round((rel * width * taper + grow) * 2.0)), 32767) for rel, taper in _BONE_REL_TAPER
    ]
    segments = fixed[_SEGMENTS]  # (S, 2, 2) int32: start and end of each capsule
    # only the capsules that reach the canvas are drawn (cv2 would clip the others, at a cost); every one
    # does when all the points lie on the canvas (a canvas over the whole hand: no test per capsule)
    # (the points' extent in plain ints, 44 numbers: numpy's axis reductions of a (22, 2) array cost more)
    xs, ys = fixed.T.tolist()
    right, bottom = (w + 1) << _SHIFT, (h + 1) << _SHIFT
    if min(xs) >= 0 and min(ys) >= 0 and max(xs) <= right and max(ys) <= bottom:
        drawn: Iterable[int] = range(len(segments))
    else:  # each capsule's extent grown by its radius against the canvas, in plain ints (sixteen capsules)
        drawn = []
        for i, ((ax, ay), (bx, by)) in enumerate(segments.tolist()):
            r = (thick[i] << _SHIFT) // 2 + (1 << _SHIFT)
            if min(ax, bx) - r <= right and max(ax, bx) + r >= 0 and min(ay, by) - r <= bottom and \
                    max(ay, by) + r >= 0:
                drawn.append(i)
    if antialias:  # anti-aliased edges blend with what is drawn: in the bones' order, one at a time
        for i in drawn:
            cv2.polylines(canvas, [segments[i]], False, 255, thick[i], line, _SHIFT)
        return canvas
    groups: dict[int, list[np.ndarray]] = {}
    for i in drawn:
        groups.setdefault(thick[i], []).append(segments[i])
    for t, polys in groups.items():
        cv2.polylines(canvas, polys, False, 255, t, line, _SHIFT)
    return canvas


def _thickness(px: float) -> int:
    """A line width cv2 draws: at least 1, at most its 32,767 (a hand near the 1e6 px coordinate bound asked
    for more, and cv2 asserted: found by tests/fuzz)."""
    return min(max(1, round(px)), 32767)


def _scaled(hand: Hand, origin: tuple[float, float], sx: float, sy: float) -> np.ndarray:
    """float64 (21, 3) landmarks of ``hand`` taken to a grid whose cell (0, 0) starts at frame pixel
    ``origin`` and whose cells are ``1 / sx`` by ``1 / sy`` frame pixels (rounded to float32, as a Hand
    holds them)."""
    lm = np.asarray(hand.landmarks, dtype=np.float64) - np.array([origin[0], origin[1], 0.0])
    lm *= np.array([sx, sy, sx])
    # moved to the grid's corner: a far point may pass the bound (np.clip's values, without its wrappers)
    np.minimum(np.maximum(lm, -MAX_COORDINATE, out=lm), MAX_COORDINATE, out=lm)
    return lm.astype(np.float32).astype(np.float64)


@dataclass(frozen=True)
class SilhouetteGrid:
    """A hand's landmark silhouette on a coarse grid, for testing many points at once by lookup.

    Attributes:
        box: (x0, y0, x1, y1) frame pixels the grid covers.
        step: frame pixels per cell.
        cells: bool (h, w), True where the silhouette covers the cell (read-only).
    """

    box: Box
    step: float
    cells: np.ndarray

    @functools.cached_property
    def _bordered(self) -> np.ndarray:
        """The cells with a row and column of False around them: a point outside the grid is looked up on
        the border (one gather, no mask of the points inside)."""
        h, w = self.cells.shape
        out = np.zeros((h + 2, w + 2), dtype=bool)
        out[1 : h + 1, 1 : w + 1] = self.cells
        return out

    def covers(self, points: np.ndarray) -> np.ndarray:
        """bool (n,): which of the (n, >=2) frame pixel ``points`` fall in a covered cell."""
        h, w = self.cells.shape
        # cell indices (column, row) + 1, clamped onto the False border (fmax/fmin take a NaN point there too),
        # both coordinates at once
        cell = np.asarray(points, dtype=np.float64)[:, :2] - np.array(self.box[:2], dtype=np.float64)
        cell /= self.step
        np.floor(cell, out=cell)
        np.fmin(np.fmax(cell, -1.0, out=cell), np.array([float(w), float(h)]), out=cell)
        cell += 1.0
        index = cell.astype(np.intp)
        flat = index[:, 1] * (w + 2)
        flat += index[:, 0]
        return np.take(self._bordered.reshape(-1), flat)


#: Cells per finger width of a :class:`SilhouetteGrid`.
GRID_CELLS_PER_FINGER = 4.0


def silhouette_grid(hand: Hand, shape: tuple[int, ...], grow: float = 0.0, reach: Box | None = None,
                    width: float | None = None) -> SilhouetteGrid:
    """The hand's landmark silhouette grown by ``grow`` pixels, on a grid of ``GRID_CELLS_PER_FINGER``
    cells per finger width over what it can reach (clipped to a frame of ``shape``).

    Within half a cell of :func:`covers` (which tests exactly, at a cost per point and bone): for the
    hundreds of points a colour model samples or a face mesh holds, a lookup. ``reach``: :func:`hand_box`
    of the hand, when the caller has it.
    """
    reach = hand_box(hand, shape) if reach is None else reach
    if is_empty(reach):
        return SilhouetteGrid(reach, 1.0, np.zeros((0, 0), bool))
    pad = int(math.ceil(grow))
    box = (max(0, reach[0] - pad), max(0, reach[1] - pad), min(int(shape[1]), reach[2] + pad),
           min(int(shape[0]), reach[3] + pad))
    step = max(1.0, (finger_width(hand) if width is None else width) / GRID_CELLS_PER_FINGER)
    h, w = box_shape(box)
    gh, gw = max(1, math.ceil(h / step)), max(1, math.ceil(w / step))
    small = _scaled(hand, (box[0], box[1]), 1.0 / step, 1.0 / step)
    cells = _silhouette(small, (0, 0, gw, gh), grow=grow / step) > 127
    cells.setflags(write=False)
    return SilhouetteGrid(box, step, cells)


@dataclass(frozen=True)
class HandColors:
    """The colours of a hand and of what surrounds it, learned from the frame (either may be None).

    Attributes:
        hand: the skin along the hand's bones.
        around: a ring just outside the landmark silhouette (background, face, lips: whatever is there).
    """

    hand: ColorClass | None
    around: ColorClass | None


def hand_colors(frame: np.ndarray, hand: Hand, reach: Box | None = None, width: float | None = None) -> HandColors:
    """Learn :class:`HandColors` on the hand's box shrunk to about ``COLOR_SIDE`` pixels.

    The hand class takes the silhouette's deep inside (more than ``CORE`` finger widths from the
    outline); the surround class a ring from ``CORE`` to ``RING`` finger widths outside it. ``reach``:
    :func:`hand_box` of the hand, ``width``: its :func:`finger_width`, when the caller has them.
    """
    box = hand_box(hand, frame.shape) if reach is None else reach
    if is_empty(box):
        return HandColors(None, None)
    width = finger_width(hand) if width is None else width
    h, w = box_shape(box)
    scale = min(1.0, COLOR_SIDE / max(h, w))
    # every k-th pixel down to about twice the size, then area-averaged: the means of the area resize at
    # a fraction of its cost on a large box
    step = max(1, max(h, w) // (2 * COLOR_SIDE))
    region = every_kth_pixel(frame, box, step)
    small_w, small_h = max(1, round(w * scale)), max(1, round(h * scale))
    if scale < 1.0:
        region = cv2.resize(region, (small_w, small_h), interpolation=cv2.INTER_AREA)
    sx, sy = small_w / w, small_h / h
    # the silhouette at the small scale: landmarks scaled about the box's corner
    small = _scaled(hand, (box[0], box[1]), sx, sy)
    inside = (_silhouette(small, (0, 0, small_w, small_h)) > 127).view(np.uint8)
    din = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    dout = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)
    ws = width * sx
    core = din > CORE * ws
    ring = (dout > CORE * ws) & (dout <= RING * ws)
    # only the pixels the classes learn from are converted, thinned as the fit would thin them (every k-th
    # of more than MAX_SAMPLES): the same samples, in one conversion of a compact (n, 3) array
    pixels = region.reshape(-1, 3)
    core_px = _thinned(pixels.compress(core.reshape(-1), axis=0))  # compress: a third of pixels[mask]'s cost
    ring_px = _thinned(pixels.compress(ring.reshape(-1), axis=0))
    lab = to_features(np.concatenate([core_px, ring_px]))
    return HandColors(ColorClass.fit(lab[: len(core_px)]), ColorClass.fit(lab[len(core_px) :]))


def _thinned(samples: np.ndarray) -> np.ndarray:
    """Every k-th of (n, 3) samples when there are more than ``MAX_SAMPLES``, as :meth:`ColorClass.fit` thins
    them (so converting only these gives the fit the same samples)."""
    if len(samples) <= MAX_SAMPLES:
        return samples
    return samples[:: -(-len(samples) // MAX_SAMPLES)]


def hand_mask(
    frame: np.ndarray, hand: Hand, box: Box, refine: bool = True,
    colors: HandColors | Callable[[], HandColors] | None = None, reach: Box | None = None,
    need: np.ndarray | Callable[[], np.ndarray] | None = None, width: float | None = None,
) -> np.ndarray:
    """How much of each pixel of ``box`` the hand covers: float32 (h, w) 0..1.

    Args:
        frame: the unrendered uint8 BGR frame the hand was tracked in.
        hand: the tracked hand.
        box: the frame pixels wanted (x0, y0, x1, y1), inside the frame.
        refine: move the landmark outline onto the image (see below); False gives the landmark
            silhouette alone.
        colors: the hand's :class:`HandColors`, or a function that returns them (called only when the
            refinement looks at colours: not for a box the hand's silhouette misses, nor for one it covers
            whole), or None: learned here when needed.
        reach: :func:`hand_box` of the hand, when the caller has it.
        need: optional bool (h, w) over ``box``, or a function that returns it: the pixels whose values the
            caller reads (a lens's painted pixels). When the colours would be looked at on ``NEED_MIN_PIXELS``
            or more pixels, they are looked at only where the needed pixels' values depend on them (``need``
            is called only then); elsewhere the values are the landmark prior's alone (what a pixel farther
            than ``COLOR_REACH`` from the outline gets anyway). The needed pixels get what they get without.
        width: the hand's :func:`finger_width`, when the caller has it.

    Refinement: near the landmark outline (within about half a finger width) a pixel is hand or not by
    its colour: the log-likelihood ratio of the hand's colour class against its surround's is added to
    prior log-odds that grow with the distance from the outline (``EDGE_SCALE`` finger widths per unit),
    so deep inside or far outside the landmarks decide, and at the edge the image does (the colours are
    looked at there only: farther than ``COLOR_REACH`` finger widths from the outline the prior alone
    is beyond what any colour could turn). A 3x3 blur then anti-aliases the result.

    Returns:
        A new float32 (h, w) array; zeros where the hand does not reach.
    """
    out = np.zeros(box_shape(box), dtype=np.float32)
    reach = hand_box(hand, frame.shape) if reach is None else reach
    x0, y0 = max(box[0], reach[0]), max(box[1], reach[1])
    x1, y1 = min(box[2], reach[2]), min(box[3], reach[3])
    if x1 <= x0 or y1 <= y0:
        return out
    if not refine:
        out[y0 - box[1] : y1 - box[1], x0 - box[0] : x1 - box[0]] = hand_prior(hand, (x0, y0, x1, y1))
        return out
    p = np.asarray(hand.landmarks, dtype=np.float64)
    width = _finger_width(p) if width is None else width
    # the distance to the outline needs the outline: work on the overlap plus a margin (and a pixel for
    # the final 3x3 blur)
    m = int(math.ceil(0.6 * width)) + 2
    work = (max(reach[0], x0 - m), max(reach[1], y0 - m), min(reach[2], x1 + m), min(reach[3], y1 + m))
    # the part wanted and a pixel around it (for the blur): the signed distance of those pixels only
    ax0, ay0 = max(x0 - 1, work[0]), max(y0 - 1, work[1])
    ax1, ay1 = min(x1 + 1, work[2]), min(y1 + 1, work[3])
    if width >= HALF_RES_FINGER:
        signed = _half_res_signed(hand, work, width, (ax0, ay0, ax1, ay1))
        if signed is None:
            return out
    else:
        inside = (_silhouette(p, work, width=width) > 127).view(np.uint8)  # 0 or 1
        if not inside.any():
            return out
        din = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
        dout = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)
        part = (slice(ay0 - work[1], ay1 - work[1]), slice(ax0 - work[0], ax1 - work[0]))
        signed = np.subtract(din[part], dout[part])
        # a work box the hand covers whole has no outline in it: OpenCV's distance is then its "no zero pixel"
        # value (about 1e38); nothing is farther than the box's diagonal
        diag = np.float32(math.hypot(*inside.shape))
        signed.clip(-diag, diag, out=signed)  # one pass (numpy's clip ufunc; the same values as max then min)
    logit = signed * np.float32(1.0 / (EDGE_SCALE * width))
    near = np.abs(signed) < np.float32(COLOR_REACH * width)
    if need is not None and np.count_nonzero(near) >= NEED_MIN_PIXELS:
        # only where a needed pixel's 3x3 blur reads the logit
        wanted = np.zeros(near.shape, np.uint8)
        wanted[y0 - ay0 : y1 - ay0, x0 - ax0 : x1 - ax0] = np.asarray(need() if callable(need) else need, dtype=bool)[
            y0 - box[1] : y1 - box[1], x0 - box[0] : x1 - box[0]]
        near &= cv2.dilate(wanted, _BLUR_KERNEL, borderType=cv2.BORDER_CONSTANT, borderValue=0).view(np.bool_)
    index = np.flatnonzero(near.reshape(-1))
    if len(index):  # the colours are learned (or asked for) only when some pixel is near enough to the outline
        if colors is None:
            colors = hand_colors(frame, hand, reach)
        elif callable(colors):
            colors = colors()
        if colors.hand is not None and colors.around is not None:
            logit.reshape(-1)[index] += _llr(colors, take_pixels(frame, (ax0, ay0, ax1, ay1), index))
    logit.clip(np.float32(-30.0), np.float32(30.0), out=logit)  # (the method: np.clip without its wrapper)
    refined = np.exp(-logit)
    refined += np.float32(1.0)
    np.divide(np.float32(1.0), refined, out=refined)
    refined = cv2.blur(refined, (3, 3))
    out[y0 - box[1] : y1 - box[1], x0 - box[0] : x1 - box[0]] = refined[y0 - ay0 : y1 - ay0, x0 - ax0 : x1 - ax0]
    return out


def _half_res_signed(hand: Hand, work: Box, width: float, part: Box) -> np.ndarray | None:
    """Signed distance (pixels, > 0 inside) to the landmark outline over frame box ``part`` (inside ``work``),
    measured on ``work`` at half resolution and interpolated bilinearly: float32 (h, w), or None when the
    silhouette misses ``work``. For a close-up's hand (:data:`HALF_RES_FINGER`)."""
    h, w = box_shape(work)
    small = _scaled(hand, (work[0], work[1]), 0.5, 0.5)
    hs, ws = (h + 1) // 2, (w + 1) // 2
    inside = (_silhouette(small, (0, 0, ws, hs), width=0.5 * width) > 127).view(np.uint8)
    if not inside.any():
        return None
    signed = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    signed -= cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)
    # a work box the hand covers whole has no outline in it: OpenCV's distance is then its "no zero pixel"
    # value (about 1e38); nothing is farther than the box's diagonal
    diag = np.float32(math.hypot(hs, ws))
    signed.clip(-diag, diag, out=signed)
    signed *= np.float32(2.0)
    # to the part's pixels: frame pixel x's centre lies at (x - work x0 + 0.5) / 2 - 0.5 on the half grid
    m = np.float32([[0.5, 0.0, 0.5 * (part[0] - work[0]) - 0.25], [0.0, 0.5, 0.5 * (part[1] - work[1]) - 0.25]])
    return cv2.warpAffine(signed, m, box_shape(part)[::-1], flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _llr(colors: HandColors, bgr: np.ndarray) -> np.ndarray:
    """The weighted, bounded colour log-likelihood ratio of hand against surround of uint8 (n, 3) BGR pixels."""
    dens = log_densities((colors.hand, colors.around), to_features(bgr))
    llr = dens[:, 0] - dens[:, 1]
    llr.clip(-COLOR_CLIP, COLOR_CLIP, out=llr)
    llr *= np.float32(COLOR_WEIGHT)
    return llr


def _segments(hand: Hand) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The capsules of the landmark silhouette as arrays: starts (S, 2), ends (S, 2), radii (S,) in
    pixels, and the palm's convex hull (V, 2)."""
    p = np.asarray(hand.landmarks, dtype=np.float64)
    width = finger_width(hand)
    wrist = p[H.WRIST, :2]
    forearm = wrist + FOREARM * (wrist - p[H.MIDDLE_FINGER_MCP, :2])
    starts, ends, radii = [forearm], [wrist], [1.3 * width]
    for chain, rel in zip(FINGER_CHAINS, FINGER_WIDTH, strict=True):
        for k, (a, b) in enumerate(zip(chain, chain[1:], strict=False)):
            taper = 1.0 - (1.0 - TIP_TAPER) * (k + 1) / (len(chain) - 1)
            starts.append(p[a, :2])
            ends.append(p[b, :2])
            radii.append(0.5 * rel * width * taper)
    palm = np.vstack([p[list(PALM), :2], forearm[None]])
    hull = cv2.convexHull(palm.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    starts.extend(hull)
    ends.extend(np.roll(hull, -1, axis=0))
    radii.extend([0.5 * PALM_RIM * width] * len(hull))
    return np.array(starts), np.array(ends), np.array(radii), hull


def covers(hand: Hand, points: np.ndarray, grow: float = 0.0) -> np.ndarray:
    """bool (n,): which of the (n, >=2) pixel ``points`` lie inside the hand's landmark silhouette,
    grown by ``grow`` pixels.

    The same capsules and palm as :func:`hand_prior`, tested analytically (no raster), for sparse
    points such as the face mesh's vertices: every point against every capsule in one array operation.
    """
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    out = np.zeros(len(pts), dtype=bool)
    if not np.isfinite(np.asarray(hand.landmarks)).all() or len(pts) == 0:
        return out
    a, b, r, hull = _segments(hand)
    r = r + grow
    # a quick rejection: points beyond every capsule's reach are out
    lo = np.minimum(a, b).min(axis=0) - r.max()
    hi = np.maximum(a, b).max(axis=0) + r.max()
    near = np.flatnonzero(((pts >= lo) & (pts <= hi)).all(axis=1))
    if len(near) == 0:
        return out
    q = pts[near].astype(np.float32)
    ab = (b - a).astype(np.float32)  # (S, 2)
    px = q[:, :1] - a[:, 0].astype(np.float32)  # (n, S)
    py = q[:, 1:] - a[:, 1].astype(np.float32)
    t = px * ab[:, 0]
    t += py * ab[:, 1]
    t *= (1.0 / np.maximum((ab * ab).sum(axis=1), 1e-12)).astype(np.float32)
    np.clip(t, 0.0, 1.0, out=t)
    px -= t * ab[:, 0]
    py -= t * ab[:, 1]
    px *= px
    py *= py
    px += py
    inside = (px <= (r * r).astype(np.float32)).any(axis=1)
    if len(hull) >= 3:
        edges = np.roll(hull, -1, axis=0) - hull
        cross = edges[None, :, 0] * (q[:, None, 1] - hull[None, :, 1]) - edges[None, :, 1] * (
            q[:, None, 0] - hull[None, :, 0]
        )
        inside |= (cross >= 0).all(axis=1) | (cross <= 0).all(axis=1)
    out[near] = inside
    return out
