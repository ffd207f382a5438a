"""Eyewear assets: loading GLB and OBJ+MTL, the frame convention importer, the validator."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from arlens.errors import AssetError, InputError
from arlens.lenses.eyewear_asset import (
    ImportOptions,
    Material,
    MeshPart,
    import_eyewear,
    import_parts,
    load_parts,
    resolve_model_path,
)
from arlens.resources import assets_dir

DEMO = ("round.glb", "rectangular.glb", "cat_eye.glb", "sunglasses.glb")


@pytest.mark.parametrize("name", DEMO)
def test_demo_frames_load_into_the_convention(name):
    path = assets_dir() / "eyewear" / name
    assert path.stat().st_size < 1_000_000
    asset = import_eyewear(name, ImportOptions(frame_width_mm=140))
    assert len(asset.lens_parts) == 2 and asset.frame_parts
    for lens in asset.lens_parts:
        alpha = lens.material.base_color[3]
        # the demo frames come with clear lenses (the catalog says what a product's are); the sunglasses' own
        # lenses filter most of the light
        assert alpha >= 0.8 if name == "sunglasses.glb" else alpha < 0.05
        assert lens.material.double_sided
    for part in asset.frame_parts:
        assert part.material.base_color[3] == 1.0
    np.testing.assert_allclose(asset.bridge, 0.0, atol=1e-3)  # bridge at the origin
    lo, hi = asset.bounds
    assert hi[2] > 120  # temples run back toward the ears along +z
    assert lo[2] > -15  # nothing far in front of the bridge
    # hinges at the two ends of the 140 mm front, near the front
    np.testing.assert_allclose(np.sort(asset.hinges[:, 0]), [-70, 70], atol=3.5)
    assert (np.abs(asset.hinges[:, 2]) < 15).all()
    # lens centres left and right of the bridge, a little below it, in front of the face
    centres = [p.vertices.mean(axis=0) for p in asset.lens_parts]
    assert sorted(np.sign(c[0]) for c in centres) == [-1, 1]
    for c in centres:
        assert 25 < abs(c[0]) < 42 and -12 < c[1] < 2 and c[2] < 2


def test_metal_and_acetate_materials():
    round_parts = {p.name: p for p in import_eyewear("round.glb", ImportOptions(frame_width_mm=135)).frame_parts}
    metal, tips = round_parts["frame"].material, round_parts["tips"].material
    acetate = import_eyewear("rectangular.glb", ImportOptions(frame_width_mm=135)).frame_parts[0].material
    assert metal.metallic == pytest.approx(1.0) and acetate.metallic == pytest.approx(0.0)
    assert tips.metallic == pytest.approx(0.0)  # the metal frame's temples end in acetate tips


def test_demo_shapes_are_their_own():
    """The cat-eye has its own mesh, and its outer upper corner sweeps up above the rest of its
    front (its wing), which a rectangular front does not."""
    fronts = {}
    for name in DEMO:
        asset = import_eyewear(name, ImportOptions(frame_width_mm=140))
        v = np.concatenate([p.vertices for p in asset.frame_parts])
        fronts[name] = v[v[:, 2] < 8.0]  # the front: within 8 mm of the bridge's back
    assert len(fronts["cat_eye.glb"]) != len(fronts["rectangular.glb"])
    for name, v in fronts.items():
        outer = v[np.abs(v[:, 0]) > 0.8 * np.abs(v[:, 0]).max()]  # the outer fifth of each side
        inner = v[np.abs(v[:, 0]) < 0.5 * np.abs(v[:, 0]).max()]
        rise = outer[:, 1].max() - inner[:, 1].max()
        assert (rise > 4.0) == (name == "cat_eye.glb"), (name, rise)


def test_fronts_are_flat_plates_not_tubes():
    """A flat front with bevelled edges: the front-facing surface faces straight ahead or at 45 degrees."""
    for name in ("rectangular.glb", "cat_eye.glb", "sunglasses.glb"):
        frame = import_eyewear(name, ImportOptions(frame_width_mm=140)).frame_parts[0]
        tri = frame.vertices[frame.faces].astype(np.float64)
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        area = 0.5 * np.linalg.norm(normal, axis=1)
        normal /= np.maximum(2 * area[:, None], 1e-12)
        front = (tri[:, :, 2].mean(axis=1) < 2.0) & (normal[:, 2] < -0.2)  # the front, facing the camera
        angle = np.degrees(np.arccos(np.clip(-normal[:, 2], -1.0, 1.0)))  # from straight ahead
        share = area[front] / area[front].sum()
        assert share[angle[front] < 20].sum() > 0.5, name  # the flat face (bent back a little toward the hinges)
        assert share[(angle[front] > 20) & (angle[front] < 38)].sum() < 0.05, name  # a tube fills these angles
        assert share[(angle[front] > 38) & (angle[front] < 52)].sum() > 0.2, name  # the 45-degree bevels


def test_metal_frame_has_nose_pads():
    """The round metal frame rests on nose pads: parts below the bridge, behind the lenses, either side of the
    nose; the acetate fronts have none."""
    for name, has_pads in (("round.glb", True), ("rectangular.glb", False)):
        asset = import_eyewear(name, ImportOptions(frame_width_mm=135))
        v = np.concatenate([p.vertices for p in asset.frame_parts])
        pads = v[(v[:, 1] < -6) & (v[:, 1] > -14) & (np.abs(v[:, 0]) < 10) & (v[:, 2] > -3)]
        assert (len(pads) > 50 and (pads[:, 0] > 0).any() and (pads[:, 0] < 0).any()) == has_pads, name


def test_scale_follows_frame_width():
    a = import_eyewear("rectangular.glb", ImportOptions(frame_width_mm=125))
    b = import_eyewear("rectangular.glb", ImportOptions(frame_width_mm=140))
    wa = np.ptp(a.hinges[:, 0])
    wb = np.ptp(b.hinges[:, 0])
    assert wb / wa == pytest.approx(140 / 125, rel=1e-3)


def test_offset_and_tilt_overrides():
    base = import_eyewear("round.glb", ImportOptions(frame_width_mm=140))
    moved = import_eyewear("round.glb", ImportOptions(frame_width_mm=140, offset_mm=(0, 2, -3)))
    np.testing.assert_allclose(moved.bounds - base.bounds, [[0, 2, -3], [0, 2, -3]], atol=1e-3)
    tilted = import_eyewear("round.glb", ImportOptions(frame_width_mm=140, pantoscopic_tilt_deg=10))
    lens_base = np.concatenate([p.vertices for p in base.lens_parts])
    lens_tilt = np.concatenate([p.vertices for p in tilted.lens_parts])
    low = lens_base[:, 1] < lens_base[:, 1].min() + 3  # bottom of the lenses moves toward the face
    assert (lens_tilt[low, 2] - lens_base[low, 2]).mean() > 2.0


def test_orientation_is_detected():
    """The same model already in the arlens convention (temples along +z) imports to the same place."""
    gltf_parts = load_parts(resolve_model_path("cat_eye.glb"))
    turned = tuple(p.transformed(np.diag([-1.0, 1.0, -1.0, 1.0])) for p in gltf_parts)
    a = import_parts(gltf_parts, ImportOptions(frame_width_mm=140))
    b = import_parts(turned, ImportOptions(frame_width_mm=140))
    np.testing.assert_allclose(a.bounds, b.bounds, atol=1e-3)
    # and a z-up model (as CAD tools write) with up_axis='+z'
    zup = tuple(
        p.transformed(np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1.0]])) for p in gltf_parts
    )
    c = import_parts(zup, ImportOptions(frame_width_mm=140, up_axis="+z"))
    np.testing.assert_allclose(a.bounds, c.bounds, atol=1e-3)


def _write_obj(tmp_path, lens_d="0.4", scale=1.0):
    """A small frame as OBJ+MTL (metres, as some exporters write): two rims, a bridge, temples, two lenses."""
    parts = []
    for side in (-1, 1):
        rim = trimesh.creation.annulus(r_min=0.022, r_max=0.025, height=0.004, sections=32)
        rim.apply_translation((side * 0.034, -0.004, 0))
        temple = trimesh.creation.box(extents=(0.003, 0.004, 0.14))
        temple.apply_translation((side * 0.0605, 0.004, -0.07))
        hinge = trimesh.creation.box(extents=(0.004, 0.006, 0.006))
        hinge.apply_translation((side * 0.0605, 0.004, -0.001))
        parts += [rim, temple, hinge]
    bridge = trimesh.creation.box(extents=(0.02, 0.003, 0.004))
    bridge.apply_translation((0, 0.0015, 0))
    frame = trimesh.util.concatenate([*parts, bridge])
    frame.apply_scale(scale)
    lenses = []
    for side in (-1, 1):
        disc = trimesh.creation.cylinder(radius=0.0225, height=0.001, sections=32)
        disc.apply_translation((side * 0.034, -0.004, 0))
        disc.apply_scale(scale)
        lenses.append(disc)
    lens = trimesh.util.concatenate(lenses)

    def obj_block(mesh, material, offset):
        lines = [f"usemtl {material}"]
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices]
        lines += [f"f {a + offset} {b + offset} {c + offset}" for a, b, c in mesh.faces + 1]
        return lines

    obj = [
        "mtllib frame.mtl",
        "o frame",
        *obj_block(frame, "acetate", 0),
        "o lenses",
        *obj_block(lens, "tinted", len(frame.vertices)),
    ]
    (tmp_path / "frame.obj").write_text("\n".join(obj) + "\n")
    (tmp_path / "frame.mtl").write_text(
        f"newmtl acetate\nKd 0.3 0.1 0.05\nNs 200\nPm 0.0\nPr 0.3\n\nnewmtl tinted\nKd 0.1 0.3 0.2\nd {lens_d}\n"
    )
    return tmp_path / "frame.obj"


def test_obj_with_mtl(tmp_path):
    path = _write_obj(tmp_path)
    asset = import_eyewear(path, ImportOptions(frame_width_mm=130))
    lens = asset.lens_parts
    frame = asset.frame_parts
    assert len(lens) == 1 and len(frame) == 1
    assert lens[0].material.base_color[3] == pytest.approx(0.4)
    assert lens[0].material.base_color[1] == pytest.approx(0.3, abs=0.01)
    assert frame[0].material.base_color[:3] == pytest.approx((0.3, 0.1, 0.05), abs=0.01)
    assert frame[0].material.roughness == pytest.approx(0.3)
    np.testing.assert_allclose(np.sort(asset.hinges[:, 0]), [-65, 65], atol=3)  # metres scaled to 130 mm
    np.testing.assert_allclose(asset.bridge, 0, atol=1e-3)
    assert asset.bounds[1, 2] > 120  # the temples, written along -z (glTF facing), now run along +z


def test_obj_lens_by_name_without_alpha(tmp_path):
    path = _write_obj(tmp_path, lens_d="1.0")
    text = path.read_text().replace("usemtl tinted", "usemtl lens_glass")
    path.write_text(text)
    (tmp_path / "frame.mtl").write_text(
        (tmp_path / "frame.mtl").read_text().replace("newmtl tinted", "newmtl lens_glass")
    )
    asset = import_eyewear(path, ImportOptions(frame_width_mm=130))
    assert len(asset.lens_parts) == 1 and asset.lens_parts[0].material.base_color[3] < 1


def _part(vertices, faces=((0, 1, 2),)):
    v = np.asarray(vertices, dtype=np.float32)
    return MeshPart(
        "p", v, np.tile([[0, 0, 1]], (len(v), 1)).astype(np.float32), np.asarray(faces, np.int32), None, Material()
    )


def test_rejects_missing_and_unsupported(tmp_path):
    with pytest.raises(AssetError, match="not found"):
        import_eyewear(tmp_path / "nope.glb", ImportOptions(frame_width_mm=140))
    bad = tmp_path / "frame.stl"
    bad.write_text("solid x\nendsolid x\n")
    with pytest.raises(AssetError, match="expected a .glb, .gltf or .obj"):
        import_eyewear(bad, ImportOptions(frame_width_mm=140))
    garbage = tmp_path / "frame.glb"
    garbage.write_bytes(b"not a glb at all")
    with pytest.raises(AssetError, match="frame.glb"):
        import_eyewear(garbage, ImportOptions(frame_width_mm=140))


def test_rejects_no_geometry(tmp_path):
    path = tmp_path / "empty.obj"
    path.write_text("# nothing here\nv 0 0 0\n")
    with pytest.raises(AssetError, match="no geometry"):
        import_eyewear(path, ImportOptions(frame_width_mm=140))


def test_rejects_non_finite_vertices():
    part = _part([[0, 0, 0], [1, np.nan, 0], [0, 1, 0]])
    with pytest.raises(AssetError, match=r"non-finite.*index 1"):
        import_parts([part], ImportOptions(frame_width_mm=140), source="x.glb")


def test_rejects_over_triangle_budget(tmp_path):
    path = _write_obj(tmp_path)
    with pytest.raises(AssetError, match=r"at most 100 triangles"):
        import_eyewear(path, ImportOptions(frame_width_mm=140, max_triangles=100))


def test_rejects_absurd_size():
    tower = trimesh.creation.box(extents=(10, 100, 10))  # ten times taller than wide: not glasses
    part = MeshPart(
        "tower",
        tower.vertices.astype(np.float32),
        tower.vertex_normals.astype(np.float32),
        tower.faces.astype(np.int32),
        None,
        Material(),
    )
    with pytest.raises(AssetError, match="absurd size"):
        import_parts([part], ImportOptions(frame_width_mm=140), source="tower.glb")
    with pytest.raises(AssetError, match="with a size"):
        import_parts([_part([[0, 0, 0]] * 3)], ImportOptions(frame_width_mm=140))


def test_rejects_bad_indices():
    with pytest.raises(AssetError, match="out of range"):
        import_parts([_part([[0, 0, 0], [1, 0, 0], [0, 1, 0]], ((0, 1, 7),))], ImportOptions(frame_width_mm=140))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frame_width_mm": 14},
        {"frame_width_mm": 1400},
        {"frame_width_mm": 140, "offset_mm": (0, 0)},
        {"frame_width_mm": 140, "offset_mm": (0, 0, 500)},
        {"frame_width_mm": 140, "pantoscopic_tilt_deg": 60},
        {"frame_width_mm": 140, "up_axis": "-x"},
        {"frame_width_mm": 140, "max_triangles": 0},
    ],
)
def test_import_options_validated(kwargs):
    with pytest.raises(InputError):
        ImportOptions(**kwargs)


def test_models_without_normals_load_without_scipy_or_a_traceback(caplog, tmp_path):
    """A GLB without normals (the demo models carry their own, flat across the bevels: see the next test) gets
    them computed here, not by trimesh's scipy path (which logs a traceback when scipy is missing)."""
    import logging

    bare = trimesh.Scene()
    for part in load_parts(assets_dir() / "eyewear" / "round.glb"):
        bare.add_geometry(trimesh.Trimesh(part.vertices, part.faces, process=False), node_name=part.name)
    path = tmp_path / "bare.glb"
    path.write_bytes(bare.export(file_type="glb"))
    with caplog.at_level(logging.DEBUG):
        parts = load_parts(path)
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()], caplog.text
    scene = trimesh.load(str(path), force="scene", process=False)
    meshes = [scene.geometry[scene.graph[node][1]] for node in scene.graph.nodes_geometry]
    for part, mesh in zip(parts, meshes, strict=True):
        # trimesh's own loop fallback is the reference: the same angle-weighted sum, summed in another order
        expected = trimesh.geometry.weighted_vertex_normals(
            len(mesh.vertices), mesh.faces, mesh.face_normals, mesh.face_angles, use_loop=True
        )
        transform = scene.graph[part.name][0][:3, :3]
        expected = expected @ np.linalg.inv(transform).T
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        np.testing.assert_allclose(part.normals, expected, atol=1e-5)  # float32 storage, summation order
    # a model that brings its own normals keeps them (here deliberately not the geometric ones)
    box = trimesh.creation.box((10.0, 10.0, 10.0))
    own = np.tile(np.float32([0.0, 1.0, 0.0]), (len(box.vertices), 1))
    with_normals = trimesh.Trimesh(box.vertices, box.faces, vertex_normals=own, process=False)
    path = tmp_path / "with_normals.glb"
    with_normals.export(str(path))
    (part,) = load_parts(path)
    np.testing.assert_allclose(part.normals, own, atol=1e-6)


def test_a_files_own_normals_are_kept():
    """The demo frames' flat fronts and bevels are shaded by the normals written in the file, not smoothed."""
    path = assets_dir() / "eyewear" / "rectangular.glb"
    scene = trimesh.load(str(path), force="scene", process=False)
    for part in load_parts(path):
        mesh = scene.geometry[scene.graph[part.name][1]]
        own = np.asarray(mesh.vertex_normals, dtype=np.float32) @ np.linalg.inv(scene.graph[part.name][0][:3, :3]).T
        own /= np.linalg.norm(own, axis=1, keepdims=True)
        np.testing.assert_allclose(part.normals, own, atol=1e-5)
