"""The Lens protocol: what every product lens (lipstick, eyewear, nails, ...) offers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from arlens.tracking.results import Face

if TYPE_CHECKING:
    from arlens.scene import Scene


@runtime_checkable
class Lens(Protocol):
    """Renders a product on tracked faces, like an annotator: style set in the constructor, no I/O.

    ``render`` takes a uint8 BGR (H, W, 3) frame and the faces (or hands) tracked in it and returns a
    new frame of the same shape with the product drawn; it never modifies its input. ``render_into``
    draws into the frame it is given instead (no copy), so a chain of lenses copies the frame once.

    Optionally, a lens reports where it drew: ``drawn_boxes``, a tuple with one entry per face (or hand)
    of the last ``render``/``render_into`` call, in the order given: a float32 (4,) x0, y0, x1, y1 box
    around every pixel it changed there, or None where it drew nothing. :class:`~arlens.session.TryOn`
    makes each hotspot's box from it (arlens' own lenses all report it); without it the session falls
    back to the box of the landmarks the product is worn on.

    Both take the frame's :class:`~arlens.scene.Scene` (occluders, light, colour models, camera), built
    once per frame from the unrendered frame and shared by every lens; a lens given none builds what it
    needs itself (``Scene.ensure``), so ``lens.render(image, faces)`` keeps working. A lens may say what
    it reads from the scene in a ``scene_uses`` attribute (a set of names, e.g. ``{"occluders"}``): the
    session tracks hands for a lens that uses occluders.
    """

    def render(self, frame: np.ndarray, faces: Sequence[Face], scene: Scene | None = None) -> np.ndarray:
        """Return a copy of ``frame`` with the lens drawn on every face in ``faces``."""
        ...

    def render_into(self, out: np.ndarray, faces: Sequence[Face], scene: Scene | None = None) -> np.ndarray:
        """Draw the lens on every face in ``faces`` into ``out`` itself and return it."""
        ...
