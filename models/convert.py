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
    "face_landmark_with_attention": (
        "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite", (0.0, 1.0)),
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


# --- MediaPipe's custom TFLite ops ---------------------------------------------------------------
# face_landmark_with_attention.tflite refines eyes, irises and lips with three custom ops that tf2onnx
# keeps as opaque ``TFL_*`` nodes (with their options as attributes). They are rewritten below as
# standard ONNX subgraphs, following MediaPipe's kernels in mediapipe/util/tflite/operations/
# (landmarks_to_transform_matrix.cc, transform_tensor_bilinear.cc, transform_landmarks.cc, the "v2"
# variants this model uses), and checked against the numpy ports of those kernels further down.


class _Subgraph:
    """Appends ONNX nodes and constants for one replaced custom op, with names derived from it."""

    def __init__(self, graph, prefix: str):
        self.graph, self.prefix, self.nodes, self.count = graph, prefix, [], 0

    def _name(self) -> str:
        self.count += 1
        return f"{self.prefix}__{self.count}"

    def const(self, value, dtype="float32") -> str:
        import numpy as np
        from onnx import numpy_helper

        name = self._name()
        self.graph.initializer.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs) -> str:
        from onnx import helper

        out = out or self._name()
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=f"{out}_node", **attrs))
        return out

    def take(self, x: str, start: int, end: int, axis: int) -> str:
        return self.op("Slice", x, self.const([start], "int64"), self.const([end], "int64"),
                       self.const([axis], "int64"))


