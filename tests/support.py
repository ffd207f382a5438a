"""Test support: where the test images and Google's reference landmarks are.

The two public-domain portraits ship in ``tests/data``; everything else is read from
``$ARLENS_TESTDATA`` / ``$ARLENS_REFERENCE`` or ``../shared/testdata`` / ``../shared/reference`` beside
the repository, and tests that need it skip (saying what is missing) where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
TESTDATA = Path(os.environ.get("ARLENS_TESTDATA", ROOT.parent / "shared" / "testdata"))
REFERENCE = Path(os.environ.get("ARLENS_REFERENCE", ROOT.parent / "shared" / "reference"))

STILL_FACES = ("astronaut.png", "grace_hopper.jpg", "frontal_smile.png")
MODELS = ROOT / "models"


def models_module(name: str):
    """Import ``models/<name>.py`` (the converter's modules are scripts beside the models, not a package)."""
    import importlib
    import sys

    if str(MODELS) not in sys.path:
        sys.path.insert(0, str(MODELS))  # their sibling imports (mediapipe_ops -> graph_rewrites)
    return importlib.import_module(name)


def benchmarks_module(name: str):
    """Import ``benchmarks/<name>.py`` (shared scene builders such as ``hard_scenes``; not a package)."""
    import importlib
    import sys

    path = str(ROOT / "benchmarks")
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module(name)


def testdata_file(relative: str) -> Path:
    """A file of the shared test data (or the bundled portraits), or skip saying where it was looked for."""
    bundled = DATA / Path(relative).name
    if bundled.is_file():
        return bundled
    path = TESTDATA / relative
    if not path.is_file():
        pytest.skip(f"test data {relative} not found at {path} (set ARLENS_TESTDATA)")
    return path


def reference(stem: str) -> dict[str, np.ndarray]:
    """Google MediaPipe's reference arrays for a test file, or skip if the reference set is absent."""
    path = REFERENCE / f"{stem}.npz"
    if not path.is_file():
        pytest.skip(f"reference {path} not found (set ARLENS_REFERENCE)")
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def read_image(relative: str) -> np.ndarray:
    image = cv2.imread(str(testdata_file(relative)))
    assert image is not None, f"cannot decode {relative}"
    return image


def read_frames(relative: str) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(testdata_file(relative)))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    assert frames, f"cannot decode {relative}"
    return frames



def face_hand_clip(frames_per_still: int) -> np.ndarray:
    """bench_kiosk's clip at 1280x720: the three portraits drifting, a hand beside each face (skips without
    the test images)."""
    stills = ("faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png")
    for rel in (*stills, "hands/pointing.jpg"):
        testdata_file(rel)
    return benchmarks_module("harness").make_face_hand_clip(stills, frames_per_still)


def assert_same_result(a, b) -> None:
    """Two TryOnResults of the same frame: the same timestamp, pixels, landmarks and hotspots."""
    assert a.timestamp_ms == b.timestamp_ms
    assert np.array_equal(a.frame, b.frame), f"frame {a.timestamp_ms}: pixels differ"
    assert len(a.faces) == len(b.faces) and len(a.hands) == len(b.hands)
    for x, y in zip(a.faces + a.hands, b.faces + b.hands, strict=True):
        assert np.array_equal(x.landmarks, y.landmarks)
    assert [(h.product_id, h.track_id, tuple(h.bbox)) for h in a.hotspots] == \
        [(h.product_id, h.track_id, tuple(h.bbox)) for h in b.hotspots]


def faint_per_strong(out: np.ndarray, image: np.ndarray) -> float:
    """How soft what a lens drew is at its edge: pixels it changed faintly (5-50% of its strong change, the 95th
    percentile) per pixel it changed strongly."""
    change = np.abs(out.astype(np.float32) - image.astype(np.float32)).sum(axis=2)
    top = np.percentile(change[change > 0], 95)
    return float(((change > 0.05 * top) & (change < 0.5 * top)).sum() / max((change >= 0.5 * top).sum(), 1))
