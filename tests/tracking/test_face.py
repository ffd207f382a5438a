"""FaceTracker: agreement with Google's graph, video mode, stability, equivariance, input rules."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import arlens
from arlens import landmarks as L
from arlens.tracking.crop_check import yaw_deg
from arlens.tracking.face import FaceTrackerOptions
from arlens.tracking.smoothing import OneEuroOptions
from tests.support import STILL_FACES, read_frames, read_image, reference

GIF_FRAME_MS = 33  # the reference was made at 30 fps (MediaPipe solutions step 33333 us a frame)


def iod(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[L.RIGHT_EYE_OUTER, :2] - points[L.LEFT_EYE_OUTER, :2]))


def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=1).mean())


@pytest.mark.parametrize("name", STILL_FACES)
def test_still_agrees_with_mediapipe(face_tracker, name):
    """All 478 points against Google's FaceMesh with refine_landmarks=True (same attention model)."""
    image = read_image(f"faces/{name}")
    ref = reference(name.rsplit(".", 1)[0])
    faces = face_tracker.detect(image)
    assert len(faces) == 1
    face = faces[0]
    assert face.landmarks.shape == (478, 3) and face.landmarks.dtype == np.float32
    mesh_ref = ref["face_mesh_478"][0]
    scale = iod(mesh_ref)
    # Points 0-477 (x, y and z) within 1% of the inter-ocular distance (arlens: 0.001-0.2%).
    assert mean_distance(face.landmarks, mesh_ref) <= 0.01 * scale
    # The refined parts on their own: irises, lips and eyelids, from the model's attention branches.
    assert mean_distance(face.landmarks[468:], mesh_ref[468:]) <= 0.01 * scale
    for part in (L.lips_outer(), L.lips_inner(), L.right_eye(), L.left_eye()):
        assert mean_distance(face.landmarks[list(part)], mesh_ref[list(part)]) <= 0.01 * scale
    x0, y0, x1, y1 = face.bbox
    assert x0 < face.landmarks[:, 0].mean() < x1 and y0 < face.landmarks[:, 1].mean() < y1
    assert 0.5 <= face.score <= 1.0


@pytest.mark.parametrize("name", STILL_FACES)
def test_unrefined_still_agrees_with_mediapipe(name):
    """``refine_iris=False`` runs the plain mesh model: points 0-467 against FaceMesh without refinement."""
    ref = reference(name.rsplit(".", 1)[0])
    with arlens.FaceTracker(refine_iris=False) as tracker:
        face = tracker.detect(read_image(f"faces/{name}"))[0]
    mesh_ref = ref["face_mesh_468"][0]
    assert mean_distance(face.landmarks[:468], mesh_ref) <= 0.01 * iod(mesh_ref)
    for centre, loop in ((L.RIGHT_IRIS_CENTER, L.right_eye()), (L.LEFT_IRIS_CENTER, L.left_eye())):
        np.testing.assert_allclose(face.landmarks[centre : centre + 5],
                                   np.repeat(face.landmarks[list(loop)].mean(axis=0, keepdims=True), 5, axis=0),
                                   atol=1e-3)


def test_iris_index_order_matches_mediapipe(face_tracker):
    """468 is the iris by landmark 33 (image left) and 473 by 263, with rims numbered the same way round."""
    face = face_tracker.detect(read_image("faces/astronaut.png"))[0]
    lm = face.landmarks
    assert lm[468, 0] < lm[473, 0]
    for centre in (L.RIGHT_IRIS_CENTER, L.LEFT_IRIS_CENTER):
        assert lm[centre + 1, 0] > lm[centre, 0] > lm[centre + 3, 0]  # 469/474 to the image right, 471/476 left
        assert lm[centre + 2, 1] < lm[centre, 1] < lm[centre + 4, 1]  # 470/475 above, 472/477 below


#: FaceTracker settings under which its video loop is Google's FaceMesh graph's (no crop corrections).
LIKE_MEDIAPIPE = FaceTrackerOptions.like_mediapipe()


