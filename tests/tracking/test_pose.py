"""Head pose: canonical face, Procrustes, and the metric pose on real and synthetic faces."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import arlens
from arlens import landmarks as L
from arlens.tracking.pose import MEAN_IPD_CM, canonical_face, estimate_pose, procrustes, rigid_weights
from tests.support import STILL_FACES, read_image, reference


def rotation_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def test_canonical_face_is_metric_and_upright():
    c = canonical_face()
    assert c.shape == (468, 3)
    right = c[list(L.right_eye())].mean(axis=0)
    left = c[list(L.left_eye())].mean(axis=0)
    assert np.linalg.norm(left - right) == pytest.approx(MEAN_IPD_CM, rel=1e-3)
    assert left[0] > right[0]  # x toward the subject's left
    assert c[10, 1] > c[152, 1]  # forehead above chin: y up
    assert c[1, 2] > c[234, 2] and c[1, 2] > c[454, 2]  # nose tip in front of the cheeks: z toward camera
    np.testing.assert_allclose(c.mean(axis=0), 0, atol=1e-4)


def test_rigid_weights_exclude_lips_and_eyelids():
    w = rigid_weights()
    assert w[list(L.lips_outer())].sum() == 0 and w[list(L.right_eye())].sum() == 0
    assert w[L.NOSE_BRIDGE] == 1 and w.sum() > 150


def test_procrustes_recovers_a_similarity():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(50, 3))
    r = rotation_y(30) @ np.array([[1, 0, 0], [0, 0.8, -0.6], [0, 0.6, 0.8]])
    dst = 2.5 * src @ r.T + np.array([1.0, -2.0, 3.0])
    r2, s, t = procrustes(src, dst, np.ones(50), with_scale=True)
    np.testing.assert_allclose(r2, r, atol=1e-9)
    assert s == pytest.approx(2.5)
    np.testing.assert_allclose(t, [1, -2, 3], atol=1e-9)


@pytest.mark.parametrize("yaw", [-30.0, 0.0, 25.0])
def test_pose_recovered_from_a_projected_canonical_face(yaw):
    """Project the canonical face, posed, into pixels the way the tracker reports them, and fit it back."""
    cam = arlens.PerspectiveCamera(1280, 720)
    r = rotation_y(yaw)
    t = np.array([3.0, -2.0, -45.0])
    pts = canonical_face().astype(np.float64) @ r.T + t
    uv = cam.project(pts)
    z = (-pts[:, 2] - 45.0) * cam.focal_px / 45.0  # relative depth in pixels at the face's scale
    landmarks = np.concatenate([uv, z[:, None]], axis=1)
    pose = estimate_pose(landmarks, cam)
    np.testing.assert_allclose(pose[:3, :3], r, atol=0.02)
    np.testing.assert_allclose(pose[:3, 3], t, atol=0.02 * 45)


@pytest.mark.parametrize("name", STILL_FACES)
def test_pose_of_real_faces_reprojects_onto_the_landmarks(face_tracker, name):
    image = read_image(f"faces/{name}")
    face = face_tracker.detect(image)[0]
    cam = arlens.PerspectiveCamera(image.shape[1], image.shape[0])
    posed = canonical_face() @ face.pose[:3, :3].T + face.pose[:3, 3]
    assert (posed[:, 2] < 0).all()  # in front of the camera
    err = np.linalg.norm(cam.project(posed) - face.landmarks[:468, :2], axis=1)
    w = rigid_weights()
    assert (err * w).sum() / w.sum() < 0.06 * face.interocular
    np.testing.assert_allclose(face.pose[:3, :3] @ face.pose[:3, :3].T, np.eye(3), atol=1e-5)


@pytest.mark.parametrize("name", STILL_FACES)
def test_pose_stops_refining_depth_once_converged_without_moving(name):
    """The early exit (a fit's scale within 1e-9 of 1) gives the pose every iteration gives."""
    landmarks = reference(Path(name).stem)["face_mesh_478"][0]
    cam = arlens.PerspectiveCamera(1280, 720)
    every = estimate_pose(landmarks, cam, iterations=3, tolerance=0.0)
    early = estimate_pose(landmarks, cam)
    np.testing.assert_allclose(early, every, rtol=0, atol=1e-5)
    unrefined = estimate_pose(landmarks, cam, iterations=0)  # the refinement itself does move the pose
    assert np.abs(unrefined[:3, 3] - every[:3, 3]).max() > 1e-2
