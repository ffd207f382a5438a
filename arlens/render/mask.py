"""Lip masks and lip-local maps from face landmarks, computed inside the lips' bounding box only.

Everything here is a pure function of the landmarks (and the frame size), so the same landmarks
always give bit-identical maps: the mask never flickers on its own and the shimmer pattern is fixed
to the lips. Coordinates: landmark x, y are image pixels with pixel ``i`` spanning ``[i, i + 1)``
(MediaPipe's normalised coordinates times the image size).

The maps a lipstick composite needs are, channel by channel:

0. ``mask``: lip coverage 0..1, the outer contour minus the mouth opening, anti-aliased from a
   4x supersampled fill and feathered by an amount proportional to the mouth width. The feather
   is biased inwards so that it spills at most about 1 px beyond the lip contour.
1. ``liner``: a band along the outer contour (0..1, inside the mask), for a lip liner.
2. ``gloss``: where a glossy lower lip catches the light: a smooth blob over the fullest part of the
   lower lip, in lip-local coordinates.
3. ``sparkle``: the shimmer pattern: sparse round glints on a lip-local grid whose cells are
   switched on by an integer hash of the cell index, so it moves with the lips and never re-randomises.

Only the painted pixels (mask > 0, about a third of the box) matter to a composite, so the maps are
computed for those pixels alone (:func:`lip_pixels`, float32 (n, 4) with the pixels' flat indices in
the box); :func:`lip_maps` scatters them into a dense (h, w, 4) stack, zero where the mask is zero.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from arlens import landmarks as named
from arlens.errors import InputError
from arlens.render.coverage import box_average, spline_matrix

#: Number of maps in the stack returned by :func:`lip_maps`.
NUM_MAPS = 4
MASK, LINER, GLOSS, SPARKLE = range(NUM_MAPS)

_SUPERSAMPLE = 4  # per axis: coverage.box_average averages 4x4 blocks
_SHIFT = 4  # fixed-point bits for cv2.fillPoly
_SPLINE_STEPS = 4  # Catmull-Rom samples per landmark segment
#: Feather (Gaussian sigma) as a fraction of the mouth width, and its bounds in pixels.
DEFAULT_FEATHER = 0.02
_MIN_SIGMA = 0.5
#: How far (pixels) the feathered mask may reach beyond the hard lip contour.
_MAX_SPILL = 0.9
#: Pixels around the outer contour's extent that the box keeps: a pixel at least half covered lies
#: within 0.5 px of it and the feather reaches one pixel further, so nothing is painted beyond 1.5 px.
_BOX_PAD = 2.0
#: A liner's blur (Gaussian sigma) as a fraction of its band's half-width.
LINER_SOFTNESS = 0.4
#: Shimmer grid: cells across the mouth width (16: a glint 3-5 px across on a 100 px mouth, a face at
#: arm's length from a 720p webcam), glint radius in cell units, share of cells with a glint.
_SPARKLE_CELLS = 16
_SPARKLE_RADIUS = 0.36
_SPARKLE_DENSITY = 0.55
#: A glint is a flake: a small mirror tilted off the lip's surface by up to ``_FACET_TILT`` (its slope,
#: uniform over a disc). It flashes when its normal meets the half vector within about ``_FACET_LOBE``
#: (slope units), and glows at ``_FACET_BASE`` of its brightness otherwise: as the head turns against
#: the light, other flakes flash (the twinkle), while each stays where it is on the lips.
_FACET_TILT = 0.45
_FACET_LOBE = 0.12
_FACET_BASE = 0.5


@functools.cache
def _lip_index() -> np.ndarray:
    """Landmark indices of the outer lip loop followed by the inner one, intp (2K,)."""
    outer, inner = named.lips_outer(), named.lips_inner()
    if len(outer) != len(inner):  # pragma: no cover - both loops of MediaPipe's table have 20 points
        raise RuntimeError(f"expected lip loops of equal length, got {len(outer)} and {len(inner)}")
    return np.array(outer + inner, dtype=np.intp)


@dataclass(frozen=True)
class LipGeometry:
    """The lips of one face, ready for rasterising.

    Attributes:
        box: (x0, y0, x1, y1) integer pixel box in the frame (x1, y1 exclusive) that holds the lips,
            their feather and a margin, clipped to the frame.
        outer: float32 (K, 2) smoothed outer contour in box-local drawing coordinates (pixel centres
            at integers).
        inner: float32 (K, 2) smoothed inner contour (the mouth opening), same coordinates.
        origin: float32 (2,) midpoint of the mouth corners, box-local drawing coordinates.
        axis_u: float32 (2,) unit vector from the subject's right mouth corner to the left one.
        axis_v: float32 (2,) unit vector perpendicular to ``axis_u``, towards the chin.
        width: mouth width (corner to corner) in pixels.
        sigma: feather (Gaussian sigma) in pixels.
    """

    box: tuple[int, int, int, int]
    outer: np.ndarray
    inner: np.ndarray
    origin: np.ndarray
    axis_u: np.ndarray
    axis_v: np.ndarray
    width: float
    sigma: float

    @cached_property
    def extent(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of the outer contour, box-local drawing coordinates."""
        cols = np.ascontiguousarray(self.outer.T)  # per coordinate: an axis-0 reduction of (K, 2) costs more
        lo, hi = cols.min(axis=1), cols.max(axis=1)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    @cached_property
    def contours(self) -> np.ndarray:
        """float32 (2, K, 2): ``outer`` and ``inner`` stacked."""
        return np.stack([self.outer, self.inner])

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w) of the box."""
        x0, y0, x1, y1 = self.box
        return y1 - y0, x1 - x0

    def local_uv(self, index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Lip-local coordinates of pixel centres, in mouth widths: float32 u and v.

        Args:
            index: flat (row-major) indices of the box pixels to evaluate, intp (n,); None for every
                pixel of the box.

        Returns:
            u and v, each float32 (h, w), or (n,) when ``index`` is given (the same values).
        """
        h, w = self.shape
        if index is None:
            xs = (np.arange(w, dtype=np.float32) - self.origin[0])[None, :]
            ys = (np.arange(h, dtype=np.float32) - self.origin[1])[:, None]
        else:
            flat = index.astype(np.float32)  # exact below 2**24
            rows = np.floor((flat + np.float32(0.5)) * np.float32(1.0 / w))  # exact: the fraction is >= 0.5/w
            xs = flat - rows * np.float32(w) - self.origin[0]
            ys = rows - self.origin[1]
        inv = np.float32(1.0 / self.width)
        u = (xs * (self.axis_u[0] * inv) + ys * (self.axis_u[1] * inv)).astype(np.float32, copy=False)
        v = (xs * (self.axis_v[0] * inv) + ys * (self.axis_v[1] * inv)).astype(np.float32, copy=False)
        return u, v


