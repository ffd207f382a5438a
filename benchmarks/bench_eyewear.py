"""Benchmark the eyewear lens: milliseconds per face at 1280x720 through OpenGL (llvmpipe on a CPU).

Usage:
    python benchmarks/bench_eyewear.py [--runs 60] [--block 5] [--baseline /tmp/i19-base | --baseline-rev 1123d1a]
        [--json benchmarks/results/bench_eyewear.json]

Each still test face is scaled so its image height fills a 1280x720 frame and its pose estimated with the
1280x720 camera; a two-face frame (the frontal_smile face twice, side by side at half size) is timed too
(ms per face = total / 2). For every demo frame model the lens is timed two ways:

- ``render``: ``lens.render(frame, faces, camera)`` as an app calls it: the lens builds the frame's scene
  and asks it for the light on each face (what it costs when no other lens has asked yet);
- ``render (scene lit)``: with the frame's :class:`~arlens.scene.Scene` built and its lights estimated
  beforehand, as in a :class:`~arlens.TryOn` frame where the lipstick asked first; ``scene light`` is that
  estimate's own cost per face.

``--cpu-time`` times the CPU time of the process (every thread: since 533676b a lens draws on an OpenGL thread of
its own) instead of the wall clock, with Mesa's llvmpipe told to rasterise in the thread that waits for it
(``LP_NUM_THREADS=0``, no rasteriser threads) on both sides: the work each lens does, whatever else the shared
machine runs (a wall-clock ratio on a loaded 2-core machine moves by tens of percent from minute to minute).

With ``--baseline PATH`` (a checkout of an older arlens, e.g. ``git worktree add /tmp/i19-base <commit>``) the
same frames are drawn by that version's lens in a second process (``eyewear_worker.py`` with ``PATH`` first on
``PYTHONPATH``), in lockstep: a block of ``--block`` renders by the new lens, then a block by the old one, and so
on, so both see the same machine load; the table gives each one's median per face and their ratio.
``--baseline-rev REV`` does the same with git revision REV's ``arlens`` and ``assets``, extracted to a temporary
folder (``git archive``) for the run. ``--variants`` also times the new lens without each stage it added (the
camera's look, the contact shadow, hair over the temples, the ears and the temple fit) and drawn at the frame's
resolution whatever its blur (``match_resolution=False``) to show what each costs (these are not in lockstep with
the baseline, only with the new lens's own blocks). The GL renderer string says where it ran (``llvmpipe`` on a
CPU, the GPU's name on a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import TESTDATA, extract_revision, metadata, print_table, summary, write_json  # noqa: E402

from arlens.lenses.eyewear import EyewearLens, EyewearOptions  # noqa: E402
from arlens.scene import Scene  # noqa: E402
from arlens.tracking.camera import PerspectiveCamera  # noqa: E402
from arlens.tracking.pose import estimate_pose  # noqa: E402
from arlens.tracking.results import Face, bbox_of  # noqa: E402

FRAMES = {"round.glb": 132.0, "rectangular.glb": 140.0, "cat_eye.glb": 138.0}
#: What each added stage costs: the lens without it (``--variants``).
VARIANTS = {
    "at the frame's resolution": {"match_resolution": False},
    "without camera look": {"match_camera": False},
    "without shadow": {"contact_shadow": 0.0},
    "without hair over temples": {"hair_over_temples": False},
    "without camera look, shadow, ears, temple fit": {
        "match_camera": False, "contact_shadow": 0.0, "ears": False, "fit_temples": False,
    },
}
STILLS = ("astronaut.png", "grace_hopper.jpg", "frontal_smile.png")
W, H = 1280, 720


_clock = time.perf_counter


def time_calls(fn, repeats: int, warmup: int = 5) -> list[float]:
    """Milliseconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones, by the chosen clock."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = _clock()
        fn()
        out.append((_clock() - t0) * 1000.0)
    return out


