"""Benchmark the lipstick lens: ms per face at 1280x720, shades per second, and colour accuracy.

Usage:
    python benchmarks/bench_lipstick.py [--runs 200] [--json benchmarks/results/bench_lipstick.json]
        [--providers CPUExecutionProvider] [--compare OLD.json]
        [--baseline-rev 286992c [--baseline-scene] --cv-threads 1 --scene-only]

Each test face is put in a 1280x720 frame at two sizes (a third on request):

- ``fill``: the image scaled so its height fills the frame (as the first version of this benchmark did).
  The faces come out between a far face (astronaut, 61 px between the eyes) and a close-up
  (frontal_smile, 174 px between the eyes, a 170 px wide mouth).
- ``webcam``: the face scaled so its inter-ocular distance (iris centre to iris centre) is 125 px, a
  face at arm's length from a 720p webcam (100-150 px between the eyes, a mouth 80-130 px wide).
- ``far`` (only with ``--scales far``): 40 px between the eyes, a shopper about 1.5 m from a kiosk's 720p
  camera. What the scene layer and the lens cost there, beside ``webcam``, says how much of it grows with the
  face's pixels.

Timings are taken after a warm-up and reported as median and p95 over ``--runs`` calls of the public API:

- ``render``: ``LipstickLens.render(frame, [face])`` for the numpy and the ONNX backends (including the
  one frame copy every call makes, so "per face" is an upper bound for one face);
- ``lens_only``: the same minus a bare ``frame.copy()``, i.e. what the lens adds per face;
- ``batch``: ``render_shades`` with every demo shade in one call, as shades per second (``lens_only``
  there subtracts the time to make the N frames the call returns, which is memory-bound).

``--baseline-rev REV`` adds the scene layer's cost: the lipstick lens of git revision REV (before the
scene existed; 286992c by default) and today's lens with a fresh :class:`arlens.scene.Scene` per call
(light, colour model, refined edges, occluders: everything a frame's scene computes for one face) are
timed interleaved, call by call, on the same frames, with and without a hand near the mouth; the
table gives both medians, their difference (what the scene and the new lens add per face) and ratio.
The faces carry the head pose the FaceTracker fits (as tracked faces do in a session: the scene then
uses it rather than fitting one).

``--baseline-rev REV --baseline-scene`` compares two versions of the scene layer instead: REV's lens gets a fresh
scene of its own per call, with the same hands and pose (REV must have a scene layer).

The ΔE2000 table gives, for each demo shade (at opacity 1) and face, the difference between the
swatch and the median colour of the painted lips. ``--compare`` prints the figures of an earlier JSON
(same keys) beside these. Results go to ``benchmarks/results/`` (git-ignored) unless ``--json`` says.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "demos"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import harness  # noqa: E402
from lipstick_contact_sheet import DEMO_SHADES, load_faces  # noqa: E402

from arlens.landmarks import LEFT_IRIS_CENTER, RIGHT_IRIS_CENTER, lips_outer  # noqa: E402
from arlens.lenses.lipstick import LipstickLens, LipstickOptions  # noqa: E402
from arlens.render import color as C  # noqa: E402
from arlens.render import mask as M  # noqa: E402
from arlens.tracking.results import Face, bbox_of  # noqa: E402

FRAME_W, FRAME_H = 1280, 720
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "bench_lipstick.json"
#: Inter-ocular distance (px) of a face at arm's length from a 720p webcam, for the ``webcam`` size.
WEBCAM_IOD = 125.0
#: Inter-ocular distance (px) of a shopper about 1.5 m from a 720p kiosk camera (a 70-degree lens), for ``far``.
FAR_IOD = 40.0
#: The sizes a face can be framed at (:func:`to_720p`); ``far`` is left out of the default runs.
SCALES = ("fill", "webcam", "far")
DEFAULT_SCALES = ("fill", "webcam")


def inter_ocular(face: Face) -> float:
    """Distance between the iris centres, in pixels."""
    lm = face.landmarks
    return float(np.linalg.norm(lm[RIGHT_IRIS_CENTER, :2] - lm[LEFT_IRIS_CENTER, :2]))


def to_720p(image: np.ndarray, face: Face, scale: str = "fill") -> tuple[np.ndarray, Face]:
    """Scale the image and centre it in a 1280x720 frame; move the landmarks along.

    ``fill``: the image's height fills the frame. ``webcam`` (``far``): the face's inter-ocular distance becomes
    ``WEBCAM_IOD`` (``FAR_IOD``) and the mouth lands at the frame's centre (the image is cropped or padded with
    black).
    """
    if scale == "fill":
        s = FRAME_H / image.shape[0]
    elif scale in ("webcam", "far"):
        s = (WEBCAM_IOD if scale == "webcam" else FAR_IOD) / inter_ocular(face)
    else:
        raise ValueError(f"scale: expected one of {SCALES}, got {scale!r}")
    scaled = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
    lm = face.landmarks * np.float32([s, s, s])
    if scale == "fill":
        dx, dy = (FRAME_W - scaled.shape[1]) // 2, 0
    else:
        mouth = lm[list(lips_outer()), :2].mean(axis=0)
        dx, dy = round(FRAME_W / 2 - mouth[0]), round(FRAME_H / 2 - mouth[1])
    frame = np.zeros((FRAME_H, FRAME_W, 3), np.uint8)
    # paste the scaled image at (dx, dy), clipped to the frame
    sx0, sy0 = max(0, -dx), max(0, -dy)
    fx0, fy0 = max(0, dx), max(0, dy)
    w = min(scaled.shape[1] - sx0, FRAME_W - fx0)
    h = min(scaled.shape[0] - sy0, FRAME_H - fy0)
    frame[fy0 : fy0 + h, fx0 : fx0 + w] = scaled[sy0 : sy0 + h, sx0 : sx0 + w]
    lm = lm + np.float32([dx, dy, 0])
    return frame, Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))


def timeit(fn, runs: int, warmup: int = 20) -> np.ndarray:
    for _ in range(warmup):
        fn()
    times = np.empty(runs)
    for i in range(runs):
        t = time.perf_counter()
        fn()
        times[i] = (time.perf_counter() - t) * 1e3
    return times


def stats(times: np.ndarray) -> dict[str, float]:
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))}


def _label(backend: str, providers: tuple[str, ...] | None) -> str:
    names = ",".join(p.replace("ExecutionProvider", "") for p in providers or ())
    return backend if backend == "numpy" else f"onnx {names}"


def bench_face(frame: np.ndarray, face: Face, shades, providers: tuple[str, ...], runs: int, copy_ms: float) -> dict:
    """Timings of one face in one frame: render per backend and finish, and the batch of shades."""
    # what render_shades returns, N frames, is memory-bound: its lens-only rate subtracts making them
    batch_copy_ms = stats(timeit(lambda: np.repeat(frame[None], len(shades), axis=0), max(10, runs // 10), 3))[
        "median_ms"
    ]
    geom = M.lip_geometry(face.landmarks, frame.shape)
    entry: dict = {
        "box": list(geom.shape),
        "mouth_width_px": geom.width,
        "inter_ocular_px": inter_ocular(face),
        "render": {},
        "batch": {},
    }
    for backend, prov in (("numpy", None), ("onnx", providers)):
        label = _label(backend, prov)
        for finish in C.Finish:
            lens = LipstickLens(color="#B3172B", finish=finish, opacity=0.9, backend=backend, providers=prov)
            s = stats(timeit(lambda lens=lens: lens.render(frame, [face]), runs))
            s["lens_only_median_ms"] = s["median_ms"] - copy_ms
            s["lens_only_p95_ms"] = s["p95_ms"] - copy_ms
            entry["render"][f"{label}/{finish.value}"] = s
        lens = LipstickLens(finish="satin", backend=backend, providers=prov)
        t = timeit(lambda lens=lens: lens.render_shades(frame, face, shades), max(10, runs // 10), 3)
        s = {"shades": len(shades), **stats(t)}
        s["shades_per_second"] = len(shades) / (s["median_ms"] / 1e3)
        lens_only = s["median_ms"] - batch_copy_ms
        s["lens_only_shades_per_second"] = len(shades) / (lens_only / 1e3) if lens_only > 0 else float("nan")
        entry["batch"][label] = s
    return entry


def baseline_lens_class(rev: str):
    """``LipstickLens`` of git revision ``rev`` (``harness.baseline_tree``), imported beside today's. The package
    finds its assets beside it; the canonical face there is made, not tracked (git archive has none): today's
    assets serve (a revision with a scene layer fits the head pose from it)."""
    import importlib

    harness.baseline_tree(rev, link=("assets",))
    return importlib.import_module("arlens_baseline.lenses.lipstick").LipstickLens


def bench_scene_cost(frames, old_cls, runs: int, baseline_scene: bool = False) -> dict:
    """Interleaved per-call times of the baseline lens and today's lens with a fresh scene per call.

    ``baseline_scene``: the baseline revision has a scene layer too: its lens is given a fresh scene of its own
    per call, with the same hands and the tracked pose (what comparing two versions of the scene needs; without
    it a scene-era baseline lens would build one without the hands)."""
    from arlens.scene import Scene

    out = {}
    for label, frame, face, hands in frames:
        old = old_cls(color="#B3172B", finish="gloss", opacity=0.9)
        new = LipstickLens(color="#B3172B", finish="gloss", opacity=0.9)
        face_old = old_face(face, with_pose=baseline_scene)
        if baseline_scene:
            from arlens_baseline.scene import Scene as OldScene

            hands_old = [old_hand(h) for h in hands]

            def render_old(old=old, frame=frame, face_old=face_old, hands_old=hands_old):
                return old.render(frame, [face_old], OldScene(frame, [face_old], hands_old))
        else:
            def render_old(old=old, frame=frame, face_old=face_old):
                return old.render(frame, [face_old])
        for _ in range(10):
            render_old()
            new.render(frame, [face], Scene(frame, [face], hands))
        t_old, t_new = np.empty(runs), np.empty(runs)
        c_old, c_new = np.empty(runs), np.empty(runs)
        for i in range(runs):
            # the two in turn first (A B B A ...): the second of a pair runs on what the first left in the caches,
            # which made the same code look 0.05 ms faster in second place
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                t, c = time.perf_counter(), time.thread_time()
                if which == 0:
                    render_old()
                    t_old[i], c_old[i] = (time.perf_counter() - t) * 1e3, (time.thread_time() - c) * 1e3
                else:
                    new.render(frame, [face], Scene(frame, [face], hands))
                    t_new[i], c_new[i] = (time.perf_counter() - t) * 1e3, (time.thread_time() - c) * 1e3
        out[label] = {
            "baseline_median_ms": float(np.median(t_old)),
            "scene_median_ms": float(np.median(t_new)),
            "added_ms": float(np.median(t_new - t_old)),
            "ratio": float(np.median(t_new) / np.median(t_old)),
            "baseline_p95_ms": float(np.percentile(t_old, 95)),
            "scene_p95_ms": float(np.percentile(t_new, 95)),
            # CPU time of this thread: what the work costs, without the waits of a loaded machine
            "baseline_cpu_median_ms": float(np.median(c_old)),
            "scene_cpu_median_ms": float(np.median(c_new)),
            "added_cpu_ms": float(np.median(c_new - c_old)),
        }
        r = out[label]
        print(f"  {label:30s} baseline {r['baseline_median_ms']:6.2f} ms, scene + lens {r['scene_median_ms']:6.2f} ms,"
              f" added {r['added_ms']:5.2f} ms (median of pairs), ratio {r['ratio']:.2f}; CPU time: baseline "
              f"{r['baseline_cpu_median_ms']:5.2f}, scene + lens {r['scene_cpu_median_ms']:5.2f}, added "
              f"{r['added_cpu_ms']:5.2f} ms", flush=True)
    return out


def with_tracked_pose(face: Face, shape: tuple[int, ...]) -> Face:
    """``face`` with the head pose arlens' FaceTracker fits to its landmarks (``estimate_pose`` with the
    tracker's default camera): in a session every tracked Face carries it, so the scene does not fit it
    again and its cost is the tracker's, not the scene's."""
    from arlens.tracking.camera import PerspectiveCamera
    from arlens.tracking.pose import estimate_pose

    pose = estimate_pose(face.landmarks, PerspectiveCamera(shape[1], shape[0], 63.0))
    return Face(landmarks=face.landmarks, score=face.score, bbox=face.bbox, pose=pose)


def old_face(face: Face, with_pose: bool = False):
    """The baseline package's own Face (its lens checks the type); ``with_pose``: carrying ``face``'s pose."""
    from arlens_baseline.tracking.results import Face as OldFace

    if with_pose:
        return OldFace(landmarks=face.landmarks, score=1.0, bbox=face.bbox, pose=face.pose)
    return OldFace(landmarks=face.landmarks, score=1.0, bbox=face.bbox)


def old_hand(hand):
    """The baseline package's own Hand (its scene checks the type)."""
    from arlens_baseline.tracking.results import Hand as OldHand

    return OldHand(hand.landmarks, hand.handedness, hand.score, hand.bbox)


