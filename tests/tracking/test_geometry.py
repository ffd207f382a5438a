"""Building blocks of the trackers: anchors, NMS, ROIs, camera, smoothing, result values, landmark groups."""

from __future__ import annotations

import math

import numpy as np
import pytest

import arlens
from arlens import landmarks as L
from arlens.tracking import detection as D
from arlens.tracking.roi import Roi, rotation_from
from arlens.tracking.smoothing import OneEuroFilter, OneEuroOptions
from tests.support import read_image


def test_face_anchors_follow_mediapipe_layout():
    a = D.ssd_anchors(D.FACE_SHORT_RANGE)
    assert a.shape == (896, 2)
    # 16x16 grid with 2 anchors per cell, then an 8x8 grid with 6 per cell
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[512], [0.5 / 8, 0.5 / 8])
    assert (a[512:518] == a[512]).all()


def test_weighted_nms_merges_overlaps_by_score():
    values = np.array([[0, 0, 10, 10, 5, 5], [1, 1, 11, 11, 6, 6], [50, 50, 60, 60, 55, 55]], np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    out = D.weighted_nms(values, scores, 0.3)
    assert len(out) == 2
    merged, score = out[0]
    assert score == pytest.approx(0.9)
    np.testing.assert_allclose(merged[:2], [0.6 / 1.5, 0.6 / 1.5], rtol=1e-5)
    np.testing.assert_allclose(out[1][0], values[2])


def test_roi_crop_and_project_round_trip():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    roi = Roi(150.0, 90.0, 80.0, 80.0, math.radians(30))
    crop = roi.crop(image, 64)
    assert crop.shape == (64, 64, 3)
    # a tensor point projected to the image and sampled there matches the crop
    u, v = 20, 40
    p = roi.project(np.array([[u, v, 0.0]]), 64)[0]
    m = roi.tensor_to_image(64)
    np.testing.assert_allclose(p[:2], m @ [u, v, 1], atol=1e-6)
    flipped = roi.crop(image, 64, flip=True)
    np.testing.assert_array_equal(flipped, crop[:, ::-1])  # exact by construction: the flip is a copy of the crop


def fixed_point_bilinear(image: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """MediaPipe's crop written out: source positions rounded to 1/32 px, 15-bit bilinear weights, edges replicated.

    Independent of Roi: the tensor pixel (u, v) samples the point u/size, v/size of the way across the
    rotated rect from its top-left corner (MediaPipe's corner-to-corner mapping).
    """
    u, v = np.meshgrid(np.arange(size) / size - 0.5, np.arange(size) / size - 0.5)
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    x = roi.cx + c * u * roi.width - s * v * roi.height
    y = roi.cy + s * u * roi.width + c * v * roi.height
    fx, fy = np.rint(x * 32).astype(int), np.rint(y * 32).astype(int)
    x0, y0, ax, ay = fx >> 5, fy >> 5, (fx & 31)[..., None], (fy & 31)[..., None]
    h, w = image.shape[:2]

    def at(yy, xx):
        return image[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)].astype(np.int64)

    total = ((32 - ay) * (32 - ax) * at(y0, x0) + (32 - ay) * ax * at(y0, x0 + 1)
             + ay * (32 - ax) * at(y0 + 1, x0) + ay * ax * at(y0 + 1, x0 + 1)) * 32  # weights in 1/32768
    return ((total + (1 << 14)) >> 15).astype(np.uint8)


@pytest.mark.parametrize("roi", [Roi(163.5, 150.0, 327.0, 327.0), Roi(151.3, 88.7, 93.1, 93.1, math.radians(-37)),
                                 Roi(40.0, 20.0, 120.0, 120.0, 2.5)])
def test_roi_crop_resamples_as_mediapipe(roi):
    """Crops use OpenCV 4's fixed-point warp, as MediaPipe's graphs do, whatever OpenCV is installed.

    A floating-point warp (OpenCV 5) or ``warpAffine``'s rounding changes most pixels by 1-3 grey levels,
    which moved palm detections by 0.6 px on the talking-head clip. With OpenCV 4 the crop equals the
    formula; OpenCV 5's remap departs from it on some samples that fall exactly halfway between two
    1/32 steps (4% of the letterbox crop below, whose scale 327/192 makes many such ties).
    """
    image = np.random.default_rng(1).integers(0, 256, (300, 327, 3), dtype=np.uint8)
    crop = roi.crop(image, 192)
    expected = fixed_point_bilinear(image, roi, 192)
    differ = np.abs(crop.astype(int) - expected).max(axis=2)
    assert np.mean(differ == 0) >= 0.95, f"{np.mean(differ > 0):.2%} of the pixels differ"
    assert differ.max() <= 8


def test_rotation_is_zero_for_level_eyes_and_signed():
    assert rotation_from(np.array([0, 0]), np.array([10, 0])) == pytest.approx(0)
    assert rotation_from(np.array([0, 0]), np.array([10, 10])) == pytest.approx(math.pi / 4)


def test_camera_projects_and_unprojects():
    cam = arlens.PerspectiveCamera(1280, 720, 60)
    pts = np.array([[0, 0, -50.0], [5, 3, -40.0]])
    uv = cam.project(pts)
    np.testing.assert_allclose(uv[0], [640, 360])
    assert uv[1, 0] > 640 and uv[1, 1] < 360  # x right, y up
    np.testing.assert_allclose(cam.unproject(uv, -pts[:, 2]), pts, atol=1e-9)
    clip = cam.projection_matrix() @ np.array([5, 3, -40.0, 1])
    ndc = clip[:2] / clip[3]
    np.testing.assert_allclose(((ndc[0] + 1) / 2 * 1280, (1 - ndc[1]) / 2 * 720), uv[1], atol=1e-6)
    with pytest.raises(arlens.InputError, match="fov_y_deg"):
        arlens.PerspectiveCamera(10, 10, 0)


def test_one_euro_smooths_noise_and_follows_motion():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 300, (478, 2))
    f = OneEuroFilter(OneEuroOptions())
    # jitter of 0.2% of the object's size (50) on every point, like a landmark model on a still face
    out = np.array([f(base + rng.normal(0, 0.1, base.shape), i / 30, 50.0) for i in range(60)])
    raw_motion = 0.1 * 2 / np.sqrt(np.pi)  # mean |difference| of two N(0, 0.1) draws
    assert np.abs(np.diff(out[10:], axis=0)).mean() < 0.5 * raw_motion
    f.reset()
    moving = [f(base + 10.0 * i, i / 30, 50.0) for i in range(30)]
    np.testing.assert_allclose(moving[-1], base + 290.0, atol=10.0)  # keeps up with a fast, steady motion
    passthrough = OneEuroFilter(OneEuroOptions(enabled=False))
    assert passthrough(np.array([1.0]), 0.0, 1.0)[0] == 1.0
    with pytest.raises(arlens.InputError, match="min_cutoff"):
        OneEuroOptions(min_cutoff=0)


