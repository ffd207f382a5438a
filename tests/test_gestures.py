"""GestureRecognizer: each gesture fires once per performance on recorded and synthetic landmark sequences."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.gestures import GestureEvent, GestureOptions, GestureRecognizer
from arlens.landmarks import FINGERS
from arlens.landmarks import HandLandmark as H
from arlens.tracking.results import Hand, bbox_of
from tests.support import reference

FRAME_MS = 33.0


def _hand(landmarks: np.ndarray, handedness: str = "Left", track_id: int = 1) -> Hand:
    lm = np.asarray(landmarks, dtype=np.float32)
    return Hand(lm, handedness, 1.0, bbox_of(lm), track_id=track_id)


def _still(stem: str) -> np.ndarray:
    ref = reference(stem)
    assert ref["hands_found"][0] == 1
    return ref["hands"][0, 0].astype(np.float64)


def _run(sequence: list[np.ndarray], recognizer: GestureRecognizer | None = None, start_ms: float = 0.0):
    recognizer = recognizer or GestureRecognizer()
    events: list[GestureEvent] = []
    for i, lm in enumerate(sequence):
        events += recognizer.update([_hand(lm)], start_ms + i * FRAME_MS)
    return events


def _size(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[H.WRIST, :2] - lm[H.MIDDLE_FINGER_MCP, :2]))


def _thumbs_up(pointing: np.ndarray) -> np.ndarray:
    """The pointing hand with its index curled like its middle finger (thumb already up): a thumbs up."""
    lm = pointing.copy()
    index = (H.INDEX_FINGER_PIP, H.INDEX_FINGER_DIP, H.INDEX_FINGER_TIP)
    middle = (H.MIDDLE_FINGER_PIP, H.MIDDLE_FINGER_DIP, H.MIDDLE_FINGER_TIP)
    offset = lm[H.INDEX_FINGER_MCP] - lm[H.MIDDLE_FINGER_MCP]
    for i, m in zip(index, middle, strict=True):
        lm[i] = lm[m] + offset
    return lm


@pytest.fixture(scope="module")
def open_palm() -> np.ndarray:
    return _still("open_palm")


@pytest.fixture(scope="module")
def pointing() -> np.ndarray:
    return _still("pointing")


def test_still_open_palm_fires_open_palm_once_in_60_noisy_frames(open_palm):
    """Holding an open palm fires 'open_palm' once, when it starts, and nothing else (noise 0.5% of hand size)."""
    rng = np.random.default_rng(0)
    sigma = 0.005 * _size(open_palm)
    seq = [open_palm + rng.normal(0, sigma, open_palm.shape) for _ in range(60)]
    events = _run(seq)
    assert [e.name for e in events] == ["open_palm"]
    assert events[0].timestamp_ms == 2 * FRAME_MS  # after the default hold of 3 frames
    assert events[0].direction is None and events[0].speed is None


def test_pointing_fires_point_once(pointing):
    events = _run([pointing] * 30)
    assert [e.name for e in events] == ["point"]


@pytest.mark.parametrize("direction,sign", [("right", 1.0), ("left", -1.0)])
def test_swipe_fires_once_with_direction_and_speed(open_palm, direction, sign):
    """The open palm translated 700 px across the frame in 10 frames (~2.1 hand sizes, ~6 hand sizes/s)."""
    shift = np.array([sign * 70.0, 0.0, 0.0])
    start = open_palm - shift * 5
    seq = [start + shift * i for i in range(11)]
    events = _run(seq)
    assert [e.name for e in events] == ["swipe"]
    assert events[0].direction == direction
    assert events[0].speed > 3.0
    frame = round(events[0].timestamp_ms / FRAME_MS)
    assert 0 < frame < len(seq)
    np.testing.assert_allclose(events[0].hand.landmarks[H.WRIST, :2], seq[frame][H.WRIST, :2], atol=1e-3)


def test_slow_drift_and_vertical_motion_are_not_swipes(open_palm):
    slow = [open_palm + np.array([4.0 * i, 0, 0]) for i in range(60)]  # 0.37 hand sizes/s
    assert "swipe" not in [e.name for e in _run(slow)]
    vertical = [open_palm + np.array([20.0 * i, 70.0 * i, 0]) for i in range(11)]
    assert "swipe" not in [e.name for e in _run(vertical)]


def test_the_return_stroke_falls_in_the_cooldown(open_palm):
    """Right and straight back (the hand returning) is one swipe; after a pause, the next stroke fires."""
    shift = np.array([70.0, 0.0, 0.0])
    there = [open_palm + shift * i for i in range(11)]
    back = [open_palm + shift * (10 - i) for i in range(11)]
    recognizer = GestureRecognizer()
    events = _run(there + back, recognizer)
    assert [(e.name, e.direction) for e in events] == [("swipe", "right")]
    later = _run(back, recognizer, start_ms=2000.0)
    assert [(e.name, e.direction) for e in later] == [("swipe", "left")]


def test_pinch_fires_once_per_pinch(pointing):
    """The pointing hand's thumb tip moved onto the index tip and back: point, pinch, point again."""
    tip, target = pointing[H.THUMB_TIP].copy(), pointing[H.INDEX_FINGER_TIP].copy()
    seq = [pointing] * 5
    for t in list(np.linspace(0, 1, 10)) + [1.0] * 10 + list(np.linspace(1, 0, 10)):
        lm = pointing.copy()
        lm[H.THUMB_TIP] = (1 - t) * tip + t * (target + np.array([0.0, 10.0, 0.0]))
        seq.append(lm)
    seq += [pointing] * 10
    names = [e.name for e in _run(seq)]
    assert names.count("pinch") == 1
    assert names == ["point", "pinch", "point"]


