"""MediaPipe's custom TFLite ops of the attention face mesh and the selfie segmenter, rewritten as standard ONNX.

face_landmark_with_attention.tflite refines eyes, irises and lips with three custom ops that tf2onnx
keeps as opaque ``TFL_*`` nodes (with their options as attributes). They are rewritten here as
standard ONNX subgraphs, following MediaPipe's kernels in mediapipe/util/tflite/operations/
(landmarks_to_transform_matrix.cc, transform_tensor_bilinear.cc, transform_landmarks.cc, the "v2"
variants this model uses), and checked against numpy ports of those kernels (:func:`check_custom_ops`).

selfie_segmentation.tflite upsamples its mask with ``Convolution2DTransposeBias``
(transpose_conv_bias.cc: TFLite's reference transpose convolution, bias added, OHWI weights, options a
packed ``TfLiteTransposeConvParams``); tf2onnx keeps it opaque and drops its options, which
:func:`annotate_transpose_conv_options` puts back from the .tflite. It becomes ONNX's ConvTranspose
with its bias input (a transpose convolution plus the bias added to every output), between the
NHWC <-> NCHW transposes tf2onnx's graph expects.

Used by ``convert.py`` inside its conversion venv; imports onnx lazily like the rest of the script.
"""

from __future__ import annotations

from pathlib import Path

from graph_rewrites import attributes, topological_sort  # a sibling module: models/ is on the path of convert.py


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

    def op(self, op_type: str, *inputs: str, out: str | list[str] | None = None, **attrs) -> str:
        """Append one node; returns its output's name (``out`` may name several outputs)."""
        from onnx import helper

        outs = out if isinstance(out, list) else [out or self._name()]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=f"{outs[0]}_node", **attrs))
        return outs[0]

    def take(self, x: str, start: int, end: int, axis: int) -> str:
        return self.op("Slice", x, self.const([start], "int64"), self.const([end], "int64"),
                       self.const([axis], "int64"))


def _landmarks_to_transform_matrices(g: _Subgraph, nodes: list) -> None:
    """(N, 468, 3) landmarks -> one (N, 4, 4) matrix per node: the affine from a W x H crop grid to landmarks.

    Each crop is its subset's box in a frame rotated by ``target - atan2(right - left)``, scaled by
    ``scale_x``/``scale_y`` (MediaPipe's LandmarksToTransformMatrixV2). All ``nodes`` read the same
    landmarks and are computed together, K matrices along axis 1: ~30 nodes instead of ~60 per matrix,
    whose per-node overhead was most of the cost. Subsets are padded to one length by repeating their
    first index, which leaves the box unchanged.
    """
    import numpy as np

    attrs = [attributes(n) for n in nodes]
    k = len(nodes)
    landmarks = nodes[0].input[0]
    longest = max(len(a["subset_idxs"]) for a in attrs)
    subsets = np.array([list(a["subset_idxs"]) + [a["subset_idxs"][0]] * (longest - len(a["subset_idxs"]))
                        for a in attrs])
    pairs = np.array([[a["left_rotation_idx"], a["right_rotation_idx"]] for a in attrs])
    # (cos phi, sin phi, 0) -> the rotation by r = target - phi, transposed, as rows x, y, z of a 3x2:
    # [[cos r, sin r], [-sin r, cos r], [0, 0]] so that points @ it rotates them by r.
    to_rotation = []
    for a in attrs:
        ct, st = np.cos(a.get("target_rotation_radians", 0.0)), np.sin(a.get("target_rotation_radians", 0.0))
        to_rotation.append([[ct, st, -st, ct, 0, 0], [st, -ct, ct, st, 0, 0], [0, 0, 0, 0, 0, 0]])
    size = np.array([[[a["output_width"], a["output_height"]]] for a in attrs], dtype=np.float64)  # (K, 1, 2)
    scale = np.array([[[a["scale_x"], a["scale_y"]]] for a in attrs]) / size

    pair = g.op("Gather", landmarks, g.const(pairs, "int64"), axis=1)  # (N, K, 2, 3)
    d = g.op("Mul", g.op("MatMul", g.const([[-1.0, 1.0]]), pair), g.const([1.0, 1.0, 0.0]))  # right - left, z = 0
    unit = g.op("Div", d, g.op("Sqrt", g.op("ReduceSumSquare", d, axes=[3], keepdims=1)))  # (N, K, 1, 3)
    rot = g.op("Reshape", g.op("MatMul", unit, g.const(to_rotation)), g.const([0, k, 3, 2], "int64"))
    pts = g.op("MatMul", g.op("Gather", landmarks, g.const(subsets, "int64"), axis=1), rot)  # (N, K, S, 2)
    lo = g.op("ReduceMin", pts, axes=[2], keepdims=1)  # (N, K, 1, 2) box in the rotated frame
    hi = g.op("ReduceMax", pts, axes=[2], keepdims=1)
    mid = g.op("Mul", g.op("Add", lo, hi), g.const(0.5))
    scaled = g.op("Mul", g.op("Sub", hi, lo), g.const(scale))  # (sx, sy)
    back = g.op("Slice", rot, g.const([0], "int64"), g.const([2], "int64"), g.const([2], "int64"))  # rotation by -r
    linear = g.op("Mul", back, scaled)  # back @ diag(sx, sy)
    # translation: back @ (diag(sx, sy) @ (-W/2, -H/2) + mid), as a column
    offset = g.op("Add", g.op("Mul", scaled, g.const(-size / 2)), mid)
    shift = g.op("MatMul", back, g.op("Reshape", offset, g.const([0, k, 2, 1], "int64")))
    top = g.op("Concat", g.op("Pad", linear, g.const([0, 0, 0, 0, 0, 0, 0, 1], "int64")), shift, axis=3)
    eye = np.zeros((1, 1, 4, 4))
    eye[0, 0, 2, 2] = eye[0, 0, 3, 3] = 1.0
    full = g.op("Add", g.op("Pad", top, g.const([0, 0, 0, 0, 0, 0, 2, 0], "int64")), g.const(eye))  # (N, K, 4, 4)
    parts = [f"{n.output[0]}__part" for n in nodes]
    g.op("Split", full, g.const([1] * k, "int64"), out=parts, axis=1)
    for part, node in zip(parts, nodes, strict=True):
        g.op("Squeeze", part, g.const([1], "int64"), out=node.output[0])


