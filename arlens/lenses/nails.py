"""The nail-polish lens: a shade and finish painted on the nail plates of every tracked hand.

Geometry, per finger (thumb included), from the 21 hand landmarks (x, y pixels; z relative depth in
the same pixel scale, as MediaPipe gives it):

- the distal phalanx runs from the DIP joint (the thumb's IP) to the tip; the nail plate is a rounded
  rectangle (a superellipse) on it, centred ``NAIL_CENTER`` of the way from DIP to tip, ``NAIL_LENGTH``
  of that length long and ``NAIL_WIDTH`` of the finger's width wide. The finger width is estimated from
  the spacing of the index and pinky MCPs (three finger widths and a bit), scaled per finger;
- the plate lies on the back of the phalanx: its centre is lifted half a finger width along the
  phalanx's *dorsal normal* and the outline is built in 3D and projected (orthographically, dropping z),
  so a finger pointing at or away from the camera gets a foreshortened nail and a curled finger gets its
  nail past the tip landmark, where it shows;
- the dorsal normal of each distal phalanx is the hand's back normal carried along with the finger's
  flexion: ``s * (l x d)`` with ``l`` the index-MCP -> pinky-MCP axis, ``d`` the DIP -> tip direction
  and the sign ``s`` chosen so that a straight finger's normal is the back of the hand. The back of the
  hand is ``(wrist->index MCP) x (wrist->pinky MCP)`` for MediaPipe's ``'Right'`` and its negative for
  ``'Left'`` (MediaPipe labels the unmirrored image as if it were a selfie: ``'Left'`` is the subject's
  right hand). The thumb's nail faces halfway between that normal and the radial side (pinky -> index);
- a nail is painted only where its normal faces the camera (negative z): fully from a cosine of
  ``min_facing + FACING_RAMP`` and fading out to ``min_facing``, so a palm seen from the front has no
  nails but the curled fingers of a fist seen palm-first do (``pointing.jpg`` in the test data).

The outline is rasterised with ``cv2.fillPoly`` at 4 fractional bits and anti-aliasing, then feathered
by a fraction of the nail width, inside the nail's own small box. Colour goes through the lipstick
shade model (:func:`arlens.render.color.composite_pixels`): the nail's own lightness variation is
kept (so it stays shaded and curved), its chroma and hue become the swatch's, the finish adds a
specular streak along the nail (the ``gloss`` map) and shimmer glints (the ``sparkle`` map), and the
result is blended by ``opacity`` times the coverage. The reference lightness the nail's shading is measured
against is the 75th percentile of its pixels (the lips use the median).

Example:
    >>> lens = NailPolishLens(color="#8E1B2E", finish="gloss")
    >>> out = lens.render(frame, hands)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import cv2
import numpy as np

from arlens.catalog import Finish
from arlens.errors import InputError
from arlens.image import bgr_copy, check_bgr
from arlens.landmarks import FINGERS
from arlens.landmarks import HandLandmark as H
from arlens.render import color as C
from arlens.render import nail_plates as NP
from arlens.render.camera_match import added_blur, blur_reach, glint_gain
from arlens.render.mask import GLOSS, MASK, NUM_MAPS, SPARKLE
from arlens.render.relight import composite_in_light, light_luts
from arlens.scene import Scene
from arlens.scene.hands import HALF_RES_FINGER
from arlens.stats import percentile
from arlens.tracking.results import Hand, as_hands

__all__ = ["NailPolishLens", "NailPolishOptions"]

#: Nail centre along DIP -> tip, nail length, as fractions of the DIP -> tip length (3D).
NAIL_CENTER = 0.74
NAIL_LENGTH = 0.6
#: How much farther along the nail shows on a finger curled back toward the wrist (fraction of DIP ->
#: tip per unit of the cosine between the phalanx and the wrist -> middle MCP direction, when negative):
#: the tip landmark of a curled finger sits on its pad, and the nail shows past it.
CURL_SHIFT = 0.32
#: Nail width as a fraction of the finger's width.
NAIL_WIDTH = 0.56
#: Finger width relative to the mean finger width (index MCP to pinky MCP / 3.2).
FINGER_WIDTH = {"thumb": 1.2, "index": 1.0, "middle": 1.0, "ring": 0.93, "pinky": 0.8}
#: The index-to-pinky MCP span in mean finger widths.
MCP_SPAN_FINGERS = 3.2
#: How far the plate sits above the phalanx's axis, in finger widths (half: the back of the finger).
DORSAL_LIFT = 0.45
#: Cosine range over which a nail fades in as it turns toward the camera.
FACING_RAMP = 0.2
#: Edge softness (Gaussian sigma) as a fraction of the nail width, at least half a pixel.
FEATHER = 0.03
#: The feather's upper bound in pixels (reached by nails over 800 px wide, a hand filling a 4K frame): the
#: blur's cost grows with sigma times the box, and a hand whose landmarks lie far off-frame made it unbounded.
MAX_FEATHER_PX = 24.0
#: The nail's reference lightness (the shade model's ``Lm``) is this percentile of its pixels' L: above
#: the median, so that skin caught inside a loosely placed outline is not taken for a highlight.
REFERENCE_PERCENTILE = 75.0
#: Superellipse exponent of the outline (2 = ellipse, larger = squarer) and its vertex count.
_SQUARENESS = 3.0
_VERTICES = 48
_SHIFT = 4
#: The hand's silhouette is asked for once over the box around all its nails while that box is at most this many
#: times the nails' boxes' area together (:func:`_silhouettes`), else once per nail.
UNION_MAX_AREA = 3.0
#: ... and while the hand's mean finger width is at least this many pixels (see :func:`_silhouettes`).
UNION_MIN_FINGER = 8.0
#: Shimmer glints per nail width.
_SPARKLE_CELLS = 9.0
#: A glint's Gaussian sigma and the mean spacing of the glints, in glint cells (a bump of radius 0.3 cells, on
#: 40% of the cells): what :func:`~arlens.render.camera_match.glint_gain` keeps their peak through a camera's blur by.
_GLINT_SIGMA_CELLS = 0.14
_GLINT_SPACING_CELLS = 1.6


def _unit_number(name: str, value: object, lo: float = 0.0, hi: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= float(value) <= hi:
        raise InputError(f"{name}: expected a number in [{lo:g}, {hi:g}], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class NailPolishOptions:
    """Settings of a :class:`NailPolishLens`, validated when built.

    Attributes:
        color: the polish's swatch, sRGB "#RRGGBB".
        finish: matte, satin, gloss, metallic or shimmer (an :class:`arlens.catalog.Finish` or its value).
        opacity: coverage of the polish, 0 (none) to 1 (opaque).
        follow_image: find the nail plate in the image (on the finger only, on its own finger, over old
            polish); False paints the landmark outline.
        scene_light: show the polish in the frame's light (the scene's, near the hand); False as under
            white light.
        min_facing: how squarely (cosine of the nail's normal with the view direction, -1..1) a nail
            must face the camera before it starts to show; it is fully painted from
            ``min_facing + FACING_RAMP``.
        match_camera: soften the polish's edge, gloss streak and glints as the camera softened the frame (the blur
            the nearest face shows, :attr:`arlens.scene.HandScene.camera_look`; none in a frame without a face), kept
            on the finger, the glints keeping their peak; False draws it as sharp as on a sharp photo.

    Raises:
        InputError: naming the field that is malformed or out of range.
    """

    color: str = "#8E1B2E"
    finish: Finish | str = Finish.GLOSS
    opacity: float = 0.9
    min_facing: float = 0.1
    follow_image: bool = True
    scene_light: bool = True
    match_camera: bool = True

    def __post_init__(self) -> None:
        C.parse_hex(self.color, "color")
        object.__setattr__(self, "finish", C.parse_finish(self.finish, "finish"))
        _unit_number("opacity", self.opacity)
        _unit_number("min_facing", self.min_facing, -1.0, 1.0 - FACING_RAMP)
        for name in ("follow_image", "scene_light", "match_camera"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name}: expected True or False, got {getattr(self, name)!r}")

    @property
    def params(self) -> np.ndarray:
        """The shade's parameter vector, float32 (NUM_PARAMS,), for the shared compositor."""
        return C.shade_params(self.color, self.finish, self.opacity)

    @classmethod
    def from_product(cls, product: Any, **overrides: Any) -> NailPolishOptions:
        """Options for a catalog product: anything with ``color``, ``finish`` (None: gloss) and ``opacity``.

        Raises:
            InputError: when the product has no usable colour.
        """
        color = getattr(product, "color", None)
        if color is None:
            raise InputError(f"product.color: expected a colour as '#RRGGBB', got {color!r}")
        values: dict[str, Any] = dict(
            color=color,
            finish=getattr(product, "finish", None) or Finish.GLOSS,
            opacity=getattr(product, "opacity", 1.0),
        )
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class Nail:
    """One nail plate in image space.

    Attributes:
        finger: the finger's name (a key of :data:`arlens.landmarks.FINGERS`).
        outline: float32 (V, 2) polygon in pixels, cuticle to free edge and back.
        centre: float32 (2,) pixels.
        axis: float32 (2,) the projected cuticle -> free-edge vector (pixels, half the nail's length).
        across: float32 (2,) the projected half-width vector (pixels).
        width: the nail's width in pixels (unprojected).
        facing: 0..1, how much of the polish shows (0: the nail faces away).
    """

    finger: str
    outline: np.ndarray
    centre: np.ndarray
    axis: np.ndarray
    across: np.ndarray
    width: float
    facing: float

    @property
    def aspect(self) -> float:
        """The nail's projected length over its projected width (for square shimmer cells)."""
        return float(np.linalg.norm(self.axis) / max(float(np.linalg.norm(self.across)), 1e-6))


