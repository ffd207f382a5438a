"""Benchmark the lipstick lens: ms per face at 1280x720, shades per second, and colour accuracy.

Usage:
    python benchmarks/bench_lipstick.py [--runs 200] [--json out/bench_lipstick.json] [--providers CPUExecutionProvider]

Each test face is scaled into a 1280x720 frame (its height fills the frame). Timings are taken after a
warm-up and reported as median and p95 over ``--runs`` calls of the public API:

- ``render``: ``LipstickLens.render(frame, [face])`` for the numpy and the ONNX backends (including the
  one frame copy every call makes, so "per face" is an upper bound for one face);
- ``lens_only``: the same minus a bare ``frame.copy()``, i.e. what the lens adds per face;
- ``batch``: ``render_shades`` with every demo shade in one call, as shades per second.

The ΔE2000 table gives, for each demo shade (at opacity 1) and face, the difference between the
swatch and the median colour of the painted lips.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "demos"))

from lipstick_contact_sheet import DEMO_SHADES, load_faces  # noqa: E402

from arlens.lenses.lipstick import LipstickLens, LipstickOptions  # noqa: E402
from arlens.render import color as C  # noqa: E402
from arlens.render import mask as M  # noqa: E402
from arlens.tracking.results import Face, bbox_of  # noqa: E402

FRAME_W, FRAME_H = 1280, 720


def to_720p(image: np.ndarray, face: Face) -> tuple[np.ndarray, Face]:
    """Scale the image so its height is 720 and centre it in a 1280x720 frame; move the landmarks along."""
    s = FRAME_H / image.shape[0]
    scaled = cv2.resize(image, (round(image.shape[1] * s), FRAME_H), interpolation=cv2.INTER_CUBIC)
    frame = np.zeros((FRAME_H, FRAME_W, 3), np.uint8)
    x0 = (FRAME_W - scaled.shape[1]) // 2
    frame[:, x0 : x0 + scaled.shape[1]] = scaled
    lm = face.landmarks * np.float32([s, s, s]) + np.float32([x0, 0, 0])
    return frame, Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))


def timeit(fn, runs: int, warmup: int = 20) -> np.ndarray:
    for _ in range(warmup):
        fn()
    times = np.empty(runs)
    for i in range(runs):
        t = time.perf_counter()
        fn()
        times[i] = (time.perf_counter() - t) * 1e3
    return times


def stats(times: np.ndarray) -> dict[str, float]:
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", type=Path, default=Path("bench_lipstick.json"))
    parser.add_argument("--providers", nargs="*", default=["CPUExecutionProvider"])
    shared = ROOT.parent / "shared"
    testdata = Path(os.environ.get("ARLENS_TESTDATA", shared / "testdata"))
    reference = Path(os.environ.get("ARLENS_REFERENCE", shared / "reference"))
    parser.add_argument("--testdata", type=Path, default=testdata)
    parser.add_argument("--reference", type=Path, default=reference)
    args = parser.parse_args(argv)

    import onnxruntime as ort

    faces = load_faces(args.testdata, args.reference)
    if not faces:
        parser.error("no test faces found")
    shades = [LipstickOptions(color=c, finish=f, opacity=o) for _, c, f, o in DEMO_SHADES]
    result: dict = {
        "benchmark": "lipstick",
        "frame": [FRAME_W, FRAME_H],
        "runs": args.runs,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "onnxruntime": ort.__version__,
            "opencv_threads": cv2.getNumThreads(),
        },
        "faces": {},
    }
    blank = np.zeros((FRAME_H, FRAME_W, 3), np.uint8)
    copy_ms = stats(timeit(blank.copy, args.runs))
    result["frame_copy"] = copy_ms
    print(f"frame copy 1280x720: {copy_ms['median_ms']:.3f} ms")
    print(f"{'face':14s} {'box':>9s} {'backend':18s} {'finish':9s} {'median':>8s} {'p95':>8s} {'lens only':>10s}")
    for name, image, face0 in faces:
        frame, face = to_720p(image, face0)
        geom = M.lip_geometry(face.landmarks, frame.shape)
        entry: dict = {"box": list(geom.shape), "mouth_width_px": geom.width, "render": {}, "batch": {}}
        for backend, providers in (("numpy", None), ("onnx", tuple(args.providers))):
            names = ",".join(p.replace("ExecutionProvider", "") for p in providers or ())
            label = backend if backend == "numpy" else f"onnx {names}"
            for finish in C.Finish:
                lens = LipstickLens(color="#B3172B", finish=finish, opacity=0.9, backend=backend, providers=providers)
                s = stats(timeit(lambda lens=lens, frame=frame, face=face: lens.render(frame, [face]), args.runs))
                s["lens_only_median_ms"] = s["median_ms"] - copy_ms["median_ms"]
                entry["render"][f"{label}/{finish.value}"] = s
                print(f"{name:14s} {geom.shape[1]:4d}x{geom.shape[0]:<4d} {label:18s} {finish.value:9s} "
                      f"{s['median_ms']:8.3f} {s['p95_ms']:8.3f} {s['lens_only_median_ms']:10.3f}")
            lens = LipstickLens(finish="satin", backend=backend, providers=providers)
            t = timeit(
                lambda lens=lens, frame=frame, face=face: lens.render_shades(frame, face, shades),
                max(10, args.runs // 10),
                3,
            )
            per_second = len(shades) / (np.median(t) / 1e3)
            entry["batch"][label] = {"shades": len(shades), **stats(t), "shades_per_second": float(per_second)}
            print(f"{name:14s} batch of {len(shades)} shades, {label}: {np.median(t):.2f} ms "
                  f"({per_second:.0f} shades/s)")
        result["faces"][name] = entry

    # colour accuracy: ΔE2000 of the median painted lip colour against the swatch, at opacity 1
    table: dict[str, dict[str, float]] = {}
    print("\nΔE2000, median lip colour vs swatch (opacity 1, shade's own finish)")
    print(f"{'shade':22s}" + "".join(f"{n:>15s}" for n, _, _ in faces))
    for (shade_name, colour, finish, _), _opts in zip(DEMO_SHADES, shades, strict=True):
        lens = LipstickLens(color=colour, finish=finish, opacity=1.0)
        row = {}
        swatch = C.hex_to_lab(colour)
        for name, image, face in faces:
            out = lens.render(image, [face])
            geom = M.lip_geometry(face.landmarks, image.shape)
            x0, y0, x1, y1 = geom.box
            core = M.lip_mask(geom) > 0.5
            lab = np.median(C.bgr_to_lab(out[y0:y1, x0:x1][core]), axis=0)
            row[name] = float(C.delta_e2000(lab, swatch))
        table[f"{shade_name} {colour} {finish}"] = row
        print(f"{shade_name:22s}" + "".join(f"{row[n]:15.1f}" for n, _, _ in faces))
    values = np.array([v for r in table.values() for v in r.values()])
    result["delta_e2000"] = table
    result["delta_e2000_summary"] = {
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "max": float(values.max()),
    }
    print(f"ΔE2000 median {np.median(values):.1f}, p90 {np.percentile(values, 90):.1f}, max {values.max():.1f}")

    # numpy vs ONNX agreement on every face and finish
    worst = 0
    for _, image, face in faces:
        for finish in C.Finish:
            opts = LipstickOptions(color="#9E1B32", finish=finish, opacity=0.9, liner_color="#5A0F1E", liner_width=0.03)
            a = LipstickLens(opts).render(image, [face]).astype(int)
            b = LipstickLens(opts, backend="onnx", providers=tuple(args.providers)).render(image, [face]).astype(int)
            worst = max(worst, int(np.abs(a - b).max()))
    result["numpy_vs_onnx_max_abs_diff"] = worst
    print(f"numpy vs ONNX: max difference {worst} grey levels")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
