"""The ONNX lipstick graph agrees with the numpy reference and renders batches."""

from __future__ import annotations

import logging

import numpy as np
import onnxruntime as ort
import pytest

from arlens.render import color as C
from arlens.render import mask as M
from arlens.render.onnx_lipstick import LipstickGraph, build_lipstick_model

PROVIDERS = ["CPUExecutionProvider"] + (
    ["CUDAExecutionProvider"] if "CUDAExecutionProvider" in ort.get_available_providers() else []
)
SHADES = ["#B3172B", "#E8A0B4", "#4A0F1D", "#C48A78", "#E0401E", "#5E2750"]


@pytest.fixture(scope="module", params=PROVIDERS)
def graph(request) -> LipstickGraph:
    return LipstickGraph([request.param])


def _boxes(portraits, liner=0.03):
    for name, image, face in portraits:
        geom = M.lip_geometry(face.landmarks, image.shape)
        x0, y0, x1, y1 = geom.box
        yield name, image[y0:y1, x0:x1], M.lip_maps(geom, liner_width=liner)


def test_model_is_valid():
    model = build_lipstick_model()
    assert [i.name for i in model.graph.input] == ["roi", "maps", "params", "lightness"]
    assert [o.name for o in model.graph.output] == ["out"]
    # the median lightness comes in as an input: nothing in the graph sorts
    assert not {n.op_type for n in model.graph.node} & {"TopK", "ReduceMin", "ReduceMax"}


@pytest.mark.parametrize("finish", list(C.Finish))
def test_numpy_and_onnx_agree_within_two_levels(graph, portraits, finish):
    for _, roi, maps in _boxes(portraits):
        for shade in SHADES:
            params = C.shade_params(shade, finish, 0.9, liner_color="#5A0F1E")
            ref = C.composite_lipstick(roi, maps, params).astype(int)
            got = graph.run(roi, maps, params).astype(int)
            assert got.shape == ref.shape
            assert np.abs(ref - got).max() <= 2


def test_batch_equals_one_by_one(graph, portraits):
    params = np.stack([C.shade_params(s, f, 0.8) for s, f in zip(SHADES, list(C.Finish) * 2, strict=False)])
    for _, roi, maps in _boxes(portraits, liner=0.0):
        batch = graph.run(roi, maps, params)
        assert batch.shape == (len(SHADES),) + roi.shape and batch.dtype == np.uint8
        for i, p in enumerate(params):
            # one graph, but a (N, n) batch and a (1, n) run go through ONNX Runtime's kernels as tensors of
            # different sizes, and MLAS may split and vectorise them differently (its exp and logistic kernels
            # treat the remainder of a block on another path): a float32 ULP apart at most, which can round
            # one level apart on a rare pixel
            diff = np.abs(batch[i].astype(int) - graph.run(roi, maps, p))
            assert diff.max() <= 1 and (diff > 0).mean() <= 0.01


def test_empty_mask_leaves_the_box(graph, portraits):
    _, roi, maps = next(_boxes(portraits))
    maps = np.zeros_like(maps)
    params = C.shade_params("#B3172B", "gloss", 1.0)
    # exact by construction: no pixel has a mask above zero, so none goes through a float path at all
    assert np.array_equal(graph.run(roi, maps, params), roi)
    assert np.array_equal(C.composite_lipstick(roi, maps, params), roi)


def test_missing_provider_falls_back_to_cpu_with_a_warning(caplog, monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])  # as on a CPU-only box
    with caplog.at_level(logging.WARNING, logger="arlens.render.onnx_lipstick"):
        graph = LipstickGraph(["CUDAExecutionProvider"])
    assert graph.providers == ["CPUExecutionProvider"]
    assert "CUDAExecutionProvider" in caplog.text


def test_run_pixels_equals_run_on_the_box(graph, portraits):
    params = np.stack([C.shade_params(s, "gloss", 0.9) for s in SHADES[:3]])
    for _, image, face in portraits:
        geom = M.lip_geometry(face.landmarks, image.shape)
        x0, y0, x1, y1 = geom.box
        roi = np.ascontiguousarray(image[y0:y1, x0:x1])
        pixels = M.lip_pixels(geom)
        px = roi.reshape(-1, 3)[pixels.index]
        boxes = graph.run(roi, pixels.dense(geom.shape), params)
        got = graph.run_pixels(px, pixels.maps, params, C.lip_lightness(px, pixels.maps[:, M.MASK]))
        assert got.shape == (len(params), len(px), 3)
        # exact by construction: run() gathers the painted pixels and calls run_pixels on them (same graph,
        # same tensors, same lightness)
        np.testing.assert_array_equal(boxes.reshape(len(params), -1, 3)[:, pixels.index], got)
        ref = C.composite_pixels(px, pixels.maps, params).astype(int)
        assert np.abs(ref - got).max() <= 2
