"""Graph rewrites that make the converted models batchable and fast on ONNX Runtime's CPU provider.

ONNX Runtime runs convolutions on x86 in a blocked channel layout (NCHWc) and converts tensors in
and out of it around every operator that has no blocked kernel. tf2onnx's output of MediaPipe's
models is full of such operators (PRelu, channel Pad), so most of the time went into layout reorders
and per-node overhead rather than arithmetic. Each rewrite here is exact up to the order of float
additions; ``convert.py`` checks the rewritten model against the plain one on random inputs.
Written by hand because no maintained ONNX optimiser (onnxoptimizer, onnxsim, ORT's own transformers)
knows these layout costs; the figures in each docstring are one-thread medians on the 2-core CI machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def attributes(node) -> dict:
    """A node's attributes as a plain dict (name -> Python value)."""
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _array(graph, name: str):
    from onnx import numpy_helper

    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    return None


def _add_const(graph, name: str, value) -> str:
    import numpy as np
    from onnx import numpy_helper

    value = np.asarray(value)
    graph.initializer.append(numpy_helper.from_array(value.astype(np.float32) if value.dtype.kind == "f" else value,
                                                     name))
    return name


def _channels(model) -> dict[str, int]:
    """Axis-1 size of every 4-D intermediate tensor, from ONNX shape inference."""
    from onnx import shape_inference

    out = {}
    for v in shape_inference.infer_shapes(model).graph.value_info:
        dims = v.type.tensor_type.shape.dim
        if len(dims) == 4 and dims[1].HasField("dim_value"):
            out[v.name] = dims[1].dim_value
    return out


def make_batch_symbolic(model) -> dict[str, int]:
    """Name the batch dimension ``N`` and let Reshape targets and Slice ends that hard-code batch 1 follow it.

    tf2onnx writes batch-1 graphs; with these fixes several faces or hands run in one call.
    """
    import numpy as np
    from onnx import numpy_helper

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    counts = {"reshape": 0, "slice": 0}
    for node in graph.node:
        if node.op_type == "Reshape" and node.input[1] in inits:
            target = numpy_helper.to_array(inits[node.input[1]])
            if target.size and target[0] == 1:
                fixed = target.copy()
                fixed[0] = 0  # 0 = copy the input's dimension (allowzero=0)
                node.input[1] = _add_const(graph, f"{node.input[1]}__batch_{counts['reshape']}", fixed)
                counts["reshape"] += 1
        if node.op_type == "Slice" and len(node.input) >= 4 and all(i in inits for i in node.input[1:4]):
            starts, ends, axes = (numpy_helper.to_array(inits[i]) for i in node.input[1:4])
            batch = [k for k, axis in enumerate(axes) if axis == 0 and starts[k] == 0 and ends[k] == 1]
            if batch:  # [0:1] on the batch axis of a batch-1 graph means the whole batch
                fixed = ends.copy()
                fixed[batch] = np.iinfo(np.int64).max
                node.input[2] = _add_const(graph, f"{node.input[2]}__batch_{counts['slice']}", fixed)
                counts["slice"] += 1
    for value in list(graph.input) + list(graph.output):
        if value.type.tensor_type.shape.dim:
            value.type.tensor_type.shape.dim[0].dim_param = "N"
    remove_dead_nodes(model)  # the batch-1 constants
    return counts


def prelu_as_convs(model) -> int:
    """``PRelu(x, s)`` as ``x + (1 - s) * Relu(-x)`` written with 1x1 depthwise convolutions.

    ``Add(x, Relu(DWConv(x, -(1 - s))))`` where every slope lies in [0, 1], else
    ``Add(x, DWConv(Relu(DWConv(x, -1)), 1 - s))``. PRelu has no blocked kernel, so each one cost two
    reorders and a slow broadcast; depthwise convolutions with fused Relu and Add stay blocked.
    Face mesh 5.3 -> 2.0 ms, iris model 5.1 -> 2.3 ms per crop.
    """
    import numpy as np
    from onnx import helper

    graph = model.graph
    nodes, count = [], 0
    for node in graph.node:
        if node.op_type != "PRelu" or _array(graph, node.input[1]) is None:
            nodes.append(node)
            continue
        x, y = node.input[0], node.output[0]
        p = f"{y}__prelu"
        slope = _array(graph, node.input[1]).reshape(-1).astype(np.float64)
        c = slope.size
        conv = {"group": c, "kernel_shape": [1, 1]}
        if slope.min() >= 0 and slope.max() <= 1:  # (1 - s) >= 0 moves inside the Relu
            nodes += [
                helper.make_node("Conv", [x, _add_const(graph, p + "_w", -(1 - slope).reshape(c, 1, 1, 1))],
                                 [p + "_c"], name=p + "_conv", **conv),
                helper.make_node("Relu", [p + "_c"], [p + "_r"], name=p + "_relu"),
                helper.make_node("Add", [x, p + "_r"], [y], name=p + "_add"),
            ]
        else:
            nodes += [
                helper.make_node("Conv", [x, _add_const(graph, p + "_neg", -np.ones((c, 1, 1, 1)))], [p + "_c"],
                                 name=p + "_conv_neg", **conv),
                helper.make_node("Relu", [p + "_c"], [p + "_r"], name=p + "_relu"),
                helper.make_node("Conv", [p + "_r", _add_const(graph, p + "_w", (1 - slope).reshape(c, 1, 1, 1))],
                                 [p + "_s"], name=p + "_conv_scale", **conv),
                helper.make_node("Add", [x, p + "_s"], [y], name=p + "_add"),
            ]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return count


