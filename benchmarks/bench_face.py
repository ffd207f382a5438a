#!/usr/bin/env python3
"""Face tracking speed at 1280x720: per-stage milliseconds, and the ratio to MediaPipe's own graph.

Three cases, each tracked in video mode by arlens and, when ``--peer-python`` names an interpreter with
``mediapipe==0.10.21``, by MediaPipe's legacy FaceMesh on the same frames, in lockstep: frame i by each
arlens variant, then by each peer graph (``peer_mediapipe.py`` in the peer's venv, timed there), so each
pair is taken milliseconds apart however the shared machine's speed drifts.

- ``clip``: the test stills each scaled to the frame height on a grey canvas, drifting sideways (faces of
  85-245 px inter-ocular distance). arlens with its defaults, and with ``like_mediapipe()`` (Google's
  loop: short-range detector only, no crop corrections), against FaceMesh refine_landmarks=True and
  False. The tracking ratio to the peer is measured here. ``--clip-variants`` picks the arlens variants:
  ``default``, ``like_mediapipe``, ``lips`` (only the lips refined: what a lipstick reads, ``TryOn`` tracks
  so while one is worn) and ``none`` (no refinement branch: glasses, nails; the attention model's mesh
  alone). Compare ratios between runs with the same number of variants: each variant's model runs warm
  the caches for the next and cool them for the peer (four variants read about 15% lower than two).
- ``turns``: the talking-head GIF (327x300, 69 frames: a fast turn to 35-55 degrees of yaw with the
  head tipped back), arlens with its defaults and with ``like_mediapipe()``: the cost of arlens' crop
  corrections (detections for the turned head, second mesh passes), against FaceMesh refined.
- ``small``: one face at kiosk distance (40 px inter-ocular distance), drifting. Google's FaceMesh
  finds none (its detector runs on every frame); arlens finds it with the full-range detector and then
  tracks it (no detector while tracked).
- ``faces``: one, two and three faces (110 px, side by side, drifting), arlens with ``max_faces=N``
  against FaceMesh ``max_num_faces=N``: the cost of each extra face (arlens runs the mesh on all faces in
  one batched call; MediaPipe runs it once per face); and (``search``) one face with ``max_faces=3``:
  both keep looking for more faces, MediaPipe with its detector on every frame, arlens with the same
  and a full-range tile every third frame.

    python benchmarks/bench_face.py [--peer-python /tmp/mpref/bin/python] [--rounds 2] [--threads 1]
        [--cases clip,turns,small,faces] [--clip-variants default,like_mediapipe] [--out results/face.json]
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from kiosk_scenes import STILL_GEOMETRY, Placement, scene  # noqa: E402

import arlens  # noqa: E402

STILLS = ("faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png")
CASES = ("clip", "turns", "small", "faces")


def drifting(placements: list[Placement], frames: int, stills: dict[str, np.ndarray],
             drift_px: float = 30.0) -> np.ndarray:
    """A (frames, 720, 1280, 3) clip of the scene with every face drifting sideways together."""
    out = []
    for i in range(frames):
        dx = round(drift_px * np.sin(i / 8))
        out.append(scene([Placement(p.still, p.iod, (p.centre[0] + dx, p.centre[1])) for p in placements], stills))
    return np.stack(out)


def lockstep(trackers: dict[str, tuple[arlens.FaceTracker, np.ndarray]], peers: dict[str, harness.PeerServer],
             rounds: int, pairs: list[tuple[str, str]] | None = None) -> dict[str, dict]:
    """Each tracker on its clip (all of one length; a peer has its own), ``rounds`` times from fresh tracks:
    frame i by every tracker, in an order that turns round from frame to frame (so none always runs
    first, after the peers), then by every peer. Ratios are computed for ``pairs`` (arlens, peer)
    (default: every tracker against every peer)."""
    frames = {len(clip) for _, clip in trackers.values()}
    assert len(frames) == 1, "clips of different lengths"
    n = frames.pop()
    totals = {name: [] for name in [*trackers, *peers]}
    stages = {name: [] for name in trackers}
    faces = {name: 0 for name in totals}
    order = list(trackers)
    for tracker, clip in trackers.values():  # warm-up (each peer warmed up on starting)
        for i, frame in enumerate(clip[:10]):
            tracker.track(frame, i * 33)
    for _ in range(rounds):
        for tracker, _ in trackers.values():
            tracker.reset()
        for peer in peers.values():
            peer.reset()
        for i in range(n):
            for name in order[i % len(order):] + order[: i % len(order)]:
                tracker, clip = trackers[name]
                t0 = time.perf_counter()
                found = tracker.track(clip[i], i * 33)
                totals[name].append((time.perf_counter() - t0) * 1000.0)
                stages[name].append(tracker.timings)
                faces[name] += len(found)
            for name, peer in peers.items():
                ms, _ = peer.process(i)
                totals[name].append(ms)
                faces[name] += peer.last_count
    out = {}
    for name, ms in totals.items():
        entry = {"total": harness.summary(ms), "faces_found": faces[name], "frames": len(ms),
                 "faces_per_frame": faces[name] / max(len(ms), 1)}
        if name in stages:
            entry["stages"] = harness.stage_summaries(stages[name])
        out[name] = entry
    for mine, name in pairs if pairs is not None else [(m, p) for p in peers for m in trackers]:
        if name in peers:
            ratios = np.asarray(totals[mine]) / np.asarray(totals[name])
            out[mine].setdefault("vs_peer", {})[name] = {
                "ratio_median_pairwise": float(np.median(ratios)),
                "ratio_of_medians": harness.median(totals[mine]) / harness.median(totals[name])}
    return out


def report(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"  {'':<34}{'median ms':>10}{'p95 ms':>9}{'mean ms':>9}{'faces/frame':>13}")
    for name, r in results.items():
        t = r["total"]
        print(f"  {name:<34}{t['median_ms']:>10.2f}{t['p95_ms']:>9.2f}{t['mean_ms']:>9.2f}"
              f"{r['faces_per_frame']:>13.2f}")
        for stage, s in r.get("stages", {}).items():
            if s.get("n") and s["median_ms"] + s["p95_ms"] > 0:
                print(f"    {stage:<32}{s['median_ms']:>10.2f}{s['p95_ms']:>9.2f}{s['mean_ms']:>9.2f}")
    for name, r in results.items():
        for peer, v in r.get("vs_peer", {}).items():
            print(f"  {name} / {peer}: pairwise median ratio {v['ratio_median_pairwise']:.2f}, "
                  f"ratio of medians {v['ratio_of_medians']:.2f}")


def main() -> None:
    parser = harness.lockstep_parser(__doc__, "face.json", "passes over each clip, each from fresh tracks")
    parser.add_argument("--threads", type=int, default=1,
                        help="ONNX Runtime intra-op threads per model run (RuntimeOptions.intra_op_threads; "
                             "MediaPipe's desktop graphs run TFLite on 1)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--clip-variants", default="default,like_mediapipe",
                        help="clip: arlens variants, comma-separated, of default, like_mediapipe, lips, none")
    args = harness.parse_lockstep_args(parser)
    cases = [c for c in args.cases.split(",") if c]
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, got {args.threads}")
    if not cases or set(cases) - set(CASES):
        parser.error(f"--cases: expected some of {', '.join(CASES)}, got {args.cases!r}")
    clip_variants = [v for v in args.clip_variants.split(",") if v]
    if not clip_variants or set(clip_variants) - {"default", "like_mediapipe", "lips", "none"}:
        parser.error("--clip-variants: expected some of default, like_mediapipe, lips, none, "
                     f"got {args.clip_variants!r}")
    import cv2

    stills = {name: cv2.imread(str(harness.TESTDATA / "faces" / name)) for name in STILL_GEOMETRY}
    runtime = arlens.RuntimeOptions(intra_op_threads=args.threads)
    result: dict = {"benchmark": "face_tracking_1280x720", "rounds": args.rounds, "intra_op_threads": args.threads,
                    "method": "lockstep: each frame by every arlens variant, then by each peer graph",
                    "meta": harness.metadata(), "cases": {}}
    versions = set()

    def run(case: str, clips: dict[str, tuple[arlens.FaceTrackerOptions, np.ndarray]],
            peer_tasks: dict[str, tuple[str, int, np.ndarray]], pairs: list[tuple[str, str]] | None = None) -> dict:
        """Lockstep over arlens variants (name -> options, clip) and peers (name -> task, max faces, clip)."""
        with contextlib.ExitStack() as stack:
            trackers = {name: (stack.enter_context(arlens.FaceTracker(o, runtime=runtime)), clip)
                        for name, (o, clip) in clips.items()}
            peers = {name: stack.enter_context(harness.PeerServer(args.peer_python, clip, task, max_faces=n))
                     for name, (task, n, clip) in peer_tasks.items()} if args.peer_python else {}
            versions.update(p.info["mediapipe"] for p in peers.values())
            out = lockstep(trackers, peers, args.rounds, pairs)
        result["cases"][case] = {"frames": len(next(iter(clips.values()))[1]), **out}
        return out

    if "clip" in cases:
        clip = harness.make_clip(STILLS, args.frames_per_still, drift_px=40)
        options = {"default": ("arlens", arlens.FaceTrackerOptions()),
                   "like_mediapipe": ("arlens like_mediapipe", arlens.FaceTrackerOptions.like_mediapipe()),
                   "lips": ("arlens lips only", arlens.FaceTrackerOptions(refinements=("lips",))),
                   "none": ("arlens no refinement", arlens.FaceTrackerOptions(refinements=()))}
        variants = {options[v][0]: (options[v][1], clip) for v in clip_variants}
        out = run("clip", variants,
                  {"MediaPipe refined": ("face_mesh_refined", 1, clip), "MediaPipe": ("face_mesh", 1, clip)})
        report(f"clip: {len(clip)} frames x {args.rounds} rounds, {args.threads} ORT thread(s)", out)
    if "turns" in cases:
        cap = cv2.VideoCapture(str(harness.TESTDATA / "faces" / "talking_head.gif"))
        gif = []
        while (frame := cap.read()[1]) is not None:
            gif.append(frame)
        clip = np.stack(gif)
        out = run("turns", {"arlens": (arlens.FaceTrackerOptions(), clip),
                            "arlens like_mediapipe": (arlens.FaceTrackerOptions.like_mediapipe(), clip)},
                  {"MediaPipe refined": ("face_mesh_refined", 1, clip)})
        report(f"turns: talking_head.gif, {len(clip)} frames 327x300 x {args.rounds} rounds", out)
    if "small" in cases:
        clip = drifting([Placement("frontal_smile.png", 40.0, (640.0, 360.0))], args.frames_per_still, stills)
        out = run("small", {"arlens": (arlens.FaceTrackerOptions(), clip)},
                  {"MediaPipe refined": ("face_mesh_refined", 1, clip)})
        report(f"small: one face at 40 px inter-ocular distance, {len(clip)} frames x {args.rounds} rounds", out)
    if "faces" in cases:
        row = [Placement("astronaut.png", 110.0, (250.0, 360.0)), Placement("grace_hopper.jpg", 110.0, (640.0, 360.0)),
               Placement("frontal_smile.png", 110.0, (1030.0, 360.0))]
        clips = {n: drifting(row[:n], args.frames_per_still, stills) for n in (1, 2, 3)}
        out = run("faces", {f"arlens {n}": (arlens.FaceTrackerOptions(max_faces=n), clips[n]) for n in clips},
                  {f"MediaPipe refined {n}": ("face_mesh_refined", n, clips[n]) for n in clips},
                  [(f"arlens {n}", f"MediaPipe refined {n}") for n in clips])
        report(f"faces: 1, 2, 3 faces at 110 px (max_faces = the count), {len(clips[1])} frames x {args.rounds} "
               "rounds, all in lockstep", out)
        extra = {}
        for who in ("arlens", "MediaPipe refined"):
            if f"{who} 1" not in out:
                continue
            med = [out[f"{who} {n}"]["total"]["median_ms"] for n in (1, 2, 3)]
            extra[who] = {"median_ms_by_faces": med, "per_extra_face_ms": (med[2] - med[0]) / 2}
            line = f"  {who}: {med[0]:.2f} / {med[1]:.2f} / {med[2]:.2f} ms for 1 / 2 / 3 faces"
            if "stages" in out[f"{who} 1"]:
                mesh = [out[f"{who} {n}"]["stages"]["landmarks"]["median_ms"] for n in (1, 2, 3)]
                extra[who]["landmarks_ms_by_faces"] = mesh
                line += f" (mesh stage {mesh[0]:.2f} / {mesh[1]:.2f} / {mesh[2]:.2f})"
            print(line + f": {extra[who]['per_extra_face_ms']:.2f} ms per extra face")
        result["cases"]["faces_per_extra_face"] = extra
        out = run("search", {"arlens": (arlens.FaceTrackerOptions(max_faces=3), clips[1])},
                  {"MediaPipe refined": ("face_mesh_refined", 3, clips[1])})
        report(f"search: 1 face at 110 px with max_faces=3 (both keep looking for more), {len(clips[1])} frames "
               f"x {args.rounds} rounds", out)
    result["mediapipe"] = sorted(versions)
    harness.write_json(args.out, result)
    if "clip" in result["cases"]:
        c = result["cases"]["clip"]
        bars = {f"arlens {k}": v for k, v in c["arlens"]["stages"].items()}
        bars["arlens total"] = c["arlens"]["total"]
        bars.update({name: c[name]["total"] for name in c if name.startswith("MediaPipe")})
        plot = harness.write_plot(args.out.with_suffix(".png"), "Face tracking, 1280x720, video mode", bars)
        print(f"\nwrote {args.out}" + (f" and {plot}" if plot else ""))
    else:
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
