#!/usr/bin/env python3
"""Face tracking speed at 1280x720: per-stage milliseconds, and the ratio to MediaPipe's own graph.

Builds a 1280x720 clip from the test stills (each portrait scaled to the frame height on a grey
canvas, drifting sideways so tracking has motion to follow), tracks it in video mode with arlens,
and, when ``--peer-python`` names an interpreter with ``mediapipe==0.10.21``, runs MediaPipe's legacy
FaceMesh (refine_landmarks=True and False) on the same frames, in lockstep: frame i by arlens, then by
each peer graph (``peer_mediapipe.py`` in the peer's venv, timed there), so each pair is taken
milliseconds apart however the shared machine's speed drifts.

    python benchmarks/bench_face.py [--peer-python /tmp/mpref/bin/python] [--rounds 2] [--threads 1]
        [--out results/face.json]
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

STILLS = ("faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png")


def main() -> None:
    parser = harness.lockstep_parser(__doc__, "face.json", "passes over the clip, each from a fresh track")
    parser.add_argument("--threads", type=int, default=1,
                        help="ONNX Runtime intra-op threads per model run (RuntimeOptions.intra_op_threads; "
                             "MediaPipe's desktop graphs run TFLite on 1)")
    args = harness.parse_lockstep_args(parser)
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, got {args.threads}")

    clip = harness.make_clip(STILLS, args.frames_per_still, drift_px=40)
    result: dict = {"benchmark": "face_tracking_1280x720", "frames": len(clip), "rounds": args.rounds,
                    "method": "lockstep: each frame by arlens, then by each peer graph",
                    "intra_op_threads": args.threads, "meta": harness.metadata()}
    tasks = ("face_mesh_refined", "face_mesh") if args.peer_python else ()
    totals, stages, found = [], [], 0
    peer_ms: dict[str, list[float]] = {task: [] for task in tasks}
    peer_found = dict.fromkeys(tasks, 0)
    runtime = arlens.RuntimeOptions(intra_op_threads=args.threads)
    with arlens.FaceTracker(runtime=runtime) as tracker, contextlib.ExitStack() as stack:
        peers = {task: stack.enter_context(harness.PeerServer(args.peer_python, clip, task)) for task in tasks}
        for i, frame in enumerate(clip[:10]):  # warm-up (each peer warmed up on starting)
            tracker.track(frame, i * 33)
        for _ in range(args.rounds):
            tracker.reset()
            for peer in peers.values():
                peer.reset()
            for i, frame in enumerate(clip):
                t0 = time.perf_counter()
                faces = tracker.track(frame, i * 33)
                totals.append((time.perf_counter() - t0) * 1000.0)
                stages.append(tracker.timings)
                found += bool(faces)
                for task, peer in peers.items():
                    ms, hit = peer.process(i)
                    peer_ms[task].append(ms)
                    peer_found[task] += hit
        versions = {task: peer.info["mediapipe"] for task, peer in peers.items()}
    result["arlens"] = {"total": harness.summary(totals), "stages": harness.stage_summaries(stages),
                        "frames_with_face": found, "fps": 1000.0 / harness.median(totals),
                        "peak_rss_mb": harness.peak_rss_mb()}
    harness.print_table(f"arlens FaceTracker, video mode, {len(clip)} frames 1280x720 x {args.rounds} rounds "
                        f"({found} with a face), {args.threads} ORT thread(s)",
                        {**result["arlens"]["stages"], "total": result["arlens"]["total"]})
    for task in tasks:
        ratios = np.asarray(totals) / np.asarray(peer_ms[task])
        result[f"peer_{task}"] = {"total": harness.summary(peer_ms[task]), "mediapipe": versions[task],
                                  "frames_with_face": peer_found[task],
                                  "ratio_median_pairwise": float(np.median(ratios)),
                                  "ratio_of_medians": harness.median(totals) / harness.median(peer_ms[task])}
        s = result[f"peer_{task}"]
        print(f"\nMediaPipe {s['mediapipe']} {task}: median {s['total']['median_ms']:.2f} ms, "
              f"p95 {s['total']['p95_ms']:.2f} ms; arlens/peer pairwise median ratio "
              f"{s['ratio_median_pairwise']:.2f}, ratio of medians {s['ratio_of_medians']:.2f}")
    harness.write_json(args.out, result)
    bars = {f"arlens {k}": v for k, v in result["arlens"]["stages"].items()}
    bars["arlens total"] = result["arlens"]["total"]
    for task in tasks:
        bars[f"MediaPipe {task}"] = result[f"peer_{task}"]["total"]
    plot = harness.write_plot(args.out.with_suffix(".png"), "Face tracking, 1280x720, video mode", bars)
    print(f"\nwrote {args.out}" + (f" and {plot}" if plot else ""))


if __name__ == "__main__":
    main()
