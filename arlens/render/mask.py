"""Lip masks and lip-local maps from face landmarks, computed inside the lips' bounding box only.

Everything here is a pure function of the landmarks (and the frame size), so the same landmarks
always give bit-identical maps: the mask never flickers on its own and the shimmer pattern is fixed
to the lips. Coordinates: landmark x, y are image pixels with pixel ``i`` spanning ``[i, i + 1)``
(MediaPipe's normalised coordinates times the image size).

The maps a lipstick composite needs are stacked as one float32 (h, w, 4) array, channel by channel:

0. ``mask``: lip coverage 0..1, the outer contour minus the mouth opening, anti-aliased from a
   4x supersampled fill and feathered by an amount proportional to the mouth width. The feather
   is biased inwards so that it spills at most about 1 px beyond the lip contour.
1. ``liner``: a band along the outer contour (0..1, inside the mask), for a lip liner.
2. ``gloss``: where a glossy lower lip catches the light: a smooth blob over the fullest part of the
   lower lip, in lip-local coordinates.
3. ``sparkle``: the shimmer pattern: sparse round glints on a lip-local grid whose cells are
   switched on by an integer hash of the cell index, so it moves with the lips and never re-randomises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from arlens import landmarks as named
from arlens.errors import InputError

#: Number of maps in the stack returned by :func:`lip_maps`.
NUM_MAPS = 4
MASK, LINER, GLOSS, SPARKLE = range(NUM_MAPS)

_SUPERSAMPLE = 4
_SHIFT = 4  # fixed-point bits for cv2.fillPoly
_SPLINE_STEPS = 4  # Catmull-Rom samples per landmark segment
#: Feather (Gaussian sigma) as a fraction of the mouth width, and its bounds in pixels.
DEFAULT_FEATHER = 0.02
_MIN_SIGMA = 0.5
#: How far (pixels) the feathered mask may reach beyond the hard lip contour.
_MAX_SPILL = 0.9
#: Shimmer grid: cells across the mouth width, glint radius in cell units.
_SPARKLE_CELLS = 48
_SPARKLE_RADIUS = 0.3
_SPARKLE_DENSITY = 0.45


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

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w) of the box."""
        x0, y0, x1, y1 = self.box
        return y1 - y0, x1 - x0

    def local_uv(self) -> tuple[np.ndarray, np.ndarray]:
        """Lip-local coordinates of every box pixel centre, in mouth widths: float32 (h, w) u and v."""
        h, w = self.shape
        xs = np.arange(w, dtype=np.float32) - self.origin[0]
        ys = np.arange(h, dtype=np.float32) - self.origin[1]
        inv = np.float32(1.0 / self.width)
        u = (xs[None, :] * (self.axis_u[0] * inv) + ys[:, None] * (self.axis_u[1] * inv)).astype(np.float32)
        v = (xs[None, :] * (self.axis_v[0] * inv) + ys[:, None] * (self.axis_v[1] * inv)).astype(np.float32)
        return u, v


def _catmull_rom_closed(points: np.ndarray, steps: int) -> np.ndarray:
    """Sample a closed centripetal-free (uniform) Catmull-Rom spline through ``points`` (K, 2)."""
    p0 = np.roll(points, 1, axis=0)
    p1 = points
    p2 = np.roll(points, -1, axis=0)
    p3 = np.roll(points, -2, axis=0)
    t = (np.arange(steps, dtype=np.float32) / steps)[None, :, None]
    t2, t3 = t * t, t * t * t
    a, b, c, d = (x[:, None, :] for x in (p0, p1, p2, p3))
    out = 0.5 * ((2 * b) + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (-a + 3 * b - 3 * c + d) * t3)
    return out.reshape(-1, 2).astype(np.float32)


