"""FaceTracker without some of the attention model's refinement branches (``refine=``): the same mesh and the
same refined points where the branch ran, the mesh's own points where it did not."""

from __future__ import annotations

import numpy as np
import pytest

import arlens
from arlens import landmarks as L
from arlens.tracking.face import BRANCH_OUTPUTS, EYE_REFINEMENT_INDICES, LIP_REFINEMENT_INDICES, REFINEMENTS
from tests.support import read_frames, read_image, reference

LIPS = list(LIP_REFINEMENT_INDICES)
EYES = [*EYE_REFINEMENT_INDICES[0], *EYE_REFINEMENT_INDICES[1]]
IRISES = list(range(L.NUM_MESH_LANDMARKS, L.NUM_FACE_LANDMARKS))
#: The same nodes run in the whole graph and in the part of it a branch needs: only the order in which ONNX
#: Runtime schedules them could differ, and float summation order moves a landmark by far less than this.
SAME_PX = 1e-3


def _iod(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[L.RIGHT_EYE_OUTER, :2] - points[L.LEFT_EYE_OUTER, :2]))


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return read_image("faces/grace_hopper.jpg")


@pytest.mark.parametrize("refine", [(), ("lips",), ("eyes", "irises"), ("lips", "irises")])
def test_branches_left_out_keep_the_rest(face_tracker, image, refine):
    full = face_tracker.detect(image)[0].landmarks
    mesh_only = face_tracker.detect(image, refine=())[0].landmarks
    part = face_tracker.detect(image, refine=refine)[0].landmarks
    refined = {"lips": LIPS, "eyes": EYES, "irises": IRISES}
    others = np.setdiff1d(np.arange(L.NUM_FACE_LANDMARKS), np.concatenate([LIPS, EYES, IRISES]))
    assert np.abs(part[others] - full[others]).max() <= SAME_PX, "the mesh moved"
    for name, idx in refined.items():
        if name in refine:  # this branch ran: the full graph's points
            assert np.abs(part[idx] - full[idx]).max() <= SAME_PX, name
        elif name != "irises":  # not run: the mesh's own positions, as with no refinement at all
            assert np.abs(part[idx][:, :2] - mesh_only[idx][:, :2]).max() <= SAME_PX, name
    if "irises" not in refine:  # each iris sits at its eye contour's centre
        for first, loop in ((L.RIGHT_IRIS_CENTER, L.right_eye()), (L.LEFT_IRIS_CENTER, L.left_eye())):
            centre = part[list(loop)].mean(axis=0)
            assert np.abs(part[first : first + 5] - centre).max() <= 1e-4
    # refined and unrefined points are close: the branches move the lips and eyes by a small part of the IOD
    moved = np.linalg.norm(mesh_only[LIPS + EYES, :2] - full[LIPS + EYES, :2], axis=1).max() / _iod(full)
    assert 0 < moved < 0.05


def test_lips_only_still_agrees_with_mediapipe_on_the_lips(face_tracker, image):
    """What a lipstick reads: the refined lips, the same as FaceMesh refine_landmarks=True's."""
    expected = reference("grace_hopper")["face_mesh_478"][0]
    got = face_tracker.detect(image, refine=("lips",))[0].landmarks
    error = np.linalg.norm(got[LIPS, :2] - expected[LIPS, :2], axis=1).mean() / _iod(expected)
    assert error < 0.01


def test_refine_changes_from_frame_to_frame_in_video_mode():
    frames = read_frames("faces/talking_head.gif")[:6]
    with arlens.FaceTracker() as a, arlens.FaceTracker() as b:
        for i, frame in enumerate(frames):
            refine = ("lips",) if i % 2 else REFINEMENTS
            fa, fb = a.track(frame, 33 * i), b.track(frame, 33 * i, refine=refine)
            assert len(fa) == len(fb) == 1
            lips_moved = np.abs(fa[0].landmarks[LIPS] - fb[0].landmarks[LIPS]).max()
            assert lips_moved < 0.03 * _iod(fa[0].landmarks), i  # same lips (crops differ a little: eye corners)
        assert set(b._pruned) == {frozenset({"lips"})}, "one extra session, kept for the frames that need it"


def test_bad_refinements_are_refused(face_tracker, image):
    for bad in ("lips", ("lips", "nose"), 3):
        with pytest.raises(arlens.InputError, match="refine"):
            face_tracker.detect(image, refine=bad)
        with pytest.raises(arlens.InputError, match="refinements"):
            arlens.FaceTrackerOptions(refinements=bad)
    assert arlens.FaceTrackerOptions(refinements=["irises", "lips"]).refinements == ("lips", "irises")
    assert set(BRANCH_OUTPUTS) == set(REFINEMENTS)
