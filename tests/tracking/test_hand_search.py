"""HandTracker's palm search in video mode: its cadence (search_interval) and a region of interest."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import arlens
from tests.support import read_frames, read_image


@pytest.fixture(scope="module")
def frames() -> tuple[np.ndarray, np.ndarray]:
    """A 1280x720 frame with one hand on its right third, and the same frame without it."""
    hand = cv2.resize(read_image("hands/pointing.jpg"), (360, 480), interpolation=cv2.INTER_AREA)
    empty = np.full((720, 1280, 3), 96, np.uint8)
    with_hand = empty.copy()
    with_hand[120:600, 880:1240] = hand
    return with_hand, empty


def _searched(tracker: arlens.HandTracker) -> bool:
    return "detection" in tracker.timings


def test_search_interval_is_one_frame_in_n(frames):
    _, empty = frames
    with arlens.HandTracker(search_interval=3) as every_third, arlens.HandTracker() as every:
        runs, runs_every = [], []
        for i in range(9):
            every_third.track(empty, i * 33)
            every.track(empty, i * 33)
            runs.append(_searched(every_third))
            runs_every.append(_searched(every))
    assert runs == [True, False, False] * 3
    assert all(runs_every), "MediaPipe's cadence (the default) searches every frame while a hand is missing"


def test_a_lost_hand_is_searched_for_on_the_next_frame(frames):
    hand, empty = frames
    with arlens.HandTracker(max_hands=1, search_interval=5) as tracker:
        found, searched = [], []
        for i, frame in enumerate([hand, hand, empty, empty, empty]):
            found.append(len(tracker.track(frame, i * 33)))
            searched.append(_searched(tracker))
    # frame 0 finds the hand; frame 1 tracks it (max_hands reached: no search); frame 2 loses it; frame 3
    # searches at once instead of waiting out the interval; frame 4 waits again
    assert found == [1, 1, 0, 0, 0]
    assert searched == [True, False, False, True, False]


def test_region_limits_where_hands_are_found_and_kept(frames):
    hand, _ = frames
    left, right = (0, 0, 640, 720), (640, 0, 1280, 720)
    with arlens.HandTracker() as tracker:
        assert tracker.track(hand, 0, region=left) == [], "a hand outside the region was found"
        found = tracker.track(hand, 33, region=right)
        assert len(found) == 1 and found[0].bbox[0] > 880 - 10
        tracked = tracker.track(hand, 66, region=right)
        assert [h.track_id for h in tracked] == [found[0].track_id]
        assert tracker.track(hand, 99, region=left) == [], "a tracked hand outside the region was kept"
        assert len(tracker.track(hand, 132)) == 1  # the whole frame again
    with arlens.HandTracker() as whole, arlens.HandTracker() as cropped:
        a, b = whole.track(hand, 0)[0], cropped.track(hand, 0, region=(800, 80, 1280, 640))[0]
        # the square around the region shows the hand larger: the same hand within a few pixels
        assert np.abs(a.landmarks[:, :2] - b.landmarks[:, :2]).max() < 0.05 * (a.bbox[3] - a.bbox[1])


def test_bad_search_options_and_regions(frames):
    hand, _ = frames
    for bad in (0, -1, 1.5, True):
        with pytest.raises(arlens.InputError, match="search_interval"):
            arlens.HandTrackerOptions(search_interval=bad)
    with arlens.HandTracker() as tracker:
        for bad in [(1, 2, 3), (10, 10, 5, 20), (0, 0, float("nan"), 5), "left"]:
            with pytest.raises(arlens.InputError, match="region"):
                tracker.track(hand, 0, region=bad)  # refused before the timestamp is taken
        assert tracker.track(hand, 0, region=(2000, 0, 3000, 720)) == []  # off the frame: nothing to find


def test_search_interval_tracking_spaces_the_search_while_a_hand_is_tracked(frames):
    """search_interval_tracking: with one hand tracked (of two wanted) palms are looked for on one frame in
    that many; with none tracked the search keeps search_interval, and a lost hand is looked for at once."""
    hand, empty = frames
    with arlens.HandTracker(search_interval=2, search_interval_tracking=4) as tracker:
        found, searched = [], []
        for i, frame in enumerate([empty, empty, empty] + [hand] * 9 + [empty, empty, empty]):
            found.append(len(tracker.track(frame, i * 33)))
            searched.append(_searched(tracker))
    # frames 0-2 (empty): every second frame; 3 waits; 4 finds the hand (none tracked: interval 2, so 6 is
    # next); from 6 on one hand is tracked: every fourth frame (6, 10); 12 loses it and 13 searches at once
    assert found == [0] * 4 + [1] * 8 + [0] * 3
    assert searched == [True, False, True, False, True, False, True, False, False, False, True, False,
                        False, True, False]


def test_bad_search_interval_tracking():
    for bad in (0, -2, 2.5, False, "3"):
        with pytest.raises(arlens.InputError, match="search_interval_tracking"):
            arlens.HandTrackerOptions(search_interval_tracking=bad)
    assert arlens.HandTrackerOptions(search_interval_tracking=None).search_interval_tracking is None


def _same_hands(a, b) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x.landmarks, y.landmarks) and x.track_id == y.track_id and x.handedness == y.handedness
        and x.score == y.score and x.handedness_score == y.handedness_score for x, y in zip(a, b, strict=True))


def test_parallel_search_gives_the_same_hands(frames):
    """parallel_search: palms looked for on a thread of their own while the tracked hand's landmarks are
    computed; the hands are the serial tracker's exactly, frame for frame, while a second hand comes into
    view (a new track: all hands batched again), stays, and leaves with the first."""
    hand, empty = frames
    two = hand.copy()
    two[120:600, 40:400] = hand[120:600, 880:1240][:, ::-1]  # the same hand mirrored: a left and a right
    sequence = [hand] * 3 + [two] * 4 + [hand] * 2 + [empty] * 2 + [two] * 3
    with arlens.HandTracker() as serial, arlens.HandTracker(parallel_search=True) as parallel:
        counts = []
        for i, frame in enumerate(sequence):
            a, b = serial.track(frame, i * 33), parallel.track(frame, i * 33)
            assert _same_hands(a, b), f"frame {i}"
            counts.append(len(a))
    assert counts[:3] == [1, 1, 1] and 2 in counts[3:7] and counts[9:11] == [0, 0], counts


def test_parallel_search_on_the_talking_head():
    """Two hands under the chin that cross, merge and part (tests/tracking/test_hand.py's clip): the same
    hands with and without the search thread."""
    clip = read_frames("faces/talking_head.gif")
    with arlens.HandTracker() as serial, arlens.HandTracker(parallel_search=True) as parallel:
        for i, frame in enumerate(clip):
            assert _same_hands(serial.track(frame, i * 33), parallel.track(frame, i * 33)), f"frame {i}"
    with pytest.raises(arlens.InputError, match="parallel_search"):
        arlens.HandTrackerOptions(parallel_search=1)
