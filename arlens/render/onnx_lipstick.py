"""The lipstick composite as an ONNX graph, built in code and run by ONNX Runtime.

The graph computes the model of :func:`arlens.render.color.composite_pixels` (same formulas, same
constants, float32, algebra folded so the graph has few nodes) and renders N shades of the same lip
pixels in one run:

- ``roi``: uint8 (h, w, 3) BGR pixels: a box of the frame, or the painted pixels alone as (n, 1, 3).
- ``maps``: float32 (h, w, 4) mask, liner, gloss and sparkle at those pixels
  (:func:`arlens.render.mask.lip_maps` or :func:`arlens.render.mask.lip_pixels`).
- ``params``: float32 (N, 17) shade parameter vectors (:func:`arlens.render.color.shade_params`).
- ``lightness``: float32 scalar, the lips' reference lightness (:func:`arlens.render.color.lip_lightness`),
  computed once per face outside the graph (a median is a sort, which a graph does slowly).
- output ``out``: uint8 (N, h, w, 3) BGR, one composited box per shade.

Every node is elementwise (or a 3x3 / 4x8 matrix product per pixel), so :class:`LipstickGraph` feeds
only the painted pixels. Building the graph needs the ``onnx`` package (imported when a graph is
built, not at import time); running it needs ``onnxruntime``. :class:`LipstickGraph` holds one
session for its lifetime.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from arlens.errors import InputError
from arlens.render import color as C
from arlens.render.mask import GLOSS, MASK, NUM_MAPS

logger = logging.getLogger(__name__)

OPSET = 17
INPUT_ROI, INPUT_MAPS, INPUT_PARAMS, INPUT_LIGHTNESS, OUTPUT = "roi", "maps", "params", "lightness", "out"


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

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attrs: Any) -> Any:
        names = [self._name(op_type) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names, name=names[0], **attrs))
        return names[0] if outputs == 1 else names

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

    def columns(self, x: str, indices: Sequence[int]) -> str:
        """x[:, indices] of an (N, K) tensor."""
        return self.op("Gather", x, self.const(list(indices), np.int64), axis=1)


# Per-shade coefficients of the per-pixel linear terms, as a (5, 8) matrix per shade: rows are the
# maps' channels (mask, liner, gloss, sparkle) and a bias; columns are
_Q_A, _Q_ZERO, _Q_B, _Q_NB, _Q_S2, _Q_W1, _Q_NW0, _Q_COV = range(8)
# a * 116/500 and -b * 116/200 (the shade's or liner's a, b as offsets of f*116), 0, 116 - base,
# base * (Lm + 16), the white light's slope w1 and 1 - its offset w0 in hl, and the colour's coverage.
# They are linear in this per-shade vector:
_V_NAMES = ("a", "liner_a", "b", "liner_b", "sheen", "specular", "sparkle", "opacity", "liner_opacity",
            "target", "liner_target", "target_x", "liner_target_x")
_V_PARAMS = (C.P_A, C.P_LINER_A, C.P_B, C.P_LINER_B, C.P_SHEEN, C.P_SPECULAR, C.P_SPARKLE, C.P_OPACITY,
             C.P_LINER_OPACITY)
_ROW_BIAS = 4


def _coefficient_map() -> tuple[np.ndarray, np.ndarray]:
    """(G, g0): the per-shade (5 x 8) coefficients, flattened, are ``v @ G + g0``."""
    v = {name: i for i, name in enumerate(_V_NAMES)}
    g = np.zeros((len(_V_NAMES), 5, 8), dtype=np.float64)
    g0 = np.zeros((5, 8), dtype=np.float64)
    ka, kb = 116.0 / 500.0, -116.0 / 200.0
    bias, liner, gloss, sparkle = _ROW_BIAS, 1, 2, 3
    g[v["a"], bias, _Q_A] = ka
    g[v["liner_a"], liner, _Q_A], g[v["a"], liner, _Q_A] = ka, -ka
    g[v["b"], bias, _Q_B] = kb
    g[v["liner_b"], liner, _Q_B], g[v["b"], liner, _Q_B] = kb, -kb
    g0[bias, _Q_NB], g[v["target"], bias, _Q_NB] = 116.0, -1.0  # 116 - base, base = T + (TL - T) lw
    g[v["liner_target"], liner, _Q_NB], g[v["target"], liner, _Q_NB] = -1.0, 1.0
    g[v["target_x"], bias, _Q_S2] = 1.0  # base * xm
    g[v["liner_target_x"], liner, _Q_S2], g[v["target_x"], liner, _Q_S2] = 1.0, -1.0
    g[v["sheen"], bias, _Q_W1] = 1.0  # white = hl * w1 + w0
    g[v["specular"], gloss, _Q_W1], g[v["sparkle"], sparkle, _Q_W1] = 0.4, 1.0
    g0[bias, _Q_NW0] = 1.0
    g[v["specular"], gloss, _Q_NW0], g[v["sparkle"], sparkle, _Q_NW0] = -0.6, -0.5
    g[v["opacity"], bias, _Q_COV] = 1.0
    g[v["liner_opacity"], liner, _Q_COV], g[v["opacity"], liner, _Q_COV] = 1.0, -1.0
    return g.reshape(len(_V_NAMES), 40).astype(np.float32), g0.reshape(40).astype(np.float32)


def build_lipstick_model() -> Any:
    """Build the lipstick compositing graph as an ``onnx.ModelProto`` (see the module docstring).

    Inside, pixels run along the last axis ((k, P) planes, P = h * w): ONNX Runtime's elementwise
    kernels are fast on long inner spans and slow on broadcasts over trailing axes of size 1.
    """
    b = _Builder()
    helper, onnx = b.helper, b.onnx
    f32 = np.float32

    planes = b.const([-1, 3], np.int64)
    roi = b.op("Transpose", b.op("Reshape", INPUT_ROI, planes), perm=[1, 0])  # uint8 (3, P)
    maps = b.op("Transpose", b.op("Reshape", INPUT_MAPS, b.const([-1, NUM_MAPS], np.int64)), perm=[1, 0])  # (4, P)

    # -- per pixel: sRGB decode (3, P) and luminance (1, P). Each two-piece curve is evaluated as
    # upper(max(x, t)) + lower(min(x, t)) - lower(t), exact where its pieces meet (a Where is slow).
    x = b.op("Cast", roi, to=onnx.TensorProto.FLOAT)  # 0..255
    t_dec = 0.04045 * 255.0
    hi = b.op("Max", x, b.const(t_dec))
    lin_hi = b.op("Exp", b.mul(b.op("Log", b.add(b.mul(hi, 1.0 / (255.0 * 1.055)), 0.055 / 1.055)), 2.4))
    lin = b.add(lin_hi, b.mul(b.sub(b.op("Min", x, b.const(t_dec)), t_dec), 1.0 / (255.0 * 12.92)))
    y = b.op("MatMul", b.const(C.BGR_TO_Y.reshape(1, 3)), lin)
    # d = ln((L0 + 16) / (Lm + 16)), L0 + 16 = 116 cbrt(Y) above LAB_EPS and kappa Y + 16 below
    bright = b.add(b.mul(b.op("Log", b.op("Max", y, b.const(1e-30))), 1.0 / 3.0), math.log(116.0))
    dark = b.op("Log", b.add(b.mul(y, float(C.LAB_KAPPA)), 16.0))
    above = b.op("Cast", b.op("Greater", y, b.const(C.LAB_EPS)), to=onnx.TensorProto.FLOAT)
    xm = b.add(INPUT_LIGHTNESS, 16.0)
    d = b.add(b.mul(b.sub(bright, dark), above), b.sub(dark, b.op("Log", xm)))
    dneg = b.op("Min", d, b.const(0.0))
    mask = b.op("Slice", maps, *(b.const([i], np.int64) for i in (MASK, MASK + 1, 0)))
    gloss = b.op("Slice", maps, *(b.const([i], np.int64) for i in (GLOSS, GLOSS + 1, 0)))
    src = x

    # -- per shade, small tensors: gains (N, 2, 1) and the (8, 5) coefficient matrices
    gains = b.columns(INPUT_PARAMS, (C.P_SHADOW_GAIN, C.P_HIGHLIGHT_GAIN))  # (N, 2): gs, gh
    chroma_gains = b.mul(gains, b.columns(INPUT_PARAMS, (C.P_CHROMA_SHADOW, C.P_CHROMA_HIGHLIGHT)))
    k4 = b.op("Concat", gains, chroma_gains, axis=1)  # gs, gh, gs*cs, gh*ch
    shape_k = b.const([-1, 2, 1], np.int64)
    k_pos = b.op("Reshape", b.columns(k4, (1, 3)), shape_k)
    k_step = b.sub(b.op("Reshape", b.columns(k4, (0, 2)), shape_k), k_pos)
    follow = b.columns(INPUT_PARAMS, (C.P_FOLLOW,))
    targets = b.add(b.mul(b.sub(b.columns(INPUT_PARAMS, (C.P_L, C.P_LINER_L)), INPUT_LIGHTNESS), follow), xm)
    v = b.op("Concat", b.columns(INPUT_PARAMS, _V_PARAMS), targets, b.mul(targets, xm), axis=1)
    g, g0 = _coefficient_map()
    coef = b.op("Reshape", b.add(b.op("MatMul", v, b.const(g)), b.const(g0)), b.const([-1, 5, 8], np.int64))
    coef = b.op("Transpose", coef, perm=[0, 2, 1])  # (N, 8, 5)
    coef_maps, coef_bias = b.op("Split", coef, b.const([4, 1], np.int64), axis=2, outputs=2)

    # -- per shade and pixel, (N, k, P)
    # ratio = exp(d'), chroma = exp(c * d'), d' = gain * d (the gains are non-negative: d' has d's sign)
    exponents = b.add(b.mul(d, k_pos), b.mul(dneg, k_step))  # (N, 2, P): d' and c * d'
    # plus the lustre term, lustre * gloss in d' and chroma_highlight * lustre * gloss in the chroma's
    lustre = b.columns(INPUT_PARAMS, (C.P_LUSTRE,))
    k_lustre = b.op("Reshape", b.op("Concat", lustre, b.mul(lustre, b.columns(INPUT_PARAMS, (C.P_CHROMA_HIGHLIGHT,))),
                                    axis=1), shape_k)
    exponents = b.add(exponents, b.mul(gloss, k_lustre))
    ratio, chroma = b.op("Split", b.op("Exp", exponents), b.const([1, 1], np.int64), axis=1, outputs=2)
    q = b.add(b.op("MatMul", coef_maps, maps), coef_bias)
    ab, nb, s2, w1, nw0, cov = b.op("Split", q, b.const([3, 1, 1, 1, 1, 1], np.int64), axis=1, outputs=6)
    rm1 = b.sub(ratio, 1.0)
    # 100 - L1, with L1 = base - 16 + (ratio - 1) sqrt(base (Lm + 16)) clipped to 0..100
    dark_gap = b.clip(b.sub(nb, b.mul(rm1, b.op("Sqrt", s2))), 0.0, 100.0)
    hl = b.clip(b.mul(rm1, float(C.HIGHLIGHT_SCALE)), 0.0, 1.0)
    keep = b.clip(b.sub(nw0, b.mul(hl, w1)), 1.0 - float(C.MAX_WHITE), 1.0)  # 1 - white
    f116 = b.sub(116.0, b.mul(dark_gap, keep))  # L2 + 16
    fxyz = b.add(f116, b.mul(b.mul(chroma, keep), ab))  # 116 * (fx, fy, fz)
    # CIELAB f^-1 scaled by 116^3 (folded into the matrix): f^3 above 24 = 116 * 6/29, else its
    # tangent there, 1728 (f - 16)
    f_hi = b.op("Max", fxyz, b.const(24.0))
    xyz = b.add(b.mul(b.mul(f_hi, f_hi), f_hi), b.add(b.mul(b.op("Min", fxyz, b.const(24.0)), 1728.0), -1728.0 * 24.0))
    lin_out = b.op("MatMul", b.const((C.XYZN_TO_BGR / f32(116.0**3)).astype(f32)), xyz)
    # sRGB encode of the clipped linear value, 0..255
    t_enc = 0.0031308
    gamma = b.op("Exp", b.mul(b.op("Log", b.clip(lin_out, t_enc, 1.0)), 1.0 / 2.4))
    srgb = b.add(
        b.add(b.mul(gamma, 1.055 * 255.0), b.mul(b.clip(lin_out, 0.0, t_enc), 12.92 * 255.0)),
        -0.055 * 255.0 - 12.92 * 255.0 * t_enc,
    )
    out = b.add(src, b.mul(b.sub(srgb, src), b.mul(mask, cov)))
    out = b.op("Cast", b.op("Round", b.clip(out, 0.0, 255.0)), to=onnx.TensorProto.UINT8)  # (N, 3, P)
    shape = b.op("Concat", b.const([-1], np.int64), b.op("Shape", INPUT_ROI), axis=0)  # (-1, h, w, 3)
    b.nodes.append(
        helper.make_node("Reshape", [b.op("Transpose", out, perm=[0, 2, 1]), shape], [OUTPUT], name="to_boxes")
    )

    graph = helper.make_graph(
        b.nodes,
        "arlens_lipstick",
        [
            helper.make_tensor_value_info(INPUT_ROI, onnx.TensorProto.UINT8, ["h", "w", 3]),
            helper.make_tensor_value_info(INPUT_MAPS, onnx.TensorProto.FLOAT, ["h", "w", NUM_MAPS]),
            helper.make_tensor_value_info(INPUT_PARAMS, onnx.TensorProto.FLOAT, ["n", C.NUM_PARAMS]),
            helper.make_tensor_value_info(INPUT_LIGHTNESS, onnx.TensorProto.FLOAT, []),
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
    from arlens.runtime import onnxruntime

    available = set(onnxruntime().get_available_providers())
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
        intra_op_threads: threads for one run (0: onnxruntime's default). One by default: the graph is
            a chain of elementwise nodes on a few thousand pixels, where more threads only add overhead.
    """

    def __init__(self, providers: Sequence[str] | None = None, intra_op_threads: int = 1) -> None:
        from arlens.runtime import onnxruntime

        ort = onnxruntime()
        self.providers = resolve_providers(providers)
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
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
        self._outputs = [OUTPUT]

    def run_pixels(
        self, px: np.ndarray, maps: np.ndarray, params: np.ndarray, lightness: float | None = None
    ) -> np.ndarray:
        """Composite N shades on the painted pixels of a lip box.

        Args:
            px: uint8 (n, 3) BGR pixels.
            maps: float32 (n, 4) maps at those pixels (:func:`arlens.render.mask.lip_pixels`).
            params: float32 (N, NUM_PARAMS) or (NUM_PARAMS,).
            lightness: the lips' reference lightness (None: :func:`arlens.render.color.lip_lightness` of
                these pixels).

        Returns:
            uint8 (N, n, 3), or (n, 3) when ``params`` was one vector.

        Raises:
            InputError: when the shapes or dtypes do not match, or a finish gain is negative.
        """
        params = np.asarray(params, dtype=np.float32)
        single = params.ndim == 1
        params = np.ascontiguousarray(params.reshape(-1, C.NUM_PARAMS))
        if px.dtype != np.uint8 or px.ndim != 2 or px.shape[1] != 3:
            raise InputError(f"px: expected uint8 (n, 3), got {px.dtype} {px.shape}")
        if maps.shape != (len(px), NUM_MAPS):
            raise InputError(f"maps: expected shape {(len(px), NUM_MAPS)}, got {maps.shape}")
        C._check_gains(params)
        if len(px) == 0:
            out = np.zeros((len(params), 0, 3), dtype=np.uint8)
            return out[0] if single else out
        if lightness is None:
            lightness = C.lip_lightness(px, maps[:, MASK])
        out = self.run_checked(px, maps, params, lightness)
        return out[0] if single else out

    def run_checked(self, px: np.ndarray, maps: np.ndarray, params: np.ndarray, lightness: float) -> np.ndarray:
        """:meth:`run_pixels` minus its checks, for callers whose inputs are already valid.

        ``px`` uint8 (n, 3) with n > 0, ``maps`` float32 (n, NUM_MAPS), ``params`` float32 C-contiguous
        (N, NUM_PARAMS) with non-negative gains: returns uint8 (N, n, 3).
        """
        feeds = {
            INPUT_ROI: np.ascontiguousarray(px).reshape(-1, 1, 3),
            INPUT_MAPS: np.ascontiguousarray(maps, dtype=np.float32).reshape(-1, 1, NUM_MAPS),
            INPUT_PARAMS: params,
            INPUT_LIGHTNESS: np.asarray(lightness, dtype=np.float32),
        }
        return self.session.run(self._outputs, feeds)[0].reshape(len(params), len(px), 3)

    def run(self, roi: np.ndarray, maps: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Composite N shades on one lip box (only its painted pixels go through the graph).

        Args:
            roi: uint8 (h, w, 3) BGR.
            maps: float32 (h, w, 4).
            params: float32 (N, NUM_PARAMS) or (NUM_PARAMS,).

        Returns:
            uint8 (N, h, w, 3), or (h, w, 3) when ``params`` was one vector.

        Raises:
            InputError: when the shapes or dtypes do not match, or a finish gain is negative.
        """
        params = np.asarray(params, dtype=np.float32)
        single = params.ndim == 1
        params = params.reshape(-1, C.NUM_PARAMS)
        if roi.dtype != np.uint8 or roi.ndim != 3 or roi.shape[2] != 3:
            raise InputError(f"roi: expected uint8 (h, w, 3), got {roi.dtype} {roi.shape}")
        if maps.shape != roi.shape[:2] + (NUM_MAPS,):
            raise InputError(f"maps: expected shape {roi.shape[:2] + (NUM_MAPS,)}, got {maps.shape}")
        out = np.repeat(np.ascontiguousarray(roi)[None], len(params), axis=0)
        index = np.flatnonzero(maps[..., MASK] > 0)
        flat = out.reshape(len(params), -1, 3)
        px = np.take(flat[0], index, axis=0)
        painted = self.run_pixels(px, np.take(maps.reshape(-1, NUM_MAPS), index, axis=0), params)
        flat[:, index] = painted
        return out[0] if single else out
