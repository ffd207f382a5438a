#!/usr/bin/env python3
"""The whole kiosk at 1280x720: a full try-on frame against MediaPipe's tracking alone, and the kiosk loop's fps.

Issue #23. The clip is bench_tryon's (the test portraits scaled to 720 px high on a grey canvas, drifting
sideways) with a hand beside the face (``harness.make_face_hand_clip``: ``hands/pointing.jpg`` cut out of
its black background, curled fingers' nails to the camera). The products are a lipstick, a pair of glasses
and a nail polish (``--products``).

``tryon``: ``TryOn`` on every frame, each variant (``--variants``) and then the peer in lockstep, frame i
by every variant (in an order that turns round from frame to frame) and then by MediaPipe's FaceMesh
(refine_landmarks=True) and Hands (max_num_hands=2) in the peer's own process (``peer_mediapipe.py``,
task ``face_mesh_refined+hands``), so each pair is taken milliseconds apart however the shared machine's
speed drifts. Variants:

- ``process``: ``TryOn.process``, track then draw each frame (sequential);
- ``submit``: ``TryOn.submit``, the frame tracked on the session's worker thread while the previous one
  is drawn; each call returns the previous frame;
- ``submit_process``: ``submit`` with the tracking in a worker process of the session's
  (``TryOnOptions.tracking_process``): the drawing and the tracking then never wait for each other's GIL;
  its CPU column adds the worker's CPU time (Linux);
- ``submit_process_second3``: ``submit_process`` with a second hand looked for on every third frame, as a
  first hand is (``TryOnOptions.hand_search_interval_tracking=None``; by default on one frame in six while a
  hand is tracked): what the default saves;
- ``process_serial``: ``process`` with the faces and the hands tracked one after the other on the caller's
  thread (``TryOnOptions.parallel_tracking=False``; by default the hands are tracked on a thread of their own
  while the faces are);
- ``process_mp``: ``process`` with MediaPipe's tracking cadence (``hand_search_interval=1``: palm detection
  on every frame while fewer than two hands are tracked) and every refinement branch of the face mesh
  (``refine_landmarks="all"``): what the defaults save.

Printed per variant: the time per frame (throughput: a stream's frames per second is 1000 / this; for
``submit`` one call), its latency (frame in -> rendered frame out: ``process``'s call; ``submit``'s two
calls, the one that tracked the frame and the one that drew it, back to back), the CPU time of the process
per frame (all threads: on a machine with a core to spare ``submit`` can take the longer stage's time,
not the sum), per-stage medians, and the pairwise median ratio to the peer (goal <= 1.0).

``still``: the same on a clip whose faces and hand do not move, with fresh sensor noise (sigma 2 grey levels)
on every frame (a shopper standing still): ``process`` and ``process_redraw`` (the glasses drawn by OpenGL
on every frame; by default a drawing is reused while the glasses move less than half a pixel,
``EyewearOptions.reuse_px``).

``kiosk``: the kiosk loop (``arlens.kiosk.Kiosk``: camera read -> ``TryOn`` -> mirrored frame with its
HUD -> screen) on the clip written as a Motion-JPEG file (what a USB webcam sends; decoding it is the
read), runs of ``--kiosk-frames`` frames in each mode (``--kiosk-modes``: ``sequential``, ``pipelined`` =
``TryOn.submit``, ``read_ahead`` = the next frame read and decoded on a thread of its own while this one is
tracked and drawn, ``pipelined_read_ahead`` = both, ``pipelined_process`` = ``pipelined`` with
``TryOnOptions.tracking_process``, ``pipelined_process_read_ahead`` = that and ``read_ahead``; default the
first two) alternated (``--kiosk-runs``
each), gestures on as ``arlens mirror`` has them. Headless by default (everything but showing the image);
``--display`` shows it in a window on an Xvfb server. Printed: frame time median and p95 over the loop (read
to read), fps (goal >= 30), latency median and p95 (from the end of a frame's read, when a camera's frame is
as new as it gets, to its screen: pipelined shows it a loop later, read ahead it may wait a loop before it is
tracked), and each mode's ratio to the first over neighbouring runs.

``pickup``: what searching for new hands on fewer frames costs (``TryOnOptions.hand_search_interval``): a
hand comes into view beside the face again and again, after 6 to 11 frames without it (every phase of the
search's cadence), and each interval's session (nail polish on: hands are looked for everywhere) runs
on the same frames, interleaved. Printed per interval: frames from the hand's first frame to the first
result with it (mean and max; 0 = at once), and the hand tracking's median time per frame with no hand
in view and with one.

``scale``: that drawing costs what the faces and hands need, not what the frame holds: the lipstick and the
nail polish (the lenses whose work lies in the face's and hand's boxes only; the glasses' projection depends
on the camera, which changes with the frame) with the frame's scene on the same faces and hands in the
1280x720 frame and in a 3840x2160 frame with the same picture in its corner, interleaved. Printed: each
one's median milliseconds and the ratio (1.0: nothing scales with the frame), and the frame copy a session
makes of each.

    python benchmarks/bench_kiosk.py [--peer-python /work/venv-mp/bin/python] [--parts tryon,kiosk,pickup]
        [--variants process,submit] [--rounds 2] [--frames-per-still 60] [--display] [--out results/kiosk.json]
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

import arlens  # noqa: E402

STILLS = ("faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png")
PRODUCTS = ("LIP-001", "EYE-101", "NAIL-201")
#: kiosk loop modes: (KioskOptions.pipelined, KioskOptions.read_ahead, TryOnOptions.tracking_process)
KIOSK_MODES = {"sequential": (False, False, False), "pipelined": (True, False, False),
               "read_ahead": (False, True, False), "pipelined_read_ahead": (True, True, False),
               "pipelined_process": (True, False, True),
               "pipelined_process_read_ahead": (True, True, True)}
PEER_TASK = "face_mesh_refined+hands"
PARTS = ("tryon", "still", "kiosk", "pickup", "scale")
#: Session variants: name -> (TryOnOptions overrides, pipelined, EyewearOptions overrides).
VARIANTS: dict[str, tuple[dict[str, Any], bool, dict[str, Any]]] = {
    "process": ({}, False, {}),
    "submit": ({}, True, {}),
    # submit with the tracking in a worker process (TryOnOptions.tracking_process): no GIL shared with the drawing
    "submit_process": ({"tracking_process": True}, True, {}),
    # the same with a second hand looked for as often as a first (every third frame while one hand is tracked;
    # the default looks on one frame in six then, TryOnOptions.hand_search_interval_tracking)
    "submit_process_second3": ({"tracking_process": True, "hand_search_interval_tracking": None}, True, {}),
    # MediaPipe's cadence and refinement: palm search on every frame, every refinement branch
    "process_mp": ({"hand_search_interval": 1, "refine_landmarks": "all"}, False, {}),
    # faces and hands tracked one after the other on one thread (TryOnOptions.parallel_tracking off)
    "process_serial": ({"parallel_tracking": False}, False, {}),
    # the glasses drawn by OpenGL on every frame (no reuse of the last drawing)
    "process_redraw": ({}, False, {"reuse_px": 0.0}),
}


class _Variant:
    """One session driven frame by frame, sequential or pipelined, with its timings."""

    def __init__(self, name: str, products: list[str], overrides: dict[str, Any], pipelined: bool,
                 eyewear: dict[str, Any]) -> None:
        from arlens.lenses.registry import LensSpec, default_registry

        self.name = name
        self.pipelined = pipelined
        options = arlens.TryOnOptions(event_delivery="inline", **overrides)
        registry = default_registry()
        if eyewear:  # the built-in eyewear lens with other options
            from arlens.lenses.eyewear import EyewearLens

            def factory(product: Any, *, catalog: Any = None, options: Any = None) -> EyewearLens:
                model = catalog.model_path(product) if catalog is not None and product.id in catalog else None
                extra = {"model": model} if model is not None and model.is_file() else {}
                return EyewearLens.from_product(product, **extra, **eyewear)

            spec = registry["eyewear"]
            registry.register(LensSpec(spec.kind, factory, spec.target, spec.layer, spec.refinements), replace=True)
        self.session = arlens.TryOn(products=products, options=options, registry=registry)
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.stages: list[dict[str, float]] = []
        self.faces = self.hands = 0

    def _cpu_s(self) -> float:
        """CPU seconds of this process and, with ``tracking_process``, of the session's tracking process."""
        cpu = time.process_time()
        remote = getattr(self.session, "_remote", None)
        proc = getattr(remote, "_proc", None)
        if proc is not None and sys.platform == "linux":
            # Linux's CPU-time clock of another process: MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
            cpu += time.clock_gettime((~proc.pid << 3) | 2)
        return cpu

    def step(self, frame: np.ndarray, ts: float, record: bool = True) -> None:
        c0, t0 = self._cpu_s(), time.perf_counter()
        result = self.session.submit(frame, ts) if self.pipelined else self.session.process(frame, ts)
        wall, cpu = (time.perf_counter() - t0) * 1000.0, (self._cpu_s() - c0) * 1000.0
        if record:
            self.wall.append(wall)
            self.cpu.append(cpu)
            if result is not None:
                self.stages.append(dict(result.timings))
                self.faces += len(result.faces)
                self.hands += len(result.hands)

    def gl_draws(self) -> int:
        """Faces whose glasses OpenGL drew (the rest reused a drawing)."""
        return sum(getattr(e.lens, "gl_draws", 0) for e in self.session._lenses.values() if e is not None)

    def latencies(self) -> list[float]:
        """Frame in -> rendered frame out: one call, or for the pipelined session the two calls a frame
        spends in (tracked in one, drawn and returned by the next)."""
        w = self.wall
        return list(np.asarray(w[:-1]) + np.asarray(w[1:])) if self.pipelined else list(w)

    def close(self) -> None:
        if self.pipelined:
            self.session.flush()
        self.drawn = self.gl_draws()
        self.session.close()


