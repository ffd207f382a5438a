"""Train the "already wears glasses" detector (``arlens.tracking.glasses``) and write ``glasses_detector.npz``.

Run from the repository root with the test data beside it: ``python assets/make_glasses_detector.py``.

Data: the faces of ``../shared/testdata`` that wear no glasses (``astronaut.png``, ``frontal_smile.png`` and
the talking-head clip's frames turned less than 30 degrees), with Google MediaPipe's reference landmarks. Each
is a negative as it is and a positive with a pair of glasses drawn on it by arlens' own eyewear lens: the four
demo frames in ten finishes (dark, light, clear and coloured acetates, gold and silver metal), at random widths,
clear or tinted lenses. Both are shown under random exposure, colour, blur and grain, and mirrored.
``grace_hopper.jpg``, who wears real glasses, is never trained on: she is the held-out check.

Model: a logistic regression (L2) on the histogram of oriented gradients of the face-aligned eye region,
trained with Newton's method on the standardised features (numpy; a few thousand samples of 3780 features).
The script prints a leave-one-person-out check (trained without a person, tested on that person's images with
and without drawn glasses) and the held-out probabilities, and stores them in the file's ``report``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arlens.lenses.eyewear import EyewearLens, EyewearOptions  # noqa: E402
from arlens.lenses.eyewear_asset import load_parts, resolve_model_path  # noqa: E402
from arlens.tracking.camera import PerspectiveCamera  # noqa: E402
from arlens.tracking.glasses import eye_canvas, features  # noqa: E402
from arlens.tracking.pose import estimate_pose  # noqa: E402
from arlens.tracking.results import Face, bbox_of  # noqa: E402

TESTDATA = Path(os.environ.get("ARLENS_TESTDATA", ROOT.parent / "shared" / "testdata"))
REFERENCE = TESTDATA.parent / "reference"
FINISHES = {  # linear base colour, metallic, roughness
    "black": ((0.015, 0.015, 0.018), 0.0, 0.35),
    "tortoise": ((0.12, 0.05, 0.02), 0.0, 0.3),
    "clear": ((0.75, 0.75, 0.72), 0.0, 0.15),
    "grey": ((0.25, 0.25, 0.27), 0.0, 0.4),
    "red": ((0.4, 0.05, 0.06), 0.0, 0.3),
    "navy": ((0.02, 0.04, 0.15), 0.0, 0.3),
    "honey": ((0.55, 0.32, 0.1), 0.0, 0.25),
    "gold": ((0.95, 0.7, 0.33), 1.0, 0.25),
    "silver": ((0.9, 0.9, 0.92), 1.0, 0.25),
    "gunmetal": ((0.3, 0.3, 0.32), 1.0, 0.35),
}
MODELS = ("round.glb", "rectangular.glb", "cat_eye.glb", "sunglasses.glb")


def faces_without_glasses() -> list[tuple[str, np.ndarray, Face, PerspectiveCamera]]:
    out = []
    for name in ("astronaut.png", "frontal_smile.png"):
        image = cv2.imread(str(TESTDATA / "faces" / name))
        with np.load(REFERENCE / f"{Path(name).stem}.npz") as data:
            lm = data["face_mesh_478"][0].astype(np.float32)
        cam = PerspectiveCamera(image.shape[1], image.shape[0])
        out.append((Path(name).stem, image, Face(lm, 1.0, bbox_of(lm), estimate_pose(lm, cam)), cam))
    cap = cv2.VideoCapture(str(TESTDATA / "faces" / "talking_head.gif"))
    with np.load(REFERENCE / "talking_head.npz") as data:
        meshes, found = data["face_mesh_478"], data["face_found"]
    i = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        if found[i] and i % 2 == 0 and np.isfinite(meshes[i]).all():
            cam = PerspectiveCamera(image.shape[1], image.shape[0])
            lm = meshes[i].astype(np.float32)
            pose = estimate_pose(lm, cam)
            yaw = math.degrees(math.atan2(pose[0, 2], pose[2, 2]))
            if abs(yaw) < 30:
                out.append(("talking_head", image, Face(lm, 1.0, bbox_of(lm), pose), cam))
        i += 1
    return out


def finished_model(model: str, finish: str, folder: Path) -> Path:
    """``model`` with its frame parts in ``finish`` (its lenses kept)."""
    color, metallic, roughness = FINISHES[finish]
    scene = trimesh.Scene()
    for part in load_parts(resolve_model_path(model)):
        mesh = trimesh.Trimesh(part.vertices, part.faces, vertex_normals=part.normals, process=False)
        if part.material.is_lens:
            mat = PBRMaterial(baseColorFactor=list(part.material.base_color), alphaMode="BLEND", doubleSided=True)
        else:
            mat = PBRMaterial(baseColorFactor=[*color, 1.0], metallicFactor=metallic, roughnessFactor=roughness)
        mesh.visual = trimesh.visual.TextureVisuals(material=mat)
        scene.add_geometry(mesh, node_name=part.name)
    path = folder / f"{Path(model).stem}_{finish}.glb"
    path.write_bytes(scene.export(file_type="glb"))
    return path


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f = image.astype(np.float32) * rng.uniform(0.45, 1.25) * rng.uniform(0.85, 1.15, 3)
    if rng.random() < 0.5:
        f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.5, 2.0))
    if rng.random() < 0.5:
        f += rng.standard_normal(f.shape).astype(np.float32) * rng.uniform(1.0, 8.0)
    return np.clip(f, 0, 255).astype(np.uint8)


def samples(faces, folder: Path, rng: np.random.Generator, per_face: int):
    """(person, features, label) for every face: plain and with glasses, augmented and mirrored."""
    lenses = {}
    rows = []
    for person, image, face, cam in faces:
        for _ in range(per_face):
            model, finish = MODELS[rng.integers(len(MODELS))], list(FINISHES)[rng.integers(len(FINISHES))]
            key = (model, finish)
            if key not in lenses:
                lenses[key] = finished_model(model, finish, folder)
            tint = rng.random() < 0.3
            options = EyewearOptions(
                model=lenses[key],
                frame_width_mm=float(rng.uniform(126, 148)),
                lens_transmission=float(rng.uniform(0.15, 0.6)) if tint else 1.0,
                pantoscopic_tilt_deg=float(rng.uniform(0, 10)),
            )
            with EyewearLens(options) as lens:
                worn = lens.render(image, [face], cam)
            for picture, label in ((image, 0), (worn, 1)):
                canvas = eye_canvas(augment(picture, rng), face.landmarks)
                if rng.random() < 0.5:
                    canvas = cv2.flip(canvas, 1)
                rows.append((person, features(canvas), label))
    return rows


def fit(x: np.ndarray, y: np.ndarray, l2: float = 30.0, steps: int = 12) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method in the dual-sized form (samples < features)."""
    n, d = x.shape
    w, b = np.zeros(d), 0.0
    for _ in range(steps):
        z = np.clip(x @ w + b, -30, 30)
        p = 1.0 / (1.0 + np.exp(-z))
        s = p * (1 - p) + 1e-6
        # solve (X^T S X + l2 I) dw = X^T (y - p) - l2 w via the n x n system (Woodbury)
        g = x.T @ (y - p) - l2 * w
        a = np.diag(1.0 / s) + (x @ x.T) / l2
        dw = g / l2 - x.T @ np.linalg.solve(a, x @ g / l2) / l2
        db = float((y - p).sum() / s.sum())
        w, b = w + dw, b + db
    return w, b


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), x.std(axis=0) + 1e-3


