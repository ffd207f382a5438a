"""The web service's speed, measured end to end: glass-to-glass latency and fps of the mirror page in a real
browser, and the HTTP API's throughput and memory.

``latency``: Debian's chromium (Playwright) plays a fake camera clip of a test face at 640x480 and at 1280x720
into the mirror page of a real uvicorn server (``create_app``, lipstick and glasses on). The page measures,
for every rendered frame it puts on screen, the time from the camera frame's capture (``captureTime`` of
``requestVideoFrameCallback``) to its rendered version being drawn: JPEG encode in the page, the socket both
ways, decode, tracking and drawing on the server, JPEG back, decode and draw. Printed: p50/p95 of that, frames
on screen per second, and the server's own time per frame. The browser and the server share this machine's
cores, as a kiosk's would.

``api``: ``arlens serve`` as its own process; ``--requests`` uploads of a 1280x720 JPEG photo to
``POST /v1/try-on`` (lipstick, JPEG back), four at a time; printed: requests per second, latency p50/p95, and
the server's resident memory after a warm-up and after all requests.

    python benchmarks/bench_web.py [--part latency|api|both] [--seconds 15] [--requests 1000]
        [--sizes 640x480,1280x720] [--inflight 1,2] [--hands auto,off] [--rounds 3]   # variants interleaved
        [--screenshots DIR]      # also writes the page at 1280x800 and on a 420 px phone, QR and share page
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402

from tests.web.browser import (  # noqa: E402 - the tests' browser helpers (fake camera clip, server thread)
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    camera_args,
    free_port,
    write_y4m,
)

PORTRAIT = harness.ROOT / "tests" / "data" / "astronaut.png"


def selfie() -> np.ndarray:
    """The portrait's head and shoulders, framed as a selfie (the whole 512x512 portrait scaled into a 720p
    frame leaves a face too small for the short-range face detector, as a person across a room would be)."""
    return cv2.imread(str(PORTRAIT))[0:320, 64:384]


def framed(face: np.ndarray, width: int, height: int) -> np.ndarray:
    """``face`` scaled to 95% of the height and centred on grey."""
    out = np.full((height, width, 3), 90, np.uint8)
    side = int(0.95 * height)
    y0, x0 = (height - side) // 2, (width - side) // 2
    out[y0:y0 + side, x0:x0 + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    return out


def latency(sizes: list[tuple[int, int]], seconds: float, tmp: Path, shots: Path | None,
            inflight: list[int], hands: list[str], rounds: int) -> dict:
    import contextlib

    from playwright.sync_api import sync_playwright

    from arlens.web import WebOptions, create_app

    face = selfie()
    results: dict[str, list[dict]] = {}
    with contextlib.ExitStack() as stack:
        servers = {}
        for mode in hands:  # one server per hands setting, all up at once so runs can interleave
            app = create_app(WebOptions(workers=2, share_dir=tmp / "shares",
                                        hands={"auto": None, "on": True, "off": False}[mode]))
            servers[mode] = stack.enter_context(Server(app))
        p = stack.enter_context(sync_playwright())
        for w, h in sizes:
            y4m = write_y4m(tmp / f"face-{w}x{h}.y4m", face, w, h, frames=60)
            for round_ in range(rounds):  # variants interleaved: A, B, A, B ...
                for mode, server in servers.items():
                    for n in inflight:
                        row = one_run(p, server.url, y4m, seconds, n)
                        key = f"{w}x{h} hands={mode} inflight={n}"
                        results.setdefault(key, []).append(row)
                        print(f"{key} round {round_ + 1}: glass-to-glass p50 {row['median_ms']:.0f} ms, "
                              f"p95 {row['p95_ms']:.0f} ms over {row['n']} frames; {row['fps']:.1f} fps on screen "
                              f"({row['sent_fps']:.1f} sent); server {row['server_ms_median']:.1f} ms/frame median; "
                              f"faces {row['faces']}; load {row['load_average_1m'][0]:.2f} -> "
                              f"{row['load_average_1m'][1]:.2f}", flush=True)
            if shots is not None and (w, h) == sizes[0]:
                server = next(iter(servers.values()))
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera_args(y4m))
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{server.url}/?product=LIP-004&product=EYE-101")
                page.wait_for_function("window.arlensStats && window.arlensStats.shown > 30", timeout=60000)
                screenshots(page, server.url, shots)
                browser.close()
    for key, rows in results.items():
        print(f"{key}: median over {len(rows)} runs: p50 {harness.median(r['median_ms'] for r in rows):.0f} ms, "
              f"p95 {harness.median(r['p95_ms'] for r in rows):.0f} ms, "
              f"{harness.median(r['fps'] for r in rows):.1f} fps")
    return results


def one_run(p, url: str, y4m: Path, seconds: float, inflight: int) -> dict:
    """One browser on the fake camera for ``seconds`` after a warm-up; the page's own figures."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera_args(y4m))
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/?product=LIP-004&product=EYE-101&inflight={inflight}")
        page.wait_for_function("window.arlensStats && window.arlensStats.shown > 30", timeout=60000)
        time.sleep(2.0)  # warm: lenses built, tracking locked on
        start = page.evaluate("({shown: arlensStats.shown, n: arlensStats.latencies.length, sent: arlensStats.sent,"
                              " t: performance.now()})")
        load0 = os.getloadavg()[0]
        server_ms = []
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            time.sleep(0.5)
            frame = page.evaluate("arlensStats.lastFrame")
            if frame and frame.get("server_ms") is not None:
                server_ms.append(frame["server_ms"])
        end = page.evaluate("({shown: arlensStats.shown, lat: arlensStats.latencies, sent: arlensStats.sent,"
                            " t: performance.now(), faces: arlensStats.lastFrame.faces})")
    finally:
        browser.close()
    lat = end["lat"][start["n"] if start["n"] < len(end["lat"]) else 0:]
    span = (end["t"] - start["t"]) / 1000
    return {**harness.summary(lat), "fps": (end["shown"] - start["shown"]) / span,
            "sent_fps": (end["sent"] - start["sent"]) / span, "server_ms_median": harness.median(server_ms),
            "faces": end["faces"], "load_average_1m": [load0, os.getloadavg()[0]]}


