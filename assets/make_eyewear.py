"""Build the demo eyewear frames as GLB: round metal, rectangular and cat-eye acetate, wayfarer sunglasses.

Run from anywhere: ``python assets/make_eyewear.py`` writes ``round.glb``, ``rectangular.glb``,
``cat_eye.glb`` and ``sunglasses.glb`` next to this script, in ``assets/eyewear/``.

The models are written in glTF's own orientation (y up, the front facing +z, millimetres), the way a brand's
model would arrive; arlens' importer turns them into its frame convention. They are modelled the way frames
are made:

- **Fronts are flat plates with bevelled edges**, not tubes: each rim is lofted between the lens opening (an
  outline per design) and an outer outline offset from it by a width that varies around the eye (a heavier
  brow, the cat-eye's upswept wing, the end pieces that carry the hinges), with a flat front face, flat back
  and 45-degree bevels on both edges, flat-shaded across the bevels and smooth along the rim.
- **Acetate fronts** (rectangular, cat-eye, wayfarer) join the rims with a flat bridge that rests on the nose;
  **the metal frame** has thin flat rims, an arched bridge, pad arms and **nose pads** on the sides of the nose.
- **Temples** are flat bars (tapering, chamfered) running back about 100 mm to the ear with a slight outward
  splay, then bending down behind it; the metal frame's have acetate tips.
- **Lenses** are curved sheets (a 130 mm sphere, base-4-like) seated in the rims' grooves, with a clear
  material (the catalog says what tint a product's lenses have; the sunglasses model carries its own grey-green).

Each part has explicit flat/smooth normals and triangles wound counter-clockwise seen from outside.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

# ------------------------------------------------------------------------------------------------
# geometry helpers (units: mm; built in the arlens convention: x toward the wearer's right, y up,
# z toward the face; turned into glTF's orientation when written)

Mesh = tuple[np.ndarray, np.ndarray, np.ndarray]  # vertices (N, 3), normals (N, 3), faces (T, 3)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def resample_closed(points: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly spaced by arc length along the closed polyline ``points`` (M, 2)."""
    p = np.vstack([points, points[:1]])
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.r_[0.0, np.cumsum(seg)]
    t = np.linspace(0.0, s[-1], n, endpoint=False)
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


def catmull_rom_closed(ctrl: np.ndarray, per_segment: int = 24) -> np.ndarray:
    """A closed centripetal Catmull-Rom curve through the control points (M, 2), densely sampled."""
    ctrl = np.asarray(ctrl, dtype=np.float64)
    m = len(ctrl)
    out = []
    for i in range(m):
        p0, p1, p2, p3 = ctrl[(i - 1) % m], ctrl[i], ctrl[(i + 1) % m], ctrl[(i + 2) % m]
        t0 = 0.0
        t1 = t0 + np.linalg.norm(p1 - p0) ** 0.5
        t2 = t1 + np.linalg.norm(p2 - p1) ** 0.5
        t3 = t2 + np.linalg.norm(p3 - p2) ** 0.5
        for t in np.linspace(t1, t2, per_segment, endpoint=False):
            a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
            a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
            a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
            b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
            b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
            out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    return np.array(out)


def superellipse(a: float, b: float, exponent: float, n: int = 400) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    e = 2.0 / exponent
    c, s = np.cos(t), np.sin(t)
    return np.stack([a * np.sign(c) * np.abs(c) ** e, b * np.sign(s) * np.abs(s) ** e], axis=1)


def outward_normals(loop: np.ndarray) -> np.ndarray:
    """In-plane outward unit normals of a counter-clockwise closed loop (N, 2)."""
    tangent = _unit(np.roll(loop, -1, axis=0) - np.roll(loop, 1, axis=0))
    return np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)