STILL_VARIANTS = ("process", "process_redraw")


def run_tryon(clip: np.ndarray, args: Any, names: Any = None) -> dict:
    variants = [_Variant(name, args.products, *VARIANTS[name]) for name in (names or args.variants)]
    peer_ms: list[float] = []
    peer_faces = peer_hands = 0
    with contextlib.ExitStack() as stack:
        for v in variants:
            stack.callback(v.close)
        peer = stack.enter_context(harness.PeerServer(args.peer_python, clip, PEER_TASK)) if args.peer_python else None
        for i, frame in enumerate(clip[:10]):  # warm-up: models, GL contexts, lens caches, the worker thread
            for v in variants:
                v.step(frame, i * 33.0, record=False)
        t_ms = 10 * 33.0
        for _ in range(args.rounds):  # one stream: the cut back to the first still makes both re-detect
            for i, frame in enumerate(clip):
                t_ms += 33.0
                for v in variants[i % len(variants):] + variants[: i % len(variants)]:
                    v.step(frame, t_ms)
                if peer is not None:
                    ms, _ = peer.process(i)
                    peer_ms.append(ms)
                    peer_faces += peer.last_faces
                    peer_hands += peer.last_hands
        version = peer.info["mediapipe"] if peer is not None else None
    out: dict = {"frames": len(clip), "rounds": args.rounds, "variants": {}}
    for v in variants:
        entry = {
            "per_frame": harness.summary(v.wall), "latency": harness.summary(v.latencies()),
            "cpu_per_frame": harness.summary(v.cpu), "stages": harness.stage_summaries(v.stages),
            "fps": 1000.0 / harness.median(v.wall), "faces_per_frame": v.faces / max(len(v.stages), 1),
            "hands_per_frame": v.hands / max(len(v.stages), 1), "pipelined": v.pipelined,
            "glasses_drawn_per_frame": v.drawn / (len(clip) * args.rounds + 10),
        }
        if peer_ms:
            entry["ratio_median_pairwise"] = float(np.median(np.asarray(v.wall) / np.asarray(peer_ms)))
            entry["latency_ratio_median_pairwise"] = float(np.median(
                np.asarray(v.latencies()) / np.asarray(peer_ms[: len(v.latencies())])))
            entry["ratio_of_medians"] = harness.median(v.wall) / harness.median(peer_ms)
        out["variants"][v.name] = entry
    if peer_ms:
        out["peer"] = {"task": PEER_TASK, "mediapipe": version, "total": harness.summary(peer_ms),
                       "faces_per_frame": peer_faces / len(peer_ms), "hands_per_frame": peer_hands / len(peer_ms)}
    return out