Vec3 = tuple[float, float, float]


def _sub(a: Sequence[float], b: Sequence[float]) -> Vec3:
    """``a - b`` of two 3-vectors as plain floats."""
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def _cross(a: Sequence[float], b: Sequence[float]) -> Vec3:
    """``np.cross`` of two 3-vectors of float64 values as plain floats: the same products and differences (bit for
    bit) without numpy's per-call cost, which was most of a hand's geometry (a dozen 3-vectors a finger)."""
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    """``np.dot`` of two float64 3-vectors as plain floats: the three products summed left to right (what OpenBLAS's
    three-term dot gives on the machines measured; a BLAS that fuses or reorders differs by a few ulps)."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _norm(v: Sequence[float]) -> float:
    """``np.linalg.norm`` of a float64 3-vector: the root of its squares summed left to right (as :func:`_dot`)."""
    return math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


def _unit(v: Sequence[float]) -> Vec3:
    """A float64 3-vector over its length (at least 1e-9), as plain floats: numpy's division of each value."""
    n = max(_norm(v), 1e-9)
    return v[0] / n, v[1] / n, v[2] / n


@cache
def _superellipse() -> np.ndarray:
    """float64 (V, 2) unit outline (s along the nail, t across), -1..1 each."""
    a = np.linspace(0.0, 2 * np.pi, _VERTICES, endpoint=False)
    c, s = np.cos(a), np.sin(a)
    e = 2.0 / _SQUARENESS
    return np.stack([np.sign(c) * np.abs(c) ** e, np.sign(s) * np.abs(s) ** e], axis=1)


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def nail_geometry(hand: Hand, min_facing: float = 0.1) -> list[Nail]:
    """The five nail plates of ``hand`` (fewer when some face away from the camera).

    Args:
        hand: a tracked hand (landmarks float32 (21, 3), pixels).
        min_facing: see :class:`NailPolishOptions`.

    Returns:
        One :class:`Nail` per finger whose nail faces the camera, thumb first.
    """
    p = np.asarray(hand.landmarks, dtype=np.float64)
    if not np.isfinite(p).all():
        return []
    # in plain floats: the same float64 operations, in the same order, as on numpy 3-vectors (at a tenth of the cost)
    q = p.tolist()
    wrist, index_mcp, pinky_mcp = q[H.WRIST], q[H.INDEX_FINGER_MCP], q[H.PINKY_MCP]
    back = _unit(_cross(_sub(index_mcp, wrist), _sub(pinky_mcp, wrist)))
    if hand.handedness == "Left":
        back = (-back[0], -back[1], -back[2])
    lateral = _sub(pinky_mcp, index_mcp)
    span = _norm(lateral)
    if span < 1e-6 or not _norm(back) > 0:
        return []
    lateral = (lateral[0] / span, lateral[1] / span, lateral[2] / span)
    forward = _sub(q[H.MIDDLE_FINGER_MCP], wrist)
    forward_unit = _unit(forward)
    sign = 1.0 if _dot(_cross(lateral, forward), back) >= 0 else -1.0
    mean_width = span / MCP_SPAN_FINGERS
    unit = _superellipse()
    nails = []
    for finger, (tip, dip, _) in FINGERS.items():
        d = _sub(q[tip], q[dip])
        length = _norm(d)
        if length < 1e-6:
            continue
        d = (d[0] / length, d[1] / length, d[2] / length)
        c = _cross(lateral, d)
        normal = _unit((sign * c[0], sign * c[1], sign * c[2]))
        if finger == "thumb":  # the thumb is turned about its axis, its nail facing partly radially
            medial = (-lateral[0], -lateral[1], -lateral[2])
            k = _dot(medial, d)
            radial = _unit((medial[0] - k * d[0], medial[1] - k * d[1], medial[2] - k * d[2]))
            normal = _unit((normal[0] + radial[0], normal[1] + radial[1], normal[2] + radial[2]))
        facing = _smoothstep((-normal[2] - min_facing) / FACING_RAMP)
        if facing <= 0.0:
            continue
        across3 = _unit(_cross(normal, d))
        width = NAIL_WIDTH * FINGER_WIDTH[finger] * mean_width
        along = NAIL_CENTER + CURL_SHIFT * max(0.0, -_dot(d, forward_unit))
        # (the x and y of each: the plate is projected by dropping z)
        step, lift = along * length, DORSAL_LIFT * FINGER_WIDTH[finger] * mean_width
        centre = np.array([q[dip][i] + step * d[i] + lift * normal[i] for i in (0, 1)])
        half_len = np.array([d[0], d[1]]) * (NAIL_LENGTH * length / 2)
        half_wid = np.array([across3[0], across3[1]]) * (width / 2)
        outline = centre + unit[:, :1] * half_len + unit[:, 1:] * half_wid
        nails.append(
            Nail(
                finger=finger,
                outline=outline.astype(np.float32),
                centre=centre.astype(np.float32),
                axis=half_len.astype(np.float32),
                across=half_wid.astype(np.float32),
                width=width,
                facing=facing,
            )
        )
    return nails


