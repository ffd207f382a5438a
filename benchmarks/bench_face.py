#!/usr/bin/env python3
"""Face tracking speed at 1280x720: per-stage milliseconds, and the ratio to MediaPipe's own graph.

Builds a 1280x720 clip from the test stills (each portrait scaled to the frame height on a grey
canvas, drifting sideways so tracking has motion to follow), tracks it in video mode with arlens,
and, when ``--peer-python`` names an interpreter with ``mediapipe==0.10.21``, runs MediaPipe's legacy
FaceMesh (refine_landmarks=True and False) on the same frames in a subprocess of the same run.

    python benchmarks/bench_face.py [--peer-python /tmp/mpref/bin/python] [--out benchmarks/results/face.json]
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

STILLS = ("faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png")


def run_arlens(clip: np.ndarray, **options) -> tuple[list[float], list[dict[str, float]], int]:
    totals, stages, found = [], [], 0
    with arlens.FaceTracker(**options) as tracker:
        for i, frame in enumerate(clip[:10]):  # warm-up on the first frames
            tracker.track(frame, i * 33)
        tracker.reset()
        for i, frame in enumerate(clip):
            t0 = time.perf_counter()
            faces = tracker.track(frame, i * 33)
            totals.append((time.perf_counter() - t0) * 1000.0)
            stages.append(tracker.timings)
            found += bool(faces)
    return totals, stages, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames-per-still", type=int, default=60)
    parser.add_argument("--peer-python", help="interpreter of a venv with mediapipe==0.10.21")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "face.json")
    args = parser.parse_args()

    clip = harness.make_clip(STILLS, args.frames_per_still, drift_px=40)
    result: dict = {"benchmark": "face_tracking_1280x720", "frames": len(clip), "meta": harness.metadata()}
    totals, stages, found = run_arlens(clip)
    result["arlens"] = {"total": harness.summary(totals), "stages": harness.stage_summaries(stages),
                        "frames_with_face": found, "fps": 1000.0 / harness.median(totals),
                        "peak_rss_mb": harness.peak_rss_mb()}
    harness.print_table(f"arlens FaceTracker, video mode, {len(clip)} frames 1280x720 "
                        f"({found} with a face)", {**result["arlens"]["stages"], "total": result["arlens"]["total"]})
    if args.peer_python:
        for task in ("face_mesh_refined", "face_mesh"):
            peer = harness.run_peer(args.peer_python, clip, task)
            ratios = np.asarray(totals) / np.asarray(peer["ms"])
            result[f"peer_{task}"] = {"total": harness.summary(peer["ms"]), "mediapipe": peer["mediapipe"],
                                      "frames_with_face": peer["frames_with_result"],
                                      "ratio_median_pairwise": float(np.median(ratios)),
                                      "ratio_of_medians": harness.median(totals) / harness.median(peer["ms"])}
            s = result[f"peer_{task}"]
            print(f"\nMediaPipe {peer['mediapipe']} {task}: median {s['total']['median_ms']:.2f} ms, "
                  f"p95 {s['total']['p95_ms']:.2f} ms; arlens/peer pairwise median ratio "
                  f"{s['ratio_median_pairwise']:.2f}, ratio of medians {s['ratio_of_medians']:.2f}")
    harness.write_json(args.out, result)
    bars = {f"arlens {k}": v for k, v in result["arlens"]["stages"].items()}
    bars["arlens total"] = result["arlens"]["total"]
    for task in ("face_mesh_refined", "face_mesh"):
        if f"peer_{task}" in result:
            bars[f"MediaPipe {task}"] = result[f"peer_{task}"]["total"]
    plot = harness.write_plot(args.out.with_suffix(".png"), "Face tracking, 1280x720, video mode", bars)
    print(f"\nwrote {args.out}" + (f" and {plot}" if plot else ""))


if __name__ == "__main__":
    main()
