#!/usr/bin/env python3
"""The nail polish lens's and the hand tracker's per-frame cost, in lockstep against a baseline revision.

``nails``: ``NailPolishLens.render_into`` (NAIL-201's shade and finish) with a fresh scene of the frame each
call (no faces: the hand's light is its own neighbourhood's; the scene's hand masks are computed for the
lens, as in a kiosk frame where the nails are the only hand lens), on

- ``kiosk``: bench_kiosk's clip (three portraits at 1280x720 with ``pointing.jpg`` cut out and pasted beside
  the face, bobbing), its hands tracked once by today's HandTracker (TryOn's palm search cadence), and
- the still hands at their own size with the reference landmarks: ``pointing`` (palm first, curled fingers'
  nails to the camera, old red polish), ``back`` (``open_palm`` labelled as the back of the hand: five
  nails) and ``deep`` (``pointing`` darkened to a deep skin tone: per-channel gains on its pixels).

Each call is timed in CPU time (``time.process_time``: OpenCV's threads count) and wall time. With
``--baseline-rev REV`` REV's ``arlens`` (extracted to a temporary folder and imported as ``arlens_baseline``)
draws the same frames with the same hands, alternating which goes first; the renders are compared (identical,
or how far they moved: pixels changed, mean / p99 / max level difference over them) and the printed ratio is
baseline / today of the median CPU milliseconds per hand.

``tracking``: ``HandTracker.track`` (``search_interval=3``, TryOn's default) over the kiosk clip, today's and the
baseline's trackers in lockstep from fresh tracks, CPU and wall milliseconds a frame and the largest landmark
difference between the two (pixels).

``tryon``: bench_kiosk's ``process`` variant (``TryOn`` with LIP-001, EYE-101 and NAIL-201 on the kiosk clip, its
faces and hands tracked) of today and of the baseline in lockstep, CPU and wall ms a frame and their ratios.

``--profile N`` runs today's lens over the kiosk frames N times under cProfile and prints the top entries;
``--save-renders DIR`` writes today's (and the baseline's) renders of the stills and of one kiosk frame as PNGs.

    python benchmarks/bench_nails.py [--baseline-rev 1123d1a] [--rounds 3] [--parts nails,tracking,tryon]
        [--frames-per-still 60] [--profile 0] [--save-renders /tmp/nails] [--out results/nails.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

import arlens  # noqa: E402

ROOT = harness.ROOT
REFERENCE = harness.TESTDATA.parent / "reference"
KIOSK_STILLS = ("faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png")
PRODUCT = "NAIL-201"
#: sRGB gains that turn pointing.jpg's light skin deep (B, G, R).
DEEP_GAINS = (0.20, 0.28, 0.42)
PARTS = ("nails", "tracking", "tryon")
KIOSK_PRODUCTS = ("LIP-001", "EYE-101", "NAIL-201")


class Package:
    """One arlens (today's, or a baseline revision's imported as ``arlens_baseline``): its scene, hand class,
    the nail lens for :data:`PRODUCT` and a hand tracker factory."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.scene = importlib.import_module(f"{name}.scene")
        self.results = importlib.import_module(f"{name}.tracking.results")
        self.hand_module = importlib.import_module(f"{name}.tracking.hand")
        catalog = importlib.import_module(f"{name}.catalog").Catalog.default()
        nails = importlib.import_module(f"{name}.lenses.nails")
        self.lens = nails.NailPolishLens.from_product(catalog[PRODUCT])
        self.module = importlib.import_module(name)

    def hands(self, hands: list) -> list:
        """``hands`` (today's Hand values) as this package's Hand values."""
        return [self.results.Hand(**{f.name: getattr(h, f.name) for f in dataclasses.fields(h)}) for h in hands]

    def tracker(self):
        return self.hand_module.HandTracker(search_interval=3)


def baseline_package(rev: str) -> Package:
    """Git revision ``rev``'s ``arlens`` as ``arlens_baseline`` (today's models and assets beside it)."""
    harness.baseline_tree(rev, link=("assets", "models"))
    return Package("arlens_baseline")


