"""Model files are checked against the manifest; providers fall back to the CPU with a warning."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

import arlens
from arlens.resources import models_dir
from arlens.runtime import Model, RuntimeOptions, load_manifest, resolve_providers, verify_models

NAMES = {"face_detection_short_range", "face_landmark", "face_landmark_with_attention", "palm_detection_full",
         "hand_landmark_full"}

NAMES |= {"face_detection_full_range"}  # the detector of faces at kiosk distance (FaceDetector "auto"/"full")
NAMES |= {"selfie_segmentation"}  # person vs background (PersonSegmenter: the scene's person mask, kiosk blur)


def test_every_shipped_model_matches_the_manifest():
    paths = verify_models()
    assert set(paths) == NAMES
    manifest = load_manifest()
    assert manifest["source"]["package"] == "mediapipe==0.10.21"
    for entry in manifest["models"].values():
        if entry["max_abs_diff_vs_tflite"] is None:  # custom ops: checked against MediaPipe's kernels instead
            assert entry["max_rel_diff_custom_ops_vs_kernels"] < 1e-3
            assert entry["rewrites"]["custom_ops"] > 0
        else:
            assert entry["max_abs_diff_vs_tflite"] < 1e-3
            if entry["rewrites"]["custom_ops"]:  # LiteRT ran it with a builtin in the custom op's place
                assert entry["max_rel_diff_custom_ops_vs_kernels"] < 1e-3
        assert len(entry["sha256"]) == 64


@pytest.fixture
def model_copy(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(models_dir() / "manifest.json", folder)
    shutil.copy(models_dir() / "face_detection_short_range.onnx", folder)
    return folder


def test_a_modified_model_is_refused_naming_the_file(model_copy):
    path = model_copy / "face_detection_short_range.onnx"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(arlens.ModelError,
                       match=r"face_detection_short_range\.onnx does not match the manifest: expected sha256"):
        Model("face_detection_short_range", RuntimeOptions(models_dir=model_copy))


def test_a_missing_model_is_refused_naming_the_file(model_copy):
    with pytest.raises(arlens.ModelError, match=r"model file missing: .*face_landmark\.onnx"):
        Model("face_landmark", RuntimeOptions(models_dir=model_copy))
    with pytest.raises(arlens.ModelError, match="'nope' is not in"):
        Model("nope", RuntimeOptions(models_dir=model_copy))


def test_a_broken_manifest_is_refused(model_copy):
    (model_copy / "manifest.json").write_text("{not json")
    with pytest.raises(arlens.ModelError, match="not valid JSON"):
        load_manifest(model_copy)
    (model_copy / "manifest.json").unlink()
    with pytest.raises(arlens.ModelError, match="manifest missing"):
        load_manifest(model_copy)


def test_model_runs_and_reports_its_tensors(model_copy):
    m = Model("face_detection_short_range", RuntimeOptions(models_dir=model_copy))
    assert m.input_shape == ("N", 128, 128, 3)
    boxes, scores = m(np.zeros((2, 128, 128, 3), np.float32))  # batched: two images in one run
    assert boxes.shape == (2, 896, 16) and scores.shape == (2, 896, 1)
    (only,) = m(np.zeros((1, 128, 128, 3), np.float32), ["classificators"])
    assert only.shape == (1, 896, 1)
    with pytest.raises(arlens.ModelError, match=r"has no outputs \['nope'\]; it has \['regressors', 'classif"):
        m(np.zeros((1, 128, 128, 3), np.float32), ["classificators", "nope"])
    manifest = json.loads((model_copy / "manifest.json").read_text())
    shapes = [o["shape"] for o in manifest["models"]["face_detection_short_range"]["outputs"]]
    assert shapes == [["N", 896, 16], ["N", 896, 1]]


def test_attention_mesh_runs_a_batch_as_single_runs():
    """Every output of the attention model (mesh, lips, eyes, irises, presence) keeps the batch."""
    m = Model("face_landmark_with_attention")
    crops = np.random.default_rng(3).uniform(0, 1, (2, 192, 192, 3)).astype(np.float32)
    batched = m(crops)
    assert [len(b) for b in batched] == [2] * 7
    for k in range(2):
        for b, single in zip(batched, m(crops[k : k + 1]), strict=True):
            np.testing.assert_allclose(b[k : k + 1], single, atol=1e-4)


def test_missing_gpu_provider_falls_back_to_cpu_with_a_warning(caplog, monkeypatch):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])  # as on a CPU-only box
    with caplog.at_level(logging.WARNING, logger="arlens.runtime"):
        chosen = resolve_providers(RuntimeOptions(device="cuda"))
    assert chosen == ["CPUExecutionProvider"]
    assert "CUDAExecutionProvider" in caplog.text and "arlens[gpu]" in caplog.text


def test_missing_onnxruntime_names_the_extras(monkeypatch):
    """ONNX Runtime comes from the cpu or the gpu extra (never both): without it, the error says which to install."""
    import sys

    from arlens.errors import RuntimeUnavailableError
    from arlens.runtime import Model, onnxruntime

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if neither extra were installed
    with pytest.raises(RuntimeUnavailableError, match=r"pip install 'arlens\[cpu\]' \(or 'arlens\[gpu\]'"):
        onnxruntime()
    with pytest.raises(RuntimeUnavailableError, match="arlens.cpu."):
        Model("face_detection_short_range")


def test_one_onnx_runtime_is_declared_per_extra():
    """pyproject.toml: onnxruntime and onnxruntime-gpu are alternatives (extras), neither a plain dependency."""
    import tomllib

    from tests.support import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("<")[0].split("=")[0].strip() for d in project["dependencies"]]
    assert "onnxruntime" not in names and "onnxruntime-gpu" not in names
    assert "opencv-python" not in names and "opencv-contrib-python" in names  # one OpenCV, the one mediapipe needs
    extras = project["optional-dependencies"]
    assert [d.startswith("onnxruntime>=") for d in extras["cpu"]] == [True]
    assert [d.startswith("onnxruntime-gpu>=") for d in extras["gpu"]] == [True]
    for extra, deps in extras.items():
        if extra not in ("cpu", "gpu"):
            assert not any(d.startswith("onnxruntime") for d in deps), extra
    for dep in project["dependencies"]:
        assert "<" in dep, f"{dep}: expected an upper bound on the major version tested"


@pytest.mark.parametrize("name, outputs", [("face_landmark_with_attention", None),
                                           ("face_landmark_with_attention", ["output_mesh_identity", "output_lips",
                                                                             "conv_faceflag"]),
                                           ("hand_landmark_full", None)])
def test_a_model_fed_channels_first_gives_its_outputs(name, outputs):
    """Without its leading transpose (runtime.channels_first) a model takes (N, 3, H, W) and gives the NHWC
    one's outputs exactly: every other node is the same, and the transpose only moved values."""
    from arlens.image import rgb_planes, rgb_tensor
    from tests.support import read_image

    nhwc, nchw = Model(name, outputs=outputs), Model(name, outputs=outputs, nchw=True)
    size = nhwc.input_shape[1]
    assert nchw.input_shape == ("N", 3, size, size) and nchw.output_names == nhwc.output_names
    image = read_image("faces/grace_hopper.jpg")
    crops = np.stack([image[:size, :size], image[60 : 60 + size, 40 : 40 + size]])
    for a, b in zip(nhwc(rgb_tensor(crops)), nchw(rgb_planes(crops)), strict=True):
        np.testing.assert_array_equal(a, b)


def test_channels_first_refuses_a_model_that_does_not_transpose_its_input():
    with pytest.raises(arlens.ModelError, match="is not read by one NHWC -> NCHW Transpose"):
        Model("face_detection_full_range", nchw=True)  # its input goes to a Pad first
