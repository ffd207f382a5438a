#!/usr/bin/env python3
"""Jitter and lag of FaceTracker's video mode: what the One Euro smoothing buys and what it costs.

- **Jitter**: a still face (each shared still pasted into a 1280x720 frame at 40 and 120 px
  inter-ocular distance) with fresh Gaussian sensor noise on every frame (sigma 2 and 4 grey levels),
  tracked for 90 frames; jitter is the mean frame-to-frame movement of the 478 landmarks after the
  first 10 frames, in % of the inter-ocular distance (IOD). A perfectly still result is 0.
- **Lag**: the same faces panned sideways at a constant, known speed (whole pixels a frame, so no
  resampling), then stopped. The truth is the landmarks found on the first frame (``detect``), shifted
  by the known offset. Lag is the mean along-motion offset of the tracked landmarks behind the truth
  during the steady pan, in frames (offset / speed) and milliseconds at 30 fps, and the mean distance
  to the truth there in % IOD; ``settle`` is how many frames after the stop the landmarks take to come
  within 0.5% IOD of where they come to rest.

Each is measured with the default smoothing and with smoothing off (the model's own noise and lag),
in the same run. Only the public API is used.

    python benchmarks/bench_jitter_lag.py [--out results/jitter_lag.json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from kiosk_scenes import STILL_GEOMETRY, Placement, scene  # noqa: E402

import arlens  # noqa: E402

FPS = 30.0
SETTINGS = {"smoothed": arlens.OneEuroOptions(), "raw": arlens.OneEuroOptions(enabled=False)}


def read_stills() -> dict[str, np.ndarray]:
    import cv2

    stills = {}
    for name in STILL_GEOMETRY:
        image = cv2.imread(str(harness.TESTDATA / "faces" / name))
        if image is None:
            raise SystemExit(f"cannot read {harness.TESTDATA / 'faces' / name} (set ARLENS_TESTDATA)")
        stills[name] = image
    return stills


def jitter(stills, still: str, iod: float, sigma: float, smoothing, frames: int = 90) -> float:
    base = scene([Placement(still, iod, (640.0, 360.0))], stills).astype(np.float32)
    rng = np.random.default_rng(3)
    moves, prev = [], None
    with arlens.FaceTracker(smoothing=smoothing) as tracker:
        for i in range(frames):
            noisy = np.clip(base + rng.normal(0, sigma, base.shape), 0, 255).astype(np.uint8)
            faces = tracker.track(noisy, i * 1000.0 / FPS)
            if not faces:
                prev = None
                continue
            points = faces[0].landmarks[:, :2]
            if prev is not None and i >= 10:
                moves.append(np.linalg.norm(points - prev, axis=1).mean() / iod)
            prev = points
    return float(np.mean(moves)) * 100 if moves else float("nan")


def lag(stills, still: str, iod: float, speed: int, smoothing, pan: int = 40, rest: int = 20) -> dict[str, float]:
    """Pan right at ``speed`` px/frame for ``pan`` frames (after 10 still ones), then stop for ``rest``."""
    start = 640.0 - speed * pan / 2
    offsets = [0] * 10 + [speed * k for k in range(1, pan + 1)] + [speed * pan] * rest
    with arlens.FaceTracker() as still_tracker:
        truth0 = still_tracker.detect(scene([Placement(still, iod, (start, 360.0))], stills))[0].landmarks[:, :2]
    along, dist, tracked = [], [], []
    with arlens.FaceTracker(smoothing=smoothing) as tracker:
        for i, dx in enumerate(offsets):
            faces = tracker.track(scene([Placement(still, iod, (start + dx, 360.0))], stills), i * 1000.0 / FPS)
            points = faces[0].landmarks[:, :2] if faces else np.full_like(truth0, np.nan)
            tracked.append(points)
            err = points - (truth0 + [dx, 0.0])
            along.append(float(np.mean(err[:, 0])))
            dist.append(float(np.linalg.norm(err, axis=1).mean()))
    steady = slice(10 + 10, 10 + pan)  # the pan's second to last frame, past the filter's start-up
    behind = -np.nanmean(along[steady])  # px behind the truth along the motion
    resting = tracked[-1]
    after = [np.linalg.norm(p - resting, axis=1).mean() / iod for p in tracked[10 + pan :]]
    settle = next((k for k, e in enumerate(after) if np.all(np.asarray(after[k:]) <= 0.005)), len(after))
    return {"lag_frames": behind / speed, "lag_ms": behind / speed * 1000.0 / FPS,
            "error_pct_iod": float(np.nanmean(dist[steady])) / iod * 100, "settle_frames": settle,
            "frames_without_face": int(sum(np.isnan(p).any() for p in tracked))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "jitter_lag.json")
    args = parser.parse_args()
    stills = read_stills()
    result: dict = {"benchmark": "face_jitter_lag_1280x720", "fps": FPS, "meta": harness.metadata(),
                    "jitter_pct_iod": {}, "lag": {}}
    print(f"\nJitter: still face + sensor noise, mean landmark movement per frame, % IOD "
          f"({', '.join(SETTINGS)})")
    for iod in (40.0, 120.0):
        for sigma in (2.0, 4.0):
            row = {name: [jitter(stills, s, iod, sigma, opts) for s in STILL_GEOMETRY]
                   for name, opts in SETTINGS.items()}
            result["jitter_pct_iod"][f"iod{iod:g}_sigma{sigma:g}"] = {k: float(np.median(v)) for k, v in row.items()}
            print(f"  IOD {iod:>4g} px, noise sigma {sigma:g}: " + ", ".join(
                f"{k} {np.median(v):.3f} (stills {', '.join(f'{x:.3f}' for x in v)})" for k, v in row.items()))
    print("\nLag: constant pan then stop; median over the stills (IOD 120 px)")
    print(f"  {'speed':>22} {'setting':>9} {'lag frames':>11} {'lag ms':>8} {'error % IOD':>12} {'settle':>7}")
    for speed in (2, 6, 12, 24):
        for name, opts in SETTINGS.items():
            runs = [lag(stills, s, 120.0, speed, opts) for s in STILL_GEOMETRY]
            med = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
            result["lag"][f"speed{speed}_{name}"] = {**med, "speed_px_per_frame": speed,
                                                     "speed_pct_iod_per_frame": speed / 120.0 * 100}
            print(f"  {speed:>3} px/frame ({speed / 1.2:4.1f}% IOD) {name:>9} {med['lag_frames']:>11.2f} "
                  f"{med['lag_ms']:>8.1f} {med['error_pct_iod']:>12.2f} {med['settle_frames']:>7.0f}"
                  + (f"  ({med['frames_without_face']:.0f} frames without a face)"
                     if med["frames_without_face"] else ""))
    harness.write_json(args.out, result)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
