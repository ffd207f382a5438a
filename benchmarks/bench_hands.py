#!/usr/bin/env python3
"""Hand tracking speed at 1280x720: per-stage milliseconds, tracking and detection-every-frame modes,
and the ratio to MediaPipe's legacy Hands graph on the same frames in the same run. In tracking mode arlens
runs twice on every frame, in turn: as it is by default and with ``parallel_search`` (the palm detector on a
thread of its own while the tracked hands' landmarks are computed).

The clip is the hand stills scaled to 720 px high on a grey canvas, drifting sideways. With
``--peer-python`` MediaPipe's Hands (``static_image_mode`` False for tracking, True for detection every
frame) runs in lockstep, as in bench_face: frame i by arlens, then by the peer (``peer_mediapipe.py``
in its own venv, timed there), so each pair is taken milliseconds apart however the shared machine's
speed drifts.

``second`` (``--second-segments`` > 0): what a longer palm search interval while one hand is tracked
(``HandTrackerOptions.search_interval_tracking``) saves and what it costs: one hand (``pointing.jpg`` cut out
of its black background) stays in view on the right of the frame, and a second (``open_palm.jpg``) comes into
view on the left again and again, for 8 frames after 6 to 11 without it (every phase of the cadence). The
trackers (``search_interval=3``, TryOn's default, and each interval while tracking) run on the same frames,
interleaved. Printed per interval: frames from the second hand's first frame to the first result with it
(mean, max; 0 = at once) and the tracker's milliseconds a frame with one hand in view (mean, median, p95).

    python benchmarks/bench_hands.py [--peer-python /tmp/mpref/bin/python] [--rounds 2]
        [--second-segments 24] [--out results/hands.json]
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


def run_mode(clip: np.ndarray, still: bool, task: str, rounds: int, peer_python: str | None,
             variants: dict[str, arlens.HandTrackerOptions] | None = None) -> dict:
    """arlens (and the peer, when given) over ``clip`` ``rounds`` times, each pass from a fresh track.

    ``variants``: name -> tracker options, each run on every frame (in an order that turns round from
    frame to frame) before the peer; the first is the entry's own figures, the others go under "variants"
    with their pairwise median ratio to the first."""
    variants = variants or {"arlens": arlens.HandTrackerOptions()}
    names = list(variants)
    totals: dict[str, list[float]] = {n: [] for n in names}
    stages: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    peer_ms: list[float] = []
    found = dict.fromkeys(names, 0)
    peer_found = 0
    with contextlib.ExitStack() as stack:
        trackers = {n: stack.enter_context(arlens.HandTracker(o)) for n, o in variants.items()}
        peer = stack.enter_context(harness.PeerServer(peer_python, clip, task)) if peer_python else None
        for tracker in trackers.values():
            for i, frame in enumerate(clip[:10]):  # warm-up (the peer warms up on starting)
                tracker.detect(frame) if still else tracker.track(frame, i * 33)
        for _ in range(rounds):
            for tracker in trackers.values():
                tracker.reset()
            if peer is not None:
                peer.reset()
            for i, frame in enumerate(clip):
                for n in (names if i % 2 == 0 else names[::-1]):
                    tracker = trackers[n]
                    t0 = time.perf_counter()
                    hands = tracker.detect(frame) if still else tracker.track(frame, i * 33)
                    totals[n].append((time.perf_counter() - t0) * 1000.0)
                    stages[n].append(tracker.timings)
                    found[n] += bool(hands)
                if peer is not None:
                    ms, hit = peer.process(i)
                    peer_ms.append(ms)
                    peer_found += hit
        version = peer.info["mediapipe"] if peer is not None else None

    def entry_of(n: str) -> dict:
        entry: dict = {"total": harness.summary(totals[n]), "stages": harness.stage_summaries(stages[n]),
                       "frames_with_hand": found[n], "fps": 1000.0 / harness.median(totals[n])}
        if peer_python:
            entry["ratio_to_peer_median_pairwise"] = float(np.median(np.asarray(totals[n]) / np.asarray(peer_ms)))
        if n != names[0]:
            entry["ratio_to_first_median_pairwise"] = float(np.median(np.asarray(totals[n])
                                                                      / np.asarray(totals[names[0]])))
        return entry

    entry = entry_of(names[0])
    if len(names) > 1:
        entry["variants"] = {n: entry_of(n) for n in names[1:]}
    if peer_python:
        ratios = np.asarray(totals[names[0]]) / np.asarray(peer_ms)
        entry["peer"] = {"task": task, "total": harness.summary(peer_ms), "mediapipe": version,
                         "frames_with_hand": peer_found, "ratio_median_pairwise": float(np.median(ratios)),
                         "ratio_of_medians": harness.median(totals[names[0]]) / harness.median(peer_ms)}
    return entry


def _hand_cutout(rel: str, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The hand photo ``rel`` cut out of its black background, ``height`` pixels tall: colour and matte."""
    import cv2
    from hard_scenes import cutout

    photo = cv2.imread(str(harness.TESTDATA / rel))
    if photo is None:
        raise SystemExit(f"cannot read {harness.TESTDATA / rel} (set ARLENS_TESTDATA)")
    matte = cutout(photo)
    ys, xs = np.nonzero(matte > 0.05)
    tight = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    size = (round(photo[tight].shape[1] * height / photo[tight].shape[0]), height)
    return (cv2.resize(photo[tight], size, interpolation=cv2.INTER_AREA).astype(np.float32),
            cv2.resize(matte[tight], size, interpolation=cv2.INTER_AREA)[..., None])