def screenshots(page, url: str, out: Path) -> None:
    """The page at 1280x800 and 420 px, product on and QR shown, and the share page's unfurl data."""
    import re

    import httpx

    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "mirror-1280x800.png"))
    page.click("#buy")
    page.wait_for_selector("#qr-card:not([hidden])")
    time.sleep(0.5)
    page.screenshot(path=str(out / "mirror-1280x800-qr.png"))
    page.set_viewport_size({"width": 420, "height": 860})
    time.sleep(1.0)
    page.screenshot(path=str(out / "mirror-420-qr.png"))
    page.click("#qr-card .close")
    page.click("#snap")
    page.wait_for_selector("#shot-card:not([hidden])")
    page.click("#share")
    page.wait_for_selector("#shot-share:not([hidden])")
    time.sleep(0.5)
    page.screenshot(path=str(out / "mirror-420-shared.png"))
    share = page.get_attribute("#share-link", "href")
    html = httpx.get(share).text
    (out / "share.html").write_text(html)
    og = re.findall(r'<meta property="([^"]+)" content="([^"]*)">', html)
    ld = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    (out / "unfurl.txt").write_text("\n".join(f"{k}: {v}" for k, v in og) + "\n\n" + "\n".join(ld) + "\n")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(share)
    page.screenshot(path=str(out / "share-page.png"), full_page=True)
    print(f"screenshots and unfurl data in {out}")


def api(requests: int, warmup: int, tmp: Path) -> dict:
    import httpx

    photo = framed(selfie(), 1280, 720)
    jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "arlens", "serve", "--port", str(port), "--workers", "2",
                             "--share-dir", str(tmp / "shares")], cwd=tmp)
    url = f"http://127.0.0.1:{port}/v1/try-on"
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/products", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)

        def one(_: int) -> float:
            t0 = time.perf_counter()
            r = httpx.post(url, params={"products": "LIP-004", "format": "jpeg"},
                           files={"image": ("p.jpg", jpeg, "image/jpeg")}, timeout=120)
            assert r.status_code == 200 and r.headers["x-arlens-drawn"] == "true", r.text[:200]
            return (time.perf_counter() - t0) * 1000

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, range(warmup)))
            rss0 = rss_mb(proc.pid)
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            ms = list(pool.map(one, range(requests)))
            wall = time.perf_counter() - t0
            rss1 = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(20)
    row = {**harness.summary(ms), "rps": requests / wall, "warmup": warmup, "rss_before_mb": rss0, "rss_after_mb": rss1,
           "load_average_1m": [load0, os.getloadavg()[0]]}
    print(f"API, 1280x720 JPEG photos, lipstick, JPEG back, 4 at a time: {row['rps']:.1f} requests/s; latency "
          f"p50 {row['median_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms; server RSS {rss0:.0f} MiB after {warmup} "
          f"warm-up requests, {rss1:.0f} MiB after {requests} more; load {load0:.2f} -> {os.getloadavg()[0]:.2f}")
    return row


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("latency", "api", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=15.0, help="measuring time per run")
    parser.add_argument("--inflight", default="2", help="frames in flight to compare, e.g. 1,2 (interleaved)")
    parser.add_argument("--hands", default="auto", help="server hands settings to compare, e.g. auto,off")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant, interleaved")
    parser.add_argument("--sizes", default="640x480,1280x720", help="camera sizes")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=200, help="API requests before memory is first read")
    parser.add_argument("--screenshots", type=Path, help="write screenshots and the share page's unfurl data here")
    parser.add_argument("--out", type=Path, default=harness.ROOT / "benchmarks" / "results" / "web.json")
    args = parser.parse_args()
    import tempfile

    result: dict = {"meta": harness.metadata()}
    with tempfile.TemporaryDirectory(prefix="arlens-bench-web-") as tmp:
        if args.part in ("latency", "both"):
            sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
            inflight = [int(n) for n in args.inflight.split(",")]
            result["latency"] = latency(sizes, args.seconds, Path(tmp), args.screenshots, inflight,
                                        args.hands.split(","), args.rounds)
        if args.part in ("api", "both"):
            result["api"] = api(args.requests, args.warmup, Path(tmp))
    harness.write_json(args.out, result)
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