def reference_hands(stem: str) -> list[arlens.Hand]:
    ref = np.load(REFERENCE / f"{stem}.npz")
    return [arlens.Hand(ref["hands"][0, k], str(ref["handedness"][0, k]), 1.0,
                        arlens.tracking.results.bbox_of(ref["hands"][0, k])) for k in range(int(ref["hands_found"][0]))]


def still_scenes() -> dict[str, tuple[np.ndarray, list[arlens.Hand]]]:
    pointing = cv2.imread(str(harness.TESTDATA / "hands" / "pointing.jpg"))
    palm = cv2.imread(str(harness.TESTDATA / "hands" / "open_palm.jpg"))
    if pointing is None or palm is None:
        raise SystemExit(f"cannot read the hand stills under {harness.TESTDATA / 'hands'} (set ARLENS_TESTDATA)")
    back = [dataclasses.replace(h, handedness="Right") for h in reference_hands("open_palm")]
    deep = np.clip(pointing.astype(np.float32) * np.float32(DEEP_GAINS), 0, 255).astype(np.uint8)
    return {"pointing": (pointing, reference_hands("pointing")), "back": (palm, back),
            "deep": (deep, reference_hands("pointing"))}


def kiosk_frames(frames_per_still: int) -> list[tuple[np.ndarray, list[arlens.Hand]]]:
    clip = harness.make_face_hand_clip(KIOSK_STILLS, frames_per_still)
    with arlens.HandTracker(search_interval=3) as tracker:
        return [(frame, tracker.track(frame, (i + 1) * 33)) for i, frame in enumerate(clip)]


def _render(pkg: Package, frame: np.ndarray, hands: list) -> tuple[np.ndarray, float, float]:
    out = frame.copy()
    scene = pkg.scene.Scene(frame, (), hands)
    t, c = time.perf_counter(), time.process_time()
    pkg.lens.render_into(out, hands, scene)
    return out, (time.process_time() - c) * 1e3, (time.perf_counter() - t) * 1e3


