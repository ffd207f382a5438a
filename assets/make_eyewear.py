"""Build the three demo eyewear frames (round metal, rectangular acetate, cat-eye acetate) as GLB.

Run from anywhere: ``python assets/make_eyewear.py`` writes ``round.glb``, ``rectangular.glb`` and
``cat_eye.glb`` next to this script, in ``assets/eyewear/``.

The models are written in glTF's own orientation (y up, the front facing +z, millimetres), the way
a brand's model would arrive; arlens' importer turns them into its frame convention. Each frame is
built from swept profiles: rims swept around the lens outline, a bridge arch, end pieces with hinge
blocks, and temples running back about 140 mm with a bend down over the ear. Lenses are separate,
slightly curved sheets with an alpha-blended tinted material; frame materials use glTF's
metallic/roughness (one metal, two acetates).
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
# z toward the face; converted to glTF's orientation when written)


def sweep(path: np.ndarray, half_w: float, half_d: float, closed: bool, segments: int = 10, square: float = 2.0):
    """Sweep a superelliptic cross-section (in-plane half width ``half_w``, depth ``half_d``) along ``path``.

    The cross-section's first axis is the path normal within the x-y plane (or, for a path running
    along z, the outward x direction); the second is the direction perpendicular to both.
    """
    n = len(path)
    if closed:
        tangent = np.roll(path, -1, axis=0) - np.roll(path, 1, axis=0)
    else:
        tangent = np.gradient(path, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    ref = np.array([0.0, 0.0, 1.0])
    side = np.cross(tangent, ref)
    weak = np.linalg.norm(side, axis=1) < 0.3  # running along z: use y as the reference instead
    side[weak] = np.cross(tangent[weak], [0.0, 1.0, 0.0])
    side /= np.linalg.norm(side, axis=1, keepdims=True)
    other = np.cross(tangent, side)
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    c, s = np.cos(phi), np.sin(phi)
    e = 2.0 / square
    cu = np.sign(c) * np.abs(c) ** e
    su = np.sign(s) * np.abs(s) ** e
    verts = (
        path[:, None, :]
        + half_w * cu[None, :, None] * side[:, None, :]
        + half_d * su[None, :, None] * other[:, None, :]
    )
    verts = verts.reshape(-1, 3)
    faces = []
    rings = n if closed else n - 1
    for i in range(rings):
        j = (i + 1) % n
        for k in range(segments):
            k2 = (k + 1) % segments
            a, b, c_, d = i * segments + k, i * segments + k2, j * segments + k2, j * segments + k
            faces += [(a, b, c_), (a, c_, d)]
    faces = np.array(faces)
    if not closed:  # cap both ends with fans
        centre0, centre1 = len(verts), len(verts) + 1
        verts = np.vstack([verts, path[0], path[-1]])
        last = (n - 1) * segments
        caps = [(centre0, (k + 1) % segments, k) for k in range(segments)]
        caps += [(centre1, last + k, last + (k + 1) % segments) for k in range(segments)]
        faces = np.vstack([faces, caps])
    mesh = trimesh.Trimesh(verts, faces, process=True)
    mesh.fix_normals()
    return mesh


def outline(shape: str, a: float, b: float, n: int = 96) -> np.ndarray:
    """Closed lens outline (n, 2) around (0, 0) for the wearer's right lens (outer side at +x)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    if shape == "round":
        return np.stack([a * c, b * s], axis=1)
    if shape == "rectangular":
        e = 2.0 / 5.0
        return np.stack([a * np.sign(c) * np.abs(c) ** e, b * np.sign(s) * np.abs(s) ** e], axis=1)
    if shape == "cat_eye":
        e = 2.0 / 3.0
        x = a * np.sign(c) * np.abs(c) ** e
        y = b * np.sign(s) * np.abs(s) ** e
        outer = np.clip(x / a, 0, 1)
        up = np.clip(y / b, 0, 1)
        down = np.clip(-y / b, 0, 1)
        y = y + 9.0 * outer**3 * up**1.5  # sweep the upper outer corner up into a wing
        x = x + 4.0 * outer**2 * up**2
        y = y * (1 - 0.3 * outer * down)  # and draw the lower outer side in, toward the wing
        x = x - 3.0 * outer * down**2
        return np.stack([x, y], axis=1)
    raise ValueError(shape)