def report_tryon(r: dict, products: list[str], title: str = "tryon") -> None:
    print(f"\n{title}: TryOn {' + '.join(products)}, {r['frames']} frames 1280x720 x {r['rounds']} rounds, a face "
          "and a hand in view")
    print(f"  {'':<15}{'per frame':>10}{'p95':>8}{'fps':>7}{'latency':>9}{'p95':>8}{'CPU':>8}"
          f"{'faces':>7}{'hands':>7}{'GL':>6}{'/peer':>7}{'lat/peer':>9}")
    for name, e in r["variants"].items():
        print(f"  {name:<15}{e['per_frame']['median_ms']:>10.2f}{e['per_frame']['p95_ms']:>8.2f}{e['fps']:>7.1f}"
              f"{e['latency']['median_ms']:>9.2f}{e['latency']['p95_ms']:>8.2f}{e['cpu_per_frame']['median_ms']:>8.2f}"
              f"{e['faces_per_frame']:>7.2f}{e['hands_per_frame']:>7.2f}{e['glasses_drawn_per_frame']:>6.2f}"
              f"{e.get('ratio_median_pairwise', float('nan')):>7.2f}"
              f"{e.get('latency_ratio_median_pairwise', float('nan')):>9.2f}")
        print("    stages: " + ", ".join(f"{k} {s['median_ms']:.2f}" for k, s in e["stages"].items() if s.get("n")))
    if "peer" in r:
        p = r["peer"]
        print(f"  MediaPipe {p['mediapipe']} FaceMesh(refined) + Hands(2): median {p['total']['median_ms']:.2f} ms, "
              f"p95 {p['total']['p95_ms']:.2f}, {p['faces_per_frame']:.2f} faces and {p['hands_per_frame']:.2f} "
              "hands a frame; /peer = pairwise median ratio of the time per frame (goal <= 1.0); GL: faces' "
              "glasses drawn by OpenGL a frame (the rest reused)")


