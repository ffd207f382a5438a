"""FaceTracker in real scenes: shoppers at kiosk distance, several at once, fast moves.

The scenes are the shared stills pasted into 1280x720 frames at known sizes and places
(``benchmarks/kiosk_scenes.py``), so where each face's landmarks must be is known from the same face at full
size (arlens' own landmarks on the full-size still, mapped into the scene).
"""

from __future__ import annotations

import numpy as np
import pytest

import arlens
from arlens import landmarks as L
from arlens.tracking.face import FaceTrackerOptions
from tests.support import benchmarks_module, read_image

S = benchmarks_module("kiosk_scenes")
GROUP_SCENES, PLACES, STILL_GEOMETRY, Placement, map_points, scene = (
    S.GROUP_SCENES, S.PLACES, S.STILL_GEOMETRY, S.Placement, S.map_points, S.scene)

LIPS = sorted(set(L.lips_outer()) | set(L.lips_inner()))


@pytest.fixture(scope="module")
def stills():
    return {name: read_image(f"faces/{name}") for name in STILL_GEOMETRY}


@pytest.fixture(scope="module")
def full_size(stills, face_tracker):
    """Each still's 478 landmarks at full size (60, 119 and 203 px inter-ocular distance)."""
    return {name: face_tracker.detect(image)[0].landmarks for name, image in stills.items()}


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean())


def faces_near(faces: list[arlens.Face], truth: np.ndarray, iod: float, within: float) -> list[arlens.Face]:
    return [f for f in faces if distance(f.landmarks, truth) <= within * iod]


@pytest.mark.parametrize("still", list(STILL_GEOMETRY))
@pytest.mark.parametrize("iod", [30.0, 40.0, 60.0])
def test_small_faces_are_found(face_tracker, stills, full_size, still, iod):
    """From 30 px inter-ocular distance in a 1280x720 frame, at the centre and near two corners.

    Google's FaceMesh detector (``detector="short"``) finds none of these (it needs about 90 px); the
    default ``"auto"`` adds the full-range detector on square tiles.
    """
    with arlens.FaceTracker(detector="short") as short:
        for place in PLACES:
            placement = Placement(still, iod, place)
            image = scene([placement], stills)
            truth = map_points(full_size[still], placement)
            faces = face_tracker.detect(image)
            assert len(faces) == 1, f"{placement}: {len(faces)} faces"
            assert faces_near(faces, truth, iod, 0.05), f"{placement}: {distance(faces[0].landmarks, truth) / iod:.1%}"
            assert short.detect(image) == []


@pytest.mark.parametrize("iod", [120.0, 250.0, 380.0])
def test_large_faces_up_to_one_filling_the_frame(face_tracker, stills, full_size, iod):
    """Up to 380 px inter-ocular distance, where the face mesh (chin to forehead) is 640-720 px tall in the
    720 px frame (arlens: within 0.7-1.5% of the full-size landmarks)."""
    for still in STILL_GEOMETRY:
        placement = Placement(still, iod, (640.0, 360.0))
        truth = map_points(full_size[still], placement)
        faces = face_tracker.detect(scene([placement], stills))
        assert len(faces) == 1 and faces_near(faces, truth, iod, 0.03), still
        assert iod < 380 or np.ptp(truth[:, 1]) > 640


@pytest.mark.parametrize("still", list(STILL_GEOMETRY))
def test_landmarks_at_40px_agree_with_the_same_face_at_full_size(stills, full_size, still):
    """The mesh's 192x192 input upsampled from a small crop: at 40 px inter-ocular distance all 478 points
    (and the lips on their own) within 4% of it of the full-size face's, scaled back (arlens: 1.4-2.9%
    all points, 0.7-2.9% lips), in still images and in video mode (once found: the full-range search
    covers one tile of the frame a frame while no face is tracked, so a new face is found within three
    frames)."""
    with arlens.FaceTracker() as tracker:
        for place in PLACES:
            placement = Placement(still, 40.0, place)
            image = scene([placement], stills)
            truth = map_points(full_size[still], placement)
            tracker.reset()
            video = [tracker.track(image, t * 33) for t in range(5)]
            assert all(len(found) == 1 for found in video[2:])
            for found in (tracker.detect(image), *video[3:]):
                (face,) = found
                assert distance(face.landmarks, truth) <= 0.04 * 40, f"{placement}"
                assert distance(face.landmarks[LIPS], truth[LIPS]) <= 0.04 * 40, f"{placement} lips"


class CountingMesh:
    """Wraps the tracker's mesh model to count its runs and batch sizes."""

    def __init__(self, model):
        self.model, self.batches = model, []

    def __call__(self, x, outputs=None):
        self.batches.append(len(x))
        return self.model(x, outputs)

    def close(self):
        self.model.close()


