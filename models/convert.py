#!/usr/bin/env python3
"""Convert MediaPipe's face and hand .tflite models to the ONNX files arlens ships.

Provenance: the `mediapipe==0.10.21` wheel on PyPI bundles the models (Apache-2.0). This script
downloads that wheel with pip, extracts the five models, converts each with tf2onnx, checks every
ONNX output against the TFLite interpreter (ai-edge-litert) on the same inputs, and writes
``manifest.json`` (file names, sha256, tensor specs, source wheel and licence).

TensorFlow and tf2onnx are conversion-time tools, never arlens dependencies: the script builds its
own throwaway virtual environment for them (or reuses one given with ``--venv``).

    python models/convert.py                 # writes models/*.onnx and models/manifest.json
    python models/convert.py --venv /tmp/conv --out /tmp/models
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SOURCE_PACKAGE = "mediapipe==0.10.21"
TOOLS = ["tensorflow==2.18.*", "tf2onnx==1.17.0", "ai-edge-litert==2.3.0", "onnx", "onnxruntime", "numpy<2.1"]
OPSET = 17
TOLERANCE = 1e-3

#: model name -> (path inside the wheel, input value range the MediaPipe graph feeds it)
MODELS = {
    "face_detection_short_range": ("mediapipe/modules/face_detection/face_detection_short_range.tflite", (-1.0, 1.0)),
    "face_landmark": ("mediapipe/modules/face_landmark/face_landmark.tflite", (0.0, 1.0)),
    "iris_landmark": ("mediapipe/modules/iris_landmark/iris_landmark.tflite", (0.0, 1.0)),
    "palm_detection_full": ("mediapipe/modules/palm_detection/palm_detection_full.tflite", (0.0, 1.0)),
    "hand_landmark_full": ("mediapipe/modules/hand_landmark/hand_landmark_full.tflite", (0.0, 1.0)),
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *TOOLS], check=True)
    return python


def download_wheel(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(dest),
         SOURCE_PACKAGE],
        check=True,
    )
    wheels = sorted(dest.glob("mediapipe-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {SOURCE_PACKAGE} produced no wheel in {dest}")
    return wheels[0]


def tensor_specs(values) -> list[dict]:
    return [{"name": v.name, "shape": list(v.shape), "dtype": str(v.type)} for v in values]


def worker(wheel: Path, out: Path) -> None:
    """Runs inside the conversion venv: extract, convert, verify, write the manifest."""
    import numpy as np
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "source": {"package": SOURCE_PACKAGE, "wheel": wheel.name, "wheel_sha256": sha256(wheel)},
        "license": "Apache-2.0 (MediaPipe, Google LLC)",
        "converter": {"tool": "tf2onnx 1.17.0", "opset": OPSET},
        "models": {},
    }
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        for name, (member, (lo, hi)) in MODELS.items():
            tflite = Path(tmp) / f"{name}.tflite"
            tflite.write_bytes(zf.read(member))
            onnx_path = out / f"{name}.onnx"
            subprocess.run(
                [sys.executable, "-m", "tf2onnx.convert", "--tflite", str(tflite), "--output", str(onnx_path),
                 "--opset", str(OPSET)],
                check=True, capture_output=True,
            )
            interp = Interpreter(model_path=str(tflite))
            interp.allocate_tensors()
            sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
            (inp,) = sess.get_inputs()
            tfl_in = interp.get_input_details()[0]
            tfl_out = sorted(interp.get_output_details(), key=lambda d: d["index"])
            worst = 0.0
            for _ in range(5):
                x = rng.uniform(lo, hi, size=tfl_in["shape"]).astype(np.float32)
                interp.set_tensor(tfl_in["index"], x)
                interp.invoke()
                expected = {d["name"]: interp.get_tensor(d["index"]) for d in tfl_out}
                got = sess.run(None, {inp.name: x})
                for o, g in zip(sess.get_outputs(), got, strict=True):
                    e = expected[o.name] if o.name in expected else None
                    if e is None:  # tf2onnx may rename outputs; match by shape and order then
                        e = [v for v in expected.values() if v.shape == g.shape][0]
                    worst = max(worst, float(np.abs(e.astype(np.float64) - g).max()))
            if worst >= TOLERANCE:
                raise SystemExit(f"{name}: ONNX differs from TFLite by {worst:.2e} (limit {TOLERANCE})")
            manifest["models"][name] = {
                "file": onnx_path.name,
                "sha256": sha256(onnx_path),
                "source_file": member,
                "source_sha256": sha256(tflite),
                "inputs": tensor_specs(sess.get_inputs()),
                "outputs": tensor_specs(sess.get_outputs()),
                "input_range": [lo, hi],
                "max_abs_diff_vs_tflite": worst,
            }
            print(f"{name}: {onnx_path.stat().st_size / 1e6:.2f} MB, max |onnx - tflite| = {worst:.2e}")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    parser.add_argument("--venv", type=Path, help="conversion venv to create or reuse (default: a temporary one)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        python = ensure_venv(args.venv or Path(tmp) / "venv")
        wheel = download_wheel(Path(tmp) / "wheel")
        subprocess.run([str(python), __file__, "--worker", str(wheel), "--out", str(args.out.resolve())], check=True)


if __name__ == "__main__":
    main()