def test_face_value_checks_shapes_and_is_frozen():
    face = arlens.Face(landmarks=np.zeros((478, 3)), score=0.9, bbox=[0, 0, 1, 1])
    assert face.landmarks.dtype == np.float32 and not face.landmarks.flags.writeable
    with pytest.raises(arlens.InputError, match=r"Face.landmarks: expected .* shape \(478x3\), got \(468, 3\)"):
        arlens.Face(landmarks=np.zeros((468, 3)), score=1, bbox=[0, 0, 1, 1])
    with pytest.raises(AttributeError):
        face.score = 0.1  # type: ignore[misc]
    with pytest.raises(arlens.InputError, match="handedness"):
        arlens.Hand(landmarks=np.zeros((21, 3)), handedness="left", score=1, bbox=[0, 0, 1, 1])


def test_landmark_groups_come_from_mediapipe_tables():
    assert len(L.lips_outer()) == 20 and 61 in L.lips_outer() and 291 in L.lips_outer()
    assert len(L.lips_inner()) == 20 and 13 in L.lips_inner() and 14 in L.lips_inner()
    assert set(L.lips_outer()).isdisjoint(L.lips_inner())
    assert L.RIGHT_EYE_OUTER in L.right_eye() and L.LEFT_EYE_OUTER in L.left_eye()
    assert L.right_iris()[0] == 468 and L.left_iris()[0] == 473
    assert L.tesselation().shape == (2556, 2)
    assert L.face_triangles().shape[1] == 3
    assert L.hand_connections().shape[1] == 2 and L.hand_connections().max() == 20


def test_import_arlens_is_light():
    import subprocess
    import sys

    heavy = "('onnxruntime', 'cv2', 'mediapipe', 'moderngl')"
    code = f"import sys, arlens; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_detector_tensors_swapped_on_the_bytes_equal_the_reversed_float_tensor():
    """``rgb=True`` swaps the channels before the bytes become floats: the same values as reversing them after
    (the detectors' input was the float tensor read backwards)."""
    image = read_image("faces/grace_hopper.jpg")
    for size, value_range in ((192, (0.0, 1.0)), (128, (-1.0, 1.0))):
        bgr, back = D.letterbox(image, size, value_range)
        rgb, back_rgb = D.letterbox(image, size, value_range, rgb=True)
        np.testing.assert_array_equal(rgb, bgr[..., ::-1])
        np.testing.assert_array_equal(back, back_rgb)
        bgr, _ = D.square_tensor(image, (200.5, 180.25), 150.0, size, value_range)
        rgb, _ = D.square_tensor(image, (200.5, 180.25), 150.0, size, value_range, rgb=True)
        np.testing.assert_array_equal(rgb, bgr[..., ::-1])
