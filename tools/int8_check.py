#!/usr/bin/env python3
"""Would int8 versions of arlens' models pay? Quantize, time against the float models, measure agreement.

A measurement, not a conversion that ships: on ONNX Runtime 1.32 with AVX-512 VNNI, int8 QDQ models were
slower for the face mesh and the palm detector and failed the hand tracking tests' tolerances for the
hand landmark model (``models/README.md``, "int8"), so arlens ships none. Run this again when ONNX Runtime's
int8 kernels or the models change.

For each model asked for, static QDQ quantization (``onnxruntime.quantization.quantize_static``: per-channel
int8 weights, uint8 activations, MinMax ranges), calibrated only on permissively licensed frames: the two
public-domain portraits in ``tests/data`` and augmentations of them (rotations, scales, flips, colour casts,
noise) -- the face mesh on the crops FaceTracker takes of them, the others on random crops. Then:

- speed: the float and the int8 model on the same inputs, interleaved, one thread, CPU time
  (``time.thread_time``), median over ``--runs`` runs;
- agreement, measured as ``tests/tracking`` measures the float models, against Google's MediaPipe graphs
  (``../shared/reference``; skipped with a note where it is absent): the face mesh on the still portraits
  and the talking-head clip in video mode; the hand landmark model on the two hand stills, the
  talking-head hands from Google's own ROIs, and the hands in video mode.

    python tools/int8_check.py [--models face_landmark_with_attention,hand_landmark_full,palm_detection_full]
        [--ops Conv] [--runs 200] [--keep /tmp/int8]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import arlens  # noqa: E402
from arlens.runtime import Model, RuntimeOptions, file_sha256  # noqa: E402

PORTRAITS = ("astronaut.png", "grace_hopper.jpg")
#: model -> (input size, channels first at run time, calibration source)
MODELS = {"face_landmark_with_attention": (192, True, "face crops"), "hand_landmark_full": (224, True, "random"),
          "palm_detection_full": (192, False, "random")}


def portraits() -> list[np.ndarray]:
    return [cv2.imread(str(ROOT / "tests" / "data" / name)) for name in PORTRAITS]


def augmented(image: np.ndarray, rng: np.random.Generator, k: int) -> np.ndarray:
    """The portrait turned, scaled, shifted, perhaps mirrored, with a colour cast and sensor noise."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2 + rng.uniform(-20, 20), h / 2 + rng.uniform(-20, 20)), rng.uniform(-25, 25),
                                rng.uniform(0.6, 1.3))
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    if k % 4 == 1:
        out = out[:, ::-1]
    out = out.astype(np.float32) * rng.uniform(0.5, 1.4) * rng.uniform(0.8, 1.2, 3) + rng.uniform(-30, 30)
    return np.clip(out + rng.normal(0, rng.uniform(0, 6), out.shape), 0, 255).astype(np.uint8)


def face_crops(n: int = 80) -> np.ndarray:
    """(N, 3, 192, 192) mesh inputs: the crops FaceTracker feeds the attention mesh on augmented portraits."""
    crops: list[np.ndarray] = []
    call = Model.__call__

    def record(self: Model, x: np.ndarray, outputs=None):
        if self.name == "face_landmark_with_attention":
            crops.append(x.copy())
        return call(self, x, outputs)

    rng, images = np.random.default_rng(0), portraits()
    Model.__call__ = record  # type: ignore[method-assign]
    try:
        with arlens.FaceTracker(correct_stale_crops=False) as tracker:
            for k in range(n):
                tracker.detect(augmented(images[k % 2], rng, k))
    finally:
        Model.__call__ = call  # type: ignore[method-assign]
    return np.concatenate(crops)


def random_crops(size: int, n: int = 120) -> np.ndarray:
    """(N, 3, size, size) RGB in [0, 1]: square crops of the portraits at any angle, scale and colour cast."""
    rng, images, out = np.random.default_rng(2), portraits(), []
    for k in range(n):
        image = images[k % 2]
        h, w = image.shape[:2]
        cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.15, 0.6) * h
        side = rng.uniform(0.2, 0.9) * min(h, w)
        m = cv2.getRotationMatrix2D((cx, cy), rng.uniform(-180, 180), size / side)
        m[:, 2] += (size / 2 - cx, size / 2 - cy)
        crop = cv2.warpAffine(image, m, (size, size))[:, :: -1 if k % 2 else 1]
        crop = np.clip(crop.astype(np.float32) * rng.uniform(0.6, 1.3) * rng.uniform(0.85, 1.15, 3)
                       + rng.uniform(-25, 25), 0, 255)
        out.append((crop[:, :, ::-1] / 255).transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)


