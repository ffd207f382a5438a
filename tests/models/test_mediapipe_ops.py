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
