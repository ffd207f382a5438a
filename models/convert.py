#!/usr/bin/env python3
"""Convert MediaPipe's face and hand .tflite models to the ONNX files arlens ships.

Provenance: the `mediapipe==0.10.21` wheel on PyPI bundles the models (Apache-2.0). This script
downloads that wheel with pip, extracts the five models, converts each with tf2onnx, applies exact
rewrites for ONNX Runtime (see :func:`rewrite_for_onnxruntime`), checks every ONNX output against the
TFLite interpreter (ai-edge-litert) on the same inputs and batched runs against single ones, and writes
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


def rewrite_for_onnxruntime(path: Path) -> dict[str, int]:
    """Exact graph rewrites that make the converted model faster in ONNX Runtime and batchable.

    - ``PRelu(x, s)`` becomes ``x + (1 - s) * Relu(-x)`` written as 1x1 depthwise convolutions:
      ``Add(x, Relu(DWConv(x, -(1 - s))))`` where every slope lies in [0, 1], else
      ``Add(x, DWConv(Relu(DWConv(x, -1)), 1 - s))``. ONNX Runtime's CPU provider has no blocked (NCHWc)
      PRelu kernel, so each PRelu cost two layout reorders and a slow broadcast; depthwise convolutions
      with fused Relu and Add stay in the blocked layout. Measured on the 2-core CI machine, one
      thread: face mesh 5.3 -> 2.0 ms, iris 5.1 -> 2.3 ms per crop.
    - The batch dimension becomes symbolic (``N``) and Reshape targets that hard-code batch 1 copy the
      input's batch instead, so both eye crops (or several faces) run in one call.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    nodes = []
    counts = {"prelu": 0, "reshape": 0}

    def const(name: str, value: np.ndarray) -> str:
        graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    for node in graph.node:
        if node.op_type == "PRelu":
            x, slope_name = node.input
            y = node.output[0]
            p = f"{y}__prelu"
            slope = numpy_helper.to_array(inits[slope_name]).reshape(-1).astype(np.float64)
            c = slope.size
            conv = {"group": c, "kernel_shape": [1, 1]}
            if slope.min() >= 0 and slope.max() <= 1:  # (1 - s) >= 0 moves inside the Relu
                nodes += [
                    helper.make_node("Conv", [x, const(p + "_w", -(1 - slope).reshape(c, 1, 1, 1))], [p + "_c"],
                                     name=p + "_conv", **conv),
                    helper.make_node("Relu", [p + "_c"], [p + "_r"], name=p + "_relu"),
                    helper.make_node("Add", [x, p + "_r"], [y], name=p + "_add"),
                ]
            else:
                nodes += [
                    helper.make_node("Conv", [x, const(p + "_neg", -np.ones((c, 1, 1, 1)))], [p + "_c"],
                                     name=p + "_conv_neg", **conv),
                    helper.make_node("Relu", [p + "_c"], [p + "_r"], name=p + "_relu"),
                    helper.make_node("Conv", [p + "_r", const(p + "_w", (1 - slope).reshape(c, 1, 1, 1))],
                                     [p + "_s"], name=p + "_conv_scale", **conv),
                    helper.make_node("Add", [x, p + "_s"], [y], name=p + "_add"),
                ]
            counts["prelu"] += 1
            continue
        if node.op_type == "Reshape" and node.input[1] in inits:
            target = numpy_helper.to_array(inits[node.input[1]])
            if target.size and target[0] == 1:
                fixed = target.copy()
                fixed[0] = 0  # 0 = copy the input's dimension (allowzero=0)
                name = f"{node.input[1]}__batch_{counts['reshape']}"
                graph.initializer.append(numpy_helper.from_array(fixed.astype(target.dtype), name))
                node.input[1] = name
                counts["reshape"] += 1
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    del graph.value_info[:]
    for value in list(graph.input) + list(graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return counts


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
        "converter": {"tool": "tf2onnx 1.17.0", "opset": OPSET,
                      "post": "PRelu as 1x1 depthwise convs; symbolic batch dimension (rewrite_for_onnxruntime)"},
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
            rewrites = rewrite_for_onnxruntime(onnx_path)
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
            # A batch of two must give what two single runs give.
            pair = rng.uniform(lo, hi, size=(2, *tfl_in["shape"][1:])).astype(np.float32)
            batched = sess.run(None, {inp.name: pair})
            for k in range(2):
                single = sess.run(None, {inp.name: pair[k : k + 1]})
                for b, s1 in zip(batched, single, strict=True):
                    if not np.allclose(b[k : k + 1], s1, atol=1e-5):
                        raise SystemExit(f"{name}: batch of 2 differs from single runs")
            manifest["models"][name] = {
                "file": onnx_path.name,
                "sha256": sha256(onnx_path),
                "source_file": member,
                "source_sha256": sha256(tflite),
                "inputs": tensor_specs(sess.get_inputs()),
                "outputs": tensor_specs(sess.get_outputs()),
                "input_range": [lo, hi],
                "rewrites": rewrites,
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