def orient(vertices: np.ndarray, normals: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Flip the triangles whose winding disagrees with their vertices' normals (counter-clockwise outside)."""
    tri = vertices[faces]
    geo = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    flip = (geo * normals[faces].sum(axis=1)).sum(axis=1) < 0
    faces = faces.copy()
    faces[flip] = faces[flip][:, ::-1]
    return faces


def loft(rings: list[np.ndarray], closed_path: bool, closed_profile: bool, caps: bool = False) -> Mesh:
    """Strips between consecutive profile rings (each (N, 3): one point per path station), flat across the
    profile and smooth along the path; normals point away from each station's cross-section centroid."""
    k = len(rings)
    n = len(rings[0])
    centroid = np.mean(rings, axis=0)  # (N, 3) per station
    verts, norms, faces = [], [], []
    base = 0
    pairs = [(i, (i + 1) % k) for i in range(k if closed_profile else k - 1)]
    for a_i, b_i in pairs:
        a, b = rings[a_i], rings[b_i]
        if closed_path:
            along = np.roll(a, -1, axis=0) - np.roll(a, 1, axis=0) + np.roll(b, -1, axis=0) - np.roll(b, 1, axis=0)
        else:
            along = np.gradient(a, axis=0) + np.gradient(b, axis=0)
        across = b - a
        normal = _unit(np.cross(across, along))
        mid = 0.5 * (a + b)
        normal *= np.where(((mid - centroid) * normal).sum(axis=1) < 0, -1.0, 1.0)[:, None]
        verts += [a, b]
        norms += [normal, normal]
        rows = n if closed_path else n - 1
        i = np.arange(rows)
        j = (i + 1) % n
        quads = np.stack([np.c_[base + i, base + j, base + n + j], np.c_[base + i, base + n + j, base + n + i]])
        faces.append(quads.reshape(-1, 3))
        base += 2 * n
    v = np.concatenate(verts)
    nn = np.concatenate(norms)
    f = np.concatenate(faces)
    if caps and not closed_path:
        for end, sign in ((0, -1.0), (n - 1, 1.0)):
            ring = np.array([r[end] for r in rings])
            centre = ring.mean(axis=0)
            tangent = _unit(np.mean([r[min(end + 1, n - 1)] - r[max(end - 1, 0)] for r in rings], axis=0)) * sign
            idx = len(v) + np.arange(len(ring) + 1)
            v = np.vstack([v, centre, ring])
            nn = np.vstack([nn, np.tile(tangent, (len(ring) + 1, 1))])
            m = len(ring)
            f = np.vstack([f, np.c_[np.full(m, idx[0]), idx[1:], idx[1 + (np.arange(m) + 1) % m]]])
    return v, nn, orient(v, nn, f)


def merge(meshes: list[Mesh]) -> Mesh:
    vs, ns, fs, base = [], [], [], 0
    for v, n, f in meshes:
        vs.append(v)
        ns.append(n)
        fs.append(f + base)
        base += len(v)
    return np.concatenate(vs), np.concatenate(ns), np.concatenate(fs)


def plate_profile(inner: np.ndarray, outer: np.ndarray, z_front: float, depth: float, bevel: float) -> list:
    """The six rings of a flat plate with bevelled edges between an inner and an outer outline (N, 2):
    back face, inner bevel, flat front, outer bevel. ``z`` grows toward the face; the front is at ``z_front``."""
    n_in = _unit(outer - inner)
    width = np.linalg.norm(outer - inner, axis=1, keepdims=True)
    bev = np.minimum(bevel, 0.35 * width)
    zb, zf = z_front + depth, z_front
    zbev = zf + np.minimum(bevel, 0.4 * depth)

    def ring(xy: np.ndarray, z: np.ndarray | float) -> np.ndarray:
        return np.c_[xy, np.broadcast_to(z, (len(xy),))]

    return [
        ring(inner, zb),
        ring(inner, zbev[:, 0] if np.ndim(zbev) else zbev),
        ring(inner + n_in * bev, zf),
        ring(outer - n_in * bev, zf),
        ring(outer, zbev[:, 0] if np.ndim(zbev) else zbev),
        ring(outer, zb),
    ]


def bar_rings(path: np.ndarray, heights: np.ndarray, thickness: np.ndarray, chamfer: float) -> list:
    """The eight rings of a chamfered rectangular bar along ``path`` (N, 3): ``heights`` in the vertical-ish
    direction, ``thickness`` sideways."""
    tangent = _unit(np.gradient(path, axis=0))
    side = np.cross(tangent, [0.0, 1.0, 0.0])
    weak = np.linalg.norm(side, axis=1) < 0.2
    side[weak] = np.cross(tangent[weak], [0.0, 0.0, 1.0])
    side = _unit(side)
    up = _unit(np.cross(side, tangent))
    h, t = heights[:, None] / 2, thickness[:, None] / 2
    c = np.minimum(chamfer, 0.45 * np.minimum(h, t))
    corners = [(-t, -h + c), (-t + c, -h), (t - c, -h), (t, -h + c), (t, h - c), (t - c, h), (-t + c, h), (-t, h - c)]
    return [path + s * side + u * up for s, u in corners]


def lens_sheet(loop: np.ndarray, centre: np.ndarray, z_mid: float, radius: float = 130.0, rings: int = 1) -> Mesh:
    """A lens filling ``loop`` (N, 2) around ``centre``, curved like a sphere of ``radius`` (its middle forward)."""
    n = len(loop)
    d = loop - centre
    r_edge2 = (d**2).sum(axis=1).max()
    verts = [np.r_[centre, z_mid - r_edge2 / (2 * radius)][None]]
    for k in range(1, rings + 1):
        xy = centre + d * (k / rings)
        r2 = ((xy - centre) ** 2).sum(axis=1)
        verts.append(np.c_[xy, z_mid - (r_edge2 - r2) / (2 * radius)])
    v = np.concatenate(verts)
    sphere_centre = np.r_[centre, z_mid - r_edge2 / (2 * radius) + radius]
    normals = _unit(v - sphere_centre)  # pointing away from the face (-z): the lens's front
    faces = [np.c_[np.zeros(n, int), 1 + np.arange(n), 1 + (np.arange(n) + 1) % n]]
    for k in range(1, rings):
        a = 1 + (k - 1) * n + np.arange(n)
        b = 1 + k * n + np.arange(n)
        a2, b2 = np.roll(a, -1), np.roll(b, -1)
        faces += [np.c_[a, b, b2], np.c_[a, b2, a2]]
    return v, normals, orient(v, normals, np.concatenate(faces))


def ellipsoid(centre: np.ndarray, radii: np.ndarray, rot: np.ndarray, rings: int = 8, segments: int = 12) -> Mesh:
    theta = np.linspace(0, np.pi, rings + 1)
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    unit = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], axis=-1).reshape(-1, 3)
    v = (unit * radii) @ rot.T + centre
    n = _unit((unit / radii) @ rot.T)
    faces = []
    for i in range(rings):
        for j in range(segments):
            a, b = i * segments + j, i * segments + (j + 1) % segments
            faces += [(a, b, a + segments), (b, b + segments, a + segments)]
    return v, n, orient(v, n, np.array(faces))


