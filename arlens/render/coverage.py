"""Anti-aliased coverage of polygons in a box of the frame, and the erase masks of make-up lenses.

Coverage is what fraction of each pixel a set of polygons covers: the polygons are filled with OpenCV at 4x4
supersampling with sub-pixel (fixed-point) vertices and averaged, so a sharp stroke (a liner, a lash, a
brow hair) has clean edges and moves smoothly as the landmarks move by fractions of a pixel — the same
technique as the lip mask (:mod:`arlens.render.mask`). Strokes narrower than two samples (a lash on a face
far from the camera, a fifth of a pixel wide) are filled at a finer supersampling (:func:`supersampling`):
OpenCV's fill takes every sample a polygon's edge touches, so at 4x4 such a stroke covered 1.4-5x its area,
more in one pixel than the next along it: a row of dark beads instead of a faint line.

Erase masks keep colour off what make-up must not touch, from the landmarks of the frame itself, so they
open and close with the eyelids and the mouth:

- the eye openings (eyeball and iris): MediaPipe's 16-point eye contours, through a closed Catmull-Rom spline;
- the mouth opening (inner lip contour) and the lips (outer contour);
- the brows (the brow landmarks' upper and lower rows, as one outline per brow).

An erase mask is 1 on every pixel whose centre lies inside the outline or inside the landmarks' own
polygon (so nothing there changes at all) and the anti-aliased coverage on the pixels its edge crosses.
Points are in pixel-centre coordinates (the centre of pixel (0, 0) is (0, 0)), as
:func:`arlens.render.face_uv.mesh_points` returns them.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Sequence

import cv2
import numpy as np

from arlens import landmarks as named

_SS = 4  # supersampling per axis
#: A stroke is filled with at least this many samples across its width (:func:`supersampling`).
MIN_SAMPLES_ACROSS = 2.0
#: The finest supersampling per axis (a canvas of 256 samples a pixel): strokes thinner than
#: ``MIN_SAMPLES_ACROSS / MAX_SUPERSAMPLING`` px get fewer samples across (they are then nearly invisible).
MAX_SUPERSAMPLING = 16
#: The most samples a finer supersampling's canvas holds (4 MB): over a large box (strokes of a mesh whose
#: landmarks are thrown across the frame) it falls back toward 4x4, whose canvas is the frame's size x 16 at most.
MAX_CANVAS_SAMPLES = 1 << 22
_SHIFT = 4  # fixed-point bits for cv2.fillPoly
#: Catmull-Rom samples per landmark segment of an outline.
SPLINE_STEPS = 4


@functools.cache
def spline_matrix(k: int, steps: int, closed: bool) -> np.ndarray:
    """float32 (samples, k): samples of the uniform Catmull-Rom spline through k points (open: end to end)."""
    t = np.arange(steps, dtype=np.float64) / steps
    t2, t3 = t * t, t * t * t
    weights = 0.5 * np.stack([-t + 2 * t2 - t3, 2 - 5 * t2 + 3 * t3, t + 4 * t2 - 3 * t3, -t2 + t3], axis=1)
    segments = k if closed else k - 1
    s = np.zeros((segments, steps, k), dtype=np.float64)
    for i in range(segments):
        for j, offset in enumerate((-1, 0, 1, 2)):
            idx = (i + offset) % k if closed else min(max(i + offset, 0), k - 1)
            s[i, :, idx] += weights[:, j]
    out = s.reshape(segments * steps, k)
    if not closed:
        end = np.zeros((1, k))
        end[0, -1] = 1.0
        out = np.vstack([out, end])
    return out.astype(np.float32)


def spline(points: np.ndarray, steps: int = SPLINE_STEPS, closed: bool = False) -> np.ndarray:
    """A uniform Catmull-Rom spline through ``points`` (k, 2): float32 (samples, 2).

    Open splines start at the first point and end at the last; closed ones join the last point to the first.
    """
    pts = np.asarray(points, dtype=np.float32)
    return spline_matrix(len(pts), steps, closed) @ pts


def supersampling(width: float) -> int:
    """Samples per pixel and axis to fill strokes ``width`` pixels wide (their narrowest) with: 4, or more for
    strokes narrower than ``MIN_SAMPLES_ACROSS`` samples at 4 (up to ``MAX_SUPERSAMPLING``)."""
    if not width > 0.0:  # also NaN
        return MAX_SUPERSAMPLING
    return min(max(math.ceil(MIN_SAMPLES_ACROSS / width - 1e-9), _SS), MAX_SUPERSAMPLING)


def box_average(big: np.ndarray, h: int, w: int, ss: int = _SS) -> np.ndarray:
    """Mean of each ss x ss block of a 0/1 uint8 (ss h, ss w) image: float32 (h, w)."""
    if ss != _SS:  # each block's rows summed, then the columns' mean (INTER_AREA at a whole factor: 12x numpy's sum)
        rows = big.reshape(h, ss, w * ss).sum(axis=1, dtype=np.uint16).astype(np.float32)
        out = cv2.resize(rows, (w, h), interpolation=cv2.INTER_AREA)
        out *= np.float32(1.0 / ss)
        return out
    if sys.byteorder == "little":
        rows = big.reshape(h, _SS, _SS * w)
        sums = cv2.add(rows[:, 0], rows[:, 1])
        cv2.add(sums, rows[:, 2], dst=sums)
        cv2.add(sums, rows[:, 3], dst=sums)
        total = sums.view(np.uint32)
        total *= np.uint32(0x01010101)  # the top byte sums a block row's four bytes
        total >>= np.uint32(24)
    else:  # pragma: no cover - big-endian hosts
        total = big.reshape(h, _SS, w, _SS).sum(axis=(1, 3), dtype=np.uint32)
    out = total.astype(np.float32)
    out *= np.float32(1.0 / (_SS * _SS))
    return out


def _fixed(points: np.ndarray, origin: tuple[int, int], centres: bool = False, ss: int = _SS
           ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates -> fixed-point int32 vertices on the ``ss``x canvas of a box at ``origin``; with
    ``centres``, also on the box's own pixel grid (a pixel's centre at an integer), from the same subtraction."""
    one = 1 << _SHIFT
    d = np.asarray(points, dtype=np.float32) - np.asarray(origin, dtype=np.float32)
    p = d * np.float32(ss)
    p += np.float32(0.5 * ss - 0.5)  # a pixel's centre is the centre of its ss x ss block
    p *= np.float32(one)
    fixed = np.rint(p).astype(np.int32)
    if not centres:
        return fixed
    d *= np.float32(one)
    return fixed, np.rint(d).astype(np.int32)