def _transform_tensor_bilinear(g: _Subgraph, nodes: list, in_hwc: tuple[int, int, int]) -> list[str]:
    """(N, H, W, C) features and K (N, 4, 4) matrices -> K (N, h, w, C) bilinear crops (TransformTensorBilinearV2).

    Each output pixel centre is mapped through the matrix; a sample outside [0, W-1] x [0, H-1] is zero.
    Written with GatherND and a weighted sum rather than ONNX GridSample, whose ONNX Runtime CPU kernel
    recomputes the coordinates for every channel (0.2 ms per 16x16x32 crop on its own). ``nodes`` read the
    same features and give crops of one size (the lips and the two eyes): they are computed together, K
    matrices along axis 1 and one gather for all, ~30 nodes instead of ~30 per crop, whose per-node overhead
    was most of the cost. Each crop ends in a 1x1 identity convolution (exact) so that the residual blocks
    reading it stay in ONNX Runtime's blocked (NCHWc) layout instead of reordering around every Add. Returns
    the crops' NCHW tensors (the ones before the final transposes to NHWC), where the refinement branches
    start.
    """
    import numpy as np

    a = attributes(nodes[0])
    feats = nodes[0].input[0]
    h_out, w_out = a["output_height"], a["output_width"]
    h_in, w_in, channels = in_hwc
    n_px, k = h_out * w_out, len(nodes)
    # one crop: (N, 4, 4) matrices and every tensor below without the K axis (ax: the axis after it)
    ax = 1 if k == 1 else 2
    matrix = nodes[0].input[1] if k == 1 else g.op(
        "Concat", *(g.op("Unsqueeze", n.input[1], g.const([1], "int64")) for n in nodes), axis=1)  # (N, K, 4, 4)
    oy, ox = np.meshgrid(np.arange(h_out), np.arange(w_out), indexing="ij")
    grid = np.stack([ox + 0.5, oy + 0.5, np.zeros_like(ox), np.ones_like(ox)]).reshape(4, -1)  # (4, h*w)
    xy = g.op("Sub", g.op("MatMul", g.take(matrix, 0, 2, ax), g.const(grid)), g.const(0.5))  # (N, K, 2, h*w)
    last = g.const([[w_in - 1.0], [h_in - 1.0]])
    inside = g.op("And", g.op("GreaterOrEqual", xy, g.const(0.0)), g.op("LessOrEqual", xy, last))
    inside = g.op("ReduceMin", g.op("Cast", inside, to=1), axes=[ax], keepdims=1)  # (N, K, 1, h*w)
    # Inside samples keep their coordinates; outside ones are clamped to any valid pixel and zeroed
    # by ``inside``. The right/lower neighbour of a sample on the last row or column is clamped too:
    # its weight is zero there, as MediaPipe's zero read outside the tensor.
    xy = g.op("Min", g.op("Max", xy, g.const(0.0)), last)
    lo = g.op("Floor", xy)
    frac = g.op("Sub", xy, lo)  # (fx, fy) rows
    hi = g.op("Min", g.op("Add", lo, g.const(1.0)), last)
    # rows [x0, y0, x1, y1] -> flat indices of the corners (x0, y0), (x1, y0), (x0, y1), (x1, y1); exact in float
    to_flat = np.array([[1, w_in, 0, 0], [0, w_in, 1, 0], [1, 0, 0, w_in], [0, 0, 1, w_in]])
    corners = g.op("MatMul", g.const(to_flat), g.op("Concat", lo, hi, axis=ax))  # (N, K, 4, h*w)
    index = g.op("Reshape", g.op("Cast", corners, to=7), g.const([0, k * 4 * n_px, 1], "int64"))
    table = g.op("Reshape", feats, g.const([0, h_in * w_in, channels], "int64"))  # (N, H*W, C)
    values = g.op("Transpose", g.op("GatherND", table, index, batch_dims=1), perm=[0, 2, 1])  # (N, C, K*4*h*w)
    w = g.op("Concat", g.op("Sub", g.const(1.0), frac), frac, axis=ax)  # rows [1-fx, 1-fy, fx, fy]
    wx, wy = (g.op("Gather", w, g.const(rows, "int64"), axis=ax) for rows in ([0, 2, 0, 2], [1, 1, 3, 3]))
    weights = g.op("Unsqueeze", g.op("Mul", g.op("Mul", wx, wy), inside), g.const([1], "int64"))  # (N, 1, K, 4, h*w)
    values = g.op("Reshape", values, g.const([0, channels, *([k] if k > 1 else []), 4, n_px], "int64"))
    crops = g.op("ReduceSum", g.op("Mul", values, weights), g.const([ax + 1], "int64"), keepdims=0)  # (N, C, K, h*w)
    identity = g.const(np.eye(channels).reshape(channels, channels, 1, 1))
    out = []
    for i, node in enumerate(nodes):
        one = crops if k == 1 else g.take(crops, i, i + 1, 2)
        nchw = g.op("Reshape", one, g.const([0, channels, h_out, w_out], "int64"))
        crop = g.op("Conv", nchw, identity, kernel_shape=[1, 1], out=f"{node.output[0]}__nchw")
        g.op("Transpose", crop, perm=[0, 2, 3, 1], out=node.output[0])
        out.append(crop)
    return out