# ------------------------------------------------------------------------------------------------
# designs

_CAT_EYE = np.array(  # the wearer's right lens opening, outer side at +x: an almond tilted up and out
    [
        (25.5, 12.5), (16.0, 14.6), (4.0, 14.0), (-8.0, 12.6), (-18.5, 10.4), (-24.0, 5.0), (-24.5, -3.5),
        (-20.0, -11.0), (-10.0, -15.5), (2.0, -16.0), (13.0, -12.5), (21.0, -5.5), (25.0, 3.0),
    ]
)
_WAYFARER = np.array(  # a trapezoid: wide, straight top, narrower rounded bottom
    [
        (25.5, 11.5), (12.0, 13.5), (-4.0, 13.5), (-19.0, 12.0), (-24.5, 6.5), (-23.0, -4.0), (-17.0, -12.5),
        (-5.0, -16.5), (8.0, -16.0), (18.0, -11.5), (24.0, -3.0),
    ]
)


@dataclass(frozen=True)
class Design:
    name: str
    outline: str  # round | rectangular | cat_eye | wayfarer
    lens_a: float  # half width of the lens opening
    lens_b: float  # half height
    bridge: float  # distance between the lens openings at the bridge
    lens_y: float  # lens centre height relative to the bridge bottom (origin): pupils about half-way up
    metal: bool
    rim: tuple[float, float, float]  # rim width at the top, sides, bottom (mm, in the lens plane)
    depth: float  # front thickness
    frame_color: tuple[float, float, float, float]
    roughness: float
    lens_color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 0.0)  # clear
    wing: float = 0.0  # extra rim at the upper outer corner (cat-eye)
    temple: tuple[float, float] = (5.5, 3.2)  # temple height at the hinge, thickness
    tip_color: tuple[float, float, float, float] | None = None
    end: float = 6.0  # how far the end pieces carry the hinges out beyond the rim (mm)
    points: int = 64


