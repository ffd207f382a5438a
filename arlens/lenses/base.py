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

    Optionally, a lens class draws several of its lenses at once: a classmethod
    ``render_group(lenses, out, faces, scene=None)`` that draws them into ``out`` in the order given, as calling
    each one's ``render_into`` in turn would (sharing work between them), and sets each one's ``drawn_boxes``.
    :class:`~arlens.session.TryOn` hands it every run of consecutive lenses of that class that draw on the same
    targets (:func:`groups`); each lens still works on its own.

    Optionally, a lens whose drawing runs off the caller's thread (the eyewear's OpenGL drawing on a CPU
    rasteriser's threads) offers ``prepare(faces, scene)``: :class:`~arlens.session.TryOn` calls it with the
    frame's scene before drawing any lens of the frame, so that drawing overlaps the lenses drawn before it,
    and then calls ``render_into`` with the same scene and targets as usual. It changes nothing drawn.
    """

    def render(self, frame: np.ndarray, faces: Sequence[Face], scene: Scene | None = None) -> np.ndarray:
        """Return a copy of ``frame`` with the lens drawn on every face in ``faces``."""
        ...

    def render_into(self, out: np.ndarray, faces: Sequence[Face], scene: Scene | None = None) -> np.ndarray:
        """Draw the lens on every face in ``faces`` into ``out`` itself and return it."""
        ...


def takes_scene(lens: object, method: str = "render_into") -> bool:
    """Whether ``lens``'s ``method`` (``"render_into"`` or ``"render"``) accepts a ``scene`` keyword: a plugin
    written before the scene layer may not, and is then called without one."""
    import inspect

    try:
        params = inspect.signature(getattr(lens, method)).parameters
    except (TypeError, ValueError, AttributeError):
        return False
    return "scene" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def groups(lenses: Sequence[tuple[object, object]]) -> dict[int, list[object]]:
    """Runs of lenses that can be drawn in one call: consecutive lenses (in drawing order) of one class that has a
    ``render_group`` classmethod and the same targets.

    Args:
        lenses: ``(lens, targets)`` of every lens drawing in this frame, in drawing order; ``targets`` is compared
            by identity (the session's faces or hands).

    Returns:
        ``id(lens) -> the lenses of its run`` for every lens in a run of two or more (drawn by the run's first
        lens's class: ``type(run[0]).render_group(run, out, targets, scene=scene)``).
    """
    out: dict[int, list[object]] = {}
    run: list[object] = []
    key: tuple[type, int] | None = None
    for lens, targets in [*lenses, (None, None)]:
        k = (type(lens), id(targets)) if lens is not None and callable(getattr(type(lens), "render_group", None)) \
            else None
        if k is not None and k == key:
            run.append(lens)
            continue
        if len(run) > 1:
            for member in run:
                out[id(member)] = run
        run, key = ([lens], k) if k is not None else ([], None)
    return out
