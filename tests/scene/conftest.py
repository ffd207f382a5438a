"""Scenes for the scene tests: the still faces, the hand photos, and hands pasted over mouths."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.tracking.results import Hand, bbox_of
from tests.lenses.conftest import STILLS, load_still
from tests.support import benchmarks_module, read_image, reference


def reference_hand(stem: str) -> Hand:
    """The first hand Google's MediaPipe found in a hands photo of the shared test data."""
    ref = reference(stem)
    lm = ref["hands"][0, 0].astype(np.float32)
    return Hand(lm, str(ref["handedness"][0, 0]), 1.0, bbox_of(lm))


@pytest.fixture(scope="session")
def hard_scenes():
    """The scene builders of ``benchmarks/hard_scenes.py``."""
    return benchmarks_module("hard_scenes")


@pytest.fixture(scope="session")
def palm():
    """(image, Hand) of open_palm.jpg: an open hand, fingers up, on black."""
    return read_image("hands/open_palm.jpg"), reference_hand("open_palm")


@pytest.fixture(scope="session")
def pointing():
    """(image, Hand) of pointing.jpg: a pointing hand on black."""
    return read_image("hands/pointing.jpg"), reference_hand("pointing")


@pytest.fixture(scope="session", params=[s for s, _ in STILLS])
def face_still(request):
    """(name, image, Face) per still test face."""
    image, face = load_still(request.param, dict(STILLS)[request.param])
    return request.param, image, face


@pytest.fixture(scope="session")
def covered(hard_scenes, palm):
    """astronaut.png with the open palm pasted over half of its mouth, fingers across it: (Face, Composite)."""
    image, face = load_still("astronaut", "astronaut.png")
    hand_image, hand = palm
    return face, hard_scenes.hand_over_mouth(image, face, hand_image, hand, cover=0.5, angle_deg=170, side=-1)
