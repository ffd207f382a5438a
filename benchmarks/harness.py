"""The benchmark contract every script in benchmarks/ follows: warm-up, repeats, median and p95, run
metadata, and a JSON result. Only arlens' public API is timed."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = Path(os.environ.get("ARLENS_TESTDATA", ROOT.parent / "shared" / "testdata"))


def extract_revision(rev: str, folder: Path, paths: Sequence[str] = ("arlens", "assets")) -> Path:
    """Git revision ``rev``'s ``paths`` extracted into ``folder`` (made here); ``folder``."""
    import io
    import tarfile

    try:
        data = subprocess.run(["git", "archive", rev, *paths], cwd=ROOT, capture_output=True, check=True).stdout
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"--baseline-rev {rev}: git archive failed: {exc.stderr.decode(errors='replace').strip()}") \
            from None
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def baseline_tree(rev: str, extract: Sequence[str] = ("arlens",), link: Sequence[str] = ()) -> Path:
    """Git revision ``rev``'s ``arlens`` package (and the other paths in ``extract``) in a temporary folder, the
    package renamed ``arlens_baseline`` with its imports (the catalog's format name, a string feeds carry, kept),
    today's ``link`` folders (e.g. ``assets``, ``models``) linked beside it; the folder, put first on ``sys.path``
    so ``arlens_baseline`` imports beside today's ``arlens`` (what a lockstep ``--baseline-rev`` compares with)."""
    import re
    import tempfile

    folder = extract_revision(rev, Path(tempfile.mkdtemp(prefix="arlens-baseline-")), extract)
    (folder / "arlens").rename(folder / "arlens_baseline")
    for path in (folder / "arlens_baseline").rglob("*.py"):
        text = path.read_text().replace('"arlens.catalog"', "\0")
        path.write_text(re.sub(r"\barlens(?=[.\s])", "arlens_baseline", text).replace("\0", '"arlens.catalog"'))
    for name in link:
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    sys.path.insert(0, str(folder))
    return folder


