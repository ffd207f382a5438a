"""Contact sheet: every demo eyewear frame on every test face, for looking at the fit.

Usage: ``python demos/eyewear_contact_sheet.py --out /tmp/eyewear`` writes one PNG per face (the
original beside each frame, plus a zoom on the eyes) and ``sheet.png`` with all of them. Faces come
from ``$ARLENS_TESTDATA`` (default ``../shared/testdata``); landmarks from the reference meshes
beside it, or from the FaceTracker with ``--track``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

from arlens.lenses.eyewear import EyewearLens, EyewearOptions
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.pose import estimate_pose
from arlens.tracking.results import Face, bbox_of

FRAMES = {"round.glb": 132.0, "rectangular.glb": 140.0, "cat_eye.glb": 138.0}
ROOT = Path(__file__).resolve().parents[1]


def load_faces(testdata: Path) -> list[tuple[str, np.ndarray, list[Face], PerspectiveCamera]]:
    """(name, image, faces, camera) for each still face and a few frames of the talking-head clip."""
    reference = testdata.parent / "reference"
    items = []
    for path in sorted((testdata / "faces").iterdir()):
        ref = reference / f"{path.stem}.npz"
        if not ref.is_file():
            continue
        with np.load(ref) as data:
            meshes, found = data["face_mesh_478"], data["face_found"]
        if path.suffix == ".gif":
            cap = cv2.VideoCapture(str(path))
            frames = []
            while True:
                ok, img = cap.read()
                if not ok:
                    break
                frames.append(img)
            picks = [(f"{path.stem}_{i:02d}", frames[i], i) for i in (0, 23, 46, 68) if i < len(frames)]
        else:
            picks = [(path.stem, cv2.imread(str(path)), 0)]
        for name, image, i in picks:
            if not found[i]:
                continue
            cam = PerspectiveCamera(image.shape[1], image.shape[0])
            lm = meshes[i].astype(np.float32)
            items.append((name, image, [Face(lm, 1.0, bbox_of(lm), estimate_pose(lm, cam))], cam))
    return items


def eye_zoom(image: np.ndarray, face: Face, size: tuple[int, int] = (360, 200)) -> np.ndarray:
    """A crop around the eyes, scaled to ``size``."""
    iod = face.interocular
    cx, cy = face.landmarks[168, :2]
    x0, x1 = int(cx - 1.1 * iod), int(cx + 1.1 * iod)
    y0, y1 = int(cy - 0.7 * iod), int(cy + 0.55 * iod)
    pad = max(0, -x0, -y0, x1 - image.shape[1], y1 - image.shape[0])
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT)
    return cv2.resize(padded[y0 + pad : y1 + pad, x0 + pad : x1 + pad], size, interpolation=cv2.INTER_AREA)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/eyewear_sheet"))
    parser.add_argument(
        "--testdata", type=Path, default=Path(os.environ.get("ARLENS_TESTDATA", ROOT.parent / "shared" / "testdata"))
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    faces = load_faces(args.testdata)
    lenses = {m: EyewearLens(EyewearOptions(model=m, frame_width_mm=w)) for m, w in FRAMES.items()}
    rows = []
    try:
        for name, image, fs, cam in faces:
            renders = [image] + [lens.render(image, fs, cam) for lens in lenses.values()]
            h = 300
            full = [cv2.resize(r, (int(r.shape[1] * h / r.shape[0]), h), interpolation=cv2.INTER_AREA) for r in renders]
            zoom = [eye_zoom(r, fs[0]) for r in renders]
            row = np.vstack(
                [
                    np.hstack(zoom),
                    cv2.resize(
                        np.hstack(full), (360 * len(zoom), h * 360 * len(zoom) // sum(f.shape[1] for f in full))
                    ),
                ]
            )
            cv2.putText(row, name, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
            cv2.imwrite(str(args.out / f"{name}.png"), row)
            rows.append(row)
    finally:
        for lens in lenses.values():
            lens.close()
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack([cv2.copyMakeBorder(r, 0, 4, 0, width - r.shape[1], cv2.BORDER_CONSTANT) for r in rows])
    cv2.imwrite(str(args.out / "sheet.png"), sheet)
    print(f"wrote {len(rows)} faces x {len(FRAMES)} frames to {args.out}")


if __name__ == "__main__":
    main()
