"""Benchmark the cost of extreme inputs (issue #24): it must follow the data that matters, linearly.

Usage:
    python benchmarks/bench_hostile.py [--quick] [--json benchmarks/results/bench_hostile.json]

Sections (each timed through the public API, medians over repeats after a warm-up):

- ``feeds``: ``Catalog.load`` of arlens JSON feeds of 10k to 200k products and a 100k-row Meta CSV, with the
  time per product: flat when loading is linear (it was quadratic: 10k took 1.4 s, 40k 19.5 s, 200k did not
  finish in 15 minutes).
- ``meshes``: ``import_eyewear`` of GLBs of 100k to 500k triangles (budget raised to let them in), and the
  time to refuse a 2M-triangle GLB at the default 200k budget from its header (it hung over 120 s).
- ``bundles``: ``LensBundle.load`` refusing a zip of many empty entries (1M cost 11.8 s and 768 MB).
- ``lipstick``: ``LipstickLens.render`` of close-ups in a 4000x3000 frame (mouths 700 to 11,000 px wide; 2,800 px
  took 0.47 s, 11,000 px 75 s) and of a face with one lip point far off-frame (x = 100,000 px: over 120 s and
  2.2 GB; 600,000 px: a segfault), with the peak memory the render allocated (tracemalloc).

Results go to ``benchmarks/results/bench_hostile.json`` (git-ignored) unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, metadata, summary, time_calls, write_json  # noqa: E402

DEFAULT_JSON = ROOT / "benchmarks" / "results" / "bench_hostile.json"


def _product(i: int) -> dict[str, str]:
    return {"id": f"P{i:07d}", "title": f"Shade {i}", "link": f"https://shop.example/p/{i}", "price": "19.00 USD",
            "kind": "lipstick", "color": "#A1122B", "finish": "satin", "brand": "Demo", "description": "A lipstick."}


def bench_feeds(tmp: Path, sizes: list[int], repeats: int) -> dict[str, dict[str, float]]:
    from arlens.catalog import Catalog

    out = {}
    for n in sizes:
        path = tmp / f"feed_{n}.json"
        path.write_text(json.dumps({"format": "arlens.catalog", "version": 1,
                                    "products": [_product(i) for i in range(n)]}, indent=1))
        s = summary(time_calls(lambda p=path: Catalog.load(p), repeats, warmup=1))
        s["us_per_product"] = s["median_ms"] * 1000 / n
        out[f"json_{n}"] = s
        print(f"  JSON feed {n:>7} products: {s['median_ms'] / 1000:7.2f} s  ({s['us_per_product']:.1f} us/product)")
    n = sizes[-1] // 2
    path = tmp / f"feed_{n}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "title", "link", "price", "arlens_kind", "arlens_color", "arlens_finish", "brand",
                         "description"])
        for i in range(n):
            p = _product(i)
            writer.writerow([p["id"], p["title"], p["link"], p["price"], "lipstick", "#A1122B", "satin", "Demo",
                             "A lipstick."])
    s = summary(time_calls(lambda: Catalog.load(path), repeats, warmup=1))
    s["us_per_product"] = s["median_ms"] * 1000 / n
    out[f"csv_{n}"] = s
    print(f"  CSV feed  {n:>7} rows:     {s['median_ms'] / 1000:7.2f} s  ({s['us_per_product']:.1f} us/product)")
    return out


def _grid_glb(path: Path, triangles: int) -> None:
    """A 140 x 40 mm wavy sheet of ``triangles`` triangles (a frame front's proportions), written as GLB."""
    import trimesh

    k = int(np.sqrt(triangles / 2)) + 2
    xs, ys = np.meshgrid(np.linspace(-70, 70, k), np.linspace(-20, 20, k))
    v = np.c_[xs.ravel(), ys.ravel(), 3 * np.sin(xs.ravel() / 10)]
    i = np.arange(k * k).reshape(k, k)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    faces = np.r_[np.c_[a, b, c], np.c_[b, d, c]][:triangles]
    trimesh.Trimesh(v, faces, process=False).export(path)


def bench_meshes(tmp: Path, sizes: list[int], repeats: int) -> dict[str, dict[str, float]]:
    from arlens.errors import AssetError
    from arlens.lenses.eyewear_asset import ImportOptions, import_eyewear

    out = {}
    for n in sizes:
        path = tmp / f"mesh_{n}.glb"
        _grid_glb(path, n)
        options = ImportOptions(frame_width_mm=140, max_triangles=max(n, 200_000))
        s = summary(time_calls(lambda p=path, o=options: import_eyewear(p, o), repeats, warmup=1))
        s["us_per_triangle"] = s["median_ms"] * 1000 / n
        out[f"glb_{n}"] = s
        print(f"  GLB {n:>7} triangles loaded:  {s['median_ms'] / 1000:6.2f} s  "
              f"({s['us_per_triangle']:.2f} us/triangle)")
    big = tmp / "mesh_2000000.glb"
    _grid_glb(big, 2_000_000)

    def refuse() -> None:
        try:
            import_eyewear(big, ImportOptions(frame_width_mm=140))
        except AssetError:
            return
        raise AssertionError("a 2M-triangle GLB was accepted")

    s = summary(time_calls(refuse, repeats, warmup=1))
    out["glb_2000000_refused"] = s
    print(f"  GLB 2000000 triangles refused: {s['median_ms']:7.1f} ms (from the accessors, before building)")
    return out


def bench_bundles(tmp: Path, entries: int, repeats: int) -> dict[str, dict[str, float]]:
    from arlens.catalog.bundle import LensBundle
    from arlens.errors import BundleError

    path = tmp / "many.zip"
    t0 = time.perf_counter()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(entries):
            zf.writestr(zipfile.ZipInfo(f"e{i}"), b"")
    print(f"  (wrote a zip of {entries} empty entries in {time.perf_counter() - t0:.1f} s)")

    def refuse() -> None:
        try:
            LensBundle.load(path)
        except BundleError:
            return
        raise AssertionError("the zip was accepted")

    tracemalloc.start()
    s = summary(time_calls(refuse, repeats, warmup=1))
    s["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"  zip of {entries} entries refused: {s['median_ms']:7.2f} ms, peak {s['peak_mb']:.1f} MB")
    return {f"zip_{entries}_refused": s}


def bench_lipstick(widths: list[float], repeats: int) -> dict[str, dict[str, float]]:
    from arlens import landmarks as L
    from arlens.lenses.lipstick import LipstickLens
    from arlens.tracking.results import Face, bbox_of

    with np.load(ROOT / "tests" / "data" / "grace_hopper.npz") as data:
        face = data["face_mesh_478"][0].astype(np.float64)
    outer = list(L.lips_outer())
    centre = face[outer, :2].mean(axis=0)
    frame = np.full((3000, 4000, 3), 128, np.uint8)
    cases = {}
    for width in widths:
        s = width / np.ptp(face[outer, 0])
        lm = face.copy()
        lm[:, :2] = (lm[:, :2] - centre) * s + (2000, 1500)
        lm[:, 2] *= s
        cases[f"mouth_{width:.0f}px"] = (frame, lm)
    small = np.full((720, 1280, 3), 128, np.uint8)
    for x in (1e5, 6e5):
        lm = face.copy() + (640 - centre[0], 360 - centre[1], 0)
        lm[outer[0], 0] = x
        cases[f"lip_point_at_x_{x:.0f}"] = (small, lm)
    out = {}
    with LipstickLens(color="#A4161A", finish="gloss") as lens:
        for name, (image, lm) in cases.items():
            f = Face(landmarks=lm.astype(np.float32), score=1.0, bbox=bbox_of(lm))
            s = summary(time_calls(lambda im=image, fc=f: lens.render(im, [fc]), repeats, warmup=1))
            tracemalloc.start()
            painted = int((lens.render(image, [f]) != image).any(axis=2).sum())
            s["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            s["painted_px"] = painted
            out[name] = s
            print(f"  lipstick {name:<24} {s['median_ms']:8.1f} ms  peak {s['peak_mb']:7.1f} MB  "
                  f"({painted} px painted, frame {image.shape[1]}x{image.shape[0]})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat (a smoke run)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--zip-entries", type=int, default=1_000_000)
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    result: dict[str, object] = {"metadata": metadata()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print("feeds (Catalog.load):")
        result["feeds"] = bench_feeds(tmp_path, [2_000, 10_000] if args.quick else [10_000, 40_000, 100_000, 200_000],
                                      repeats)
        print("meshes (import_eyewear):")
        result["meshes"] = bench_meshes(tmp_path, [20_000] if args.quick else [100_000, 200_000, 500_000], repeats)
        print("bundles (LensBundle.load):")
        result["bundles"] = bench_bundles(tmp_path, 5_000 if args.quick else args.zip_entries, repeats)
    print("lipstick (LipstickLens.render, numpy backend):")
    result["lipstick"] = bench_lipstick([700.0, 2800.0] if args.quick else [700.0, 1400.0, 2800.0, 5600.0, 11000.0],
                                        repeats)
    write_json(args.json, result)
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
