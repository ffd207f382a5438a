#!/usr/bin/env python3
"""Convert MediaPipe's face and hand .tflite models to the ONNX files arlens ships.

Provenance: the `mediapipe==0.10.21` wheel on PyPI bundles the models (Apache-2.0). This script
downloads that wheel with pip, extracts the seven models and converts each with tf2onnx (sparse weights
stored dense first, from LiteRT's own DENSIFY kernel: ``densify_tflite``). The plain
model then gets MediaPipe's custom ops as standard ONNX (``mediapipe_ops.py``, checked against ports
of MediaPipe's kernels) and a symbolic batch dimension; the shipped model adds the layout rewrites of
``graph_rewrites.py`` and is checked against the plain one, against the TFLite interpreter
(ai-edge-litert) on the same inputs, and batched runs against single ones. ``manifest.json`` records
file names, sha256, tensor specs, the rewrites, these differences, the source wheel and licence.

TensorFlow and tf2onnx are conversion-time tools, never arlens dependencies: the script builds its
own throwaway virtual environment for them (or reuses one given with ``--venv``).

    python models/convert.py                 # writes models/*.onnx and models/manifest.json
    python models/convert.py --venv /tmp/conv --out /tmp/models
    python models/convert.py --only face_detection_full_range   # one model; other manifest entries kept
    python models/convert.py --only selfie_segmentation --venv /tmp/conv
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
    "face_detection_full_range": (
        "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite", (-1.0, 1.0)),
    "face_landmark": ("mediapipe/modules/face_landmark/face_landmark.tflite", (0.0, 1.0)),
    "face_landmark_with_attention": (
        "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite", (0.0, 1.0)),
    "palm_detection_full": ("mediapipe/modules/palm_detection/palm_detection_full.tflite", (0.0, 1.0)),
    "hand_landmark_full": ("mediapipe/modules/hand_landmark/hand_landmark_full.tflite", (0.0, 1.0)),
    "selfie_segmentation": ("mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite", (0.0, 1.0)),
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


def densify_tflite(src: Path, dst: Path) -> int:
    """Write ``src`` with its sparse weights stored dense and its DENSIFY ops removed; return how many.

    ``face_detection_full_range_sparse.tflite`` keeps its (float16) weights as sparse tensors that a
    DENSIFY op expands at run time; tf2onnx cannot read sparse tensors. The dense values are taken from
    LiteRT's own DENSIFY kernel (the interpreter without delegates, every tensor preserved), so no
    sparse format is decoded here; each DENSIFY output becomes a constant and the op is dropped.
    """
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(src))
    graph = model.subgraphs[0]

    def is_densify(op) -> bool:
        code = model.operatorCodes[op.opcodeIndex]
        return max(code.builtinCode, code.deprecatedBuiltinCode) == schema.BuiltinOperator.DENSIFY

    ops = [op for op in graph.operators if is_densify(op)]
    if not ops:
        return 0
    interp = Interpreter(model_path=str(src), experimental_preserve_all_tensors=True,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], np.zeros(inp["shape"], inp["dtype"]))
    interp.invoke()  # DENSIFY outputs depend on the weights only
    for op in ops:
        (sparse,), (dense,) = op.inputs, op.outputs
        values = interp.get_tensor(dense)
        for index in (sparse, dense):  # the sparse input too: tf2onnx reads every constant
            tensor = graph.tensors[index]
            if tuple(tensor.shape) != values.shape:
                raise SystemExit(f"{src.name}: DENSIFY output {values.shape} does not fit tensor {tensor.shape}")
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(values.tobytes(), np.uint8)
            model.buffers.append(buffer)
            tensor.buffer, tensor.sparsity = len(model.buffers) - 1, None
    graph.operators = [op for op in graph.operators if not is_densify(op)]
    flatbuffer_utils.write_model(model, str(dst))
    return len(ops)


def builtin_transpose_conv(src: Path, dst: Path) -> int:
    """Write ``src`` with MediaPipe's Convolution2DTransposeBias custom ops replaced by TFLite's builtin
    TRANSPOSE_CONV (version 3, which takes a bias) with the same padding and strides; return how many.

    LiteRT from PyPI cannot run the custom op, but runs the builtin: the whole model can then be compared
    with LiteRT (the custom op's own arithmetic is checked against a port of its kernel separately).
    """
    import numpy as np
    from mediapipe_ops import decode_transpose_conv_options
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(src))
    graph = model.subgraphs[0]
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.TRANSPOSE_CONV
    code.version = 3
    index = None
    count = 0
    for op in graph.operators:
        custom = model.operatorCodes[op.opcodeIndex].customCode
        if custom != b"Convolution2DTransposeBias":
            continue
        if index is None:
            model.operatorCodes.append(code)
            index = len(model.operatorCodes) - 1
        a = decode_transpose_conv_options(bytes(op.customOptions))
        data, weights, bias = op.inputs
        out = graph.tensors[op.outputs[0]]
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(np.asarray(out.shape, np.int32).tobytes(), np.uint8)
        model.buffers.append(buffer)
        shape = schema.TensorT()
        shape.shape, shape.type, shape.buffer = [4], schema.TensorType.INT32, len(model.buffers) - 1
        shape.name = out.name + b"/output_shape"
        graph.tensors.append(shape)
        options = schema.TransposeConvOptionsT()
        options.padding = schema.Padding.SAME if a["padding"] == "SAME" else schema.Padding.VALID
        options.strideW, options.strideH = a["stride_w"], a["stride_h"]
        op.opcodeIndex = index
        op.inputs = [len(graph.tensors) - 1, weights, data, bias]
        op.builtinOptionsType = schema.BuiltinOptions.TransposeConvOptions
        op.builtinOptions = options
        op.customOptions = None
        count += 1
    flatbuffer_utils.write_model(model, str(dst))
    return count


def worker(wheel: Path, out: Path, only: list[str] | None = None) -> None:
    """Runs inside the conversion venv: extract, convert, rewrite, verify, write the manifest.

    With ``only``, converts just those models and keeps the other entries of the existing manifest.
    """
    import numpy as np
    import onnx
    import onnxruntime as ort
    from graph_rewrites import make_batch_symbolic, optimise_for_onnxruntime
    from mediapipe_ops import annotate_transpose_conv_options, check_custom_ops, replace_mediapipe_ops

    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "source": {"package": SOURCE_PACKAGE, "wheel": wheel.name, "wheel_sha256": sha256(wheel)},
        "license": "Apache-2.0 (MediaPipe, Google LLC)",
        "converter": {"tool": "tf2onnx 1.17.0", "opset": OPSET,
                      "post": "MediaPipe's custom ops as standard ONNX (mediapipe_ops.py); symbolic batch dimension; "
                              "layout rewrites for ONNX Runtime (graph_rewrites.py)"},
        "models": {},
    }
    if only:
        previous = json.loads((out / "manifest.json").read_text())
        manifest["models"] = previous["models"]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        for name, (member, (lo, hi)) in MODELS.items():
            if only and name not in only:
                continue
            tflite = Path(tmp) / f"{name}.tflite"
            tflite.write_bytes(zf.read(member))
            dense = Path(tmp) / f"{name}.dense.tflite"
            densified = densify_tflite(tflite, dense)
            onnx_path = out / f"{name}.onnx"
            subprocess.run(
                [sys.executable, "-m", "tf2onnx.convert", "--tflite", str(dense if densified else tflite),
                 "--output", str(onnx_path), "--opset", str(OPSET)],
                check=True, capture_output=True,
            )
            # 1. The plain model: standard ONNX, batchable, op for op what tf2onnx wrote.
            original = onnx.load(str(onnx_path))
            model = onnx.load(str(onnx_path))
            custom_ops = sum(n.op_type.startswith("TFL_") for n in model.graph.node)
            # tf2onnx drops Convolution2DTransposeBias's options: taken from the .tflite
            transpose_convs = annotate_transpose_conv_options(model, tflite)
            annotate_transpose_conv_options(original, tflite)
            crops = replace_mediapipe_ops(model)
            rewrites = {"custom_ops": custom_ops, **make_batch_symbolic(model)}
            if densified:
                rewrites["densified_weights"] = densified
            plain_path = Path(tmp) / f"{name}.plain.onnx"
            onnx.checker.check_model(model)
            onnx.save(model, str(plain_path))
            plain = ort.InferenceSession(str(plain_path), providers=["CPUExecutionProvider"])
            (inp,) = plain.get_inputs()
            shape = [1, *inp.shape[1:]]
            inputs = [rng.uniform(lo, hi, size=shape).astype(np.float32) for _ in range(5)]
            if custom_ops:
                # ai-edge-litert cannot run MediaPipe's custom ops, so the TFLite model cannot be run here
                # as it is: the rewritten ops are checked against ports of MediaPipe's kernels, and the
                # whole model against MediaPipe's own graph by the tracker agreement tests (and, for the
                # transpose convolution, against LiteRT with TFLite's builtin in its place, below).
                worst_ops = max(check_custom_ops(original, plain_path, x) for x in inputs[:3])
                if worst_ops >= TOLERANCE:
                    raise SystemExit(f"{name}: rewritten custom ops differ from MediaPipe's kernels by {worst_ops:.2e}")
            # 2. The shipped model: the plain one with the layout rewrites, checked against it and TFLite.
            rewrites.update(optimise_for_onnxruntime(model, crops))
            onnx.checker.check_model(model)
            onnx.save(model, str(onnx_path))
            sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
            worst = max(float(np.abs(a - b).max()) for x in inputs
                        for a, b in zip(plain.run(None, {inp.name: x}), sess.run(None, {inp.name: x}), strict=True))
            if worst >= TOLERANCE:
                raise SystemExit(f"{name}: layout rewrites changed the outputs by {worst:.2e} (limit {TOLERANCE})")
            if transpose_convs:
                # LiteRT runs the model with TFLite's builtin TRANSPOSE_CONV in the custom op's place
                builtin = Path(tmp) / f"{name}.builtin.tflite"
                builtin_transpose_conv(tflite, builtin)
                checks = {"max_abs_diff_vs_tflite": compare_with_tflite(builtin, sess, inputs),
                          "tflite_custom_ops_as_builtin": transpose_convs,
                          "max_rel_diff_custom_ops_vs_kernels": worst_ops}
                if checks["max_abs_diff_vs_tflite"] >= TOLERANCE:
                    raise SystemExit(f"{name}: ONNX differs from TFLite by {checks['max_abs_diff_vs_tflite']:.2e} "
                                     f"(limit {TOLERANCE})")
            elif custom_ops:
                checks = {"max_abs_diff_vs_tflite": None, "max_rel_diff_custom_ops_vs_kernels": worst_ops}
            else:
                checks = {"max_abs_diff_vs_tflite": compare_with_tflite(tflite, sess, inputs)}
                if checks["max_abs_diff_vs_tflite"] >= TOLERANCE:
                    raise SystemExit(f"{name}: ONNX differs from TFLite by {checks['max_abs_diff_vs_tflite']:.2e} "
                                     f"(limit {TOLERANCE})")
            checks["max_abs_diff_rewritten_vs_plain"] = worst
            # A batch of two must give what two single runs give.
            pair = rng.uniform(lo, hi, size=(2, *shape[1:])).astype(np.float32)
            batched = sess.run(None, {inp.name: pair})
            for k in range(2):
                single = sess.run(None, {inp.name: pair[k : k + 1]})
                for b, s1 in zip(batched, single, strict=True):
                    if len(b) != 2 or not np.allclose(b[k : k + 1], s1, atol=1e-5):
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
                **checks,
            }
            print(f"{name}: {onnx_path.stat().st_size / 1e6:.2f} MB, rewrites {rewrites}, checks {checks}")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def compare_with_tflite(tflite: Path, sess, inputs) -> float:
    """Largest output difference between the ONNX session and the TFLite interpreter on ``inputs``."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(tflite))
    interp.allocate_tensors()
    (inp,) = sess.get_inputs()
    tfl_in = interp.get_input_details()[0]
    tfl_out = sorted(interp.get_output_details(), key=lambda d: d["index"])
    worst = 0.0
    for x in inputs:
        interp.set_tensor(tfl_in["index"], x)
        interp.invoke()
        expected = {d["name"]: interp.get_tensor(d["index"]) for d in tfl_out}
        got = sess.run(None, {inp.name: x})
        for o, g in zip(sess.get_outputs(), got, strict=True):
            e = expected[o.name] if o.name in expected else None
            if e is None:  # tf2onnx may rename outputs; match by shape and order then
                e = [v for v in expected.values() if v.shape == g.shape][0]
            worst = max(worst, float(np.abs(e.astype(np.float64) - g).max()))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    parser.add_argument("--venv", type=Path, help="conversion venv to create or reuse (default: a temporary one)")
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), metavar="MODEL",
                        help="convert just these models and keep the manifest's other entries "
                             f"(one of {', '.join(MODELS)})")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.out, args.only)
        return
    with tempfile.TemporaryDirectory() as tmp:
        python = ensure_venv(args.venv or Path(tmp) / "venv")
        wheel = download_wheel(Path(tmp) / "wheel")
        subprocess.run([str(python), __file__, "--worker", str(wheel), "--out", str(args.out.resolve()),
                        *(["--only", *args.only] if args.only else [])], check=True)


if __name__ == "__main__":
    main()
