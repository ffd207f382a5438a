"""The eyewear lens reuses its last OpenGL drawing of a face while the glasses move less than ``reuse_px``."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.lenses.eyewear import EyewearOptions
from arlens.scene import Scene
from arlens.tracking.pose import estimate_pose
from arlens.tracking.results import Face, bbox_of
from tests.lenses.test_eyewear import _lens, _real_face


def _shifted(face: Face, dx: float, cam) -> Face:
    lm = face.landmarks.copy()
    lm[:, 0] += dx
    return Face(lm, face.score, bbox_of(lm), estimate_pose(lm, cam))


def test_the_same_face_reuses_its_drawing_with_the_same_pixels():
    image, face, cam = _real_face("grace_hopper.jpg")
    reusing, drawing = _lens(), _lens(reuse_px=0.0)
    with reusing, drawing:
        first = reusing.render(image, [face], Scene(image, [face], camera=cam))
        again = reusing.render(image, [face], Scene(image, [face], camera=cam))
        assert reusing.gl_draws == 1, "the second frame was drawn again"
        fresh = [drawing.render(image, [face], Scene(image, [face], camera=cam)) for _ in range(2)]
        assert drawing.gl_draws == 2
    assert np.array_equal(first, again) and np.array_equal(first, fresh[0]) and np.array_equal(first, fresh[1])


def test_a_face_that_moves_or_a_light_that_changes_is_drawn_again():
    image, face, cam = _real_face("grace_hopper.jpg")
    with _lens() as lens, _lens(reuse_px=0.0) as fresh:
        def render(img, f, which=lens):
            return which.render(img, [f], Scene(img, [f], camera=cam))

        render(image, face)
        still = render(image, _shifted(face, 0.1, cam))  # a tenth of a pixel: the drawing is reused
        assert lens.gl_draws == 1
        # what reuse costs: the glasses a tenth of a pixel from where they are; against drawing them anew
        diff = np.abs(still.astype(int) - render(image, _shifted(face, 0.1, cam), fresh).astype(int))
        assert diff.mean() < 0.05 and np.percentile(diff, 99.9) <= 12
        render(image, _shifted(face, 1.0, cam))  # a pixel: drawn again
        assert lens.gl_draws == 2
        darker = (image * 0.7).astype(np.uint8)  # the same face in less light: drawn again
        render(darker, _shifted(face, 1.0, cam))
        assert lens.gl_draws == 3


def test_each_face_keeps_its_own_drawing():
    image, face, cam = _real_face("grace_hopper.jpg")
    other = _shifted(face, -40.0, cam)
    with _lens() as lens:
        for _ in range(3):
            lens.render(image, [face, other], Scene(image, [face, other], camera=cam))
        assert lens.gl_draws == 2


def test_reuse_px_is_checked():
    for bad in (-0.1, 3.0, True, "1"):
        with pytest.raises(InputError, match="reuse_px"):
            EyewearOptions(reuse_px=bad)
