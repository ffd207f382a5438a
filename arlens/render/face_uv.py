"""arlens' own texture space of MediaPipe's face mesh, and the per-triangle warps between it and a frame.

Make-up patterns (eyeshadow zones, blush, contour, liner wings, lash and brow strokes) are authored once
in this UV space and follow any face, pose and expression, because they are tied to the mesh's triangles
rather than to the image.

The layout: the canonical face (``assets/canonical_face.npz``, arlens' own mean of the mesh model's 3D
output) made exactly mirror-symmetric — each vertex averaged with the reflection of its mirror partner,
from the mesh's own left/right pairing (:func:`mirror_table`) — and projected frontally: ``u`` runs across
the face from the subject's right (image left) to left, ``v`` from the forehead down to the chin, both in
[0, 1] with the face's width and height in the same units. A symmetric layout makes mirroring a pattern
exact: what is authored at ``(u, v)`` on one side is drawn at ``(1 - u, v)`` on the other. The few
triangles a frontal projection folds over (inner lip corners, the sides of the nose and jaw turn away from
the camera) are unfolded by moving their vertices towards their neighbours' mean until no triangle is
flipped.

The mesh has holes where the eyes and the mouth open; each is closed by a fan of triangles around a
virtual vertex at its landmarks' mean, so that the UV map is defined across an eye or a mouth opening
(patterns need it at their edges; erase masks keep colour out of the openings themselves).

Warps, both exact per triangle (each triangle's affine map, MediaPipe's tessellation):

- UV -> frame for points (:func:`locate` once, then :func:`warp`): a stroke or outline authored in UV lands
  on any face by barycentric interpolation of its triangle's three landmarks: one small matrix product.
- frame -> UV for the pixels of a region of interest (:func:`uv_map`): each triangle of the region is
  rasterised on a coarse grid, the UV of each grid sample interpolated from its triangle, and the grid
  resized to the region's pixels (UV is continuous across triangle edges, so bilinear resizing is exact
  inside triangles and off by a fraction of a grid step in UV at their edges). Written here, in numpy,
  because OpenCV has no per-vertex attribute rasteriser and a GL context per lens would cost more than the
  few thousand grid samples this touches.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from arlens import landmarks as named
from arlens.resources import assets_dir

#: The canonical face's file in the assets folder.
CANONICAL_FILE = "canonical_face.npz"
#: Virtual vertices closing the mesh's holes, in this order, after the 468 mesh vertices.
HOLES = ("right_eye", "left_eye", "mouth")
NUM_VERTICES = named.NUM_MESH_LANDMARKS + len(HOLES)
#: Margin of the layout around the face, as a fraction of the UV square.
_MARGIN = 0.02
#: A midline edge of the mesh (glabella to the nose bridge), directed as in the tessellation: the seed of
#: the mirror table (a midline edge mirrors to itself, reversed).
_MIDLINE_SEED = (168, 6)


def _hole_loops() -> dict[str, tuple[int, ...]]:
    return {"right_eye": named.right_eye(), "left_eye": named.left_eye(), "mouth": named.lips_inner()}


@dataclass(frozen=True)
class UVLayout:
    """The face mesh in arlens' texture space.

    Attributes:
        uv: float32 (NUM_VERTICES, 2) texture coordinates of the 468 mesh vertices and the hole centres.
        triangles: int32 (T, 3) MediaPipe's triangles (counter-clockwise in UV) then the hole fans.
        mesh_triangles: how many of ``triangles`` are MediaPipe's own.
        mirror: intp (NUM_VERTICES,) each vertex's mirror partner (midline vertices map to themselves).
    """

    uv: np.ndarray
    triangles: np.ndarray
    mesh_triangles: int
    mirror: np.ndarray

    @functools.cached_property
    def tri_uv(self) -> np.ndarray:
        """float32 (T, 3, 2): the triangles' corners in UV."""
        return self.uv[self.triangles]

    def triangles_in(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """Indices (intp, ascending) of the triangles whose UV bounding box meets ``box`` (u0, v0, u1, v1)."""
        lo, hi = self.tri_uv.min(axis=1), self.tri_uv.max(axis=1)
        u0, v0, u1, v1 = box
        keep = (hi[:, 0] >= u0) & (lo[:, 0] <= u1) & (hi[:, 1] >= v0) & (lo[:, 1] <= v1)
        return np.flatnonzero(keep)


@functools.cache
def mirror_table() -> np.ndarray:
    """Each mesh vertex's mirror partner, intp (468,), from the tessellation's own symmetry.

    Reflection maps the directed edge a->b of a triangle (a, b, c) to the edge b'->a' of the mirrored
    triangle (b', a', c'): starting from a midline edge (its own mirror) and the eye contours (mirrored
    loop for loop), every triangle's third vertex is paired across the face, breadth first, and each pairing
    is then confirmed by a vote over all triangles (MediaPipe's mesh is symmetric but for a handful of
    triangles, where the majority wins). The result is checked to be an involution.
    """
    tris = named.face_triangles()
    third = {}
    for a, b, c in tris.tolist():
        third[(a, b)], third[(b, c)], third[(c, a)] = c, a, b
    n = named.NUM_MESH_LANDMARKS
    fixed = {}
    for a, b in zip(named.right_eye(), named.left_eye(), strict=True):
        fixed[a], fixed[b] = b, a
    m = np.full(n, -1, dtype=np.intp)
    m[list(_MIDLINE_SEED)] = _MIDLINE_SEED
    for a, b in fixed.items():
        m[a] = b
    queue = deque([_MIDLINE_SEED])
    seen = set()
    while queue:
        a, b = queue.popleft()
        if (a, b) in seen or (a, b) not in third:
            continue
        seen.add((a, b))
        c, key = third[(a, b)], (int(m[b]), int(m[a]))
        if key in third:
            partner = third[key]
            if m[c] < 0:
                m[c] = partner
            if m[partner] < 0:
                m[partner] = c
        queue.extend(((b, c), (c, a), (b, a), (c, b), (a, c)))
    for _ in range(5):
        votes: dict[int, Counter] = {}
        for (a, b), c in third.items():
            key = (int(m[b]), int(m[a]))
            if key in third:
                votes.setdefault(c, Counter())[third[key]] += 1
        new = m.copy()
        for v, counter in votes.items():
            if v not in fixed:
                new[v] = counter.most_common(1)[0][0]
        if np.array_equal(new, m):
            break
        m = new
    if (m < 0).any() or not np.array_equal(m[m], np.arange(n)):  # pragma: no cover - a property of the mesh
        raise RuntimeError("the face mesh's mirror table is not an involution")
    return m


def _signed_area(tri: np.ndarray) -> np.ndarray:
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _unfold(uv: np.ndarray, tris: np.ndarray, mirror: np.ndarray, sign: float) -> np.ndarray:
    """Move the vertices of folded triangles towards their neighbours' mean until none is folded."""
    neighbours: dict[int, set[int]] = {}
    for t in tris.tolist():
        for i in range(3):
            neighbours.setdefault(t[i], set()).update((t[(i + 1) % 3], t[(i + 2) % 3]))
    uv = uv.copy()
    for _ in range(200):
        folded = np.flatnonzero(_signed_area(uv[tris]) * sign <= 0)
        if not len(folded):
            return uv
        for v in sorted({int(v) for v in tris[folded].reshape(-1)}):
            mean = uv[list(neighbours[v])].mean(axis=0)
            uv[v] += 0.5 * (mean - uv[v])
        uv = 0.5 * (uv + np.column_stack([1.0 - uv[mirror, 0], uv[mirror, 1]]))  # stay symmetric
    raise RuntimeError("could not unfold the face's UV layout")  # pragma: no cover - a property of the mesh


@functools.cache
def layout() -> UVLayout:
    """The UV layout (computed once from the canonical face and the mesh's tables)."""
    with np.load(assets_dir() / CANONICAL_FILE) as data:
        points = data["points"].astype(np.float64)  # (468, 3) cm, x to the image's right, y up
    mirror = mirror_table()
    reflected = points[mirror] * np.array([-1.0, 1.0, 1.0])
    sym = 0.5 * (points + reflected)
    xy = sym[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    scale = (1.0 - 2 * _MARGIN) / float((hi - lo).max())
    centre = 0.5 * (lo + hi)
    uv = np.column_stack([0.5 + (xy[:, 0] - centre[0]) * scale, 0.5 - (xy[:, 1] - centre[1]) * scale])
    tris = named.face_triangles().astype(np.int64)
    sign = float(np.sign(np.median(_signed_area(uv[tris]))))
    uv = _unfold(uv, tris, mirror, sign)
    if sign < 0:  # keep MediaPipe's triangles counter-clockwise in UV
        tris = tris[:, ::-1]
    loops = _hole_loops()
    centres = np.array([uv[list(loops[h])].mean(axis=0) for h in HOLES])
    all_uv = np.vstack([uv, centres])
    fans = []
    for k, name in enumerate(HOLES):
        loop = loops[name]
        centre_index = named.NUM_MESH_LANDMARKS + k
        for i in range(len(loop)):
            fans.append((loop[i], loop[(i + 1) % len(loop)], centre_index))
    fans_arr = np.array(fans, dtype=np.int64)
    flip = _signed_area(all_uv[fans_arr]) < 0
    fans_arr[flip] = fans_arr[flip][:, ::-1]
    full_mirror = np.concatenate([mirror, [named.NUM_MESH_LANDMARKS + 1, named.NUM_MESH_LANDMARKS,
                                           named.NUM_MESH_LANDMARKS + 2]]).astype(np.intp)
    return UVLayout(
        uv=all_uv.astype(np.float32),
        triangles=np.vstack([tris, fans_arr]).astype(np.int32),
        mesh_triangles=len(tris),
        mirror=full_mirror,
    )


SIDES = ("right", "left")
"""The subject's sides; ``right`` is on the image's left in a frontal photo."""


@functools.cache
def eyelids(side: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The upper and lower lash lines of an eye, each from the outer corner to the inner corner (shared).

    The eye contour loop is cut at its corners, the points farthest from and nearest to the face's midline
    in the layout; the upper half is the one higher up (smaller ``v``).
    """
    loop = list(named.right_eye() if side == "right" else named.left_eye())
    uv = layout().uv
    across = np.abs(uv[loop, 0] - 0.5)
    outer, inner = loop.index(loop[int(across.argmax())]), loop.index(loop[int(across.argmin())])
    n = len(loop)
    a = [loop[(outer + i) % n] for i in range((inner - outer) % n + 1)]
    b = [loop[(outer - i) % n] for i in range((outer - inner) % n + 1)]
    upper, lower = (a, b) if uv[a[1:-1], 1].mean() < uv[b[1:-1], 1].mean() else (b, a)
    return tuple(upper), tuple(lower)


@functools.cache
def brow_rows(side: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The upper and lower edge of a brow, each from its tail (outer end) to its head (inner end)."""
    rows = named.right_eyebrow_rows() if side == "right" else named.left_eyebrow_rows()
    uv = layout().uv
    ordered = [r if abs(uv[r[0], 0] - 0.5) > abs(uv[r[-1], 0] - 0.5) else r[::-1] for r in rows]
    upper, lower = sorted(ordered, key=lambda r: float(uv[list(r), 1].mean()))
    return tuple(upper), tuple(lower)


@functools.cache
def _hole_matrix() -> tuple[np.ndarray, ...]:
    loops = _hole_loops()
    return tuple(np.array(loops[h], dtype=np.intp) for h in HOLES)


def mesh_points(landmarks: np.ndarray) -> np.ndarray:
    """The mesh's vertices in a frame, in pixel-centre coordinates (pixel (0, 0)'s centre is (0, 0)).

    Args:
        landmarks: float (478, 2+) or (468, 2+) landmark pixels in MediaPipe's order.

    Returns:
        float32 (NUM_VERTICES, 2): the 468 mesh vertices, then each hole's centre (its loop's mean).
    """
    pts = np.asarray(landmarks, dtype=np.float32)[: named.NUM_MESH_LANDMARKS, :2]
    out = np.empty((NUM_VERTICES, 2), dtype=np.float32)
    out[: named.NUM_MESH_LANDMARKS] = pts
    for k, loop in enumerate(_hole_matrix()):
        out[named.NUM_MESH_LANDMARKS + k] = pts[loop].mean(axis=0)
    out -= np.float32(0.5)
    return out


def mesh_depths(landmarks: np.ndarray) -> np.ndarray | None:
    """Each mesh vertex's depth, as :func:`mesh_points` orders them: float32 (NUM_VERTICES,), MediaPipe's z (smaller
    is nearer the camera, in the scale of x), each hole's centre the mean of its loop; None for landmarks without a
    finite z (which then draw without a depth test)."""
    lm = np.asarray(landmarks, dtype=np.float32)
    if lm.ndim != 2 or lm.shape[1] < 3:
        return None
    z = lm[: named.NUM_MESH_LANDMARKS, 2]
    if not np.isfinite(z).all():
        return None
    out = np.empty(NUM_VERTICES, dtype=np.float32)
    out[: named.NUM_MESH_LANDMARKS] = z
    for k, loop in enumerate(_hole_matrix()):
        out[named.NUM_MESH_LANDMARKS + k] = z[loop].mean()
    return out


@dataclass(frozen=True)
class Located:
    """Points of UV space tied to the mesh: each point's triangle and barycentric weights.

    Attributes:
        vertices: intp (n, 3) the corners of each point's triangle.
        weights: float32 (n, 3) barycentric weights (sum 1; clamped to the nearest triangle for points off
            the mesh).
        inside: bool (n,) whether the point lies on the mesh.
    """

    vertices: np.ndarray
    weights: np.ndarray
    inside: np.ndarray

    def __len__(self) -> int:
        return len(self.vertices)

    @functools.cached_property
    def columns(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Per corner k: (intp (n,) ``vertices[:, k]``, float32 (n, 1) ``weights[:, k]``), contiguous (:func:`warp`)."""
        return tuple((np.ascontiguousarray(self.vertices[:, k], dtype=np.intp),
                      np.ascontiguousarray(self.weights[:, k : k + 1], dtype=np.float32)) for k in range(3))


def _barycentric(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Barycentric weights (n, T, 3) of points p (n, 2) in triangles tri (T, 3, 2), float64."""
    a = tri[None, :, 0]
    e1, e2 = tri[None, :, 1] - a, tri[None, :, 2] - a
    d = p[:, None] - a
    det = e1[..., 0] * e2[..., 1] - e1[..., 1] * e2[..., 0]
    det = np.where(np.abs(det) < 1e-18, 1e-18, det)
    l1 = (d[..., 0] * e2[..., 1] - d[..., 1] * e2[..., 0]) / det
    l2 = (e1[..., 0] * d[..., 1] - e1[..., 1] * d[..., 0]) / det
    return np.stack([1.0 - l1 - l2, l1, l2], axis=-1)


def locate(points_uv: np.ndarray) -> Located:
    """Tie UV points to the mesh (done once per pattern, when it is built).

    Args:
        points_uv: float (n, 2) points in UV.

    Returns:
        Each point's triangle and weights; a point off the mesh takes the triangle it is nearest to (by its
        most negative weight) with its weights clamped to that triangle, so it lands on the triangle's edge.
    """
    lay = layout()
    pts = np.asarray(points_uv, dtype=np.float64).reshape(-1, 2)
    tri = lay.tri_uv.astype(np.float64)
    vertices = np.empty((len(pts), 3), dtype=np.intp)
    weights = np.empty((len(pts), 3), dtype=np.float32)
    inside = np.empty(len(pts), dtype=bool)
    for start in range(0, len(pts), 256):
        chunk = pts[start : start + 256]
        w = _barycentric(chunk, tri)  # (n, T, 3)
        worst = w.min(axis=2)
        best = worst.argmax(axis=1)
        wb = w[np.arange(len(chunk)), best]
        inside[start : start + len(chunk)] = worst[np.arange(len(chunk)), best] >= -1e-9
        wb = np.clip(wb, 0.0, None)
        wb /= wb.sum(axis=1, keepdims=True)
        vertices[start : start + len(chunk)] = lay.triangles[best]
        weights[start : start + len(chunk)] = wb
    return Located(vertices, weights, inside)


def warp(located: Located, points: np.ndarray) -> np.ndarray:
    """Frame positions (float32 (n, 2), pixel-centre coordinates) of located UV points on a face.

    Args:
        located: from :func:`locate`.
        points: the face's :func:`mesh_points`.
    """
    # corner by corner (np.take and in-place products: several times faster than one einsum over (n, 3, 2) gathered
    # corners, and the same sums in the same order)
    (v0, w0), (v1, w1), (v2, w2) = located.columns
    pts = np.asarray(points, dtype=np.float32)
    out = np.take(pts, v0, axis=0)
    out *= w0
    corner = np.take(pts, v1, axis=0)
    corner *= w1
    out += corner
    corner = np.take(pts, v2, axis=0, out=corner)
    corner *= w2
    out += corner
    return out


@dataclass(frozen=True)
class UVMap:
    """UV coordinates of the pixels of a box of the frame.

    Attributes:
        box: (x0, y0, x1, y1) integer pixel box in the frame (x1, y1 exclusive).
        u, v: float32 (h, w) UV of each pixel's centre.
        on_mesh: float32 (h, w), 1 where the pixel lies on the (hole-filled) face mesh, 0 off it, soft at the
            mesh's outline (its triangles' coverage, resized like the UV).
    """

    box: tuple[int, int, int, int]
    u: np.ndarray
    v: np.ndarray
    on_mesh: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w) of the box."""
        return self.u.shape  # type: ignore[return-value]


def box_of(points: np.ndarray, triangles: np.ndarray, frame_shape: tuple[int, ...], pad: float = 2.0
           ) -> tuple[int, int, int, int] | None:
    """The frame box (x0, y0, x1, y1) around the given triangles' vertices plus ``pad`` pixels, clipped.

    Returns None when it is empty (the triangles are off the frame) or a vertex is not finite.
    """
    return points_box(points[layout().triangles[triangles].reshape(-1)], frame_shape, pad)


def points_box(corners: np.ndarray, frame_shape: tuple[int, ...], pad: float = 2.0
               ) -> tuple[int, int, int, int] | None:
    """The frame box (x0, y0, x1, y1) around points (n, 2) plus ``pad`` pixels, clipped; None when it is empty or a
    point is not finite."""
    if not len(corners):
        return None
    # both corners at once, in the points' own precision, as Python numbers (numpy's scalar arithmetic costs a call
    # each); min and max carry a NaN or an infinity through, so the box is finite exactly when every point is
    lo = np.floor(corners.min(axis=0) - pad).tolist()
    hi = np.ceil(corners.max(axis=0) + pad).tolist()
    if not math.isfinite(lo[0] + lo[1] + hi[0] + hi[1]):
        return None
    h, w = int(frame_shape[0]), int(frame_shape[1])
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(w, int(hi[0]) + 1), min(h, int(hi[1]) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


@dataclass(frozen=True)
class UVGrid:
    """The UV of a box of the frame on a coarse grid of samples, from which any finer lattice is interpolated.

    Sample ``(i, j)`` lies at frame pixel-centre ``(x0 + (j + 0.5) * sx - 0.5, y0 + (i + 0.5) * sy - 0.5)``
    (where :func:`cv2.resize` takes it when the grid is resized to the box), ``sx, sy`` the box's size over
    the grid's.

    Attributes:
        box: (x0, y0, x1, y1) the frame box the grid spans.
        values: float32 (gh, gw, 3): u, v and coverage by the mesh (1 on it, 0 off it) at each sample; samples
            off the mesh take the UV of the nearest sample on it, so interpolation stays smooth at the outline.
        hides: float32 (gh, gw), 1 at the samples where the part of the face seen lies in front of another (made
            with depths, :func:`uv_grid`: the nose over the far eye of a turned head), else 0; None where no sample
            does (a frontal face).
    """

    box: tuple[int, int, int, int]
    values: np.ndarray
    hides: np.ndarray | None = None

    def hides_in(self, box: tuple[int, int, int, int]) -> np.ndarray | None:
        """:attr:`hides` over frame ``box``, one value per pixel (interpolated as :meth:`lattice`), or None."""
        if self.hides is None:
            return None
        return cv2.warpAffine(self.hides, self._to(box, 1), (box[2] - box[0], box[3] - box[1]),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)

    def _to(self, box: tuple[int, int, int, int], cell: int) -> np.ndarray:
        """The affine map from cells of ``box`` (``cell`` pixels each) to the grid's samples."""
        x0, y0 = box[0], box[1]
        gh, gw = self.values.shape[:2]
        bx0, by0, bx1, by1 = self.box
        sx, sy = (bx1 - bx0) / gw, (by1 - by0) / gh
        return np.float64([[cell / sx, 0.0, (x0 - bx0 + 0.5 * cell) / sx - 0.5],
                           [0.0, cell / sy, (y0 - by0 + 0.5 * cell) / sy - 0.5]])

    def lattice(self, box: tuple[int, int, int, int], cell: int = 1) -> UVMap:
        """The UV map of frame ``box`` at one sample per ``cell`` x ``cell`` pixels (cell ``(r, c)``'s centre is
        pixel-centre ``(x0 + (c + 0.5) * cell - 0.5, ...)``, where :func:`cv2.resize` with ``INTER_AREA`` puts a
        block of pixels), interpolated bilinearly from the grid (one affine warp of the three channels).

        ``box`` need not lie inside the grid's box (the grid's edge samples are repeated); its size must be a
        multiple of ``cell``.
        """
        u, v, on_mesh = cv2.split(self.lattice_values(box, cell))
        return UVMap(box, u, v, on_mesh)

    def lattice_values(self, box: tuple[int, int, int, int], cell: int = 1) -> np.ndarray:
        """:meth:`lattice`'s u, v and coverage together: float32 (h // cell, w // cell, 3)."""
        x0, y0, x1, y1 = box
        w, h = (x1 - x0) // cell, (y1 - y0) // cell
        return cv2.warpAffine(self.values, self._to(box, cell), (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)

    def at(self, x: np.ndarray, y: np.ndarray, texels: float | None = None) -> np.ndarray | tuple[np.ndarray, ...]:
        """u and v (float32 (n,) each) at frame pixel-centre points ``x``, ``y`` (numbers (n,)): bilinear in the
        grid (one ``cv2.remap``), its edge samples repeated beyond it.

        With ``texels``, instead float32 (1, n, 2): the points' texel coordinates in a texture of that many texels
        per UV unit (texel centres at integers), as ``cv2.remap`` takes them.
        """
        gh, gw = self.values.shape[:2]
        bx0, by0, bx1, by1 = self.box
        gx = np.asarray(x, np.float32).reshape(1, -1) * np.float32(gw / (bx1 - bx0))
        gx += np.float32((0.5 - bx0) * gw / (bx1 - bx0) - 0.5)
        gy = np.asarray(y, np.float32).reshape(1, -1) * np.float32(gh / (by1 - by0))
        gy += np.float32((0.5 - by0) * gh / (by1 - by0) - 0.5)
        values = self.values if texels is None else self._texels(float(texels))
        at = remap_points(values, gx, gy)
        if texels is not None:
            return at
        return np.ascontiguousarray(at[0, :, 0]), np.ascontiguousarray(at[0, :, 1])

    def _texels(self, texels: float) -> np.ndarray:
        cached = self.__dict__.setdefault("_texel_cache", {})
        found = cached.get(texels)
        if found is None:
            found = self.values[..., :2] * np.float32(texels)
            found -= np.float32(0.5)
            cached[texels] = found
        return found

    def resized(self, size: tuple[int, int] | None = None) -> UVMap:
        """The UV map of the whole box resized to ``size`` (w, h) (default: one sample per pixel)."""
        x0, y0, x1, y1 = self.box
        size = (x1 - x0, y1 - y0) if size is None else size
        full = cv2.resize(self.values, size, interpolation=cv2.INTER_LINEAR)
        return UVMap(self.box, np.ascontiguousarray(full[..., 0]), np.ascontiguousarray(full[..., 1]),
                     np.ascontiguousarray(full[..., 2]))


def uv_map(points: np.ndarray, triangles: np.ndarray, box: tuple[int, int, int, int], step: float = 3.0,
           max_samples: int = 48, depths: np.ndarray | None = None) -> UVMap:
    """The UV of every pixel of ``box``, from the face's triangles that cover it (:func:`uv_grid` resized to
    the box's pixels).

    Args:
        points: the face's :func:`mesh_points`.
        triangles: indices into the layout's triangles that may cover the box (e.g. a pattern's).
        box: (x0, y0, x1, y1) in the frame.
        step: coarse grid spacing in pixels (the UV is resized from it).
        max_samples: the most grid samples along the box's longer side (the step grows to keep to it: make-up
            zones are soft, and the UV is exact at every sample whatever the step).
        depths: the mesh points' depths (:func:`mesh_depths`): where triangles overlap, the nearest is taken.

    Returns:
        The map; pixels no triangle covers take the UV of the nearest covered sample and ``on_mesh`` 0.
    """
    return uv_grid(points, triangles, box, step, max_samples, depths).resized()


def _corner_uv(tri_idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """For the triangles ``tri_idx``: their corners' vertex indices (three intp (T,) arrays) and, float64 (T,) each,
    the u and v of their first corner and of their second and third corner from the first."""
    lay = layout()
    tris = lay.triangles[tri_idx]
    tuv = lay.tri_uv[tri_idx].astype(np.float64)
    du1, du2 = tuv[:, 1] - tuv[:, 0], tuv[:, 2] - tuv[:, 0]
    columns = (tuv[:, 0, 0], tuv[:, 0, 1], du1[:, 0], du1[:, 1], du2[:, 0], du2[:, 1])
    corners = tuple(np.ascontiguousarray(tris[:, k], dtype=np.intp) for k in range(3))
    return corners + tuple(np.ascontiguousarray(c) for c in columns)


@functools.cache
def _every_triangle() -> tuple[np.ndarray, ...]:
    """The layout's every triangle (intp indices) and :func:`_corner_uv` of them, made once (read-only)."""
    tri_idx = np.arange(len(layout().triangles), dtype=np.intp)
    out = (tri_idx, *_corner_uv(tri_idx))
    for a in out:
        a.setflags(write=False)
    return out


def uv_grid(points: np.ndarray, triangles: np.ndarray, box: tuple[int, int, int, int], step: float = 3.0,
            max_samples: int = 48, depths: np.ndarray | None = None) -> UVGrid:
    """The UV of ``box`` on a coarse grid of samples (see :func:`uv_map` for the arguments).

    Each triangle is rasterised on the grid, the UV of each sample it covers interpolated from its corners.
    Samples no triangle covers take the UV of the nearest covered sample and coverage 0. With ``depths``
    (:func:`mesh_depths`), a sample two triangles cover takes the nearer one's UV (a depth test: on a turned head the
    nose hides the far eye, and the far cheek folds behind the near side); without, the last triangle's.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    step = max(step, max(w, h) / max_samples)
    gw, gh = max(2, int(np.ceil(w / step))), max(2, int(np.ceil(h / step)))
    sx, sy = w / gw, h / gh
    # the coarse sample (i, j) sits where cv2.resize takes it: pixel (j + 0.5) * sx - 0.5 of the box
    ox, oy = x0 + 0.5 * sx - 0.5, y0 + 0.5 * sy - 0.5
    tri_idx = np.asarray(triangles, dtype=np.intp)
    every = _every_triangle()
    if not (len(tri_idx) == len(every[0]) and bool((tri_idx == every[0]).all())):
        every = (tri_idx, *_corner_uv(tri_idx))
    ia, ib, ic, tu0, tv0, du1, dv1, du2, dv2 = every[1:]
    # the points in grid units, then each triangle's frame -> barycentric affine map, one coordinate array at a
    # time (float64: a few hundred triangles; numpy is slow on short trailing axes)
    g = (points.astype(np.float64) - (ox, oy)) / (sx, sy)
    gx, gy = np.ascontiguousarray(g[:, 0]), np.ascontiguousarray(g[:, 1])
    ax, ay, bx, by, cx, cy = gx[ia], gy[ia], gx[ib], gy[ib], gx[ic], gy[ic]
    e1x, e1y, e2x, e2y = bx - ax, by - ay, cx - ax, cy - ay
    det = e1x * e2y - e1y * e2x
    ok = np.abs(det) > 1e-9
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    # l1 = p1 x + q1 y + r1, l2 = p2 x + q2 y + r2
    p1, q1 = e2y * inv, -e2x * inv
    p2, q2 = -e1y * inv, e1x * inv
    r1 = -(p1 * ax + q1 * ay)
    r2 = -(p2 * ax + q2 * ay)
    # the corners' extent
    j0 = np.clip(np.ceil(np.minimum(np.minimum(ax, bx), cx) - 1e-9), 0, gw).astype(np.int64)
    j1 = np.clip(np.floor(np.maximum(np.maximum(ax, bx), cx) + 1e-9), -1, gw - 1).astype(np.int64)
    i0 = np.clip(np.ceil(np.minimum(np.minimum(ay, by), cy) - 1e-9), 0, gh).astype(np.int64)
    i1 = np.clip(np.floor(np.maximum(np.maximum(ay, by), cy) + 1e-9), -1, gh - 1).astype(np.int64)
    nj = np.maximum(j1 - j0 + 1, 0) * ok
    ni = np.maximum(i1 - i0 + 1, 0) * ok
    counts = nj * ni
    total = int(counts.sum())
    hides = None
    values = np.zeros((gh * gw, 3), dtype=np.float32)
    covered = np.zeros(gh * gw, dtype=np.uint8)
    if total:
        # every candidate sample of every triangle's extent (np.take: several times faster than fancy indexing)
        owner = np.repeat(np.arange(len(tri_idx)), counts)
        k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        row, col = np.divmod(k, np.take(nj, owner))
        row += np.take(i0, owner)
        col += np.take(j0, owner)
        l1 = np.take(p1, owner) * col + np.take(q1, owner) * row + np.take(r1, owner)
        l2 = np.take(p2, owner) * col + np.take(q2, owner) * row + np.take(r2, owner)
        eps = -1e-6
        keep = (l1 >= eps) & (l2 >= eps) & (l1 + l2 <= 1.0 - eps)
        o, l1, l2 = owner[keep], l1[keep], l2[keep]
        flat = row[keep] * gw + col[keep]
        if depths is not None and len(flat):
            o, l1, l2, flat, hides = _nearest_last(o, l1, l2, flat, depths, tri_idx, gh * gw)
        values[flat, 0] = np.take(tu0, o) + np.take(du1, o) * l1 + np.take(du2, o) * l2
        values[flat, 1] = np.take(tv0, o) + np.take(dv1, o) * l1 + np.take(dv2, o) * l2
        values[flat, 2] = 1.0
        covered[flat] = 1
    n_covered = int(np.count_nonzero(covered))
    if 0 < n_covered < gh * gw:
        # off-mesh samples take the nearest covered sample's UV, so resizing stays smooth at the outline
        _, labels = cv2.distanceTransformWithLabels((1 - covered).reshape(gh, gw), cv2.DIST_L2, 3,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        labels = labels.reshape(-1)
        on = np.flatnonzero(covered)
        lut = np.zeros((int(labels.max()) + 1, 2), dtype=np.float32)
        lut[np.take(labels, on)] = np.take(values, on, axis=0)[:, :2]
        values[:, :2] = np.take(lut, labels, axis=0)
    grid = values.reshape(gh, gw, 3)
    return UVGrid(box, grid, None if hides is None else hides.reshape(gh, gw))


def _nearest_last(o: np.ndarray, l1: np.ndarray, l2: np.ndarray, flat: np.ndarray, depths: np.ndarray,
                  tri_idx: np.ndarray, samples: int) -> tuple[Any, ...]:
    """The grid samples two or more triangles cover moved to the end, farthest first (numpy's assignment with a
    repeated index keeps the last value: the nearest triangle's, what the camera sees), and float32 (samples,) 1 where
    the triangles lay more than ``FOLD_DEPTH`` of the face's depth range apart (one surface in front of another; two
    neighbours meeting at an edge are at one depth), or None where none did."""
    hits = np.bincount(flat, minlength=samples)
    shared = np.take(hits, flat) > 1
    if not shared.any():
        return o, l1, l2, flat, None
    tris = layout().triangles[np.take(tri_idx, o.compress(shared))]
    za = np.take(depths, tris[:, 0])
    z = za + (np.take(depths, tris[:, 1]) - za) * l1.compress(shared)
    z += (np.take(depths, tris[:, 2]) - za) * l2.compress(shared)
    at = flat.compress(shared)
    order = np.lexsort((-z, at))  # by sample, then farthest first
    at, z = at[order], z[order]
    first = np.ones(len(at), bool)
    first[1:] = at[1:] != at[:-1]
    starts = np.flatnonzero(first)
    spread = np.maximum.reduceat(z, starts) - np.minimum.reduceat(z, starts)
    deep = spread > FOLD_DEPTH * float(depths.max() - depths.min())
    hides = None
    if deep.any():
        hides = np.zeros(samples, np.float32)
        hides[at[starts[deep]]] = 1.0
    index = np.concatenate([np.flatnonzero(~shared), np.flatnonzero(shared)[order]])
    return o[index], l1[index], l2[index], flat[index], hides


#: Triangles over one grid sample more than this share of the face's depth range apart are one surface in front
#: of another (:attr:`UVGrid.hides`), not neighbours meeting at an edge or a lid folding over its eye's opening (on
#: the three frontal test faces no sample at 0.06, 0-3 at 0.02; on the talking head turned away, 1,464 of 5,235
#: covered samples at 0.06, 1,489 at 0.02).
FOLD_DEPTH = 0.05


#: Most points :func:`remap_points` looks up in one row: OpenCV's remap asserts that its maps are narrower than
#: SHRT_MAX (32,767) columns.
REMAP_ROW = 16384


def remap_points(src: np.ndarray, map1: np.ndarray, map2: np.ndarray | None = None,
                 border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """``cv2.remap`` (bilinear) of one row of points for any number n of them: ``map1`` float32 (1, n) x with
    ``map2`` (1, n) y, or (1, n, 2) x and y with ``map2`` None; returns (1, n, C) ((1, n) for one channel).

    OpenCV's remap takes maps narrower than 32,767 columns; a close-up's shimmer looks up more points than that
    (the full look on a 1080p portrait: about 40,000). Those are looked up as rows of ``REMAP_ROW`` points (the
    last row padded with its last point, then cut): each point's value is its own bilinear lookup, so the rows
    give the values one row would.
    """
    n = map1.shape[1]
    if n < REMAP_ROW:  # one row: OpenCV remaps it in the calling thread
        return cv2.remap(src, map1, map2, cv2.INTER_LINEAR, borderMode=border)
    rows = -(-n // REMAP_ROW)
    pad = ((0, 0), (0, rows * REMAP_ROW - n)) + ((0, 0),) * (map1.ndim - 2)

    def grid(m: np.ndarray) -> np.ndarray:
        return np.pad(m, pad, mode="edge").reshape((rows, REMAP_ROW) + m.shape[2:])

    at = cv2.remap(src, grid(map1), None if map2 is None else grid(map2), cv2.INTER_LINEAR, borderMode=border)
    return at.reshape((1, rows * REMAP_ROW) + at.shape[2:])[:, :n]
