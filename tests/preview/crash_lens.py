"""A lens for the retry tests: drawing it kills the worker process, every time or only the first time.

Registered for the ``blush`` kind in a test registry. The product's ``color_name`` says when it kills
(``"always"`` or ``"once"``) and its ``description`` names a marker file that records the first kill
(shared by all workers, so "once" means once per run).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np

from arlens.lenses.registry import BUILTIN, LensRegistry, LensSpec


class CrashLens:
    def __init__(self, product) -> None:
        self.mode = product.color_name
        self.marker = Path(product.description)
        self.bgr = tuple(int(product.color[i : i + 2], 16) for i in (5, 3, 1))

    def _maybe_die(self) -> None:
        if self.mode == "always" or (self.mode == "once" and not self.marker.exists()):
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)

    def render(self, frame: np.ndarray, faces) -> np.ndarray:
        return self.render_into(frame.copy(), faces)

    def render_into(self, out: np.ndarray, faces) -> np.ndarray:
        self._maybe_die()
        for face in faces:  # a box of the product's colour over each face, so the render is not the photo
            x0, y0, x1, y1 = (int(v) for v in face.bbox)
            out[max(y0, 0) : y1, max(x0, 0) : x1] = self.bgr
        return out


def make_lens(product, *, catalog=None, options=None) -> CrashLens:
    return CrashLens(product)


def registry() -> LensRegistry:
    """arlens' lenses plus the crashing one for ``blush``."""
    return LensRegistry((*BUILTIN, LensSpec("blush", "tests.preview.crash_lens:make_lens", "face")))