@dataclass(frozen=True)
class Design:
    name: str
    shape: str
    lens_a: float  # half width of the lens opening
    lens_b: float  # half height
    bridge: float  # distance between the lens openings at the bridge
    lens_y: float  # lens centre height relative to the bridge bottom (origin)
    rim_w: float  # rim half width in the lens plane
    rim_d: float  # rim half depth
    rim_square: float  # cross-section squareness (2 round, >2 boxier)
    frame_color: tuple[float, float, float, float]
    metallic: float
    roughness: float
    lens_color: tuple[float, float, float, float]
    temple_len: float = 140.0


DESIGNS = (
    Design(
        "round",
        "round",
        23.0,
        23.0,
        19.0,
        -4.0,
        1.0,
        1.0,
        2.0,
        (0.95, 0.70, 0.33, 1.0),
        1.0,
        0.30,
        (0.32, 0.24, 0.14, 0.55),
    ),
    Design(
        "rectangular",
        "rectangular",
        26.0,
        18.5,
        18.0,
        -4.0,
        3.0,
        2.4,
        3.0,
        (0.015, 0.015, 0.018, 1.0),
        0.0,
        0.35,
        (0.20, 0.24, 0.26, 0.45),
    ),
    Design(
        "cat_eye",
        "cat_eye",
        26.0,
        19.0,
        17.0,
        -4.5,
        2.8,
        2.6,
        4.0,
        (0.32, 0.035, 0.04, 1.0),
        0.0,
        0.30,
        (0.45, 0.18, 0.22, 0.40),
    ),
)


