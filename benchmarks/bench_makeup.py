"""Benchmark the make-up lenses: a full look (one product of every kind) per face at 1280x720, and each category.

Usage:
    python benchmarks/bench_makeup.py [--rounds 60] [--scales webcam fill far] [--baseline-rev REV]
                                      [--json benchmarks/results/bench_makeup.json]

Each test face is put in a 1280x720 frame (``benchmarks/bench_lipstick.py``'s sizes): ``webcam``, the face at
arm's length from a 720p webcam (125 px between the iris centres), and ``fill``, the photo scaled to the
frame's height; ``--scales far`` adds a face 40 px between the iris centres (about 1.5 m from a kiosk's camera):
beside ``webcam`` it shows how little of the look's cost grows with the face's pixels (the soft products' grid has
about as many cells on any face, :func:`arlens.render.face_grid.cell_size`).

Tracking is excluded: the faces carry Google MediaPipe's reference landmarks. Timed per face, each round a new
frame (a fresh Face value and Scene, as a session makes every frame):

- ``look``: the eight make-up lenses of the look drawn as ``TryOn`` draws them (one
  ``MakeupLens.render_group`` call for the run of make-up lenses, :func:`arlens.lenses.base.groups`), everything
  the face needs included (the scene's light, the face's UV and erase masks);
- ``look, hair not kept off``: the same with ``MakeupOptions(keep_off_hair=False)`` (what finding hair over the
  face costs);
- ``look, lens by lens``: the same lenses, each one's ``render_into`` in turn (what an app calling lenses one at a
  time gets);
- ``shared``: the per-face work every make-up lens needs, alone (the scene's light, the face's UV grid, the
  erase masks);
- each category alone on top of the shared work (its own ``render_into``);
- ``lip liner + lipstick``: the look's lip lenses after it, for scale;
- with ``--opencv-share``, OpenCV's own time in the look (:func:`opencv_time`).

With ``--baseline-rev REV`` the same figures are taken for the make-up lenses of git revision REV (its ``arlens``
and ``assets`` extracted to a temporary folder and imported as ``arlens_baseline``, beside today's), interleaved
with today's round by round (A B, B A, ...), so load from the other users of this shared machine hits both alike;
the printed ratio is baseline / today of the medians. Each figure is wall time and CPU time of the drawing
thread (``time.thread_time``); on a loaded machine the CPU time is the steadier one (a few milliseconds of work is
often descheduled for a time slice or more). OpenCV runs on one thread (``cv2.setNumThreads(1)``), as the lenses
run in a session beside the trackers. Results go to ``benchmarks/results/`` (git-ignored) as JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import harness  # noqa: E402
from bench_lipstick import SCALES, to_720p  # noqa: E402

#: One product of every make-up kind (the demo catalog's "Golden Hour Glam" look) plus a lip liner, in the
#: registry's make-up order.
LOOK = "LOOK-GLAM"
LIP_LINER = {"id": "LNR-LIP", "title": "Lip liner", "link": "https://shop.example/lnr-lip", "price": "12.00 USD",
             "kind": "lip_liner", "color": "#8E2A3A", "opacity": 0.9}
STILLS = (("astronaut", "astronaut.png"), ("grace_hopper", "grace_hopper.jpg"), ("frontal_smile", "frontal_smile.png"))
MAKEUP = ("foundation", "contour", "highlighter", "blush", "eyeshadow", "eyeliner", "mascara", "brow")


def load_stills(testdata: Path, reference: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image, MediaPipe's reference landmarks) of each test still found."""
    out = []
    for stem, file in STILLS:
        image_path, ref_path = testdata / "faces" / file, reference / f"{stem}.npz"
        if not image_path.is_file() or not ref_path.is_file():
            print(f"skipping {stem}: {image_path} or {ref_path} not found")
            continue
        with np.load(ref_path) as data:
            lm = data["face_mesh_478"][0].astype(np.float32)
        out.append((stem, cv2.imread(str(image_path)), lm))
    return out


