"""The built-in make-up patterns, authored once in arlens' UV layout of the face (:mod:`arlens.render.face_uv`).

A pattern (named in :mod:`arlens.catalog.patterns`) is drawn from up to two things per side of the face:

- a **zone texture**: one soft 0..1 map per palette colour (lid, crease, outer V; an apple of the cheek; the
  whole face for foundation), rasterised in UV and blurred there, so its gradients lie on the skin and
  stretch and turn with it. A frame's pixels look it up through :func:`arlens.render.face_uv.uv_map`.
- **strokes**: sharp polygons authored in UV (a liner with its wing, lashes, brow hairs), tied to the mesh
  once (:func:`arlens.render.face_uv.locate`) and warped vertex by vertex onto each face, then filled
  anti-aliased at the frame's own resolution.

Everything is authored on the subject's right side from the mesh's own landmarks and their neighbours in
the tessellation (the lash lines, the ring of vertices above the lid where the crease lies, the brow rows,
the face outline) and mirrored to the left side (``u -> 1 - u``, exact in the symmetric layout). Patterns
are built on first use and cached; they are pure functions of the layout, so every run draws the same.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from arlens import landmarks as named
from arlens.catalog.patterns import PATTERNS, PatternInfo
from arlens.errors import InputError
from arlens.render import face_uv as F
from arlens.render.coverage import spline

#: Texels per UV unit of the eye textures (a 720p face is ~450 px per UV unit: two texels per pixel).
EYE_TEXELS = 1024
#: Texels per UV unit of the cheek and face textures (soft gradients need less).
FACE_TEXELS = 384
#: Opacity of the lower lashes (``mascara/volume``) against the upper: fewer, finer hairs that a wand coats less.
LOWER_LASH_OPACITY = 0.7
#: Zone values below this are treated as empty (less than a level of 8 bits at full intensity).
_EMPTY = 1.0 / 512.0


@dataclass(frozen=True)
class ZoneTexture:
    """Soft zones of one side of a pattern, in UV.

    Attributes:
        origin: (u, v) of the texture's top-left corner.
        texels: texels per UV unit.
        zones: float32 (h, w, Z), one 0..1 map per palette colour.
        triangles: intp, the layout's triangles that overlap the texture (what a frame's UV map needs).
    """

    origin: tuple[float, float]
    texels: float
    zones: np.ndarray
    triangles: np.ndarray

    def sample(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The zones at UV ``u``, ``v`` (float32 (h, w) each): float32 (h, w, Z), 0 outside the texture."""
        mx = (u - np.float32(self.origin[0])) * np.float32(self.texels) - np.float32(0.5)
        my = (v - np.float32(self.origin[1])) * np.float32(self.texels) - np.float32(0.5)
        z = self.zones.shape[2]
        parts = []
        for start in range(0, z, 4):  # cv2.remap takes at most four channels
            chunk = np.ascontiguousarray(self.zones[:, :, start : start + 4])
            out = cv2.remap(chunk, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            parts.append(out.reshape(u.shape + (-1,)))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)

    @functools.cached_property
    def vertex_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Where on the face the zones lie: the mesh vertices under them (intp (k,)) and the strongest zone's value
        at each (float32 (k,)), read-only. What depends on the surface there (the light falling on it) is read at
        these vertices."""
        uv = F.layout().uv[: named.NUM_MESH_LANDMARKS].astype(np.float32)
        weight = self.sample(uv[None, :, 0].copy(), uv[None, :, 1].copy())[0].max(axis=1)
        index = np.flatnonzero(weight > _EMPTY).astype(np.intp)
        values = weight[index].astype(np.float32)
        for a in (index, values):
            a.setflags(write=False)
        return index, values


@dataclass(frozen=True)
class Strokes:
    """Sharp polygons of one side of a pattern, tied to the mesh.

    Attributes:
        located: every polygon's vertices, concatenated, tied to their triangles.
        ends: intp, where each polygon's vertices end in ``located`` (cumulative).
        zone: the palette colour they are drawn in.
        alpha: float32 (polygons,) each polygon's own opacity (brow hairs vary; a liner is 1).
        thinnest: the narrowest polygon's mean width in UV units (twice its area over its perimeter: a lash's
            is about half its base's), which sets how finely a small face's strokes are supersampled.
    """

    located: F.Located
    ends: np.ndarray
    zone: int
    alpha: np.ndarray
    thinnest: float

    @functools.cached_property
    def uv_box(self) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1): the UV box of every polygon's vertices (where on the face the strokes lie)."""
        uv = F.warp(self.located, F.layout().uv)
        lo, hi = uv.min(axis=0).tolist(), uv.max(axis=0).tolist()
        return lo[0], lo[1], hi[0], hi[1]

    @property
    def opacity(self) -> float:
        """The strongest polygon's opacity: what strokes drawn at the frame's resolution as one coverage (a liner,
        a set of lashes) are drawn with."""
        return float(self.alpha.max())

    def polygons(self, points: np.ndarray) -> list[np.ndarray]:
        """The polygons on a face (its :func:`~arlens.render.face_uv.mesh_points`), in frame pixel centres."""
        return np.split(self.vertices(points), self.ends[:-1])

    def vertices(self, points: np.ndarray) -> np.ndarray:
        """Every polygon's vertices on a face, packed (``ends`` says where each polygon ends)."""
        return F.warp(self.located, points)

    @functools.cached_property
    def by_level(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The polygons ordered by opacity in quarters, weakest first (where they overlap the last drawn wins):
        (intp index of their vertices in :meth:`vertices`' order, their ends, int64 levels 1..4)."""
        levels = np.clip(np.ceil(self.alpha * 4), 1, 4).astype(np.int64)
        order = np.argsort(levels, kind="stable")
        starts = np.concatenate([[0], self.ends[:-1]])
        index = np.concatenate([np.arange(starts[i], self.ends[i]) for i in order]).astype(np.intp)
        ends = np.cumsum([self.ends[i] - starts[i] for i in order]).astype(np.intp)
        return index, ends, levels[order]


@dataclass(frozen=True)
class PatternSide:
    """What a pattern draws on one side of the face (``right``, ``left``, or ``face`` for both at once).

    Attributes:
        side: which side.
        texture: soft zones, or None.
        strokes: sharp strokes, or None.
        erase: outlines (:func:`arlens.render.coverage.outline` names) kept free of colour here.
    """

    side: str
    texture: ZoneTexture | None
    strokes: tuple[Strokes, ...]
    erase: tuple[str, ...]


@dataclass(frozen=True)
class Pattern:
    """A built pattern: its catalog entry and what it draws on each side."""

    info: PatternInfo
    sides: tuple[PatternSide, ...]

    @property
    def zones(self) -> int:
        """How many palette colours it takes."""
        return len(self.info.zones)


# ---------------------------------------------------------------------------------------------------------
# authoring helpers (UV of the layout, right side)


class _Canvas:
    """Soft zones rasterised in a UV box: fill polygons and ellipses, blur, combine."""

    def __init__(self, box: tuple[float, float, float, float], zones: int, texels: float) -> None:
        u0, v0, u1, v1 = box
        self.origin = (u0, v0)
        self.texels = float(texels)
        self.w = int(math.ceil((u1 - u0) * texels))
        self.h = int(math.ceil((v1 - v0) * texels))
        self.zones = np.zeros((self.h, self.w, zones), dtype=np.float32)

    def layer(self) -> np.ndarray:
        return np.zeros((self.h, self.w), dtype=np.float32)

    def poly(self, layer: np.ndarray, points: np.ndarray, value: float = 1.0) -> np.ndarray:
        p = (np.asarray(points, dtype=np.float64) - self.origin) * self.texels - 0.5
        cv2.fillPoly(layer, [np.rint(p * 16).astype(np.int32)], float(value), cv2.LINE_AA, 4)
        return layer

    def ellipse(self, layer: np.ndarray, centre, radii, angle_deg: float = 0.0) -> np.ndarray:
        t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        a = np.deg2rad(angle_deg)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        pts = np.stack([radii[0] * np.cos(t), radii[1] * np.sin(t)], axis=1) @ rot.T + np.asarray(centre)
        return self.poly(layer, pts)

    def blur(self, layer: np.ndarray, sigma_uv: float) -> np.ndarray:
        sigma = sigma_uv * self.texels
        k = 2 * int(math.ceil(3 * sigma)) + 1
        return cv2.GaussianBlur(layer, (k, k), sigma, borderType=cv2.BORDER_CONSTANT)

    def u_window(self, lo: float, hi: float, soft: float) -> np.ndarray:
        """A 0..1 ramp across u: 1 between ``lo`` and ``hi``, smoothstep over ``soft`` each side."""
        u = self.origin[0] + (np.arange(self.w, dtype=np.float64) + 0.5) / self.texels
        t = np.minimum(np.clip((u - (lo - soft)) / soft, 0, 1), np.clip(((hi + soft) - u) / soft, 0, 1))
        return np.broadcast_to((t * t * (3 - 2 * t)).astype(np.float32)[None, :], (self.h, self.w))

    def set(self, zone: int, layer: np.ndarray) -> None:
        """Zone ``zone`` is ``layer``, scaled so its strongest point is 1 (full pigment at full intensity)."""
        peak = float(layer.max())
        self.zones[:, :, zone] = np.clip(layer / peak if peak > 0 else layer, 0.0, 1.0)

    def texture(self, mirror: bool) -> ZoneTexture:
        """The zones cropped to where they are not zero (plus a texel), mirrored to the left side if asked."""
        zones = self.zones
        u0, v0 = self.origin
        rows = np.flatnonzero(zones.max(axis=(1, 2)) > _EMPTY)
        cols = np.flatnonzero(zones.max(axis=(0, 2)) > _EMPTY)
        r0, r1 = max(0, rows[0] - 1), min(self.h, rows[-1] + 2)
        c0, c1 = max(0, cols[0] - 1), min(self.w, cols[-1] + 2)
        zones = np.ascontiguousarray(zones[r0:r1, c0:c1])
        u0, v0 = u0 + c0 / self.texels, v0 + r0 / self.texels
        w = zones.shape[1] / self.texels
        if mirror:
            zones = np.ascontiguousarray(zones[:, ::-1])
            u0 = 1.0 - (u0 + w)
        box = (u0, v0, u0 + w, v0 + zones.shape[0] / self.texels)
        return ZoneTexture((u0, v0), self.texels, zones, F.layout().triangles_in(box))


def _uv(indices) -> np.ndarray:
    return F.layout().uv[list(indices)].astype(np.float64)


def _normals(curve: np.ndarray) -> np.ndarray:
    """Unit normals of a polyline (n, 2), rotated +90 degrees from its direction (in UV, v down)."""
    d = np.gradient(curve, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
    return np.stack([d[:, 1], -d[:, 0]], axis=1)


def _resample(curve: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly spaced along a polyline (arc length)."""
    seg = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, curve[:, 0]), np.interp(t, s, curve[:, 1])], axis=1)


def _hash01(*keys: int) -> float:
    """A deterministic number in [0, 1) from integers (lowbias32), for jitter that never changes between runs."""
    x = 0x9E3779B9
    for k in keys:
        x = (x ^ (k & 0xFFFFFFFF)) & 0xFFFFFFFF
        x ^= x >> 16
        x = (x * 0x7FEB352D) & 0xFFFFFFFF
        x ^= x >> 15
        x = (x * 0x846CA68B) & 0xFFFFFFFF
        x ^= x >> 16
    return x / 2**32


@functools.cache
def _neighbours() -> dict[int, set[int]]:
    lay = F.layout()
    out: dict[int, set[int]] = {}
    for t in lay.triangles[: lay.mesh_triangles].tolist():
        for i in range(3):
            out.setdefault(t[i], set()).update((t[(i + 1) % 3], t[(i + 2) % 3]))
    return out


@dataclass(frozen=True)
class _Eye:
    """The right eye's geometry in UV: lash lines (outer corner -> inner corner), the crease ring, brow rows."""

    upper: np.ndarray
    lower: np.ndarray
    crease: np.ndarray
    brow_upper: np.ndarray
    brow_lower: np.ndarray

    @property
    def outer(self) -> np.ndarray:
        return self.upper[0]

    @property
    def inner(self) -> np.ndarray:
        return self.upper[-1]

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.inner - self.outer))

    @property
    def centre(self) -> np.ndarray:
        return 0.5 * (self.upper.mean(axis=0) + self.lower.mean(axis=0))

    def crease_at(self, lift: float) -> np.ndarray:
        """The crease ring moved ``lift`` of the way towards the brow's lower edge (resampled alike)."""
        n = len(self.crease)
        brow = _resample(self.brow_lower, n)
        return self.crease + lift * (brow - self.crease)

    def midline(self) -> np.ndarray:
        """Halfway between the lash lines (inside the opening), outer corner -> inner corner."""
        n = len(self.upper)
        return 0.5 * (self.upper + _resample(self.lower, n))


@functools.cache
def _eye() -> _Eye:
    uv = F.layout().uv
    up_idx, lo_idx = F.eyelids("right")
    loop = set(named.right_eye())
    # the ring of vertices just above the upper lid (the lid's upper edge, where the crease lies)
    ring = set().union(*(_neighbours()[v] for v in up_idx)) - loop
    corner_v = min(uv[up_idx[0], 1], uv[up_idx[-1], 1])
    ring_pts = sorted((v for v in ring if uv[v, 1] < corner_v - 0.002), key=lambda v: uv[v, 0])
    b_up, b_lo = F.brow_rows("right")
    upper = spline(_uv(up_idx), 6).astype(np.float64)
    lower = spline(_uv(lo_idx), 6).astype(np.float64)
    crease = _resample(spline(_uv(ring_pts), 6).astype(np.float64), 48)
    return _Eye(upper, lower, crease, spline(_uv(b_up), 6).astype(np.float64),
                spline(_uv(b_lo), 6).astype(np.float64))


def _eye_box(eye: _Eye) -> tuple[float, float, float, float]:
    pad = 0.03
    pts = np.vstack([eye.upper, eye.lower, eye.brow_lower, eye.brow_upper])
    return (float(pts[:, 0].min() - 2 * pad), float(pts[:, 1].min() - pad), float(pts[:, 0].max() + pad),
            float(eye.lower[:, 1].max() + pad))


def _lid_polygon(eye: _Eye, lift: float) -> np.ndarray:
    """The lid from the middle of the opening (so the lash line is at full strength once blurred) up to the
    crease lifted by ``lift``, reaching a little past the outer corner."""
    top = eye.crease_at(lift)
    flick = eye.outer + np.array([-0.012, -0.006])
    return np.vstack([eye.midline(), top[::-1], [flick]])


# ---------------------------------------------------------------------------------------------------------
# eyeshadow


def _eyeshadow(name: str, zones: int) -> tuple[_Canvas, list]:
    eye = _eye()
    c = _Canvas(_eye_box(eye), zones, EYE_TEXELS)
    ew = eye.width
    inner_fade = c.u_window(float(eye.outer[0]) - 0.1, float(eye.inner[0]) - 0.2 * ew, 0.2 * ew)
    lid = c.blur(c.poly(c.layer(), _lid_polygon(eye, 0.35)), 0.11 * ew) * inner_fade
    if name == "eyeshadow/lid":
        c.set(0, lid)
    elif name in ("eyeshadow/lid-crease", "eyeshadow/lid-crease-outer"):
        lid_low = c.blur(c.poly(c.layer(), _lid_polygon(eye, 0.15)), 0.09 * ew) * inner_fade
        c.set(0, lid_low)
        crease = _crease_band(c, eye, lift=0.42, half=0.08 * ew, sigma=0.13 * ew)
        c.set(1, crease)
        if name == "eyeshadow/lid-crease-outer":
            c.set(2, _outer_v(c, eye))
    elif name == "eyeshadow/smoky":
        c.set(0, c.blur(c.poly(c.layer(), _lid_polygon(eye, 0.4)), 0.12 * ew) * inner_fade)
        c.set(1, _smudge(c, eye))
    elif name == "eyeshadow/halo":
        lid_low = c.blur(c.poly(c.layer(), _lid_polygon(eye, 0.2)), 0.09 * ew)
        u_out, u_in = float(eye.outer[0]), float(eye.inner[0])
        third = (u_in - u_out) / 3
        soft = 0.12 * ew
        c.set(0, lid_low * c.u_window(u_in - third, u_in + 0.05, soft))
        c.set(1, lid_low * c.u_window(u_out + third, u_in - third, soft))
        c.set(2, lid_low * c.u_window(u_out - 0.05, u_out + third, soft))
        c.set(3, _crease_band(c, eye, lift=0.45, half=0.08 * ew, sigma=0.13 * ew))
        c.set(4, _brow_bone(c, eye))
    else:  # pragma: no cover - the table and this module list the same names
        raise KeyError(name)
    return c, []


def _crease_band(c: _Canvas, eye: _Eye, lift: float, half: float, sigma: float) -> np.ndarray:
    mid = eye.crease_at(lift)
    # from a little past the outer corner to two thirds of the way in, thickest outwards
    n = len(mid)
    keep = mid[: int(n * 0.8)]
    ext = keep[0] + (keep[0] - keep[3]) * 1.5
    mid = np.vstack([[ext], keep])
    t = np.linspace(1.0, 0.35, len(mid))[:, None]
    nrm = _normals(mid)
    band = np.vstack([mid + nrm * half * t, (mid - nrm * half * t)[::-1]])
    return c.blur(c.poly(c.layer(), band), sigma)


def _outer_v(c: _Canvas, eye: _Eye) -> np.ndarray:
    """The outer V: from a third of the way in along the lash line, up to the crease, out past the corner."""
    n = len(eye.upper)
    third = eye.upper[n // 3]
    top = eye.crease_at(0.45)[: len(eye.crease) // 3]  # outer -> in
    flick = eye.outer + np.array([-0.018, -0.012])
    lower_start = _resample(eye.lower, n)[: n // 5]  # outer corner -> in
    poly = np.vstack([[third], top[::-1], [flick], lower_start])
    return c.blur(c.poly(c.layer(), poly), 0.1 * eye.width)


def _smudge(c: _Canvas, eye: _Eye) -> np.ndarray:
    ew = eye.width
    up_band = np.vstack([eye.midline(), (eye.upper - np.array([0.0, 0.14 * ew]))[::-1]])
    lower = _resample(eye.lower, 32)[2:26]
    nrm = -_normals(lower)  # the lower line runs outer -> inner: its +90 normal points up, into the eye
    t = np.linspace(1.0, 0.3, len(lower))[:, None]
    low_band = np.vstack([lower - nrm * 0.02 * ew, (lower + nrm * 0.07 * ew * t)[::-1]])
    layer = c.poly(c.poly(c.layer(), up_band), low_band)
    return c.blur(layer, 0.07 * ew)


def _brow_bone(c: _Canvas, eye: _Eye) -> np.ndarray:
    n = len(eye.crease)
    top = _resample(eye.brow_lower, n) + np.array([0.0, 0.012 * eye.width])
    bottom = eye.crease_at(0.62)
    keep = slice(0, int(n * 0.75))
    poly = np.vstack([bottom[keep], top[keep][::-1]])
    return c.blur(c.poly(c.layer(), poly), 0.09 * eye.width)


# ---------------------------------------------------------------------------------------------------------
# eyeliner and mascara (strokes)


def _ribbon(curve: np.ndarray, below: np.ndarray, above: np.ndarray) -> np.ndarray:
    """A polygon along ``curve`` from ``below`` (towards the eye) to ``above`` (away from it), per point."""
    nrm = _normals(curve)
    return np.vstack([curve - nrm * below[:, None], (curve + nrm * above[:, None])[::-1]])


def _liner(name: str) -> list[np.ndarray]:
    eye = _eye()
    ew = eye.width
    # the upper lash line from the outer corner to near the inner corner: outer -> in, normals point up
    upper = _resample(eye.upper, 40)[:36]
    s = np.linspace(1.0, 0.0, len(upper))  # 1 at the outer corner
    base = 0.022 * ew
    grow = 0.075 if name == "eyeliner/winged" else 0.035
    thick = base + grow * ew * s ** (1.6 if name == "eyeliner/winged" else 1.2)
    polys = [_ribbon(upper, np.full_like(s, 0.012 * ew), thick)]
    if name == "eyeliner/winged":
        # the wing: continues the lower lash line up and out from the outer corner to a sharp tip
        lower = _resample(eye.lower, 40)
        direction = lower[0] - lower[6]
        direction /= np.linalg.norm(direction)
        up = np.array([-0.35, -1.0]) / math.hypot(0.35, 1.0)
        tip_dir = direction + 1.1 * up
        tip_dir /= np.linalg.norm(tip_dir)
        tip = eye.outer + tip_dir * 0.3 * ew
        nrm = _normals(upper)
        top_edge = upper[:7] + nrm[:7] * thick[:7, None]  # outer -> in
        polys.append(np.vstack([[eye.outer], [tip], top_edge[::-1]]))
    if name == "eyeliner/upper-lower":
        lower = _resample(eye.lower, 40)[:30]  # outer corner -> in; its normals point up, into the eye
        t = np.linspace(1.0, 0.0, len(lower))
        nrm = _normals(lower)
        below = lower - nrm * (0.012 * ew + 0.02 * ew * t)[:, None]
        polys.append(np.vstack([lower + nrm * 0.008 * ew, below[::-1]]))
    return polys


def _lash(base: np.ndarray, direction: np.ndarray, length: float, width: float, curl: float) -> np.ndarray:
    """One tapered, curled lash from ``base`` along ``direction`` (unit), as a polygon."""
    t = np.linspace(0.0, 1.0, 6)
    side = np.array([-direction[1], direction[0]])
    bend = curl * t**2 * length
    spine = base + direction * (t * length)[:, None] + side * bend[:, None]
    d = np.gradient(spine, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    nrm = np.stack([-d[:, 1], d[:, 0]], axis=1)
    half = (0.5 * width * (1.0 - 0.85 * t))[:, None]
    return np.vstack([spine + nrm * half, (spine - nrm * half)[::-1]])


def _lash_fan(line: np.ndarray, count: int, span: tuple[float, float], away: float, seed: int,
              length: Callable[[float, float], float], width: float, curl: float, spread: float,
              clump: float) -> list[np.ndarray]:
    """``count`` lashes along ``line`` (outer corner -> inner, UV) between ``span`` (0 = the outer corner), growing
    away from the eye (``away``: -1 up for the upper lid, +1 down for the lower) and out towards the outer corner,
    ``width`` wide at the base and bent sideways by ``curl`` of their length (:func:`_lash`).

    Irregular, as lashes are: each base moves by up to a third of the spacing, its angle by ``spread`` radians and its
    ``length(outward, jitter)`` with ``jitter`` in [0, 1); neighbours gather in clumps of two or three whose tips lean
    together by ``clump`` of their base's distance from the clump's middle (mascara sticks lashes together). Evenly
    spaced, parallel, equal lashes read as a comb."""
    n = len(line) - 1
    spacing = (span[1] - span[0]) / max(count - 1, 1)
    bases, dirs, lengths = [], [], []
    for i in range(count):
        sp = span[0] + i * spacing + (_hash01(i, seed, 1) - 0.5) * 0.66 * spacing
        sp = min(max(sp, 0.0), 1.0)
        k = min(int(sp * n), n - 1)
        f = sp * n - k
        base = (1.0 - f) * line[k] + f * line[k + 1]
        tangent = line[max(k - 1, 0)] - line[min(k + 2, n)]  # towards the outer corner
        tangent /= np.linalg.norm(tangent)
        normal = np.array([-tangent[1], tangent[0]])
        if normal[1] * away < 0:
            normal = -normal
        outward = 1.0 - sp  # 1 at the outer corner
        direction = normal + (0.15 + 0.9 * outward**2) * tangent
        angle = (_hash01(i, seed, 2) - 0.5) * 2.0 * spread
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        bases.append(base)
        dirs.append(rot @ (direction / np.linalg.norm(direction)))
        lengths.append(length(outward, _hash01(i, seed, 3)))
    # clumps of two or three neighbours, chosen once
    i = 0
    groups = []
    while i < count:
        size = 2 if _hash01(i, seed, 4) < 0.6 else 3
        groups.append(range(i, min(i + size, count)))
        i += size
    polys = []
    for group in groups:
        middle = np.mean([bases[j] for j in group], axis=0)
        for j in group:
            side = np.array([-dirs[j][1], dirs[j][0]])
            # the tip leans towards the clump's middle: a sideways bend of that much over the lash's length
            lean = float(np.dot(middle - bases[j], side)) * clump / lengths[j]
            polys.append(_lash(bases[j], dirs[j], lengths[j], width, curl + lean))
    return polys


def _mascara(name: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The upper lashes (with a dark band at their roots) and the lower lashes (``mascara/volume`` only)."""
    eye = _eye()
    ew = eye.width
    volume = name == "mascara/volume"
    upper = _resample(eye.upper, 160)  # outer -> inner
    roots = _resample(eye.upper, 40)[:35]
    s = np.linspace(1.0, 0.0, len(roots))
    top = [_ribbon(roots, np.full_like(s, 0.004 * ew), 0.006 * ew + 0.008 * ew * s)]
    gain = 1.3 if volume else 1.0
    top += _lash_fan(upper, 44 if volume else 34, (0.02, 0.88), -1.0, 7 if volume else 3,
                     lambda out, j: ew * (0.12 + 0.10 * out**1.5) * gain * (0.8 + 0.35 * j),
                     ew * (0.015 if volume else 0.010), 0.25, 0.08, 0.6)
    if not volume:
        return top, []
    lower = _resample(eye.lower, 100)  # outer -> inner
    part = _resample(eye.lower, 40)[:30]
    t = np.linspace(1.0, 0.0, len(part))
    # a faint line at the roots, on the skin side of the lower lash line (its +90 normal points into the eye)
    bottom = [_ribbon(part, 0.002 * ew + 0.004 * ew * t, np.full_like(t, 0.001 * ew))]
    bottom += _lash_fan(lower, 26, (0.04, 0.78), 1.0, 19,
                        lambda out, j: ew * (0.035 + 0.03 * out) * (0.75 + 0.5 * j), 0.006 * ew, 0.0, 0.15, 0.25)
    return top, bottom


# ---------------------------------------------------------------------------------------------------------
# brows


def _brow_outline() -> tuple[np.ndarray, np.ndarray]:
    """The right brow's upper and lower edge (tail -> head), smoothed."""
    b_up, b_lo = F.brow_rows("right")
    return spline(_uv(b_up), 6).astype(np.float64), spline(_uv(b_lo), 6).astype(np.float64)


def _brow_texture() -> _Canvas:
    upper, lower = _brow_outline()
    pts = np.vstack([upper, lower])
    pad = 0.03
    box = (pts[:, 0].min() - pad, pts[:, 1].min() - pad, pts[:, 0].max() + pad, pts[:, 1].max() + pad)
    c = _Canvas(box, 1, EYE_TEXELS)
    width = float(np.linalg.norm(upper[0] - upper[-1]))
    n = 48
    up, lo = _resample(upper, n), _resample(lower, n)
    spine = 0.5 * (up + lo)
    # MediaPipe's brow rows sit on the hair's outer edges: keep the fill a little inside them
    up, lo = spine + 0.85 * (up - spine), spine + 0.9 * (lo - spine)
    poly = np.vstack([up, lo[::-1]])
    c.set(0, c.blur(c.poly(c.layer(), poly), 0.02 * width))
    return c


def _brow_hairs(dense: bool) -> tuple[list[np.ndarray], np.ndarray]:
    """Hair strokes inside the right brow: upright at its head, turning to lie along it towards the tail."""
    upper, lower = _brow_outline()
    n = 48
    up, lo = _resample(upper, n), _resample(lower, n)  # tail -> head
    spine = 0.5 * (up + lo)
    width = float(np.linalg.norm(upper[0] - upper[-1]))
    polys, alphas = [], []
    rows = 4 if dense else 3
    cols = 30 if dense else 22
    for i in range(cols):
        for j in range(rows):
            key = (i, j, 5 if dense else 2)
            s = (i + 0.5 * _hash01(*key, 1)) / cols  # 0 at the tail
            t = (j + 0.2 + 0.6 * _hash01(*key, 2)) / rows  # 0 at the lower edge
            k = min(int(s * (n - 1)), n - 2)
            a = s * (n - 1) - k
            bottom = lo[k] * (1 - a) + lo[k + 1] * a
            top = up[k] * (1 - a) + up[k + 1] * a
            base = bottom + (top - bottom) * t * 0.85
            along = spine[k] - spine[k + 1]  # towards the tail
            along /= np.linalg.norm(along)
            towards_top = top - bottom
            height = float(np.linalg.norm(towards_top))
            towards_top /= height
            head = 1.0 - s  # 1 at the head
            lean = 0.25 + 0.55 * (1.0 - head) ** 0.7  # how much the hair lies along the brow
            direction = (1.0 - lean) * towards_top + lean * along
            direction /= np.linalg.norm(direction)
            length = height * (0.55 + 0.25 * _hash01(*key, 3))
            if head > 0.82:
                length *= 0.8
            polys.append(_lash(base, direction, length, 0.009 * width, 0.12 * (1 if _hash01(*key, 4) > 0.5 else -1)))
            alphas.append(0.55 + 0.45 * _hash01(*key, 5))
    return polys, np.array(alphas, dtype=np.float32)


# ---------------------------------------------------------------------------------------------------------
# cheeks and skin


@dataclass(frozen=True)
class _Anchors:
    """Where the cheek patterns are placed, from named landmarks of the layout (right side)."""

    eye_centre: np.ndarray
    eye_outer: np.ndarray
    eye_width: float
    mouth_corner: np.ndarray
    lip_top: np.ndarray
    oval: np.ndarray  # the face outline, right half, top -> chin

    def oval_at(self, v: float) -> np.ndarray:
        """The face outline's point at height ``v`` (right side)."""
        o = self.oval
        return np.array([float(np.interp(v, o[:, 1], o[:, 0])), v])


@functools.cache
def _anchors() -> _Anchors:
    uv = F.layout().uv
    eye = _eye()
    lips = list(named.lips_outer())
    corner = lips[int(np.argmin(uv[lips, 0]))]
    central = [i for i in lips if abs(uv[i, 0] - 0.5) < 0.02]
    top = min(central, key=lambda i: uv[i, 1])
    oval = list(named.face_oval())
    right = sorted((i for i in oval if uv[i, 0] <= 0.5), key=lambda i: uv[i, 1])
    return _Anchors(eye.centre, eye.outer, eye.width, uv[corner].astype(np.float64), uv[top].astype(np.float64),
                    uv[right].astype(np.float64))


def _apple(c: _Canvas, a: _Anchors) -> np.ndarray:
    centre = a.eye_centre + 0.5 * (a.mouth_corner - a.eye_centre) + np.array([-0.32 * a.eye_width, 0.0])
    return c.blur(c.ellipse(c.layer(), centre, (0.3 * a.eye_width, 0.24 * a.eye_width)), 0.17 * a.eye_width)


def _lifted(c: _Canvas, a: _Anchors) -> np.ndarray:
    start = a.eye_centre + 0.5 * (a.mouth_corner - a.eye_centre) + np.array([-0.32 * a.eye_width, 0.0])
    end = a.oval_at(a.eye_centre[1] + 0.12)
    centre = start + 0.5 * (end - start)
    direction = end - start
    angle = math.degrees(math.atan2(direction[1], direction[0]))
    radii = (0.42 * np.linalg.norm(direction), 0.2 * a.eye_width)
    return c.blur(c.ellipse(c.layer(), centre, radii, angle), 0.15 * a.eye_width)


def _blush(name: str) -> _Canvas:
    a = _anchors()
    c = _Canvas((0.04, a.eye_centre[1] + 0.03, 0.5, a.mouth_corner[1] + 0.05), 2 if name == "blush/duo" else 1,
                FACE_TEXELS)
    if name == "blush/apple":
        c.set(0, _apple(c, a))
    elif name == "blush/lifted":
        c.set(0, _lifted(c, a))
    else:
        c.set(0, _apple(c, a))
        c.set(1, _lifted(c, a))
    return c


def _contour(name: str) -> _Canvas:
    a = _anchors()
    c = _Canvas((0.0, 0.0, 0.5, 1.0), 1, FACE_TEXELS)
    ew = a.eye_width
    start = a.oval_at(a.eye_centre[1] + 0.21) + np.array([0.01, 0.0])
    end = start + 0.5 * (a.mouth_corner - start)
    mid = 0.5 * (start + end)
    d = end - start
    angle = math.degrees(math.atan2(d[1], d[0]))
    hollow = c.blur(c.ellipse(c.layer(), mid, (0.55 * np.linalg.norm(d), 0.16 * ew), angle), 0.14 * ew)
    if name == "contour/soft":
        c.set(0, hollow)
        return c
    o = a.oval
    inward = 0.22 * ew
    temple_pts = o[(o[:, 1] > a.eye_centre[1] - 0.16) & (o[:, 1] < a.eye_centre[1] - 0.02)]
    jaw_pts = o[(o[:, 1] > a.mouth_corner[1] + 0.04) & (o[:, 0] < 0.44)]
    layer = c.layer()
    for pts in (temple_pts, jaw_pts):
        if len(pts) >= 2:
            curve = spline(pts, 4).astype(np.float64)
            nrm = _normals(curve)
            if nrm[len(nrm) // 2, 0] < 0:  # point into the face (towards the midline)
                nrm = -nrm
            c.poly(layer, np.vstack([curve - nrm * 0.02, (curve + nrm * inward)[::-1]]))
    edges = c.blur(layer, 0.12 * ew)
    c.set(0, np.maximum(hollow, 0.85 * edges))
    return c


def _highlighter(name: str) -> _Canvas:
    a = _anchors()
    c = _Canvas((0.04, 0.1, 0.5, a.mouth_corner[1]), 1, FACE_TEXELS)
    ew = a.eye_width
    end = a.oval_at(a.eye_centre[1] + 0.06)
    centre = a.eye_outer + np.array([-0.08 * ew, 0.66 * ew])
    d = end - centre
    angle = math.degrees(math.atan2(d[1], d[0]))
    layer = c.ellipse(c.layer(), centre + 0.15 * d, (0.42 * ew, 0.085 * ew), angle)
    if name == "highlighter/glow":
        eye = _eye()
        c.poly(layer, np.array([[0.5 - 0.04 * ew, a.eye_centre[1] - 0.02], [0.5, a.eye_centre[1] - 0.02],
                                [0.5, a.eye_centre[1] + 0.12], [0.5 - 0.03 * ew, a.eye_centre[1] + 0.12]]))
        n = len(eye.crease)
        top = _resample(eye.brow_lower, n) + np.array([0.0, 0.03 * ew])
        bottom = eye.crease_at(0.55)
        keep = slice(0, int(n * 0.55))
        c.poly(layer, np.vstack([bottom[keep], top[keep][::-1]]))
        c.ellipse(layer, a.lip_top + np.array([-0.05 * ew, -0.05 * ew]), (0.08 * ew, 0.03 * ew), 20.0)
    c.set(0, c.blur(layer, 0.08 * ew))
    return c


def _foundation() -> _Canvas:
    """The whole face, fading out over its outline's last stretch (a wider fade at the forehead, where hair and
    the mesh's top edge rarely agree; the lens takes it on to the hairline where it finds the hair,
    :class:`arlens.lenses.makeup.MakeupLens`)."""
    uv = F.layout().uv
    c = _Canvas((0.0, 0.0, 1.0, 1.0), 1, FACE_TEXELS)
    oval = spline(uv[list(named.face_oval())], 4, closed=True).astype(np.float64)
    layer = c.poly(c.layer(), oval)
    r = max(1, int(round(0.03 * c.texels)))
    eroded = cv2.erode(layer, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    soft = c.blur(eroded, 0.03) * layer
    v = (np.arange(c.h, dtype=np.float32) + 0.5) / c.texels
    top = np.clip((v - 0.04) / 0.12, 0.0, 1.0)
    c.set(0, soft * (top * top * (3 - 2 * top))[:, None])
    return c


# ---------------------------------------------------------------------------------------------------------
# assembly


def _strokes(polys: list[np.ndarray], zone: int, alpha: np.ndarray | None, mirror: bool) -> Strokes:
    if mirror:
        polys = [np.column_stack([1.0 - p[:, 0], p[:, 1]])[::-1] for p in polys]
    ends = np.cumsum([len(p) for p in polys]).astype(np.intp)
    located = F.locate(np.vstack(polys))
    if alpha is None:
        alpha = np.ones(len(polys), dtype=np.float32)
    thinnest = min(_mean_width(p) for p in polys)
    return Strokes(located, ends, zone, np.asarray(alpha, dtype=np.float32), thinnest)


def _mean_width(polygon: np.ndarray) -> float:
    """A thin polygon's mean width: twice its area over its perimeter (exact for a long strip)."""
    x, y = polygon[:, 0], polygon[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    perimeter = float(np.linalg.norm(polygon - np.roll(polygon, -1, axis=0), axis=1).sum())
    return 2.0 * area / perimeter


def _sides(canvas: _Canvas | None, strokes: list[tuple[list[np.ndarray], np.ndarray | None]],
           erase: tuple[str, ...]) -> tuple[PatternSide, ...]:
    out = []
    for side, mirror in (("right", False), ("left", True)):
        texture = canvas.texture(mirror) if canvas is not None else None
        built = tuple(_strokes(p, 0, a, mirror) for p, a in strokes)
        names = tuple(e.replace("SIDE", side) for e in erase)
        out.append(PatternSide(side, texture, built, names))
    return tuple(out)


@functools.cache
def pattern(name: str) -> Pattern:
    """The built pattern of this name (built on first use, then cached).

    Raises:
        InputError: not a pattern name of :data:`arlens.catalog.patterns.PATTERNS`.
    """
    info = PATTERNS.get(name)
    if info is None:
        raise InputError(f"pattern: expected one of {', '.join(PATTERNS)}, got {name!r}")
    kind = info.kind
    if kind == "eyeshadow":
        canvas, _ = _eyeshadow(name, len(info.zones))
        sides = _sides(canvas, [], ("SIDE_eye", "SIDE_brow"))
    elif kind == "eyeliner":
        sides = _sides(None, [(_liner(name), None)], ("SIDE_eye",))
    elif kind == "mascara":
        upper, lower = _mascara(name)
        groups = [(upper, None)]
        if lower:
            groups.append((lower, np.full(len(lower), LOWER_LASH_OPACITY, np.float32)))
        sides = _sides(None, groups, ("SIDE_eye",))
    elif kind == "brow":
        strokes = [_brow_hairs(dense=True)] if name == "brow/fill" else []
        sides = _sides(_brow_texture(), strokes, ("SIDE_eye",))
    elif kind == "blush":
        sides = _sides(_blush(name), [], ("SIDE_eye", "SIDE_brow", "lips"))
    elif kind == "contour":
        sides = _sides(_contour(name), [], ("SIDE_eye", "SIDE_brow", "lips"))
    elif kind == "highlighter":
        sides = _sides(_highlighter(name), [], ("SIDE_eye", "SIDE_brow", "lips"))
    elif kind == "foundation":
        c = _foundation()
        texture = ZoneTexture(c.origin, c.texels, c.zones, F.layout().triangles_in((0.0, 0.0, 1.0, 1.0)))
        erase = ("right_eye", "left_eye", "right_brow", "left_brow", "mouth")
        sides = (PatternSide("face", texture, (), erase),)
    else:  # pragma: no cover - the table and this module list the same kinds
        raise KeyError(kind)
    return Pattern(info, sides)