def clip_errors(refine_iris: bool, options: FaceTrackerOptions = LIKE_MEDIAPIPE) -> list[float]:
    """Per frame: mean distance to Google's tracking-mode run over the clip / inter-ocular distance (NaN where
    Google's graph returned no face). Refined: all 478 points vs refine_landmarks=True; else 0-467 vs False.

    One face on every frame where Google's graph found one, on one track; where Google's graph lost the
    face, arlens may lose it too, and then continues on a new track.
    """
    frames = read_frames("faces/talking_head.gif")
    ref = reference("talking_head")["face_mesh_478" if refine_iris else "face_mesh_468"]
    errors, track_id = [], 1
    with arlens.FaceTracker(options, refine_iris=refine_iris) as tracker:
        for i, frame in enumerate(frames):
            faces = tracker.track(frame, i * GIF_FRAME_MS)
            google_lost_it = not np.isfinite(ref[i]).all()
            if google_lost_it and not faces:
                track_id += 1
                errors.append(np.nan)
                continue
            assert len(faces) == 1, f"frame {i}: expected one face, got {len(faces)}"
            assert faces[0].track_id == track_id, f"frame {i}: track {faces[0].track_id}, expected {track_id}"
            points = faces[0].landmarks[: len(ref[i]), :2]
            errors.append(mean_distance(points, ref[i][:, :2]) / iod(ref[i]))
    return errors


def test_talking_head_video_mode_agrees_with_mediapipe():
    """Video mode over the clip with Google's tracking loop (``like_mediapipe()``: arlens' crop corrections
    off, see test_talking_head_departs_from_mediapipe_only_where_meant), default smoothing, against
    Google's refine_landmarks=True run.

    Where a hand covers the chin and she tips her head back (frames ~33-61) the tracking loop is
    chaotic: Google's own graph, fed the same frames with +1 grey level on 2% of the pixels, moves up to
    5% of the inter-ocular distance away from its reference there. Its refined run lost the face at
    frame 51 and started a new track from a detection at 52. Whether arlens does the same hangs on the
    presence score there, which that chaos moves across the 0.5 bar: 0.39 with the shipped model (lost,
    re-detected, frames 52-61 within 1.6% of Google's), 0.72 with the model before its layout rewrites
    (kept, and for frames 52-61 the two followed different ROIs through a near-profile view, up to 100%
    apart). So the 1% bar applies to the mean of the frames outside 51-61 (arlens: 0.70%, max 3.8%),
    and the median frame of the whole clip must agree much more closely (arlens: 0.34%).
    """
    errors = np.asarray(clip_errors(refine_iris=True))
    assert np.isfinite(np.delete(errors, 51)).all()
    assert np.nanmedian(errors) <= 0.005, f"median {np.nanmedian(errors):.4f}"
    same_track = np.delete(errors, np.arange(51, 62))
    assert same_track.mean() <= 0.01, f"mean {same_track.mean():.4f}"
    assert same_track.max() <= 0.05, f"max {same_track.max():.4f}"


def test_unrefined_video_mode_agrees_with_mediapipe():
    """The plain mesh model over the clip against Google's refine_landmarks=False run, Google's loop (the
    same chaotic stretch, but no lost frame: arlens mean 0.71%, median 0.28%, max 4.7%)."""
    errors = np.asarray(clip_errors(refine_iris=False))
    assert errors.mean() <= 0.01, f"mean {errors.mean():.4f}"
    assert np.median(errors) <= 0.005, f"median {np.median(errors):.4f}"


def lips_from_fresh_detections(options: FaceTrackerOptions) -> np.ndarray:
    """Per frame of the clip: the lips (outer and inner contours) tracked in video mode, their mean distance
    to where ``detect()`` finds them on the same frame, in inter-ocular distances."""
    frames = read_frames("faces/talking_head.gif")
    lips = sorted(set(L.lips_outer()) | set(L.lips_inner()))
    errors = []
    with arlens.FaceTracker(options) as tracker, arlens.FaceTracker() as fresh:
        for i, frame in enumerate(frames):
            tracked, detected = tracker.track(frame, i * GIF_FRAME_MS), fresh.detect(frame)
            if not tracked or not detected:
                errors.append(np.nan)
                continue
            a, b = tracked[0].landmarks[lips, :2], detected[0].landmarks[lips, :2]
            errors.append(mean_distance(a, b) / iod(detected[0].landmarks))
    return np.asarray(errors)