class Package:
    """One arlens (today's, or a baseline revision imported as ``arlens_baseline``) and the look's lenses in it."""

    def __init__(self, name: str) -> None:
        import importlib

        self.name = name
        self.results = importlib.import_module(f"{name}.tracking.results")
        self.scene = importlib.import_module(f"{name}.scene")
        self.face_space = importlib.import_module(f"{name}.render.face_space")
        catalog_mod = importlib.import_module(f"{name}.catalog")
        registry = importlib.import_module(f"{name}.lenses.registry").default_registry()
        base = importlib.import_module(f"{name}.lenses.base")
        catalog = catalog_mod.Catalog.default()
        products = [catalog[pid] for pid in catalog.look(LOOK).product_ids] + [catalog_mod.Product(**LIP_LINER)]
        order = {k: i for i, k in enumerate(registry.kinds())}
        products.sort(key=lambda p: order[p.kind.value])
        self.lenses = [(p.kind.value, registry.build(p, catalog=catalog)) for p in products]
        self.makeup = [lens for kind, lens in self.lenses if kind in MAKEUP]
        # the same look without keeping off hair over the face, where the package can tell (MakeupOptions)
        self.plain = None
        if all(hasattr(getattr(lens, "options", None), "keep_off_hair") for lens in self.makeup):
            self.plain = [type(lens)(lens.options, keep_off_hair=False) for lens in self.makeup]
        self.lips = [lens for kind, lens in self.lenses if kind not in MAKEUP]
        self.groups = getattr(base, "groups", None)

    def face(self, landmarks: np.ndarray):
        r = self.results
        lm = landmarks.copy()
        return r.Face(landmarks=lm, score=1.0, bbox=r.bbox_of(lm))

    def shared(self, frame: np.ndarray, face) -> None:
        """The per-face work every make-up lens needs: the scene's light, the face's UV, its erase masks."""
        scene = self.scene.Scene(frame, [face])
        scene.face(face).light  # noqa: B018 - computed for the lenses after
        space = self.face_space.FaceSpace.of(face, frame.shape)
        getattr(space, "uv_grid", None) if hasattr(space, "uv_grid") else space.uv  # noqa: B018
        space.erase_parts(("right_eye", "left_eye", "right_brow", "left_brow", "mouth", "lips"))
        return scene

    def look(self, out: np.ndarray, face, scene, lenses=None) -> None:
        """The make-up lenses as TryOn draws them (grouped where the package groups lenses)."""
        lenses = self.makeup if lenses is None else lenses
        faces = [face]  # one targets value for every lens, as the session's
        runs = self.groups([(lens, faces) for lens in lenses]) if self.groups is not None else {}
        for lens in lenses:
            run = runs.get(id(lens))
            if run is None:
                lens.render_into(out, [face], scene)
            elif run[0] is lens:
                type(lens).render_group(run, out, [face], scene=scene)

    def look_one_by_one(self, out: np.ndarray, face, scene) -> None:
        for lens in self.makeup:
            lens.render_into(out, [face], scene)


def baseline_package(rev: str) -> Package:
    """Git revision ``rev``'s ``arlens`` and ``assets``, extracted to a temporary folder as ``arlens_baseline``."""
    harness.baseline_tree(rev, extract=("arlens", "assets"))
    return Package("arlens_baseline")


def _timed(fn) -> tuple[float, float]:
    t, c = time.perf_counter(), time.thread_time()
    fn()
    return (time.perf_counter() - t) * 1e3, (time.thread_time() - c) * 1e3