def _attributes(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _landmarks_to_transform_matrix(g: _Subgraph, node) -> None:
    """(N, 468, 3) landmarks -> (N, 4, 4): the affine from a W x H crop grid to landmark coordinates.

    The crop is the subset's box in a frame rotated by ``target - atan2(right - left)``, scaled by
    ``scale_x``/``scale_y`` (MediaPipe's LandmarksToTransformMatrixV2).
    """
    import numpy as np

    a = _attributes(node)
    (landmarks,) = node.input
    target = float(a.get("target_rotation_radians", 0.0))
    w_out, h_out = float(a["output_width"]), float(a["output_height"])
    pair = g.op("Gather", landmarks, g.const([a["left_rotation_idx"], a["right_rotation_idx"]], "int64"), axis=1)
    d = g.op("Sub", g.take(pair, 1, 2, 1), g.take(pair, 0, 1, 1))  # right - left, (N, 1, 3)
    dx, dy = g.take(d, 0, 1, 2), g.take(d, 1, 2, 2)
    norm = g.op("Sqrt", g.op("Add", g.op("Mul", dx, dx), g.op("Mul", dy, dy)))
    cos_phi, sin_phi = g.op("Div", dx, norm), g.op("Div", dy, norm)
    ct, st = g.const(np.cos(target)), g.const(np.sin(target))
    c = g.op("Add", g.op("Mul", ct, cos_phi), g.op("Mul", st, sin_phi))  # cos(target - phi)
    s = g.op("Sub", g.op("Mul", st, cos_phi), g.op("Mul", ct, sin_phi))  # sin(target - phi)
    pts = g.op("Gather", landmarks, g.const(np.asarray(a["subset_idxs"]), "int64"), axis=1)
    px, py = g.take(pts, 0, 1, 2), g.take(pts, 1, 2, 2)
    rx = g.op("Sub", g.op("Mul", c, px), g.op("Mul", s, py))
    ry = g.op("Add", g.op("Mul", s, px), g.op("Mul", c, py))
    x_max, x_min = g.op("ReduceMax", rx, axes=[1], keepdims=1), g.op("ReduceMin", rx, axes=[1], keepdims=1)
    y_max, y_min = g.op("ReduceMax", ry, axes=[1], keepdims=1), g.op("ReduceMin", ry, axes=[1], keepdims=1)
    half = g.const(0.5)
    mx, my = g.op("Mul", g.op("Add", x_min, x_max), half), g.op("Mul", g.op("Add", y_min, y_max), half)
    cx = g.op("Add", g.op("Mul", c, mx), g.op("Mul", s, my))  # the box centre rotated back
    cy = g.op("Sub", g.op("Mul", c, my), g.op("Mul", s, mx))
    sx = g.op("Mul", g.op("Sub", x_max, x_min), g.const(a["scale_x"] / w_out))
    sy = g.op("Mul", g.op("Sub", y_max, y_min), g.const(a["scale_y"] / h_out))
    a00, a01 = g.op("Mul", c, sx), g.op("Mul", s, sy)
    a10, a11 = g.op("Neg", g.op("Mul", s, sx)), g.op("Mul", c, sy)
    hx, hy = g.const(-w_out / 2), g.const(-h_out / 2)
    tx = g.op("Add", g.op("Add", g.op("Mul", a00, hx), g.op("Mul", a01, hy)), cx)
    ty = g.op("Add", g.op("Add", g.op("Mul", a10, hx), g.op("Mul", a11, hy)), cy)
    zero = g.op("Mul", a00, g.const(0.0))
    one = g.op("Add", zero, g.const(1.0))
    rows = [g.op("Concat", *row, axis=2) for row in
            ((a00, a01, zero, tx), (a10, a11, zero, ty), (zero, zero, one, zero), (zero, zero, zero, one))]
    g.op("Concat", *rows, axis=1, out=node.output[0])


def _transform_tensor_bilinear(g: _Subgraph, node, in_hw: tuple[int, int]) -> None:
    """(N, H, W, C) features and (N, 4, 4) matrices -> (N, h, w, C) bilinear crops (TransformTensorBilinearV2).

    Each output pixel centre is mapped through the matrix; a sample outside [0, W-1] x [0, H-1] is zero.
    """
    import numpy as np

    a = _attributes(node)
    feats, matrix = node.input
    h_out, w_out = a["output_height"], a["output_width"]
    h_in, w_in = in_hw
    oy, ox = np.meshgrid(np.arange(h_out), np.arange(w_out), indexing="ij")
    grid = np.stack([ox + 0.5, oy + 0.5, np.zeros_like(ox), np.ones_like(ox)], -1).reshape(1, -1, 4)
    rows = g.op("Transpose", g.take(matrix, 0, 2, 1), perm=[0, 2, 1])  # (N, 4, 2)
    xy = g.op("Sub", g.op("MatMul", g.const(grid), rows), g.const(0.5))  # (N, h*w, 2) source pixels
    inside = g.op("And", g.op("GreaterOrEqual", xy, g.const([0.0, 0.0])),
                  g.op("LessOrEqual", xy, g.const([w_in - 1.0, h_in - 1.0])))
    inside = g.op("ReduceMin", g.op("Cast", inside, to=1), axes=[2], keepdims=0)
    norm = g.op("Sub", g.op("Mul", xy, g.const([2.0 / (w_in - 1), 2.0 / (h_in - 1)])), g.const(1.0))
    sampled = g.op("GridSample", g.op("Transpose", feats, perm=[0, 3, 1, 2]),
                   g.op("Reshape", norm, g.const([-1, h_out, w_out, 2], "int64")),
                   align_corners=1, mode="bilinear", padding_mode="zeros")
    mask = g.op("Reshape", inside, g.const([-1, 1, h_out, w_out], "int64"))
    g.op("Transpose", g.op("Mul", sampled, mask), perm=[0, 2, 3, 1], out=node.output[0])


def _transform_landmarks(g: _Subgraph, node) -> None:
    """(N, K, 2) points and (N, 4, 4) matrices -> (N, K, 2) transformed points (TransformLandmarksV2)."""
    points, matrix = node.input
    starts, axes = g.const([0, 0], "int64"), g.const([1, 2], "int64")
    linear = g.op("Transpose", g.op("Slice", matrix, starts, g.const([2, 2], "int64"), axes), perm=[0, 2, 1])
    shift = g.op("Transpose", g.op("Slice", matrix, g.const([0, 3], "int64"), g.const([2, 4], "int64"), axes),
                 perm=[0, 2, 1])
    g.op("Add", g.op("MatMul", points, linear), shift, out=node.output[0])


def replace_mediapipe_ops(model) -> int:
    """Rewrite tf2onnx's opaque ``TFL_*`` nodes of MediaPipe's custom ops as standard ONNX; returns how many."""
    from onnx import shape_inference

    graph = model.graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in shape_inference.infer_shapes(model).graph.value_info}
    nodes, count = [], 0
    for node in graph.node:
        if not node.op_type.startswith("TFL_"):
            nodes.append(node)
            continue
        g = _Subgraph(graph, node.name)
        if node.op_type == "TFL_Landmarks2TransformMatrix":
            _landmarks_to_transform_matrix(g, node)
        elif node.op_type == "TFL_TransformTensorBilinear":
            _transform_tensor_bilinear(g, node, tuple(shapes[node.input[0]][1:3]))
        elif node.op_type == "TFL_TransformLandmarks":
            _transform_landmarks(g, node)
        else:
            raise SystemExit(f"unknown custom op {node.op_type} in node {node.name}")
        nodes += g.nodes
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return count