def _paste(frame: np.ndarray, hand: tuple[np.ndarray, np.ndarray], x: int, y: int) -> None:
    photo, alpha = hand
    h, w = photo.shape[:2]
    region = frame[y : y + h, x : x + w].astype(np.float32)
    frame[y : y + h, x : x + w] = np.rint(photo * alpha + region * (1 - alpha)).astype(np.uint8)


def run_second(segments: int, intervals: tuple[int, ...] = (3, 6, 9)) -> dict:
    """A second hand coming into view while one is tracked: pickup delay and cost per interval while tracking."""
    first, second = _hand_cutout("hands/pointing.jpg", 380), _hand_cutout("hands/open_palm.jpg", 380)

    def frame(i: int, with_second: bool) -> np.ndarray:
        out = np.full((720, 1280, 3), 96, np.uint8)
        _paste(out, first, 1280 - first[0].shape[1] - 60 + round(30 * np.sin(i / 6)), 300 + round(20 * np.cos(i / 5)))
        if with_second:
            _paste(out, second, 60 + round(30 * np.sin(i / 7)), 300 + round(20 * np.cos(i / 4)))
        return out

    trackers = {k: arlens.HandTracker(search_interval=3, search_interval_tracking=k) for k in intervals}
    delays: dict[int, list[int | None]] = {k: [] for k in intervals}
    cost: dict[int, list[float]] = {k: [] for k in intervals}
    try:
        ts, n = 0.0, 0
        for _ in range(3):  # the first hand is found and tracked before the second ever comes
            ts += 33.0
            for tracker in trackers.values():
                tracker.track(frame(n, False), ts)
            n += 1
        for seg in range(segments):
            empty = 6 + seg % 6
            seen: dict[int, int | None] = {k: None for k in intervals}
            for i in range(empty + 8):
                image, ts, n = frame(n, i >= empty), ts + 33.0, n + 1
                for k in (intervals if i % 2 else intervals[::-1]):
                    t0 = time.thread_time()
                    hands = trackers[k].track(image, ts)
                    if i < empty:
                        cost[k].append((time.thread_time() - t0) * 1000.0)
                    if i >= empty and seen[k] is None and len(hands) >= 2:
                        seen[k] = i - empty
            for k in intervals:
                delays[k].append(seen[k])
    finally:
        for tracker in trackers.values():
            tracker.close()
    return {"segments": segments, "search_interval": 3, "intervals_tracking": {
        k: {**harness.pickup_summary(delays[k], 8), "cpu_ms_one_hand": harness.summary(cost[k])}
        for k in intervals}}