def _transform_landmarks(g: _Subgraph, node) -> None:
    """(N, K, 2) points and (N, 4, 4) matrices -> (N, K, 2) transformed points (TransformLandmarksV2)."""
    points, matrix = node.input
    starts, axes = g.const([0, 0], "int64"), g.const([1, 2], "int64")
    linear = g.op("Transpose", g.op("Slice", matrix, starts, g.const([2, 2], "int64"), axes), perm=[0, 2, 1])
    shift = g.op("Transpose", g.op("Slice", matrix, g.const([0, 3], "int64"), g.const([2, 4], "int64"), axes),
                 perm=[0, 2, 1])
    g.op("Add", g.op("MatMul", points, linear), shift, out=node.output[0])


#: tf2onnx's name for MediaPipe's Convolution2DTransposeBias custom op.
TRANSPOSE_CONV_BIAS = "TFL_Convolution2DTransposeBias"
#: TfLitePadding's values in the packed options.
_PADDING = {0: "UNKNOWN", 1: "SAME", 2: "VALID"}


def decode_transpose_conv_options(raw: bytes) -> dict:
    """The packed ``TfLiteTransposeConvParams`` (three little-endian int32: padding, stride_width,
    stride_height) as node attributes."""
    import struct

    if len(raw) < 12:
        raise SystemExit(f"Convolution2DTransposeBias: expected 12 bytes of options, got {len(raw)}")
    padding, stride_w, stride_h = struct.unpack("<3i", bytes(raw[:12]))
    return {"padding": _PADDING.get(padding, "UNKNOWN"), "stride_w": stride_w, "stride_h": stride_h}


