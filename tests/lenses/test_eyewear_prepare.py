"""``EyewearLens.prepare``: the glasses' OpenGL drawing begun before the lenses drawn ahead of them, the same
pixels as drawing them in turn."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.scene import Scene
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.results import Face
from tests.lenses.test_eyewear import _lens, _real_face, _synthetic_face


def _drawn(lens, image, faces, scene, prepare: bool) -> np.ndarray:
    out = image.copy()
    if prepare:
        lens.prepare(faces, scene)
        out[:8, :8] = 255  # another lens drawing into out meanwhile: the glasses read the scene, not out
    return lens.render_into(out, list(faces), scene)


def test_a_prepared_drawing_is_the_drawing_in_turn():
    image, face, cam = _real_face("grace_hopper.jpg")
    with _lens(reuse_px=0.0) as in_turn, _lens(reuse_px=0.0) as prepared:
        for shift in (0.0, 3.0):  # two frames: the second redraws (no reuse) into the same lens
            moved = Face(face.landmarks + np.float32([shift, 0, 0]), face.score, face.bbox, face.pose)
            scene = Scene(image, [moved], camera=cam)
            expected = _drawn(in_turn, image, [moved], scene, prepare=False)
            expected[:8, :8] = 255
            got = _drawn(prepared, image, [moved], scene, prepare=True)
            np.testing.assert_array_equal(got, expected)
        assert prepared.gl_draws == in_turn.gl_draws == 2  # prepared once and read back, not drawn twice
        assert len(prepared.drawn_boxes) == 1 and prepared.drawn_boxes[0] is not None


def test_several_faces_and_reused_drawings_come_out_the_same():
    """Two faces: the first is begun in prepare, the second drawn in render_into; on a repeated frame both
    reuse their last drawing and prepare sends nothing."""
    cam = PerspectiveCamera(960, 480)
    frame = np.full((480, 960, 3), 90, np.uint8)
    faces = [_synthetic_face(cam, 10, x_cm=-18, z_cm=-60), _synthetic_face(cam, -10, x_cm=18, z_cm=-50)]
    with _lens() as in_turn, _lens() as prepared:
        for _ in range(2):
            scene = Scene(frame, faces, camera=cam)
            expected = _drawn(in_turn, frame, faces, scene, prepare=False)
            expected[:8, :8] = 255
            np.testing.assert_array_equal(_drawn(prepared, frame, faces, scene, prepare=True), expected)
        assert prepared.gl_draws == in_turn.gl_draws == 2  # two faces drawn once, then reused


def test_a_drawing_prepared_for_another_frame_is_dropped():
    image, face, cam = _real_face("grace_hopper.jpg")
    other = Face(face.landmarks + np.float32([6, 2, 0]), face.score, face.bbox, face.pose)
    with _lens(reuse_px=0.0) as fresh, _lens(reuse_px=0.0) as lens:
        lens.prepare([face], Scene(image, [face], camera=cam))
        scene = Scene(image, [other], camera=cam)
        expected = fresh.render_into(image.copy(), [other], scene)
        np.testing.assert_array_equal(lens.render_into(image.copy(), [other], scene), expected)
        # the same scene with other faces, and a frame drawn with no scene at all
        lens.prepare([face], scene)
        np.testing.assert_array_equal(lens.render_into(image.copy(), [other], scene), expected)
        lens.prepare([other], scene)
        np.testing.assert_array_equal(lens.render(image, [other], cam), fresh.render(image, [other], cam))


def test_prepare_checks_its_inputs():
    image, face, cam = _real_face("grace_hopper.jpg")
    with _lens() as lens:
        with pytest.raises(InputError, match="scene: expected an arlens Scene"):
            lens.prepare([face], cam)
        no_pose = Face(face.landmarks, 1.0, face.bbox)  # identity pose: the tracker never filled it
        with pytest.raises(InputError, match="Face.pose"):
            lens.prepare([no_pose], Scene(image, [no_pose], camera=cam))
        with pytest.raises(InputError, match="faces: expected arlens Face"):
            lens.prepare([object()], Scene(image, [], camera=cam))
        lens.prepare([], Scene(image, [], camera=cam))  # nothing to draw
        assert lens.render_into(image.copy(), [], Scene(image, [], camera=cam)) is not None


def test_a_lens_draws_from_any_thread_and_not_after_close():
    """The lens's OpenGL context lives on its own thread, so a lens made on one thread draws from another
    (a web service's render lanes, a pipelined session) with the same pixels."""
    from concurrent.futures import ThreadPoolExecutor

    image, face, cam = _real_face("grace_hopper.jpg")
    with _lens(reuse_px=0.0) as lens:
        here = lens.render(image, [face], cam)
        with ThreadPoolExecutor(max_workers=2) as pool:
            there = [pool.submit(lens.render, image, [face], cam).result() for _ in range(2)]
        for out in there:
            np.testing.assert_array_equal(out, here)
    lens.close()  # idempotent
    with pytest.raises(InputError, match="used after close"):
        lens.render(image, [face], cam)