def quantize(name: str, calibration: np.ndarray, ops: list[str] | None, out: Path) -> Path:
    """The shipped float model ``name`` as int8 QDQ at ``out`` (its NHWC input kept: arlens strips the
    leading transpose at load time as for the float model)."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = out.with_suffix(".pre.onnx")
    quant_pre_process(str(ROOT / "models" / f"{name}.onnx"), str(pre), skip_symbolic_shape=True)
    source = onnx.load(str(pre)).graph.input[0].name
    nhwc = calibration.transpose(0, 2, 3, 1).copy()

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.k = 0

        def get_next(self) -> dict | None:
            if self.k >= len(nhwc):
                return None
            self.k += 1
            return {source: nhwc[self.k - 1 : self.k]}

    quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=ops)
    pre.unlink()
    return out


def models_dir_with(folder: Path, replaced: dict[str, Path]) -> Path:
    """A models folder: the shipped models linked, ``replaced`` ones copied in, the manifest's sha256 updated."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text())
    for name, entry in manifest["models"].items():
        target = folder / entry["file"]
        target.unlink(missing_ok=True)
        if name in replaced:
            shutil.copy(replaced[name], target)
            entry["sha256"] = file_sha256(target)
        else:
            target.symlink_to(ROOT / "models" / entry["file"])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def timing(name: str, nchw: bool, inputs: np.ndarray, folders: dict[str, Path], runs: int) -> dict[str, float]:
    """Median CPU milliseconds a run of each folder's ``name``, interleaved on the same inputs."""
    models = {k: Model(name, RuntimeOptions(models_dir=f), nchw=nchw) for k, f in folders.items()}
    x = inputs if nchw else inputs.transpose(0, 2, 3, 1).copy()
    times: dict[str, list[float]] = {k: [] for k in models}
    for r in range(runs):
        for k in (list(models) if r % 2 else list(models)[::-1]):
            t0 = time.thread_time()
            models[k](x[r % len(x)][None])
            times[k].append((time.thread_time() - t0) * 1000.0)
    return {k: float(np.median(v)) for k, v in times.items()}


def face_agreement(runtime: RuntimeOptions) -> dict[str, float]:
    """tests/tracking/test_face.py's measures: stills (all 478 points / inter-ocular distance) and the
    talking-head clip in video mode with Google's loop (per-frame mean distance / inter-ocular distance)."""
    from tests.support import STILL_FACES, read_frames, read_image, reference
    from tests.tracking.test_face import GIF_FRAME_MS, LIKE_MEDIAPIPE, iod, mean_distance

    out: dict[str, float] = {}
    with arlens.FaceTracker(runtime=runtime) as tracker:
        for name in STILL_FACES:
            ref = reference(name.rsplit(".", 1)[0])["face_mesh_478"][0]
            faces = tracker.detect(read_image(f"faces/{name}"))
            out[f"still {name}"] = mean_distance(faces[0].landmarks, ref) / iod(ref) if faces else float("nan")
    ref, errors = reference("talking_head")["face_mesh_478"], []
    with arlens.FaceTracker(LIKE_MEDIAPIPE, runtime=runtime) as tracker:
        for i, frame in enumerate(read_frames("faces/talking_head.gif")):
            faces = tracker.track(frame, i * GIF_FRAME_MS)
            found = bool(faces) and np.isfinite(ref[i]).all()
            errors.append(mean_distance(faces[0].landmarks[:, :2], ref[i][:, :2]) / iod(ref[i]) if found else np.nan)
    same_track = np.delete(np.asarray(errors), np.arange(51, 62))  # the test's stretch left out of the mean
    out["clip median"] = float(np.nanmedian(errors))
    out["clip mean"], out["clip max"] = float(np.nanmean(same_track)), float(np.nanmax(same_track))
    out["clip frames lost"] = float(np.isnan(same_track).sum()) / 100.0  # printed as a percentage: the count
    return out


def _stat(f, values) -> float:
    """``f`` of ``values``, NaN when there are none (a model that finds no hand)."""
    return float(f(values)) if len(values) else float("nan")


