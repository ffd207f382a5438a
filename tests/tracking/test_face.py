"""FaceTracker: agreement with Google's graph, video mode, stability, equivariance, input rules."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import arlens
from arlens import landmarks as L
from arlens.tracking.smoothing import OneEuroOptions
from tests.support import STILL_FACES, read_frames, read_image, reference

GIF_FRAME_MS = 33  # the reference was made at 30 fps (MediaPipe solutions step 33333 us a frame)


def iod(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[L.RIGHT_EYE_OUTER, :2] - points[L.LEFT_EYE_OUTER, :2]))


def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=1).mean())


@pytest.mark.parametrize("name", STILL_FACES)
def test_still_agrees_with_mediapipe(face_tracker, name):
    image = read_image(f"faces/{name}")
    ref = reference(name.rsplit(".", 1)[0])
    faces = face_tracker.detect(image)
    assert len(faces) == 1
    face = faces[0]
    assert face.landmarks.shape == (478, 3) and face.landmarks.dtype == np.float32
    mesh_ref = ref["face_mesh_468"][0]
    scale = iod(mesh_ref)
    # Same weights as Google's graph: points 0-467 (x, y and z) within 1% of the inter-ocular distance.
    assert mean_distance(face.landmarks[:468], mesh_ref) <= 0.01 * scale
    # Irises (x, y) within 3% of Google's refined 478-point mesh.
    iris_ref = ref["face_mesh_478"][0][468:, :2]
    assert mean_distance(face.landmarks[468:, :2], iris_ref) <= 0.03 * scale
    x0, y0, x1, y1 = face.bbox
    assert x0 < face.landmarks[:, 0].mean() < x1 and y0 < face.landmarks[:, 1].mean() < y1
    assert 0.5 <= face.score <= 1.0


def test_iris_index_order_matches_mediapipe(face_tracker):
    """468 is the iris by landmark 33 (image left) and 473 by 263, with rims numbered the same way round."""
    face = face_tracker.detect(read_image("faces/astronaut.png"))[0]
    lm = face.landmarks
    assert lm[468, 0] < lm[473, 0]
    for centre in (L.RIGHT_IRIS_CENTER, L.LEFT_IRIS_CENTER):
        assert lm[centre + 1, 0] > lm[centre, 0] > lm[centre + 3, 0]  # 469/474 to the image right, 471/476 left
        assert lm[centre + 2, 1] < lm[centre, 1] < lm[centre + 4, 1]  # 470/475 above, 472/477 below


def test_talking_head_video_mode_agrees_with_mediapipe():
    """Video mode over the clip, with default smoothing, against Google's tracking-mode run.

    Where a hand covers the chin (frames ~50-60) the tracking loop is chaotic: Google's own graph,
    fed the same frames with +1 grey level on 2% of the pixels, moves up to 5% of the inter-ocular
    distance away from its reference there. So the 1% bar applies to the clip's mean, and the median
    frame must agree much more closely than that (arlens: mean 0.70%, median 0.30%, max 5.3%).
    """
    frames = read_frames("faces/talking_head.gif")
    ref = reference("talking_head")
    errors = []
    with arlens.FaceTracker() as tracker:
        for i, frame in enumerate(frames):
            faces = tracker.track(frame, i * GIF_FRAME_MS)
            assert len(faces) == 1, f"frame {i}: expected one face, got {len(faces)}"
            assert faces[0].track_id == 1
            mesh_ref = ref["face_mesh_468"][i]
            errors.append(mean_distance(faces[0].landmarks[:468, :2], mesh_ref[:, :2]) / iod(mesh_ref))
    assert np.mean(errors) <= 0.01, f"mean {np.mean(errors):.4f}"
    assert np.median(errors) <= 0.005, f"median {np.median(errors):.4f}"


def noisy_motion(tracker: arlens.FaceTracker, image: np.ndarray, frames: int = 60) -> float:
    rng = np.random.default_rng(7)
    prev = None
    motion = []
    for i in range(frames):
        noisy = np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8)
        face = tracker.track(noisy, i * 33)[0]
        if prev is not None:
            motion.append(mean_distance(face.landmarks[:, :2], prev) / face.interocular)
        prev = face.landmarks[:, :2]
    return float(np.mean(motion[5:]))  # after the filter has settled


def test_smoothing_keeps_a_still_face_still():
    image = read_image("faces/astronaut.png")
    with arlens.FaceTracker() as smoothed:
        assert noisy_motion(smoothed, image) < 0.001
    with arlens.FaceTracker(smoothing=OneEuroOptions(enabled=False)) as raw:
        assert noisy_motion(raw, image) < 0.01


@pytest.mark.parametrize("angle,scale,shift", [(12.0, 1.0, (0, 0)), (-20.0, 0.8, (25, -15)), (0.0, 1.25, (-30, 20))])
def test_landmarks_follow_a_similarity_transform(face_tracker, angle, scale, shift):
    image = read_image("faces/grace_hopper.jpg")
    base = face_tracker.detect(image)[0].landmarks
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += shift
    # warpAffine maps pixel centres; landmarks are continuous coordinates (centre of pixel i is i + 0.5).
    moved = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    faces = face_tracker.detect(moved)
    assert len(faces) == 1
    expected = (base[:, :2] - 0.5) @ m[:, :2].T + m[:, 2] + 0.5
    assert mean_distance(faces[0].landmarks[:, :2], expected) <= 0.02 * iod(expected)


def test_no_face_returns_empty_list(face_tracker):
    assert face_tracker.detect(np.full((240, 320, 3), 127, np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    assert face_tracker.detect(noise) == []


def test_gray_and_bgra_inputs_are_converted(face_tracker):
    image = read_image("faces/astronaut.png")
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    assert len(face_tracker.detect(gray)) == 1
    assert len(face_tracker.detect(gray[:, :, None])) == 1
    got = face_tracker.detect(bgra)[0].landmarks
    np.testing.assert_allclose(got, face_tracker.detect(image)[0].landmarks, atol=1e-3)


def test_non_contiguous_view_is_accepted(face_tracker):
    image = read_image("faces/astronaut.png")
    big = np.zeros((image.shape[0], image.shape[1] * 2, 3), np.uint8)
    big[:, ::2] = image
    view = big[:, ::2]
    assert not view.flags.c_contiguous
    np.testing.assert_allclose(face_tracker.detect(view)[0].landmarks, face_tracker.detect(image)[0].landmarks,
                               atol=1e-3)


@pytest.mark.parametrize(
    "bad,fragment",
    [
        (np.zeros((64, 64, 3), np.float32), "dtype float32"),
        (np.zeros((64, 64, 2), np.uint8), "2 channels"),
        (np.zeros((2, 64, 64, 3), np.uint8), "shape (2, 64, 64, 3)"),
        (np.zeros((0, 64, 3), np.uint8), "shape (0, 64, 3)"),
        ([[1, 2, 3]], "got list"),
        (None, "got NoneType"),
    ],
)
def test_bad_images_raise_value_error_naming_the_problem(face_tracker, bad, fragment):
    with pytest.raises(ValueError, match="expected a uint8 BGR image") as info:
        face_tracker.detect(bad)
    assert fragment in str(info.value)
    assert isinstance(info.value, arlens.InputError)


def test_track_rejects_out_of_order_timestamps():
    image = read_image("faces/astronaut.png")
    with arlens.FaceTracker() as tracker:
        tracker.track(image, 100)
        with pytest.raises(arlens.InputError, match="greater than the previous frame's 100"):
            tracker.track(image, 100)
        with pytest.raises(arlens.InputError, match="milliseconds"):
            tracker.track(image, "200")
        tracker.reset()
        assert len(tracker.track(image, 0)) == 1


def test_closed_tracker_refuses_work():
    tracker = arlens.FaceTracker()
    tracker.close()
    with pytest.raises(arlens.InputError, match="after close"):
        tracker.detect(np.zeros((10, 10, 3), np.uint8))


@pytest.mark.parametrize(
    "kwargs,fragment",
    [({"max_faces": 0}, "max_faces"), ({"min_detection_confidence": 1.5}, "min_detection_confidence"),
     ({"fov_y_deg": 0.0}, "fov_y_deg"), ({"device": "tpu"}, "device")],
)
def test_bad_options_are_rejected_when_built(kwargs, fragment):
    with pytest.raises(arlens.InputError, match=fragment):
        arlens.FaceTracker(**kwargs)


def test_several_faces_are_found():
    # Two head-and-shoulders crops side by side, each face large enough for the short-range detector.
    left = cv2.resize(read_image("faces/astronaut.png")[30:330, 80:380], (400, 400))
    right = cv2.resize(read_image("faces/grace_hopper.jpg")[80:420, 100:440], (400, 400))
    canvas = np.concatenate([left, right], axis=1)
    with arlens.FaceTracker(max_faces=3) as tracker:
        faces = tracker.detect(canvas)
        assert len(faces) == 2
        xs = sorted(float(f.landmarks[:, 0].mean()) for f in faces)
        assert xs[0] < 400 < xs[1]
        tracked = tracker.track(canvas, 0)
        assert sorted(f.track_id for f in tracked) == [1, 2]
    with arlens.FaceTracker(max_faces=1) as tracker:
        assert len(tracker.detect(canvas)) == 1


def test_detect_batch_equals_detect_per_image(face_tracker):
    images = [read_image("faces/astronaut.png"), np.full((200, 300, 3), 90, np.uint8),
              read_image("faces/grace_hopper.jpg"), read_image("faces/astronaut.png")[:, ::-1]]
    batched = face_tracker.detect_batch(images)
    assert [len(faces) for faces in batched] == [1, 0, 1, 1]
    for image, faces in zip(images, batched, strict=True):
        single = face_tracker.detect(image)
        for a, b in zip(faces, single, strict=True):
            np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-3)
            np.testing.assert_allclose(a.pose, b.pose, atol=1e-4)
    assert face_tracker.detect_batch([]) == []


def test_detect_batch_names_the_bad_image(face_tracker):
    good = read_image("faces/astronaut.png")
    with pytest.raises(arlens.InputError, match=r"images\[1\]: expected a uint8 BGR image"):
        face_tracker.detect_batch([good, good.astype(np.float32)])
    with pytest.raises(arlens.InputError, match="single image"):
        face_tracker.detect_batch(good)
