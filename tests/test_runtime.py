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

NAMES = {"face_detection_short_range", "face_landmark", "iris_landmark", "palm_detection_full", "hand_landmark_full"}


def test_every_shipped_model_matches_the_manifest():
    paths = verify_models()
    assert set(paths) == NAMES
    manifest = load_manifest()
    assert manifest["source"]["package"] == "mediapipe==0.10.21"
    for entry in manifest["models"].values():
        assert entry["max_abs_diff_vs_tflite"] < 1e-3
        assert len(entry["sha256"]) == 64


@pytest.fixture
def model_copy(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(models_dir() / "manifest.json", folder)
    shutil.copy(models_dir() / "iris_landmark.onnx", folder)
    return folder


def test_a_modified_model_is_refused_naming_the_file(model_copy):
    path = model_copy / "iris_landmark.onnx"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(arlens.ModelError, match=r"iris_landmark\.onnx does not match the manifest: expected sha256"):
        Model("iris_landmark", RuntimeOptions(models_dir=model_copy))


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
    m = Model("iris_landmark", RuntimeOptions(models_dir=model_copy))
    assert m.input_shape == ("N", 64, 64, 3)
    contour, iris = m(np.zeros((2, 64, 64, 3), np.float32))  # batched: both eyes in one run
    assert contour.shape == (2, 213) and iris.shape == (2, 15)
    manifest = json.loads((model_copy / "manifest.json").read_text())
    assert [o["shape"] for o in manifest["models"]["iris_landmark"]["outputs"]] == [["N", 213], ["N", 15]]


def test_missing_gpu_provider_falls_back_to_cpu_with_a_warning(caplog, monkeypatch):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])  # as on a CPU-only box
    with caplog.at_level(logging.WARNING, logger="arlens.runtime"):
        chosen = resolve_providers(RuntimeOptions(device="cuda"))
    assert chosen == ["CPUExecutionProvider"]
    assert "CUDAExecutionProvider" in caplog.text and "arlens[gpu]" in caplog.text
