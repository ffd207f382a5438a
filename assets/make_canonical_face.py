#!/usr/bin/env python3
"""Build arlens' canonical face (assets/canonical_face.npz) from the mesh model's own 3D output.

The 468 landmarks that arlens' FaceTracker returns on frontal faces (the two public-domain portraits
and the frames of the talking-head clip) are turned into a right-handed 3D frame (x right, y up,
z toward the camera), aligned to one another by similarity Procrustes, averaged, rotated so that the
eye corners run along x and chin-to-forehead along y, centred on their mean, and scaled to
centimetres so that the eye centres are the mean adult interpupillary distance (6.3 cm) apart.

    python assets/make_canonical_face.py [--testdata DIR]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

import arlens
from arlens import landmarks as L
from arlens.tracking.pose import CANONICAL_FILE, MEAN_IPD_CM, procrustes

CHIN = 152
FOREHEAD = 10


def to_3d(points: np.ndarray) -> np.ndarray:
    """Pixel landmarks (x right, y down, z away from camera) as a right-handed frame with y up, z toward camera."""
    p = points[: L.NUM_MESH_LANDMARKS].astype(np.float64)
    return np.stack([p[:, 0], -p[:, 1], -p[:, 2]], axis=1)


def collect(testdata: Path) -> list[np.ndarray]:
    faces = []
    with arlens.FaceTracker(estimate_pose=False, refine_iris=False) as tracker:
        for name in ("astronaut.png", "grace_hopper.jpg"):
            found = tracker.detect(cv2.imread(str(testdata / "faces" / name)))
            faces += [to_3d(f.landmarks) for f in found[:1]]
        cap = cv2.VideoCapture(str(testdata / "faces" / "talking_head.gif"))
        t = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            t += 33
            faces += [to_3d(f.landmarks) for f in tracker.track(frame, t)[:1]]
    return faces


def build(faces: list[np.ndarray]) -> np.ndarray:
    weights = np.ones(L.NUM_MESH_LANDMARKS)
    ref = faces[0]
    for _ in range(3):  # align to the running mean, then refine the mean
        aligned = []
        for f in faces:
            r, s, t = procrustes(f, ref, weights, with_scale=True)
            aligned.append(s * f @ r.T + t)
        ref = np.mean(aligned, axis=0)
    x = ref[L.LEFT_EYE_OUTER] - ref[L.RIGHT_EYE_OUTER]
    x /= np.linalg.norm(x)
    y = ref[FOREHEAD] - ref[CHIN]
    y -= x * (x @ y)
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    canon = (ref - ref.mean(axis=0)) @ np.stack([x, y, z], axis=1)
    right_eye = canon[list(L.right_eye())].mean(axis=0)
    left_eye = canon[list(L.left_eye())].mean(axis=0)
    return (canon * (MEAN_IPD_CM / np.linalg.norm(left_eye - right_eye))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = os.environ.get("ARLENS_TESTDATA", str(Path(__file__).resolve().parents[1].parent / "shared" / "testdata"))
    parser.add_argument("--testdata", type=Path, default=Path(default))
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / CANONICAL_FILE)
    args = parser.parse_args()
    faces = collect(args.testdata)
    canon = build(faces)
    np.savez_compressed(args.out, points=canon, num_faces=np.int32(len(faces)))
    extent = canon.max(axis=0) - canon.min(axis=0)
    print(f"{args.out}: {len(faces)} faces, extent {extent.round(2)} cm")


if __name__ == "__main__":
    main()
