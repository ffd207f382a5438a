"""crop_check: when a landmark crop is stale, how far a head is turned, which detection is whose."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arlens import landmarks as L
from arlens.tracking import crop_check as C
from arlens.tracking.roi import Roi

CROP = Roi(200.0, 150.0, 100.0, 100.0, 0.1)


@pytest.mark.parametrize("found,stale", [
    (CROP, False),
    (Roi(209.0, 150.0, 100.0, 100.0, 0.1), False),  # 9% of the side
    (Roi(200.0, 161.0, 100.0, 100.0, 0.1), True),  # 11%
    (Roi(200.0, 150.0, 114.0, 114.0, 0.1), False),
    (Roi(200.0, 150.0, 116.0, 116.0, 0.1), True),
    (Roi(200.0, 150.0, 86.0, 86.0, 0.1), True),
    (Roi(200.0, 150.0, 100.0, 100.0, 0.1 + math.radians(14)), False),
    (Roi(200.0, 150.0, 100.0, 100.0, 0.1 - math.radians(16)), True),
    (Roi(200.0, 150.0, 100.0, 100.0, 0.1 + 2 * math.pi), False),  # the same angle
])
def test_stale_crop_limits(found, stale):
    assert C.is_stale(CROP, found) is stale


def face_points(yaw: float, roll: float = 0.0) -> np.ndarray:
    """478 points with the outer eye corners 60 px apart, the head turned by ``yaw`` and rolled by ``roll``."""
    points = np.zeros((L.NUM_FACE_LANDMARKS, 3), np.float32)
    half = np.array([30 * math.cos(yaw), 0.0, 30 * math.sin(yaw)])
    c, s = math.cos(roll), math.sin(roll)
    half = np.array([c * half[0] - s * half[1], s * half[0] + c * half[1], half[2]])
    points[L.LEFT_EYE_OUTER] = np.array([320.0, 240.0, 0.0]) + half
    points[L.RIGHT_EYE_OUTER] = np.array([320.0, 240.0, 0.0]) - half
    return points


@pytest.mark.parametrize("yaw", [0.0, 10.0, 30.0, -45.0, 60.0])
def test_yaw_from_the_eye_line(yaw):
    for roll in (0.0, 0.4, -1.0):  # in-plane rotation does not change it
        assert C.yaw_deg(face_points(math.radians(yaw), roll)) == pytest.approx(abs(yaw), abs=1e-3)


def test_matching_detections_to_crops():
    crops = [Roi(100, 100, 80, 80), Roi(400, 300, 80, 80)]
    detections = [Roi(395, 310, 90, 90), Roi(110, 95, 70, 70), Roi(900, 600, 80, 80)]
    assert C.best_match(crops[0], detections, set()) == 1
    assert C.best_match(crops[1], detections, set()) == 0
    assert C.best_match(crops[1], detections, {0}) is None  # taken by another face
    assert C.best_match(Roi(700, 100, 80, 80), detections, set()) is None
    # A lost face: the nearest detection within one crop side, wherever it overlaps or not.
    assert C.nearest(Roi(330, 300, 80, 80), detections, set()) == 0
    assert C.nearest(Roi(600, 300, 80, 80), detections, set()) is None
