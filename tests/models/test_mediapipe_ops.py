"""MediaPipe's custom ops as standard ONNX (models/mediapipe_ops.py) against the numpy ports of their kernels.

Graphs hold the opaque ``TFL_*`` nodes tf2onnx writes for the attention face mesh; after
``replace_mediapipe_ops`` ONNX Runtime runs them, and every output must match the kernel port.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from tests.support import models_module

M = models_module("mediapipe_ops")
MATRIX, BILINEAR, _LANDMARKS = M.reference_kernels()
RNG = np.random.default_rng(11)


def run(nodes, inputs: dict[str, np.ndarray], outputs: list[str]) -> tuple[list[np.ndarray], list[str]]:
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape)) for n, v in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    crops = M.replace_mediapipe_ops(model)
    assert not [n for n in model.graph.node if n.op_type.startswith("TFL_")]
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(outputs, inputs), crops


def test_transform_matrices_match_the_kernel():
    """Three matrix ops on one landmark tensor (batched into one subgraph), subsets of different lengths."""
    attrs = [
        {"left_rotation_idx": 33, "right_rotation_idx": 133, "subset_idxs": list(range(30, 101)),
         "output_width": 16, "output_height": 16, "scale_x": 1.5, "scale_y": 1.5, "target_rotation_radians": 0.0},
        {"left_rotation_idx": 61, "right_rotation_idx": 291, "subset_idxs": list(range(200, 280)),
         "output_width": 16, "output_height": 12, "scale_x": 1.2, "scale_y": 1.7, "target_rotation_radians": 0.3},
        {"left_rotation_idx": 5, "right_rotation_idx": 400, "subset_idxs": [7, 9, 11],
         "output_width": 8, "output_height": 8, "scale_x": 1.0, "scale_y": 1.0, "target_rotation_radians": -1.2},
    ]
    nodes = [helper.make_node("TFL_Landmarks2TransformMatrix", ["lm"], [f"m{k}"], name=f"matrix{k}", **a)
             for k, a in enumerate(attrs)]
    lm = np.concatenate([RNG.uniform(0, 192, (2, 468, 2)), RNG.uniform(-20, 20, (2, 468, 1))], -1).astype(np.float32)
    outs, _ = run(nodes, {"lm": lm}, ["m0", "m1", "m2"])
    for out, a in zip(outs, attrs, strict=True):
        assert out.shape == (2, 4, 4)
        for b in range(2):
            expected = MATRIX(lm[b], a)
            np.testing.assert_allclose(out[b], expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_bilinear_crop_matches_the_kernel_inside_at_the_edges_and_outside():
    """A rotated, scaled crop that runs off the feature map: zero outside, bilinear inside, edges exact."""
    feats = RNG.normal(size=(2, 12, 10, 8)).astype(np.float32)  # NHWC
    mats = np.zeros((2, 4, 4), np.float32)
    for b, (angle, scale, tx, ty) in enumerate([(0.4, 0.9, 2.0, -1.5), (-0.2, 1.3, -3.0, 1.0)]):
        c, s = np.cos(angle) * scale, np.sin(angle) * scale
        mats[b] = [[c, -s, 0, tx], [s, c, 0, ty], [0, 0, 1, 0], [0, 0, 0, 1]]
    node = helper.make_node("TFL_TransformTensorBilinear", ["f", "m"], ["y"], name="crop", output_height=9,
                            output_width=7)
    (out,), crops = run([node], {"f": feats, "m": mats}, ["y"])
    assert out.shape == (2, 9, 7, 8)
    assert len(crops) == 1
    for b in range(2):
        expected = BILINEAR(feats[b], mats[b], 9, 7)
        assert (expected == 0).all(-1).any() and (expected != 0).any(), "the case should cover both"
        np.testing.assert_allclose(out[b], expected, atol=1e-5)


def test_bilinear_crops_of_one_map_are_taken_together():
    """Three crops of one feature map whose matrices come from elsewhere (each on its own then), made after
    the first crop's place in the graph, and a crop of another size: each crop the kernel's."""
    feats = RNG.normal(size=(2, 12, 10, 8)).astype(np.float32)
    mats = []
    for _ in range(4):
        m = np.zeros((2, 4, 4), np.float32)
        for b in range(2):
            angle, scale = RNG.uniform(-1, 1), RNG.uniform(0.5, 1.5)
            c, s = np.cos(angle) * scale, np.sin(angle) * scale
            m[b] = [[c, -s, 0, RNG.uniform(-3, 6)], [s, c, 0, RNG.uniform(-3, 8)], [0, 0, 1, 0], [0, 0, 0, 1]]
        mats.append(m)
    # m1..m3 come from a node after the first crop (an Identity): the batched crops must wait for them
    nodes = [helper.make_node("TFL_TransformTensorBilinear", ["f", "m0"], ["y0"], name="c0", output_height=9,
                              output_width=7)]
    nodes += [helper.make_node("Identity", [f"r{k}"], [f"m{k}"]) for k in (1, 2, 3)]
    nodes += [helper.make_node("TFL_TransformTensorBilinear", ["f", f"m{k}"], [f"y{k}"], name=f"c{k}",
                               output_height=9 if k < 3 else 5, output_width=7 if k < 3 else 4) for k in (1, 2, 3)]
    inputs = {"f": feats, "m0": mats[0], **{f"r{k}": mats[k] for k in (1, 2, 3)}}
    outs, crops = run(nodes, inputs, ["y0", "y1", "y2", "y3"])
    assert crops == ["y0__nchw", "y1__nchw", "y2__nchw", "y3__nchw"]
    for k, out in enumerate(outs):
        for b in range(2):
            expected = BILINEAR(feats[b], mats[k][b], 9 if k < 3 else 5, 7 if k < 3 else 4)
            np.testing.assert_allclose(out[b], expected, atol=1e-5)


def test_twin_crops_are_taken_together_and_others_alone():
    """The eyes' crops (matrices of one geometry from as many points) share one gather; the lips' (another
    geometry) has its own, so a graph pruned to the lips computes no eye crop. Each crop the kernel's."""
    geometry = {"output_width": 16, "output_height": 16, "scale_x": 1.5, "scale_y": 1.5}
    subsets = {"lips": list(range(200, 280)), "left": list(range(30, 101)), "right": list(range(300, 371))}
    nodes = [helper.make_node("TFL_Landmarks2TransformMatrix", ["lm"], [f"m_{k}"], name=f"matrix_{k}",
                              left_rotation_idx=33, right_rotation_idx=133, subset_idxs=idx,
                              **{**geometry, "scale_x": 1.2 if k == "lips" else 1.5})
             for k, idx in subsets.items()]
    nodes += [helper.make_node("TFL_TransformTensorBilinear", ["f", f"m_{k}"], [f"y_{k}"], name=f"crop_{k}",
                               output_height=6, output_width=6) for k in subsets]
    lm = np.concatenate([RNG.uniform(0, 12, (1, 468, 2)), RNG.uniform(-2, 2, (1, 468, 1))], -1).astype(np.float32)
    feats = RNG.normal(size=(1, 12, 10, 8)).astype(np.float32)
    outs, crops = run(nodes, {"lm": lm, "f": feats}, ["y_lips", "y_left", "y_right", "m_lips", "m_left", "m_right"])
    assert crops == ["y_lips__nchw", "y_left__nchw", "y_right__nchw"]
    for out, m in zip(outs[:3], outs[3:], strict=True):
        np.testing.assert_allclose(out[0], BILINEAR(feats[0], m[0], 6, 6), atol=1e-5)
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("lm", TensorProto.FLOAT, [1, 468, 3]),
                                           helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, 12, 10, 8])],
                              [helper.make_tensor_value_info("y_lips", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    M.replace_mediapipe_ops(model)
    gathers = [n for n in model.graph.node if n.op_type == "GatherND"]
    assert len(gathers) == 2  # the lips' crop and the eyes' pair
    eyes = [n for n in gathers if n.name.startswith(("crop_left", "crop_right"))]
    assert len(eyes) == 1 and not eyes[0].name.startswith("crop_lips")


def test_bilinear_crop_on_the_last_row_and_column():
    """Samples exactly on the map's last row/column read no neighbour beyond it (MediaPipe reads zero there)."""
    feats = RNG.normal(size=(1, 6, 5, 3)).astype(np.float32)
    # output pixel (ox, oy) samples the source at (ox + 4, oy + 5): (0, 0) on the last column and row, (1, 1) beyond
    mats = np.eye(4, dtype=np.float32)[None].copy()
    mats[0, 0, 3], mats[0, 1, 3] = 4.0, 5.0
    node = helper.make_node("TFL_TransformTensorBilinear", ["f", "m"], ["y"], name="edge", output_height=2,
                            output_width=2)
    (out,), _ = run([node], {"f": feats, "m": mats}, ["y"])
    expected = BILINEAR(feats[0], mats[0], 2, 2)
    np.testing.assert_allclose(out[0], expected, atol=1e-6)
    np.testing.assert_allclose(out[0, 0, 0], feats[0, 5, 4], atol=1e-6)  # the corner pixel itself
    assert not out[0, 1, 1].any()  # beyond the map: zero


def test_unknown_custom_op_is_refused():
    node = helper.make_node("TFL_Unheard", ["x"], ["y"], name="mystery")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(SystemExit, match="unknown custom op TFL_Unheard in node mystery"):
        M.replace_mediapipe_ops(model)


@pytest.mark.parametrize("padding, stride, size", [("SAME", 2, (8, 8)), ("SAME", 2, (7, 9)), ("VALID", 2, (6, 5)),
                                                   ("SAME", 3, (5, 4)), ("VALID", 1, (4, 4))])
def test_transpose_conv_bias_matches_the_kernel(padding, stride, size):
    """Convolution2DTransposeBias (the selfie segmenter's upsampling) as ConvTranspose with its bias, on
    NHWC data with OHWI weights, against the port of transpose_conv_bias.cc: even and odd sizes, SAME and
    VALID padding, strides 1 to 3 (the model itself: SAME, stride 2, a 2x2 kernel, 128 -> 256)."""
    from onnx import numpy_helper

    h, w = size
    x = RNG.normal(size=(2, h, w, 5)).astype(np.float32)
    weights = RNG.normal(size=(3, 3, 2, 5)).astype(np.float32)  # O, kh, kw, I
    bias = RNG.normal(size=(3,)).astype(np.float32)
    node = helper.make_node("TFL_Convolution2DTransposeBias", ["x", "w", "b"], ["y"], name="up",
                            padding=padding, stride_w=stride, stride_h=stride)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    M.replace_mediapipe_ops(model)
    assert [n.op_type for n in model.graph.node] == ["Transpose", "ConvTranspose", "Transpose"]
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    got = sess.run(["y"], {"x": x})[0]
    expected = M.transpose_conv_bias_kernel(x, weights, bias, padding, stride, stride)
    assert got.shape == expected.shape
    # float32 sums of 5 x 6 products in another order: within a few ulps of their size
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_transpose_conv_options_decode():
    import struct

    raw = struct.pack("<3i", 1, 2, 3)
    assert M.decode_transpose_conv_options(raw) == {"padding": "SAME", "stride_w": 2, "stride_h": 3}
    with pytest.raises(SystemExit, match="12 bytes"):
        M.decode_transpose_conv_options(b"\x01")