def _corners(outer: np.ndarray) -> tuple[int, int]:
    """Indices (in loop order) of the two outer-contour points farthest apart: the mouth corners."""
    pts = outer.astype(np.float64)
    # squared distances of every pair, exact in float64 (differences and squares of float32 values)
    d = np.subtract.outer(pts[:, 0], pts[:, 0])
    dy = np.subtract.outer(pts[:, 1], pts[:, 1])
    d *= d
    dy *= dy
    d += dy
    i, j = divmod(int(np.argmax(d)), len(outer))
    return (i, j) if i < j else (j, i)


def lip_geometry(
    landmarks: np.ndarray, frame_shape: tuple[int, ...], feather: float = DEFAULT_FEATHER, margin: float = 0.0
) -> LipGeometry | None:
    """Lip contours, box and lip-local frame of one face.

    Args:
        landmarks: float32 (478, 3) or (478, 2) landmark pixels in MediaPipe's order.
        frame_shape: the frame's shape, (H, W, ...).
        feather: feather sigma as a fraction of the mouth width (0 for the sharpest edge, 0.5 px).
        margin: extra pixels around the lips to include in the box.

    Returns:
        The geometry, or None when the lips lie entirely outside the frame or are degenerate.
    """
    pts = np.asarray(landmarks, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[0] != named.NUM_FACE_LANDMARKS or pts.shape[1] < 2:
        raise InputError(f"landmarks: expected an array of shape (478, 2 or 3), got {pts.shape}")
    lips = pts[_lip_index(), :2]  # a new array
    lips -= np.float32(0.5)  # to OpenCV drawing coordinates
    if not math.isfinite(float(lips.sum())):  # a NaN or infinity anywhere propagates into the sum
        return None
    k = len(lips) // 2
    outer_lm = lips[:k]
    i, j = _corners(outer_lm)
    cr, cl = outer_lm[i], outer_lm[j]
    width = math.hypot(float(cl[0] - cr[0]), float(cl[1] - cr[1]))
    if width < 2.0:
        return None
    sigma = max(_MIN_SIGMA, feather * width)
    spline = spline_matrix(k, _SPLINE_STEPS, closed=True)
    contours = spline @ lips.reshape(2, k, 2)  # (2, K * steps, 2): outer and inner loops, one matmul call
    outer = contours[0]
    pad = _BOX_PAD + margin
    cols = np.ascontiguousarray(outer.T)  # per coordinate: an axis-0 reduction of (K, 2) costs more
    lo = cols.min(axis=1)
    hi = cols.max(axis=1)
    fh, fw = int(frame_shape[0]), int(frame_shape[1])
    x0, y0 = max(0, math.floor(lo[0] - pad)), max(0, math.floor(lo[1] - pad))
    x1, y1 = min(fw, math.ceil(hi[0] + pad) + 1), min(fh, math.ceil(hi[1] + pad) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    off = np.array([x0, y0], dtype=np.float32)
    axis_u = ((cl - cr) / np.float32(width)).astype(np.float32)
    axis_v = np.array([-axis_u[1], axis_u[0]], dtype=np.float32)
    contours -= off  # both loops in one array, kept for gloss_map
    geom = LipGeometry(
        box=(x0, y0, x1, y1),
        outer=contours[0],
        inner=contours[1],
        origin=(cr + cl) * np.float32(0.5) - off,
        axis_u=axis_u,
        axis_v=axis_v,
        width=width,
        sigma=sigma,
    )
    # the outer contour's extent, known already (a float32 shift keeps the order and the extremes)
    lo -= off
    hi -= off
    geom.__dict__["extent"] = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    geom.__dict__["contours"] = contours
    return geom


def _fixed(points: np.ndarray, scale: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Drawing coordinates (minus an integer ``offset``) -> fixed-point int32 for cv2 at ``scale``x."""
    one = 1 << _SHIFT
    shift = np.array([0.5 * scale - 0.5 - offset[0] * scale, 0.5 * scale - 0.5 - offset[1] * scale], np.float32)
    fixed = points * np.float32(scale * one)
    fixed += shift * np.float32(one)
    return np.rint(fixed, out=fixed).astype(np.int32)


def _reach(sigma: float) -> int:
    """Pixels a float32 ``cv2.GaussianBlur`` of ``sigma`` reads on each side (its radius, 4 sigma), plus one."""
    return math.ceil(4.0 * sigma) + 1


def _region(geom: LipGeometry, pad: float, reach: int = 1) -> tuple[int, int, int, int]:
    """Box-local (x0, y0, x1, y1) holding the box and the outer contour's extent plus ``pad`` pixels.

    Wider than the box only where the frame cut it: rasterising there and cropping gives the same
    values at the box's pixels as an unclipped box would (a blur sees the lips beyond the frame edge).
    It reaches at most ``reach`` pixels beyond the box (the blur's radius: farther pixels cannot change
    the box's values), so the work is bounded by the box, which lies in the frame, not by the landmarks.
    """
    h, w = geom.shape
    x_min, y_min, x_max, y_max = geom.extent
    return (
        max(-reach, min(0, math.floor(x_min - pad))),
        max(-reach, min(0, math.floor(y_min - pad))),
        min(w + reach, max(w, math.ceil(x_max + pad) + 1)),
        min(h + reach, max(h, math.ceil(y_max + pad) + 1)),
    )


def _supersampled(geom: LipGeometry, region: tuple[int, int, int, int], draw) -> np.ndarray:
    """Coverage (float32, region-sized) of what ``draw(canvas, fixed, scale)`` paints with 1s at 4x4 samples.

    ``fixed(points)`` turns box-local drawing coordinates into the canvas's fixed-point coordinates and
    ``scale`` is canvas pixels per box pixel (for line widths).
    """
    rx0, ry0, rx1, ry1 = region
    h, w = ry1 - ry0, rx1 - rx0
    big = np.zeros((h * _SUPERSAMPLE, w * _SUPERSAMPLE), dtype=np.uint8)
    draw(big, lambda points: _fixed(points, _SUPERSAMPLE, (rx0, ry0)), float(_SUPERSAMPLE))
    return box_average(big, h, w)


#: Above this feather sigma (pixels) a blurred raster is computed on a grid ``k`` times coarser, where its
#: sigma is 8-16 cells, and interpolated back (bilinear): a Gaussian that wide is smooth on such a grid
#: (bilinear error at most k^2 / 8 * max|f''| <= 0.24 / 8^2, under 1/255 of the blurred coverage), and the
#: cost stays proportional to the box's pixels instead of growing with sigma * box, which made close-ups
#: of 2,800-11,000 px mouths take seconds to minutes. Below it (mouths under 800 px at the default
#: feather) the raster is exact as before.
_COARSE_SIGMA = 16.0


def gaussian_blur(image: np.ndarray, sigma: float, border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """``cv2.GaussianBlur`` of a float32 (h, w) map whose cost does not grow with ``sigma``.

    Up to ``_COARSE_SIGMA`` it is the exact blur. Above it the map is area-averaged onto a grid ``k`` times
    coarser (sigma 8-16 cells there), blurred, and interpolated back (bilinear): a close-up's blur of the
    whole lip box (an 11,000 px mouth: sigma over 100 px on 12 MP) cost tens of seconds.
    """
    if sigma <= _COARSE_SIGMA:
        return cv2.GaussianBlur(image, (0, 0), sigma, borderType=border)
    k = int(sigma // (_COARSE_SIGMA / 2))
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, -(-w // k)), max(1, -(-h // k))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / k, borderType=border)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _coarse_blurred(geom: LipGeometry, draw, sigma: float, pad: float) -> np.ndarray:
    """``draw``'s supersampled coverage blurred by ``sigma``, at the box's pixels (float32 (h, w)), on a coarse grid.

    Coarse cell ``c`` covers box pixels ``[cx0 + c * k, cx0 + (c + 1) * k)``; the blur runs on the cells
    and the box's pixels are interpolated from them as ``cv2.resize`` maps pixel centres.
    """
    k = int(sigma // (_COARSE_SIGMA / 2))  # sigma / k in [8, 16) cells
    h, w = geom.shape
    reach = _reach(sigma / k) + 1  # cells
    x_min, y_min, x_max, y_max = geom.extent
    # the region in box pixels as in _region, one extra cell each side, aligned to whole cells
    cx0 = (math.floor(max(-reach * k, min(0, math.floor(x_min - pad))) / k) - 1) * k
    cy0 = (math.floor(max(-reach * k, min(0, math.floor(y_min - pad))) / k) - 1) * k
    cx1 = min(w + reach * k, max(w, math.ceil(x_max + pad) + 1)) + k
    cy1 = min(h + reach * k, max(h, math.ceil(y_max + pad) + 1)) + k
    cw, ch = -(-(cx1 - cx0) // k), -(-(cy1 - cy0) // k)
    big = np.zeros((ch * _SUPERSAMPLE, cw * _SUPERSAMPLE), dtype=np.uint8)
    shift = np.float32([0.5 - cx0, 0.5 - cy0])

    def fixed(points: np.ndarray) -> np.ndarray:  # box drawing coordinates -> cell drawing coordinates
        return _fixed((points + shift) * np.float32(1.0 / k) - np.float32(0.5), _SUPERSAMPLE)

    draw(big, fixed, _SUPERSAMPLE / k)
    blurred = cv2.GaussianBlur(box_average(big, ch, cw), (0, 0), sigma / k, borderType=cv2.BORDER_CONSTANT)
    # bilinear from the cells back to the box's pixels (centre of pixel x at cell (x - cx0 + 0.5) / k - 0.5),
    # rows then columns: the box's size in work and memory, however large k is
    rows, ty = _bilinear_taps(h, cy0, k)
    cols, tx = _bilinear_taps(w, cx0, k)
    band = blurred[rows] * (1.0 - ty)[:, None] + blurred[rows + 1] * ty[:, None]  # (h, cw)
    return band[:, cols] * (1.0 - tx) + band[:, cols + 1] * tx


def _bilinear_taps(n: int, c0: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For pixels 0..n-1 of a box whose cells start at pixel ``c0``: the left cell index and weight of the right."""
    u = (np.arange(n, dtype=np.float64) - c0 + 0.5) / k - 0.5
    left = np.floor(u)
    return left.astype(np.intp), (u - left).astype(np.float32)


def _draw_lips(canvas: np.ndarray, fixed, scale: float, geom: LipGeometry) -> None:
    outer, inner = fixed(geom.contours)  # both loops in one conversion
    cv2.fillPoly(canvas, [outer], 1, cv2.LINE_8, _SHIFT)
    cv2.fillPoly(canvas, [inner], 0, cv2.LINE_8, _SHIFT)


def _lips_drawer(geom: LipGeometry):
    return lambda canvas, fixed, scale: _draw_lips(canvas, fixed, scale, geom)


def _coverage_region(geom: LipGeometry, reach: int = 1) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    region = _region(geom, _BOX_PAD, reach)
    return _supersampled(geom, region, _lips_drawer(geom)), region


def _crop(image: np.ndarray, geom: LipGeometry, region: tuple[int, int, int, int]) -> np.ndarray:
    """The box's part of a region-sized image (a view)."""
    h, w = geom.shape
    return image[-region[1] : h - region[1], -region[0] : w - region[0]]


def lip_coverage(geom: LipGeometry) -> np.ndarray:
    """Area coverage (0..1, float32 (h, w)) of the lip region: outer contour minus the mouth opening.

    The polygons are filled at 4x4 supersampling with sub-pixel vertices and averaged, so the
    coverage changes smoothly as the landmarks move by fractions of a pixel.
    """
    coverage, region = _coverage_region(geom)
    return np.ascontiguousarray(_crop(coverage, geom, region))


def hard_lip_mask(geom: LipGeometry) -> np.ndarray:
    """Binary (bool (h, w)) lip region: pixels at least half covered. The reference for lip-only checks."""
    return lip_coverage(geom) >= 0.5


def _feather_range(sigma: float) -> tuple[np.float32, np.float32]:
    """(lo, 1 / (hi - lo)): the blurred coverage's remap so the soft edge lies inside the contour."""
    # For a straight edge the blurred coverage is Phi(d / sigma) at signed distance d (inside > 0);
    # start the ramp at most _MAX_SPILL px outside and end it one sigma inside.
    spill = min(0.6 * sigma, _MAX_SPILL)
    lo = 0.5 * math.erfc(spill / sigma / math.sqrt(2.0))
    hi = 0.5 * math.erfc(-1.0 / math.sqrt(2.0))
    return np.float32(lo), np.float32(1.0 / (hi - lo))


def _smoothstep_ramp(blurred: np.ndarray, lo: np.float32, scale: np.float32) -> np.ndarray:
    t = blurred - lo
    t *= scale
    np.clip(t, 0.0, 1.0, out=t)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)  # smoothstep


_SUPPORT_KERNEL = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def _painted(geom: LipGeometry) -> tuple[np.ndarray, np.ndarray]:
    """The painted pixels: flat box indices intp (n,) (ascending) and their feathered mask float32 (n,) > 0.

    The feather is confined to pixels at most one pixel (4-neighbour) from the hard lip region, so
    where both lips blur into a narrow wedge (the mouth opening near its corners) none spills onto teeth.
    """
    lo, scale = _feather_range(geom.sigma)
    if geom.sigma > _COARSE_SIGMA:  # a close-up: the feather on a coarse grid, the hard region at 1x
        blurred = np.ascontiguousarray(_coarse_blurred(geom, _lips_drawer(geom), geom.sigma, _BOX_PAD))
        h, w = geom.shape
        hard = np.zeros((h + 2, w + 2), dtype=np.uint8)  # pixel centres inside, a pixel to spare each side
        _draw_lips(hard, lambda points: _fixed(points, 1, (-1, -1)), 1.0, geom)
        support = cv2.dilate(hard, _SUPPORT_KERNEL)[1:-1, 1:-1]
    else:
        coverage, region = _coverage_region(geom, _reach(geom.sigma))
        # zeros beyond the region: the same blur an unbounded canvas would give at the box's pixels
        blurred = cv2.GaussianBlur(coverage, (0, 0), geom.sigma, borderType=cv2.BORDER_CONSTANT)
        support = _crop(cv2.dilate((coverage >= 0.5).view(np.uint8), _SUPPORT_KERNEL), geom, region)  # 0 or 1
        blurred = np.ascontiguousarray(_crop(blurred, geom, region))
    candidates = cv2.bitwise_and(cv2.compare(blurred, float(lo), cv2.CMP_GT), support)
    index = np.flatnonzero(candidates.view(np.bool_))  # 255 & 1: valid booleans
    mask = _smoothstep_ramp(blurred.reshape(-1)[index], lo, scale)
    if len(mask) and not mask.min() > 0:  # pragma: no cover - only for a ramp value that underflows to zero
        keep = mask > 0
        index, mask = index[keep], mask[keep]
    return index, mask


def painted_pixels(geom: LipGeometry) -> tuple[np.ndarray, np.ndarray]:
    """The landmark mask's painted pixels: flat box indices intp (n,) ascending and their mask float32 (n,) > 0."""
    return _painted(geom)


@dataclass(frozen=True)
class LipRegions:
    """Dense float32 (h, w) maps of the lip box, for refining the mask on the image.

    Attributes:
        outer: coverage of the outer outline's polygon, mouth opening included.
        lips: coverage of the lips, the outer outline minus the mouth opening.
        feather: the outer outline's feathered ramp (as the lip mask's outer edge: it spills at most about
            a pixel beyond the outline), mouth opening included.
    """

    outer: np.ndarray
    lips: np.ndarray
    feather: np.ndarray


def outer_regions(geom: LipGeometry) -> tuple[np.ndarray, np.ndarray]:
    """The outer outline's coverage and its feathered ramp over ``geom``'s box: float32 (h, w) each (what
    :class:`LipRegions` calls ``outer`` and ``feather``), without the lips' own coverage.

    As for :func:`lip_pixels`, the work is bounded by the box: the raster reaches only the blur's radius
    beyond it, and a close-up's feather (sigma over ``_COARSE_SIGMA``) is blurred on the coarse grid, its
    coverage then a fill at pixel centres.
    """
    reach = _reach(geom.sigma)
    region = _region(geom, _BOX_PAD, reach)

    def draw_outer(canvas: np.ndarray, fixed, scale: float) -> None:
        cv2.fillPoly(canvas, [fixed(geom.outer)], 1, cv2.LINE_8, _SHIFT)

    lo, scale = _feather_range(geom.sigma)
    if geom.sigma > _COARSE_SIGMA:
        h, w = geom.shape
        inside = np.zeros((h, w), dtype=np.uint8)
        draw_outer(inside, lambda points: _fixed(points, 1), 1.0)
        blurred = np.ascontiguousarray(_coarse_blurred(geom, draw_outer, geom.sigma, _BOX_PAD))
        feather = _smoothstep_ramp(blurred, lo, scale)  # 0 where blurred <= lo already (the ramp's clip)
        feather *= cv2.dilate(inside, _SUPPORT_KERNEL)  # 0 or 1: off the support
        return inside.astype(np.float32), feather
    outer = _supersampled(geom, region, draw_outer)
    blurred = cv2.GaussianBlur(outer, (0, 0), geom.sigma, borderType=cv2.BORDER_CONSTANT)
    support = cv2.dilate((outer >= 0.5).view(np.uint8), _SUPPORT_KERNEL)
    feather = _smoothstep_ramp(blurred, lo, scale)  # 0 where blurred <= lo already (the ramp's clip)
    feather *= support  # 0 or 1: off the support (the same zeros as a masked write, one pass)
    return np.ascontiguousarray(_crop(outer, geom, region)), np.ascontiguousarray(_crop(feather, geom, region))


def inner_coverage(geom: LipGeometry) -> np.ndarray:
    """float32 (h, w) 0..1: the box's coverage by the inner contour (the mouth opening), from a 4x4
    supersampled fill of the contour's own extent within the box only."""
    h, w = geom.shape
    out = np.zeros((h, w), np.float32)
    cols = np.ascontiguousarray(geom.inner.T)  # per coordinate: an axis-0 reduction of (K, 2) costs more
    lo, hi = cols.min(axis=1), cols.max(axis=1)
    x0, y0 = max(0, math.floor(lo[0]) - 1), max(0, math.floor(lo[1]) - 1)
    x1, y1 = min(w, math.ceil(hi[0]) + 2), min(h, math.ceil(hi[1]) + 2)
    if x1 <= x0 or y1 <= y0:
        return out

    def draw(canvas: np.ndarray, fixed, scale: float) -> None:
        cv2.fillPoly(canvas, [fixed(geom.inner)], 1, cv2.LINE_8, _SHIFT)

    out[y0:y1, x0:x1] = _supersampled(geom, (x0, y0, x1, y1), draw)
    return out


def lip_regions(geom: LipGeometry) -> LipRegions:
    """The :class:`LipRegions` of ``geom``'s box (bounded by the box, as :func:`outer_regions`)."""
    outer, feather = outer_regions(geom)
    if geom.sigma > _COARSE_SIGMA:  # a close-up: the lips as a fill at pixel centres, like its outer coverage
        lips_in = outer.astype(np.uint8)
        cv2.fillPoly(lips_in, [_fixed(geom.inner, 1)], 0, cv2.LINE_8, _SHIFT)
        return LipRegions(outer=outer, lips=lips_in.astype(np.float32), feather=feather)
    lips, lips_region = _coverage_region(geom)
    return LipRegions(outer=outer, lips=np.ascontiguousarray(_crop(lips, geom, lips_region)), feather=feather)


def lip_mask(geom: LipGeometry) -> np.ndarray:
    """Feathered lip mask, float32 (h, w) in 0..1: soft edges whose width scales with the mouth.

    The feather is confined to pixels at most one pixel (4-neighbour) from the hard lip region, so
    where both lips blur into a narrow wedge (the mouth opening near its corners) none spills onto teeth.
    """
    h, w = geom.shape
    index, values = _painted(geom)
    mask = np.zeros(h * w, dtype=np.float32)
    mask[index] = values
    return mask.reshape(h, w)


def _liner_raster(geom: LipGeometry, width: float) -> np.ndarray | None:
    """The blurred liner band before masking, float32 (h, w), or None for a zero width.

    Soft: blurred by ``LINER_SOFTNESS`` of its width, so it blends into the lipstick instead of
    outlining it like a cartoon (the mouth corners' fade is applied per pixel, :func:`_corner_fade`).
    """
    px = width * geom.width
    if px <= 0:
        return None
    sigma = max(0.6, LINER_SOFTNESS * px)
    # the band's pixels within the blur's reach of the mask (which ends 1.5 px outside the contour)
    pad = _BOX_PAD + math.ceil(4.0 * sigma) + 1

    def draw(canvas: np.ndarray, fixed, scale: float) -> None:
        thickness = max(1, round(2.0 * px * scale))  # centred on the contour; the outer half is masked off
        cv2.polylines(canvas, [fixed(geom.outer)], True, 1, thickness, cv2.LINE_8, _SHIFT)

    if sigma > _COARSE_SIGMA:
        return _coarse_blurred(geom, draw, sigma, pad)
    region = _region(geom, pad, _reach(sigma))
    band = cv2.GaussianBlur(_supersampled(geom, region, draw), (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    return _crop(band, geom, region)


def _corner_fade(u: np.ndarray) -> np.ndarray:
    """1 along the lips, falling to 0 at the mouth's corners (lip-local |u| from 0.38 to 0.49 mouth widths):
    a liner stops before the corners rather than running into the mouth there."""
    t = np.clip((np.float32(0.49) - np.abs(u)) * np.float32(1.0 / 0.11), 0.0, 1.0)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


def _loop_arcs(loop: np.ndarray, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """The two arcs of a closed loop (K, 2) between its points ``i`` < ``j``, both from i to j."""
    first = loop[i : j + 1]
    second = np.concatenate([loop[j:], loop[: i + 1]])[::-1]
    return first, second


def _upper_lip(geom: LipGeometry) -> np.ndarray:
    """float32 (h, w) coverage of the upper lip's polygon: the outer and inner contours' upper arcs
    between their corners (extreme lip-local u)."""
    arcs = []
    for loop in (geom.outer, geom.inner):
        rel = loop - geom.origin
        u = rel @ geom.axis_u
        v = rel @ geom.axis_v
        i, j = sorted((int(np.argmin(u)), int(np.argmax(u))))
        a, b = _loop_arcs(loop, i, j)
        va, vb = _loop_arcs(v[:, None], i, j)
        upper = a if float(va.mean()) < float(vb.mean()) else b
        arcs.append(upper if float((upper[0] - geom.origin) @ geom.axis_u) < 0 else upper[::-1])
    # the outer arc pushed out by the feather's reach, so the blur softens only the line between the lips
    push = np.float32(3.0 * geom.sigma + 2.0)
    outward = arcs[0] - geom.origin
    outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), np.float32(1e-6))
    polygon = np.concatenate([arcs[0] + push * outward, arcs[1][::-1]]).astype(np.float32)
    def draw(canvas: np.ndarray, fixed, scale: float) -> None:
        cv2.fillPoly(canvas, [fixed(polygon)], 1, cv2.LINE_8, _SHIFT)

    if geom.sigma > _COARSE_SIGMA:  # a close-up: blurred on the coarse grid (see lip_pixels)
        return np.ascontiguousarray(_coarse_blurred(geom, draw, geom.sigma, _BOX_PAD))
    region = _region(geom, _BOX_PAD, _reach(geom.sigma))
    cover = cv2.GaussianBlur(_supersampled(geom, region, draw), (0, 0), geom.sigma, borderType=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(_crop(cover, geom, region))


def _ombre(geom: LipGeometry) -> np.ndarray:
    """float32 (h, w): 0 at the outer outline rising to 1 at the mouth's line (the opening, or the inner
    contour of closed lips): the second colour of an ombre lip sits in the middle of the lips."""
    regions = lip_regions(geom)
    outer_in = (regions.outer >= 0.5).view(np.uint8)
    middle = ((regions.outer - regions.lips) >= 0.5).astype(np.uint8)
    cv2.polylines(middle, [np.rint(geom.inner * 8).astype(np.int32)], True, 1, 1, cv2.LINE_8, 3)
    d_edge = cv2.distanceTransform(outer_in, cv2.DIST_L2, 3)
    d_mid = cv2.distanceTransform(1 - middle, cv2.DIST_L2, 3)
    t = d_edge / (d_edge + d_mid + np.float32(1e-3))
    t = np.clip((t - np.float32(0.2)) * np.float32(1.0 / 0.6), 0.0, 1.0)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


#: Lip styles: the second colour (the liner's parameters) everywhere the style's map says.
STYLES = ("full", "ombre", "two_tone")


def liner_band(geom: LipGeometry, mask: np.ndarray, width: float) -> np.ndarray:
    """A band along the outer contour, float32 (h, w) 0..1 and never outside ``mask``.

    Args:
        geom: the lips.
        mask: the feathered lip mask from :func:`lip_mask`.
        width: band width as a fraction of the mouth width (0 gives zeros).
    """
    band = _liner_raster(geom, width)
    if band is None:
        return np.zeros(geom.shape, dtype=np.float32)
    return band * mask


#: The half vector (between the directions to the light and to the camera) of a light on the camera's
#: axis, in the head's frame: x toward the subject's left, y up, z out of the face.
FRONTAL = (0.0, 0.0, 1.0)


def _central_extremes(geom: LipGeometry) -> tuple[float, float, float, float]:
    """Lip-local v (mouth widths) of the outer and inner contours' central points: (top of the upper lip,
    bottom of the upper lip, top of the lower lip, bottom of the lower lip)."""
    contours = geom.contours - geom.origin
    inv = np.float32(1.0 / geom.width)
    au, av = geom.axis_u, geom.axis_v
    # float32 products of float32 values: the same as multiplying the stacked axes by inv
    m = np.array([[au[0] * inv, av[0] * inv], [au[1] * inv, av[1] * inv]], dtype=np.float32)
    local = contours @ m
    central = np.abs(local[..., 0]) < 0.15
    vs = local[..., 1]
    out = []
    for pick, fill in ((np.minimum.reduce, np.inf), (np.maximum.reduce, -np.inf)):  # np.min's and np.max's values
        v = pick(np.where(central, vs, fill), axis=1)
        fallback = pick(vs, axis=1)
        out.append([float(a) if np.isfinite(a) else float(b) for a, b in zip(v, fallback, strict=True)])
    (top_out, top_in), (bottom_out, bottom_in) = out
    return top_out, min(top_in, 0.0), max(bottom_in, 0.0), bottom_out


def _blob_at(du: np.ndarray, dv: np.ndarray, su: float, sv: float) -> np.ndarray:
    """A Gaussian highlight of spreads ``su``, ``sv`` at the offsets ``du``, ``dv`` (float32) from its centre:
    ``exp(-((du / su)^2 + (dv / sv)^2) / 2)``. Offsets, not positions: the lower lip's core and halo share them."""
    g = du * np.float32(1.0 / su)
    g *= g
    d = dv * np.float32(1.0 / sv)
    d *= d
    g += d
    g *= np.float32(-0.5)
    return cv2.exp(g).reshape(g.shape)


def gloss_map(
    geom: LipGeometry, u: np.ndarray, v: np.ndarray, half: tuple[float, float, float] = FRONTAL
) -> np.ndarray:
    """Where glossy lips reflect the light to the camera, float32 0..1, shaped like ``u`` and ``v``.

    Each lip is taken as a horizontal cylinder bulging out of the face (its radius half the lip's
    thickness) that wraps around the teeth (radius half the mouth's width): the mirror reflection of the
    light lies where the surface's normal is the half vector ``half`` (unit, head frame: x toward the
    subject's left, y up, z out of the face; from :class:`~arlens.scene.Light` and the head pose). On the
    lower lip it slides up toward the mouth when the light comes from above, sideways toward the side it
    comes from, and fades as the light moves behind the lip's curve; the upper lip, which faces up, shows
    a smaller one when the light comes from above. Each highlight is a sharp wet core in a soft halo,
    elongated along the mouth.
    """
    hx, hy, hz = (float(c) for c in half)
    norm = math.sqrt(hx * hx + hy * hy + hz * hz) or 1.0
    hx, hy, hz = hx / norm, hy / norm, max(hz / norm, 1e-3)
    top_out, top_in, bottom_in, bottom_out = _central_extremes(geom)
    theta_v = math.atan2(hy, hz)  # > 0: the light is above the camera, as the head sees it
    theta_u = math.atan2(hx, hz)  # > 0: toward the subject's left
    uc = 0.45 * math.sin(theta_u)
    facing_u = max(0.0, math.cos(theta_u)) ** 2
    # lower lip: its bulge faces the camera, a little down
    thick = max(bottom_out - bottom_in, 1.0 / geom.width)
    vc = bottom_in + (0.45 - 0.35 * math.sin(theta_v)) * thick
    strength = facing_u * min(1.0, 1.3 * max(0.0, math.cos(theta_v + math.radians(10.0))))
    du, dv = u - np.float32(uc), v - np.float32(vc)  # the core's and the halo's centre
    g = _blob_at(du, dv, 0.1, 0.11 * thick)
    halo = _blob_at(du, dv, 0.2, 0.28 * thick)
    halo *= np.float32(0.35)
    g += halo
    g *= np.float32(strength)
    # upper lip: it faces up by about 35 degrees
    thick_up = max(top_in - top_out, 1.0 / geom.width)
    up = facing_u * max(0.0, math.cos(theta_v - math.radians(35.0))) ** 4
    if up > 0.05:
        vc_up = top_out + (0.5 - 0.3 * math.sin(theta_v - math.radians(35.0))) * thick_up
        upper = _blob_at(du, v - np.float32(vc_up), 0.08, 0.12 * thick_up)
        upper *= np.float32(0.45 * up)
        g += upper
    np.minimum(g, np.float32(1.0), out=g)
    return g


def _hash_u32(x: np.ndarray) -> np.ndarray:
    """A well-mixed 32-bit integer hash (lowbias32), elementwise on uint32 arrays."""
    x = x ^ (x >> np.uint32(16))
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


#: Cells per axis of the cached shimmer table, centred on the lip-local origin's cell (1024).
_SPARKLE_BITS = 8
_SPARKLE_TABLE = 1 << _SPARKLE_BITS
_SPARKLE_BASE = 1024 - _SPARKLE_TABLE // 2


def _sparkle_cells(
    iu: np.ndarray, iv: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell glint centre (cx, cy), brightness (0 for an empty cell) and facet slope (tx, ty) of
    cells ``iu``, ``iv`` (uint32)."""
    key = iu * np.uint32(0x9E3779B1) ^ iv * np.uint32(0x85EBCA77)
    h1 = _hash_u32(key)
    h2 = _hash_u32(h1 ^ np.uint32(0x68E31DA4))
    h3 = _hash_u32(h2 ^ np.uint32(0xB5297A4D))
    scale = np.float32(1.0 / 65536.0)
    on = (h1 & np.uint32(0xFFFF)).astype(np.float32) * scale < np.float32(_SPARKLE_DENSITY)
    bright = np.float32(0.45) + np.float32(0.55) * (h1 >> np.uint32(16)).astype(np.float32) * scale
    span = np.float32(1.0 - 2.0 * _SPARKLE_RADIUS - 0.04)
    cx = np.float32(_SPARKLE_RADIUS + 0.02) + span * (h2 & np.uint32(0xFFFF)).astype(np.float32) * scale
    cy = np.float32(_SPARKLE_RADIUS + 0.02) + span * (h2 >> np.uint32(16)).astype(np.float32) * scale
    # the facet's slope, uniform over a disc of radius _FACET_TILT
    r = np.float32(_FACET_TILT) * np.sqrt((h3 & np.uint32(0xFFFF)).astype(np.float32) * scale)
    a = np.float32(2.0 * math.pi) * (h3 >> np.uint32(16)).astype(np.float32) * scale
    return cx, cy, np.where(on, bright, np.float32(0.0)), r * np.cos(a), r * np.sin(a)


@functools.cache
def _sparkle_table() -> tuple[np.ndarray, ...]:
    """:func:`_sparkle_cells` of a fixed square of cells around the origin, flat (row = iu), computed once."""
    cells = np.arange(_SPARKLE_BASE, _SPARKLE_BASE + _SPARKLE_TABLE, dtype=np.uint32)
    iu, iv = np.meshgrid(cells, cells, indexing="ij")
    return tuple(np.ascontiguousarray(a.reshape(-1)) for a in _sparkle_cells(iu, iv))


def _twinkle(tx: np.ndarray, ty: np.ndarray, half: tuple[float, float, float]) -> np.ndarray:
    """How much each facet of slope (tx, ty) (u toward the subject's left, v toward the chin) reflects
    the light to the camera, for the head-frame half vector ``half``: ``_FACET_BASE`` .. 1."""
    hx, hy, hz = (float(c) for c in half)
    hz = max(hz, 1e-3)
    # the facet's normal is (tx, -ty, 1) in the head frame (v points down); it mirrors the light to the
    # camera when that is along the half vector, slope (hx / hz, hy / hz)
    dx = tx - np.float32(hx / hz)
    dy = ty + np.float32(hy / hz)
    d2 = dx * dx
    d2 += dy * dy
    d2 *= np.float32(-0.5 / _FACET_LOBE**2)
    flash = cv2.exp(d2).reshape(d2.shape)
    flash *= np.float32(1.0 - _FACET_BASE)
    flash += np.float32(_FACET_BASE)
    return flash


def sparkle_map(
    geom: LipGeometry, u: np.ndarray, v: np.ndarray, half: tuple[float, float, float] = FRONTAL
) -> np.ndarray:
    """The shimmer pattern, float32 0..1 shaped like ``u`` and ``v``, a deterministic function of them
    and of the head-frame half vector ``half`` (see :func:`gloss_map`).

    The lip-local plane is cut into square cells (``_SPARKLE_CELLS`` across the mouth width). A hash of
    each cell's integer index decides whether it holds a glint, where in the cell it sits, how bright it
    is and how its flake is tilted; glints are round bumps that end inside their cell, so cell boundaries
    never show, and they stay fixed to the lips. Each flashes when its flake mirrors the light to the
    camera (:func:`_twinkle`), so they twinkle as the head moves. The hash is evaluated per cell, once,
    into a table that the pixels look up.
    """
    return _sparkle(u, v, in_table=False, half=half)


def _box_in_sparkle_table(geom: LipGeometry) -> bool:
    """Whether every pixel centre of the box lies in a cell of the shimmer table, a cell to spare each side.

    u and v are linear in the pixel position, so their extremes over the box are at its corner pixels.
    """
    h, w = geom.shape
    ox, oy = float(geom.origin[0]), float(geom.origin[1])
    inv = _SPARKLE_CELLS / geom.width
    lo, hi = _SPARKLE_BASE + 1.0, _SPARKLE_BASE + _SPARKLE_TABLE - 1.0
    for axis in (geom.axis_u, geom.axis_v):
        a, b = float(axis[0]) * inv, float(axis[1]) * inv
        g = [(x - ox) * a + (y - oy) * b + 1024.0 for x in (0, w - 1) for y in (0, h - 1)]
        if min(g) < lo or max(g) >= hi:
            return False
    return True


def _sparkle(
    u: np.ndarray, v: np.ndarray, in_table: bool, half: tuple[float, float, float] = FRONTAL
) -> np.ndarray:
    """:func:`sparkle_map`; ``in_table``: every (u, v) is known to fall in the table (no range check)."""
    n = np.float32(_SPARKLE_CELLS)
    gu = u * n
    gu += np.float32(1024.0)  # keep indices positive
    gv = v * n
    gv += np.float32(1024.0)
    iu = np.floor(gu)
    iv = np.floor(gv)
    gu -= iu  # the position inside the cell
    gv -= iv
    base = np.float32(_SPARKLE_BASE)
    if in_table:
        # the table index (iu - base) * T + (iv - base), exact in float32 (integers below 2**24)
        cell = iu * np.float32(_SPARKLE_TABLE)
        cell += iv
        cell -= np.float32(_SPARKLE_BASE * (_SPARKLE_TABLE + 1))
        cu = cell.astype(np.intp)
    else:
        iu -= base  # exact: small integers
        iv -= base
        cu = iu.astype(np.intp)
        cv = iv.astype(np.intp)
        # both in [0, _SPARKLE_TABLE): no bit above the table's (a negative index has them all)
        in_table = not (np.bitwise_or(cu, cv).view(np.uintp).max(initial=0) >> _SPARKLE_BITS)
        if in_table:
            cu *= _SPARKLE_TABLE
            cu += cv
        else:
            iu += base
            iv += base
    if in_table:
        cx, cy, bright, tx, ty = (np.take(t, cu) for t in _sparkle_table())
    else:  # far outside the table (a tiny mouth in a large box): hash each pixel's cell
        cx, cy, bright, tx, ty = _sparkle_cells(iu.astype(np.uint32), iv.astype(np.uint32))
    bright = bright * _twinkle(tx, ty, half)
    gu -= cx
    gv -= cy
    gu *= gu
    gv *= gv
    gu += gv
    gu *= np.float32(1.0 / _SPARKLE_RADIUS**2)  # r2
    bump = np.subtract(np.float32(1.0), gu, out=gu)
    np.clip(bump, 0.0, 1.0, out=bump)
    bump *= np.sqrt(bump)  # a flake's round glow, flatter than a Gaussian: it reads as a grain, not a point
    bump *= bright
    return bump


#: A glint's size in glint cells: the Gaussian sigma of the same spread (the bump ``(1 - r**2 / R**2) ** 1.5`` of
#: radius ``R`` has a per-axis deviation of ``R / sqrt(7)``).
GLINT_SIGMA_CELLS = _SPARKLE_RADIUS / math.sqrt(7.0)
#: The mean distance between glints in glint cells (a share ``_SPARKLE_DENSITY`` of the cells holds one).
GLINT_SPACING_CELLS = 1.0 / math.sqrt(_SPARKLE_DENSITY)


def sparkle_cell(mouth_width: float) -> float:
    """A lip glint cell's side in pixels on a mouth ``mouth_width`` px wide (its glint's size is
    :data:`GLINT_SIGMA_CELLS` of it, the glints' spacing :data:`GLINT_SPACING_CELLS`)."""
    return mouth_width / _SPARKLE_CELLS


@dataclass(frozen=True)
class LipPixels:
    """The maps at the painted pixels of a lip box (where the mask is above zero).

    Attributes:
        index: intp (n,) ascending flat (row-major) indices of the painted pixels in the (h, w) box.
        maps: float32 (n, NUM_MAPS): mask, liner, gloss and sparkle at those pixels.
    """

    index: np.ndarray
    maps: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def dense(self, shape: tuple[int, int]) -> np.ndarray:
        """The maps as a dense float32 (h, w, NUM_MAPS) stack, zero at the unpainted pixels."""
        h, w = shape
        out = np.zeros((h * w, NUM_MAPS), dtype=np.float32)
        out[self.index] = self.maps
        return out.reshape(h, w, NUM_MAPS)


def lip_pixels(
    geom: LipGeometry,
    *,
    liner_width: float = 0.0,
    gloss: bool = True,
    sparkle: bool = True,
    painted: tuple[np.ndarray, np.ndarray] | None = None,
    half: tuple[float, float, float] = FRONTAL,
    style: str = "full",
) -> LipPixels:
    """The maps a lipstick composite needs, at the painted pixels only (see :class:`LipPixels`).

    Args:
        geom: the lips, from :func:`lip_geometry`.
        liner_width: liner band width as a fraction of the mouth width (0: no liner).
        gloss: compute the gloss map (zeros otherwise, saving time for finishes that ignore it).
        sparkle: compute the shimmer pattern (zeros otherwise).
        painted: the painted pixels and their mask (flat indices ascending, mask > 0), e.g. refined on
            the image (:func:`arlens.render.lip_edges.refine_painted`); default the landmark mask's.
        half: the head-frame half vector between the light and the camera (:func:`gloss_map`), which places
            the gloss highlight and picks the glints that flash.
        style: ``"full"`` (the liner band, if any, in the liner channel), ``"ombre"`` (the second colour
            rising toward the mouth's line) or ``"two_tone"`` (the second colour on the upper lip).
    """
    if style not in STYLES:
        raise InputError(f"style: expected one of {', '.join(STYLES)}, got {style!r}")
    index, mask = _painted(geom) if painted is None else painted
    maps = np.zeros((len(index), NUM_MAPS), dtype=np.float32)
    maps[:, MASK] = mask
    if len(index) == 0:
        return LipPixels(index, maps)
    band = None
    if style == "ombre":
        band = _ombre(geom)
    elif style == "two_tone":
        band = _upper_lip(geom)
    elif liner_width > 0:
        band = _liner_raster(geom, liner_width)
    u = v = None
    if band is not None:
        maps[:, LINER] = band.reshape(-1)[index] * mask
        if style == "full":
            u, v = geom.local_uv(index)
            maps[:, LINER] *= _corner_fade(u)
    if gloss or sparkle:
        if u is None:
            u, v = geom.local_uv(index)
        if gloss:
            maps[:, GLOSS] = gloss_map(geom, u, v, half)
        if sparkle:
            maps[:, SPARKLE] = _sparkle(u, v, in_table=_box_in_sparkle_table(geom), half=half)
    return LipPixels(index, maps)


def lip_maps(
    geom: LipGeometry, *, liner_width: float = 0.0, gloss: bool = True, sparkle: bool = True
) -> np.ndarray:
    """All maps a lipstick composite needs, stacked float32 (h, w, 4): mask, liner, gloss, sparkle.

    The liner, gloss and sparkle maps are zero where the mask is (the composite ignores them there).

    Args:
        geom: the lips, from :func:`lip_geometry`.
        liner_width: liner band width as a fraction of the mouth width (0: no liner).
        gloss: compute the gloss map (zeros otherwise, saving time for finishes that ignore it).
        sparkle: compute the shimmer pattern (zeros otherwise).
    """
    pixels = lip_pixels(geom, liner_width=liner_width, gloss=gloss, sparkle=sparkle)
    return pixels.dense(geom.shape)