def _old(compare: dict | None, scale: str, name: str, section: str, key: str) -> dict | None:
    if compare is None:
        return None
    faces = compare.get("scales", {}).get(scale, {}).get("faces")
    if faces is None and scale == "fill":
        faces = compare.get("faces")  # the first version of this benchmark had one size, under "faces"
    return ((faces or {}).get(name) or {}).get(section, {}).get(key)


def print_tables(result: dict, compare: dict | None) -> None:
    """Per size: ms per face (median / p95, lens only) per face, path and finish; shades/s per path."""
    was = " (was)" if compare is not None else ""
    for scale, block in result["scales"].items():
        print(f"\n== {scale}: ms per face at {FRAME_W}x{FRAME_H}, lens only (render minus a frame copy)")
        print(f"{'face':14s} {'box':>8s} {'mouth':>6s} {'path':10s} {'finish':9s} {'median':>7s} {'p95':>7s}"
              + (f" {'median was':>11s} {'p95 was':>8s}" if compare is not None else ""))
        for name, entry in block["faces"].items():
            h, w = entry["box"]
            for key, s in entry["render"].items():
                path, finish = key.split("/")
                line = (f"{name:14s} {w:>3d}x{h:<4d} {entry['mouth_width_px']:6.0f} {path:10s} {finish:9s} "
                        f"{s['lens_only_median_ms']:7.3f} {s['lens_only_p95_ms']:7.3f}")
                old = _old(compare, scale, name, "render", key)
                if old is not None:
                    old_copy = compare.get("frame_copy", {}).get("median_ms", 0.0)
                    old_p95 = old.get("lens_only_p95_ms", old["p95_ms"] - old_copy)
                    line += f" {old['lens_only_median_ms']:11.3f} {old_p95:8.3f}"
                print(line)
        print(f"\n== {scale}: batch, every demo shade in one render_shades call{was}")
        print(f"{'face':14s} {'path':10s} {'shades':>6s} {'median ms':>10s} {'shades/s':>9s} {'lens only/s':>12s}"
              + (f" {'shades/s was':>13s}" if compare is not None else ""))
        for name, entry in block["faces"].items():
            for label, s in entry["batch"].items():
                line = (f"{name:14s} {label:10s} {s['shades']:6d} {s['median_ms']:10.2f} {s['shades_per_second']:9.0f} "
                        f"{s['lens_only_shades_per_second']:12.0f}")
                old = _old(compare, scale, name, "batch", label)
                if old is not None:
                    line += f" {old['shades_per_second']:13.0f}"
                print(line)