def moved(a: np.ndarray, b: np.ndarray) -> dict:
    """How far render ``b`` moved from ``a``: pixels changed and the level differences over them."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
    changed = diff[diff > 0]
    if changed.size == 0:
        return {"pixels": 0}
    return {"pixels": int(changed.size), "mean": float(changed.mean()), "p99": float(np.percentile(changed, 99)),
            "max": int(changed.max())}


def bench_nails(packages: list[Package], kiosk: list, stills: dict, rounds: int, save: Path | None) -> dict:
    items = [("kiosk", f, h) for f, h in kiosk if h] + [(n, f, h) for n, (f, h) in stills.items()] * rounds
    cpu: dict[str, dict[str, list[float]]] = {p.name: {} for p in packages}
    wall: dict[str, dict[str, list[float]]] = {p.name: {} for p in packages}
    diffs: dict[str, list[dict]] = {}
    for pkg in packages:  # warm-up
        for _, frame, hands in items[:5]:
            _render(pkg, frame, pkg.hands(hands))
    saved: set[str] = set()
    for k, (name, frame, hands) in enumerate(items):
        renders = {}
        for pkg in packages if k % 2 == 0 else packages[::-1]:
            out, c, w = _render(pkg, frame, pkg.hands(hands))
            renders[pkg.name] = out
            cpu[pkg.name].setdefault(name, []).append(c / len(hands))
            wall[pkg.name].setdefault(name, []).append(w / len(hands))
        if len(packages) > 1:
            diffs.setdefault(name, []).append(moved(renders[packages[1].name], renders[packages[0].name]))
        if save is not None and name not in saved and (name != "kiosk" or k >= 40):
            saved.add(name)
            for pkg_name, out in renders.items():
                cv2.imwrite(str(save / f"{name}-{pkg_name}.png"), out)
    result: dict = {}
    for name in dict.fromkeys(n for n, _, _ in items):
        row = {p.name: {"cpu_ms_per_hand": float(np.median(cpu[p.name][name])),
                        "cpu_p95": float(np.percentile(cpu[p.name][name], 95)),
                        "wall_ms_per_hand": float(np.median(wall[p.name][name])),
                        "calls": len(cpu[p.name][name])} for p in packages}
        if len(packages) > 1:
            a, b = packages[0].name, packages[1].name
            row["ratio_baseline_over_today"] = float(np.median(np.asarray(cpu[b][name]) / np.asarray(cpu[a][name])))
            moves = [d for d in diffs[name] if d["pixels"]]
            row["renders_identical"] = f"{len(diffs[name]) - len(moves)}/{len(diffs[name])}"
            if moves:
                row["moved"] = {"pixels_max": max(d["pixels"] for d in moves),
                                "mean_max": max(d["mean"] for d in moves), "p99_max": max(d["p99"] for d in moves),
                                "max": max(d["max"] for d in moves)}
        result[name] = row
    return result


def bench_tracking(packages: list[Package], frames_per_still: int, rounds: int) -> dict:
    clip = harness.make_face_hand_clip(KIOSK_STILLS, frames_per_still)
    trackers = {p.name: p.tracker() for p in packages}
    cpu: dict[str, list[float]] = {p.name: [] for p in packages}
    wall: dict[str, list[float]] = {p.name: [] for p in packages}
    worst = 0.0
    try:
        for tr in trackers.values():
            for i, frame in enumerate(clip[:10]):
                tr.track(frame, (i + 1) * 33)
        for _ in range(rounds):
            for tr in trackers.values():
                tr.reset()
            for i, frame in enumerate(clip):
                found = {}
                for pkg in packages if i % 2 == 0 else packages[::-1]:
                    t, c = time.perf_counter(), time.process_time()
                    found[pkg.name] = trackers[pkg.name].track(frame, (i + 1) * 33)
                    cpu[pkg.name].append((time.process_time() - c) * 1e3)
                    wall[pkg.name].append((time.perf_counter() - t) * 1e3)
                if len(packages) > 1:
                    a, b = (found[p.name] for p in packages[:2])
                    if len(a) != len(b):
                        worst = float("inf")
                    for ha, hb in zip(a, b, strict=False):
                        worst = max(worst, float(np.abs(ha.landmarks - hb.landmarks).max()))
    finally:
        for tr in trackers.values():
            tr.close()
    result = {p.name: {"cpu_ms": float(np.median(cpu[p.name])), "cpu_p95": float(np.percentile(cpu[p.name], 95)),
                       "wall_ms": float(np.median(wall[p.name])), "frames": len(cpu[p.name])} for p in packages}
    if len(packages) > 1:
        a, b = packages[0].name, packages[1].name
        result["ratio_baseline_over_today"] = float(np.median(np.asarray(cpu[b]) / np.asarray(cpu[a])))
        result["landmarks_max_diff_px"] = worst
    return result


def bench_tryon(packages: list[Package], frames_per_still: int, rounds: int) -> dict:
    """bench_kiosk's ``process`` (TryOn with a lipstick, glasses and a nail polish, face and hand tracked) of each
    package on the same frames, in lockstep (the order turning round every frame): CPU and wall ms a frame."""
    clip = harness.make_face_hand_clip(KIOSK_STILLS, frames_per_still)
    sessions = {p.name: p.module.TryOn(products=list(KIOSK_PRODUCTS),
                                       options=p.module.TryOnOptions(event_delivery="inline")) for p in packages}
    cpu: dict[str, list[float]] = {p.name: [] for p in packages}
    wall: dict[str, list[float]] = {p.name: [] for p in packages}
    try:
        for s in sessions.values():
            for i, frame in enumerate(clip[:10]):
                s.process(frame, (i + 1) * 33.0)
        t0 = 20 * 33.0
        for r in range(rounds):
            for i, frame in enumerate(clip):
                ts = t0 + (r * len(clip) + i) * 33.0
                for pkg in packages if i % 2 == 0 else packages[::-1]:
                    t, c = time.perf_counter(), time.process_time()
                    sessions[pkg.name].process(frame, ts)
                    cpu[pkg.name].append((time.process_time() - c) * 1e3)
                    wall[pkg.name].append((time.perf_counter() - t) * 1e3)
    finally:
        for s in sessions.values():
            s.close()
    result = {p.name: {"cpu_ms": float(np.median(cpu[p.name])), "wall_ms": float(np.median(wall[p.name])),
                       "wall_p95": float(np.percentile(wall[p.name], 95)), "frames": len(cpu[p.name])}
              for p in packages}
    if len(packages) > 1:
        a, b = packages[0].name, packages[1].name
        result["cpu_ratio_baseline_over_today"] = float(np.median(np.asarray(cpu[b]) / np.asarray(cpu[a])))
        result["wall_ratio_baseline_over_today"] = float(np.median(np.asarray(wall[b]) / np.asarray(wall[a])))
    return result


def profile(pkg: Package, kiosk: list, runs: int) -> None:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    frames = [(f, h) for f, h in kiosk if h]
    prof.enable()
    for _ in range(runs):
        for frame, hands in frames:
            _render(pkg, frame, hands)
    prof.disable()
    print(f"\nprofile: {runs} x {len(frames)} kiosk frames")
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-rev", help="git revision to compare with, in lockstep")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the stills (and the clip, tracking)")
    parser.add_argument("--frames-per-still", type=int, default=60)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--profile", type=int, default=0, help="cProfile today's lens over the kiosk frames N times")
    parser.add_argument("--save-renders", type=Path, help="folder for the renders as PNG")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = harness.parse_lockstep_args(parser)
    parts = [p for p in args.parts.split(",") if p]
    if not parts or set(parts) - set(PARTS):
        parser.error(f"--parts: expected some of {', '.join(PARTS)}, got {args.parts!r}")
    packages = [Package("arlens")]
    if args.baseline_rev:
        packages.append(baseline_package(args.baseline_rev))
    if args.save_renders is not None:
        args.save_renders.mkdir(parents=True, exist_ok=True)
    result: dict = {"metadata": harness.metadata()}
    print(f"load average {result['metadata']['load_average']}")
    if "nails" in parts or args.profile:
        kiosk = kiosk_frames(args.frames_per_still)
    if "nails" in parts:
        result["nails"] = bench_nails(packages, kiosk, still_scenes(), args.rounds, args.save_renders)
        print("nails: CPU ms per hand (median, p95), wall ms per hand")
        for name, row in result["nails"].items():
            cols = "  ".join(f"{p.name} {row[p.name]['cpu_ms_per_hand']:.2f} ({row[p.name]['cpu_p95']:.2f}) "
                             f"wall {row[p.name]['wall_ms_per_hand']:.2f}" for p in packages)
            extra = ""
            if len(packages) > 1:
                extra = f"  baseline/today {row['ratio_baseline_over_today']:.2f}  identical {row['renders_identical']}"
                if "moved" in row:
                    extra += f"  moved {row['moved']}"
            print(f"  {name:9s} n={row['arlens']['calls']:4d}  {cols}{extra}")
    if "tracking" in parts:
        result["tracking"] = r = bench_tracking(packages, args.frames_per_still, args.rounds)
        cols = "  ".join(f"{p.name} {r[p.name]['cpu_ms']:.2f} ({r[p.name]['cpu_p95']:.2f}) "
                         f"wall {r[p.name]['wall_ms']:.2f}" for p in packages)
        extra = ""
        if len(packages) > 1:
            extra = (f"  baseline/today {r['ratio_baseline_over_today']:.2f}  "
                     f"landmarks max diff {r['landmarks_max_diff_px']:.3g} px")
        print(f"tracking: CPU ms a frame (median, p95)  {cols}{extra}")
    if "tryon" in parts:
        result["tryon"] = r = bench_tryon(packages, args.frames_per_still, args.rounds)
        cols = "  ".join(f"{p.name} {r[p.name]['cpu_ms']:.2f} wall {r[p.name]['wall_ms']:.2f} "
                         f"(p95 {r[p.name]['wall_p95']:.2f})" for p in packages)
        extra = ""
        if len(packages) > 1:
            extra = (f"  baseline/today CPU {r['cpu_ratio_baseline_over_today']:.3f} "
                     f"wall {r['wall_ratio_baseline_over_today']:.3f}")
        print(f"tryon (process): ms a frame (median)  {cols}{extra}")
    if args.profile:
        profile(packages[0], kiosk, args.profile)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
