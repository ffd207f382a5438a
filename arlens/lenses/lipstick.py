"""The lipstick lens: a shade, finish and optional liner painted on the lips of every tracked face.

Only the lips' bounding box is processed. The geometry (mask, liner band, gloss and shimmer maps) is a
pure function of the landmarks (:mod:`arlens.render.mask`); what covers the lips (a hand) comes from the
frame's :class:`~arlens.scene.Scene` and is not painted, the shade is composited in the scene's light
(:mod:`arlens.render.relight`), and its change is blurred as the camera blurred the frame (the scene's camera
look; the glints keep their peak, :func:`arlens.render.camera_match.glint_gain`); the colour model is
:func:`arlens.render.color.composite_lipstick`, run either by numpy/OpenCV (``backend="numpy"``, the
reference) or by an ONNX graph in ONNX Runtime (``backend="onnx"``, CPU or CUDA), which also renders a
whole product line in one run (:meth:`LipstickLens.render_shades`).

Example:
    >>> lens = LipstickLens(LipstickOptions(color="#A4161A", finish="gloss", opacity=0.9))
    >>> out = lens.render(frame, faces)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from arlens.catalog import Finish
from arlens.errors import InputError
from arlens.image import as_bgr, bgr_copy, check_bgr
from arlens.render import color as C
from arlens.render import mask as M
from arlens.render.camera_match import added_blur, blur_reach, glint_gain
from arlens.render.lip_edges import refine_painted
from arlens.render.relight import composite_in_light
from arlens.scene import Scene
from arlens.tracking.results import Face

logger = logging.getLogger(__name__)

BACKENDS = ("numpy", "onnx")
#: Product kinds this lens renders.
LIP_KINDS = ("lipstick", "lip_liner")
_WHITE = np.ones(3, dtype=np.float32)
#: Paint keeps two pixels off an occluder's matte (a 5x5 disc): the matte is a pixel or two off at worst,
#: and paint on a finger shows more than a hair of bare lip beside it.
_MARGIN_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
#: Occluder coverage up to which a lip pixel is painted in full, and from which it is not painted at all.
VISIBLE, OCCLUDED = 0.05, 0.3
#: Liner band width (fraction of the mouth width) used for a lip_liner product.
DEFAULT_LINER_WIDTH = 0.03


def uncovered(covered: np.ndarray) -> np.ndarray:
    """float32 like ``covered`` (how much occluders cover each pixel or cell): how much of a lens's change it keeps,
    all at ``VISIBLE`` or less, none from ``OCCLUDED``, eased between (smoothstep); the make-up lenses' rule too."""
    t = np.clip((covered - np.float32(VISIBLE)) * np.float32(1.0 / (OCCLUDED - VISIBLE)), 0.0, 1.0)
    return np.float32(1.0) - t * t * (np.float32(3.0) - np.float32(2.0) * t)


