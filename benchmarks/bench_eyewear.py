"""Benchmark the eyewear lens: milliseconds per face at 1280x720 through OpenGL (llvmpipe on a CPU).

Usage:
    python benchmarks/bench_eyewear.py [--runs 100] [--json benchmarks/results/bench_eyewear.json]

Each still test face is scaled so its image height fills a 1280x720 frame, its pose estimated with
the 1280x720 camera, and ``EyewearLens.render(frame, [face], camera)`` timed for every demo frame
(after a warm-up) as median and p95; ``lens_only`` subtracts the one ``frame.copy()`` each call makes.
A two-face frame is timed too (ms per face = total / 2). The GL renderer string says where it ran
(``llvmpipe`` on a CPU, the GPU's name on a GPU).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import TESTDATA, metadata, print_table, summary, time_calls, write_json  # noqa: E402

from arlens.lenses.eyewear import EyewearLens, EyewearOptions  # noqa: E402
from arlens.tracking.camera import PerspectiveCamera  # noqa: E402
from arlens.tracking.pose import estimate_pose  # noqa: E402
from arlens.tracking.results import Face, bbox_of  # noqa: E402

FRAMES = {"round.glb": 132.0, "rectangular.glb": 140.0, "cat_eye.glb": 138.0}
STILLS = ("astronaut.png", "grace_hopper.jpg", "frontal_smile.png")
W, H = 1280, 720


def scaled_face(name: str) -> tuple[np.ndarray, list[Face], PerspectiveCamera]:
    """The test face fitted into a 1280x720 frame, with its landmarks and pose at that size."""
    image = cv2.imread(str(TESTDATA / "faces" / name))
    with np.load(TESTDATA.parent / "reference" / f"{Path(name).stem}.npz") as data:
        lm = data["face_mesh_478"][0].astype(np.float32)
    s = H / image.shape[0]
    resized = cv2.resize(image, (int(image.shape[1] * s), H))
    frame = np.zeros((H, W, 3), np.uint8)
    x0 = (W - resized.shape[1]) // 2
    frame[:, x0 : x0 + resized.shape[1]] = resized
    lm = lm * s
    lm[:, 0] += x0
    cam = PerspectiveCamera(W, H)
    return frame, [Face(lm, 1.0, bbox_of(lm), estimate_pose(lm, cam))], cam


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--json", type=Path, default=Path(__file__).resolve().parent / "results" / "bench_eyewear.json")
    args = parser.parse_args(argv)
    faces = {n: scaled_face(n) for n in STILLS if (TESTDATA / "faces" / n).is_file()}
    if not faces:
        raise SystemExit(f"no test faces under {TESTDATA}")
    rows: dict[str, dict[str, float]] = {}
    # Time the copy of a frame whose pages are already touched: np.zeros(...).copy() also paid for
    # the zero pages' first-touch faults, which made lens_only negative on a GPU machine.
    touched = np.full((H, W, 3), 7, np.uint8)
    copy_ms = summary(time_calls(touched.copy, args.runs))["median_ms"]
    renderer = ""
    for model, width in FRAMES.items():
        with EyewearLens(EyewearOptions(model=model, frame_width_mm=width)) as lens:
            renderer = lens._renderer.info.get("GL_RENDERER", "")  # noqa: SLF001 - reported, not used
            all_ms = []
            for name, (frame, fs, cam) in faces.items():
                ms = time_calls(lambda frame=frame, fs=fs, cam=cam: lens.render(frame, fs, cam), args.runs)
                rows[f"{model} {Path(name).stem}"] = summary(ms)
                all_ms += ms
            rows[f"{model} all faces"] = summary(all_ms)
            rows[f"{model} lens_only"] = summary(m - copy_ms for m in all_ms)
            # two faces in one frame: the frontal_smile face twice, side by side at half size
            frame, fs, cam = faces[STILLS[-1]] if STILLS[-1] in faces else next(iter(faces.values()))
            lm = fs[0].landmarks.copy()
            two = []
            for dx in (-300.0, 300.0):
                m = lm.copy()
                m[:, :2] = (m[:, :2] - [W / 2, H / 2]) * 0.5 + [W / 2 + dx, H / 2]
                two.append(Face(m, 1.0, bbox_of(m), estimate_pose(m, cam)))
            ms = time_calls(lambda frame=frame, two=two, cam=cam: lens.render(frame, two, cam), args.runs)
            rows[f"{model} per face (2 faces)"] = summary(m / 2 for m in ms)
    print_table(f"EyewearLens.render at {W}x{H}, ms per face ({renderer})", rows)
    write_json(
        args.json,
        {
            "benchmark": "eyewear",
            "size": [W, H],
            "gl_renderer": renderer,
            "meta": metadata(),
            "frame_copy_ms": copy_ms,
            "results": rows,
        },
    )
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