def build(design: Design) -> trimesh.Scene:
    """The frame of one design as a scene of named parts (frame parts and two lens parts)."""
    d = design
    cx = d.lens_a + d.bridge / 2  # lens centre distance from the middle
    rim_z = -(d.rim_d + 0.8)  # rims sit in front of the bridge point, which touches the nose
    frame_parts, lens_parts = [], []
    rims = []
    for side in (-1.0, 1.0):  # -1: wearer's left (x < 0), +1: wearer's right
        ol = outline(d.shape, d.lens_a, d.lens_b)
        ol[:, 0] *= side
        centre = np.array([side * cx, d.lens_y])
        ring = np.c_[ol + centre, np.full(len(ol), rim_z)]
        # a slight wrap: the lens plane bends back toward the temples
        ring[:, 2] += 0.004 * (np.abs(ring[:, 0]) - cx) ** 2 * (np.abs(ring[:, 0]) > cx)
        rims.append(ring)
        frame_parts.append(sweep(ring, d.rim_w, d.rim_d, closed=True, segments=8, square=d.rim_square))
        # lens: a fan over the outline, inset into the rim groove, curved like a base-4 lens
        inner = ring.copy()
        inner[:, :2] = centre + (inner[:, :2] - centre) * (1 - 0.5 * d.rim_w / d.lens_a)
        r2 = (inner[:, 0] - centre[0]) ** 2 + (inner[:, 1] - centre[1]) ** 2
        inner[:, 2] += r2 / (2 * 130.0)  # sag of a 130 mm radius toward the face at the edge
        verts = np.vstack([[centre[0], centre[1], rim_z], inner])
        m = len(inner)
        faces = np.array([(0, 1 + (i + 1) % m, 1 + i) for i in range(m)])
        lens = trimesh.Trimesh(verts, faces, process=False)
        lens.fix_normals()
        lens_parts.append((("lens_right" if side > 0 else "lens_left"), lens))
        # end piece and hinge block at the outer side, and the temple
        outer_pts = ring[np.argmax(side * ring[:, 0])]
        hinge = np.array([outer_pts[0] + side * (d.rim_w + 8.0), d.lens_y + 0.45 * d.lens_b + 2.0, rim_z])
        if d.shape == "cat_eye":
            hinge[1] += 3.0
        end_path = np.array(
            [ring[np.argmax(side * ring[:, 0] + 0.2 * ring[:, 1])], hinge + [0, 0, 2.0], hinge + [0, 0, 6.0]]
        )
        end_path[0, 2] = rim_z
        end_path = np.vstack([np.linspace(end_path[0], end_path[1], 5)[:-1], np.linspace(end_path[1], end_path[2], 4)])
        frame_parts.append(sweep(end_path, max(d.rim_w, 1.6), max(d.rim_d, 1.6), closed=False, segments=8, square=3))
        block = trimesh.creation.box(extents=(2.6, 5.0, 6.0))
        block.apply_translation(hinge + [side * 0.8, 0, 6.0])
        frame_parts.append(block)
        # temple: straight back with a slight outward splay, bending down over the ear at the end
        t = np.linspace(0, 1, 24)
        length = d.temple_len
        z = hinge[2] + 6.0 + t * length
        bend = np.clip((t - 0.72) / 0.28, 0, 1)
        y = hinge[1] - 2.0 * t - 28.0 * bend**1.6
        x = hinge[0] + side * (1.2 + 7.0 * t)
        z = z - 9.0 * bend**2
        tw = 1.0 if d.metallic > 0.5 else 1.6
        th = 1.1 if d.metallic > 0.5 else 3.0
        frame_parts.append(sweep(np.c_[x, y, z], tw, th, closed=False, segments=8, square=2.0 if tw < 1.2 else 3.0))
    # bridge: an arch from rim to rim, highest (and resting on the nose) in the middle
    inner_r = rims[1][np.argmin(np.abs(rims[1][:, 1] - 1.0) + 10 * (rims[1][:, 0] > cx))]
    x_end = float(inner_r[0])
    xs = np.linspace(-x_end, x_end, 17)
    half = max(d.rim_w * 0.8, 1.0)
    arch_top = half  # bottom of the arch at y = 0 in the middle
    ys = arch_top - 4.0 * (xs / x_end) ** 2
    zs = np.full_like(xs, rim_z) + (d.rim_d - 0.4) * (1 - (xs / x_end) ** 2)  # the middle touches z = 0
    frame_parts.append(sweep(np.c_[xs, ys, zs], half, min(d.rim_d, half + 0.6), closed=False, segments=8))
    if d.metallic > 0.5:  # metal frames get nose pads on the sides of the nose
        for side in (-1.0, 1.0):
            pad = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
            pad.apply_scale((1.2, 3.5, 2.2))
            pad.apply_translation((side * (d.bridge / 2 - 2.0), -8.0, 0.5))
            frame_parts.append(pad)
            arm = np.array(
                [
                    [side * (d.bridge / 2 + 1.0), -3.0, rim_z],
                    [side * (d.bridge / 2 - 1.0), -6.0, -1.0],
                    [side * (d.bridge / 2 - 2.0), -8.0, 0.5],
                ]
            )
            frame_parts.append(sweep(arm, 0.45, 0.45, closed=False, segments=6))

    frame = trimesh.util.concatenate(frame_parts)
    frame_mat = PBRMaterial(
        name=f"{d.name}_frame",
        baseColorFactor=list(d.frame_color),
        metallicFactor=d.metallic,
        roughnessFactor=d.roughness,
    )
    lens_mat = PBRMaterial(
        name=f"{d.name}_lens",
        baseColorFactor=list(d.lens_color),
        metallicFactor=0.0,
        roughnessFactor=0.05,
        alphaMode="BLEND",
        doubleSided=True,
    )
    to_gltf = np.diag([-1.0, 1.0, -1.0, 1.0])  # 180 degrees about y: the front faces +z
    scene = trimesh.Scene()
    frame.apply_transform(to_gltf)
    frame.visual = trimesh.visual.TextureVisuals(material=frame_mat)
    scene.add_geometry(frame, geom_name="frame", node_name="frame")
    for name, lens in lens_parts:
        lens.apply_transform(to_gltf)
        lens.visual = trimesh.visual.TextureVisuals(material=lens_mat)
        scene.add_geometry(lens, geom_name=name, node_name=name)
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
