"""HandTracker -> GestureRecognizer and HandTracker -> NailPolishLens on real pixels.

The gesture and nail tests elsewhere feed Google's reference landmarks; these run arlens' own tracker
on video made from the test photos (a hand swept across the frame, a still hand with fresh sensor
noise on every frame), so the whole chain a kiosk runs is exercised: tracking keeps the moving hand,
its landmarks are steady enough for the hysteresis, and the nails land where the tracker puts them.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import arlens
from arlens.gestures import GestureRecognizer
from arlens.landmarks import FINGERS
from arlens.lenses.nails import NailPolishLens
from tests.support import read_image

FRAME_MS = 33
CANVAS = (480, 854)  # height, width
HAND_HEIGHT = 240


@pytest.fixture(scope="module")
def small_palm() -> np.ndarray:
    image = read_image("hands/open_palm.jpg")
    width = round(image.shape[1] * HAND_HEIGHT / image.shape[0])
    return cv2.resize(image, (width, HAND_HEIGHT), interpolation=cv2.INTER_AREA)


def _frame(hand: np.ndarray, x: float) -> np.ndarray:
    canvas = np.full((*CANVAS, 3), 20, np.uint8)
    top = (CANVAS[0] - hand.shape[0]) // 2
    left = int(round(x))
    canvas[top : top + hand.shape[0], left : left + hand.shape[1]] = hand
    return canvas


def _run(frames: list[np.ndarray]) -> tuple[list, int]:
    events, found = [], 0
    recognizer = GestureRecognizer()
    with arlens.HandTracker() as tracker:
        for i, frame in enumerate(frames):
            hands = tracker.track(frame, i * FRAME_MS)
            found += len(hands) == 1
            events += recognizer.update(hands, i * FRAME_MS)
    return events, found


@pytest.mark.parametrize("direction", ["right", "left"])
def test_a_hand_swept_across_the_frame_is_one_swipe(small_palm, direction):
    """Hold 20 frames, sweep 460 px (about 6 hand sizes) in 0.4 s, hold 25 frames: exactly one swipe."""
    start, end = 100.0, 560.0
    if direction == "left":
        start, end = end, start
    xs = [start] * 20 + list(np.linspace(start, end, 12)) + [end] * 25
    events, found = _run([_frame(small_palm, x) for x in xs])
    assert found == len(xs), "the tracker lost the moving hand"
    swipes = [e for e in events if e.name == "swipe"]
    assert len(swipes) == 1, [(e.name, e.direction) for e in events]
    assert swipes[0].direction == direction
    assert swipes[0].speed > GestureRecognizer().options.swipe_min_speed
    assert 20 * FRAME_MS < swipes[0].timestamp_ms <= 32 * FRAME_MS  # during the sweep, not while held
    assert [e.name for e in events if e.name != "swipe"] == ["open_palm"]  # shown once, at the start


def test_a_still_open_hand_with_sensor_noise_fires_nothing_but_one_open_palm():
    """60 frames of the open palm photo, fresh Gaussian noise (sigma 2 grey levels) on each."""
    image = read_image("hands/open_palm.jpg")
    rng = np.random.default_rng(7)
    frames = [np.clip(image + rng.normal(0.0, 2.0, image.shape), 0, 255).astype(np.uint8) for _ in range(60)]
    events, found = _run(frames)
    assert found == 60
    assert [e.name for e in events] == ["open_palm"]
    assert events[0].timestamp_ms <= 5 * FRAME_MS


def test_nails_follow_the_trackers_landmarks():
    """pointing.jpg (palm toward the camera): the tracker's hand gets polish on the curled fingers only,
    within a fifth of a hand size of their tips (0.13 measured); open_palm.jpg (palm toward the camera) gets none."""
    lens = NailPolishLens(color="#1F5FBF", finish="gloss", opacity=1.0)
    with arlens.HandTracker() as tracker:
        pointing = read_image("hands/pointing.jpg")
        hands = tracker.detect(pointing)
        assert len(hands) == 1
        assert [n.finger for n in lens.nails(hands[0])] == ["middle", "ring", "pinky"]
        out = lens.render(pointing, hands)
        changed = (out != pointing).any(axis=-1)
        assert changed.sum() > 1000
        ys, xs = np.nonzero(changed)
        tips = hands[0].landmarks[[tip for tip, _, _ in FINGERS.values()], :2]
        nearest = np.min(np.hypot(xs[:, None] + 0.5 - tips[:, 0], ys[:, None] + 0.5 - tips[:, 1]), axis=1)
        assert nearest.max() <= 0.2 * hands[0].size

        palm = read_image("hands/open_palm.jpg")
        palm_hands = tracker.detect(palm)
        assert len(palm_hands) == 1
        assert np.array_equal(lens.render(palm, palm_hands), palm)