def probability(x, mean, scale, w, b) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(((x - mean) / scale) @ w + b, -50, 50)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "glasses_detector.npz")
    parser.add_argument("--per-face", type=int, default=6, help="glasses drawn on each face (and as many plain)")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        faces = faces_without_glasses()
        rows = samples(faces, Path(tmp), rng, args.per_face)
    people = np.array([r[0] for r in rows])
    x = np.stack([r[1] for r in rows]).astype(np.float64)
    y = np.array([r[2] for r in rows], dtype=np.float64)
    report: dict = {"samples": int(len(y)), "positives": int(y.sum()), "people": sorted(set(people.tolist()))}
    held = {}
    for person in sorted(set(people.tolist())):
        train = people != person
        mean, scale = standardise(x[train])
        w, b = fit((x[train] - mean) / scale, y[train])
        p = probability(x[~train], mean, scale, w, b)
        held[person] = {
            "glasses_found": float(((p >= 0.5) & (y[~train] == 1)).sum() / max((y[~train] == 1).sum(), 1)),
            "false_alarms": float(((p >= 0.5) & (y[~train] == 0)).sum() / max((y[~train] == 0).sum(), 1)),
        }
    report["leave_one_person_out"] = held
    mean, scale = standardise(x)
    w, b = fit((x - mean) / scale, y)
    checks = {}
    for name in ("grace_hopper.jpg", "astronaut.png", "frontal_smile.png"):
        image = cv2.imread(str(TESTDATA / "faces" / name))
        with np.load(REFERENCE / f"{Path(name).stem}.npz") as data:
            lm = data["face_mesh_478"][0]
        x_one = features(eye_canvas(image, lm))[None].astype(np.float64)
        checks[name] = float(probability(x_one, mean, scale, w, b)[0])
    report["probabilities"] = checks
    np.savez_compressed(
        args.out,
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        weights=w.astype(np.float32),
        bias=np.float32(b),
        threshold=np.float32(0.5),
        report=np.array(json.dumps(report)),
    )
    print(json.dumps(report, indent=2))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
