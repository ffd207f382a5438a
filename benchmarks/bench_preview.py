#!/usr/bin/env python3
"""Catalog preview throughput: renders per second with 1 and 2 workers on the local and the Ray engine,
memory per worker, and how many workers a 1M-render line needs to finish in an hour.

Each run is ``arlens.preview.preview_catalog`` with ``force=True`` (everything rendered again) on the same
photos and products; the variants run interleaved (local 1, local 2, ray 1, ray 2, then again) so that a
change in the machine's load hits them alike, and medians over the rounds are reported. Renders per
second are over the two stages with the workers already started (``PreviewReport.render_seconds``); Ray
is started once, before the first round (``ray.init(num_cpus=2)``), as the tests do.

Per-render and per-photo costs come from the index each run writes (``seconds`` of each render: draw,
PNG encode, write, close-up; of each photo: decode and track; lens builds separately). The projection
divides a 1M-render line (10,000 products x 100 photos) by them.

    python benchmarks/bench_preview.py [--rounds 3] [--copies 2] [--out benchmarks/results/preview.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

from arlens.catalog import Catalog  # noqa: E402
from arlens.preview import PreviewOptions, preview_catalog  # noqa: E402

STILLS = ("faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png")
VARIANTS = (("local", 1), ("local", 2), ("ray", 1), ("ray", 2))
LINE_RENDERS = 1_000_000
LINE_PHOTOS = 100
LINE_PRODUCTS = LINE_RENDERS // LINE_PHOTOS


def write_photos(folder: Path, copies: int) -> list[Path]:
    """The test stills on 1280x720 canvases (a phone photo's size), mirrored and shifted for more photos."""
    out = []
    for rel in STILLS:
        image = harness.still_at_height(rel, 720)
        for c in range(copies):
            canvas = np.full((720, 1280, 3), 96, np.uint8)
            x = (1280 - image.shape[1]) // 2 + (c - copies // 2) * 120
            canvas[:, x : x + image.shape[1]] = image if c % 2 == 0 else image[:, ::-1]
            path = folder / f"{Path(rel).stem}_{c}.png"
            cv2.imwrite(str(path), canvas)
            out.append(path)
    return out


def costs(out: Path) -> dict[str, float]:
    index = json.loads((out / "index.json").read_text())
    renders = index["renders"]
    draw = [r["seconds"] for r in renders]
    builds = [r["lens_seconds"] for r in renders if r.get("lens_seconds", 0) > 1e-3]
    # a lens is built on a render's clock only the first time a worker draws that product (then it is cached)
    first = {}
    for r in sorted(renders, key=lambda r: -r.get("lens_seconds", 0)):
        first.setdefault(r["product"], r)
    build_by_kind: dict[str, list[float]] = {}
    for r in first.values():
        build_by_kind.setdefault(r["kind"], []).append(r["lens_seconds"])
    # a worker's first photo carries ONNX Runtime's first-run set-up; steady state is what a long job sees
    photos = [p["seconds"] for p in index["photos"] if p.get("seconds") and not p.get("first_on_worker")] or [
        p["seconds"] for p in index["photos"] if p.get("seconds")]
    return {
        "render_ms_median": 1000 * statistics.median(draw),
        "render_ms_mean": 1000 * statistics.fmean(draw),
        "photo_ms_median": 1000 * statistics.median(photos),
        "lens_build_ms_total": 1000 * sum(builds),
        "lens_builds": len(builds),
        "lens_build_ms_by_kind": {k: 1000 * statistics.median(v) for k, v in build_by_kind.items()},
        "renders": len(renders),
        "photos": len(photos),
    }


def run(engine: str, workers: int, photos: Path, catalog: Catalog, out: Path) -> dict:
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    report = preview_catalog(photos, out, catalog=catalog,
                             options=PreviewOptions(engine=engine, workers=workers, force=True))
    total = time.perf_counter() - t0
    assert not report.failed, report.failed
    return {
        "engine": engine,
        "workers": workers,
        "rendered": report.rendered,
        "renders_per_s": report.images_per_second,
        "render_seconds": report.render_seconds,
        "total_seconds": total,
        "worker_peak_rss_mb": [round(s["peak_rss_mb"], 1) for s in report.worker_stats],
        "load_before": round(load, 2),
        **costs(out),
    }


def png_encode_ms(photo: Path, repeats: int = 15) -> float:
    """Median time to PNG-encode one 1280x720 render (OpenCV's default settings, as the workers do)."""
    image = cv2.imread(str(photo))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        cv2.imencode(".png", image)
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def projection(runs: list[dict], eyewear_share: float, photos_per_task: int) -> dict:
    """Workers for 1M renders in an hour, bottom-up from measured costs and top-down from measured throughput.

    Lens builds: in a 10,000-product line no worker keeps every lens, so a product's lens is built once per
    stage-two task that holds it, i.e. once per ``photos_per_task`` photos; eyewear (an OpenGL context and a
    mesh each) in the demo catalog's share of the line, lipsticks the rest.
    """
    one = [r for r in runs if r["workers"] == 1]
    two = [r for r in runs if r["workers"] == 2]
    render_s = statistics.median(r["render_ms_mean"] for r in one) / 1000
    photo_s = statistics.median(r["photo_ms_median"] for r in one) / 1000
    by_kind = {k: statistics.median(r["lens_build_ms_by_kind"][k] for r in one if k in r["lens_build_ms_by_kind"])
               / 1000 for k in ("lipstick", "eyewear")}
    builds = LINE_PRODUCTS * math.ceil(LINE_PHOTOS / photos_per_task)
    build_s = builds * (eyewear_share * by_kind["eyewear"] + (1 - eyewear_share) * by_kind["lipstick"])
    build_share = build_s / LINE_RENDERS
    worker_seconds = LINE_RENDERS * render_s + build_s + LINE_PHOTOS * photo_s
    per_worker_1 = statistics.median(r["renders_per_s"] for r in one)
    per_worker_2 = statistics.median(r["renders_per_s"] for r in two) / 2
    return {
        "line": f"{LINE_PRODUCTS} products x {LINE_PHOTOS} photos = {LINE_RENDERS} renders in 3600 s",
        "render_s": render_s,
        "photo_s": photo_s,
        "lens_build_s_per_render": build_share,
        "lens_build_s_by_kind": by_kind,
        "eyewear_share": eyewear_share,
        "worker_seconds": worker_seconds,
        "workers_from_costs": math.ceil(worker_seconds / 3600),
        "workers_from_1_worker_throughput": math.ceil(LINE_RENDERS / 3600 / per_worker_1),
        "workers_from_2_worker_throughput": math.ceil(LINE_RENDERS / 3600 / per_worker_2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2, help="photos per still (mirrored and shifted)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "preview.json")
    args = parser.parse_args()
    if args.rounds < 1 or args.copies < 1:
        parser.error("--rounds and --copies must be >= 1")
    import ray

    demo = Catalog.default()
    catalog = Catalog([p for p in demo if p.kind is not None and p.kind.value in ("lipstick", "eyewear")])
    result: dict = {"benchmark": "preview", "meta": harness.metadata(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        photos = Path(tmp) / "photos"
        photos.mkdir()
        written = write_photos(photos, args.copies)
        n_photos = len(written)
        encode = png_encode_ms(written[0])
        result["photos"], result["products"] = n_photos, len(catalog)
        print(f"{n_photos} photos (1280x720) x {len(catalog)} products (lipsticks, eyewear) = "
              f"{n_photos * len(catalog)} renders per run, {args.rounds} rounds, variants interleaved")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            for r in range(args.rounds):
                for engine, workers in VARIANTS:
                    res = run(engine, workers, photos, catalog, Path(tmp) / f"out-{engine}-{workers}")
                    res["round"] = r
                    result["runs"].append(res)
                    print(f"  round {r} {engine:<5} x{workers}: {res['renders_per_s']:6.1f} renders/s "
                          f"(render {res['render_ms_median']:.1f} ms, photo {res['photo_ms_median']:.1f} ms, "
                          f"workers {res['worker_peak_rss_mb']} MiB peak, load {res['load_before']})")
        finally:
            ray.shutdown()
    runs = result["runs"]
    table = {}
    for engine, workers in VARIANTS:
        sel = [x for x in runs if (x["engine"], x["workers"]) == (engine, workers)]
        table[f"{engine} x{workers}"] = {
            "renders_per_s_median": statistics.median(x["renders_per_s"] for x in sel),
            "total_seconds_median": statistics.median(x["total_seconds"] for x in sel),
            "worker_peak_rss_mb_median": statistics.median(m for x in sel for m in x["worker_peak_rss_mb"]),
            "render_ms_median": statistics.median(x["render_ms_median"] for x in sel),
        }
    result["summary"] = table
    eyewear = sum(1 for p in catalog if p.kind is not None and p.kind.value == "eyewear") / len(catalog)
    result["projection"] = projection(runs, eyewear, PreviewOptions().photos_per_task)
    result["png_encode_ms_1280x720"] = encode
    print(f"\nmedians over {args.rounds} rounds (load average before the runs: "
          f"{min(x['load_before'] for x in runs)}-{max(x['load_before'] for x in runs)} on {os.cpu_count()} CPUs)")
    print(f"  {'variant':<10}{'renders/s':>11}{'run s':>8}{'render ms':>11}{'MiB/worker':>12}")
    for name, row in table.items():
        print(f"  {name:<10}{row['renders_per_s_median']:>11.1f}{row['total_seconds_median']:>8.1f}"
              f"{row['render_ms_median']:>11.1f}{row['worker_peak_rss_mb_median']:>12.0f}")
    for engine in ("local", "ray"):
        ratio = table[f"{engine} x2"]["renders_per_s_median"] / table[f"{engine} x1"]["renders_per_s_median"]
        print(f"  {engine}: 2 workers / 1 worker = {ratio:.2f}x")
    rate = {name: row["renders_per_s_median"] for name, row in table.items()}
    print(f"  ray / local: 1 worker {rate['ray x1'] / rate['local x1']:.2f}x, "
          f"2 workers {rate['ray x2'] / rate['local x2']:.2f}x")
    p = result["projection"]
    print(f"\nprojection: {p['line']}")
    build = p["lens_build_s_by_kind"]
    print(f"  per render {1000 * p['render_s']:.1f} ms (PNG encoding alone: {encode:.1f} ms) + lens builds "
          f"{1000 * p['lens_build_s_per_render']:.2f} ms (eyewear {1000 * build['eyewear']:.0f} ms, "
          f"lipstick {1000 * build['lipstick']:.1f} ms each, {p['eyewear_share']:.0%} eyewear), "
          f"per photo {1000 * p['photo_s']:.1f} ms -> {p['worker_seconds'] / 3600:.1f} worker-hours")
    print(f"  workers needed: {p['workers_from_costs']} (from these costs), {p['workers_from_1_worker_throughput']} "
          f"(from 1-worker throughput), {p['workers_from_2_worker_throughput']} (from 2-worker throughput per worker)")
    harness.write_json(args.out, result)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
