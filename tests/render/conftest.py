"""Faces for the render tests: the bundled portraits with Google MediaPipe's reference landmarks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from arlens.tracking.results import Face, bbox_of

DATA = Path(__file__).resolve().parents[1] / "data"
PORTRAITS = (("astronaut", "astronaut.png"), ("grace_hopper", "grace_hopper.jpg"))


def face_from_reference(path: Path, frame: int = 0) -> Face | None:
    """A Face from a reference npz (``face_mesh_478``), or None where MediaPipe found no face."""
    with np.load(path) as data:
        if not data["face_found"][frame]:
            return None
        lm = data["face_mesh_478"][frame].astype(np.float32)
    return Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))


@pytest.fixture(scope="session")
def portraits() -> list[tuple[str, np.ndarray, Face]]:
    """(name, uint8 BGR image, Face) for the two public-domain portraits in tests/data."""
    out = []
    for stem, file in PORTRAITS:
        image = cv2.imread(str(DATA / file))
        assert image is not None, f"cannot read {DATA / file}"
        face = face_from_reference(DATA / f"{stem}.npz")
        assert face is not None
        out.append((stem, image, face))
    return out