def _unit(name: str, value: object, hi: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= hi:
        raise InputError(f"{name}: expected a number in [0, {hi:g}], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class LipstickOptions:
    """Settings of a :class:`LipstickLens`, validated when built.

    Attributes:
        color: the shade's swatch, sRGB "#RRGGBB".
        finish: matte, satin, gloss, metallic or shimmer (an :class:`arlens.catalog.Finish` or its value).
        opacity: coverage of the colour layer, 0 (none) to 1 (opaque pigment).
        liner_color: lip-liner colour "#RRGGBB", or None for no liner.
        liner_width: liner band width as a fraction of the mouth width, 0 to 0.1 (0.03 is a fine line).
        liner_opacity: coverage of the liner inside its band, 0 to 1.
        feather: softness of the lip edge as a fraction of the mouth width, 0 to 0.05.
        style: ``"full"`` (one colour, with the liner if any), ``"ombre"`` (``secondary_color`` rising
            from the lips' outer edge to the mouth's line) or ``"two_tone"`` (``secondary_color`` on the
            upper lip). A style's second colour takes the liner's place: no liner with a style.
        secondary_color: the style's second colour "#RRGGBB" (required by "ombre" and "two_tone").
        refine_edges: follow the lips' edges in the image (the face's lip and skin colours refine the
            landmark outline: no paint on the chin, on teeth or on a finger, none missing up to the
            teeth); False paints the landmark outline.
        scene_light: show the shade in the frame's light (the scene's :class:`~arlens.scene.Light`: a dim
            or warm frame gets a dim or warm shade); False paints the swatch as under white light.
        occluders: leave unpainted what covers the lips (the scene's hands and foreign objects,
            :meth:`arlens.scene.FaceScene.occlusion`); False paints over them (with ``refine_edges``,
            ``scene_light`` and ``match_camera`` off too: the landmark lens of before the scene).
        match_camera: soften the paint's edges by the camera's blur (the scene's
            :attr:`~arlens.scene.FaceScene.camera_look`, measured by the eye: a webcam's 720p face is blurred by
            1-2 px), as the frame's own lip edges are; False keeps them as sharp as on a crisp photo.
        backend: "numpy" (OpenCV on the CPU, the reference) or "onnx" (ONNX Runtime).
        providers: ONNX Runtime execution providers for the onnx backend (None: CUDA if available, else CPU).

    Raises:
        InputError: naming the field that is malformed or out of range.
    """

    color: str = "#B0304A"
    finish: Finish | str = Finish.SATIN
    opacity: float = 0.85
    liner_color: str | None = None
    liner_width: float = 0.0
    liner_opacity: float = 1.0
    feather: float = M.DEFAULT_FEATHER
    style: str = "full"
    secondary_color: str | None = None
    refine_edges: bool = True
    scene_light: bool = True
    occluders: bool = True
    match_camera: bool = True
    backend: str = "numpy"
    providers: tuple[str, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        C.parse_hex(self.color, "color")
        object.__setattr__(self, "finish", C.parse_finish(self.finish, "finish"))
        _unit("opacity", self.opacity)
        if self.liner_color is not None:
            C.parse_hex(self.liner_color, "liner_color")
        _unit("liner_width", self.liner_width, 0.1)
        _unit("liner_opacity", self.liner_opacity)
        _unit("feather", self.feather, 0.05)
        if self.style not in M.STYLES:
            raise InputError(f"style: expected one of {', '.join(M.STYLES)}, got {self.style!r}")
        if self.secondary_color is not None:
            C.parse_hex(self.secondary_color, "secondary_color")
        if self.style != "full":
            if self.secondary_color is None:
                raise InputError(f"secondary_color: expected a colour as '#RRGGBB' for style {self.style!r}, got None")
            if self.liner_color is not None and self.liner_width > 0:
                raise InputError(f"liner_color: a {self.style!r} lip uses the liner's place for its second colour; "
                                 "expected no liner")
        for name in ("refine_edges", "scene_light", "occluders", "match_camera"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name}: expected True or False, got {getattr(self, name)!r}")
        if self.backend not in BACKENDS:
            raise InputError(f"backend: expected one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.providers is not None:
            if isinstance(self.providers, str) or not all(isinstance(p, str) for p in self.providers):
                raise InputError(f"providers: expected a sequence of provider names, got {self.providers!r}")
            object.__setattr__(self, "providers", tuple(self.providers))

    @property
    def params(self) -> np.ndarray:
        """The shade's parameter vector, float32 (NUM_PARAMS,), as the compositors take it."""
        if self.style != "full":  # the style's second colour rides in the liner's parameters
            return C.shade_params(self.color, self.finish, self.opacity, liner_color=self.secondary_color,
                                  liner_opacity=self.opacity)
        has_liner = self.liner_color is not None and self.liner_width > 0
        return C.shade_params(
            self.color,
            self.finish,
            self.opacity,
            liner_color=self.liner_color if has_liner else None,
            liner_opacity=self.liner_opacity,
        )

    @classmethod
    def from_product(cls, product: Any, **overrides: Any) -> LipstickOptions:
        """Options for a catalog product: anything with ``color``, ``finish``, ``opacity`` and ``kind``.

        A ``lipstick`` paints the whole lips; a ``lip_liner`` paints only a band along the outer contour.
        A missing finish (None) means satin. ``overrides`` set any other option (backend, providers, ...).

        Raises:
            InputError: when the product is not a lip product or lacks a usable colour.
        """
        kind = getattr(product, "kind", "lipstick")
        kind = str(getattr(kind, "value", kind))
        if kind not in LIP_KINDS:
            raise InputError(f"product.kind: expected one of {', '.join(LIP_KINDS)}, got {kind!r}")
        color = getattr(product, "color", None)
        if color is None:
            raise InputError(f"product.color: expected a colour as '#RRGGBB', got {color!r}")
        finish = getattr(product, "finish", None) or Finish.SATIN
        opacity = getattr(product, "opacity", 1.0)
        if kind == "lip_liner":
            values: dict[str, Any] = dict(
                color=color,
                finish=finish,
                opacity=0.0,
                liner_color=color,
                liner_width=DEFAULT_LINER_WIDTH,
                liner_opacity=opacity,
            )
        else:
            values = dict(color=color, finish=finish, opacity=opacity)
        values.update(overrides)
        return cls(**values)


#: A shade lighter than the lips by more than ``DEPTH_FREE`` (CIELAB L, under white light) moves their
#: lightness only part of the way: the excess counts ``1 / (1 + excess / DEPTH_SCALE)``.
DEPTH_FREE = 8.0
DEPTH_SCALE = 25.0


def keep_depth(params: np.ndarray, lip_lightness: float) -> np.ndarray:
    """``params`` (N, NUM_PARAMS) with ``follow`` lowered for shades much lighter than the lips.

    A light shade on deep or thin lips looks chalky, like a sticker, when its lightness replaces theirs;
    a real pigment film lets some of the lips' own depth through. Up to ``DEPTH_FREE`` lighter the shade
    lands on its own lightness; beyond that the lips' lightness follows it less and less (a shade 40
    lighter than the lips lifts them by about 22). Darker shades and the shade's hue and chroma are
    unchanged; ``opacity`` still makes a sheer product sheerer.
    """
    excess = params[:, C.P_L] - np.float32(lip_lightness + DEPTH_FREE)
    if not (excess > 0).any():
        return params
    out = params.copy()
    lift = np.maximum(params[:, C.P_L] - np.float32(lip_lightness), np.float32(1e-3))
    free = np.float32(DEPTH_FREE) + np.maximum(excess, 0) / (1 + np.maximum(excess, 0) / np.float32(DEPTH_SCALE))
    out[:, C.P_FOLLOW] = np.minimum(params[:, C.P_FOLLOW], np.minimum(free / lift, np.float32(1.0)))
    return out


def half_vector(face_scene: Any) -> tuple[float, float, float]:
    """The half vector between the directions to the light and to the camera, in the head's frame (x toward
    the subject's left, y up, z out of the face): where a mirror-like lip reflects the light to the viewer.

    The light's direction counts as far as the scene found it directional (:attr:`Light.directionality`
    0.3 or more: fully; flat light: the camera's own direction), so a flat-lit face gets its highlight
    where a frontal light would put it.
    """
    pose = np.asarray(face_scene.pose, dtype=np.float64)
    rot, t = pose[:3, :3], pose[:3, 3]
    view = -t / max(_norm(t), 1e-9)  # from the face toward the camera
    light = face_scene.light
    w = min(1.0, light.directionality / 0.3)
    to_light = w * np.asarray(light.direction, dtype=np.float64) + (1.0 - w) * view
    half = to_light / max(_norm(to_light), 1e-9) + view
    half = rot.T @ (half / max(_norm(half), 1e-9))
    return float(half[0]), float(half[1]), float(half[2])


def _norm(v: np.ndarray) -> float:
    """The length of a float64 3-vector: numpy.linalg.norm's value (the same sum of squares, in order), without
    its dispatch (three per face and frame)."""
    x, y, z = v.tolist()
    return math.sqrt(x * x + y * y + z * z)


def _landmarks(face: object) -> np.ndarray:
    lm = getattr(face, "landmarks", None)
    if lm is None:
        raise InputError(f"faces: expected Face values with landmarks, got {type(face).__name__}")
    return np.asarray(lm)


class _Box:
    """A lip box packed one BGRA pixel per uint32, so its painted pixels gather and scatter in one step."""

    def __init__(self, roi: np.ndarray) -> None:
        self.shape = roi.shape
        self.packed = cv2.cvtColor(roi, cv2.COLOR_BGR2BGRA)  # a contiguous copy

    def take(self, index: np.ndarray) -> np.ndarray:
        """uint8 (n, 4) BGRA pixels at flat ``index``."""
        return np.take(self.packed.view(np.uint32).reshape(-1), index).view(np.uint8).reshape(-1, 4)

    def put(self, index: np.ndarray, pixels: np.ndarray, keep: bool = False) -> np.ndarray:
        """The box as BGR (h, w, 3) with uint8 (n, 4) BGRA ``pixels`` at flat ``index``.

        ``keep`` leaves this box as it was (for painting it again); otherwise the pixels are written into it.
        """
        packed = self.packed.copy() if keep else self.packed
        packed.view(np.uint32).reshape(-1)[index] = np.ascontiguousarray(pixels).view(np.uint32).reshape(-1)
        return cv2.cvtColor(packed, cv2.COLOR_BGRA2BGR)


class LipstickLens:
    """Paints a lipstick shade on the lips of every face in a frame.

    Args:
        options: the shade and how to render it; keyword arguments build one instead
            (``LipstickLens(color="#A4161A", finish="gloss")``) or override fields of ``options``.

    Raises:
        InputError: when an option is malformed (raised here, once, not per frame).

    The onnx backend keeps one ONNX Runtime session for the lens's lifetime; use the lens as a
    context manager or call :meth:`close` to release it.
    """

    #: What this lens reads from a :class:`~arlens.scene.Scene`: the session tracks hands for "occluders".
    scene_uses = frozenset({"occluders", "camera_look"})

    def __init__(self, options: LipstickOptions | None = None, **kwargs: Any) -> None:
        if options is None:
            options = LipstickOptions(**kwargs)
        elif kwargs:
            options = replace(options, **kwargs)
        if not isinstance(options, LipstickOptions):
            raise InputError(f"options: expected LipstickOptions, got {type(options).__name__}")
        self.options = options
        self._params = options.params
        self._params1 = self._params[None]  # one shade, as the compositors take it
        self._needs_gloss = bool(self._params[C.P_SPECULAR] > 0)
        self._needs_sparkle = bool(self._params[C.P_SPARKLE] > 0)
        # a liner band is computed only with a liner colour and a width above zero (or a two-colour style)
        self._has_liner = (options.liner_color is not None and options.liner_width > 0) or options.style != "full"
        self._graph = None
        self._drawn: tuple[np.ndarray | None, ...] = ()
        if options.backend == "onnx":
            from arlens.render.onnx_lipstick import LipstickGraph

            self._graph = LipstickGraph(options.providers)

    @classmethod
    def from_product(cls, product: Any, **overrides: Any) -> LipstickLens:
        """A lens for a catalog product (``arlens.Product`` or anything with color/finish/opacity/kind)."""
        return cls(LipstickOptions.from_product(product, **overrides))

    @property
    def providers(self) -> list[str]:
        """Execution providers of the onnx backend's session (empty for the numpy backend)."""
        return list(self._graph.providers) if self._graph is not None else []

    def close(self) -> None:
        """Release the ONNX Runtime session; an onnx-backed lens cannot render afterwards."""
        self._graph = None

    def __enter__(self) -> LipstickLens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def drawn_boxes(self) -> tuple[np.ndarray | None, ...]:
        """Per face of the last ``render``/``render_into`` call (in the order given): float32 (4,) x0, y0, x1, y1
        around every pixel the shade changed on that face, or None where nothing was painted."""
        return self._drawn

    def geometry(self, face: Face, frame_shape: tuple[int, ...], blur: float = 0.0) -> M.LipGeometry | None:
        """The lips of ``face`` in a frame of ``frame_shape`` (None when they are outside it), in a box with room
        for a camera ``blur`` (Gaussian sigma, pixels) of the paint's edges."""
        return M.lip_geometry(_landmarks(face), frame_shape, self.options.feather, margin=blur_reach(blur))

    def _pixels(
        self, geom: M.LipGeometry, gloss: bool, sparkle: bool, scene: Scene | None = None, face: Face | None = None,
        blur: float = 0.0,
    ) -> tuple[M.LipPixels, np.ndarray | None]:
        """The maps of the pixels the shade paints: the lips (refined on the image when the options say so)
        less what covers them (:meth:`_visible`), and (with a camera ``blur``, when something covers the lips)
        float32 (h, w) what of the box the blurred change may reach. The covered pixels are dropped before
        their maps are worked out (a hand over half the mouth costs no gloss, shimmer or composite there)."""
        half = M.FRONTAL
        if scene is not None and face is not None and self.options.refine_edges:
            x0, y0, x1, y1 = geom.box
            painted = refine_painted(geom, scene.frame[y0:y1, x0:x1], scene.face(face).colors)
        else:
            painted = M.painted_pixels(geom)
        visible = keep = None
        if scene is not None and face is not None:
            painted, visible, keep = self._visible(painted, geom, scene, face, blur_reach(blur))
            if gloss or sparkle:
                half = half_vector(scene.face(face))
        pixels = M.lip_pixels(
            geom,
            liner_width=self.options.liner_width if self._has_liner else 0.0,
            gloss=gloss,
            sparkle=sparkle,
            painted=painted,
            half=half,
            style=self.options.style,
        )
        if visible is not None:  # the mask less the occluders' share (the liner band follows the lips' own mask)
            pixels.maps[:, M.MASK] = visible
        return pixels, keep

    def _changes(self, before: np.ndarray, pixels: M.LipPixels, params: np.ndarray, gains: np.ndarray,
                 glint_cell: float, blur: float) -> np.ndarray:
        """float32 (N, n, 3): each shade's change of the painted pixels (uint8 (n, 4) BGRA ``before``), for a camera
        ``blur``: the shimmer's glints (in cells ``glint_cell`` px wide) scaled to keep their peak through it
        (:func:`~arlens.render.camera_match.glint_gain`), the rest as it is."""
        painted = composite_in_light(before, gains, lambda px: self._composite(px, pixels, params))
        change = np.subtract(painted[..., :3], before[None, :, :3], dtype=np.float32)
        if pixels.maps[:, M.SPARKLE].any():  # the glints apart: the shades once more without them
            maps = pixels.maps.copy()
            maps[:, M.SPARKLE] = 0.0
            plain = M.LipPixels(pixels.index, maps)
            base = composite_in_light(before, gains, lambda px: self._composite(px, plain, params))
            glints = np.subtract(painted[..., :3], base[..., :3], dtype=np.float32)
            gain = glint_gain(M.GLINT_SIGMA_CELLS * glint_cell, blur, M.GLINT_SPACING_CELLS * glint_cell)
            glints *= np.float32(gain - 1.0)
            change += glints
        return change

    def _composite(self, px: np.ndarray, pixels: M.LipPixels, params: np.ndarray) -> np.ndarray:
        """Shades on the painted pixels: px uint8 (n, 4) BGRA -> uint8 (N, n, 4)."""
        y = C.pixel_luminance(px)  # the lightness's and the composite's: one lookup of the pixels
        lightness = C.lip_lightness(px, pixels.maps[:, M.MASK], luminance=y)
        params = keep_depth(params, float(lightness))
        if self._graph is not None:
            bgr = self._graph.run_checked(np.ascontiguousarray(px[:, :3]), pixels.maps, params, lightness)
            return cv2.cvtColor(bgr.reshape(1, -1, 3), cv2.COLOR_BGR2BGRA).reshape(len(params), len(px), 4)
        if self.options.backend == "onnx":
            raise InputError("lens: the onnx session was closed; build a new LipstickLens")
        # params were validated when built; a liner map was computed only for a liner colour and width
        return C.composite_checked(px, pixels.maps, params, lightness, liner=self._has_liner, luminance=y)

    def render(self, frame: np.ndarray, faces: Face | Iterable[Face], scene: Scene | None = None) -> np.ndarray:
        """Return a copy of ``frame`` with the shade painted on the lips of each face.

        Args:
            frame: uint8 BGR (H, W, 3), or any other form :mod:`arlens.image` accepts (grey, BGRA, a view);
                not modified.
            faces: the faces tracked in ``frame`` (a single Face is accepted too).
            scene: the frame's :class:`~arlens.scene.Scene` (built from this frame before any lens drew);
                None builds one from ``frame`` (then only what the image shows counts, no hands).

        Returns:
            uint8 BGR (H, W, 3), a new array.

        Raises:
            InputError: when ``frame`` is not an image :mod:`arlens.image` accepts, a face has no landmarks,
                or the scene is of another frame size.
        """
        frame = bgr_copy(frame, "frame")
        scene = Scene.ensure(scene, frame, self._faces(faces))
        return self.render_into(frame, faces, scene)

    def render_into(
        self, out: np.ndarray, faces: Face | Iterable[Face], scene: Scene | None = None
    ) -> np.ndarray:
        """Paint the shade on the lips of each face directly into ``out`` (uint8 BGR, modified); returns it.

        What :meth:`render` does without the copy, for pipelines that own their frame buffer. Without a
        scene, one is built from ``out`` and everything the lens reads from it is read before it draws.

        Raises:
            InputError: ``out`` is not a writeable uint8 (H, W, 3) array, a face has no landmarks, or the
                scene is of another frame size.
        """
        out = check_bgr(out, "out", writeable=True)
        faces = self._faces(faces)
        scene = Scene.ensure(scene, out, faces)
        blurs = [self._blur(scene, face) for face in faces]
        geoms = [self.geometry(face, out.shape, blur) for face, blur in zip(faces, blurs, strict=True)]
        drawn: list[np.ndarray | None] = [None] * len(geoms)
        work = []
        for i, (face, geom, blur) in enumerate(zip(faces, geoms, blurs, strict=True)):
            if geom is None:
                continue
            pixels, keep = self._pixels(geom, self._needs_gloss, self._needs_sparkle, scene, face, blur)
            if len(pixels):
                work.append((i, geom, pixels, keep, self._gains(scene, face), blur))
        for i, geom, pixels, keep, gains, blur in work:
            x0, y0, x1, y1 = geom.box
            # read from `out` so overlapping faces compose
            box = _Box(out[y0:y1, x0:x1])
            before = box.take(pixels.index)
            if blur:  # the change, blurred as the camera blurred the frame
                change = self._changes(before, pixels, self._params1, gains, M.sparkle_cell(geom.width), blur)
                drawn[i] = _put_blurred(out, geom.box, pixels.index, change[0], blur, keep)
                continue
            painted = composite_in_light(
                before, gains, lambda px, pixels=pixels: self._composite(px, pixels, self._params1)
            )
            out[y0:y1, x0:x1] = box.put(pixels.index, painted[0])
            rows, cols = np.divmod(pixels.index, x1 - x0)  # ascending: the first and last rows are the extremes
            drawn[i] = np.array([x0 + cols.min(), y0 + rows[0], x0 + cols.max() + 1, y0 + rows[-1] + 1], np.float32)
        self._drawn = tuple(drawn)
        return out

    def _blur(self, scene: Scene, face: Face) -> float:
        """The blur (Gaussian sigma, pixels) the paint's edges take to look as soft as the frame around ``face``."""
        if not self.options.match_camera or not np.isfinite(_landmarks(face)[:, :2]).all():
            return 0.0
        return added_blur(scene.face(face).camera_look)

    def _gains(self, scene: Scene, face: Face) -> np.ndarray:
        """The linear gains of the light on ``face`` (white when the options say to ignore the scene's light)."""
        if not self.options.scene_light:
            return _WHITE
        return scene.face(face).light.gains

    @staticmethod
    def _faces(faces: Face | Iterable[Face]) -> list[Face]:
        faces = [faces] if isinstance(faces, Face) else list(faces)
        for face in faces:
            _landmarks(face)
        return faces

    def _visible(
        self, painted: tuple[np.ndarray, np.ndarray], geom: M.LipGeometry, scene: Scene, face: Face, reach: int = 0
    ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray | None, np.ndarray | None]:
        """The painted pixels (flat indices, mask) less what covers the lips, their mask times the visibility
        the scene's occlusion leaves (None when nothing covers them: the mask as it is) and, for a change blurred
        ``reach`` pixels beyond the painted ones, that visibility over the box (float32 (h, w); None when nothing
        covers the lips or ``reach`` is 0): a blurred change stops at a hand's edge as the paint does.

        Paint never goes on an occluder (nor on the background, when the scene has a person mask): a pixel
        covered for ``OCCLUDED`` or more gets none (and is dropped), one covered for ``VISIBLE`` or less all of
        it, smoothly between (an occluder's soft edge is where its matte is unsure, and paint on a finger shows
        more than a hair of bare lip beside it). The pixels left keep their own mask, which the liner band is
        made from; the returned values are what the composite's mask becomes.
        """
        if not self.options.occluders:
            return painted, None, None
        index, values = painted

        def need() -> np.ndarray:  # what is read of the occlusion: the painted pixels' 5x5 discs (the margin below)
            h, w = geom.shape
            out = np.zeros(h * w, np.uint8)
            out[index] = 1
            out = cv2.dilate(out.reshape(h, w), _MARGIN_KERNEL, borderType=cv2.BORDER_CONSTANT, borderValue=0)
            if reach:  # and as far as a blurred change reaches
                disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
                out = cv2.dilate(out, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0)
            return out.view(np.bool_)

        occlusion = scene.face(face).occlusion(geom.box, need)
        person = scene.person(geom.box)
        if person is not None:  # the background beside a turned face is no more to be painted than a hand
            occlusion = np.maximum(occlusion, np.float32(1.0) - person)
        if not occlusion.max(initial=0.0) > VISIBLE:
            return painted, None, None
        # two pixels' margin (_MARGIN_KERNEL): an occluder's matte is a pixel or two off at worst, and paint
        # beside a finger shows less than paint on it
        margin = cv2.dilate(occlusion, _MARGIN_KERNEL)
        if reach:  # the visibility over the whole box, for the blurred change
            visibility = uncovered(margin)
            shown = np.take(visibility.reshape(-1), index)
        else:  # at the painted pixels only
            visibility = None
            shown = uncovered(np.take(margin.reshape(-1), index))
        mask = values * shown
        keep = mask > 0
        # compress: the pixels left, at a third of index[keep]'s cost
        return (index.compress(keep), values.compress(keep)), mask.compress(keep), visibility

    def render_shades(
        self, frame: np.ndarray, face: Face, shades: Sequence[LipstickOptions | str | Any], scene: Scene | None = None
    ) -> np.ndarray:
        """Render one face in N shades, for previewing a product line.

        The onnx backend composites all N shades in one ONNX Runtime run; the numpy backend shares the
        per-pixel work and loops over the shades.
        Geometry (feather, liner band width) is this lens's; colour, finish, opacity and liner colour
        come from each shade (a liner colour shows only where this lens has a liner band).

        Args:
            frame: uint8 BGR (H, W, 3) or another form :mod:`arlens.image` accepts; not modified.
            face: the face to paint.
            shades: each a :class:`LipstickOptions`, a product (color/finish/opacity/kind), or a
                "#RRGGBB" string (rendered with this lens's finish and opacity).
            scene: the frame's :class:`~arlens.scene.Scene` (computed once, shared by every shade); None
                builds one from ``frame``.

        Returns:
            uint8 (N, H, W, 3): the frame once per shade.

        Raises:
            InputError: when the frame or a shade is malformed.
        """
        frame = as_bgr(frame, "frame")
        _landmarks(face)
        scene = Scene.ensure(scene, frame, [face])
        params = np.stack([self._shade_params(s, i) for i, s in enumerate(shades)]) if len(shades) else None
        out = np.repeat(frame[None], len(shades), axis=0)
        if params is None:
            return out
        blur = self._blur(scene, face)
        geom = self.geometry(face, frame.shape, blur)
        if geom is None:
            return out
        pixels, keep = self._pixels(
            geom, bool((params[:, C.P_SPECULAR] > 0).any()), bool((params[:, C.P_SPARKLE] > 0).any()), scene, face,
            blur,
        )
        if not len(pixels):
            return out
        x0, y0, x1, y1 = geom.box
        box = _Box(frame[y0:y1, x0:x1])
        if blur:
            changes = self._changes(box.take(pixels.index), pixels, params, self._gains(scene, face),
                                    M.sparkle_cell(geom.width), blur)
            for i, change in enumerate(changes):
                _put_blurred(out[i], geom.box, pixels.index, change, blur, keep)
            return out
        painted = composite_in_light(
            box.take(pixels.index), self._gains(scene, face), lambda px: self._composite(px, pixels, params)
        )
        for i in range(len(params)):
            out[i, y0:y1, x0:x1] = box.put(pixels.index, painted[i], keep=True)
        return out

    def _shade_params(self, shade: object, index: int) -> np.ndarray:
        try:
            if isinstance(shade, LipstickOptions):
                return shade.params
            if isinstance(shade, str):
                return replace(self.options, color=shade).params
            return LipstickOptions.from_product(shade).params
        except InputError as exc:
            raise InputError(f"shades[{index}]: {exc}") from None


def _put_blurred(out: np.ndarray, box: tuple[int, int, int, int], index: np.ndarray, change: np.ndarray, sigma: float,
                 visibility: np.ndarray | None = None) -> np.ndarray | None:
    """Add the shade's change (float32 (n, 3) at flat ``index`` of ``box``) to ``out`` blurred by ``sigma`` pixels, as
    the camera blurred what it saw: the change spreads past the lips' edge as the frame's own lip colour does, and a
    tooth or skin pixel beside the lips takes a share of the lips' change, not a recolouring of its own colour; it
    stops where ``visibility`` (float32 (h, w) over the box, None for all) says something covers the lips. Returns
    the box around what changed (None for nothing)."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    dense = np.zeros((h, w, 3), np.float32)
    dense.reshape(-1, 3)[index] = change
    cv2.GaussianBlur(dense, (0, 0), sigma, dst=dense, borderType=cv2.BORDER_CONSTANT)
    if visibility is not None:
        dense *= visibility[..., None]
    roi = out[y0:y1, x0:x1]
    result = cv2.add(roi, dense, dtype=cv2.CV_8U)  # rounded to nearest (half to even) and saturated
    # what changed: the bounding box of the differing bytes (a row's three channels side by side)
    bx, by, bw, bh = cv2.boundingRect(cv2.absdiff(result, roi).reshape(h, w * 3))
    if not (bw and bh):
        return None
    roi[...] = result
    return np.array([x0 + bx // 3, y0 + by, x0 + (bx + bw + 2) // 3, y0 + by + bh], np.float32)