DESIGNS = (
    Design(
        "round", "round", 22.5, 22.5, 18.0, -6.5, True, (1.4, 1.4, 1.4), 2.0,
        (0.95, 0.70, 0.33, 1.0), 0.22, temple=(2.4, 1.1), tip_color=(0.08, 0.045, 0.025, 1.0), end=9.5,
    ),
    Design(
        "rectangular", "rectangular", 24.0, 16.5, 15.5, -6.0, False, (5.0, 4.2, 4.0), 4.2,
        (0.015, 0.015, 0.018, 1.0), 0.35, end=9.0,
    ),
    Design(
        "cat_eye", "cat_eye", 24.0, 15.0, 15.0, -6.0, False, (4.2, 4.0, 3.4), 4.2,
        (0.40, 0.06, 0.075, 1.0), 0.25, wing=8.5, end=0.0, points=84,
    ),
    Design(
        "sunglasses", "wayfarer", 25.0, 15.0, 16.0, -6.0, False, (6.5, 5.0, 4.2), 4.8,
        (0.01, 0.01, 0.012, 1.0), 0.18, lens_color=(0.28, 0.34, 0.27, 0.9), temple=(8.0, 3.6), end=7.0,
    ),
)


def lens_outline(d: Design) -> np.ndarray:
    """The wearer's right lens opening (counter-clockwise, outer side at +x), around (0, 0)."""
    if d.outline == "round":
        loop = superellipse(d.lens_a, d.lens_b, 2.0)
    elif d.outline == "rectangular":
        loop = superellipse(d.lens_a, d.lens_b, 5.0)
        # the nasal cut: the lower corner by the nose is taken away along the nose's side
        nasal, low = np.clip(-loop[:, 0] / d.lens_a, 0, 1), np.clip(-loop[:, 1] / d.lens_b, 0, 1)
        loop[:, 0] += 9.0 * nasal**3 * low**1.5
    elif d.outline == "cat_eye":
        loop = catmull_rom_closed(_CAT_EYE * [d.lens_a / 25.0, d.lens_b / 15.25])
    elif d.outline == "wayfarer":
        loop = catmull_rom_closed(_WAYFARER * [d.lens_a / 25.0, d.lens_b / 15.0])
    else:
        raise ValueError(d.outline)
    loop = resample_closed(loop, d.points)
    return loop - [0.5 * (loop[:, 0].min() + loop[:, 0].max()), 0.0]  # centred on its box, as lens sizes are


