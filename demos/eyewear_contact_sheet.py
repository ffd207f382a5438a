"""Contact sheet: every demo eyewear product on three faces, frontal and turned 40 degrees each way, in the
photo's own, dim and warm light, and on a face that already wears glasses.

Usage: ``python demos/eyewear_contact_sheet.py --out /tmp/eyewear`` writes one PNG per face (rows: view x
light; columns: the photo, then each eyewear product of the demo catalog, zoomed on the eyes) and
``sheet.png`` with all of them. Faces come from ``$ARLENS_TESTDATA`` (default ``../shared/testdata``) with the
reference landmarks beside it.

The turned views of the still portraits are made here: the face's mesh (its landmarks at the pose's depth) is
turned about the head's vertical axis and the photo is carried with it, triangle by triangle (nearest last),
over a blurred copy of the photo; the turned landmarks are exact. The talking-head clip also has a frame
turned 40 degrees for real (frame 38), and its mirror image for the other side, tracked by the FaceTracker.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import cv2
import numpy as np

from arlens import landmarks as L
from arlens.catalog import Catalog
from arlens.lenses.eyewear import EyewearLens
from arlens.scene import Scene
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.glasses import glasses_probability
from arlens.tracking.pose import estimate_pose
from arlens.tracking.results import Face, bbox_of

ROOT = Path(__file__).resolve().parents[1]
LIGHTS = {"as shot": (1.0, 1.0, 1.0), "dim": (0.4, 0.4, 0.4), "warm": (0.6, 0.85, 1.0)}  # BGR gains
TILE = (300, 170)


def load(testdata: Path, name: str, frame: int = 0) -> tuple[np.ndarray, Face, PerspectiveCamera]:
    path = testdata / "faces" / name
    if name.endswith(".gif"):
        cap = cv2.VideoCapture(str(path))
        for _ in range(frame + 1):
            ok, image = cap.read()
            if not ok:
                raise SystemExit(f"{path}: no frame {frame}")
    else:
        image = cv2.imread(str(path))
    with np.load(testdata.parent / "reference" / f"{path.stem}.npz") as data:
        lm = data["face_mesh_478"][frame].astype(np.float32)
    cam = PerspectiveCamera(image.shape[1], image.shape[0])
    return image, Face(lm, 1.0, bbox_of(lm), estimate_pose(lm, cam)), cam


def turned(image: np.ndarray, face: Face, cam: PerspectiveCamera, yaw_deg: float) -> tuple[np.ndarray, Face]:
    """The photo with the face turned ``yaw_deg`` about the head's vertical axis (see the module docstring)."""
    pose = face.pose.astype(np.float64)
    depth = -pose[2, 3]
    lm = face.landmarks.astype(np.float64)
    d = depth + lm[:, 2] * depth / cam.focal_px  # MediaPipe's z is in the x pixels' scale
    pts = cam.unproject(lm[:, :2], d)
    centre = pose[:3, 3] + pose[:3, :3] @ np.array([0.0, 0.0, -7.0])  # about 7 cm behind the face
    a = math.radians(yaw_deg)
    turn = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    axis = pose[:3, :3] @ turn @ pose[:3, :3].T  # about the head's own y axis
    moved = (pts - centre) @ axis.T + centre
    uv = cam.project(moved)
    z = (-moved[:, 2] - depth) * cam.focal_px / depth
    out = cv2.GaussianBlur(image, (0, 0), 6)
    eyes = []  # the mesh has holes at the eyes: fill each from its iris centre
    for centre_idx, loop in ((L.RIGHT_IRIS_CENTER, L.right_eye()), (L.LEFT_IRIS_CENTER, L.left_eye())):
        ring = list(loop)
        eyes += [(centre_idx, ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))]
    tris = np.vstack([L.face_triangles(), np.array(eyes, np.int32)])
    order = np.argsort(moved[tris].mean(axis=1)[:, 2])  # far first (camera z grows toward the viewer)
    for t in tris[order]:
        src, dst = lm[t, :2].astype(np.float32), uv[t].astype(np.float32)

        def area(p: np.ndarray) -> float:
            return float((p[1, 0] - p[0, 0]) * (p[2, 1] - p[0, 1]) - (p[1, 1] - p[0, 1]) * (p[2, 0] - p[0, 0]))

        if area(dst) * area(src) <= 0:
            continue  # turned away
        x0, y0 = np.floor(dst.min(axis=0)).astype(int)
        x1, y1 = np.ceil(dst.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, image.shape[1]), min(y1, image.shape[0])
        if x1 <= x0 or y1 <= y0:
            continue
        m = cv2.getAffineTransform(src, (dst - [x0, y0]).astype(np.float32))
        patch = cv2.warpAffine(image, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round((dst - [x0, y0]) * 4).astype(np.int32), 255, cv2.LINE_AA, 2)
        region = out[y0:y1, x0:x1]
        a_ = mask[..., None].astype(np.float32) / 255
        region[:] = (patch * a_ + region * (1 - a_)).astype(np.uint8)
    lm2 = np.c_[uv, z].astype(np.float32)
    return out, Face(lm2, 1.0, bbox_of(lm2), estimate_pose(lm2, cam))


