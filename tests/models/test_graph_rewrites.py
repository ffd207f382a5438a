"""The converter's graph rewrites (models/graph_rewrites.py) on small graphs: same outputs, fewer slow nodes.

Each test builds an ONNX graph with the pattern a rewrite targets, runs it in ONNX Runtime before
and after the rewrite on random inputs, and checks the outputs agree and the pattern is gone.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.support import models_module

G = models_module("graph_rewrites")
RNG = np.random.default_rng(3)


def weight(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.normal(0, 0.5, shape).astype(np.float32), name)


def model(nodes, inputs: dict[str, list], outputs: list[str], inits=()) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def run(m: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"]).run(None, feeds)


def ops(m: onnx.ModelProto) -> list[str]:
    return [n.op_type for n in m.graph.node]


def rewritten(before: onnx.ModelProto, rewrite, expected_count: int, gone: str | None,
              shape: list[int]) -> onnx.ModelProto:
    """Apply ``rewrite`` to a copy of ``before``; check its count, that no ``gone`` node is left, same outputs."""
    after = onnx.ModelProto()
    after.CopyFrom(before)
    assert rewrite(after) == expected_count
    assert gone is None or gone not in ops(after)
    assert_same_outputs(before, after, {"x": RNG.normal(size=shape).astype(np.float32)})
    return after


def assert_same_outputs(before: onnx.ModelProto, after: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> None:
    for a, b in zip(run(before, feeds), run(after, feeds), strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def test_channel_pad_becomes_an_identity_convolution():
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Pad", ["c", "pads"], ["p"]),
        helper.make_node("Conv", ["x", "w2"], ["d"], kernel_shape=[1, 1]),
        helper.make_node("Add", ["p", "d"], ["y"]),
    ]
    inits = [weight("w", 8, 4, 3, 3), weight("w2", 24, 4, 1, 1),
             numpy_helper.from_array(np.array([0, 0, 0, 0, 0, 16, 0, 0], np.int64), "pads")]
    rewritten(model(nodes, {"x": [1, 4, 10, 10]}, ["y"], inits), G.channel_pads_as_convs, 1, "Pad", [1, 4, 10, 10])


def test_spatial_pad_is_left_alone():
    nodes = [helper.make_node("Pad", ["x", "pads"], ["y"])]
    inits = [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")]
    m = model(nodes, {"x": [1, 4, 6, 6]}, ["y"], inits)
    assert G.channel_pads_as_convs(m) == 0
    assert ops(m) == ["Pad"]


@pytest.mark.parametrize("slopes", [(0.0, 1.0), (-0.6, 2.2)], ids=["in_0_1", "outside_0_1"])
def test_prelu_becomes_depthwise_convolutions(slopes):
    slope = np.linspace(*slopes, 8, dtype=np.float32).reshape(8, 1, 1)
    nodes = [helper.make_node("PRelu", ["x", "s"], ["y"])]
    before = model(nodes, {"x": [2, 8, 5, 5]}, ["y"], [numpy_helper.from_array(slope, "s")])
    rewritten(before, G.prelu_as_convs, 1, "PRelu", [2, 8, 5, 5])


def test_transpose_pairs_cancel_and_others_stay():
    nodes = [
        helper.make_node("Transpose", ["x"], ["a"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["a"], ["b"], perm=[0, 3, 1, 2]),  # undoes the first
        helper.make_node("Relu", ["b"], ["r"]),
        helper.make_node("Transpose", ["r"], ["c"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1]),  # does not
    ]
    after = rewritten(model(nodes, {"x": [1, 3, 4, 5]}, ["y"]), G.cancel_transpose_pairs, 1, None, [1, 3, 4, 5])
    assert ops(after) == ["Relu", "Transpose", "Transpose"]


def branch(prefix: str, root: str, channels: int, out: str, inits: list) -> list:
    """A residual block like the attention model's refinement branches: DW conv, PW conv, Add, Relu, MaxPool."""
    inits += [weight(f"{prefix}dw", channels, 1, 3, 3), weight(f"{prefix}dwb", channels),
              weight(f"{prefix}pw", channels, channels, 1, 1), weight(f"{prefix}head", 6, channels, 2, 2)]
    return [
        helper.make_node("Conv", [root, f"{prefix}dw", f"{prefix}dwb"], [f"{prefix}a"], group=channels,
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", [f"{prefix}a", f"{prefix}pw"], [f"{prefix}b"], kernel_shape=[1, 1]),
        helper.make_node("Add", [root, f"{prefix}b"], [f"{prefix}c"]),
        helper.make_node("Relu", [f"{prefix}c"], [f"{prefix}d"]),
        helper.make_node("MaxPool", [f"{prefix}d"], [f"{prefix}e"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", [f"{prefix}e", f"{prefix}head"], [f"{prefix}h"], kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Reshape", [f"{prefix}h", "flat"], [out]),
    ]


def twin_model(second_channels: int = 8) -> onnx.ModelProto:
    inits = [numpy_helper.from_array(np.array([0, -1], np.int64), "flat"),
             weight("wl", 8, 4, 1, 1), weight("wr", second_channels, 4, 1, 1)]
    nodes = [helper.make_node("Conv", ["x", "wl"], ["left"], kernel_shape=[1, 1]),
             helper.make_node("Conv", ["x", "wr"], ["right"], kernel_shape=[1, 1])]
    nodes += branch("l_", "left", 8, "out_left", inits) + branch("r_", "right", second_channels, "out_right", inits)
    return model(nodes, {"x": [2, 4, 8, 8]}, ["out_left", "out_right"], inits)


def test_twin_branches_run_as_one_with_the_same_outputs():
    before = twin_model()
    after = onnx.ModelProto()
    after.CopyFrom(before)
    assert G.fuse_twin_branches(after, ["left", "right"]) == 1
    assert ops(after).count("Conv") == ops(before).count("Conv") - 3  # the branches' 3 convs each, now once
    assert ops(after).count("Relu") == 1
    grouped = [n for n in after.graph.node if n.op_type == "Conv" and n.output[0].endswith("__twin")]
    assert sorted(G.attributes(n).get("group", 1) for n in grouped) == [2, 2, 16]
    assert_same_outputs(before, after, {"x": RNG.normal(size=(2, 4, 8, 8)).astype(np.float32)})


def test_branches_of_different_shapes_are_not_fused():
    m = twin_model(second_channels=16)
    assert G.fuse_twin_branches(m, ["left", "right"]) == 0
    assert ops(m) == ops(twin_model(second_channels=16))


def test_batch_becomes_symbolic():
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("Slice", ["r", "starts", "ends", "axes"], ["y"])]
    inits = [numpy_helper.from_array(np.array([1, 12], np.int64), "shape"),
             numpy_helper.from_array(np.array([0, 2], np.int64), "starts"),
             numpy_helper.from_array(np.array([1, 6], np.int64), "ends"),
             numpy_helper.from_array(np.array([0, 1], np.int64), "axes")]
    m = model(nodes, {"x": [1, 3, 4]}, ["y"], inits)
    assert G.make_batch_symbolic(m) == {"reshape": 1, "slice": 1}
    x = RNG.normal(size=(3, 3, 4)).astype(np.float32)
    (y,) = run(m, {"x": x})
    np.testing.assert_array_equal(y, x.reshape(3, 12)[:, 2:6])


def test_topological_sort_orders_and_refuses_cycles():
    nodes = [helper.make_node("Relu", ["a"], ["y"]), helper.make_node("Neg", ["x"], ["a"])]
    m = model(nodes, {"x": [2]}, ["y"])
    G.topological_sort(m)
    assert ops(m) == ["Neg", "Relu"]
    cyclic = model([helper.make_node("Relu", ["b"], ["a"]), helper.make_node("Neg", ["a"], ["b"]),
                    helper.make_node("Add", ["x", "a"], ["y"])], {"x": [2]}, ["y"])
    with pytest.raises(ValueError, match="cycle or a missing input"):
        G.topological_sort(cyclic)