def scaled_case(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The test face fitted into a 1280x720 frame, and its (1, 478, 3) landmarks at that size."""
    image = cv2.imread(str(TESTDATA / "faces" / name))
    with np.load(TESTDATA.parent / "reference" / f"{Path(name).stem}.npz") as data:
        lm = data["face_mesh_478"][0].astype(np.float32)
    s = H / image.shape[0]
    resized = cv2.resize(image, (int(image.shape[1] * s), H))
    frame = np.zeros((H, W, 3), np.uint8)
    x0 = (W - resized.shape[1]) // 2
    frame[:, x0 : x0 + resized.shape[1]] = resized
    lm = lm * s
    lm[:, 0] += x0
    return frame, lm[None]


def two_faces(frame: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same frame with the face's landmarks twice, side by side at half size."""
    out = []
    for dx in (-300.0, 300.0):
        m = lm[0].copy()
        m[:, :2] = (m[:, :2] - [W / 2, H / 2]) * 0.5 + [W / 2 + dx, H / 2]
        out.append(m)
    return frame, np.stack(out)


def faces_of(landmarks: np.ndarray, cam: PerspectiveCamera) -> list[Face]:
    return [Face(lm, 1.0, bbox_of(lm), estimate_pose(lm, cam)) for lm in landmarks]


class Baseline:
    """The old lens in its own process (see ``eyewear_worker.py``)."""

    def __init__(self, tree: Path, cases_path: Path, cpu_time: bool = False) -> None:
        env = dict(os.environ, PYTHONPATH=str(tree))
        if cpu_time:
            env["LP_NUM_THREADS"] = "0"
            env["ARLENS_BENCH_CLOCK"] = "process"
        worker = Path(__file__).resolve().parent / "eyewear_worker.py"
        self.proc = subprocess.Popen(
            [sys.executable, str(worker)], cwd=str(tree), env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self._send({"cases": str(cases_path)})
        if not self._read().get("ready"):
            raise SystemExit("baseline worker did not start")

    def _send(self, obj: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"baseline worker exited ({self.proc.poll()})")
        return json.loads(line)

    def render(self, model: str, width: float, case: int, n: int) -> list[float]:
        self._send({"model": model, "width": width, "case": case, "n": n})
        return self._read()["ms"]

    def close(self) -> None:
        try:
            self._send({"quit": True})
        except (BrokenPipeError, OSError):
            pass
        self.proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="timed renders per model and frame (and per side)")
    parser.add_argument("--block", type=int, default=5, help="renders in a row before switching sides")
    parser.add_argument("--baseline", type=Path, help="a checkout of an older arlens to compare with, in lockstep")
    parser.add_argument("--baseline-rev", help="a git revision to compare with, in lockstep (extracted for the run)")
    parser.add_argument("--samples", type=int, help="MSAA samples of the new lens (default: its own)")
    parser.add_argument("--reuse-px", type=float, default=0.0,
                        help="EyewearOptions.reuse_px of the new lens (default 0: every render draws, as the lens "
                             "before reuse did; the same frame rendered again would otherwise reuse its drawing)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time the CPU time of the process, with Mesa's llvmpipe rasterising in the thread that "
                             "waits for it (LP_NUM_THREADS=0) on both sides: what the work costs, whatever else the "
                             "machine runs")
    parser.add_argument("--variants", action="store_true",
                        help="also time the new lens without each added stage (camera look, shadow, fit), in lockstep")
    parser.add_argument("--json", type=Path, default=Path(__file__).resolve().parent / "results" / "bench_eyewear.json")
    args = parser.parse_args(argv)
    if args.baseline is not None and args.baseline_rev:
        parser.error("--baseline and --baseline-rev: give one")
    global _clock
    if args.cpu_time:
        os.environ["LP_NUM_THREADS"] = "0"  # before any GL context: llvmpipe rasterises on the waiting thread
        _clock = time.process_time  # every thread: the lens's GL thread as well as the caller's
    names = [n for n in STILLS if (TESTDATA / "faces" / n).is_file()]
    if not names:
        raise SystemExit(f"no test faces under {TESTDATA}")
    cases = {Path(n).stem: scaled_case(n) for n in names}
    cases["two faces"] = two_faces(*cases[Path(names[-1]).stem])
    labels = list(cases)
    cam = PerspectiveCamera(W, H)
    prepared = [(cases[k][0], faces_of(cases[k][1], cam)) for k in labels]
    per_face = [len(f) for _, f in prepared]

    baseline = None
    tmp = tempfile.TemporaryDirectory()
    if args.baseline_rev:
        args.baseline = extract_revision(args.baseline_rev, Path(tmp.name) / "baseline")
    if args.baseline is not None:
        path = Path(tmp.name) / "cases.npz"
        arrays = {"count": np.array(len(labels))}
        for i, k in enumerate(labels):
            arrays[f"frame{i}"], arrays[f"landmarks{i}"] = cases[k]
        np.savez(path, **arrays)
        baseline = Baseline(args.baseline, path, args.cpu_time)

    rows: dict[str, dict[str, float]] = {}
    new_all: list[float] = []
    old_all: list[float] = []
    lit_all: list[float] = []
    variant_all: dict[str, list[float]] = {}
    light_all: list[float] = []
    renderer = ""
    try:
        for model, width in FRAMES.items():
            extra = {"reuse_px": args.reuse_px}
            if args.samples is not None:
                extra["samples"] = args.samples
            variant_lenses = {
                name: EyewearLens(EyewearOptions(model=model, frame_width_mm=width, **extra, **opts))
                for name, opts in (VARIANTS.items() if args.variants else ())
            }
            with EyewearLens(EyewearOptions(model=model, frame_width_mm=width, **extra)) as lens:
                renderer = lens._renderer.info.get("GL_RENDERER", "")  # noqa: SLF001 - reported, not used
                for i, label in enumerate(labels):
                    frame, faces = prepared[i]
                    k = per_face[i]
                    new_ms: list[float] = []
                    old_ms: list[float] = []
                    time_calls(lambda frame=frame, faces=faces: lens.render(frame, faces, cam), 0, warmup=3)
                    if baseline is not None:
                        baseline.render(model, width, i, 3)  # warm-up
                    while len(new_ms) < args.runs:
                        new_ms += time_calls(lambda frame=frame, faces=faces: lens.render(frame, faces, cam),
                                             args.block, warmup=0)
                        if baseline is not None:
                            old_ms += baseline.render(model, width, i, args.block)
                    rows[f"{model} {label} render"] = summary(m / k for m in new_ms)
                    new_all += [m / k for m in new_ms]
                    for vname, vlens in variant_lenses.items():
                        ms = time_calls(lambda frame=frame, faces=faces, vlens=vlens: vlens.render(frame, faces, cam),
                                        max(10, args.runs // 2), warmup=2)
                        variant_all.setdefault(vname, []).extend(m / k for m in ms)
                    if baseline is not None:
                        rows[f"{model} {label} baseline"] = summary(m / k for m in old_ms)
                        old_all += [m / k for m in old_ms]

                    def lit(frame=frame, faces=faces):
                        scene = Scene(frame, faces, camera=cam)
                        for f in faces:
                            scene.face(f).light  # noqa: B018 - estimated first, as another lens would have
                        return scene

                    scenes = [lit() for _ in range(args.runs)]
                    it = iter(scenes)
                    ms = time_calls(lambda frame=frame, faces=faces, it=it: lens.render(frame, faces, next(it)),
                                    args.runs - 3, warmup=3)
                    rows[f"{model} {label} render (scene lit)"] = summary(m / k for m in ms)
                    lit_all += [m / k for m in ms]
                    light_ms = time_calls(lit, max(10, args.runs // 3), warmup=2)
                    light_all += [m / k for m in light_ms]
            for vlens in variant_lenses.values():
                vlens.close()
    finally:
        if baseline is not None:
            baseline.close()
        tmp.cleanup()
    rows["all: render per face"] = summary(new_all)
    rows["all: render (scene lit) per face"] = summary(lit_all)
    rows["all: scene light per face"] = summary(light_all)
    for vname, ms in variant_all.items():
        rows[f"all: render {vname} per face"] = summary(ms)
    result = {"benchmark": "eyewear", "size": [W, H], "gl_renderer": renderer, "meta": metadata(), "results": rows,
              "clock": "process CPU time, llvmpipe in the waiting thread" if args.cpu_time else "wall"}
    if baseline is not None:
        rows["all: baseline per face"] = summary(old_all)
        ratio = float(np.median(new_all) / np.median(old_all))
        result["ratio_new_over_baseline"] = ratio
        result["baseline"] = args.baseline_rev or str(args.baseline)
    print_table(f"EyewearLens.render at {W}x{H}, ms per face ({renderer})", rows)
    if baseline is not None:
        print(f"\nnew / baseline (median per face, lockstep): {result['ratio_new_over_baseline']:.3f}")
    write_json(args.json, result)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