def eye_zoom(image: np.ndarray, face: Face, iod: float, size: tuple[int, int] = TILE) -> np.ndarray:
    """A crop around the eyes and temples (``iod``: the face's frontal inter-ocular distance), scaled to ``size``."""
    cx, cy = face.landmarks[L.NOSE_BRIDGE, :2]
    x0, x1 = int(cx - 1.2 * iod), int(cx + 1.2 * iod)
    y0, y1 = int(cy - 0.6 * iod), int(cy + 0.75 * iod)
    pad = max(0, -x0, -y0, x1 - image.shape[1], y1 - image.shape[0])
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT)
    return cv2.resize(padded[y0 + pad : y1 + pad, x0 + pad : x1 + pad], size, interpolation=cv2.INTER_AREA)


def label(tile: np.ndarray, text: str) -> np.ndarray:
    cv2.putText(tile, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(tile, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def row(image: np.ndarray, face: Face, cam: PerspectiveCamera, lenses: dict, title: str, iod: float) -> np.ndarray:
    scene = Scene(image, [face], camera=cam)
    tiles = [label(eye_zoom(image, face, iod), title)]
    for pid, lens in lenses.items():
        tiles.append(label(eye_zoom(lens.render(image, [face], scene), face, iod), pid))
    return np.hstack(tiles)


def tracked_mirror(image: np.ndarray) -> tuple[np.ndarray, Face, PerspectiveCamera] | None:
    """The frame mirrored and tracked (None when the tracker finds no face)."""
    from arlens.tracking.face import FaceTracker

    flipped = cv2.flip(image, 1)
    with FaceTracker() as tracker:
        faces = tracker.detect(flipped)
    if not faces:
        return None
    return flipped, faces[0], PerspectiveCamera(flipped.shape[1], flipped.shape[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/eyewear_sheet"))
    parser.add_argument(
        "--testdata", type=Path, default=Path(os.environ.get("ARLENS_TESTDATA", ROOT.parent / "shared" / "testdata"))
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    products = [p for p in Catalog.default().filter(kind="eyewear")]
    lenses = {p.id: EyewearLens.from_product(p) for p in products}
    pages = []
    try:
        for name in ("astronaut.png", "frontal_smile.png", "talking_head.gif"):
            image, face, cam = load(args.testdata, name)
            views = {"frontal": (image, face)}
            for yaw in (-40.0, 40.0):
                views[f"{yaw:+.0f} deg"] = turned(image, face, cam, yaw)
            rows = []
            for view, (picture, f) in views.items():
                for light, gain in LIGHTS.items():
                    lit = np.clip(picture * np.float32(gain), 0, 255).astype(np.uint8)
                    rows.append(row(lit, f, cam, lenses, f"{view}, {light}", face.interocular))
            if name.endswith(".gif"):  # the clip turns for real
                real, f38, cam38 = load(args.testdata, name, 38)
                rows.append(row(real, f38, cam38, lenses, "frame 38 (turned)", face.interocular))
                mirrored = tracked_mirror(real)
                if mirrored is not None:
                    rows.append(row(*mirrored, lenses, "frame 38 mirrored", face.interocular))
            page = np.vstack(rows)
            cv2.imwrite(str(args.out / f"{Path(name).stem}.png"), page)
            pages.append(page)
        image, face, cam = load(args.testdata, "grace_hopper.jpg")
        p = glasses_probability(image, face)
        page = row(image, face, cam, lenses, f"wears glasses: {p:.2f}", face.interocular)
        cv2.imwrite(str(args.out / "grace_hopper.png"), page)
        pages.append(page)
    finally:
        for lens in lenses.values():
            lens.close()
    width = max(p.shape[1] for p in pages)
    sheet = np.vstack([cv2.copyMakeBorder(p, 0, 6, 0, width - p.shape[1], cv2.BORDER_CONSTANT) for p in pages])
    cv2.imwrite(str(args.out / "sheet.png"), sheet)
    print(f"wrote {len(pages)} pages ({len(products)} products) to {args.out}")


if __name__ == "__main__":
    main()