def scene_cost(faces, args) -> dict:
    """The scene layer's cost per face at 720p, interleaved against ``--baseline-rev``'s lens."""
    import hard_scenes as HS

    old_cls = baseline_lens_class(args.baseline_rev)
    if args.baseline_scene:
        import importlib.util

        if importlib.util.find_spec("arlens_baseline.scene") is None:
            raise SystemExit(f"--baseline-scene: {args.baseline_rev} has no scene layer (arlens.scene); leave it out")
    palm = cv2.imread(str(args.testdata / "hands" / "open_palm.jpg"))
    from arlens.tracking.results import Hand

    with np.load(args.reference / "open_palm.npz") as data:
        lm = data["hands"][0, 0].astype(np.float32)
        hand = Hand(lm, str(data["handedness"][0, 0]), 1.0, bbox_of(lm))
    frames = []
    for scale in args.scales:
        for name, image, face0 in faces:
            frame, face = to_720p(image, face0, scale)
            face = with_tracked_pose(face, frame.shape)
            frames.append((f"{scale} {name}", frame, face, ()))
            if palm is not None:
                comp = HS.hand_over_mouth(frame, face, palm, hand, cover=0.4, angle_deg=170, side=-1)
                frames.append((f"{scale} {name} + hand", comp.image, face, (comp.hand,)))
    what = "scene layer + lens" if args.baseline_scene else "lens"
    print(f"\n== scene layer + lens vs the {what} of {args.baseline_rev}, 1280x720, interleaved ({args.runs} pairs)")
    out = bench_scene_cost(frames, old_cls, args.runs, args.baseline_scene)
    for key in ("added_ms", "added_cpu_ms"):
        added = np.array([r[key] for k, r in out.items() if "+ hand" not in k])
        with_hand = np.array([r[key] for k, r in out.items() if "+ hand" in k])
        print(f"{key}: per face without a hand median {np.median(added):.2f} ms (max {added.max():.2f}); "
              f"with a hand over the mouth median {np.median(with_hand):.2f} ms (max {with_hand.max():.2f})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--providers", nargs="*", default=["CPUExecutionProvider"])
    parser.add_argument("--scales", nargs="*", default=list(DEFAULT_SCALES), choices=SCALES)
    parser.add_argument("--compare", type=Path, help="an earlier result JSON to print beside this one")
    parser.add_argument("--baseline-rev", default=None,
                        help="time the scene layer against this git revision's lens (e.g. 286992c)")
    parser.add_argument("--scene-only", action="store_true", help="only the scene-layer timing")
    parser.add_argument("--baseline-scene", action="store_true",
                        help="--baseline-rev has a scene layer: give its lens its own scene with the hands (compares "
                             "two versions of the scene; 01ce8f6 or later)")
    parser.add_argument("--cv-threads", type=int, default=None,
                        help="cv2.setNumThreads for the run (OpenCV's pool costs more than it gains on small boxes)")
    shared = ROOT.parent / "shared"
    testdata = Path(os.environ.get("ARLENS_TESTDATA", shared / "testdata"))
    reference = Path(os.environ.get("ARLENS_REFERENCE", shared / "reference"))
    parser.add_argument("--testdata", type=Path, default=testdata)
    parser.add_argument("--reference", type=Path, default=reference)
    args = parser.parse_args(argv)

    import onnxruntime as ort

    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    compare = json.loads(args.compare.read_text()) if args.compare else None
    faces = load_faces(args.testdata, args.reference)
    if not faces:
        parser.error("no test faces found")
    shades = [LipstickOptions(color=c, finish=f, opacity=o) for _, c, f, o in DEMO_SHADES]
    providers = tuple(args.providers)
    result: dict = {
        "benchmark": "lipstick",
        "frame": [FRAME_W, FRAME_H],
        "runs": args.runs,
        "machine": {
            "cpu_model": harness.cpu_model(),
            "speed": harness.machine_speed(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "onnxruntime": ort.__version__,
            "opencv_threads": cv2.getNumThreads(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "scales": {},
    }
    print(harness.speed_line(result["machine"]["speed"]))
    if args.baseline_rev:
        result["scene_cost"] = scene_cost(faces, args)
        if args.scene_only:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=2))
            print(f"wrote {args.json}")
            return 0
    blank = np.zeros((FRAME_H, FRAME_W, 3), np.uint8)
    copy_ms = stats(timeit(blank.copy, args.runs))
    result["frame_copy"] = copy_ms
    print(f"frame copy 1280x720: {copy_ms['median_ms']:.3f} ms; load average {os.getloadavg()[0]:.2f}")
    for scale in args.scales:
        block: dict = {"faces": {}}
        for name, image, face0 in faces:
            frame, face = to_720p(image, face0, scale)
            block["faces"][name] = bench_face(frame, face, shades, providers, args.runs, copy_ms["median_ms"])
            entry = block["faces"][name]
            print(f"  {scale:6s} {name:14s} mouth {entry['mouth_width_px']:.0f} px, "
                  f"eyes {entry['inter_ocular_px']:.0f} px apart: done", flush=True)
        result["scales"][scale] = block
    if "fill" in result["scales"]:
        result["faces"] = result["scales"]["fill"]["faces"]  # where the first version kept them
    print_tables(result, compare)

    # colour accuracy: ΔE2000 of the median painted lip colour against the swatch, at opacity 1
    table: dict[str, dict[str, float]] = {}
    print("\nΔE2000, median lip colour vs swatch (opacity 1, shade's own finish)")
    print(f"{'shade':22s}" + "".join(f"{n:>15s}" for n, _, _ in faces))
    for (shade_name, colour, finish, _), _opts in zip(DEMO_SHADES, shades, strict=True):
        lens = LipstickLens(color=colour, finish=finish, opacity=1.0)
        row = {}
        swatch = C.hex_to_lab(colour)
        for name, image, face in faces:
            out = lens.render(image, [face])
            geom = M.lip_geometry(face.landmarks, image.shape)
            x0, y0, x1, y1 = geom.box
            core = M.lip_mask(geom) > 0.5
            lab = np.median(C.bgr_to_lab(out[y0:y1, x0:x1][core]), axis=0)
            row[name] = float(C.delta_e2000(lab, swatch))
        table[f"{shade_name} {colour} {finish}"] = row
        print(f"{shade_name:22s}" + "".join(f"{row[n]:15.1f}" for n, _, _ in faces))
    values = np.array([v for r in table.values() for v in r.values()])
    result["delta_e2000"] = table
    result["delta_e2000_summary"] = {
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "max": float(values.max()),
    }
    print(f"ΔE2000 median {np.median(values):.1f}, p90 {np.percentile(values, 90):.1f}, max {values.max():.1f}")
    if compare is not None and "delta_e2000_summary" in compare:
        old = compare["delta_e2000_summary"]
        print(f"ΔE2000 was median {old['median']:.1f}, p90 {old['p90']:.1f}, max {old['max']:.1f}")

    # numpy vs ONNX agreement on every face (as stored and in the benchmark's frames) and finish
    worst = 0
    framed = [(n, *to_720p(image, face, scale)) for scale in args.scales for n, image, face in faces]
    for _, image, face in faces + framed:
        for finish in C.Finish:
            opts = LipstickOptions(color="#9E1B32", finish=finish, opacity=0.9, liner_color="#5A0F1E", liner_width=0.03)
            a = LipstickLens(opts).render(image, [face]).astype(int)
            b = LipstickLens(opts, backend="onnx", providers=tuple(args.providers)).render(image, [face]).astype(int)
            worst = max(worst, int(np.abs(a - b).max()))
    result["numpy_vs_onnx_max_abs_diff"] = worst
    old_worst = (compare or {}).get("numpy_vs_onnx_max_abs_diff")
    was_worst = f" (was {old_worst})" if old_worst is not None else ""
    print(f"numpy vs ONNX: max difference {worst} grey levels{was_worst}")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