def test_pinch_exit_threshold_keeps_a_wavering_pinch_as_one(pointing):
    """A formed pinch whose thumb-index distance then wavers between 0.2 and 0.3 hand sizes (enter 0.25,
    exit 0.35) stays one pinch."""
    size = _size(pointing)
    direction = np.array([0.0, 1.0, 0.0])
    seq = []
    for i in range(40):
        lm = pointing.copy()
        lm[H.THUMB_TIP] = pointing[H.INDEX_FINGER_TIP] + direction * size * (0.2 if i < 5 or i % 4 < 2 else 0.3)
        seq.append(lm)
    assert [e.name for e in _run(seq)] == ["pinch"]


def test_thumbs_up_fires_once(pointing):
    lm = _thumbs_up(pointing)
    events = _run([lm] * 30)
    assert [e.name for e in events] == ["thumbs_up"]


def test_thumbs_down_is_not_thumbs_up(pointing):
    lm = _thumbs_up(pointing)
    lm[:, 1] = 2 * lm[H.WRIST, 1] - lm[:, 1]  # flipped upside down
    assert "thumbs_up" not in [e.name for e in _run([lm] * 30)]


def test_a_one_frame_pose_does_not_fire(open_palm, pointing):
    seq = [pointing] * 10 + [open_palm] + [pointing] * 10
    assert [e.name for e in _run(seq)] == ["point"]


def test_two_hands_with_track_ids_are_independent(open_palm, pointing):
    recognizer = GestureRecognizer()
    events = []
    for i in range(10):
        hands = [_hand(open_palm, track_id=1), _hand(pointing + np.array([2000.0, 0, 0]), track_id=2)]
        events += recognizer.update(hands, i * FRAME_MS)
    assert sorted(e.name for e in events) == ["open_palm", "point"]
    assert {e.name: e.hand.track_id for e in events} == {"open_palm": 1, "point": 2}


def test_hands_without_track_ids_are_matched_by_position(open_palm):
    """Still-image hands (track_id 0): a moving hand keeps its state, so its open palm fires once."""
    recognizer = GestureRecognizer()
    events = []
    for i in range(30):
        hands = [_hand(open_palm + np.array([1.0 * i, 0, 0]), track_id=0)]
        events += recognizer.update(hands, i * FRAME_MS)
    assert [e.name for e in events] == ["open_palm"]


def test_talking_head_clip_fires_each_pose_at_most_once_per_performance():
    """Google's landmarks of the talking-head clip (hands under the chin): no pose is re-fired while held."""
    ref = reference("talking_head")
    recognizer = GestureRecognizer()
    events = []
    for f in range(len(ref["hands"])):
        hands = [_hand(ref["hands"][f, k], str(ref["handedness"][f, k]), track_id=0)
                 for k in range(int(ref["hands_found"][f]))]
        events += recognizer.update(hands, f * FRAME_MS)
    names = [e.name for e in events]
    assert len(names) <= 3, names
    assert names.count("open_palm") <= 1


def test_reset_forgets_hands_and_time(open_palm):
    recognizer = GestureRecognizer()
    assert [e.name for e in _run([open_palm] * 5, recognizer)] == ["open_palm"]
    recognizer.reset()
    assert [e.name for e in _run([open_palm] * 5, recognizer)] == ["open_palm"]


def test_no_hands_no_events():
    recognizer = GestureRecognizer()
    assert recognizer.update([], 0.0) == []
    assert recognizer.update([], 33.0) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pinch_enter": 0.4, "pinch_exit": 0.35},
        {"pinch_enter": 0.0},
        {"hold_frames": 0},
        {"hold_frames": 2.5},
        {"release_frames": True},
        {"swipe_min_distance": -1.0},
        {"swipe_window_ms": 0},
        {"swipe_min_speed": float("nan")},
        {"swipe_cooldown_ms": -5},
        {"thumb_up_enter": 1.5},
        {"extended_exit": 0.3, "extended_enter": 0.2},
        {"max_pose_speed": "fast"},
    ],
)
def test_invalid_options_raise_input_error(kwargs):
    with pytest.raises(InputError):
        GestureOptions(**kwargs)
    with pytest.raises(InputError):
        GestureRecognizer(**kwargs)


def test_options_are_frozen():
    with pytest.raises(AttributeError):
        GestureOptions().pinch_enter = 0.1  # type: ignore[misc]


def test_misuse_raises_input_error(open_palm):
    recognizer = GestureRecognizer()
    recognizer.update([_hand(open_palm)], 100.0)
    with pytest.raises(InputError):
        recognizer.update([_hand(open_palm)], 100.0)  # timestamps must increase
    with pytest.raises(InputError):
        recognizer.update([_hand(open_palm)], 50.0)
    with pytest.raises(InputError):
        recognizer.update([open_palm], 200.0)  # not a Hand
    with pytest.raises(InputError):
        recognizer.update(None, 300.0)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        recognizer.update([], float("nan"))
    with pytest.raises(InputError, match="timestamp_ms: expected a finite number of milliseconds"):
        recognizer.update([], 10**400)  # OverflowError before
    with pytest.raises(InputError):
        GestureRecognizer(options="strict")  # type: ignore[arg-type]


def test_fingers_table_is_what_the_recognizer_assumes():
    assert set(FINGERS) == {"thumb", "index", "middle", "ring", "pinky"}
