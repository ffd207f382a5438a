"""The lipstick composite as an ONNX graph, built in code and run by ONNX Runtime.

The graph computes exactly the model of :func:`arlens.render.color.composite_lipstick` (same formulas,
same constants, float32) and renders N shades of the same lip box in one run:

- ``roi``: uint8 (h, w, 3) BGR box of the frame around the lips.
- ``maps``: float32 (h, w, 4) mask, liner, gloss and sparkle maps (:func:`arlens.render.mask.lip_maps`).
- ``params``: float32 (N, 16) shade parameter vectors (:func:`arlens.render.color.shade_params`).
- output ``out``: uint8 (N, h, w, 3) BGR, one composited box per shade.

Building the graph needs the ``onnx`` package (imported when a graph is built, not at import time);
running it needs ``onnxruntime``. :class:`LipstickGraph` holds one session for its lifetime.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from arlens.errors import InputError, RuntimeUnavailableError
from arlens.render import color as C
from arlens.render.mask import GLOSS, LINER, MASK, NUM_MAPS, SPARKLE

logger = logging.getLogger(__name__)

OPSET = 17
INPUT_ROI, INPUT_MAPS, INPUT_PARAMS, OUTPUT = "roi", "maps", "params", "out"


class _Builder:
    """A tiny helper around onnx.helper: constants, nodes with generated names."""

    def __init__(self) -> None:
        import onnx
        from onnx import helper, numpy_helper

        self.onnx, self.helper, self.numpy_helper = onnx, helper, numpy_helper
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0

    def _name(self, op: str) -> str:
        self._n += 1
        return f"{op.lower()}_{self._n}"

    def const(self, value: float | np.ndarray, dtype: type = np.float32) -> str:
        name = self._name("c")
        self.inits.append(self.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        out = self._name(op_type)
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    # arithmetic sugar; scalars become float32 constants
    def _v(self, x: str | float) -> str:
        return x if isinstance(x, str) else self.const(x)

    def add(self, a: str | float, b: str | float) -> str:
        return self.op("Add", self._v(a), self._v(b))

    def sub(self, a: str | float, b: str | float) -> str:
        return self.op("Sub", self._v(a), self._v(b))

    def mul(self, a: str | float, b: str | float) -> str:
        return self.op("Mul", self._v(a), self._v(b))

    def clip(self, x: str, lo: float, hi: float) -> str:
        return self.op("Clip", x, self.const(lo), self.const(hi))

    def where(self, cond: str, a: str, b: str) -> str:
        return self.op("Where", cond, a, b)

    def channel(self, x: str, index: int) -> str:
        """x[..., index:index+1] of a (..., C) tensor."""
        return self.op(
            "Slice", x, self.const([index], np.int64), self.const([index + 1], np.int64), self.const([-1], np.int64)
        )


def build_lipstick_model() -> Any:
    """Build the lipstick compositing graph as an ``onnx.ModelProto`` (see the module docstring)."""
    b = _Builder()
    helper, onnx = b.helper, b.onnx
    f32 = np.float32

    # sRGB decode and lightness of the photo, (h, w, 1).
    src = b.op("Cast", INPUT_ROI, to=onnx.TensorProto.FLOAT)
    c = b.mul(src, 1.0 / 255.0)
    lin_lo = b.mul(c, 1.0 / 12.92)
    lin_hi = b.op("Pow", b.mul(b.add(c, 0.055), 1.0 / 1.055), b.const(2.4))
    lin = b.where(b.op("LessOrEqual", c, b.const(0.04045)), lin_lo, lin_hi)
    y = b.op("MatMul", lin, b.const(C.BGR_TO_Y.reshape(3, 1)))
    f = b.where(
        b.op("Greater", y, b.const(C.LAB_EPS)),
        b.op("Pow", b.op("Max", y, b.const(0.0)), b.const(1.0 / 3.0)),
        b.mul(b.add(b.mul(y, float(C.LAB_KAPPA)), 16.0), 1.0 / 116.0),
    )
    light0 = b.sub(b.mul(f, 116.0), 16.0)

    mask = b.channel(INPUT_MAPS, MASK)
    liner_map = b.channel(INPUT_MAPS, LINER)
    gloss_map = b.channel(INPUT_MAPS, GLOSS)
    sparkle_map = b.channel(INPUT_MAPS, SPARKLE)
    # median lightness over mask > 0.5: the (n // 2 + 1)-th largest value, via TopK
    inside = b.op("Greater", mask, b.const(C.MEDIAN_MASK_THRESHOLD))
    candidates = b.op("Reshape", b.where(inside, light0, b.const(-1.0e4)), b.const([-1], np.int64))
    count = b.op("ReduceSum", b.op("Cast", inside, to=onnx.TensorProto.INT64), keepdims=0)
    count = b.op("Reshape", count, b.const([1], np.int64))  # (1,), as TopK wants k
    k = b.op("Add", b.op("Div", count, b.const([2], np.int64)), b.const([1], np.int64))
    topk = b.helper.make_node("TopK", [candidates, k], ["topk_values", "topk_indices"], name="topk", largest=1)
    b.nodes.append(topk)
    median = b.op("ReduceMin", "topk_values", keepdims=0)
    lm = b.where(b.op("Greater", b.op("Squeeze", count), b.const(0, np.int64)), median, b.const(50.0))

    # per-shade parameters, each (N, 1, 1, 1) so they broadcast against (h, w, 1)
    shape4 = b.const([-1, 1, 1, 1], np.int64)
    prm = {k: b.op("Reshape", b.channel(INPUT_PARAMS, k), shape4) for k in range(C.NUM_PARAMS)}

    zero = b.const(0.0)
    d = b.sub(b.op("Log", b.add(light0, 16.0)), b.op("Log", b.add(lm, 16.0)))
    dp = b.add(
        b.mul(prm[C.P_SHADOW_GAIN], b.op("Min", d, zero)), b.mul(prm[C.P_HIGHLIGHT_GAIN], b.op("Max", d, zero))
    )
    ratio = b.op("Exp", dp)
    target = b.add(b.add(lm, b.mul(prm[C.P_FOLLOW], b.sub(prm[C.P_L], lm))), 16.0)
    liner_target = b.add(b.add(lm, b.mul(prm[C.P_FOLLOW], b.sub(prm[C.P_LINER_L], lm))), 16.0)
    lw = liner_map
    base = b.add(target, b.mul(b.sub(liner_target, target), lw))
    scale = b.op("Sqrt", b.mul(base, b.add(lm, 16.0)))
    light1 = b.add(b.sub(base, 16.0), b.mul(b.sub(ratio, 1.0), scale))
    chroma = b.op(
        "Exp",
        b.add(
            b.mul(prm[C.P_CHROMA_SHADOW], b.op("Min", dp, zero)),
            b.mul(prm[C.P_CHROMA_HIGHLIGHT], b.op("Max", dp, zero)),
        ),
    )
    a1 = b.mul(b.add(prm[C.P_A], b.mul(b.sub(prm[C.P_LINER_A], prm[C.P_A]), lw)), chroma)
    b1 = b.mul(b.add(prm[C.P_B], b.mul(b.sub(prm[C.P_LINER_B], prm[C.P_B]), lw)), chroma)
    hl = b.clip(b.mul(b.sub(ratio, 1.0), float(C.HIGHLIGHT_SCALE)), 0.0, 1.0)
    white = b.add(
        b.add(
            b.mul(b.mul(prm[C.P_SPECULAR], gloss_map), b.add(b.mul(hl, 0.75), 0.25)),
            b.mul(prm[C.P_SHEEN], hl),
        ),
        b.mul(b.mul(prm[C.P_SPARKLE], sparkle_map), b.add(hl, 0.5)),
    )
    white = b.clip(white, 0.0, float(C.MAX_WHITE))
    light1 = b.clip(light1, 0.0, 100.0)
    light2 = b.add(light1, b.mul(b.sub(100.0, light1), white))
    keep = b.sub(1.0, white)
    a2 = b.mul(a1, keep)
    b2 = b.mul(b1, keep)

    fy = b.mul(b.add(light2, 16.0), 1.0 / 116.0)
    fx = b.add(fy, b.mul(a2, 1.0 / 500.0))
    fz = b.sub(fy, b.mul(b2, 1.0 / 200.0))
    fxyz = b.op("Concat", fx, fy, fz, axis=-1)  # (N, h, w, 3)
    cube = b.mul(b.mul(fxyz, fxyz), fxyz)
    xyz = b.where(
        b.op("Greater", fxyz, b.const(6.0 / 29.0)),
        cube,
        b.mul(b.sub(b.mul(fxyz, 116.0), 16.0), float(f32(1.0 / C.LAB_KAPPA))),
    )
    lin_out = b.clip(b.op("MatMul", xyz, b.const(C.XYZN_TO_BGR.T.copy())), 0.0, 1.0)
    srgb = b.where(
        b.op("LessOrEqual", lin_out, b.const(0.0031308)),
        b.mul(lin_out, 12.92 * 255.0),
        b.sub(b.mul(b.op("Pow", lin_out, b.const(1.0 / 2.4)), 1.055 * 255.0), 0.055 * 255.0),
    )
    coverage = b.add(prm[C.P_OPACITY], b.mul(b.sub(prm[C.P_LINER_OPACITY], prm[C.P_OPACITY]), lw))
    alpha = b.mul(mask, coverage)
    out = b.add(src, b.mul(b.sub(srgb, src), alpha))
    out = b.clip(b.op("Round", out), 0.0, 255.0)
    b.nodes.append(helper.make_node("Cast", [out], [OUTPUT], name="to_uint8", to=onnx.TensorProto.UINT8))

    graph = helper.make_graph(
        b.nodes,
        "arlens_lipstick",
        [
            helper.make_tensor_value_info(INPUT_ROI, onnx.TensorProto.UINT8, ["h", "w", 3]),
            helper.make_tensor_value_info(INPUT_MAPS, onnx.TensorProto.FLOAT, ["h", "w", NUM_MAPS]),
            helper.make_tensor_value_info(INPUT_PARAMS, onnx.TensorProto.FLOAT, ["n", C.NUM_PARAMS]),
        ],
        [helper.make_tensor_value_info(OUTPUT, onnx.TensorProto.UINT8, ["n", "h", "w", 3])],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="arlens")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def resolve_providers(providers: Sequence[str] | None) -> list[str]:
    """The execution providers to use: the requested ones that this onnxruntime has, CPU last.

    ``None`` means CUDA when available, else CPU. A requested provider that is missing is dropped with
    a logged warning (falling back to CPU).
    """
    import onnxruntime as ort

    available = set(ort.get_available_providers())
    wanted = list(providers) if providers else ["CUDAExecutionProvider", "CPUExecutionProvider"]
    chosen = [p for p in wanted if p in available]
    missing = [p for p in wanted if p not in available]
    if missing and providers:
        logger.warning("onnxruntime lacks %s; falling back to %s", ", ".join(missing), chosen or ["CPU"])
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


class LipstickGraph:
    """An ONNX Runtime session of the lipstick graph, kept for the lifetime of this object.

    Args:
        providers: execution providers in order of preference (None: CUDA if available, else CPU).
        intra_op_threads: threads for one run (0: onnxruntime's default).
    """

    def __init__(self, providers: Sequence[str] | None = None, intra_op_threads: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - onnxruntime is a dependency
            raise RuntimeUnavailableError("the onnx backend needs onnxruntime: pip install onnxruntime") from exc
        self.providers = resolve_providers(providers)
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.log_severity_level = 3
        model = build_lipstick_model().SerializeToString()
        try:
            self.session = ort.InferenceSession(model, sess_options=options, providers=self.providers)
        except Exception as exc:  # a provider that is listed but cannot start (no GPU, bad driver)
            if self.providers == ["CPUExecutionProvider"]:
                raise
            logger.warning("could not start %s (%s); falling back to CPUExecutionProvider", self.providers, exc)
            self.providers = ["CPUExecutionProvider"]
            self.session = ort.InferenceSession(model, sess_options=options, providers=self.providers)
        self.providers = list(self.session.get_providers())

    def run(self, roi: np.ndarray, maps: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Composite N shades on one lip box.

        Args:
            roi: uint8 (h, w, 3) BGR.
            maps: float32 (h, w, 4).
            params: float32 (N, 16) or (16,).

        Returns:
            uint8 (N, h, w, 3), or (h, w, 3) when ``params`` was one vector.
        """
        params = np.asarray(params, dtype=np.float32)
        single = params.ndim == 1
        params = params.reshape(-1, C.NUM_PARAMS)
        if roi.dtype != np.uint8 or roi.ndim != 3 or roi.shape[2] != 3:
            raise InputError(f"roi: expected uint8 (h, w, 3), got {roi.dtype} {roi.shape}")
        if maps.shape != roi.shape[:2] + (NUM_MAPS,):
            raise InputError(f"maps: expected shape {roi.shape[:2] + (NUM_MAPS,)}, got {maps.shape}")
        feeds = {
            INPUT_ROI: np.ascontiguousarray(roi),
            INPUT_MAPS: np.ascontiguousarray(maps, dtype=np.float32),
            INPUT_PARAMS: params,
        }
        out = self.session.run([OUTPUT], feeds)[0]
        return out[0] if single else out
