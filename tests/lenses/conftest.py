"""Faces for the lens tests: every still test face with Google MediaPipe's reference landmarks.

The portraits are bundled in tests/data; frontal_smile.png and the talking-head clip are read from
``$ARLENS_TESTDATA`` / ``$ARLENS_REFERENCE`` or ``../shared/testdata`` / ``../shared/reference``; tests
that need them skip, saying where they looked, when they are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import trimesh
from trimesh.visual.material import PBRMaterial

from arlens.lenses.eyewear_asset import load_parts, resolve_model_path
from arlens.tracking.results import Face, bbox_of

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
TESTDATA = Path(os.environ.get("ARLENS_TESTDATA", ROOT.parent / "shared" / "testdata"))
REFERENCE = Path(os.environ.get("ARLENS_REFERENCE", ROOT.parent / "shared" / "reference"))
STILLS = (("astronaut", "astronaut.png"), ("grace_hopper", "grace_hopper.jpg"), ("frontal_smile", "frontal_smile.png"))


def _find(name: str, shared: Path) -> Path | None:
    for path in (DATA / name, shared / name):
        if path.is_file():
            return path
    return None


def load_still(stem: str, file: str) -> tuple[np.ndarray, Face]:
    """Image and reference Face of a still test face, or skip saying what is missing."""
    image_path = _find(file, TESTDATA / "faces")
    ref_path = _find(f"{stem}.npz", REFERENCE)
    if image_path is None:
        pytest.skip(f"test image {file} not found in {DATA} or {TESTDATA / 'faces'} (set ARLENS_TESTDATA)")
    if ref_path is None:
        pytest.skip(f"reference {stem}.npz not found in {DATA} or {REFERENCE} (set ARLENS_REFERENCE)")
    image = cv2.imread(str(image_path))
    assert image is not None, f"cannot decode {image_path}"
    with np.load(ref_path) as data:
        assert data["face_found"][0], f"no reference face in {ref_path}"
        lm = data["face_mesh_478"][0].astype(np.float32)
    return image, Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))


@pytest.fixture(params=[s for s, _ in STILLS])
def still(request) -> tuple[str, np.ndarray, Face]:
    """(name, image, Face) for each still test face, one test per face."""
    file = dict(STILLS)[request.param]
    image, face = load_still(request.param, file)
    return request.param, image, face


@pytest.fixture(scope="session")
def all_stills() -> list[tuple[str, np.ndarray, Face]]:
    """Every still test face that is available (the bundled portraits at least)."""
    out = []
    for stem, file in STILLS:
        try:
            image, face = load_still(stem, file)
        except pytest.skip.Exception:
            continue
        out.append((stem, image, face))
    return out


def coloured_copy(model: str, path: Path) -> Path:
    """Write ``model`` to ``path`` with its temples painted: the wearer's left pure green, the right pure blue,
    the front near-black, the lenses a grey filter. Temples are what lies more than 12 mm behind the front."""
    parts = load_parts(resolve_model_path(model))  # glTF orientation: x toward the wearer's left
    scene = trimesh.Scene()
    colours = {
        "front": [0.02, 0.02, 0.02, 1.0],
        "temple_left": [0.0, 1.0, 0.0, 1.0],
        "temple_right": [0.0, 0.0, 1.0, 1.0],
    }
    for k, part in enumerate(parts):
        mesh = trimesh.Trimesh(part.vertices, part.faces, process=False)
        if part.material.is_lens:
            mat = PBRMaterial(baseColorFactor=[0.3, 0.3, 0.3, 0.4], alphaMode="BLEND", doubleSided=True)
            mesh.visual = trimesh.visual.TextureVisuals(material=mat)
            scene.add_geometry(mesh, node_name=part.name)
            continue
        centroid = mesh.triangles_center
        temple = centroid[:, 2] < -12.0  # glTF: the temples run toward -z
        groups = {
            "front": ~temple,
            "temple_left": temple & (centroid[:, 0] > 0),
            "temple_right": temple & (centroid[:, 0] < 0),
        }
        for key, mask in groups.items():
            if not mask.any():
                continue
            sub = mesh.submesh([np.flatnonzero(mask)], append=True)
            mat = PBRMaterial(baseColorFactor=colours[key], metallicFactor=0.0, roughnessFactor=1.0)
            sub.visual = trimesh.visual.TextureVisuals(material=mat)
            scene.add_geometry(sub, node_name=f"{key}_{k}")
    path.write_bytes(scene.export(file_type="glb"))
    return path


@pytest.fixture(scope="session")
def coloured_glb(tmp_path_factory):
    """A factory: ``coloured_glb("round.glb")`` is the path of a painted copy (see :func:`coloured_copy`)."""
    folder = tmp_path_factory.mktemp("coloured")
    made: dict[str, Path] = {}

    def make(model: str = "round.glb") -> Path:
        if model not in made:
            made[model] = coloured_copy(model, folder / f"coloured_{Path(model).stem}.glb")
        return made[model]

    return make