def annotate_transpose_conv_options(model, tflite_path: Path) -> int:
    """Give tf2onnx's Convolution2DTransposeBias nodes their options back, read from the .tflite (matched
    by output tensor name); returns how many."""
    from onnx import helper
    from tensorflow.lite.tools import flatbuffer_utils

    tfl = flatbuffer_utils.read_model(str(tflite_path))
    graph = tfl.subgraphs[0]
    options = {}
    for op in graph.operators:
        code = tfl.operatorCodes[op.opcodeIndex]
        if code.customCode == b"Convolution2DTransposeBias":
            name = graph.tensors[op.outputs[0]].name.decode()
            options[name] = decode_transpose_conv_options(bytes(op.customOptions))
    count = 0
    for node in model.graph.node:
        if node.op_type == TRANSPOSE_CONV_BIAS:
            found = options.get(node.output[0])
            if found is None:
                raise SystemExit(f"no .tflite options for {node.name} (output {node.output[0]})")
            node.attribute.extend(helper.make_attribute(k, v) for k, v in found.items())
            count += 1
    return count


def _decoded(attrs: dict) -> dict:
    """String attributes come back from ONNX as bytes: as str."""
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}


def _same_padding(size: int, kernel: int, stride: int) -> int:
    """transpose_conv_bias.cc's total SAME padding of one axis."""
    return max(0, kernel - (size - 1) % stride - 1)