def bench(frame: np.ndarray, landmarks: np.ndarray, packages: list[Package], rounds: int) -> dict:
    """Lockstep rounds over the packages (their order flipped every round); per package and figure, the wall and
    CPU milliseconds of every round after three untimed ones."""
    buf = frame.copy()
    times: dict[str, dict[str, list[tuple[float, float]]]] = {p.name: {} for p in packages}
    for r in range(rounds + 3):
        for pkg in packages if r % 2 == 0 else packages[::-1]:
            rec = times[pkg.name]

            def keep(name: str, value: tuple[float, float], rec=rec, r=r) -> None:
                if r >= 3:
                    rec.setdefault(name, []).append(value)

            face = pkg.face(landmarks)
            np.copyto(buf, frame)
            keep("look", _timed(lambda pkg=pkg, face=face: pkg.look(buf, face, pkg.scene.Scene(frame, [face]))))
            scene = pkg.scene.Scene(frame, [face])
            keep("lip liner + lipstick", _timed(lambda pkg=pkg, face=face, scene=scene: [
                lens.render_into(buf, [face], scene) for lens in pkg.lips]))
            if pkg.plain is not None:
                face = pkg.face(landmarks)
                np.copyto(buf, frame)
                keep("look, hair not kept off", _timed(
                    lambda pkg=pkg, face=face: pkg.look(buf, face, pkg.scene.Scene(frame, [face]), pkg.plain)))
            face = pkg.face(landmarks)
            np.copyto(buf, frame)
            keep("look, lens by lens", _timed(
                lambda pkg=pkg, face=face: pkg.look_one_by_one(buf, face, pkg.scene.Scene(frame, [face]))))
            face = pkg.face(landmarks)
            holder: dict = {}
            keep("shared", _timed(lambda pkg=pkg, face=face, holder=holder: holder.setdefault(
                "scene", pkg.shared(frame, face))))
            scene = holder["scene"]
            for kind, lens in pkg.lenses:
                if kind in MAKEUP:
                    np.copyto(buf, frame)
                    keep(kind, _timed(lambda lens=lens, face=face, scene=scene: lens.render_into(buf, [face], scene)))
    out = {}
    for name, rec in times.items():
        out[name] = {k: {"wall": harness.summary(v[0] for v in vals), "cpu": harness.summary(v[1] for v in vals)}
                     for k, vals in rec.items()}
    return out


def opencv_time(frame: np.ndarray, landmarks: np.ndarray, pkg: Package, rounds: int) -> dict[str, float]:
    """What OpenCV's own routines take of the look: the look's CPU median unprofiled, then OpenCV's functions' own
    time per look under ``cProfile`` (a C function's own time is barely touched by the profiler, which slows the
    Python around it), by function. What no rewrite of the Python and numpy around these calls can take away,
    short of making fewer of them."""
    import cProfile
    import pstats

    buf = frame.copy()

    def look() -> None:
        face = pkg.face(landmarks)
        np.copyto(buf, frame)
        pkg.look(buf, face, pkg.scene.Scene(frame, [face]))

    for _ in range(3):
        look()
    plain = [_timed(look)[1] for _ in range(rounds)]
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(rounds):
        look()
    profile.disable()
    names = set(dir(cv2)) | set(dir(getattr(cv2, "ximgproc", object)))
    by_name: dict[str, float] = {}
    for (file, _, name), (_, _, own, _, _) in pstats.Stats(profile).stats.items():
        bare = name.strip("<>")  # OpenCV's functions are listed by their bare names, numpy's by their qualified ones
        if file == "~" and bare in names:
            by_name[bare] = by_name.get(bare, 0.0) + own * 1e3 / rounds
    return {"look_cpu_ms": float(np.median(plain)), "opencv_ms": sum(by_name.values()),
            **{f"opencv_{k}_ms": v for k, v in sorted(by_name.items(), key=lambda kv: -kv[1])[:6]}}