class _TimedSource:
    """A frame source that notes when each read started (the loop's frame times are read to read) and when it
    returned its frame (what a camera's frame is as old as, for the latency)."""

    def __init__(self, path: Path, reads: list[float], done: list[float] | None = None) -> None:
        import cv2

        self._cap = cv2.VideoCapture(str(path))
        self._reads = reads
        self._done = [] if done is None else done

    def isOpened(self) -> bool:  # noqa: N802 - cv2.VideoCapture's name
        return self._cap.isOpened()

    def get(self, prop: int) -> float:
        return self._cap.get(prop)

    def read(self) -> tuple[bool, np.ndarray | None]:
        self._reads.append(time.perf_counter())
        out = self._cap.read()
        self._done.append(time.perf_counter())
        return out

    def release(self) -> None:
        self._cap.release()


def _write_mjpeg(clip: np.ndarray, path: Path) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (clip.shape[2], clip.shape[1]))
    if not writer.isOpened():
        raise SystemExit("OpenCV cannot write Motion-JPEG here")
    for frame in clip:
        writer.write(frame)
    writer.release()
    return path


@contextlib.contextmanager
def _xvfb():
    """An Xvfb server on a free display number, as DISPLAY, for the duration."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("--display needs Xvfb (apt-get install xvfb xauth)")
    for n in range(99, 120):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            continue
        proc = subprocess.Popen([xvfb, f":{n}", "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        if proc.poll() is None:
            old = os.environ.get("DISPLAY")
            os.environ["DISPLAY"] = f":{n}"
            try:
                yield
            finally:
                proc.terminate()
                proc.wait(timeout=10)
                if old is None:
                    os.environ.pop("DISPLAY", None)
                else:
                    os.environ["DISPLAY"] = old
            return
    raise SystemExit("could not start Xvfb on displays :99-:119")


def _latencies(done: list[float], kiosk: Any, skip: int = 10) -> list[float]:
    """Milliseconds from the end of frame k's read (``done[k]``) to the screen made of it, for every frame after
    ``skip`` that was shown (:func:`_latency_kiosk`'s record of its stream time, whichever loop showed it)."""
    return [(kiosk.shown[ts] - t_done) * 1000.0
            for k, (t_done, ts) in enumerate(zip(done, kiosk.stamps, strict=False))
            if k >= skip and ts in kiosk.shown]


def _latency_kiosk(*args: Any, **kwargs: Any) -> Any:
    """A Kiosk that notes each frame's stream time as it is read (``stamps``, in read order) and when the screen
    of each frame, by its stream time, was made (``shown``), just before it is shown."""
    from arlens.kiosk import Kiosk

    class LatencyKiosk(Kiosk):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.stamps: list[float] = []
            self.shown: dict[float, float] = {}

        def _timestamp(self, previous: float) -> float:
            ts = super()._timestamp(previous)
            self.stamps.append(ts)
            return ts

        def _frame(self, frame: np.ndarray, ts_ms: float):  # noqa: ANN202 - Kiosk's own
            self._last_result = None
            out = super()._frame(frame, ts_ms)
            result = self._last_result
            if result is not None and result.timestamp_ms is not None:
                self.shown[result.timestamp_ms] = time.perf_counter()
            return out

    return LatencyKiosk(*args, **kwargs)


def run_kiosk(clip: np.ndarray, args: Any) -> dict:
    from arlens.kiosk import KioskOptions

    modes = {m: KIOSK_MODES[m] for m in args.kiosk_modes.split(",")}
    times: dict[str, list[float]] = {m: [] for m in modes}
    latency: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    run_medians: dict[str, list[float]] = {m: [] for m in modes}
    clip = clip[: args.kiosk_frames]
    with tempfile.TemporaryDirectory() as tmp, (_xvfb() if args.display else contextlib.nullcontext()):
        path = _write_mjpeg(clip, Path(tmp) / "clip.avi")
        options = {m: arlens.TryOnOptions(gestures=True, event_delivery="inline", tracking_process=modes[m][2])
                   for m in modes}
        sessions = {m: arlens.TryOn(products=args.products, options=options[m]) for m in modes}
        try:
            for run in range(args.kiosk_runs):
                for mode in (list(modes) if run % 2 == 0 else list(modes)[::-1]):
                    reads: list[float] = []
                    done: list[float] = []
                    kiosk = _latency_kiosk(
                        sessions[mode], lambda reads=reads, done=done: _TimedSource(path, reads, done),
                        KioskOptions(display=args.display, fullscreen=False, frames=len(clip),
                                     snapshot_dir=Path(tmp) / "shots", pipelined=modes[mode][0],
                                     read_ahead=modes[mode][1]),
                        is_file=True)
                    c0 = time.process_time()
                    stats = kiosk.run()
                    cpu[mode].append((time.process_time() - c0) * 1000.0 / max(stats.frames, 1))  # this process
                    if stats.errors:
                        print(f"  kiosk {mode}: {stats.errors} frame errors (see the log)")
                    loop = list(np.diff(reads)[10:] * 1000.0)  # after 10 frames of warm-up
                    times[mode] += loop
                    latency[mode] += _latencies(done, kiosk)
                    run_medians[mode].append(float(np.median(loop)))
                    sessions[mode].close()  # a fresh stream (timestamps start again) for the next run
                    sessions[mode] = arlens.TryOn(products=args.products, options=options[mode])
        finally:
            for s in sessions.values():
                s.close()
    first = next(iter(modes))
    out = {"frames": len(clip), "runs": args.kiosk_runs, "display": bool(args.display), "modes": {}, "base": first}
    for mode in modes:
        s = harness.summary(times[mode])
        out["modes"][mode] = {"frame_time": s, "fps": 1000.0 / s["median_ms"], "fps_mean": 1000.0 / s["mean_ms"],
                              "latency": harness.summary(latency[mode]),
                              "cpu_per_frame_ms": float(np.median(cpu[mode])), "run_medians_ms": run_medians[mode],
                              "over_base_run_pairs": float(np.median(np.asarray(run_medians[mode])
                                                                     / np.asarray(run_medians[first])))}
    if "pipelined" in modes and "sequential" in modes:
        out["pipelined_over_sequential_run_pairs"] = float(np.median(np.asarray(run_medians["pipelined"])
                                                                     / np.asarray(run_medians["sequential"])))
    return out


def report_kiosk(r: dict) -> None:
    print(f"\nkiosk: camera read (Motion-JPEG) -> TryOn -> HUD -> {'window (Xvfb)' if r['display'] else 'screen image'}"
          f", {r['frames']} frames 1280x720 a run, {r['runs']} runs per mode, alternated")
    for mode, e in r["modes"].items():
        f = e["frame_time"]
        print(f"  {mode:<20} frame time median {f['median_ms']:.2f} ms, p95 {f['p95_ms']:.2f} ms: {e['fps']:.1f} fps "
              f"(mean {e['fps_mean']:.1f}; goal >= 30); latency median {e['latency']['median_ms']:.2f} ms, p95 "
              f"{e['latency']['p95_ms']:.2f}; CPU {e['cpu_per_frame_ms']:.2f} ms a frame; "
              f"/ {r['base']} {e['over_base_run_pairs']:.2f}")
    print(f"  (/ {r['base']}: median over neighbouring runs of the ratio of their median frame times; latency: from "
          f"the end of a frame's read to its screen)")


def run_pickup(args: Any) -> dict:
    intervals = (1, 3, 5)
    with_hand = harness.make_face_hand_clip(STILLS[:1], 8)
    without = harness.make_clip(STILLS[:1], 8, drift_px=40)
    segments = [6 + s % 6 for s in range(args.pickup_segments)]
    options = {k: arlens.TryOnOptions(event_delivery="inline", hand_search_interval=k) for k in intervals}
    sessions = {k: arlens.TryOn(products=["NAIL-201"], options=options[k]) for k in intervals}
    delays: dict[int, list[int | None]] = {k: [] for k in intervals}
    cost: dict[int, dict[str, list[float]]] = {k: {"no hand": [], "one hand": []} for k in intervals}
    try:
        ts = 0.0
        for empty in segments:
            first: dict[int, int | None] = {k: None for k in intervals}
            frames = [(without[i % 8], False) for i in range(empty)] + [(with_hand[i], True) for i in range(8)]
            for i, (frame, hand) in enumerate(frames):
                ts += 33.0
                for k in (intervals if i % 2 else intervals[::-1]):
                    result = sessions[k].process(frame, ts)
                    cost[k]["one hand" if hand else "no hand"].append(result.timings.get("hands", 0.0))
                    if hand and first[k] is None and result.hands:
                        first[k] = i - empty
            for k in intervals:
                delays[k].append(first[k])
    finally:
        for session in sessions.values():
            session.close()
    return {"segments": len(segments), "intervals": {
        k: {**harness.pickup_summary(delays[k], 8),
            "hands_ms_no_hand": harness.summary(cost[k]["no hand"]),
            "hands_ms_one_hand": harness.summary(cost[k]["one hand"])} for k in intervals}}


def report_pickup(r: dict) -> None:
    print(f"\npickup: a hand coming into view beside the face, {r['segments']} times (every phase of the cadence)")
    print(f"  {'interval':<10}{'delay mean':>11}{'max':>5}{'missed':>8}   hand tracking ms a frame, mean (median): "
          "no hand, one hand")
    for k, e in r["intervals"].items():
        a, b = e["hands_ms_no_hand"], e["hands_ms_one_hand"]
        print(f"  {k:<10}{e['delay_frames_mean']:>11.2f}{e['delay_frames_max']:>5d}{e['missed']:>8d}   "
              f"{a['mean_ms']:.2f} ({a['median_ms']:.2f}), {b['mean_ms']:.2f} ({b['median_ms']:.2f})")
    print("  (delay: frames after the hand's first frame until a result has it; 33 ms each at 30 fps)")


def run_scale(clip: np.ndarray, args: Any) -> dict:
    from arlens.scene import Scene

    small = clip[0]
    big = np.full((2160, 3840, 3), 96, np.uint8)
    big[: small.shape[0], : small.shape[1]] = small
    catalog = arlens.Catalog.default()
    with arlens.TryOn(products=["LIP-001", "NAIL-201"], options=arlens.TryOnOptions(event_delivery="inline")) as s:
        for i in range(5):  # a settled track
            found = s.process(small, i * 33.0)
    faces, hands = found.faces, found.hands
    lenses = [arlens.LipstickLens.from_product(catalog["LIP-001"]),
              arlens.NailPolishLens.from_product(catalog["NAIL-201"])]
    draw: dict[str, list[float]] = {"1280x720": [], "3840x2160": []}
    copy: dict[str, list[float]] = {"1280x720": [], "3840x2160": []}
    for i in range(args.scale_repeats):
        sizes = (("1280x720", small), ("3840x2160", big))
        for name, frame in sizes if i % 2 else sizes[::-1]:
            t0 = time.perf_counter()
            out = frame.copy()
            t1 = time.perf_counter()
            scene = Scene(frame, faces, hands)
            lenses[0].render_into(out, list(faces), scene=scene)
            lenses[1].render_into(out, list(hands), scene=scene)
            t2 = time.perf_counter()
            copy[name].append((t1 - t0) * 1000.0)
            draw[name].append((t2 - t1) * 1000.0)
    return {"faces": len(faces), "hands": len(hands), "draw": {k: harness.summary(v) for k, v in draw.items()},
            "copy": {k: harness.summary(v) for k, v in copy.items()},
            "ratio_median_pairwise": float(np.median(np.asarray(draw["3840x2160"]) / np.asarray(draw["1280x720"])))}


def report_scale(r: dict) -> None:
    d, c = r["draw"], r["copy"]
    print(f"\nscale: lipstick and nail polish with the frame's scene on {r['faces']} face(s) and {r['hands']} hand(s)")
    print(f"  1280x720 {d['1280x720']['median_ms']:.2f} ms, 3840x2160 {d['3840x2160']['median_ms']:.2f} ms: "
          f"pairwise median ratio {r['ratio_median_pairwise']:.2f} (1.0: nothing scales with the frame); "
          f"the frame copy {c['1280x720']['median_ms']:.2f} and {c['3840x2160']['median_ms']:.2f} ms")


def main() -> None:
    parser = harness.lockstep_parser(__doc__, "kiosk.json", "passes over the clip (tryon), as one stream")
    parser.add_argument("--products", nargs="+", default=list(PRODUCTS), help="catalog product ids")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--variants", default="process,submit,process_mp",
                        help=f"tryon variants, comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--kiosk-runs", type=int, default=8, help="kiosk runs per mode (alternated)")
    parser.add_argument("--cv-threads", type=int, default=None,
                        help="cv2.setNumThreads in this process (arlens' side; the peer runs in its own)")
    parser.add_argument("--kiosk-modes", default="sequential,pipelined",
                        help=f"comma-separated kiosk loop modes, of {', '.join(KIOSK_MODES)}; ratios are to the first")
    parser.add_argument("--kiosk-frames", type=int, default=60, help="frames of the clip per kiosk run")
    parser.add_argument("--display", action="store_true", help="show the kiosk in a window on an Xvfb server")
    parser.add_argument("--pickup-segments", type=int, default=24, help="times the hand comes into view (pickup)")
    parser.add_argument("--scale-repeats", type=int, default=40, help="draws per frame size (scale)")
    args = harness.parse_lockstep_args(parser)
    args.parts = [p for p in args.parts.split(",") if p]
    args.variants = [v for v in args.variants.split(",") if v]
    if not args.parts or set(args.parts) - set(PARTS):
        parser.error(f"--parts: expected some of {', '.join(PARTS)}, got {','.join(args.parts)!r}")
    if not args.variants or set(args.variants) - set(VARIANTS):
        parser.error(f"--variants: expected some of {', '.join(VARIANTS)}, got {','.join(args.variants)!r}")
    if args.kiosk_runs < 1 or args.kiosk_frames < 20:
        parser.error(f"--kiosk-runs must be >= 1 and --kiosk-frames >= 20, got {args.kiosk_runs}, {args.kiosk_frames}")

    if args.cv_threads is not None:
        import cv2

        cv2.setNumThreads(args.cv_threads)
    clip = harness.make_face_hand_clip(STILLS, args.frames_per_still)
    result: dict = {"benchmark": "kiosk_1280x720", "products": args.products, "meta": harness.metadata()}
    if "tryon" in args.parts:
        result["tryon"] = run_tryon(clip, args)
        report_tryon(result["tryon"], args.products)
    if "still" in args.parts:
        still = harness.make_face_hand_clip(STILLS, args.frames_per_still, drift_px=0, noise=2.0)
        result["still"] = run_tryon(still, args, STILL_VARIANTS)
        report_tryon(result["still"], args.products, "still (faces that do not move, sensor noise sigma 2)")
    if "kiosk" in args.parts:
        result["kiosk"] = run_kiosk(clip, args)
        report_kiosk(result["kiosk"])
    if "pickup" in args.parts:
        result["pickup"] = run_pickup(args)
        report_pickup(result["pickup"])
    if "scale" in args.parts:
        result["scale"] = run_scale(clip, args)
        report_scale(result["scale"])
    result["load_average_after"] = os.getloadavg()
    harness.write_json(args.out, result)
    print(f"\nload average at start {result['meta']['load_average']}, at end {result['load_average_after']}; "
          f"wrote {args.out}")


if __name__ == "__main__":
    main()
