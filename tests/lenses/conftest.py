"""Faces for the lens tests: every still test face with Google MediaPipe's reference landmarks.

The portraits are bundled in tests/data; frontal_smile.png and the talking-head clip are read from
``$ARLENS_TESTDATA`` / ``$ARLENS_REFERENCE`` or ``../shared/testdata`` / ``../shared/reference``; tests
that need them skip, saying where they looked, when they are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from arlens.tracking.results import Face, bbox_of

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
TESTDATA = Path(os.environ.get("ARLENS_TESTDATA", ROOT.parent / "shared" / "testdata"))
REFERENCE = Path(os.environ.get("ARLENS_REFERENCE", ROOT.parent / "shared" / "reference"))
STILLS = (("astronaut", "astronaut.png"), ("grace_hopper", "grace_hopper.jpg"), ("frontal_smile", "frontal_smile.png"))


def _find(name: str, shared: Path) -> Path | None:
    for path in (DATA / name, shared / name):
        if path.is_file():
            return path
    return None


def load_still(stem: str, file: str) -> tuple[np.ndarray, Face]:
    """Image and reference Face of a still test face, or skip saying what is missing."""
    image_path = _find(file, TESTDATA / "faces")
    ref_path = _find(f"{stem}.npz", REFERENCE)
    if image_path is None:
        pytest.skip(f"test image {file} not found in {DATA} or {TESTDATA / 'faces'} (set ARLENS_TESTDATA)")
    if ref_path is None:
        pytest.skip(f"reference {stem}.npz not found in {DATA} or {REFERENCE} (set ARLENS_REFERENCE)")
    image = cv2.imread(str(image_path))
    assert image is not None, f"cannot decode {image_path}"
    with np.load(ref_path) as data:
        assert data["face_found"][0], f"no reference face in {ref_path}"
        lm = data["face_mesh_478"][0].astype(np.float32)
    return image, Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))


@pytest.fixture(params=[s for s, _ in STILLS])
def still(request) -> tuple[str, np.ndarray, Face]:
    """(name, image, Face) for each still test face, one test per face."""
    file = dict(STILLS)[request.param]
    image, face = load_still(request.param, file)
    return request.param, image, face


@pytest.fixture(scope="session")
def all_stills() -> list[tuple[str, np.ndarray, Face]]:
    """Every still test face that is available (the bundled portraits at least)."""
    out = []
    for stem, file in STILLS:
        try:
            image, face = load_still(stem, file)
        except pytest.skip.Exception:
            continue
        out.append((stem, image, face))
    return out