def summary(ms: Iterable[float]) -> dict[str, float]:
    """Median, p95, mean, min and count of a list of milliseconds."""
    values = np.asarray(list(ms), dtype=np.float64)
    if values.size == 0:
        return {"n": 0}
    return {
        "median_ms": float(np.median(values)),
        "p95_ms": float(np.percentile(values, 95)),
        "mean_ms": float(values.mean()),
        "min_ms": float(values.min()),
        "n": int(values.size),
    }


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int = 5) -> list[float]:
    """Milliseconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux, where ``platform.processor()`` is often empty)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine_speed(repeats: int = 15) -> dict[str, float]:
    """How fast this machine runs the two kinds of work the lenses are made of, in microseconds (the median of
    ``repeats`` timings): ``python_us``, the interpreter (``sum(range(1000))``), and ``numpy_us``, one small array
    operation (a 100x100 float32 product, what a face grid's operations are like).

    The machines these benchmarks run on differ threefold on both (``sum(range(1000))`` has taken 8 to 27 us on
    the 2-core machines of one week), and the lenses' figures with them: a figure is comparable with another
    taken on a machine of about the same speed, or as a ratio measured in one run."""
    a = np.full((100, 100), 1.5, np.float32)
    b = a.copy()

    def per_call(fn: Callable[[], Any], n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n * 1e6

    python = [per_call(lambda: sum(range(1000)), 200) for _ in range(repeats)]
    numpy = [per_call(lambda: a * b, 200) for _ in range(repeats)]
    return {"python_us": statistics.median(python), "numpy_us": statistics.median(numpy)}


def speed_line(speed: dict[str, float]) -> str:
    """One printed line naming this machine and its speed (``speed``: :func:`machine_speed`'s), with the load now,
    for a benchmark's header."""
    return (f"machine: {cpu_model() or platform.machine()}, {os.cpu_count()} CPUs; "
            f"sum(range(1000)) {speed['python_us']:.1f} us, a 100x100 float32 product {speed['numpy_us']:.1f} us; "
            f"load {os.getloadavg()[0]:.1f}")


def metadata() -> dict[str, Any]:
    """Where and with what the figures were measured, and how fast the machine was (:func:`machine_speed`)."""
    import onnxruntime as ort

    import arlens

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=False).stdout.strip()
    except OSError:
        commit = ""
    return {
        "arlens": arlens.__version__,
        "commit": commit,
        "python": sys.version.split()[0],
        "onnxruntime": ort.__version__,
        "providers": ort.get_available_providers(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "speed": machine_speed(),
        "load_average": os.getloadavg(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_json(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=float) + "\n")


def print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'stage':<28}{'median ms':>11}{'p95 ms':>10}")
    for name, s in rows.items():
        if s.get("n"):
            print(f"  {name:<28}{s['median_ms']:>11.2f}{s['p95_ms']:>10.2f}")


def stage_summaries(per_call: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per-stage summaries from a list of ``tracker.timings`` dicts (a stage absent in a call counts as 0)."""
    stages = sorted({k for t in per_call for k in t})
    return {k: summary(t.get(k, 0.0) for t in per_call) for k in stages}


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def pickup_summary(delays: Sequence[int | None], window: int) -> dict[str, float | int]:
    """A new hand's pickup delays in frames (None: not picked up within ``window`` frames, counted as ``window``):
    their mean, their maximum and how many were missed."""
    frames = [window if d is None else d for d in delays]
    return {"delay_frames_mean": float(np.mean(frames)), "delay_frames_max": int(np.max(frames)),
            "missed": int(sum(d >= window for d in frames))}


def write_plot(path: Path, title: str, bars: dict[str, dict[str, float]]) -> Path | None:
    """A horizontal bar chart of median (and p95 as an error tick) milliseconds per stage, as PNG.

    ``bars`` maps a label to a :func:`summary` dict. Needs matplotlib (the ``dev`` extra); without it
    nothing is written and None is returned.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels = [k for k, s in bars.items() if s.get("n")]
    med = [bars[k]["median_ms"] for k in labels]
    p95 = [bars[k]["p95_ms"] - bars[k]["median_ms"] for k in labels]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(labels) + 1.2))
    ax.barh(labels[::-1], med[::-1], xerr=[[0] * len(labels), p95[::-1]], color="#4C72B0", capsize=3)
    for y, (v, extra) in enumerate(zip(med[::-1], p95[::-1], strict=True)):
        ax.text(v + extra, y, f"  {v:.2f}", va="center", fontsize=8)  # after the p95 tick
    ax.set_xlabel("milliseconds per frame (median; tick = p95)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lockstep_parser(doc: str, out_name: str, rounds_help: str) -> argparse.ArgumentParser:
    """The options every lockstep benchmark takes: the clip's length, the peer's interpreter, the number
    of passes and the JSON path; each script adds its own, then calls :func:`parse_lockstep_args`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames-per-still", type=int, default=60)
    parser.add_argument("--peer-python", help="interpreter of a venv with mediapipe==0.10.21")
    parser.add_argument("--rounds", type=int, default=2, help=rounds_help)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / out_name)
    return parser


def parse_lockstep_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line and refuse counts below 1 with the option's name."""
    args = parser.parse_args()
    for name in ("rounds", "frames_per_still"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    return args


def still_at_height(rel: str, height: int = 720) -> np.ndarray:
    """A test still (path under ``TESTDATA``) scaled to ``height`` pixels (area interpolation), or exit saying
    where it was looked for."""
    import cv2

    image = cv2.imread(str(TESTDATA / rel))
    if image is None:
        raise SystemExit(f"cannot read {TESTDATA / rel} (set ARLENS_TESTDATA)")
    scale = height / image.shape[0]
    return cv2.resize(image, (round(image.shape[1] * scale), height), interpolation=cv2.INTER_AREA)


def make_clip(stills: Sequence[str], frames_per_still: int, drift_px: int, width: int = 1280,
              height: int = 720) -> np.ndarray:
    """A (N, height, width, 3) clip: each test still scaled to the frame height on a grey canvas, drifting
    sideways by up to ``drift_px`` so tracking has motion to follow."""
    clip = []
    for rel in stills:
        image = still_at_height(rel, height)
        for i in range(frames_per_still):
            canvas = np.full((height, width, 3), 96, np.uint8)
            x = (width - image.shape[1]) // 2 + round(drift_px * np.sin(i / 8))
            canvas[:, x : x + image.shape[1]] = image
            clip.append(canvas)
    return np.stack(clip)


def make_face_hand_clip(stills: Sequence[str], frames_per_still: int, hand: str = "hands/pointing.jpg",
                        hand_height: int = 380, hand_from: int = 0, width: int = 1280,
                        height: int = 720, drift_px: int = 40, noise: float = 0.0) -> np.ndarray:
    """:func:`make_clip`'s drifting faces with a hand beside the face: the hand photo cut out of its black
    background (``hard_scenes.cutout``), ``hand_height`` pixels tall, pasted right of the face at chin
    height and bobbing on its own rhythm (as far as the faces drift), from frame ``hand_from`` of each
    still on (earlier frames have the face alone: a hand coming into view). ``noise``: a camera's sensor
    noise, fresh Gaussian noise of that sigma (grey levels) on every frame."""
    import cv2
    from hard_scenes import cutout

    photo = cv2.imread(str(TESTDATA / hand))
    if photo is None:
        raise SystemExit(f"cannot read {TESTDATA / hand} (set ARLENS_TESTDATA)")
    matte = cutout(photo)
    ys, xs = np.nonzero(matte > 0.05)
    tight = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    photo, matte = photo[tight], matte[tight]
    scale = hand_height / photo.shape[0]
    size = (round(photo.shape[1] * scale), hand_height)
    photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.resize(matte, size, interpolation=cv2.INTER_AREA)[..., None]
    clip = make_clip(stills, frames_per_still, drift_px=drift_px, width=width, height=height)
    rng = np.random.default_rng(0)
    for k, frame in enumerate(clip):
        i = k % frames_per_still
        if i >= hand_from:
            bob = drift_px / 40.0
            x = width - size[0] - 40 + round(30 * bob * np.sin(i / 6))
            y = height - size[1] - 20 + round(20 * bob * np.cos(i / 5))
            region = frame[y : y + size[1], x : x + size[0]].astype(np.float32)
            frame[y : y + size[1], x : x + size[0]] = np.rint(photo * alpha + region * (1 - alpha)).astype(np.uint8)
        if noise > 0:
            frame[:] = np.clip(frame + rng.normal(0.0, noise, frame.shape), 0, 255).astype(np.uint8)
    return clip


class PeerServer:
    """MediaPipe's legacy solution ``task`` in the peer's interpreter (peer_mediapipe.py), one frame per call.

    For lockstep benchmarks: ``peer.process(i)`` runs frame ``i`` of ``clip`` there and returns the
    milliseconds MediaPipe's ``process()`` took (timed inside the peer) and whether it found something.
    """

    def __init__(self, python: str, clip: np.ndarray, task: str, max_faces: int = 1):
        import tempfile

        self._tmp = tempfile.TemporaryDirectory()
        path = Path(self._tmp.name) / "frames.npy"
        np.save(path, clip)
        self._proc = subprocess.Popen([python, str(Path(__file__).with_name("peer_mediapipe.py")), str(path),
                                       "--task", task, "--max-faces", str(max_faces)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.info = self._read()

    def _read(self) -> dict[str, Any]:
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the peer exited (code {self._proc.wait()}); run it by hand to see why")
        return json.loads(line)

    def _ask(self, request: str) -> dict[str, Any]:
        self._proc.stdin.write(request + "\n")
        return self._read()

    def process(self, index: int) -> tuple[float, bool]:
        """Milliseconds of MediaPipe's ``process()`` on frame ``index`` and whether it found something (how
        many faces or hands: :attr:`last_count`)."""
        answer = self._ask(str(index))
        self.last_count = int(answer["found"])
        self.last_faces, self.last_hands = int(answer.get("faces", 0)), int(answer.get("hands", 0))
        return answer["ms"], self.last_count > 0

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.write("quit\n")
            self._proc.stdin.close()
            self._proc.wait(timeout=30)
        self._tmp.cleanup()

    def __enter__(self) -> PeerServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