def _is_channel_pad(graph, node) -> bool:
    """Whether ``node`` appends zero channels to a 4-D tensor and pads nothing else."""
    if node.op_type != "Pad" or len(node.input) < 2:
        return False
    if attributes(node).get("mode", b"constant") != b"constant":
        return False
    if len(node.input) > 2 and node.input[2]:
        value = _array(graph, node.input[2])
        if value is None or value.any():
            return False
    pads = _array(graph, node.input[1])
    return pads is not None and pads.size == 8 and pads[5] > 0 and not pads[[0, 1, 2, 3, 4, 6, 7]].any()


def channel_pads_as_convs(model) -> int:
    """A Pad that appends zero channels (a widening residual shortcut) as a 1x1 identity-block convolution.

    Pad has no blocked kernel, and one Pad on the shortcut left every later residual Add outside the
    blocked layout: 167 reorder nodes in the attention face mesh (4.74 -> 4.18 ms, same run).
    """
    import numpy as np
    from onnx import helper

    graph = model.graph
    channels = _channels(model)
    count = 0
    for k, node in enumerate(graph.node):
        if not _is_channel_pad(graph, node) or node.input[0] not in channels:
            continue
        c_in = channels[node.input[0]]
        c_out = c_in + int(_array(graph, node.input[1])[5])
        eye = _add_const(graph, f"{node.name}__identity", np.eye(c_out, c_in).reshape(c_out, c_in, 1, 1))
        graph.node[k].CopyFrom(helper.make_node("Conv", [node.input[0], eye], list(node.output),
                                                name=f"{node.name}__conv", kernel_shape=[1, 1]))
        count += 1
    return count


def cancel_transpose_pairs(model) -> int:
    """Drop ``Transpose(Transpose(x))`` pairs whose permutations compose to the identity.

    tf2onnx wraps NHWC custom ops in NCHW <-> NHWC transposes; with them gone the crops feed the
    convolutions directly, which :func:`fuse_twin_branches` needs.
    """
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    outputs = {o.name for o in graph.output}
    rename = {}  # output of a dropped Transpose -> the tensor before the pair
    for node in graph.node:
        first = producer.get(node.input[0]) if node.op_type == "Transpose" else None
        if first is None or first.op_type != "Transpose" or node.output[0] in outputs:
            continue
        p1, p2 = attributes(first)["perm"], attributes(node)["perm"]
        if [p1[i] for i in p2] == list(range(len(p2))):
            rename[node.output[0]] = first.input[0]
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name in rename:
                node.input[k] = rename[name]
    kept = [n for n in graph.node if n.output[0] not in rename]
    del graph.node[:]
    graph.node.extend(kept)
    remove_dead_nodes(model)
    return len(rename)


#: operators a twin branch may consist of: all work per channel group, so two branches side by side
#: in the channel axis compute what each computes alone.
_TWIN_OPS = {"Conv", "Relu", "Add", "MaxPool"}


def _branch(graph, root: str, inits: set[str]) -> tuple[list, set[str]]:
    """Nodes reached from ``root`` through :data:`_TWIN_OPS` whose other inputs are all weights, in graph order."""
    tensors, nodes = {root}, []
    for node in graph.node:
        ins = [i for i in node.input if i]
        if (node.op_type in _TWIN_OPS and any(i in tensors for i in ins)
                and all(i in tensors or i in inits for i in ins)):
            nodes.append(node)
            tensors.update(node.output)
    return nodes, tensors


def _pair_up(graph, a_nodes, b_nodes, root_a: str, root_b: str, inits: set[str]) -> dict[str, str] | None:
    """Map branch A's tensors to branch B's if the two have the same operators, attributes and weight shapes."""
    if len(a_nodes) != len(b_nodes) or not a_nodes:
        return None
    mapping = {root_a: root_b}
    for a, b in zip(a_nodes, b_nodes, strict=True):
        if a.op_type != b.op_type or attributes(a) != attributes(b) or len(a.input) != len(b.input):
            return None
        for ia, ib in zip(a.input, b.input, strict=True):
            if ia in inits:
                wb = _array(graph, ib) if ib in inits else None
                if wb is None or wb.shape != _array(graph, ia).shape:
                    return None
            elif mapping.get(ia) != ib:
                return None
        mapping.update(zip(a.output, b.output, strict=True))
    return mapping