def reference_kernels():
    """Numpy ports of MediaPipe's v2 kernels, loop for loop, to check the ONNX rewrites against."""
    import numpy as np

    def matrix(lm, a):  # LandmarksToTransformMatrixV2, float32 as in C++
        f = np.float32
        left, right = lm[a["left_rotation_idx"]], lm[a["right_rotation_idx"]]
        r = f(a.get("target_rotation_radians", 0.0)) - f(np.arctan2(right[1] - left[1], right[0] - left[0]))
        rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]], f)
        pts = np.array([lm[i, :2] for i in a["subset_idxs"]], f) @ rot.T
        lo, hi = pts.min(0), pts.max(0)
        centre = rot.T @ ((lo + hi) / 2)
        sx = a["scale_x"] * (hi[0] - lo[0]) / a["output_width"]
        sy = a["scale_y"] * (hi[1] - lo[1]) / a["output_height"]
        inv = rot.T  # rotation by -r
        t = np.eye(4, dtype=np.float64)
        t[:2, :2] = inv @ np.diag([sx, sy])
        t[:2, 3] = inv @ np.diag([sx, sy]) @ [-a["output_width"] / 2, -a["output_height"] / 2] + centre
        return t.astype(f)

    def bilinear(feats, m, h_out, w_out):  # TransformTensorBilinearV2
        h_in, w_in, c = feats.shape
        xt, yt = m[0].astype(np.float32).copy(), m[1].astype(np.float32).copy()
        xt[3] += xt[0] * 0.5 + xt[1] * 0.5 - 0.5
        yt[3] += yt[0] * 0.5 + yt[1] * 0.5 - 0.5
        out = np.zeros((h_out, w_out, c), np.float32)

        def read(y, x):
            return feats[y, x] if 0 <= y < h_in and 0 <= x < w_in else np.zeros(c, np.float32)

        for oy in range(h_out):
            for ox in range(w_out):
                coord = np.array([ox, oy, 0, 1], np.float32)
                tx, ty = float(xt @ coord), float(yt @ coord)
                if tx < 0 or tx > w_in - 1 or ty < 0 or ty > h_in - 1:
                    continue
                x0, y0 = int(np.floor(tx)), int(np.floor(ty))
                fx, fy = tx - x0, ty - y0
                upper = (1 - fx) * read(y0, x0) + fx * read(y0, x0 + 1)
                lower = (1 - fx) * read(y0 + 1, x0) + fx * read(y0 + 1, x0 + 1)
                out[oy, ox] = fy * lower + (1 - fy) * upper
        return out

    def landmarks(points, m):  # TransformLandmarksV2, 2-D points
        return points @ m[:2, :2].T + m[:2, 3]

    return matrix, bilinear, landmarks