def print_rows(title: str, rows: dict, names: list[str]) -> None:
    print(f"\n{title}")
    head = "".join(f"{n[:14] + ' wall':>20}{'cpu':>8}" for n in names)
    print(f"  {'median ms':<22}{head}" + ("       ratio (cpu)" if len(names) == 2 else ""))
    for stage in rows[names[0]]:
        line = f"  {stage:<22}"
        for n in names:
            s = rows[n].get(stage)
            line += f"{s['wall']['median_ms']:>20.2f}{s['cpu']['median_ms']:>8.2f}" if s else f"{'':>28}"
        if len(names) == 2 and stage in rows[names[1]]:
            a, b = rows[names[1]][stage]["cpu"]["median_ms"], rows[names[0]][stage]["cpu"]["median_ms"]
            line += f"{a / b:>17.2f}x"
        print(line)
    for n in names:
        cpu = {k: s["cpu"]["median_ms"] for k, s in rows[n].items()}
        total = cpu["shared"] + sum(cpu[k] for k in MAKEUP if k in cpu)
        print(f"  {n}: shared + categories alone, CPU medians summed: {total:.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--scales", nargs="*", default=["webcam", "fill"], choices=SCALES)
    parser.add_argument("--baseline-rev", default=None, help="also time the make-up lenses of this git revision")
    parser.add_argument("--opencv-share", action="store_true",
                        help="also measure OpenCV's own time in the look (under cProfile), face by face")
    parser.add_argument("--faces", nargs="*", default=[s for s, _ in STILLS], choices=[s for s, _ in STILLS])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "bench_makeup.json")
    shared = ROOT.parent / "shared"
    parser.add_argument("--testdata", type=Path, default=Path(os.environ.get("ARLENS_TESTDATA", shared / "testdata")))
    parser.add_argument("--reference", type=Path,
                        default=Path(os.environ.get("ARLENS_REFERENCE", shared / "reference")))
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    cv2.setNumThreads(1)  # one core per frame, like the lenses run in a session beside the trackers
    stills = [s for s in load_stills(args.testdata, args.reference) if s[0] in args.faces]
    if not stills:
        parser.error("no test faces found (set --testdata and --reference)")
    packages = [Package("arlens")]
    if args.baseline_rev:
        packages.append(baseline_package(args.baseline_rev))
    from arlens.tracking.results import Face, bbox_of

    names = ["today" if p.name == "arlens" else args.baseline_rev for p in packages]
    meta = harness.metadata()
    print(harness.speed_line(meta["speed"]))
    result: dict = {"meta": meta, "rounds": args.rounds, "look": [k for k, _ in packages[0].lenses],
                    "baseline_rev": args.baseline_rev, "scales": {}}
    # face by face, its sizes one after the other (a size's figures next to the other's in time: this machine's
    # speed drifts over minutes)
    for name, image, lm in stills:
        for scale in args.scales:
            block = result["scales"].setdefault(scale, {})
            frame, moved = to_720p(image, Face(landmarks=lm, score=1.0, bbox=bbox_of(lm)), scale)
            iod = float(np.linalg.norm(moved.landmarks[468, :2] - moved.landmarks[473, :2]))
            rows = bench(frame, np.asarray(moved.landmarks, np.float32), packages, args.rounds)
            rows = {n: rows[p.name] for n, p in zip(names, packages, strict=True)}
            block[name] = {"inter_ocular_px": iod, "load_average": os.getloadavg(), "timings": rows}
            print_rows(f"{scale}: {name} (IOD {iod:.0f} px), per face at 1280x720, load {os.getloadavg()[0]:.1f}",
                       rows, names)
            if args.opencv_share:
                share = block[name]["opencv"] = opencv_time(frame, np.asarray(moved.landmarks, np.float32),
                                                            packages[0], args.rounds)
                top = ", ".join(f"{k[7:-3]} {v:.2f}" for k, v in share.items() if k.startswith("opencv_") and
                                k != "opencv_ms")
                print(f"  OpenCV's own time in the look: {share['opencv_ms']:.2f} ms of {share['look_cpu_ms']:.2f} "
                      f"({share['opencv_ms'] / share['look_cpu_ms']:.0%}; {top})")
    if "far" in result["scales"] and "webcam" in result["scales"]:
        print("\nfar / webcam (CPU medians, today; 1.00: nothing grows with the face's pixels, 0.10: all of it does)")
        for name, _, _ in stills:
            far, near = ({k: v["cpu"]["median_ms"] for k, v in result["scales"][s][name]["timings"]["today"].items()}
                         for s in ("far", "webcam"))
            print(f"  {name:<14}" + "".join(f"  {stage} {far[stage] / near[stage]:.2f}"
                                            for stage in ("look", "shared", "foundation", "eyeliner")))
    result["speed_after"] = harness.machine_speed()
    print("\nafter the run, " + harness.speed_line(result["speed_after"]))
    harness.write_json(args.json, result)
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