def fuse_twin_branches(model, roots: Sequence[str]) -> int:
    """Run two identical convolutional branches as one, side by side in the channel axis.

    The attention face mesh refines both eyes with the same architecture (different weights), each
    on its own 16x16 crop: ~150 small nodes per eye whose cost is mostly per-node overhead. Fused,
    depthwise convolutions get twice the groups, dense ones ``group=2``, and Relu, Add and MaxPool act
    on the concatenated tensor; a Split hands each branch's outputs back to the rest of the graph.
    Every pair of ``roots`` whose branches match is fused; returns how many pairs were.
    """
    import numpy as np
    from onnx import helper

    graph = model.graph
    inits = {i.name for i in graph.initializer}
    channels = _channels(model)
    fused_pairs, used = 0, set()
    for i, root_a in enumerate(roots):
        for root_b in roots[i + 1:]:
            if root_a in used or root_b in used:
                continue
            a_nodes, _ = _branch(graph, root_a, inits)
            b_nodes, _ = _branch(graph, root_b, inits)
            mapping = _pair_up(graph, a_nodes, b_nodes, root_a, root_b, inits)
            if mapping is None:
                continue
            fused, stacked = {root_a: f"{root_a}__twin"}, {}
            nodes = [helper.make_node("Concat", [root_a, root_b], [fused[root_a]], name=f"{root_a}__twin_concat",
                                      axis=1)]
            for a, b in zip(a_nodes, b_nodes, strict=True):
                ins = []
                for ia, ib in zip(a.input, b.input, strict=True):
                    if ia in inits:  # weights (Cout, Cin/group, kh, kw) and biases (Cout,) stack along Cout
                        if (ia, ib) not in stacked:
                            both = np.concatenate([_array(graph, ia), _array(graph, ib)])
                            stacked[ia, ib] = _add_const(graph, f"{ia}__twin{len(stacked)}", both)
                        ins.append(stacked[ia, ib])
                    else:
                        ins.append(fused[ia])
                outs = [f"{o}__twin" for o in a.output]
                fused.update(zip(a.output, outs, strict=True))
                attrs = attributes(a)
                if a.op_type == "Conv":
                    attrs["group"] = 2 * attrs.get("group", 1)
                nodes.append(helper.make_node(a.op_type, ins, outs, name=f"{outs[0]}_node", **attrs))
            region = {n.output[0] for n in a_nodes + b_nodes}  # a node's first output names it
            needed = ({i for n in graph.node if n.output[0] not in region for i in n.input}
                      | {o.name for o in graph.output})
            for n in a_nodes:
                for out in n.output:
                    if out in needed or mapping[out] in needed:
                        c = channels[out]
                        nodes.append(helper.make_node(
                            "Split", [fused[out], _add_const(graph, f"{out}__twin_split", np.array([c, c]))],
                            [out, mapping[out]], name=f"{out}__twin_split", axis=1))
            kept = [n for n in graph.node if n.output[0] not in region]
            del graph.node[:]
            graph.node.extend(kept + nodes)
            topological_sort(model)
            used.update((root_a, root_b))
            fused_pairs += 1
    return fused_pairs


def remove_dead_nodes(model) -> None:
    """Drop nodes whose outputs nothing reads, then initializers nothing reads."""
    graph = model.graph
    while True:
        needed = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        kept = [n for n in graph.node if any(o in needed for o in n.output)]
        if len(kept) == len(graph.node):
            break
        del graph.node[:]
        graph.node.extend(kept)
    used = {i for n in graph.node for i in n.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def topological_sort(model) -> None:
    """Order nodes so each comes after the producers of its inputs, keeping the existing order otherwise."""
    graph = model.graph
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        rest = []
        for node in pending:
            if all(i in ready for i in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ValueError(f"graph has a cycle or a missing input at node {rest[0].name!r}")
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)


def optimise_for_onnxruntime(model, twin_roots: Iterable[str] = ()) -> dict[str, int]:
    """All layout rewrites in order; returns how many places each one changed."""
    counts = {
        "prelu_as_convs": prelu_as_convs(model),
        "channel_pads_as_convs": channel_pads_as_convs(model),
        "transpose_pairs_cancelled": cancel_transpose_pairs(model),
        "twin_branches_fused": fuse_twin_branches(model, list(twin_roots)),
    }
    remove_dead_nodes(model)
    del model.graph.value_info[:]
    return counts
