#!/usr/bin/env python3
"""Hand tracking speed at 1280x720: per-stage milliseconds, tracking and detection-every-frame modes,
and the ratio to MediaPipe's legacy Hands graph on the same frames in the same run.

    python benchmarks/bench_hands.py [--peer-python /tmp/mpref/bin/python] [--out benchmarks/results/hands.json]
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

STILLS = ("hands/open_palm.jpg", "hands/pointing.jpg")


def run_arlens(clip: np.ndarray, still: bool) -> tuple[list[float], list[dict[str, float]], int]:
    totals, stages, found = [], [], 0
    with arlens.HandTracker() as tracker:
        for i, frame in enumerate(clip[:10]):  # warm-up
            tracker.detect(frame) if still else tracker.track(frame, i * 33)
        tracker.reset()
        for i, frame in enumerate(clip):
            t0 = time.perf_counter()
            hands = tracker.detect(frame) if still else tracker.track(frame, i * 33)
            totals.append((time.perf_counter() - t0) * 1000.0)
            stages.append(tracker.timings)
            found += bool(hands)
    return totals, stages, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames-per-still", type=int, default=60)
    parser.add_argument("--peer-python", help="interpreter of a venv with mediapipe==0.10.21")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "hands.json")
    args = parser.parse_args()
    clip = harness.make_clip(STILLS, args.frames_per_still, drift_px=60)
    result: dict = {"benchmark": "hand_tracking_1280x720", "frames": len(clip), "meta": harness.metadata()}
    for mode, still, task in (("tracking", False, "hands"), ("detect_every_frame", True, "hands_static")):
        totals, stages, found = run_arlens(clip, still)
        entry = {"total": harness.summary(totals), "stages": harness.stage_summaries(stages),
                 "frames_with_hand": found, "fps": 1000.0 / harness.median(totals)}
        harness.print_table(f"arlens HandTracker, {mode}, {len(clip)} frames 1280x720 ({found} with a hand)",
                            {**entry["stages"], "total": entry["total"]})
        if args.peer_python:
            peer = harness.run_peer(args.peer_python, clip, task)
            ratios = np.asarray(totals) / np.asarray(peer["ms"])
            entry["peer"] = {"task": task, "total": harness.summary(peer["ms"]), "mediapipe": peer["mediapipe"],
                             "frames_with_hand": peer["frames_with_result"],
                             "ratio_median_pairwise": float(np.median(ratios)),
                             "ratio_of_medians": harness.median(totals) / harness.median(peer["ms"])}
            p = entry["peer"]
            print(f"  MediaPipe {peer['mediapipe']} Hands ({task}): median {p['total']['median_ms']:.2f} ms, "
                  f"p95 {p['total']['p95_ms']:.2f} ms; arlens/peer pairwise median {p['ratio_median_pairwise']:.2f}, "
                  f"ratio of medians {p['ratio_of_medians']:.2f}")
        result[mode] = entry
    result["peak_rss_mb"] = harness.peak_rss_mb()
    harness.write_json(args.out, result)
    bars = {}
    for mode in ("tracking", "detect_every_frame"):
        bars.update({f"{mode} {k}": v for k, v in result[mode]["stages"].items()})
        bars[f"{mode} total"] = result[mode]["total"]
        if "peer" in result[mode]:
            bars[f"MediaPipe {result[mode]['peer']['task']}"] = result[mode]["peer"]["total"]
    plot = harness.write_plot(args.out.with_suffix(".png"), "Hand tracking, 1280x720", bars)
    print(f"\nwrote {args.out}" + (f" and {plot}" if plot else ""))


if __name__ == "__main__":
    main()