def _corners(outer: np.ndarray) -> tuple[int, int]:
    """Indices (in loop order) of the two outer-contour points farthest apart: the mouth corners."""
    d = ((outer[:, None, :] - outer[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    return (int(i), int(j)) if i < j else (int(j), int(i))


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
    outer_lm = pts[list(named.lips_outer()), :2] - 0.5  # to OpenCV drawing coordinates
    inner_lm = pts[list(named.lips_inner()), :2] - 0.5
    if not (np.isfinite(outer_lm).all() and np.isfinite(inner_lm).all()):
        return None
    i, j = _corners(outer_lm)
    cr, cl = outer_lm[i], outer_lm[j]
    width = float(np.linalg.norm(cl - cr))
    if width < 2.0:
        return None
    sigma = max(_MIN_SIGMA, feather * width)
    outer = _catmull_rom_closed(outer_lm, _SPLINE_STEPS)
    inner = _catmull_rom_closed(inner_lm, _SPLINE_STEPS)
    pad = 3.0 * sigma + 2.0 + margin
    lo = outer.min(axis=0) - pad
    hi = outer.max(axis=0) + pad
    fh, fw = int(frame_shape[0]), int(frame_shape[1])
    x0, y0 = max(0, math.floor(lo[0])), max(0, math.floor(lo[1]))
    x1, y1 = min(fw, math.ceil(hi[0]) + 1), min(fh, math.ceil(hi[1]) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    off = np.array([x0, y0], dtype=np.float32)
    axis_u = ((cl - cr) / width).astype(np.float32)
    axis_v = np.array([-axis_u[1], axis_u[0]], dtype=np.float32)
    return LipGeometry(
        box=(x0, y0, x1, y1),
        outer=outer - off,
        inner=inner - off,
        origin=((cr + cl) * 0.5 - off).astype(np.float32),
        axis_u=axis_u,
        axis_v=axis_v,
        width=width,
        sigma=sigma,
    )


def _fixed(points: np.ndarray, scale: int) -> np.ndarray:
    """Drawing coordinates -> fixed-point int32 for cv2 at ``scale``x supersampling."""
    return np.round(((points + 0.5) * scale - 0.5) * (1 << _SHIFT)).astype(np.int32)


def lip_coverage(geom: LipGeometry) -> np.ndarray:
    """Area coverage (0..1, float32 (h, w)) of the lip region: outer contour minus the mouth opening.

    The polygons are filled at 4x4 supersampling with sub-pixel vertices and averaged, so the
    coverage changes smoothly as the landmarks move by fractions of a pixel.
    """
    h, w = geom.shape
    s = _SUPERSAMPLE
    big = np.zeros((h * s, w * s), dtype=np.uint8)
    cv2.fillPoly(big, [_fixed(geom.outer, s)], 255, cv2.LINE_8, _SHIFT)
    cv2.fillPoly(big, [_fixed(geom.inner, s)], 0, cv2.LINE_8, _SHIFT)
    small = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)  # uint8 box average
    return small.astype(np.float32) * np.float32(1.0 / 255.0)


def hard_lip_mask(geom: LipGeometry) -> np.ndarray:
    """Binary (bool (h, w)) lip region: pixels at least half covered. The reference for lip-only checks."""
    return lip_coverage(geom) >= 0.5


def _feather(coverage: np.ndarray, sigma: float) -> np.ndarray:
    """Blur ``coverage`` by ``sigma`` and remap so the soft edge lies inside the contour."""
    blurred = cv2.GaussianBlur(coverage, (0, 0), sigma)
    # For a straight edge the blurred coverage is Phi(d / sigma) at signed distance d (inside > 0);
    # start the ramp at most _MAX_SPILL px outside and end it one sigma inside.
    spill = min(0.6 * sigma, _MAX_SPILL)
    lo = 0.5 * math.erfc(spill / sigma / math.sqrt(2.0))
    hi = 0.5 * math.erfc(-1.0 / math.sqrt(2.0))
    t = blurred
    t -= np.float32(lo)
    t *= np.float32(1.0 / (hi - lo))
    np.clip(t, 0.0, 1.0, out=t)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)  # smoothstep


_SUPPORT_KERNEL = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def lip_mask(geom: LipGeometry) -> np.ndarray:
    """Feathered lip mask, float32 (h, w) in 0..1: soft edges whose width scales with the mouth.

    The feather is confined to pixels at most one pixel (4-neighbour) from the hard lip region, so
    where both lips blur into a narrow wedge (the mouth opening near its corners) none spills onto teeth.
    """
    coverage = lip_coverage(geom)
    support = cv2.dilate((coverage >= 0.5).view(np.uint8), _SUPPORT_KERNEL)
    mask = _feather(coverage, geom.sigma)
    mask[support == 0] = 0.0
    return mask


def liner_band(geom: LipGeometry, mask: np.ndarray, width: float) -> np.ndarray:
    """A band along the outer contour, float32 (h, w) 0..1 and never outside ``mask``.

    Args:
        geom: the lips.
        mask: the feathered lip mask from :func:`lip_mask`.
        width: band width as a fraction of the mouth width (0 gives zeros).
    """
    h, w = geom.shape
    band = np.zeros((h, w), dtype=np.float32)
    px = width * geom.width
    if px <= 0:
        return band
    s = _SUPERSAMPLE
    big = np.zeros((h * s, w * s), dtype=np.uint8)
    thickness = max(1, round(2.0 * px * s))  # centred on the contour; the outer half is masked off
    cv2.polylines(big, [_fixed(geom.outer, s)], True, 255, thickness, cv2.LINE_8, _SHIFT)
    small = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) * np.float32(1.0 / 255.0)
    band = cv2.GaussianBlur(small, (0, 0), max(0.5, 0.5 * geom.sigma))
    band *= mask
    return band


def gloss_map(geom: LipGeometry, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Where a glossy lower lip reflects the light, float32 (h, w) 0..1.

    A smooth blob centred on the fullest part of the lower lip (between the bottom of the mouth
    opening and the lower outer contour, a little above halfway), elongated along the mouth.
    """
    def lower_extent(contour: np.ndarray) -> float:
        rel = contour - geom.origin
        cu = rel @ geom.axis_u / geom.width
        cv = rel @ geom.axis_v / geom.width
        central = np.abs(cu) < 0.15
        return float(cv[central].max()) if central.any() else float(cv.max())

    v_out = lower_extent(geom.outer)
    v_in = max(0.0, lower_extent(geom.inner))
    thick = max(v_out - v_in, 1.0 / geom.width)
    vc = v_in + 0.42 * thick
    su, sv = 0.17, 0.24 * thick
    g = (u * np.float32(1.0 / su)) ** 2 + ((v - np.float32(vc)) * np.float32(1.0 / sv)) ** 2
    g *= np.float32(-0.5)
    return cv2.exp(g)


def _hash_u32(x: np.ndarray) -> np.ndarray:
    """A well-mixed 32-bit integer hash (lowbias32), elementwise on uint32 arrays."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> np.uint32(16))


def sparkle_map(geom: LipGeometry, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The shimmer pattern, float32 (h, w) 0..1, a deterministic function of lip-local coordinates.

    The lip-local plane is cut into square cells (``_SPARKLE_CELLS`` across the mouth width). A hash of
    each cell's integer index decides whether it holds a glint, where in the cell it sits and how bright
    it is; glints are round bumps that end inside their cell, so cell boundaries never show.
    """
    n = np.float32(_SPARKLE_CELLS)
    gu = u * n + np.float32(1024.0)  # keep indices positive
    gv = v * n + np.float32(1024.0)
    iu = np.floor(gu)
    iv = np.floor(gv)
    fu = gu - iu
    fv = gv - iv
    key = iu.astype(np.uint32) * np.uint32(0x9E3779B1) ^ iv.astype(np.uint32) * np.uint32(0x85EBCA77)
    h1 = _hash_u32(key)
    h2 = _hash_u32(h1 ^ np.uint32(0x68E31DA4))
    scale = np.float32(1.0 / 65536.0)
    on = (h1 & np.uint32(0xFFFF)).astype(np.float32) * scale < np.float32(_SPARKLE_DENSITY)
    bright = np.float32(0.45) + np.float32(0.55) * (h1 >> np.uint32(16)).astype(np.float32) * scale
    span = np.float32(1.0 - 2.0 * _SPARKLE_RADIUS - 0.04)
    cx = np.float32(_SPARKLE_RADIUS + 0.02) + span * (h2 & np.uint32(0xFFFF)).astype(np.float32) * scale
    cy = np.float32(_SPARKLE_RADIUS + 0.02) + span * (h2 >> np.uint32(16)).astype(np.float32) * scale
    r2 = ((fu - cx) ** 2 + (fv - cy) ** 2) * np.float32(1.0 / _SPARKLE_RADIUS**2)
    bump = np.clip(np.float32(1.0) - r2, 0.0, 1.0)
    bump *= bump
    return np.where(on, bump * bright, np.float32(0.0)).astype(np.float32)


def lip_maps(
    geom: LipGeometry, *, liner_width: float = 0.0, gloss: bool = True, sparkle: bool = True
) -> np.ndarray:
    """All maps a lipstick composite needs, stacked float32 (h, w, 4): mask, liner, gloss, sparkle.

    Args:
        geom: the lips, from :func:`lip_geometry`.
        liner_width: liner band width as a fraction of the mouth width (0: no liner).
        gloss: compute the gloss map (zeros otherwise, saving time for finishes that ignore it).
        sparkle: compute the shimmer pattern (zeros otherwise).
    """
    h, w = geom.shape
    maps = np.zeros((h, w, NUM_MAPS), dtype=np.float32)
    mask = lip_mask(geom)
    maps[..., MASK] = mask
    if liner_width > 0:
        maps[..., LINER] = liner_band(geom, mask, liner_width)
    if gloss or sparkle:
        u, v = geom.local_uv()
        if gloss:
            maps[..., GLOSS] = gloss_map(geom, u, v)
        if sparkle:
            maps[..., SPARKLE] = sparkle_map(geom, u, v)
    return maps