@pytest.mark.parametrize("group", range(len(GROUP_SCENES)))
def test_three_faces_of_different_sizes_in_one_frame(stills, full_size, group):
    """Near, middle and far shoppers (30-150 px inter-ocular distance) in one 1280x720 frame: all found in
    a still; in video mode all tracked within seven frames (while a face is tracked, the full-range
    search covers one of the three tiles every third frame), each keeping its track id, the mesh run
    once a frame on all of them together."""
    placements = GROUP_SCENES[group]
    image = scene(placements, stills)
    truths = [map_points(full_size[p.still], p) for p in placements]
    with arlens.FaceTracker(max_faces=3) as tracker:
        faces = tracker.detect(image)
        assert len(faces) == 3
        for p, truth in zip(placements, truths, strict=True):
            assert len(faces_near(faces, truth, p.iod, 0.05)) == 1, p
        mesh = tracker._mesh = CountingMesh(tracker._mesh)
        ids = {}
        for t in range(12):
            faces = tracker.track(image, t * 33)
            if t < 7:
                continue
            assert len(faces) == 3, f"frame {t}"
            for k, (p, truth) in enumerate(zip(placements, truths, strict=True)):
                (face,) = faces_near(faces, truth, p.iod, 0.05)
                assert ids.setdefault(k, face.track_id) == face.track_id, f"frame {t}: {p} changed track"
        assert len(set(ids.values())) == 3
        steady = mesh.batches[-5:]  # frames 7-11: everyone tracked, one mesh run each
        assert steady == [3] * 5, mesh.batches


def test_a_face_that_jumps_out_of_its_crop_keeps_its_track_in_the_same_frame(stills, full_size):
    """A face moving 0.2 of its crop between two frames: Google's loop loses it for that frame (and finds it
    again as a new track the next); arlens finds it again in the same frame with the same id."""
    start, moved = Placement("grace_hopper.jpg", 120.0, (500.0, 360.0)), Placement("grace_hopper.jpg", 120.0,
                                                                                    (596.0, 360.0))
    truth = map_points(full_size["grace_hopper.jpg"], moved)
    counts = {}
    for name, options in (("mediapipe", FaceTrackerOptions.like_mediapipe()), ("arlens", FaceTrackerOptions())):
        with arlens.FaceTracker(options) as tracker:
            for t in range(3):
                (first,) = tracker.track(scene([start], stills), t * 33)
            faces = tracker.track(scene([moved], stills), 100)
            counts[name] = len(faces)
            if name == "arlens":
                assert [f.track_id for f in faces] == [first.track_id]
                assert faces_near(faces, truth, 120.0, 0.03)
    assert counts == {"mediapipe": 0, "arlens": 1}


def test_a_small_face_that_jumps_keeps_its_track(stills, full_size):
    """The same for a 60 px face only the full-range detector sees: its tile is searched in the same frame."""
    start, moved = Placement("frontal_smile.png", 60.0, (500.0, 360.0)), Placement("frontal_smile.png", 60.0,
                                                                                  (572.0, 360.0))
    with arlens.FaceTracker() as tracker:
        for t in range(4):
            first = tracker.track(scene([start], stills), t * 33)
        faces = tracker.track(scene([moved], stills), 200)
    assert [f.track_id for f in faces] == [first[0].track_id]
    assert faces_near(faces, map_points(full_size["frontal_smile.png"], moved), 60.0, 0.03)


def test_two_faces_one_jumping_stay_two_tracks(stills, full_size):
    """With two shoppers tracked, one jumping out of its crop is found again in the same frame under its own
    id, never as a second copy of the other's face."""
    still, steady = Placement("astronaut.png", 100.0, (900.0, 360.0)), "grace_hopper.jpg"
    before = [Placement(steady, 100.0, (350.0, 360.0)), still]
    after = [Placement(steady, 100.0, (430.0, 360.0)), still]
    with arlens.FaceTracker(max_faces=2) as tracker:
        for t in range(3):
            first = tracker.track(scene(before, stills), t * 33)
        faces = tracker.track(scene(after, stills), 100)
    assert sorted(f.track_id for f in faces) == sorted(f.track_id for f in first)
    for p in after:
        assert len(faces_near(faces, map_points(full_size[p.still], p), 100.0, 0.03)) == 1, p


def test_the_full_range_search_is_spread_out_while_someone_is_tracked(stills):
    """Looking for more faces than are tracked costs a short-range detection every frame (as in MediaPipe)
    and a full-range tile every third frame; with nobody in view, a tile every frame."""
    one = scene([Placement("grace_hopper.jpg", 110.0, (640.0, 360.0))], stills)
    empty = np.full_like(one, 96)
    with arlens.FaceTracker(max_faces=3) as tracker:
        runs = []
        for t in range(9):
            assert len(tracker.track(one, t * 33)) == 1
            runs.append(("detection" in tracker.timings, "detection_tiles" in tracker.timings))
        assert runs == [(True, t % 3 == 0) for t in range(9)]
        for t in range(9, 12):
            assert tracker.track(empty, t * 33) == []
            assert "detection_tiles" in tracker.timings