def _transpose_conv_bias(g: _Subgraph, node, in_hw: tuple[int, int]) -> None:
    """NHWC input, OHWI weights, bias -> ConvTranspose on NCHW with (I, O, kh, kw) weights and its bias."""
    from graph_rewrites import _array

    a = _decoded(attributes(node))
    if a.get("padding") not in ("SAME", "VALID"):
        raise SystemExit(f"{node.name}: expected SAME or VALID padding, got {a.get('padding')!r}")
    weights = _array(g.graph, node.input[1])
    if weights is None or _array(g.graph, node.input[2]) is None:
        raise SystemExit(f"{node.name}: expected constant weights and bias")
    kh, kw = int(weights.shape[1]), int(weights.shape[2])
    sh, sw = int(a["stride_h"]), int(a["stride_w"])
    if a["padding"] == "SAME":
        ph, pw = _same_padding(in_hw[0], kh, sh), _same_padding(in_hw[1], kw, sw)
    else:
        ph = pw = 0
    nchw = g.op("Transpose", node.input[0], perm=[0, 3, 1, 2])
    y = g.op("ConvTranspose", nchw, g.const(weights.transpose(3, 0, 1, 2)), node.input[2],
             kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph // 2, pw // 2, ph - ph // 2, pw - pw // 2])
    g.op("Transpose", y, perm=[0, 2, 3, 1], out=node.output[0])


def transpose_conv_bias_kernel(x, weights, bias, padding: str, stride_w: int, stride_h: int):
    """Numpy port of transpose_conv_bias.cc on one NHWC batch: (N, H, W, I), (O, kh, kw, I), (O,)."""
    import numpy as np

    n, in_h, in_w, _ = x.shape
    o, kh, kw, _ = weights.shape
    ph = _same_padding(in_h, kh, stride_h) if padding == "SAME" else 0
    pw = _same_padding(in_w, kw, stride_w) if padding == "SAME" else 0
    out_h, out_w = stride_h * (in_h - 1) + kh - ph, stride_w * (in_w - 1) + kw - pw
    out = np.broadcast_to(np.asarray(bias, np.float64), (n, out_h, out_w, o)).copy()
    x64, w64 = np.asarray(x, np.float64), np.asarray(weights, np.float64)
    for fy in range(kh):
        for fx in range(kw):
            # every input pixel's contribution through filter tap (fy, fx): out[y * s - pad + fy]
            contrib = x64 @ w64[:, fy, fx, :].T  # (N, H, W, O)
            ys = np.arange(in_h) * stride_h - ph // 2 + fy
            xs = np.arange(in_w) * stride_w - pw // 2 + fx
            vy, vx = (ys >= 0) & (ys < out_h), (xs >= 0) & (xs < out_w)
            out[:, ys[vy][:, None], xs[vx][None, :], :] += contrib[:, vy][:, :, vx]
    return out.astype(np.float32)


def _crop_key(node, matrix_attrs: dict[str, dict]) -> tuple:
    """What a TransformTensorBilinear crop shares with its twin: features, crop size, and its matrix op's
    geometry (how many points, scales, rotation; not which points). A matrix made elsewhere: its own key."""
    a = attributes(node)
    m = matrix_attrs.get(node.input[1])
    shape = (len(m["subset_idxs"]), m["scale_x"], m["scale_y"], m.get("target_rotation_radians", 0.0),
             m["output_width"], m["output_height"]) if m is not None else (node.name,)
    return (node.input[0], a["output_height"], a["output_width"], *shape)


def replace_mediapipe_ops(model) -> list[str]:
    """Rewrite tf2onnx's opaque ``TFL_*`` nodes of MediaPipe's custom ops as standard ONNX, in place.

    Returns the NCHW crops the TransformTensorBilinear ops produce (one per refined region), where the
    refinement branches start.
    """
    from onnx import shape_inference

    graph = model.graph
    inferred = shape_inference.infer_shapes(model).graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*inferred.input, *inferred.value_info]}
    matrices: dict[str, list] = {}  # landmarks tensor -> the matrix ops reading it
    for node in graph.node:
        if node.op_type == "TFL_Landmarks2TransformMatrix":
            matrices.setdefault(node.input[0], []).append(node)
    # Twin crops (the two eyes: one feature map, one crop size, matrices of the same shape from as many
    # points) are taken together; they feed one refinement branch, so a graph pruned to other branches
    # (``arlens.runtime.pruned_graph``) still leaves them out. Others (the lips) stay on their own.
    made_by = {n.output[0]: attributes(n) for group in matrices.values() for n in group}
    crops_of: dict[tuple, list] = {}
    for node in graph.node:
        if node.op_type == "TFL_TransformTensorBilinear":
            crops_of.setdefault(_crop_key(node, made_by), []).append(node)
    nodes, crops = [], []
    for node in graph.node:
        if not node.op_type.startswith("TFL_"):
            nodes.append(node)
            continue
        g = _Subgraph(graph, node.name)
        if node.op_type == "TFL_Landmarks2TransformMatrix":
            group = matrices.pop(node.input[0], None)
            if group:  # all of them at the first one's place
                _landmarks_to_transform_matrices(g, group)
        elif node.op_type == "TFL_TransformTensorBilinear":
            group = crops_of.pop(_crop_key(node, made_by), None)
            if group:  # all of them at the first one's place (every matrix op is computed before it, above)
                crops += _transform_tensor_bilinear(g, group, tuple(shapes[node.input[0]][1:4]))
        elif node.op_type == "TFL_TransformLandmarks":
            _transform_landmarks(g, node)
        elif node.op_type == TRANSPOSE_CONV_BIAS:
            _transpose_conv_bias(g, node, tuple(shapes[node.input[0]][1:3]))
        else:
            raise SystemExit(f"unknown custom op {node.op_type} in node {node.name}")
        nodes += g.nodes
    del graph.node[:]
    graph.node.extend(nodes)
    topological_sort(model)  # a group written at its first op's place may read what a later op's place made
    return crops


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
    constants = {i.name for i in original.graph.initializer}
    names = sorted({t for n in custom for t in [*n.input, *n.output] if t not in constants})
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(t) for t in names)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {sess.get_inputs()[0].name: x}), strict=True))
    matrix, bilinear, landmarks = reference_kernels()
    worst = 0.0
    for n in custom:
        a = attributes(n)
        if n.op_type == TRANSPOSE_CONV_BIAS:
            from graph_rewrites import _array

            a = _decoded(a)
            expected = transpose_conv_bias_kernel(got[n.input[0]], _array(original.graph, n.input[1]),
                                                  _array(original.graph, n.input[2]), a["padding"],
                                                  a["stride_w"], a["stride_h"])[0]
        elif n.op_type == "TFL_Landmarks2TransformMatrix":
            expected = matrix(got[n.input[0]][0], a)
        elif n.op_type == "TFL_TransformTensorBilinear":
            expected = bilinear(got[n.input[0]][0], got[n.input[1]][0], a["output_height"], a["output_width"])
        else:
            expected = landmarks(got[n.input[0]][0], got[n.input[1]][0])
        scale = max(1.0, float(np.abs(expected).max()))
        worst = max(worst, float(np.abs(got[n.output[0]][0] - expected).max()) / scale)
    return worst