def _hash(x: np.ndarray) -> np.ndarray:
    """lowbias32 integer hash, elementwise on uint32."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> np.uint32(16))


def _nail_maps(
    nail: Nail, box: tuple[int, int, int, int], mask: np.ndarray, rows: np.ndarray, cols: np.ndarray, finish: Finish,
    blur: float = 0.0,
) -> np.ndarray:
    """float32 (n, NUM_MAPS) compositor maps of one nail at the n pixels (``rows``, ``cols``) of its box that it
    paints: coverage (``mask``, their values), gloss streak, sparkle. Each pixel gets the value it has on the whole
    box's grid (the same float32 operations on it), only the painted pixels are worked out. ``blur``: the camera's
    added blur (pixels), which softens the streak and the glints as it softened the plate they lie on (worked out
    over the whole box, then taken at the pixels), the glints keeping their peak as the lipstick's do
    (:func:`~arlens.render.camera_match.glint_gain`)."""
    x0, y0, x1, y1 = box
    maps = np.zeros((len(mask), NUM_MAPS), dtype=np.float32)
    maps[:, MASK] = mask
    params = C.FINISH_PARAMS[finish]
    specular, sparkle = params[4], params[6]
    if specular <= 0 and sparkle <= 0:
        return maps
    if blur > 0.0:
        h, w = y1 - y0, x1 - x0
        whole_rows, whole_cols = np.divmod(np.arange(h * w), w)
        whole = _nail_maps(nail, box, np.ones(h * w, np.float32), whole_rows, whole_cols, finish)
        for k in (GLOSS, SPARKLE):
            if whole[:, k].any():
                soft = cv2.GaussianBlur(np.ascontiguousarray(whole[:, k]).reshape(h, w), (0, 0), blur,
                                        borderType=cv2.BORDER_REPLICATE)
                if k == SPARKLE:  # a glint is far brighter than white: a soft camera shows it larger, not dimmer
                    cell = float(nail.width) / _SPARKLE_CELLS
                    soft *= np.float32(glint_gain(_GLINT_SIGMA_CELLS * cell, blur, _GLINT_SPACING_CELLS * cell))
                maps[:, k] = soft[rows, cols]
        return maps
    # nail-local coordinates: s along the nail (-1 cuticle .. 1 free edge), t across (-1..1), from a row of x and
    # a column of y (each product once per column or row, then taken at the pixels)
    rel_x = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5) - nail.centre[0]
    rel_y = np.arange(y0, y1, dtype=np.float32) + np.float32(0.5) - nail.centre[1]
    (ax, cx), (ay, cy) = zip(nail.axis.tolist(), nail.across.tolist(), strict=True)
    basis = np.array([[ax, cx], [ay, cy]], dtype=np.float64)  # columns: axis, across
    if abs(np.linalg.det(basis)) < 1e-6:
        return maps
    inv = np.linalg.inv(basis).astype(np.float32)
    s = (inv[0, 0] * rel_x)[cols]
    s += (inv[0, 1] * rel_y)[rows]
    t = (inv[1, 0] * rel_x)[cols]
    t += (inv[1, 1] * rel_y)[rows]
    if specular > 0:  # a lengthwise highlight off the nail's crown, as on a curved lacquered plate
        g = ((t + np.float32(0.3)) / np.float32(0.18)) ** 2 + (s / np.float32(0.75)) ** 4
        maps[:, GLOSS] = np.exp(-0.5 * g)
    if sparkle > 0:
        cells = np.float32(_SPARKLE_CELLS / 2)
        gu, gv = s * cells * np.float32(nail.aspect) + 512, t * cells + 512
        iu, iv = np.floor(gu), np.floor(gv)
        key = iu.astype(np.uint32) * np.uint32(0x9E3779B1) ^ iv.astype(np.uint32) * np.uint32(0x85EBCA77)
        hashed = _hash(key)
        on = (hashed & np.uint32(0xFFFF)).astype(np.float32) < np.float32(0.4 * 65536)
        fu, fv = gu - iu - np.float32(0.5), gv - iv - np.float32(0.5)
        bump = (np.float32(1.0) - (fu * fu + fv * fv) / np.float32(0.09)).clip(0.0, 1.0)
        maps[:, SPARKLE] = bump * bump * on
    return maps


def _silhouettes(hs: Any, boxes: list[tuple[int, int, int, int]]) -> Callable[[tuple[int, int, int, int]], np.ndarray]:
    """The hand's refined silhouette over each of ``boxes`` (its nails' boxes) from one scene mask over the box
    around them all, not one per nail: the refinement's per-call work (the landmark silhouette drawn, two distance
    transforms) is most of what a nail's small box costs.

    The mask is read only as ``> 0.5``, and that is the same either way: a pixel's value depends on its box only
    through the distances to the landmark outline measured inside the box and a margin (0.6 finger widths and 2
    px, :func:`arlens.scene.hands.hand_mask`), and where they could differ (that far out, less the 3x3 blur's pixel)
    the prior's log-odds, at least ``10 - 16.7 / width`` (``EDGE_SCALE``), outweigh any colour evidence
    (``COLOR_WEIGHT x COLOR_CLIP`` = 7.2) for a finger ``UNION_MIN_FINGER`` px wide or more: both are on the same
    side of 0.5. Not so on a close-up's hand (finger width ``HALF_RES_FINGER`` and more), whose distances are
    measured at half resolution on a grid anchored at the box: there, on thinner fingers, and where the box
    around all is much larger than the nails' boxes together, each nail asks for its own.
    """
    if len(boxes) < 2 or not UNION_MIN_FINGER <= hs.finger_width < HALF_RES_FINGER:
        return hs.mask
    ux0, uy0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    ux1, uy1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    if (ux1 - ux0) * (uy1 - uy0) > UNION_MAX_AREA * sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes):
        return hs.mask
    whole = hs.mask((ux0, uy0, ux1, uy1))
    return lambda b: whole[b[1] - uy0 : b[3] - uy0, b[0] - ux0 : b[2] - ux0]


class NailPolishLens:
    """Paints a nail-polish shade on the nails of every hand in a frame.

    Args:
        options: the shade; keyword arguments build one instead (``NailPolishLens(color="#8E1B2E")``)
            or override fields of ``options``.

    Raises:
        InputError: when an option is malformed (raised here, once, not per frame).
    """

    def __init__(self, options: NailPolishOptions | None = None, **kwargs: Any) -> None:
        if options is None:
            options = NailPolishOptions(**kwargs)
        elif kwargs:
            options = replace(options, **kwargs)
        if not isinstance(options, NailPolishOptions):
            raise InputError(f"options: expected NailPolishOptions, got {type(options).__name__}")
        self.options = options
        self._params = options.params
        # one shade, as the compositor's (1, NUM_PARAMS) rows: validated here, once, not per nail
        self._shade = np.asarray(self._params, dtype=np.float32).reshape(1, C.NUM_PARAMS)
        self._drawn: tuple[np.ndarray | None, ...] = ()

    @classmethod
    def from_product(cls, product: Any, **overrides: Any) -> NailPolishLens:
        """A lens for a catalog product (``arlens.Product`` or anything with color/finish/opacity)."""
        return cls(NailPolishOptions.from_product(product, **overrides))

    # --- lifetime: nothing to release, but used like every other lens (``with ... as lens``) ----------------
    def close(self) -> None:
        """Release what the lens holds (nothing today: the polish is drawn with numpy and OpenCV); idempotent."""

    def __enter__(self) -> NailPolishLens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def drawn_boxes(self) -> tuple[np.ndarray | None, ...]:
        """Per hand of the last ``render``/``render_into`` call (in the order given): float32 (4,) x0, y0, x1, y1
        around every pixel the polish changed on that hand, or None where no nail faced the camera."""
        return self._drawn

    def nails(self, hand: Hand) -> list[Nail]:
        """The nail plates this lens paints on ``hand``."""
        return nail_geometry(hand, self.options.min_facing)

    def render(self, frame: np.ndarray, hands: Hand | Iterable[Hand], scene: Scene | None = None) -> np.ndarray:
        """Return a copy of ``frame`` with the polish on the nails of each hand.

        Args:
            frame: uint8 BGR (H, W, 3) or another form :mod:`arlens.image` accepts (grey, BGRA); not modified.
            hands: the hands tracked in ``frame`` (a single Hand is accepted too).
            scene: the frame's :class:`~arlens.scene.Scene` (built before any lens drew); None builds
                one from ``frame``.

        Returns:
            uint8 BGR (H, W, 3), a new array.

        Raises:
            InputError: when ``frame`` is not a uint8 (H, W, 3) array, ``hands`` holds something else
                than :class:`Hand` values, or the scene is of another frame size.
        """
        frame = bgr_copy(frame, "frame")
        hands = as_hands(hands)
        return self.render_into(frame, hands, Scene.ensure(scene, frame, hands=hands))

    def render_into(
        self, out: np.ndarray, hands: Hand | Iterable[Hand], scene: Scene | None = None
    ) -> np.ndarray:
        """Paint the polish on the nails of each hand directly into ``out`` (uint8 BGR, modified); returns it.

        What :meth:`render` does without the copy, for pipelines that own their frame buffer.

        Raises:
            InputError: ``out`` is not a writeable uint8 (H, W, 3) array, ``hands`` holds something
                else than :class:`Hand` values, or the scene is of another frame size.
        """
        out = check_bgr(out, "out", writeable=True)
        hands = as_hands(hands)
        scene = Scene.ensure(scene, out, hands=hands)
        # everything read from the scene first: when it was built from ``out`` itself, drawing comes last
        work = []
        for i, hand in enumerate(hands):
            hs = scene.hand(hand)
            nails = self.nails(hand)
            if not nails:
                work.append((i, [], None, 0.0))
                continue
            # what every nail of the hand shares, worked out once: its landmarks and fingers' half widths
            lm = np.asarray(hand.landmarks, dtype=np.float64)
            radii = NP.finger_radii(hs.finger_width, FINGER_WIDTH) if self.options.follow_image else None
            nails = [self._seat(scene, hs, nail, lm) for nail in nails]
            blur = added_blur(hs.camera_look) if self.options.match_camera else 0.0
            placed = [self._box(nail, scene.frame.shape, blur) for nail, _ in nails]
            silhouette = _silhouettes(hs, [at[0] for at in placed if at is not None]) if self.options.follow_image \
                else None
            plates = [None if at is None else self._plate(scene, hs, nail, sides, radii, at, silhouette, blur)
                      for (nail, sides), at in zip(nails, placed, strict=True)]
            nails = [nail for nail, _ in nails]
            gains = hs.light.gains if self.options.scene_light and plates else None
            work.append((i, [(n, p) for n, p in zip(nails, plates, strict=True) if p is not None], gains, blur))
        drawn: list[np.ndarray | None] = [None] * len(hands)
        for i, plates, gains, blur in work:
            # the light's two tables once per hand, not per nail (None: white light, nothing to take out)
            luts = light_luts(gains, 3) if gains is not None and plates else None
            boxes = [b for b in (self._paint(out, nail, plate, luts, blur) for nail, plate in plates) if b is not None]
            drawn[i] = np.array([min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                                 max(b[3] for b in boxes)], np.float32) if boxes else None
        self._drawn = tuple(drawn)
        return out

    def _seat(
        self, scene: Scene, hs: Any, nail: Nail, lm: np.ndarray
    ) -> tuple[Nail, tuple[np.ndarray, float, float] | None]:
        """The nail moved onto the middle of its finger as the image shows it (:func:`~arlens.render.nail_plates.
        finger_sides`), and the sides it must keep inside (across direction, left, right, from the moved
        centre); the nail as it was and None when the image shows no clear sides (or it is not followed).
        ``lm``: the hand's landmarks as float64."""
        if not self.options.follow_image:
            return nail, None
        tip, dip, _ = FINGERS[nail.finger]
        direction = lm[tip, :2] - lm[dip, :2]
        radius = 0.5 * hs.finger_width * FINGER_WIDTH[nail.finger]
        found = NP.finger_sides(scene.frame, nail.centre, direction, float(np.linalg.norm(nail.axis)), radius)
        if found is None:
            return nail, None
        left, right = found
        d = direction / max(float(np.linalg.norm(direction)), 1e-9)
        across = np.array([-d[1], d[0]])
        shift = min(max(0.5 * (left + right), -NP.MAX_SHIFT * radius), NP.MAX_SHIFT * radius)  # (finite floats)
        offset = (shift * across).astype(np.float32)
        moved = replace(nail, outline=nail.outline + offset, centre=nail.centre + offset)
        return moved, (across, left - shift, right - shift)

    @staticmethod
    def _box(nail: Nail, shape: tuple[int, ...], blur: float = 0.0) -> tuple[tuple[int, int, int, int], float] | None:
        """The frame pixels (x0, y0, x1, y1) a nail's polish may reach (its search outline and the reach of the feather
        and of the camera's ``blur``) and the feather's sigma; None when they lie off the frame."""
        sigma = min(max(FEATHER * nail.width, 0.5), MAX_FEATHER_PX)
        pad = math.ceil(3 * sigma) + blur_reach(blur) + 2
        # the float32 mean, the search outline and its extent as before, without numpy's wrappers (the extent's
        # float32 values are floored and ceiled as plain floats: the same integers)
        c = np.add.reduce(nail.outline, axis=0) / np.float32(len(nail.outline))
        search = c + (nail.outline - c) * np.float32(NP.SEARCH_SCALE)
        lo_x, lo_y = np.minimum.reduce(search, axis=0).tolist()
        hi_x, hi_y = np.maximum.reduce(search, axis=0).tolist()
        height, width = shape[:2]
        x0, y0 = max(math.floor(lo_x) - pad, 0), max(math.floor(lo_y) - pad, 0)
        x1, y1 = min(math.ceil(hi_x) + pad + 1, width), min(math.ceil(hi_y) + pad + 1, height)
        if x1 <= x0 or y1 <= y0:
            return None
        return (x0, y0, x1, y1), sigma

    def _plate(
        self, scene: Scene, hs: Any, nail: Nail, sides: tuple[np.ndarray, float, float] | None = None,
        radii: dict[str, float] | None = None, placed: tuple[tuple[int, int, int, int], float] | None = None,
        silhouette: Callable[[tuple[int, int, int, int]], np.ndarray] | None = None, blur: float = 0.0,
    ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
        """The nail's box and where its polish goes there (float32 (h, w) 0..1), from the unrendered frame;
        kept between the finger's ``sides`` when they were found. ``radii``: the hand's
        :func:`~arlens.render.nail_plates.finger_radii`, ``placed``: the nail's :meth:`_box`, ``silhouette``: the
        hand's refined mask over a box (default ``hs.mask``), when the caller has them. ``blur``: the camera's blur
        beyond a sharp frame's (:func:`~arlens.render.camera_match.added_blur`): the plate is softened by it and
        kept where it was allowed before (on the hand, between the finger's sides, off other hands)."""
        if placed is None:
            placed = self._box(nail, scene.frame.shape)
            if placed is None:
                return None
        box, sigma = placed
        x0, y0, x1, y1 = box
        if not self.options.follow_image:
            cover = NP.outline_coverage(nail.outline, box, sigma)
            if blur > 0.0:
                cover = cv2.GaussianBlur(cover, (0, 0), blur, borderType=cv2.BORDER_CONSTANT)
            return box, cover
        if radii is None:
            radii = NP.finger_radii(hs.finger_width, FINGER_WIDTH)
        mask = (silhouette or hs.mask)(box)
        plate = NP.nail_plate(
            scene.frame[y0:y1, x0:x1], box, nail.outline, sigma, hs.hand.landmarks, nail.finger, radii, mask,
            hs.colors.hand,
        )
        keep: list[np.ndarray] = []
        if sides is not None:
            keep.append(NP.side_band(box, nail.centre, *sides))
        person = scene.person(box)
        if person is not None:  # a scene with a person mask: nothing on the background beside a finger
            keep.append(np.clip((person - np.float32(0.3)) * np.float32(1.0 / 0.4), 0.0, 1.0))
        occluded = hs.occlusion(box)  # another hand in front
        if occluded.any():
            keep.append(np.float32(1.0) - occluded)
        for k in keep:
            plate = plate * k
        if blur > 0.0 and plate.any():
            # as soft as the fingers around it, and still only on them
            plate = cv2.GaussianBlur(plate, (0, 0), blur, borderType=cv2.BORDER_CONSTANT)
            plate *= (mask > 0.5).astype(np.float32)
            for k in keep:
                plate *= k
        return box, plate

    def _paint(
        self, out: np.ndarray, nail: Nail, plate: tuple[tuple[int, int, int, int], np.ndarray],
        luts: tuple[np.ndarray, np.ndarray] | None, blur: float = 0.0,
    ) -> tuple[int, int, int, int] | None:
        """Composite one nail into ``out`` in place, touching only the nail's box; the box of the pixels painted.
        ``luts``: the hand's light (:func:`~arlens.render.relight.light_luts`), None for white light; ``blur``: the
        camera's added blur, given to the gloss streak and glints (:func:`_nail_maps`)."""
        box, coverage = plate
        x0, y0, x1, y1 = box
        mask = coverage * np.float32(nail.facing)
        index = np.flatnonzero(mask > 1e-3)
        if index.size == 0:
            return None
        rows, cols = np.divmod(index, x1 - x0)  # ascending flat indices: first and last rows are the extremes
        nail_maps = _nail_maps(nail, box, mask.reshape(-1)[index], rows, cols, self.options.finish, blur)
        roi = out[y0:y1, x0:x1].reshape(-1, 3)
        px = np.take(roi, index, axis=0)
        inside = nail_maps[:, MASK] > 0.5 * nail.facing

        def composite(p: np.ndarray) -> np.ndarray:
            light = C.bgr_to_lightness(p[inside] if inside.any() else p)
            reference = percentile(light, REFERENCE_PERCENTILE)
            # the checked compositor's work without its per-call checks (the shade was checked once; the maps are
            # this lens's own, with no liner: a nail has none)
            return C.composite_checked(p, nail_maps, self._shade, reference, liner=False)

        painted = composite_in_light(px, None, composite, luts)[0]
        roi[index] = painted
        out[y0:y1, x0:x1] = roi.reshape(y1 - y0, x1 - x0, 3)
        return x0 + int(cols.min()), y0 + int(rows[0]), x0 + int(cols.max()) + 1, y0 + int(rows[-1]) + 1
