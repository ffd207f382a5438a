#!/usr/bin/env python3
"""Hand tracking speed at 1280x720: per-stage milliseconds, tracking and detection-every-frame modes,
and the ratio to MediaPipe's legacy Hands graph on the same frames in the same run.

The clip is the hand stills scaled to 720 px high on a grey canvas, drifting sideways. With
``--peer-python`` MediaPipe's Hands (``static_image_mode`` False for tracking, True for detection every
frame) runs in lockstep, as in bench_face: frame i by arlens, then by the peer (``peer_mediapipe.py``
in its own venv, timed there), so each pair is taken milliseconds apart however the shared machine's
speed drifts.

    python benchmarks/bench_hands.py [--peer-python /tmp/mpref/bin/python] [--rounds 2]
        [--out results/hands.json]
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

import arlens  # noqa: E402

STILLS = ("hands/open_palm.jpg", "hands/pointing.jpg")
MODES = (("tracking", False, "hands"), ("detect_every_frame", True, "hands_static"))


def run_mode(clip: np.ndarray, still: bool, task: str, rounds: int, peer_python: str | None) -> dict:
    """arlens (and the peer, when given) over ``clip`` ``rounds`` times, each pass from a fresh track."""
    totals: list[float] = []
    stages: list[dict[str, float]] = []
    peer_ms: list[float] = []
    found = peer_found = 0
    with arlens.HandTracker() as tracker, contextlib.ExitStack() as stack:
        peer = stack.enter_context(harness.PeerServer(peer_python, clip, task)) if peer_python else None
        for i, frame in enumerate(clip[:10]):  # warm-up (the peer warms up on starting)
            tracker.detect(frame) if still else tracker.track(frame, i * 33)
        for _ in range(rounds):
            tracker.reset()
            if peer is not None:
                peer.reset()
            for i, frame in enumerate(clip):
                t0 = time.perf_counter()
                hands = tracker.detect(frame) if still else tracker.track(frame, i * 33)
                totals.append((time.perf_counter() - t0) * 1000.0)
                stages.append(tracker.timings)
                found += bool(hands)
                if peer is not None:
                    ms, hit = peer.process(i)
                    peer_ms.append(ms)
                    peer_found += hit
        version = peer.info["mediapipe"] if peer is not None else None
    entry: dict = {"total": harness.summary(totals), "stages": harness.stage_summaries(stages),
                   "frames_with_hand": found, "fps": 1000.0 / harness.median(totals)}
    if peer_python:
        ratios = np.asarray(totals) / np.asarray(peer_ms)
        entry["peer"] = {"task": task, "total": harness.summary(peer_ms), "mediapipe": version,
                         "frames_with_hand": peer_found, "ratio_median_pairwise": float(np.median(ratios)),
                         "ratio_of_medians": harness.median(totals) / harness.median(peer_ms)}
    return entry


def main() -> None:
    parser = harness.lockstep_parser(__doc__, "hands.json", "passes over the clip per mode, each from a fresh track")
    args = harness.parse_lockstep_args(parser)
    clip = harness.make_clip(STILLS, args.frames_per_still, drift_px=60)
    result: dict = {"benchmark": "hand_tracking_1280x720", "frames": len(clip), "rounds": args.rounds,
                    "method": "lockstep: each frame by arlens, then by the peer graph", "meta": harness.metadata()}
    for mode, still, task in MODES:
        entry = run_mode(clip, still, task, args.rounds, args.peer_python)
        harness.print_table(f"arlens HandTracker, {mode}, {len(clip)} frames 1280x720 x {args.rounds} rounds "
                            f"({entry['frames_with_hand']} with a hand)", {**entry["stages"], "total": entry["total"]})
        if "peer" in entry:
            p = entry["peer"]
            print(f"  MediaPipe {p['mediapipe']} Hands ({task}): median {p['total']['median_ms']:.2f} ms, "
                  f"p95 {p['total']['p95_ms']:.2f} ms; arlens/peer pairwise median {p['ratio_median_pairwise']:.2f}, "
                  f"ratio of medians {p['ratio_of_medians']:.2f}")
        result[mode] = entry
    result["peak_rss_mb"] = harness.peak_rss_mb()
    harness.write_json(args.out, result)
    bars = {}
    for mode, _, _ in MODES:
        bars.update({f"{mode} {k}": v for k, v in result[mode]["stages"].items()})
        bars[f"{mode} total"] = result[mode]["total"]
        if "peer" in result[mode]:
            bars[f"MediaPipe {result[mode]['peer']['task']}"] = result[mode]["peer"]["total"]
    plot = harness.write_plot(args.out.with_suffix(".png"), "Hand tracking, 1280x720", bars)
    print(f"\nwrote {args.out}" + (f" and {plot}" if plot else ""))


if __name__ == "__main__":
    main()