def report_second(r: dict) -> None:
    print(f"\nsecond hand: one hand tracked, a second comes into view {r['segments']} times (search_interval "
          f"{r['search_interval']}; CPU time of the tracker's thread)")
    print(f"  {'interval while tracking':<25}{'delay mean':>11}{'max':>5}{'missed':>8}   ms a frame with one hand: "
          "mean, median, p95")
    for k, e in r["intervals_tracking"].items():
        c = e["cpu_ms_one_hand"]
        print(f"  {k:<25}{e['delay_frames_mean']:>11.2f}{e['delay_frames_max']:>5d}{e['missed']:>8d}   "
              f"{c['mean_ms']:.2f}, {c['median_ms']:.2f}, {c['p95_ms']:.2f}")
    print("  (delay: frames after the second hand's first frame until a result has both; 33 ms each at 30 fps)")


def main() -> None:
    parser = harness.lockstep_parser(__doc__, "hands.json", "passes over the clip per mode, each from a fresh track")
    parser.add_argument("--second-segments", type=int, default=24,
                        help="times a second hand comes into view (0: skip that part)")
    parser.add_argument("--modes", default="tracking,detect_every_frame",
                        help="comma-separated lockstep modes, of tracking, detect_every_frame (empty: none)")
    args = harness.parse_lockstep_args(parser)
    clip = harness.make_clip(STILLS, args.frames_per_still, drift_px=60)
    result: dict = {"benchmark": "hand_tracking_1280x720", "frames": len(clip), "rounds": args.rounds,
                    "method": "lockstep: each frame by arlens, then by the peer graph", "meta": harness.metadata()}
    modes = [m for m in MODES if m[0] in args.modes.split(",")]
    for mode, still, task in modes:
        variants = {"arlens": arlens.HandTrackerOptions()}
        if not still:
            variants["arlens parallel_search"] = arlens.HandTrackerOptions(parallel_search=True)
        entry = run_mode(clip, still, task, args.rounds, args.peer_python, variants)
        harness.print_table(f"arlens HandTracker, {mode}, {len(clip)} frames 1280x720 x {args.rounds} rounds "
                            f"({entry['frames_with_hand']} with a hand)", {**entry["stages"], "total": entry["total"]})
        for name, v in entry.get("variants", {}).items():
            t = v["total"]
            peer = v.get("ratio_to_peer_median_pairwise")
            peer_ratio = f", /peer {peer:.2f}" if peer is not None else ""
            print(f"  {name}: median {t['median_ms']:.2f} ms, p95 {t['p95_ms']:.2f}, mean {t['mean_ms']:.2f}; pairwise "
                  f"median ratio to arlens {v['ratio_to_first_median_pairwise']:.2f}{peer_ratio}")
        if "peer" in entry:
            p = entry["peer"]
            print(f"  MediaPipe {p['mediapipe']} Hands ({task}): median {p['total']['median_ms']:.2f} ms, "
                  f"p95 {p['total']['p95_ms']:.2f} ms; arlens/peer pairwise median {p['ratio_median_pairwise']:.2f}, "
                  f"ratio of medians {p['ratio_of_medians']:.2f}")
        result[mode] = entry
    if args.second_segments > 0:
        result["second"] = run_second(args.second_segments)
        report_second(result["second"])
    result["peak_rss_mb"] = harness.peak_rss_mb()
    harness.write_json(args.out, result)
    bars = {}
    for mode, _, _ in modes:
        bars.update({f"{mode} {k}": v for k, v in result[mode]["stages"].items()})
        bars[f"{mode} total"] = result[mode]["total"]
        if "peer" in result[mode]:
            bars[f"MediaPipe {result[mode]['peer']['task']}"] = result[mode]["peer"]["total"]
    plot = harness.write_plot(args.out.with_suffix(".png"), "Hand tracking, 1280x720", bars)
    print(f"\nwrote {args.out}" + (f" and {plot}" if plot else ""))


if __name__ == "__main__":
    main()
