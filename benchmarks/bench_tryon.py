#!/usr/bin/env python3
"""A full try-on frame at 1280x720 (tracking, lipstick, eyewear) against MediaPipe's tracking alone.

Issue #8's second CPU goal: ``TryOn.process`` on a frame, with a lipstick and a pair of glasses on,
should take no more than 1.5 times what MediaPipe's legacy FaceMesh (refine_landmarks=True) takes to
track that frame. The clip is bench_face's (the test stills scaled to 720 px high on a grey canvas,
drifting sideways); with ``--peer-python`` the peer runs in lockstep, frame i by arlens then by the
peer (``peer_mediapipe.py``, timed in its own process), so each pair is taken milliseconds
apart however the shared machine's speed drifts.

    python benchmarks/bench_tryon.py [--peer-python /tmp/mpref/bin/python] [--products LIP-001 EYE-101]
        [--lipstick-backend numpy] [--rounds 2] [--out results/tryon.json]

Reports per-stage medians and p95 (``faces`` tracking, ``render`` all lenses, ``total`` the whole
call), frames per second, peak memory, and the pairwise median ratio total / peer.
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
PEER_TASK = "face_mesh_refined"


def main() -> None:
    parser = harness.lockstep_parser(__doc__, "tryon.json", "passes over the clip, as one stream")
    parser.add_argument("--products", nargs="+", default=["LIP-001", "EYE-101"], help="catalog product ids")
    parser.add_argument("--lipstick-backend", choices=("numpy", "onnx"), default="numpy")
    args = harness.parse_lockstep_args(parser)

    clip = harness.make_clip(STILLS, args.frames_per_still, drift_px=40)
    totals: list[float] = []
    stages: list[dict[str, float]] = []
    peer_ms: list[float] = []
    found = peer_found = 0
    options = arlens.TryOnOptions(lipstick_backend=args.lipstick_backend, event_delivery="inline")
    with arlens.TryOn(products=args.products, options=options) as session, contextlib.ExitStack() as stack:
        peer = stack.enter_context(harness.PeerServer(args.peer_python, clip, PEER_TASK)) if args.peer_python else None
        for i, frame in enumerate(clip[:10]):  # warm-up: models, GL context, lens caches
            session.process(frame, i * 33)
        t_ms = 10 * 33
        for _ in range(args.rounds):  # one stream: the cut back to the first still makes both re-detect
            for i, frame in enumerate(clip):
                t_ms += 33
                t0 = time.perf_counter()
                result = session.process(frame, t_ms)
                totals.append((time.perf_counter() - t0) * 1000.0)
                stages.append(dict(result.timings))
                found += bool(result.faces)
                if peer is not None:
                    ms, hit = peer.process(i)
                    peer_ms.append(ms)
                    peer_found += hit
        version = peer.info["mediapipe"] if peer is not None else None

    result_json: dict = {
        "benchmark": "tryon_1280x720", "frames": len(clip), "rounds": args.rounds, "products": args.products,
        "lipstick_backend": args.lipstick_backend, "method": "lockstep: each frame by arlens, then by the peer",
        "meta": harness.metadata(),
        "arlens": {"total": harness.summary(totals), "stages": harness.stage_summaries(stages),
                   "frames_with_face": found, "fps": 1000.0 / harness.median(totals),
                   "peak_rss_mb": harness.peak_rss_mb()},
    }
    harness.print_table(f"arlens TryOn {' + '.join(args.products)} ({args.lipstick_backend} lipstick), "
                        f"{len(clip)} frames 1280x720 x {args.rounds} rounds ({found} with a face)",
                        {**result_json["arlens"]["stages"], "total": result_json["arlens"]["total"]})
    bars = {f"arlens {k}": v for k, v in result_json["arlens"]["stages"].items()}
    bars["arlens total"] = result_json["arlens"]["total"]
    if peer_ms:
        ratios = np.asarray(totals) / np.asarray(peer_ms)
        tracking = np.asarray([s.get("faces", np.nan) for s in stages]) / np.asarray(peer_ms)
        peer = result_json[f"peer_{PEER_TASK}"] = {
            "total": harness.summary(peer_ms), "mediapipe": version, "frames_with_face": peer_found,
            "ratio_median_pairwise": float(np.median(ratios)),
            "ratio_of_medians": harness.median(totals) / harness.median(peer_ms),
            "tracking_ratio_median_pairwise": float(np.nanmedian(tracking)),
        }
        bars[f"MediaPipe {PEER_TASK}"] = peer["total"]
        print(f"\nMediaPipe {version} {PEER_TASK} (tracking only): median {peer['total']['median_ms']:.2f} ms; "
              f"try-on / peer pairwise median ratio {peer['ratio_median_pairwise']:.2f} (goal <= 1.5), "
              f"ratio of medians {peer['ratio_of_medians']:.2f}; tracking stage alone / peer "
              f"{peer['tracking_ratio_median_pairwise']:.2f}")
    harness.write_json(args.out, result_json)
    plot = harness.write_plot(args.out.with_suffix(".png"), "Try-on frame, 1280x720", bars)
    print(f"\nwrote {args.out}" + (f" and {plot}" if plot else ""))


if __name__ == "__main__":
    main()
