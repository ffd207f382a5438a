#!/usr/bin/env python3
"""Reference face detections from Google's own MediaPipe graphs, to check arlens' FaceDetector against.

The detection counterpart of ``../shared/tools/make_reference.py`` (which records FaceMesh and Hands):
runs MediaPipe's legacy ``FaceDetection`` solution with ``model_selection=0`` (short-range BlazeFace,
the detector of FaceMesh) and ``model_selection=1`` (``face_detection_full_range_sparse.tflite``) from
the ``mediapipe==0.10.21`` wheel, through Google's C++ graph and TFLite/XNNPACK, on

- the shared stills (``faces/*.png|jpg``) and every frame of ``faces/talking_head.gif``;
- the scenes of ``benchmarks/kiosk_scenes.py``: the stills pasted into 1280x720 frames at kiosk sizes, alone
  and three at once, and (full-range only) each square tile ``FaceDetector(model="auto")`` searches,
  given to MediaPipe as an image of its own.

It needs MediaPipe's virtual environment (mediapipe 0.10.21 pins numpy<2), not arlens'::

    python3 -m venv /tmp/mpref && /tmp/mpref/bin/pip install "mediapipe==0.10.21"
    /tmp/mpref/bin/python tools/make_detection_reference.py -o tests/data/face_detection_reference.npz

The .npz is one table, a row per detection (R rows), in MediaPipe's order within each case and model:
``case`` (R,) int index into ``cases`` (C,) str, ``model`` (R,) ``"short"`` or ``"full"``, ``boxes``
(R, 4) x0, y0, x1, y1, ``keypoints`` (R, 6, 2) and ``scores`` (R,), in pixels of the image the detector
saw; ``means`` (C,) is the mean grey level of each scene (NaN for the shared images), so a test can tell
that it rebuilt the same scene. Case names: the still's stem, ``talking_head/<frame>``,
``scene/<placements>`` and ``scene/<placements>/tile_<x0>_<y0>``. Only numbers, never the images.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

import cv2
import mediapipe as mp
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from kiosk_scenes import GROUP_SCENES, SINGLE_SCENES, TILES_1280x720, scene  # noqa: E402

TESTDATA = pathlib.Path(os.environ.get("ARLENS_TESTDATA", ROOT.parent / "shared" / "testdata"))
STILLS = ("astronaut.png", "grace_hopper.jpg", "frontal_smile.png")
MIN_CONFIDENCE = 0.5  # FaceDetection's default, and arlens' FaceTracker/FaceDetector default


def read_frames(path: pathlib.Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    if not frames:
        raise SystemExit(f"cannot read any frame from {path}")
    return frames


def detections(detector, bgr: np.ndarray) -> dict[str, np.ndarray]:
    h, w = bgr.shape[:2]
    result = detector.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    boxes, keypoints, scores = [], [], []
    for det in result.detections or []:
        box = det.location_data.relative_bounding_box
        boxes.append([box.xmin * w, box.ymin * h, (box.xmin + box.width) * w, (box.ymin + box.height) * h])
        keypoints.append([[k.x * w, k.y * h] for k in det.location_data.relative_keypoints])
        scores.append(det.score[0])
    return {"boxes": np.array(boxes, np.float32).reshape(-1, 4),
            "keypoints": np.array(keypoints, np.float32).reshape(-1, 6, 2),
            "scores": np.array(scores, np.float32)}


class Table:
    """Detections of every case and model as rows of one table (a few arrays instead of hundreds)."""

    def __init__(self) -> None:
        self.cases: list[str] = []
        self.means: list[float] = []
        self.rows: dict[str, list] = {"case": [], "model": [], "boxes": [], "keypoints": [], "scores": []}

    def case(self, name: str, mean: float = float("nan")) -> int:
        self.cases.append(name)
        self.means.append(mean)
        return len(self.cases) - 1

    def record(self, case: int, model: str, found: dict[str, np.ndarray]) -> None:
        for k in range(len(found["scores"])):
            self.rows["case"].append(case)
            self.rows["model"].append(model)
            for name in ("boxes", "keypoints", "scores"):
                self.rows[name].append(found[name][k])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"cases": np.array(self.cases), "means": np.array(self.means, np.float64),
                "case": np.array(self.rows["case"], np.int32), "model": np.array(self.rows["model"]),
                "boxes": np.array(self.rows["boxes"], np.float32).reshape(-1, 4),
                "keypoints": np.array(self.rows["keypoints"], np.float32).reshape(-1, 6, 2),
                "scores": np.array(self.rows["scores"], np.float32)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    images = {name: cv2.imread(str(TESTDATA / "faces" / name)) for name in STILLS}
    for name, image in images.items():
        if image is None:
            raise SystemExit(f"cannot read {TESTDATA / 'faces' / name} (set ARLENS_TESTDATA)")
    clip = read_frames(TESTDATA / "faces" / "talking_head.gif")
    table = Table()
    fd = mp.solutions.face_detection
    with fd.FaceDetection(min_detection_confidence=MIN_CONFIDENCE, model_selection=0) as short, \
         fd.FaceDetection(min_detection_confidence=MIN_CONFIDENCE, model_selection=1) as full:
        models = {"short": short, "full": full}
        cases = [(name.split(".")[0], image, np.nan) for name, image in images.items()]
        cases += [(f"talking_head/{i:02d}", frame, np.nan) for i, frame in enumerate(clip)]
        for placements in [*SINGLE_SCENES, *GROUP_SCENES]:
            image = scene(placements, images)
            name = "scene/" + "+".join(p.key for p in placements)
            cases.append((name, image, float(image.mean())))
            for cx, cy, side in TILES_1280x720:
                x0, y0 = int(cx - side / 2), int(cy - side / 2)
                tile = np.ascontiguousarray(image[y0 : y0 + int(side), x0 : x0 + int(side)])
                cases.append((f"{name}/tile_{x0}_{y0}", tile, np.nan))
        for name, image, mean in cases:
            case = table.case(name, mean)
            for model, detector in models.items():
                if model == "full" or "/tile_" not in name:
                    table.record(case, model, detections(detector, image))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, mediapipe=np.str_(mp.__version__), **table.arrays())
    print(f"{args.out}: {len(cases)} images ({len(STILLS)} stills, {len(clip)} clip frames, scenes and tiles), "
          f"{len(table.rows['scores'])} detections; MediaPipe {mp.__version__}")


if __name__ == "__main__":
    main()