def coverage(polygons: Sequence[np.ndarray], box: tuple[int, int, int, int]) -> np.ndarray:
    """Fraction of each pixel of ``box`` covered by the union of ``polygons``: float32 (h, w) in 0..1.

    Args:
        polygons: each float (k, 2), pixel-centre coordinates in the frame (non-finite ones are skipped).
        box: (x0, y0, x1, y1) of the frame.
    """
    polys = [p for p in polygons if len(p) >= 3]
    if not polys:
        x0, y0, x1, y1 = box
        return np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
    ends = np.cumsum([len(p) for p in polys])
    return packed_coverage(np.concatenate(polys), ends, box)


def packed_coverage(vertices: np.ndarray, ends: np.ndarray, box: tuple[int, int, int, int],
                    levels: np.ndarray | None = None, ss: int = _SS) -> np.ndarray:
    """:func:`coverage` of polygons packed one after another: ``vertices`` (n, 2) and where each ends.

    Args:
        vertices: float (n, 2) every polygon's vertices, pixel-centre coordinates.
        ends: int (polygons,) cumulative vertex counts (the last is n).
        box: (x0, y0, x1, y1) of the frame.
        levels: optional int (polygons,) 1..4, each polygon's opacity in quarters; where polygons overlap the
            one drawn last wins, so order them by level. The result is then the mean level over each pixel / 4.
        ss: samples per pixel and axis (:func:`supersampling` of the strokes' width; 4 to 16), lowered toward 4
            where the canvas would hold more than ``MAX_CANVAS_SAMPLES``.
    """
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    if ss > _SS and h * w * ss * ss > MAX_CANVAS_SAMPLES:
        ss = max(_SS, math.isqrt(MAX_CANVAS_SAMPLES // max(h * w, 1)))
    big = np.zeros((h * ss, w * ss), dtype=np.uint8)
    fixed = _fixed(vertices, (x0, y0), ss=ss)
    bounds = ends.tolist()
    starts = [0, *bounds[:-1]]
    values = [1] * len(bounds) if levels is None else levels.tolist()
    if np.isfinite(vertices.sum()):
        # one call per polygon: a single fillPoly of several fills their overlaps by the even-odd rule
        for start, end, value in zip(starts, bounds, values, strict=True):
            if end - start >= 3:
                cv2.fillPoly(big, [fixed[start:end]], value, cv2.LINE_8, _SHIFT)
    else:
        finite = np.isfinite(vertices).all(axis=1)
        for start, end, value in zip(starts, bounds, values, strict=True):
            if end - start >= 3 and finite[start:end].all():
                cv2.fillPoly(big, [fixed[start:end]], value, cv2.LINE_8, _SHIFT)
    out = box_average(big, h, w, ss)
    if levels is not None:
        out *= np.float32(0.25)
    return out


def erase_coverage(polygons: Sequence[np.ndarray], box: tuple[int, int, int, int]) -> np.ndarray:
    """:func:`coverage`, raised to 1 on every pixel whose centre is inside: what an erase mask is."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    polys = [p for p in polygons if len(p) >= 3]
    big = np.zeros((h * _SS, w * _SS), dtype=np.uint8)
    inside = np.zeros((h, w), dtype=np.uint8)
    if polys:
        vertices = np.concatenate(polys) if len(polys) > 1 else polys[0]
        finite = np.isfinite(vertices).all(axis=1)
        if not finite.all():
            vertices = np.where(finite[:, None], vertices, 0.0)
        fixed, centres = _fixed(vertices, (x0, y0), centres=True)
        start = 0
        for p in polys:
            end = start + len(p)
            if finite[start:end].all():  # one call per polygon, as coverage
                cv2.fillPoly(big, [fixed[start:end]], 1, cv2.LINE_8, _SHIFT)
                cv2.fillPoly(inside, [centres[start:end]], 1, cv2.LINE_8, _SHIFT)
            start = end
    cov = box_average(big, h, w)
    np.maximum(cov, inside, out=cov)
    return cov


@functools.cache
def _loops() -> dict[str, np.ndarray]:
    from arlens.render.face_uv import brow_rows

    loops = {
        "right_eye": named.right_eye(),
        "left_eye": named.left_eye(),
        "mouth": named.lips_inner(),
        "lips": named.lips_outer(),
    }
    for side in ("right", "left"):
        upper, lower = brow_rows(side)
        loops[f"{side}_brow"] = upper + lower[::-1]
    return {name: np.array(loop, dtype=np.intp) for name, loop in loops.items()}


def outline(points: np.ndarray, name: str) -> np.ndarray:
    """A closed outline of the face in the frame: ``right_eye``, ``left_eye``, ``mouth`` (the opening),
    ``lips``, ``right_brow`` or ``left_brow``, as a Catmull-Rom spline through its landmarks.

    Args:
        points: mesh points in pixel-centre coordinates (:func:`arlens.render.face_uv.mesh_points`).
    """
    return spline(points[_loops()[name]], closed=True)


def erase_polygons(points: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """What the erase mask of outline ``name`` fills: its :func:`outline` and the landmarks' own polygon (a spline
    cuts a sharp corner, the eye's; the polygon bulges less between points; together they hold every pixel either
    calls inside). The spline passes through the landmarks, so both lie in the outline's bounding box."""
    return outline(points, name), points[_loops()[name]]


def erase_mask(points: np.ndarray, names: Sequence[str], box: tuple[int, int, int, int],
               grow: float = 0.0) -> np.ndarray:
    """The erase mask (float32 (h, w), 1 = keep untouched) of the named outlines in ``box``.

    Args:
        points: mesh points in pixel-centre coordinates.
        names: outlines, see :func:`outline`.
        box: (x0, y0, x1, y1) of the frame.
        grow: pixels to grow the outlines by (a soft margin, e.g. around the brows), 0 for none.
    """
    polys = [p for n in names for p in erase_polygons(points, n)]
    x0, y0, x1, y1 = box
    # only outlines that reach the box matter
    reach = [(p.min(axis=0), p.max(axis=0)) for p in polys]
    polys = [p for p, (lo, hi) in zip(polys, reach, strict=True) if hi[0] >= x0 - grow - 1 and lo[0] <= x1 + grow
             and hi[1] >= y0 - grow - 1 and lo[1] <= y1 + grow]
    if not polys:
        return np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
    mask = erase_coverage(polys, box)
    return grow_erase(mask, grow) if grow > 0 else mask


def grow_erase(mask: np.ndarray, grow: float) -> np.ndarray:
    """An erase mask (float32 (h, w), not modified) grown by a soft margin of ``grow`` pixels: a new array."""
    sigma = grow / 2.0
    k = 2 * int(np.ceil(2.5 * sigma)) + 1
    blurred = cv2.GaussianBlur(mask, (k, k), sigma)
    # the blurred edge is 0.5 on the outline: grow it outwards by stretching the ramp
    np.multiply(blurred, np.float32(2.0), out=blurred)
    np.minimum(blurred, np.float32(1.0), out=blurred)
    np.maximum(mask, blurred, out=blurred)
    return blurred
