#!/usr/bin/env python3
"""Batch throughput at 1280x720: faces tracked per second one by one vs ``detect_batch``, and product
line previews (all demo lipsticks on one photo) per second through ``arlens.batch``.

    python benchmarks/bench_batch.py [--device cpu|cuda] [--out benchmarks/results/batch.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

import arlens  # noqa: E402
from arlens import batch  # noqa: E402

STILLS = ("faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png")


def frames_720p(copies: int) -> list[np.ndarray]:
    out = []
    for rel in STILLS:
        image = harness.still_at_height(rel, 720)
        canvas = np.full((720, 1280, 3), 96, np.uint8)
        x = (1280 - image.shape[1]) // 2
        canvas[:, x : x + image.shape[1]] = image
        out.append(canvas)
    return out * copies


def per_second(fn, count: int, repeats: int) -> dict[str, float]:
    fn()  # warm-up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        rates.append(count / (time.perf_counter() - t0))
    return {"median_per_s": float(np.median(rates)), "min_per_s": float(np.min(rates)), "n": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--copies", type=int, default=4, help="each still is repeated this many times")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "batch.json")
    args = parser.parse_args()
    images = frames_720p(args.copies)
    lips = list(arlens.Catalog.default().filter(kind="lipstick"))
    result: dict = {"benchmark": "batch_1280x720", "images": len(images), "shades": len(lips),
                    "meta": harness.metadata()}
    with arlens.FaceTracker(device=args.device) as tracker:
        result["detect_one_by_one"] = per_second(lambda: [tracker.detect(im) for im in images], len(images),
                                                 args.repeats)
        result["detect_batch"] = per_second(lambda: tracker.detect_batch(images), len(images), args.repeats)
        for backend in ("numpy", "onnx"):
            result[f"product_line_{backend}"] = per_second(
                lambda b=backend: batch.render_product_line(images[0], lips, tracker=tracker, backend=b),
                len(lips), args.repeats)
    print(f"\n{len(images)} images at 1280x720, {len(lips)} shades, device {args.device}")
    for key in ("detect_one_by_one", "detect_batch"):
        print(f"  {key:<24} {result[key]['median_per_s']:8.1f} images/s")
    for key in ("product_line_numpy", "product_line_onnx"):
        print(f"  {key:<24} {result[key]['median_per_s']:8.1f} shades/s (detection included)")
    harness.write_json(args.out, result)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