def check_custom_ops(original, onnx_path: Path, x) -> float:
    """Largest difference between the rewritten ops and :func:`reference_kernels` on one input's tensors."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    custom = [n for n in original.graph.node if n.op_type.startswith("TFL_")]
    model = onnx.load(str(onnx_path))
    names = sorted({t for n in custom for t in [*n.input, *n.output]})
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(t) for t in names)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {sess.get_inputs()[0].name: x}), strict=True))
    matrix, bilinear, landmarks = reference_kernels()
    worst = 0.0
    for n in custom:
        a = _attributes(n)
        if n.op_type == "TFL_Landmarks2TransformMatrix":
            expected = matrix(got[n.input[0]][0], a)
        elif n.op_type == "TFL_TransformTensorBilinear":
            expected = bilinear(got[n.input[0]][0], got[n.input[1]][0], a["output_height"], a["output_width"])
        else:
            expected = landmarks(got[n.input[0]][0], got[n.input[1]][0])
        scale = max(1.0, float(np.abs(expected).max()))
        worst = max(worst, float(np.abs(got[n.output[0]][0] - expected).max()) / scale)
    return worst


def rewrite_for_onnxruntime(path: Path) -> dict[str, int]:
    """Exact graph rewrites that make the converted model faster in ONNX Runtime and batchable.

    - ``PRelu(x, s)`` becomes ``x + (1 - s) * Relu(-x)`` written as 1x1 depthwise convolutions:
      ``Add(x, Relu(DWConv(x, -(1 - s))))`` where every slope lies in [0, 1], else
      ``Add(x, DWConv(Relu(DWConv(x, -1)), 1 - s))``. ONNX Runtime's CPU provider has no blocked (NCHWc)
      PRelu kernel, so each PRelu cost two layout reorders and a slow broadcast; depthwise convolutions
      with fused Relu and Add stay in the blocked layout. Measured on the 2-core CI machine, one
      thread: face mesh 5.3 -> 2.0 ms, iris 5.1 -> 2.3 ms per crop.
    - The batch dimension becomes symbolic (``N``); Reshape targets and Slice ends that hard-code batch 1
      take the input's batch instead, so several faces run in one call.
    - MediaPipe's custom ops (attention model) become standard ONNX (:func:`replace_mediapipe_ops`).
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    counts = {"custom_ops": replace_mediapipe_ops(model), "prelu": 0, "reshape": 0, "slice": 0}
    if not counts["custom_ops"]:
        del counts["custom_ops"]
    nodes = []

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
        if node.op_type == "Slice" and len(node.input) >= 4 and all(i in inits for i in node.input[1:4]):
            starts, ends, axes = (numpy_helper.to_array(inits[i]) for i in node.input[1:4])
            batch = [k for k, axis in enumerate(axes) if axis == 0 and starts[k] == 0 and ends[k] == 1]
            if batch:  # [0:1] on the batch axis of a batch-1 graph means the whole batch
                fixed = ends.copy()
                fixed[batch] = np.iinfo(np.int64).max
                name = f"{node.input[2]}__batch_{counts['slice']}"
                graph.initializer.append(numpy_helper.from_array(fixed.astype(ends.dtype), name))
                node.input[2] = name
                counts["slice"] += 1
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
    import onnx
    import onnxruntime as ort

    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "source": {"package": SOURCE_PACKAGE, "wheel": wheel.name, "wheel_sha256": sha256(wheel)},
        "license": "Apache-2.0 (MediaPipe, Google LLC)",
        "converter": {"tool": "tf2onnx 1.17.0", "opset": OPSET,
                      "post": "MediaPipe's custom ops as standard ONNX; PRelu as 1x1 depthwise convs; symbolic batch "
                              "dimension (rewrite_for_onnxruntime)"},
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
            original = onnx.load(str(onnx_path))
            rewrites = rewrite_for_onnxruntime(onnx_path)
            sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
            (inp,) = sess.get_inputs()
            shape = [1, *inp.shape[1:]]
            checks: dict = {}
            if "custom_ops" in rewrites:
                # ai-edge-litert cannot run MediaPipe's custom ops, so the TFLite model cannot be run here:
                # the rewritten ops are checked against ports of MediaPipe's kernels, and the whole model
                # against MediaPipe's own graph by the FaceTracker agreement tests.
                inputs = [rng.uniform(lo, hi, size=shape).astype(np.float32) for _ in range(3)]
                worst_ops = max(check_custom_ops(original, onnx_path, x) for x in inputs)
                if worst_ops >= TOLERANCE:
                    raise SystemExit(f"{name}: rewritten custom ops differ from MediaPipe's kernels by {worst_ops:.2e}")
                checks = {"max_abs_diff_vs_tflite": None, "max_rel_diff_custom_ops_vs_kernels": worst_ops}
            else:
                checks = {"max_abs_diff_vs_tflite": compare_with_tflite(tflite, sess, rng, lo, hi)}
                if checks["max_abs_diff_vs_tflite"] >= TOLERANCE:
                    raise SystemExit(f"{name}: ONNX differs from TFLite by {checks['max_abs_diff_vs_tflite']:.2e} "
                                     f"(limit {TOLERANCE})")
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
            print(f"{name}: {onnx_path.stat().st_size / 1e6:.2f} MB, checks {checks}")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def compare_with_tflite(tflite: Path, sess, rng, lo: float, hi: float) -> float:
    """Largest output difference between the ONNX session and the TFLite interpreter on five random inputs."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(tflite))
    interp.allocate_tensors()
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
    return worst


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