def test_fast_turn_lips_follow_a_fresh_detection():
    """Frames 45-60 of the clip: a fast turn to 35-55 degrees of yaw with the head tipped back.

    Google's loop crops each frame around the previous frame's landmarks; at that yaw the mesh reads such
    a crop badly and the lips land a median 9.7% of the inter-ocular distance (up to 21%) from where a
    fresh detection puts them (on the teeth and chin, drawn: the fresh detection's fit the lips). arlens
    crops a turned head from a fresh detection (``redetect_turned_deg``): median 0.2% with smoothing.
    """
    before = lips_from_fresh_detections(LIKE_MEDIAPIPE)[45:61]
    after = lips_from_fresh_detections(FaceTrackerOptions())[45:61]
    assert np.isfinite(after).all()
    assert np.nanmedian(before) > 0.05, f"Google's loop: median {np.nanmedian(before):.2%}"  # it loses frame 51
    assert np.median(after) <= 0.03, f"arlens: median {np.median(after):.2%}"
    assert after.max() <= 0.05, f"arlens: max {after.max():.2%}"


def test_talking_head_departs_from_mediapipe_only_where_meant():
    """Default settings against Google's refine_landmarks=True run: on the ordinary frames (head turned
    less than 30 degrees by Google's own landmarks) as close as Google's loop (median 0.18% either way;
    bar 0.5%). arlens departs on purpose where the head is turned (cropped from detections) and where a
    crop was stale (frame 68, where the head drops and Google's mesh stays short of the chin; arlens'
    second pass follows it, as a fresh detection does)."""
    ref = reference("talking_head")["face_mesh_478"]
    errors = np.asarray(clip_errors(refine_iris=True, options=FaceTrackerOptions()))
    ordinary = np.array([np.isfinite(r).all() and yaw_deg(r) < 30 for r in ref])
    assert ordinary.sum() >= 30
    assert np.nanmedian(errors[ordinary]) <= 0.005, f"median {np.nanmedian(errors[ordinary]):.4f}"


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


HOSTILE_TIMESTAMPS = [float("nan"), float("inf"), float("-inf"), 10**400, -(10**400), 2**60, np.float64("nan")]


@pytest.mark.parametrize("ts", HOSTILE_TIMESTAMPS, ids=repr)
def test_track_refuses_non_finite_and_absurd_timestamps_and_keeps_tracking(ts):
    """NaN was taken (then LinAlgError), +inf refused every later frame until reset(), 10**400 OverflowError."""
    image = read_image("faces/astronaut.png")
    with arlens.FaceTracker() as tracker:
        before = tracker.track(image, 100)
        with pytest.raises(arlens.InputError, match="timestamp_ms: expected a finite number of milliseconds"):
            tracker.track(image, ts)
        after = tracker.track(image, 133)  # the refused call left no trace
        assert len(after) == 1 and after[0].track_id == before[0].track_id
        assert np.isfinite(after[0].landmarks).all()


def test_detect_batch_takes_iterables_and_refuses_none(face_tracker):
    """detect_batch(None) and a generator raised TypeError."""
    image = read_image("faces/astronaut.png")
    from_list = face_tracker.detect_batch([image, image])
    from_gen = face_tracker.detect_batch(im for im in (image, image))
    assert [len(f) for f in from_gen] == [len(f) for f in from_list] == [1, 1]
    np.testing.assert_array_equal(from_gen[1][0].landmarks, from_list[1][0].landmarks)
    for bad in (None, 3, "images"):
        with pytest.raises(arlens.InputError, match="images: expected a sequence of images"):
            face_tracker.detect_batch(bad)


@pytest.mark.parametrize("shape", [(4, 32767, 3), (32800, 3, 3)])
def test_frames_past_opencvs_remap_limit_are_refused(face_tracker, shape):
    """A side of 32,767 px raised cv2.error from every tracker (OpenCV's remap limit)."""
    frame = np.zeros(shape, np.uint8)
    with pytest.raises(arlens.InputError, match="below 32767 px"):
        face_tracker.detect(frame)
    with arlens.FaceTracker() as tracker, pytest.raises(arlens.InputError, match="below 32767 px"):
        tracker.track(frame, 0)