def rim_width(d: Design, inner: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Rim width around the opening: heavier brow, cat-eye wing at the upper outer corner, an end piece at the
    outer side around the hinge's height."""
    top, sides, bottom = d.rim
    up, down = np.clip(normal[:, 1], 0, 1), np.clip(-normal[:, 1], 0, 1)
    w = sides + (top - sides) * up**2 + (bottom - sides) * down**2
    if d.wing:
        corner = _unit(np.array([0.75, 0.66]))
        w += d.wing * np.clip((normal @ corner - 0.55) / 0.45, 0, 1) ** 1.5
    if not d.metal and d.end:  # acetate end piece: the upper half of the outer side sticks out to carry the hinge
        height = (inner[:, 1] - inner[:, 1].min()) / np.ptp(inner[:, 1])  # 0 at the bottom, 1 at the top
        outward = np.clip((normal[:, 0] - 0.75) / 0.2, 0, 1)
        upper = np.clip((height - 0.45) / 0.2, 0, 1) * np.clip((0.98 - height) / 0.08, 0, 1)
        w += d.end * (outward * upper) ** 1.2
    return w


def build(d: Design) -> trimesh.Scene:
    """One design as a scene of named parts: the frame (and metal frames' tips) and two lenses."""
    cx = d.lens_a + d.bridge / 2  # lens centre distance from the middle
    z_front = -d.depth
    frame, tips, lenses = [], [], []
    base = lens_outline(d)
    normal = outward_normals(base)
    width = rim_width(d, base, normal)
    hinge_pts = []
    for side in (-1.0, 1.0):  # -1: wearer's left (x < 0), +1: wearer's right
        mirror = np.array([side, 1.0])
        centre = np.array([side * cx, d.lens_y])
        inner = base * mirror + centre
        outer = (base + normal * width[:, None]) * mirror + centre
        if side < 0:  # mirroring reverses the loop's direction
            inner, outer = inner[::-1], outer[::-1]
        rings = plate_profile(inner, outer, z_front, d.depth, 0.5 if d.metal else 0.9)
        for ring in rings:  # a slight wrap: the front bends back toward the temples
            ring[:, 2] += 0.0035 * np.clip(np.abs(ring[:, 0]) - cx, 0, None) ** 2
        frame.append(loft(rings, closed_path=True, closed_profile=True))
        # the lens, seated half-way into the rim
        seat = inner + _unit(outer - inner) * min(0.6, float(width.min()) * 0.4)
        lens = lens_sheet(seat, centre, z_front + 0.5 * d.depth)
        lens[0][:, 2] += 0.0035 * np.clip(np.abs(lens[0][:, 0]) - cx, 0, None) ** 2
        lenses.append(("lens_right" if side > 0 else "lens_left", lens))
        # the hinge: behind the end piece, at the outer edge
        ends = outer[np.argsort(side * outer[:, 0])[-6:]]
        hinge = np.array([side * (np.abs(ends[:, 0]).max() - 1.2), ends[:, 1].mean(), 0.0])
        if d.metal:  # a flat bar carries the hinge out from the rim
            start = np.array([hinge[0], d.lens_y + 0.5 * d.lens_b, z_front + 0.5 * d.depth])
            hinge = start + [side * d.end, 1.0, 0.0]
            t = np.linspace(0, 1, 8)[:, None]
            path = start + t * (hinge - start) + np.c_[np.zeros(8), np.zeros(8), 1.5 * t[:, 0] ** 2]
            frame.append(loft(bar_rings(path, np.full(8, 2.4), np.full(8, 1.4), 0.35), False, True, caps=True))
            hinge = path[-1].copy()
        hinge[2] = max(hinge[2], 0.0035 * max(abs(hinge[0]) - cx, 0) ** 2)
        hinge_pts.append(hinge)
    # the bridge
    x_end = d.bridge / 2 + 1.5
    xs = np.linspace(-x_end, x_end, 17)
    if d.metal:
        bar_h, arch = 1.6, 3.0  # a thin arch high between the rims
        yc = bar_h / 2 + arch * (xs / x_end) ** 2
        z = np.full_like(xs, z_front + 0.3)
        path = np.c_[xs, yc, z + 0.5 * (d.depth - 0.6)]
        frame.append(loft(bar_rings(path, np.full_like(xs, bar_h), np.full_like(xs, d.depth - 0.6), 0.3),
                          closed_path=False, closed_profile=True, caps=True))
    else:
        bar_h = 6.0
        yc = bar_h / 2 + 2.0 * (xs / x_end) ** 2
        lower = np.c_[xs, yc - bar_h / 2]
        upper = np.c_[xs, yc + bar_h / 2]
        rings = []
        for ring_xy, z in (
            (lower, 0.0), (lower, z_front + 0.9), (lower + [0, 0.9], z_front), (upper - [0, 0.9], z_front),
            (upper, z_front + 0.9), (upper, 0.0),
        ):
            rings.append(np.c_[ring_xy, np.full(len(xs), z)])
        frame.append(loft(rings, closed_path=False, closed_profile=True, caps=True))
    if d.metal:  # nose pads on pad arms, resting on the sides of the nose
        for side in (-1.0, 1.0):
            x_in = side * (d.bridge / 2 + 0.6)
            pad_c = np.array([side * 6.8, -9.0, -1.0])
            arm = np.array([[x_in, -2.5, z_front + 1.0], [side * 8.6, -5.5, -1.0], [side * 7.9, -8.0, -1.4], pad_c])
            t = np.linspace(0, 1, 10)
            path = np.stack([np.interp(t, np.linspace(0, 1, 4), arm[:, i]) for i in range(3)], axis=1)
            frame.append(loft(bar_rings(path, np.full(10, 0.9), np.full(10, 0.9), 0.25), False, True, caps=True))
            a = np.radians(side * -28.0)  # the pad faces the nose's side
            rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
            pad = ellipsoid(pad_c + [side * -0.6, 0, 0.4], np.array([1.1, 5.0, 3.0]) / 2 * [1, 1.4, 1.4], rot)
            frame.append(pad)
    # temples: from behind the end pieces, back to the ears, bending down behind them
    length, to_bend = 142.0, 100.0
    for hinge in hinge_pts:
        side = np.sign(hinge[0])
        s = np.r_[np.linspace(0, to_bend, 9)[:-1], np.linspace(to_bend, length, 12)]  # finer where it bends
        bend = np.clip((s - to_bend) / (length - to_bend), 0, 1)
        x = hinge[0] - side * (d.temple[1] / 2 + 0.2) + side * 0.045 * s - side * 5.0 * bend**1.3  # tips hug the head
        y = hinge[1] - 0.02 * s - 30.0 * bend**1.5
        z = hinge[2] + 0.5 + s - 10.0 * bend**2
        path = np.c_[x, y, z]
        h0, thick = d.temple
        heights = np.interp(s, [0, 25, to_bend, length], [h0, 0.8 * h0, 0.6 * h0 + 0.8, 0.6 * h0 + 1.2])
        frame.append(loft(bar_rings(path, heights, np.full(len(s), thick), 0.4 if d.metal else 0.8),
                          False, True, caps=True))
        if d.tip_color is not None:  # acetate sleeves on the metal temples' ends
            sel = s >= to_bend - 12
            tips.append(loft(bar_rings(path[sel], heights[sel] + 1.4, np.full(sel.sum(), thick + 1.4), 0.7),
                             False, True, caps=True))
        if d.metal:  # a hinge barrel
            barrel = hinge + [0, 0, 1.0]
            path = np.c_[np.full(6, barrel[0] - side * 0.4), np.linspace(barrel[1] - 2.6, barrel[1] + 2.6, 6),
                         np.full(6, barrel[2])]
            frame.append(loft(bar_rings(path, np.full(6, 2.0), np.full(6, 2.0), 0.6), False, True, caps=True))
    scene = trimesh.Scene()
    to_gltf = np.diag([-1.0, 1.0, -1.0, 1.0])  # 180 degrees about y: the front faces +z

    def add(name: str, mesh: Mesh, material: PBRMaterial) -> None:
        v, n, f = mesh
        tm = trimesh.Trimesh(v, f, vertex_normals=n, process=False)
        tm.apply_transform(to_gltf)
        tm.visual = trimesh.visual.TextureVisuals(material=material)
        scene.add_geometry(tm, geom_name=name, node_name=name)

    add("frame", merge(frame), PBRMaterial(
        name=f"{d.outline}_frame", baseColorFactor=list(d.frame_color), metallicFactor=1.0 if d.metal else 0.0,
        roughnessFactor=d.roughness,
    ))
    if tips:
        add("tips", merge(tips), PBRMaterial(
            name=f"{d.outline}_tips", baseColorFactor=list(d.tip_color), metallicFactor=0.0, roughnessFactor=0.35,
        ))
    lens_mat = PBRMaterial(
        name=f"{d.name}_lens", baseColorFactor=list(d.lens_color), metallicFactor=0.0, roughnessFactor=0.05,
        alphaMode="BLEND", doubleSided=True,
    )
    for name, lens in lenses:
        add(name, lens, lens_mat)
    return scene


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "eyewear")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for design in DESIGNS:
        scene = build(design)
        path = args.out / f"{design.name}.glb"
        path.write_bytes(scene.export(file_type="glb"))
        tris = sum(len(g.faces) for g in scene.geometry.values())
        print(f"{path}: {path.stat().st_size / 1024:.0f} KiB, {tris} triangles, extents {scene.extents.round(1)}")


if __name__ == "__main__":
    main()
