"""The eyewear's OpenGL drawing finishes with the GIL released (so a pipelined session's tracking thread runs)."""

from __future__ import annotations

import numpy as np

from arlens.render.gl import gl_finish_releasing_gil
from arlens.scene import Scene
from tests.lenses.test_eyewear import _lens, _real_face


def test_drawing_finishes_through_ctypes_with_the_same_pixels():
    """What it does for other threads is measured, not tested (benchmarks/bench_kiosk.py, ``submit``)."""
    image, face, cam = _real_face("grace_hopper.jpg")
    with _lens(reuse_px=0.0) as lens:
        assert gl_finish_releasing_gil("egl") is not None, "glFinish not found through libEGL"
        assert gl_finish_releasing_gil("osmesa") is None
        assert lens._renderer._finish is not None
        released = lens.render(image, [face], Scene(image, [face], camera=cam))
        lens._renderer._finish = None  # moderngl waits for the driver itself, holding the GIL
        held = lens.render(image, [face], Scene(image, [face], camera=cam))
        assert np.array_equal(released, held)

