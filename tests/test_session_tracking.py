"""What TryOn tracks for its products: hands anywhere for hand products and gestures, only near the faces
when they are needed as occluders, the palm search cadence, and the face mesh refinements the lenses read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arlens import landmarks as L
from arlens.lenses.registry import LensSpec, default_registry, lipstick_factory
from arlens.session import TryOn, TryOnOptions, occluder_region
from arlens.tracking.results import Face
from tests.support import benchmarks_module, read_image


def _frame(x: int, y: int) -> np.ndarray:
    """The astronaut's portrait on the left of a 1280x720 frame (a face about 140 px wide near (350, 180))
    and a hand photo (360x480, its palm about (230, 330) inside it) with its corner at (x, y)."""
    frame = np.full((720, 1280, 3), 96, np.uint8)
    frame[:, 40:760] = cv2.resize(read_image("faces/astronaut.png"), (720, 720), interpolation=cv2.INTER_AREA)
    hand = cv2.resize(read_image("hands/pointing.jpg"), (360, 480), interpolation=cv2.INTER_AREA)
    alpha = benchmarks_module("hard_scenes").cutout(hand)[..., None]  # the hand without its black background
    region = frame[y : y + 480, x : x + 360]
    region[:] = np.rint(hand * alpha + region * (1.0 - alpha)).astype(np.uint8)
    return frame


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    return {"far": _frame(910, 180), "near": _frame(330, 130)}


def _run(products: list[str], frame: np.ndarray, **options) -> list:
    with TryOn(products=products, options=TryOnOptions(event_delivery="inline", **options)) as session:
        results = [session.process(frame, 33 * i) for i in range(3)]
        tracker = session._hand_tracker
        return results, tracker


def test_occluder_hands_are_tracked_only_near_faces(frames):
    results, _ = _run(["LIP-001"], frames["far"])
    assert all(len(r.faces) == 1 for r in results)
    region = occluder_region(results[0].faces)
    assert region[2] < 1000, f"the test's hand should lie outside the faces' region {region}"
    assert not any(r.hands for r in results), "a hand far from the face was tracked for the lipstick's occlusion"
    results, _ = _run(["LIP-001"], frames["near"])
    assert all(len(r.hands) == 1 for r in results), "a hand beside the face was not tracked"


def test_hand_products_and_gestures_track_hands_anywhere(frames):
    for products, options in ((["LIP-001", "NAIL-201"], {}), (["LIP-001"], {"gestures": True})):
        results, _ = _run(products, frames["far"], **options)
        assert all(len(r.hands) == 1 for r in results), (products, options)


def test_hand_search_interval_reaches_the_tracker(frames):
    _, tracker = _run(["NAIL-201"], frames["far"])
    assert tracker.options.search_interval == TryOnOptions().hand_search_interval == 3
    _, tracker = _run(["NAIL-201"], frames["far"], hand_search_interval=1)
    assert tracker.options.search_interval == 1
    assert tracker.options.search_interval_tracking == TryOnOptions().hand_search_interval_tracking == 6
    _, tracker = _run(["NAIL-201"], frames["far"], hand_search_interval_tracking=None)
    assert tracker.options.search_interval_tracking is None  # the tracker then searches every search_interval
    with pytest.raises(ValueError, match="hand_search_interval"):
        TryOnOptions(hand_search_interval=0)
    for bad in (0, 2.0, True, "6"):
        with pytest.raises(ValueError, match="hand_search_interval_tracking"):
            TryOnOptions(hand_search_interval_tracking=bad)


def test_occluder_region_covers_each_face_and_its_reach():
    def face(x0: float, y0: float, x1: float, y1: float) -> Face:
        pts = np.zeros((478, 3), np.float32)
        pts[:, 0] = np.linspace(x0, x1, 478)
        pts[:, 1] = np.linspace(y0, y1, 478)
        return Face(landmarks=pts, score=1.0, bbox=np.array([x0, y0, x1, y1], np.float32))

    # 150 px faces: 1.5 sizes to each side, one up, two down
    assert occluder_region([face(100, 100, 200, 250)]) == (-125.0, -50.0, 425.0, 550.0)
    assert occluder_region([face(100, 100, 200, 250), face(600, 300, 640, 340)]) == (-125.0, -50.0, 700.0, 550.0)


def _irises_at_eye_centres(face: Face) -> bool:
    lm = face.landmarks
    return all(np.abs(lm[first : first + 5] - lm[list(loop)].mean(axis=0)).max() < 1e-3
               for first, loop in ((L.RIGHT_IRIS_CENTER, L.right_eye()), (L.LEFT_IRIS_CENTER, L.left_eye())))


def test_faces_are_refined_as_far_as_the_lenses_need(frames):
    frame = frames["far"]
    cases = {  # products, options -> irises refined?
        "lipstick: lips only": (["LIP-001"], {}, False),
        "glasses and nails: none": (["EYE-101", "NAIL-201"], {}, False),
        "asked for all": (["LIP-001"], {"refine_landmarks": "all"}, True),
        "no products: none": ([], {}, False),
    }
    for name, (products, options, irises) in cases.items():
        results, _ = _run(products, frame, **options)
        assert all(len(r.faces) == 1 for r in results), name
        assert _irises_at_eye_centres(results[-1].faces[0]) != irises, name
    # stills always get every refinement (a photo's render is the one arlens preview makes of it)
    with TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline")) as session:
        assert not _irises_at_eye_centres(session.process_image(frame).faces[0])
    # a plugin lens that does not say what it reads gets every refinement
    registry = default_registry()
    registry.register(LensSpec("lipstick", lipstick_factory, "face"), replace=True)
    with TryOn(products=["LIP-001"], registry=registry, options=TryOnOptions(event_delivery="inline")) as session:
        assert not _irises_at_eye_centres(session.process(frame, 0).faces[0])
    with pytest.raises(ValueError, match="refine_landmarks"):
        TryOnOptions(refine_landmarks="some")
    with pytest.raises(ValueError, match="refinements"):
        LensSpec("lipstick", lipstick_factory, "face", refinements=("nose",))