def hand_agreement(runtime: RuntimeOptions) -> dict[str, float]:
    """tests/tracking/test_hand.py's measures, in hand sizes (wrist to middle-finger MCP)."""
    from arlens.tracking.hand import roi_from_hand
    from tests.support import read_frames, read_image, reference
    from tests.tracking.test_hand import GIF_FRAME_MS, distance, hand_size

    out: dict[str, float] = {}
    with arlens.HandTracker(runtime=runtime) as tracker:
        for name in ("open_palm", "pointing"):
            ref = reference(name)["hands"][0, 0]
            hands = tracker.detect(read_image(f"hands/{name}.jpg"))
            out[f"still {name}"] = distance(hands[0].landmarks, ref) / hand_size(ref) if hands else float("nan")
    frames, ref = read_frames("faces/talking_head.gif"), reference("talking_head")
    follow = []
    with arlens.HandTracker(runtime=runtime) as tracker:
        for i in range(1, len(frames)):
            if ref["hands_found"][i - 1] == 1 and ref["hands_found"][i] == 1:
                result = tracker._landmarks(frames[i], [roi_from_hand(ref["hands"][i - 1, 0])])[0]
                if result is not None:  # as the test: frames where the model sees no hand are left out
                    follow.append(distance(result[0], ref["hands"][i, 0]) / hand_size(ref["hands"][i, 0]))
    out["roi-follow median"], out["roi-follow max"] = _stat(np.median, follow), _stat(np.max, follow)
    out["roi-follow frames"] = len(follow) / 100.0  # printed as a percentage: the count
    errors, same = [], 0
    with arlens.HandTracker(runtime=runtime) as tracker:
        for i, frame in enumerate(frames):
            hands, n = tracker.track(frame, i * GIF_FRAME_MS), int(ref["hands_found"][i])
            same += len(hands) == n
            for hand in hands[:n]:
                k = min(range(n), key=lambda j: distance(ref["hands"][i, j], hand.landmarks))
                errors.append(distance(hand.landmarks, ref["hands"][i, k]) / hand_size(ref["hands"][i, k]))
    out["video mean"], out["video median"] = _stat(np.mean, errors), _stat(np.median, errors)
    out["video within 2%"] = _stat(np.mean, np.asarray(errors) <= 0.02)
    out["video same count"] = same / len(frames)
    return out


#: the float models' bars in tests/tracking (test_face.py, test_hand.py), for the printout
BARS = {"still": "<= 1% (face) / 2% (hand)", "clip median": "<= 0.5%", "clip mean": "<= 1% (outside 51-61)",
        "clip max": "<= 5% (outside 51-61)", "clip frames lost": "0 (a count)", "roi-follow frames": "(a count)",
        "roi-follow max": "< 1%", "video mean": "<= 2%", "video median": "<= 1.5%", "video within 2%": ">= 80%",
        "video same count": ">= 95%"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--ops", default="Conv", help="operator types to quantize, comma-separated ('' = all)")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per model")
    parser.add_argument("--keep", type=Path, help="write the int8 models here (default: a temporary folder)")
    args = parser.parse_args()
    names = [n for n in args.models.split(",") if n]
    if unknown := set(names) - set(MODELS):
        parser.error(f"--models: unknown {sorted(unknown)}; known: {', '.join(MODELS)}")
    ops = [o for o in args.ops.split(",") if o] or None
    import onnxruntime

    print(f"ONNX Runtime {onnxruntime.__version__}; QDQ per-channel s8 weights, u8 activations, MinMax; "
          f"ops {ops or 'all'}; calibration: augmented public-domain portraits only")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in names:
            size, nchw, source = MODELS[name]
            calibration = face_crops() if source == "face crops" else random_crops(size)
            int8 = quantize(name, calibration, ops, work / f"{name}.int8.onnx")
            folder = models_dir_with(work / f"models-{name}", {name: int8})
            ms = timing(name, nchw, calibration, {"float": ROOT / "models", "int8": folder}, args.runs)
            print(f"\n{name}: {len(calibration)} calibration inputs ({source}); CPU ms a run, one thread: "
                  f"float {ms['float']:.2f}, int8 {ms['int8']:.2f}, ratio {ms['int8'] / ms['float']:.2f}")
            measure = face_agreement if name.startswith("face") else hand_agreement if name.startswith("hand") else None
            if measure is None:
                continue
            try:
                flt, q = measure(RuntimeOptions()), measure(RuntimeOptions(models_dir=folder))
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # tests.support skips (pytest's Skipped) without the shared reference
                print(f"  agreement not measured: {exc}")
                continue
            for key in flt:
                bar = next((v for b, v in BARS.items() if key.startswith(b)), "")
                print(f"  {key:<26} float {100 * flt[key]:7.2f}%   int8 {100 * q[key]:7.2f}%   {bar}")


if __name__ == "__main__":
    main()
