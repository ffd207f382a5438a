"""Make-up lenses for the eyes, brows, cheeks and skin: eyeshadow, eyeliner, mascara, brow, blush, foundation,
contour and highlighter, each drawn in a named pattern with a palette of 1-5 colours.

One lens class draws every one of these kinds; what differs is the pattern (where the colour goes, authored
once in the face's UV layout, :mod:`arlens.render.patterns`) and the colour model
(:mod:`arlens.render.skin`):

- **eyeshadow, blush, contour, highlighter**: soft zones looked up through the face's UV, painted with the
  lipstick's CIELAB composite (from a table over lightness, :class:`~arlens.render.skin.PigmentTable`), one palette
  colour per zone in palette order, on a low-resolution grid of the face; the change is carried to full resolution
  as a smooth brightness gain and colour offset (:func:`arlens.render.skin.gain_offset`), which keeps the photo's
  own texture. Shimmer and metallic finishes add glints fixed to the skin (a baked glint texture in UV).
- **foundation**: evens the skin's tone towards the shade at a lower resolution still and is applied the same
  way, keeping texture and shading; the brows' hair darker than the shade is left as it is. MediaPipe's mesh ends a
  few centimetres below most hairlines: where it keeps off hair, foundation climbs from the forehead over smooth
  skin past the mesh's top edge and stops at the hair it finds (at most ``_FOREHEAD_REACH`` beyond the mesh).
- **eyeliner, mascara**: sharp strokes (a liner with its wing, tapered lashes) warped vertex by vertex onto
  the face and filled anti-aliased at the frame's resolution.
- **brow**: tints the brow's hair (pixels darker than the skin around it) in the brow's own shape;
  ``brow/fill`` adds hair strokes that follow the brow's direction, filling sparse brows.

Several lenses drawn on a face together (:meth:`MakeupLens.render_group`, which :class:`~arlens.session.TryOn`
calls for a look) share one pass: consecutive soft products are painted on one grid, each seeing the face as the
ones before left it, their changes composed there and applied to the frame once (:mod:`arlens.render.face_grid`);
strokes are drawn after, at full resolution. A lens drawn alone is a group of one.

Erase masks from the frame's own landmarks keep colour off the eye openings (they close with the lids), the
brows (for shadow, blush, contour and highlighter), the lips (for cheek products) and the mouth opening, at the
frame's resolution; what the frame's :class:`~arlens.scene.Scene` says covers the face (hands) stays unpainted,
and so does hair falling over it (:mod:`arlens.render.hair`: what the face's skin colour does not explain and
reaches in from outside the face); colours are shown in the scene's light. The per-face work every make-up lens
needs (the face's UV, its erase masks) is done once per face and frame and shared
(:class:`~arlens.render.face_space.FaceSpace`). Only the boxes around the pattern's regions are processed, never
the whole frame.

Example:
    >>> lens = MakeupLens.from_product(catalog["EYS-002"])  # doctest: +SKIP
    >>> out = lens.render(frame, faces)  # doctest: +SKIP
    >>> MakeupLens.render_group([foundation, blush, liner], out, faces, scene)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from arlens.catalog.patterns import DEFAULT_PATTERNS, PATTERNS
from arlens.catalog.product import PaletteColor
from arlens.errors import InputError
from arlens.image import check_bgr
from arlens.lenses.lipstick import VISIBLE, uncovered
from arlens.render import coverage as COV
from arlens.render import face_uv as F
from arlens.render import mask as M
from arlens.render import patterns as P
from arlens.render import skin as S
from arlens.render.camera_match import added_blur, blur_reach
from arlens.render.face_grid import Box, Erase, FaceGrid, GridChange, Layer, Rect, cell_size, put_rows, take_rows
from arlens.render.face_space import FaceSpace, fade_change
from arlens.render.hair import HairModel, hair_classes
from arlens.render.relight import composite_in_light, is_neutral
from arlens.scene import Scene
from arlens.tracking.results import Face

#: The product kinds this lens draws.
MAKEUP_KINDS = tuple(DEFAULT_PATTERNS)
_TEXTURE_KINDS = ("eyeshadow", "blush", "contour", "highlighter")
_STROKE_KINDS = ("eyeliner", "mascara")
#: Zone products want about this many grid cells per UV unit of the face (their gradients are soft); a run of soft
#: products shares one grid at the finest of its products' (whole pixels per cell: on faces smaller than this, every
#: pixel), and its change is carried to full resolution as a smooth gain and offset, which keeps the photo's texture.
_GAIN_RES = {"eyeshadow": 190.0, "blush": 100.0, "contour": 80.0, "highlighter": 120.0}
#: How much white a glint adds at full strength (times the finish's sparkle and the zone's alpha).
_GLINT = np.float32(0.9)
#: The coarsest level of the glint texture a sheen looks up (``SPARKLE_TEXELS_PER_UV >> 7``: 7 texels per UV unit).
_SHEEN_LEVELS = 7
#: The longer side of the face box at which foundation's tone is computed.
_FOUNDATION_SIZE = 80
#: Light on the hair (1) and on the skin between hairs (this) of a brow tint.
_BROW_SKIN_ALPHA = 0.12
#: How far beyond the mesh's top edge foundation may reach, in UV units of the face (its height is about 0.96):
#: MediaPipe's mesh stops a few centimetres below most hairlines, and a shade unlike the skin left a bare band
#: across the forehead there. Found hair stops it first (:meth:`_Context.find_hair`).
_FOREHEAD_REACH = 0.3
#: The share of that reach over which it fades out (the rest is covered in full).
_FOREHEAD_FADE = 0.3
#: The face's upper outline, where foundation reaches past the mesh: in full above v = [0] (the forehead's top arc),
#: fading out by [1] (the temples), in the face's UV.
_FOREHEAD_V = (0.14, 0.24)
#: The forehead's arc, from the face's side (u from the nearer of 0 and 1): nothing reaches past the mesh at [0]
#: (the arc's ends are at 0.12), in full from [1].
_FOREHEAD_U = (0.13, 0.2)
#: Bare skin is smooth: its lightness varies over ``_SMOOTH_UV`` of the face (UV units, about 3 mm) by less than
#: [0] of its mean for certain, not at all from [1]. On the test photos the forehead's skin varies by 1.4% (median;
#: 3.7% at the 90th percentile), dark hair by 23% (12% at the 10th), the astronaut's golden fringe by 11% (6%).
_SMOOTH_UV = 0.02
_SMOOTH = (0.06, 0.12)
#: CIELAB distances from the forehead's own colour within which a sample is like it in full ([0]) and beyond which
#: not at all ([1]), in chroma and in lightness (:func:`_like_forehead`). On the test photos the skin between the
#: mesh and the hair lies within 8.3 in chroma of the forehead's (99th percentile; its lightness within 18, the
#: top of a forehead catching more light); the light grey wall behind the talking head's temple is 18 away in
#: chroma and 40 in lightness.
_LIKE_CHROMA = (9.0, 14.0)
_LIKE_LIGHTNESS = (22.0, 32.0)
#: How surely bare (:func:`_bare_skin`) a sample must be to join the forehead: not at [0], in full from [1].
_FIRM = (0.5, 0.8)
#: The levels the forehead's reconstruction is quantised to (:func:`_forehead_skin`).
_JOIN_LEVELS = (0.25, 0.5, 0.75, 1.0)
_SQUARE3 = np.ones((3, 3), np.uint8)
#: The most a side of the face is taken to be darker than the brightest side by the light alone (a ratio of
#: luminance, three stops; :func:`_side_references`). On the side-lit talking-head clip the cheeks' own medians differ
#: by 2.3-17x (every sixth frame) and the scene light's fit gives 2.7-14x; on the three stills 1.1-2.0x and 1.1-1.6x.
_MAX_SHADE = 8.0
#: A side in view on fewer pixels than this share of the best seen side's counts less than in full toward the sides'
#: shading (:func:`_side_references`): a cheek turned away is seen at a glancing angle, on few pixels. On the
#: talking-head clip the far cheek is seen on 30-40% of the near one's pixels for frames at a time; at half (a first
#: choice) the weight wavered with them and a contour's change on the shaded cheek with it, by 20-45% frame to frame.
_SIDE_SEEN = 0.25
#: The sides' medians say a side is darker by at most this power of what the scene light's fit says
#: (:func:`_side_references`): hair or a shadow over one cheek darkens its median too, and a side the light's fit
#: does not find darker is not darkened. The fit's linear model understates a hard side light: on the talking-head
#: clip its log-ratio is a half to two-thirds of the cheeks' medians' (2.7-3.5x for 6-9x) and two-fifths of the
#: eyelids' (1.4-1.7x for about 4x).
_SIDE_TRUST = 3.0


def _unit(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise InputError(f"{name}: expected a number in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class MakeupOptions:
    """Settings of a :class:`MakeupLens`, validated when built.

    Attributes:
        kind: eyeshadow, eyeliner, mascara, brow, blush, foundation, contour or highlighter.
        palette: the colours of the pattern's zones, in order (:class:`~arlens.catalog.product.PaletteColor`
            values, or ``"#RRGGBB [finish] [intensity]"`` texts).
        pattern: a pattern of the kind (:data:`arlens.catalog.patterns.PATTERNS`); None for the kind's default.
        intensity: scales every colour's intensity, 0 to 1 (a strength slider).
        scene_light: show the colours in the frame's light (the scene's :class:`~arlens.scene.Light`: a dim or
            warm frame gets dim or warm make-up); False paints them as under white light.
        keep_off_hair: leave hair falling over the face unpainted (:mod:`arlens.render.hair`; foundation, contour,
            highlighter and blush). Costs about a millisecond a face (and the scene's skin colour model); False
            paints the product's whole zone, hair or not.
        match_camera: soften the strokes (liner, lashes, brow hairs) as the camera softened the frame
            (:attr:`arlens.scene.FaceScene.camera_look`, measured by the eye: a webcam's 720p frame is blurred by 1-2
            pixels, a photo scaled up more), as the eyewear is: a stroke drawn pixel-sharp on a soft frame reads as
            pasted on. Brow hairs are blurred as the camera blurs; liner and lashes get the blur outward only (their
            coverage is the larger of the drawn and the blurred): blurred outright, a liner lost half its colour to
            the eye opening, which stays clear, and lashes drawn a third of a pixel wide on a webcam's face faded to
            a grey haze. Shimmer's glints, where the camera blurs them together (a webcam's face: glints about
            2 px apart, blurred 1-2 px), are the sheen they blur into (:meth:`MakeupLens._sheen`). False draws
            every stroke and glint as sharp as the frame's pixels allow.

    Raises:
        InputError: naming the field that is malformed, or a palette whose size is not the pattern's zones.
    """

    kind: str
    palette: tuple[PaletteColor, ...]
    pattern: str | None = None
    intensity: float = 1.0
    scene_light: bool = True
    keep_off_hair: bool = True
    match_camera: bool = True

    def __post_init__(self) -> None:
        kind = str(getattr(self.kind, "value", self.kind))
        if kind not in MAKEUP_KINDS:
            raise InputError(f"kind: expected one of {', '.join(MAKEUP_KINDS)}, got {self.kind!r}")
        object.__setattr__(self, "kind", kind)
        pattern = self.pattern or DEFAULT_PATTERNS[kind]
        info = PATTERNS.get(pattern)
        if info is None or info.kind != kind:
            known = ", ".join(n for n, p in PATTERNS.items() if p.kind == kind)
            raise InputError(f"pattern: expected one of {known}, got {self.pattern!r}")
        object.__setattr__(self, "pattern", pattern)
        palette = self.palette
        if isinstance(palette, PaletteColor | str):
            palette = (palette,)
        try:
            colours = tuple(c if isinstance(c, PaletteColor) else PaletteColor.parse(c) for c in palette)
        except (InputError, TypeError) as exc:
            raise InputError(f"palette: {exc}") from None
        if len(colours) != len(info.zones):
            raise InputError(f"palette: pattern {pattern} takes {len(info.zones)} colour(s) "
                             f"({', '.join(info.zones)}), got {len(colours)}")
        object.__setattr__(self, "palette", colours)
        _unit("intensity", self.intensity)
        for name in ("scene_light", "keep_off_hair", "match_camera"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name}: expected True or False, got {getattr(self, name)!r}")

    @classmethod
    def from_product(cls, product: Any, **overrides: Any) -> MakeupOptions:
        """Options for a catalog product (its kind, effective pattern and palette); ``overrides`` set fields.

        Raises:
            InputError: the product is not of a kind this lens draws, or has no colour.
        """
        kind = getattr(product, "kind", None)
        kind = str(getattr(kind, "value", kind))
        if kind not in MAKEUP_KINDS:
            raise InputError(f"product.kind: expected one of {', '.join(MAKEUP_KINDS)}, got {kind!r}")
        palette = getattr(product, "effective_palette", None)
        if not palette:
            raise InputError(f"product {getattr(product, 'id', '?')!r}: expected a colour or a palette, got none")
        values: dict[str, Any] = dict(kind=kind, palette=palette,
                                      pattern=getattr(product, "effective_pattern", None))
        values.update(overrides)
        return cls(**values)


class MakeupLens:
    """Draws an eye, brow, cheek or skin product on every face of a frame.

    Args:
        options: the product's kind, pattern and palette; keyword arguments build one instead
            (``MakeupLens(kind="blush", palette=("#E2788F satin 0.4",))``) or override fields of ``options``.

    Raises:
        InputError: when an option is malformed (here, once, not per frame).
    """

    #: What this lens reads from a :class:`~arlens.scene.Scene`: the session tracks hands for "occluders".
    scene_uses = frozenset({"occluders", "camera_look"})

    def __init__(self, options: MakeupOptions | None = None, **kwargs: Any) -> None:
        if options is None:
            options = MakeupOptions(**kwargs)
        elif kwargs:
            options = replace(options, **kwargs)
        if not isinstance(options, MakeupOptions):
            raise InputError(f"options: expected MakeupOptions, got {type(options).__name__}")
        self.options = options
        self.pattern = P.pattern(options.pattern)  # type: ignore[arg-type]
        self._params = [S.pigment_params(c.color, c.finish) for c in options.palette]
        self._tables = [S.PigmentTable(p) for p in self._params]
        self._alpha = np.array([c.intensity * options.intensity for c in options.palette], dtype=np.float32)
        self._sparkle = [bool(p[0, S.C.P_SPARKLE] > 0) for p in self._params]
        self._shade_lab = [S.C.hex_to_lab(c.color) for c in options.palette]
        #: each colour's relative luminance Y (from its CIELAB L)
        self._shade_y = [S.C.luminance_of(float(lab[0])) for lab in self._shade_lab]
        self._drawn: tuple[np.ndarray | None, ...] = ()
        #: foundation goes on past the mesh's top edge to the hairline, which finding hair over the face tells
        self._to_hairline = options.kind == "foundation" and options.keep_off_hair

    @classmethod
    def from_product(cls, product: Any, **overrides: Any) -> MakeupLens:
        """A lens for a catalog product (``arlens.Product``, or anything with kind and effective palette)."""
        return cls(MakeupOptions.from_product(product, **overrides))

    @property
    def kind(self) -> str:
        """The product kind drawn."""
        return self.options.kind

    def close(self) -> None:
        """Nothing to release (for symmetry with lenses that hold sessions)."""

    def __enter__(self) -> MakeupLens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public drawing -------------------------------------------------------------------------------------
    @property
    def drawn_boxes(self) -> tuple[np.ndarray | None, ...]:
        """Per face of the last ``render``/``render_into`` call (in the order given): float32 (4,) x0, y0, x1, y1
        around every pixel the product changed on that face, or None where nothing was drawn."""
        return self._drawn

    def render(self, frame: np.ndarray, faces: Face | Iterable[Face], scene: Scene | None = None) -> np.ndarray:
        """Return a copy of ``frame`` with the product drawn on each face.

        Args:
            frame: uint8 BGR (H, W, 3); not modified.
            faces: the faces tracked in ``frame`` (a single Face is accepted too).
            scene: the frame's :class:`~arlens.scene.Scene` (built from this frame before any lens drew): what
                covers the face (hands) is left unpainted and the colours are shown in its light; None builds
                one from ``frame``.

        Raises:
            InputError: ``frame`` is not a uint8 (H, W, 3) array, a face has no landmarks, or the scene is of
                another frame size.
        """
        frame = check_bgr(frame)
        scene = Scene.ensure(scene, frame, [faces] if isinstance(faces, Face) else list(faces))
        return self.render_into(frame.copy(), faces, scene)

    def render_into(self, out: np.ndarray, faces: Face | Iterable[Face], scene: Scene | None = None) -> np.ndarray:
        """Draw the product on each face directly into ``out`` (uint8 BGR, modified); returns it.

        Without a scene, one is built from ``out`` and everything the lens reads from it is read before it draws.

        Raises:
            InputError: ``out`` is not a writeable uint8 (H, W, 3) array, a face has no landmarks, or the scene
                is of another frame size.
        """
        return self.render_group([self], out, faces, scene)

    @classmethod
    def render_group(cls, lenses: Iterable[MakeupLens], out: np.ndarray, faces: Face | Iterable[Face],
                     scene: Scene | None = None) -> np.ndarray:
        """Draw several make-up lenses on each face, in the order given, into ``out`` (modified); returns it.

        The same pixels (to a level or two of rounding) as calling each lens's ``render_into`` in turn, in one pass
        per face: consecutive soft products (foundation, contour, highlighter, blush, eyeshadow) are painted on
        one low-resolution grid of the face and their summed change is applied to the frame once
        (:mod:`arlens.render.face_grid`); strokes (liner, lashes, brows) are drawn at full resolution in order.
        Each lens's :attr:`drawn_boxes` is set as if it had drawn alone. This is what
        :class:`~arlens.session.TryOn` calls for a run of make-up lenses (see :class:`arlens.lenses.base.Lens`).

        Raises:
            InputError: a lens that is not a MakeupLens, or as :meth:`render_into`.
        """
        lenses = list(lenses)
        for i, lens in enumerate(lenses):
            if not isinstance(lens, MakeupLens):
                raise InputError(f"lenses[{i}]: expected a MakeupLens, got {type(lens).__name__}")
        out = check_bgr(out, "out", writeable=True)
        faces = [faces] if isinstance(faces, Face) else list(faces)
        spaces = [FaceSpace.of(face, out.shape) for face in faces]  # every face checked before any drawing
        scene = Scene.ensure(scene, out, faces)
        drawn: dict[int, list[np.ndarray | None]] = {id(lens): [] for lens in lenses}
        for face, space in zip(faces, spaces, strict=True):
            boxes: dict[int, list[Box]] = {id(lens): [] for lens in lenses}
            if space is not None and space.box is not None:
                ctx = _Context(space, scene.face(face), any(lens.options.scene_light for lens in lenses))
                if any(lens.options.match_camera and lens.kind not in _FIELD_KINDS for lens in lenses):
                    ctx.stroke_blur  # noqa: B018 - the camera look read off the frame before anything is drawn
                run: list[MakeupLens] = []
                for lens in lenses:
                    if lens.kind in _FIELD_KINDS:
                        run.append(lens)
                        continue
                    if run:
                        _draw_fields(out, ctx, run, boxes)
                        run = []
                    for side in lens.pattern.sides:
                        painted = lens._draw_sharp(out, ctx, side)
                        if painted is not None:
                            boxes[id(lens)].append(painted)
                if run:
                    _draw_fields(out, ctx, run, boxes)
            for lens in lenses:
                drawn[id(lens)].append(_union(boxes[id(lens)]))
        for lens in lenses:
            lens._drawn = tuple(drawn[id(lens)])
        return out

    def region(self, face: Face, frame_shape: tuple[int, ...]) -> np.ndarray | None:
        """Where the product is drawn on ``face``: float32 (4,) x0, y0, x1, y1 in the frame (None if off it).

        The union of the pattern's boxes on both sides: what a hotspot (a tap target, a label) covers.
        """
        space = FaceSpace.of(face, frame_shape)
        if space is None or space.box is None:
            return None
        boxes = [b for side in self.pattern.sides if (b := self._box(space, side)) is not None]
        if not boxes:
            return None
        arr = np.array(boxes, dtype=np.float32)
        return np.array([arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max()], dtype=np.float32)

    # -- drawing -------------------------------------------------------------------------------------------
    def _box(self, space: FaceSpace, side: P.PatternSide, reach: bool = True) -> Box | None:
        """The frame box the side draws in (``reach`` False: the pattern's own, without the forehead foundation may
        reach past the mesh)."""
        if side.texture is not None:
            box = space.box_of(side.texture.triangles)
            if box is not None and reach and self._to_hairline:  # and the forehead above the mesh, to the hairline
                above = _points_box(_forehead_reach(space), space.shape)
                if above is not None:
                    box = (min(box[0], above[0]), min(box[1], above[1]), max(box[2], above[2]),
                           max(box[3], above[3]))
            return box
        if not side.strokes:
            return None
        return _points_box(np.vstack([s.vertices(space.points) for s in side.strokes]), space.shape)

    def _light(self, ctx: _Context) -> tuple[np.ndarray, np.ndarray] | None:
        """The lookup tables taking pixels out of the scene's light and back (None: white light, or told to ignore
        it)."""
        return ctx.luts if self.options.scene_light else None

    def _erase(self, side: P.PatternSide, ctx: _Context) -> tuple[Erase, ...]:
        """The outlines a soft product keeps off: the eye openings, the mouth or the lips, the brows (with their
        soft margin; foundation keeps only off the brow's hair, at half the margin). Matching the camera, every
        edge is as soft as the frame, outward (the opening stays clear): a sharp edge round a blurred eye reads as
        cut out."""
        space = ctx.space
        soft = 2.0 * ctx.stroke_blur if self.options.match_camera else 0.0  # a margin of sigma grow / 2
        if self.options.kind != "foundation":
            return tuple(Erase(n, max(space.brow_margin(), soft) if n.endswith("_brow") else soft)
                         for n in side.erase)
        gains = ctx.gains if self.options.scene_light else None
        shade_y = self._shade_y[0] * (float(np.dot(S.C.BGR_TO_Y, gains)) if gains is not None else 1.0)
        return tuple(Erase(n, max(0.5 * space.brow_margin(), soft), shade_y) if n.endswith("_brow") else
                     Erase(n, soft) for n in side.erase)

    def _zone_layer(self, ctx: _Context, parts: list[tuple[P.PatternSide, Rect]], grid: FaceGrid, rect: Rect,
                    change: GridChange, erase: tuple[Erase, ...], keep: np.ndarray | None) -> Layer | None:
        """Eyeshadow, blush, contour, highlighter on both sides at once: each side's zones looked up through the grid's
        UV and painted with the lipstick's composite (:class:`~arlens.render.skin.PigmentTable`) on the cells they
        cover, as the products before left them. Each side's shading is relative to the median lightness of its own
        skin brought to the brightest side's light (:func:`_side_references`): ``keep`` (over ``rect``, the sides'
        union) says how much of each cell is outside the outlines the product keeps off."""
        gw = grid.shape[1]
        rw = rect[3] - rect[1]
        found = []
        for side, (r0, c0, r1, c1) in parts:
            tex = side.texture
            assert tex is not None
            alphas = tex.sample(grid.u[r0:r1, c0:c1], grid.v[r0:r1, c0:c1])
            alphas *= grid.on_mesh[r0:r1, c0:c1, None] * self._alpha
            flat = alphas.reshape(-1, alphas.shape[-1])
            weight = _zmax(flat)
            local = np.flatnonzero(weight > S.MIN_ALPHA)
            if len(local):
                rows, cols = np.divmod(local, c1 - c0)
                rows += r0
                cols += c0
                reference = weight[local]
                if keep is not None:
                    reference = reference * keep.reshape(-1)[(rows - rect[0]) * rw + (cols - rect[1])]
                found.append((rows * gw + cols, take_rows(flat, local), reference, side))
        if not found:
            return None
        shade = _shade_ratios(ctx.face, self.pattern.sides) if self.options.scene_light else None
        cells = np.concatenate([f[0] for f in found]) if len(found) > 1 else found[0][0]
        a = np.concatenate([f[1] for f in found]) if len(found) > 1 else found[0][1]
        before = change.pixels(cells)
        sparkle = None
        if any(self._sparkle):
            sparkle = np.zeros(len(a), np.float32)
            for k, sparkles in enumerate(self._sparkle):
                if sparkles:
                    sparkle += a[:, k] * np.float32(self._params[k][0, S.C.P_SPARKLE])
        sheen = None if sparkle is None else self._sheen(ctx, grid, cells, sparkle)

        def paint(px: np.ndarray) -> np.ndarray:  # under white light: uint8 (1, n, 3)
            codes = S.luminance_codes(px)
            index = S.lightness_index(px, codes)
            # each side's reference lightness; one table per side, stacked, indexed by lightness and side
            side_of = np.zeros(len(cells), np.intp)
            lightness, start = [], 0
            for i, f in enumerate(found):
                side_of[start : start + len(f[0])] = i * (100 * S.TABLE_STEPS + 1)
                lightness.append(S.median_lightness(codes[start : start + len(f[0])], f[2]))
                start += len(f[0])
            # each side relative to the skin in the brightest side's light
            lightness = _side_references(lightness, [S.median_count(f[2]) for f in found],
                                        [1.0 if shade is None else shade.get(id(f[3]), 1.0) for f in found])
            painted = px
            for k, table in enumerate(self._tables):
                alpha = a[:, k]
                sub = np.flatnonzero(alpha > S.MIN_ALPHA)
                if not len(sub):
                    continue
                colours = table.colours(lightness[0]) if len(found) == 1 else np.concatenate(
                    [table.colours(lm) for lm in lightness])
                if len(sub) == len(a):
                    if painted is not px:
                        index = S.lightness_index(painted)
                    painted = table.paint(painted, np.ascontiguousarray(alpha), 0.0, index + side_of, colours)
                else:
                    if painted is px:
                        painted = px.copy()
                        at = np.take(index, sub)
                        part = take_rows(painted, sub)
                    else:
                        part = take_rows(painted, sub)
                        at = S.lightness_index(part)
                    at += np.take(side_of, sub)
                    put_rows(painted, sub, table.paint(part, np.take(alpha, sub), 0.0, at, colours))
            if sheen is not None:  # the glints blurred together: towards white by their mean
                painted = S.towards_white(painted, sheen)
            return painted[None]

        # in the scene's light: taken out of it, painted, put back (untouched pixels exactly as they were)
        luts = self._light(ctx)
        painted = composite_in_light(before, None, paint, luts)[0]
        gain, offset = S.gain_offset_pixels(before, painted)
        changed = cells[(gain != np.float32(1.0)) | (offset[:, 0] != 0.0) | (offset[:, 1] != 0.0)
                        | (offset[:, 2] != 0.0)]
        if not len(changed):
            return None
        rows, cols = np.divmod(changed, gw)
        extent = (int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)
        # glints at full resolution unless they are in the change as a sheen already
        glints = sparkle if sheen is None else None
        return Layer(rect, cells, gain, offset, extent, erase, glints, self, [r for _, r in parts])

    def _sheen(self, ctx: _Context, grid: FaceGrid, cells: np.ndarray, sparkle: np.ndarray) -> np.ndarray | None:
        """float32 (n,): the white shimmer adds to the grid's flat ``cells`` (of glint strength ``sparkle``) when the
        camera blurs its glints together (a blur of half their spacing or more: a webcam's face, glints about 2 px
        apart, blurred 1-2 px), or None: drawn as glints at the frame's resolution (:meth:`GridChange.glints`).

        Blurred together the glints are a sheen whose light is theirs (:func:`~arlens.render.camera_match.glint_gain`
        keeps their light, not their peaks, there): the glint texture averaged over about a cell or the blur's width,
        whichever is larger (a coarser level of :func:`~arlens.render.skin.sparkle_texture`, whose mean is the
        glints'), looked up at the cells' UV. On the grid, in the product's paint, it costs a lookup per cell instead
        of one per frame pixel and a composite of the glinting pixels (0.5 ms of a webcam look)."""
        if not self.options.match_camera:
            return None
        blur = ctx.stroke_blur
        scale = ctx.space.scale
        spacing = M.GLINT_SPACING_CELLS * scale / S.SPARKLE_CELLS_PER_UV  # pixels between glints
        if not blur or blur < 0.5 * spacing:
            return None
        texel = max(float(grid.cell), 2.0 * blur)  # pixels a texel of the averaged texture spans at least
        level = min(max(math.ceil(math.log2(S.SPARKLE_TEXELS_PER_UV * texel / scale)), 0), _SHEEN_LEVELS)
        texture = S.sparkle_texture(level)
        n = np.float32(texture.shape[0])
        mx = np.take(grid.u.reshape(-1), cells) * n - np.float32(0.5)
        my = np.take(grid.v.reshape(-1), cells) * n - np.float32(0.5)
        mean = F.remap_points(texture, mx[None], my[None], border=cv2.BORDER_CONSTANT).reshape(-1)
        sheen = cv2.multiply(mean.reshape(-1, 1), sparkle.reshape(-1, 1), scale=float(_GLINT) / 255.0,
                             dtype=cv2.CV_32F).reshape(-1)  # (n, 1) columns: not a scalar for n <= 4
        np.minimum(sheen, np.float32(0.6), out=sheen)
        return sheen

    def _foundation_layer(self, ctx: _Context, side: P.PatternSide, grid: FaceGrid, rect: Rect,
                          change: GridChange, erase: tuple[Erase, ...]) -> Layer | None:
        """Foundation: the skin's tone evened towards the shade at low resolution (the face about
        ``_FOUNDATION_SIZE`` px across), as one smooth change over the face."""
        tex = side.texture
        assert tex is not None
        r0, c0, r1, c1 = rect
        rh, rw = r1 - r0, c1 - c0
        x0, y0, x1, y1 = grid.frame_box(rect)
        # m x m cells per sample of the tone: the grid's own unless it is much finer (resizing by less than 1.5
        # aliases); a whole number, so that every resize here is OpenCV's fast block average or its exact inverse
        # (the rect is padded to whole samples, its edge repeated, and the change cropped back)
        own = self._box(ctx.space, side, reach=False) or (x0, y0, x1, y1)  # the face's size, not its reach's
        m = max(own[2] - own[0], own[3] - own[1]) / _FOUNDATION_SIZE / grid.cell
        m = 1 if m < 1.5 else int(round(m))
        sh, sw = -(-rh // m), -(-rw // m)
        same = m == 1

        def down(a: np.ndarray) -> np.ndarray:
            if same:
                return a
            if (sh * m, sw * m) != a.shape[:2]:
                a = cv2.copyMakeBorder(a, 0, sh * m - a.shape[0], 0, sw * m - a.shape[1], cv2.BORDER_REPLICATE)
            return cv2.resize(a, (sw, sh), interpolation=cv2.INTER_AREA)

        small = down(change.region(rect))
        if same:
            su, sv, sm = grid.u[r0:r1, c0:c1], grid.v[r0:r1, c0:c1], grid.on_mesh[r0:r1, c0:c1]
        else:  # the UV at each sample's centre, straight from the face's UV grid
            k = grid.cell * m
            uvo = grid.space.uv_grid.lattice_values((x0, y0, x0 + sw * k, y0 + sh * k), k)  # type: ignore[union-attr]
            su, sv, sm = cv2.split(uvo)
        alpha = tex.sample(su, sv)[..., 0]
        alpha *= sm * self._alpha[0]
        if self._to_hairline and ctx.hair_model is not None:
            # the forehead's bare skin up to the hairline, past the mesh's top edge and the pattern's fade there
            reach = _hairline_reach(ctx, grid, change.small, small, rect, m, (su, sv, sm), (x0, y0))
            if reach is not None:
                top = alpha[: reach.shape[0]]
                np.maximum(top, reach * self._alpha[0], out=top)
        skin = alpha > np.float32(0.05)
        outlines = None
        for e in erase:  # the openings and brows stay out of the skin's colour statistics
            found = grid.erase_part(e.name, e.grow)
            if found is None:
                continue
            (a0, b0, a1, b1), mask = found
            a0, b0, a1, b1 = max(a0, r0), max(b0, c0), min(a1, r1), min(b1, c1)
            if a1 > a0 and b1 > b0:
                if outlines is None:
                    outlines = np.zeros((rh, rw), np.float32)
                part = outlines[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0]
                np.maximum(part, mask[a0 - found[0][0] : a1 - found[0][0], b0 - found[0][1] : b1 - found[0][1]],
                           out=part)
        if outlines is not None:
            skin &= down(outlines) < 0.5
        covered = ctx.covered(grid)
        if covered is not None:  # no foundation on the hands in front of the face
            c = down(np.ascontiguousarray(covered[r0:r1, c0:c1]))
            alpha *= np.float32(1.0) - np.clip(c * np.float32(2.0), 0.0, 1.0)
        if ctx.hair is not None and ctx.hair[0] is grid:  # nor on the hair over it, nor in its statistics
            h = down(np.ascontiguousarray(ctx.hair[1][r0:r1, c0:c1]))
            alpha *= np.float32(1.0) - h
            skin &= h < np.float32(0.5)
        luts = self._light(ctx)
        if luts is not None:  # the shade under white light, then both colours back in the frame's light
            small = cv2.LUT(small, luts[0])
        before, after = S.foundation_colours(small, alpha, self._shade_lab[0],
                                             face_width=0.8 * ctx.space.scale / (grid.cell * m),
                                             skin=skin.astype(np.float32))
        if luts is not None:
            lit = luts[1]
            before, after = (cv2.LUT(cv2.convertScaleAbs(np.maximum(c, np.float32(0.0))), lit) for c in (before, after))
        g_small, o_small = S.gain_offset(before, after)
        extent = _field_extent(g_small, o_small, (r0, c0, r0 + sh * m, c0 + sw * m))
        if extent is None:
            return None
        extent = (extent[0], extent[1], min(r1, extent[2]), min(c1, extent[3]))
        if not same:  # bilinear from the samples (at their blocks' centres) to the cells, cropped to the rect
            g_small = cv2.resize(g_small, (sw * m, sh * m), interpolation=cv2.INTER_LINEAR)[:rh, :rw]
            o_small = cv2.resize(o_small, (sw * m, sh * m), interpolation=cv2.INTER_LINEAR)[:rh, :rw]
        return Layer(rect, None, g_small, o_small, extent, erase, None, self)

    def _draw_sharp(self, out: np.ndarray, ctx: _Context, side: P.PatternSide) -> Box | None:
        """Liner, lashes, brows: drawn at the frame's resolution (a brow's hair strokes looked up in UV,
        :func:`_hair_coverage`); the box of what was painted (None for none)."""
        if self.options.kind == "brow":
            box = ctx.space.box_of(side.texture.triangles) if side.texture is not None else None
            return None if box is None else self._brow(out, ctx, side, box)
        pts = ctx.space.points
        verts = [s.vertices(pts) for s in side.strokes]
        if not verts:
            return None
        blur = ctx.stroke_blur if self.options.match_camera else 0.0
        box = _points_box(verts[0] if len(verts) == 1 else np.vstack(verts), ctx.space.shape, blur_reach(blur))
        if box is None:
            return None
        alphas = None
        for strokes, v in zip(side.strokes, verts, strict=True):
            # each set filled over its own box (the finer supersampling of thin lower lashes over their strip only)
            sub = box if len(verts) == 1 else _points_box(v, ctx.space.shape)
            if sub is None:
                continue
            # a small face's lashes are a fraction of a pixel wide: sampled finely enough not to bead, and darker
            # than their own width (the few dozen drawn stand for a lash line's hundred or so)
            thinnest = strokes.thinnest * ctx.space.scale
            cov = COV.packed_coverage(v, strokes.ends, sub, ss=COV.supersampling(thinnest))
            if thinnest < FRINGE_WIDTH:
                cov *= np.float32(min(FRINGE_WIDTH / max(thinnest, 1e-6), FRINGE_GAIN))
                np.minimum(cov, np.float32(1.0), out=cov)
            if strokes.opacity < 1.0:  # a set drawn lighter (lower lashes)
                cov *= np.float32(strokes.opacity)
            if sub == box:
                alphas = cov if alphas is None else np.maximum(alphas, cov, out=alphas)
                continue
            if alphas is None:
                alphas = np.zeros((box[3] - box[1], box[2] - box[0]), np.float32)
            at = alphas[sub[1] - box[1] : sub[3] - box[1], sub[0] - box[0] : sub[2] - box[0]]
            np.maximum(at, cov, out=at)
        if alphas is None:
            return None
        if blur:  # the camera's softness outward (the erase masks and occluders after it: an eye opening stays clear)
            alphas = np.maximum(alphas, cv2.GaussianBlur(alphas, (0, 0), blur, borderType=cv2.BORDER_CONSTANT))
        # on a turned head the far eye's strokes land where the nose hides that eye: kept where the face shows them
        shown = ctx.space.showing(_uv_union([s.uv_box for s in side.strokes]), box)
        if shown is not None:
            alphas *= shown
        alphas *= self._keep(ctx, side, box)
        alphas *= self._alpha[0]
        return self._composite(out, box, [(alphas, None)], self._light(ctx))

    def _keep(self, ctx: _Context, side: P.PatternSide, box: Box) -> np.ndarray | np.float32:
        """Where colour may go in ``box``: 1 - the erase mask of the side's outlines, less what covers the face
        (the scene's occluders: a pixel covered for ``OCCLUDED`` or more gets none, ``VISIBLE`` or less all)."""
        erase = ctx.space.erase(side.erase, box)
        keep: np.ndarray | np.float32 = np.float32(1.0) if erase is None else np.float32(1.0) - erase
        occluded = ctx.occlusion_keep(box)
        if occluded is not None:
            keep = keep * occluded
        return keep

    def _composite(self, out: np.ndarray, box: Box, steps: list[tuple[np.ndarray, np.ndarray | None]],
                   luts: tuple[np.ndarray, np.ndarray] | None) -> Box | None:
        """Paint the first palette colour inside ``box`` of ``out``, once per step ``(alpha, reference)`` (float32
        (h, w) each; ``reference``: the weights of the pixels whose median lightness the shading is relative to,
        None for ``alpha``'s), each step over the last, under the light's lookup tables ``luts`` (None: white);
        the box of the pixels painted (None for none)."""
        painted_mask = steps[0][0] > S.MIN_ALPHA if len(steps) == 1 else (
            np.maximum(steps[0][0], steps[1][0]) > S.MIN_ALPHA)
        index = np.flatnonzero(painted_mask)
        if not len(index):
            return None
        x0, y0, x1, y1 = box
        w, width = x1 - x0, out.shape[1]
        # each pixel's place in the frame: a row of the box moves on by the frame's width
        at = index // w
        at *= width - w
        at += index
        at += y0 * width + x0
        flat = out.reshape(-1, 3)
        original = take_rows(flat, at)
        table = self._tables[0]

        def paint(px: np.ndarray) -> np.ndarray:  # under white light: uint8 (1, n, 3)
            painted = px
            for alpha, reference in steps:
                a = np.take(alpha.reshape(-1), index)
                weights = a if reference is None else np.take(reference.reshape(-1), index)
                codes = S.luminance_codes(painted)
                lightness = S.median_lightness(codes, weights)
                painted = table.paint(painted, a, lightness, S.lightness_index(painted, codes))
            return painted[None]

        # in the scene's light (luts): taken out of it, painted, put back (untouched pixels exactly as they were)
        put_rows(flat, at, composite_in_light(original, None, paint, luts)[0])
        columns = painted_mask.any(axis=0)
        return (x0 + int(columns.argmax()), y0 + int(index[0]) // w, x1 - int(columns[::-1].argmax()),
                y0 + int(index[-1]) // w + 1)

    def _brow(self, out: np.ndarray, ctx: _Context, side: P.PatternSide, box: Box) -> Box | None:
        tex = side.texture
        assert tex is not None
        uvm = ctx.space.uv_in(box)
        brow = tex.sample(uvm.u, uvm.v)[..., 0]
        brow *= uvm.on_mesh
        x0, y0, x1, y1 = box
        hair = S.hair_weight(S.luminance(out[y0:y1, x0:x1]), brow)
        keep = self._keep(ctx, side, box)
        tint = hair * np.float32(1.0 - _BROW_SKIN_ALPHA)
        tint += np.float32(_BROW_SKIN_ALPHA)
        tint *= brow
        tint *= keep
        luts = self._light(ctx)
        hair *= brow
        tint *= self._alpha[0]
        steps: list[tuple[np.ndarray, np.ndarray | None]] = [(tint, hair)]
        if side.strokes:
            hairs = _hair_coverage(side, uvm, ctx.space.scale)
            blur = ctx.stroke_blur if self.options.match_camera else 0.0
            if blur:  # the camera's softness (the brow's box holds its soft edge: room for the blur)
                hairs = cv2.GaussianBlur(hairs, (0, 0), blur, borderType=cv2.BORDER_CONSTANT)
            # strokes stay inside the brow's shape (its soft edge), over the tint
            hairs *= np.minimum(brow * np.float32(1.6), np.float32(1.0))
            hairs *= keep
            hairs *= np.float32(0.6) * self._alpha[0]
            steps.append((hairs, brow))
        return self._composite(out, box, steps, luts)


def _hair_coverage(side: P.PatternSide, uvm: Any, scale: float) -> np.ndarray:
    """Coverage of a brow's hair strokes over a UV map ``uvm`` (:class:`~arlens.render.face_uv.UVMap`) of a face of
    ``scale`` pixels per UV unit: each hair at its own opacity (in quarters; the stronger over the weaker), looked up
    in :func:`_hair_texture`, blended between the two levels around ``2 ** _HAIR_BIAS`` texels a pixel (as a mipmap's
    trilinear lookup: no level switches as the face's size changes).

    Looked up rather than filled per face: 240 polygons a face (a brow/fill's hairs, each filled and supersampled)
    cost about a third of a millisecond; a brow is a soft region of hairs, not an edge a pixel's shift shows (the
    liner and lashes, which draw the eye's edge, are filled on the face itself)."""
    level = math.log2(max(scale, 2.0 ** _HAIR_LEVELS[0])) + _HAIR_BIAS
    k = min(max(int(math.floor(level)), _HAIR_LEVELS[0]), _HAIR_LEVELS[1] - 1)
    t = np.float32(min(max(level - k, 0.0), 1.0))
    total = None
    for strokes in side.strokes:
        cov = None
        for texels, weight in ((2 ** k, np.float32(1.0) - t), (2 ** (k + 1), t)):
            if weight <= 0.0:
                continue
            origin, tex = _hair_texture(strokes, texels)
            mx = (uvm.u - origin[0]) * np.float32(texels) - np.float32(0.5)
            my = (uvm.v - origin[1]) * np.float32(texels) - np.float32(0.5)
            part = cv2.remap(tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            if weight < 1.0:
                part *= weight
            cov = part if cov is None else np.add(cov, part, out=cov)
        assert cov is not None
        total = cov if total is None else np.maximum(total, cov, out=total)
    assert total is not None
    return total


def _hair_texture(strokes: P.Strokes, texels: int) -> tuple[np.ndarray, np.ndarray]:
    """Hair strokes filled in UV at ``texels`` per UV unit: (float32 (2,) the UV of the texture's corner, float32
    (h, w) coverage, each polygon at its opacity in quarters and the stronger over the weaker, 4x4 supersampled as
    on a face). Made once per strokes and level (patterns live for the process)."""
    key = (id(strokes), texels)
    found = _HAIR_TEXTURES.get(key)
    if found is not None and found[0] is strokes:
        return found[1], found[2]
    order, ends, levels = strokes.by_level
    uv = np.take(F.warp(strokes.located, F.layout().uv), order, axis=0)  # each vertex's UV, as the face warps it
    origin = uv.min(axis=0) - np.float32(2.0 / texels)
    size = np.ceil((uv.max(axis=0) - origin) * texels).astype(int) + 3
    tex = COV.packed_coverage((uv - origin) * np.float32(texels) - np.float32(0.5), ends,
                              (0, 0, int(size[0]), int(size[1])), levels)
    origin = origin.astype(np.float32)
    _HAIR_TEXTURES[key] = (strokes, origin, tex)
    return origin, tex


#: Strokes narrower than this (pixels: a lash on a face under about 160 px between the eyes) are drawn as dark as a
#: line this wide, up to ``FRINGE_GAIN`` times their own coverage: a mascara's few dozen lashes stand for a lash line's
#: hundred or so, which from afar read as a dark fringe, not as faint hairs. Looked at on faces 40 to 125 px between
#: the eyes: filled at their width (:func:`arlens.render.coverage.supersampling`) the lashes were grey and faint,
#: 3x made a solid band at 40 px, 2x a fringe (a fixed 4x4 fill had covered them 1.4-5x, as beads).
FRINGE_WIDTH = 0.4
FRINGE_GAIN = 2.0
#: Cells per UV unit hair is first looked for on (about 4 px on a 720p webcam's face).
_HAIR_CELLS = 80.0
#: On grids of cells this large or larger (a product alone on a close face) hair's edges are found again pixel by
#: pixel; finer grids (a look: eyeshadow's) resolve a strand themselves.
_HAIR_REFINE_CELL = 3
#: Brow hair textures (:func:`_hair_texture`) are made at 2**k texels per UV unit for k in this range (a face 4 to
#: 4,096 px across a UV unit).
_HAIR_LEVELS = (2, 12)
#: The levels blended are those around 2**_HAIR_BIAS texels a pixel (1 to 2: the hairs as sharp as filled on the face,
#: the least changed of 0, 0.5 and 1 on the bench's and tests' faces).
_HAIR_BIAS = 0.5
#: (id(strokes), texels) -> (the strokes, the texture's UV corner, its coverage); patterns live for the process.
_HAIR_TEXTURES: dict[tuple[int, int], tuple[Any, np.ndarray, np.ndarray]] = {}
#: FaceScene -> what the make-up lenses work out once per face and frame and share (every lens drawn alone makes a
#: context of its own), by name: "light" (its light's gains, clipped, and their lookup tables), "hair_classes",
#: "hair_model"; gone with the frame's scene.
_PER_FACE: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _per_face(face: Any, name: str, make: Callable[[], Any]) -> Any:
    """``name``'s value for FaceScene ``face``, made by ``make`` the first time it is asked for in the frame."""
    found = _PER_FACE.get(face)
    if found is None:
        found = _PER_FACE[face] = {}
    if name not in found:
        found[name] = make()
    return found[name]


#: Products of the face's skin, which hair falling over the face hides.
_SKIN_KINDS = ("foundation", "contour", "highlighter", "blush")
#: Soft products: painted on a low-resolution grid of the face and applied as one smooth change.
_FIELD_KINDS = ("foundation", "contour", "highlighter", "blush", "eyeshadow")


class _Context:
    """One face while lenses draw it: its shared geometry, what the scene knows of it, the light (its gains and
    lookup tables, each made once), what covers it."""

    def __init__(self, space: FaceSpace, face: Any, light: bool) -> None:
        self.space = space
        self.face = face  # arlens.scene.FaceScene
        gains = face.light.gains if light else None
        self.gains: np.ndarray | None = None
        self.luts: tuple[np.ndarray, np.ndarray] | None = None
        if gains is not None and not is_neutral(gains):
            def light() -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
                clipped = np.maximum(np.asarray(gains, np.float64), 1e-4)
                luts = S.light_luts(clipped)
                for a in (clipped, *luts):
                    a.setflags(write=False)
                return clipped, luts

            self.gains, self.luts = _per_face(face, "light", light)
        self._hands = bool(face.scene.occluding_hands())
        self._covered: dict[Box, np.ndarray | None] = {}
        #: the run's grid and how likely each of its cells is hair (None: none is), set by :meth:`find_hair`
        self.hair: tuple[FaceGrid, np.ndarray] | None = None
        self._hair_keep: dict[Box, np.ndarray | None] = {}

    @property
    def stroke_blur(self) -> float:
        """Gaussian sigma (pixels) a stroke drawn at the frame's resolution gets to look as soft as the frame
        (:func:`~arlens.render.camera_match.added_blur` of :attr:`arlens.scene.FaceScene.camera_look`, measured once
        per face and frame), as the eyewear is softened; 0 for a sharp frame."""
        return _per_face(self.face, "stroke_blur", lambda: added_blur(self.face.camera_look))

    @property
    def hair_classes(self) -> tuple[Any, ...]:
        """This face's hair colours (:func:`arlens.render.hair.hair_classes`), learned once per frame and shared by
        every lens drawing on the face (kept beside the frame's scene)."""
        face = self.face
        return _per_face(face, "hair_classes",
                         lambda: hair_classes(face.scene.frame, face.face.landmarks, face.colors.skin))

    @property
    def hair_model(self) -> HairModel | None:
        """How likely a pixel is hair over this face (:class:`arlens.render.hair.HairModel` of its skin and hair
        classes, made once per face and frame and shared like :attr:`hair_classes`: for coarse cells, their edges, the
        frame's pixels, by every lens); None without a skin class."""
        def model() -> HairModel | None:
            skin = self.face.colors.skin
            return None if skin is None else HairModel(skin, self.hair_classes)

        return _per_face(self.face, "hair_model", model)

    def forget_hair(self) -> None:
        """No hair is kept off by the run drawn next (eye products alone keep to their own rules); the hair an
        earlier run of the group found lies on that run's grid, not on this one's."""
        self.hair = None
        self._hair_keep = {}

    def find_hair(self, grid: FaceGrid, small: np.ndarray) -> np.ndarray | None:
        """How likely each cell of ``grid`` (its colours ``small``) is hair over the face or background behind it
        (:mod:`arlens.render.hair`; the scene's person mask where it has one), outside the eyes, brows and lips
        (which keep their own rules): float32 (rows, columns), or None where no cell is. Kept for :meth:`hair_keep`.
        """
        self.hair = None
        self._hair_keep = {}
        model = self.hair_model
        # looked for on cells of about _HAIR_CELLS per UV unit (a strand half over a cell still shows), then on the
        # grid's cells, then at the frame's resolution where it was seen (hair_keep)
        gh, gw = grid.shape
        # (at most half the grid's longer side: a face thrown many frames across, on a grid of a few cells, would
        # otherwise pad them to blocks of thousands)
        m = max(1, min(int(round(self.space.scale / _HAIR_CELLS / grid.cell)), max(gh, gw) // 2))
        ch, cw = max(2, -(-gh // m)), max(2, -(-gw // m))
        coarse = small
        if m > 1:  # m x m cells each (the grid padded to whole blocks, its edge repeated: OpenCV's fast block mean)
            if (ch * m, cw * m) != (gh, gw):
                coarse = cv2.copyMakeBorder(small, 0, ch * m - gh, 0, cw * m - gw, cv2.BORDER_REPLICATE)
            coarse = cv2.resize(coarse, (cw, ch), interpolation=cv2.INTER_AREA)
        p = None if model is None else model.probability(coarse)
        person = getattr(self.face.scene, "person", None)
        if callable(person) and getattr(self.face.scene, "has_person_mask", False):
            mask = person(grid.box)
            if mask is not None:
                k = grid.cell * m  # the same blocks of pixels as the coarse cells
                if mask.shape != (ch * k, cw * k):
                    mask = cv2.copyMakeBorder(mask, 0, ch * k - mask.shape[0], 0, cw * k - mask.shape[1],
                                              cv2.BORDER_REPLICATE)
                mask = cv2.resize(mask, (cw, ch), interpolation=cv2.INTER_AREA)
                background = np.float32(1.0) - mask
                p = background if p is None else np.maximum(p, background)
        if p is None or not (p > np.float32(0.02)).any():
            return None
        p = _reaching_in(p, grid, self.space, m)  # connected through the brows and eyes, which are not skin either
        if p is None:
            return None
        free = np.float32(1.0) - _own_rules(grid, self.space)  # 0 where the face's own rules hold
        if m > 1:  # found again on the grid's own cells where the coarse ones saw some but not all (edges, strands),
            # but for those the rules take whole (nothing there is kept, hair or not)
            p = np.ascontiguousarray(cv2.resize(p, (cw * m, ch * m), interpolation=cv2.INTER_LINEAR)[:gh, :gw])
            flat = p.reshape(-1)
            edge = np.flatnonzero((flat > np.float32(0.02)) & (flat < np.float32(0.98))
                                  & (free.reshape(-1) > np.float32(0.0)))
            if len(edge):
                if model is not None:
                    flat[edge] = model.probability(take_rows(small.reshape(-1, 3), edge))
        p *= free
        # a cell of softness: lone cells of skin between hair strands (or of hair in the skin) are noise, and a hard
        # edge would show each one as a speck
        p = cv2.GaussianBlur(p, (3, 3), 0.8, borderType=cv2.BORDER_REPLICATE)
        if not (p > np.float32(0.02)).any():
            return None
        self.hair = (grid, p)
        return p

    def limit_hair(self, change: GridChange) -> None:
        """Forget the hair where none of the run's products changes anything (it need not be looked at closer at
        the frame's resolution, :meth:`hair_keep`; a run on cells fine enough to fade the hair off on the grid
        looks no closer and need not call this: fading no change leaves it none)."""
        if self.hair is None:
            return
        grid, p = self.hair
        active = (np.abs(change.gain - np.float32(1.0)) > np.float32(1e-3)).astype(np.uint8)
        active |= (cv2.transform(np.abs(change.offset), np.ones((1, 3), np.float32)) > np.float32(0.5)).astype(np.uint8)
        p = p * (cv2.dilate(active, np.ones((3, 3), np.uint8)) > 0)
        self.hair = (grid, p) if (p > np.float32(0.02)).any() else None

    def hair_keep(self, box: Box) -> np.ndarray | None:
        """float32 over frame ``box`` (inside the hair's grid): how much of a product each pixel keeps off the hair
        :meth:`find_hair` found (None: all of it)."""
        if self.hair is None:
            return None
        if box in self._hair_keep:
            return self._hair_keep[box]
        grid, p = self.hair
        near = np.ascontiguousarray(grid.upsample(p, (0, 0), box))
        flat = near.reshape(-1)
        keep = None
        if (flat > np.float32(0.02)).any():
            if grid.cell >= _HAIR_REFINE_CELL:  # cells this coarse blur a strand: found again at the frame's resolution
                index = np.flatnonzero((flat > np.float32(0.02)) & (flat < np.float32(0.98)))
                x0, y0, x1, y1 = box
                frame = self.face.scene.frame
                rows, cols = np.divmod(index, x1 - x0)
                px = take_rows(frame.reshape(-1, 3), (rows + y0) * frame.shape[1] + (cols + x0))
                model = self.hair_model
                if model is not None:
                    flat[index] = model.probability(px)
            keep = np.float32(1.0) - near
        self._hair_keep[box] = keep
        return keep

    def keep(self, box: Box) -> np.ndarray | None:
        """What the occluders and the hair leave of a product over frame ``box`` (None: all of it)."""
        a, b = self.occlusion_keep(box), self.hair_keep(box)
        return a if b is None else (b if a is None else a * b)

    def occlusion_keep(self, box: Box) -> np.ndarray | None:
        """float32 over ``box``: how much of a product each pixel keeps under the scene's occluders (a pixel covered
        for ``OCCLUDED`` or more keeps none, ``VISIBLE`` or less all); None where nothing covers the box."""
        if not self._hands:
            return None
        covered = self.face.occlusion(box)
        if covered.max(initial=0.0) <= VISIBLE:
            return None
        return uncovered(covered)

    def covered(self, grid: FaceGrid) -> np.ndarray | None:
        """float32 (rows, columns): how much of each cell of ``grid`` the occluders cover; None for nothing."""
        if not self._hands:
            return None
        if grid.box not in self._covered:
            covered = self.face.occlusion(grid.box)
            self._covered[grid.box] = None if covered.max(initial=0.0) <= VISIBLE else (
                covered if grid.cell == 1 else cv2.resize(covered, grid.shape[::-1], interpolation=cv2.INTER_AREA))
        return self._covered[grid.box]

    def covered_keep(self, grid: FaceGrid) -> np.ndarray | None:
        """float32 (rows, columns): how much of a product each cell keeps under the occluders; None for all."""
        covered = self.covered(grid)
        return None if covered is None else uncovered(covered)


def _own_rules(grid: FaceGrid, space: FaceSpace) -> np.ndarray:
    """float32 (rows, columns) over ``grid``: where the face has rules of its own and hair is not looked for, 1: each
    eye with its lid and brow (the hull of the eye's and the brow's outlines: lashes, the crease's shadow and the brow
    are not skin, and eye make-up goes there) and the lips, with their soft edges (the erase masks)."""
    from arlens import landmarks as named

    k = grid.cell
    x0, y0 = grid.box[:2]
    hulls = np.zeros(grid.shape, np.uint8)
    for eye, brow in ((named.right_eye(), named.right_eyebrow()), (named.left_eye(), named.left_eyebrow())):
        pts = (space.points[list(eye) + list(brow)] - (x0 - 0.5 * k + 0.5, y0 - 0.5 * k + 0.5)) / k
        hull = cv2.convexHull(np.rint(pts * 16).astype(np.int32))
        cv2.fillConvexPoly(hulls, hull, 1, cv2.LINE_8, 4)
    rules = hulls.astype(np.float32)
    for name, grow in (("lips", 0.0), ("right_brow", space.brow_margin()), ("left_brow", space.brow_margin())):
        found = grid.erase_part(name, grow)
        if found is not None:
            (r0, c0, r1, c1), mask = found
            part = rules[r0:r1, c0:c1]
            np.maximum(part, mask, out=part)
    return rules


def _reaching_in(p: np.ndarray, grid: FaceGrid, space: FaceSpace, m: int = 1) -> np.ndarray | None:
    """``p`` (hair over cells of ``grid``, m x m of them to one of ``p``'s) where it reaches into the face from
    outside its outline or from the grid's edge: hair falls over a face from the head, so what is not skin only
    counts where it is connected (through cells that are not skin) to the outside; an odd patch inside the face
    (a highlight, skin seen through a tinted lens) stays skin. None where nothing is left."""
    from arlens import landmarks as named

    k = grid.cell * m  # p's cells are m x m of the grid's
    x0, y0 = grid.box[:2]
    inside = np.zeros(p.shape, np.uint8)
    oval = (space.points[list(named.face_oval())] - (x0 - 0.5 * k + 0.5, y0 - 0.5 * k + 0.5)) / k
    cv2.fillPoly(inside, [np.rint(oval * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    flagged = (p > np.float32(0.25)).astype(np.uint8)
    # gaps of a cell or two (a lighter lock of a strand) do not cut a strand from its head
    count, labels = cv2.connectedComponents(cv2.dilate(flagged, np.ones((3, 3), np.uint8)), connectivity=8)
    if count <= 1:
        return None
    outside = inside == 0
    outside[0, :] = outside[-1, :] = True  # the grid's edge too: hair crossing into a product's box comes from
    outside[:, 0] = outside[:, -1] = True  # outside it (the rest of the strand is not on this grid)
    seeded = np.zeros(count, bool)
    seeded[labels[(flagged > 0) & outside]] = True
    seeded[0] = False
    reach = seeded[labels]
    if not reach.any():
        return None
    # the connected hair and a cell around it (its soft edge)
    near = cv2.dilate(reach.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return np.where(near, p, np.float32(0.0))


def _draw_fields(out: np.ndarray, ctx: _Context, run: list[MakeupLens], boxes: dict[int, list[Box]]) -> None:
    """Draw a run of soft products on one face in one pass (:mod:`arlens.render.face_grid`)."""
    space = ctx.space
    items = []
    for lens in run:
        sides = [(side, box) for side in lens.pattern.sides if (box := lens._box(space, side)) is not None]
        if sides:
            items.append((lens, sides))
    if not items:
        return
    every = [b for _, sides in items for _, b in sides]
    zone = [_GAIN_RES[lens.kind] for lens, _ in items if lens.kind in _GAIN_RES]
    if zone:
        cell = cell_size(space.scale, max(zone))
    else:  # foundation alone: its own resolution (by the face's size, not the forehead it may reach)
        fbox = _union([b for lens, sides in items for side, _ in sides
                       if (b := lens._box(space, side, reach=False)) is not None] or every)
        assert fbox is not None
        cell = max(1, int(max(fbox[2] - fbox[0], fbox[3] - fbox[1]) / _FOUNDATION_SIZE))
    grid = FaceGrid.around(space, every, cell)
    change = GridChange(grid, out)
    keep_cells = ctx.covered_keep(grid)
    # soft products keep off the hair over the face (eye products alone: their region has rules of its own)
    wants = any(lens.kind in _SKIN_KINDS and lens.options.keep_off_hair for lens, _ in items)
    hair = ctx.find_hair(grid, change.small) if wants else ctx.forget_hair()
    if hair is not None:
        keep_cells = np.float32(1.0) - hair if keep_cells is None else keep_cells * (np.float32(1.0) - hair)
    for i, (lens, sides) in enumerate(items):
        parts = [(side, r) for side, box in sides if (r := grid.rect(box)) is not None]
        if not parts:
            continue
        rect = parts[0][1]
        for _, r in parts[1:]:
            rect = (min(rect[0], r[0]), min(rect[1], r[1]), max(rect[2], r[2]), max(rect[3], r[3]))
        erase = tuple(dict.fromkeys(e for side, _ in parts for e in lens._erase(side, ctx)))  # each outline once
        keep = change.keep(erase, rect, keep_cells)
        if lens.kind == "foundation":
            layer = lens._foundation_layer(ctx, parts[0][0], grid, rect, change, erase)
        else:
            layer = lens._zone_layer(ctx, parts, grid, rect, change, erase, keep)
        if layer is not None:
            change.add(layer, keep, seen=i + 1 < len(items))  # the last product's is seen by none
    if not change.layers:
        return
    if ctx.hair is not None and grid.cell < _HAIR_REFINE_CELL:
        # cells this fine resolve a strand: the hair comes off the composed change on the grid, before it is resized,
        # and off each product's own change, which the outlines products keep off differently are put together
        # from again (foundation keeps only a brow's hair: without it there, a patch of hair beside the brow's
        # end took the shade)
        keep = np.float32(1.0) - ctx.hair[1]
        fade_change(change.gain, change.offset, keep)
        for layer in change.layers:
            r0, c0, r1, c1 = layer.rect
            fade_change(layer.gain, layer.offset, keep[r0:r1, c0:c1] if layer.cells is None else
                        np.take(keep.reshape(-1), layer.cells))
        change.apply(out, ctx.occlusion_keep)
    else:
        ctx.limit_hair(change)
        change.apply(out, ctx.keep)

    def keep_of(erase: tuple[Erase, ...], b: Box) -> np.ndarray | None:
        k = change.outline_keep(erase, b)
        covered = ctx.keep(b)
        return k if covered is None else (covered if k is None else k * covered)

    change.glints(out, change.layers, keep_of, _GLINT, ctx.luts)
    for layer in change.layers:
        lens = layer.owner
        assert isinstance(lens, MakeupLens)
        boxes[id(lens)].append(change.layer_box(layer))


def _hairline_reach(ctx: _Context, grid: FaceGrid, small: np.ndarray, tone: np.ndarray, rect: Rect, m: int,
                    uvm: tuple[np.ndarray, np.ndarray, np.ndarray], origin: tuple[int, int]) -> np.ndarray | None:
    """How much foundation goes on the forehead's skin up to the hairline, past the mesh and the pattern's own fade
    at its top: float32 over the first rows of foundation's samples (``m`` x ``m`` cells of ``grid`` each, over
    ``rect``, from frame pixel ``origin``; ``uvm`` their u, v and coverage by the mesh; ``small`` the grid's cells'
    colours, ``tone`` the samples'), the rows down to the forehead's lowest vertex; None where it reaches nothing.
    Bounded by :func:`_forehead` and :func:`_forehead_reach`, stopped at the hair (and at what is not the forehead's
    colour, :func:`_like_forehead`) by :func:`_forehead_skin`."""
    space = ctx.space
    pixels = grid.cell * m
    su, sv, sm = uvm
    # the forehead's rows: nothing below its lowest vertex is reached (the rest of the face is the pattern's)
    lowest = float(space.points[_forehead_vertices(), 1].max())
    n = min(su.shape[0], max(1, math.ceil((lowest + 1.0 - origin[1]) / pixels) + 1))
    su, sv, sm = su[:n], sv[:n], sm[:n]
    reach = _forehead(su, sv, sm, pixels, space.scale)
    # off the mesh, only up the face from the arc (a box edge beside it would clip the paint)
    reach *= sm + (np.float32(1.0) - sm) * _sweep(_forehead_reach(space), origin, pixels, reach.shape)
    rows, cols = np.flatnonzero(reach.any(axis=1)), np.flatnonzero(reach.any(axis=0))
    if not len(rows):
        return None
    r0, c0, r1, c1 = rect
    k = _smooth_window(space.scale / grid.cell)
    cells = small[r0 : min(r1, r0 + n * m), c0:c1]
    hair = ctx.hair[1][r0 : r0 + cells.shape[0], c0:c1] if ctx.hair is not None and ctx.hair[0] is grid else None
    bare = _bare_skin(cells, hair, k)
    if m > 1:  # to the samples: m x m cells each (the rect's edge repeated to whole samples), as the tone's
        bare = cv2.copyMakeBorder(bare, 0, n * m - bare.shape[0], 0, reach.shape[1] * m - bare.shape[1],
                                  cv2.BORDER_REPLICATE)
        bare = cv2.resize(bare, reach.shape[::-1], interpolation=cv2.INTER_AREA)
    a0, a1, b0, b1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    bare = bare[a0:a1, b0:b1]
    v = sv[a0:a1, b0:b1]  # the forehead on the mesh, where its colour is learned and the climb starts
    forehead = (sm[a0:a1, b0:b1] > np.float32(0.5)) & (v >= np.float32(_FOREHEAD_V[0])) & (
        v <= np.float32(_FOREHEAD_V[1]))
    bare *= _like_forehead(tone[a0:a1, b0:b1], bare, forehead)
    reach[a0:a1, b0:b1] *= _forehead_skin(bare, forehead, -(-(k // 2 + 1) // m))
    return reach


def _side_references(lightness: list[float], counts: list[int], fitted: list[float]) -> list[float]:
    """The reference lightness each side's shading is taken relative to (:meth:`MakeupLens._zone_layer`): the skin
    under its zones as it would look in the brightest side's light.

    Args:
        lightness: each side's median lightness (CIELAB L of the skin under its zones).
        counts: how many pixels (grid cells) each median was taken over.
        fitted: each side's ratio from the scene light's fit (:func:`_shade_ratios`; 1 without one).

    Each side's own median alone leaves out the light's fall from one side of the face to the other: on a face lit
    from the side the shade came out as light on the shadowed cheek as on the lit one (a contour lightened the
    shaded side to an ashen patch, a blush glowed there). With both sides in view their medians measure that fall
    (a face's two cheeks have the same skin): each side is then relative to the brightest side's median. The scene
    light's fit says it too, on either side, in view or not, but its linear model falls short of a hard side light
    (2.7-3.5x where the cheeks' medians differ 6-9x on the talking-head clip); it takes over as a side leaves the
    view (seen on fewer than ``_SIDE_SEEN`` of the other's pixels, blended in the log of the ratio, so a turning head
    does not jump between the two). What darkens a cheek's median need not be the light (hair falling over it, a
    beard's shadow): the medians are believed up to the fit's ratio to the power ``_SIDE_TRUST``, so a side the fit
    finds as bright as the other keeps its own median. Ratios are at most ``_MAX_SHADE``."""
    ratios = list(fitted)
    if len(lightness) >= 2 and max(counts) > 0:
        seen = min(1.0, min(counts) / (_SIDE_SEEN * max(counts)))
        if seen > 0.0:
            y = [S.C.luminance_of(lm) for lm in lightness]
            top = max(y)
            ratios = []
            for yi, r in zip(y, fitted, strict=True):
                fit = math.log(max(r, 1.0))
                seen_here = min(math.log(top / max(yi, top / _MAX_SHADE)), _SIDE_TRUST * fit)
                ratios.append(math.exp(seen * seen_here + (1.0 - seen) * fit))
    return [S.brighter_lightness(lm, r) for lm, r in zip(lightness, ratios, strict=True)]


def _shade_ratios(face: Any, sides: Iterable[P.PatternSide]) -> dict[int, float] | None:
    """How many times more light the brightest side of a pattern gets than each side (by the id() of the side), from
    the scene's light: its fit of the skin's luminance over the posed mesh's normals, read at the vertices under each
    side's zones (the side's mean luminance, the fit being linear in the normal), at most ``_MAX_SHADE``. None when
    the light gives no direction or fewer than two sides have zones (nothing to compare). Hidden sides count too (the
    fit is read at their posed normals): on a face turned away from the light only the shaded side shows, and it
    stays shaded (:func:`_side_references`)."""
    sh = np.asarray(face.light.sh, dtype=np.float64)
    if not np.any(sh[1:]):
        return None
    normals = face.normals
    lit: dict[int, float] = {}  # by the side's id() (a side holds arrays: no hash of its own)
    for side in sides:
        if side.texture is None:
            continue
        index, weight = side.texture.vertex_weights
        if len(index):
            n = weight @ normals[index] / float(weight.sum())
            lit[id(side)] = float(sh[0] + sh[1:] @ n)
    if len(lit) < 2:
        return None
    top = max(lit.values())
    if top <= 0.0:
        return None
    return {key: top / max(y, top / _MAX_SHADE) for key, y in lit.items()}


def _like_forehead(px: np.ndarray, bare: np.ndarray, forehead: np.ndarray) -> np.ndarray:
    """float32 (rows, columns): how much each sample's colour (uint8 BGR ``px``) is the forehead's own, in CIELAB
    against the median of the bare skin (``bare`` above 0.5) on the mesh's forehead (``forehead``, bool):
    within ``_LIKE_CHROMA`` in chroma and ``_LIKE_LIGHTNESS`` in lightness. The face's skin colour model is broad
    (it spans the whole face's shading and blush); a wall behind the head seen past the temple, lighter or greyer
    than the forehead, is not the forehead's skin even where that model would take it."""
    lab = cv2.cvtColor(px.astype(np.float32) * np.float32(1.0 / 255.0), cv2.COLOR_BGR2Lab)
    ref = forehead & (bare > np.float32(0.5))
    if not ref.any():
        return np.zeros(px.shape[:2], np.float32)
    mean = np.median(lab[ref], axis=0)
    dc = np.hypot(lab[..., 1] - np.float32(mean[1]), lab[..., 2] - np.float32(mean[2]))
    dl = np.abs(lab[..., 0] - np.float32(mean[0]))
    like = _ramp(dc, _LIKE_CHROMA[1], _LIKE_CHROMA[0])
    like *= _ramp(dl, _LIKE_LIGHTNESS[1], _LIKE_LIGHTNESS[0])
    return like


@functools.cache
def _forehead_vertices() -> np.ndarray:
    """intp: the mesh's vertices at or above ``_FOREHEAD_V[1]`` in the face's UV (the forehead, down to the temples),
    read-only."""
    out = np.flatnonzero(F.layout().uv[:, 1] <= _FOREHEAD_V[1]).astype(np.intp)
    out.setflags(write=False)
    return out


def _forehead_reach(space: FaceSpace) -> np.ndarray:
    """float64 (n, 2), a polygon in the frame: the forehead's arc of the face outline (:func:`_forehead_outline`,
    moved 0.05 UV units into the face) and the same arc moved ``_FOREHEAD_REACH`` up the face (from the chin
    towards the forehead's top): what foundation may reach beyond the mesh sweeps no wider than this."""
    pts = space.points.astype(np.float64)
    up = pts[10] - pts[152]  # chin to the forehead's top, MediaPipe's indices
    up /= max(float(np.hypot(up[0], up[1])), 1e-6)
    arc = pts[_forehead_outline()]
    # from a little inside the mesh: the sweep's soft edge must not dip where the mesh's own edge fades
    return np.vstack([arc - up * (0.05 * space.scale), (arc + up * (_FOREHEAD_REACH * space.scale))[::-1]])


def _sweep(polygon: np.ndarray, origin: tuple[int, int], pixels: int, shape: tuple[int, int]) -> np.ndarray:
    """float32 ``shape``: how much of each sample (``pixels`` x ``pixels`` frame pixels from frame ``origin``) lies
    inside ``polygon`` (frame pixel centres), its edge softened by a sample."""
    mask = np.zeros(shape, np.uint8)
    # sample (i, j)'s centre is frame pixel centre origin + (j + 0.5) * pixels - 0.5
    at = (polygon - (origin[0] + 0.5 * pixels - 0.5, origin[1] + 0.5 * pixels - 0.5)) / pixels
    cv2.fillPoly(mask, [np.rint(at * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return cv2.GaussianBlur(mask.astype(np.float32), (3, 3), 0.8, borderType=cv2.BORDER_REPLICATE)


@functools.cache
def _forehead_outline() -> list[int]:
    """The face outline's landmarks above ``_FOREHEAD_V[1]`` in the face's UV, in order along the outline: the
    forehead's arc, temple to temple."""
    from arlens import landmarks as named

    oval = list(named.face_oval())
    v = F.layout().uv[:, 1]
    above = [v[i] <= _FOREHEAD_V[1] for i in oval]
    start = next(k for k in range(len(oval)) if above[k] and not above[k - 1])  # the arc's first point (cyclic)
    arc = []
    for k in range(len(oval)):
        i = (start + k) % len(oval)
        if not above[i]:
            break
        arc.append(oval[i])
    return arc


def _forehead(u: np.ndarray, v: np.ndarray, on_mesh: np.ndarray, pixels: float, scale: float) -> np.ndarray:
    """float32 like ``v`` (samples ``pixels`` apart on a face of ``scale`` pixels per UV unit, their UV and coverage
    by the mesh): how much foundation may go on the forehead, up to and past the mesh's top edge, where the
    pattern's own edge fades out. 1 on the mesh's upper part and on to ``_FOREHEAD_REACH`` beyond its top edge,
    fading out over the last ``_FOREHEAD_FADE`` of that, down the sides (from ``_FOREHEAD_V[0]`` to ``[1]`` in v)
    and towards the arc's ends (``_FOREHEAD_U`` in u from the nearer side; off the mesh, a sample has the UV of
    the mesh's nearest sample: nothing reaches out beside the arc, where the box drawn in ends). Where it stops
    short of that is the caller's to say (the hairline, :func:`_forehead_skin`); the reach bounds how far a bald
    head's skin-coloured background could be painted."""
    weight = _smoothstep(_ramp(v, _FOREHEAD_V[1], _FOREHEAD_V[0]))
    weight *= _smoothstep(_ramp(np.minimum(u, np.float32(1.0) - u), _FOREHEAD_U[0], _FOREHEAD_U[1]))
    off = (on_mesh < np.float32(0.5)).astype(np.uint8)
    if off.any():
        reach = _FOREHEAD_REACH * scale
        d = cv2.distanceTransform(off, cv2.DIST_L2, 3)  # in samples, from the mesh
        f = np.clip((np.float32(reach / pixels) - d) * np.float32(pixels / (_FOREHEAD_FADE * reach)), 0.0, 1.0)
        weight *= _smoothstep(f)
    return weight


def _ramp(x: np.ndarray, zero: float, one: float) -> np.ndarray:
    """float32 like ``x``: 0 at ``zero``, 1 at ``one`` (either way round), linear between and clipped beyond."""
    return np.clip((x - np.float32(zero)) * np.float32(1.0 / (one - zero)), 0.0, 1.0)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    """``3 t^2 - 2 t^3`` of ``t`` in 0..1: a ramp's ends eased."""
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


def _smooth_window(cells_per_uv: float) -> int:
    """The odd window (cells) :func:`_bare_skin` measures smoothness over on a face of ``cells_per_uv``."""
    return max(3, int(round(_SMOOTH_UV * cells_per_uv)) | 1)


def _bare_skin(px: np.ndarray, hair: np.ndarray | None, k: int) -> np.ndarray:
    """float32 (rows, columns): how surely each cell of ``px`` (uint8 BGR cells) is bare skin: not hair by the hair
    found on them (``hair``, or None for none) and smooth, its lightness varying over ``k`` x ``k`` cells
    (:func:`_smooth_window`) by less than ``_SMOOTH`` of its mean. Hair the skin's colour (golden strands on light
    skin, where the colour model is least sure) still shows its strands; skin is smooth at this scale."""
    gray = cv2.cvtColor(px, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = cv2.blur(gray, (k, k), borderType=cv2.BORDER_REPLICATE)
    spread = cv2.blur(gray * gray, (k, k), borderType=cv2.BORDER_REPLICATE)
    spread -= mean * mean
    np.maximum(spread, np.float32(0.0), out=spread)
    np.maximum(mean, np.float32(1.0), out=mean)
    rel = np.sqrt(spread) / mean  # the lightness's relative spread around each cell
    t = _ramp(rel, _SMOOTH[1], _SMOOTH[0])
    if hair is not None:
        t *= np.float32(1.0) - hair
    return t


def _forehead_skin(bare: np.ndarray, forehead: np.ndarray, grow: int) -> np.ndarray:
    """float32 like ``bare`` (samples' :func:`_bare_skin`): how surely each sample is joined to the forehead's skin
    on the mesh (``forehead``, bool: samples on it with v in ``_FOREHEAD_V``) through surely bare skin
    (``_FIRM``), spread ``grow`` samples further (a smoothness window straddling the hairline is not smooth: without
    them a bare rim would stay under the hair, which the hair found keeps off itself). Foundation climbs from the
    forehead to the hairline and stops there; a skin-like patch beyond the hair (a smooth highlight in it, a wall
    of the skin's colour) is not reached.

    "Joined" is the grey-level reconstruction of the forehead under ``bare`` (a sample's value is the weakest
    ``bare`` along its best path from the forehead, opened first so that a one-sample bridge joins nothing),
    quantised to ``_JOIN_LEVELS``: one threshold and its connected components would flip whole regions in and out
    as a blink moves the colour model a little. Written here (OpenCV's connected components, once per level)
    because OpenCV has no reconstruction and iterated dilations cost milliseconds."""
    # surely bare only (a path through half-sure golden hair joins nothing), opened
    opened = cv2.morphologyEx(_ramp(bare, _FIRM[0], _FIRM[1]), cv2.MORPH_OPEN, _SQUARE3)
    level = np.zeros_like(opened)
    for t in _JOIN_LEVELS:  # each sample's best path from the forehead, to a level (the sets shrink as t grows)
        above = opened >= np.float32(t)
        start = forehead & above
        if not start.any():
            break
        count, labels = cv2.connectedComponents(above.view(np.uint8), connectivity=4)
        reached = np.zeros(count, bool)
        reached[np.take(labels, np.flatnonzero(start))] = True
        reached[0] = False
        np.copyto(level, np.float32(t), where=np.take(reached, labels))  # (np.take: faster than fancy indexing)
    joined = np.minimum(level, opened)
    if grow > 0:
        joined = cv2.dilate(joined, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return cv2.GaussianBlur(joined, (3, 3), 0.8, borderType=cv2.BORDER_REPLICATE)


def _points_box(pts: np.ndarray, shape: tuple[int, int], margin: int = 0) -> Box | None:
    """The frame box around points (pixel centres) with two pixels (and ``margin`` more) to spare, clipped; None when
    empty."""
    h, w = shape
    # in the points' precision, as before; column by column (numpy's axis-0 reductions of (n, 2) points cost 3x more)
    xs, ys = pts[:, 0], pts[:, 1]
    lo, hi = [float(xs.min() - 2), float(ys.min() - 2)], [float(xs.max() + 2), float(ys.max() + 2)]
    if margin:
        lo, hi = [v - margin for v in lo], [v + margin for v in hi]
    x0, y0 = max(0, math.floor(lo[0])), max(0, math.floor(lo[1]))
    x1, y1 = min(w, math.ceil(hi[0]) + 1), min(h, math.ceil(hi[1]) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def _uv_union(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """The UV box around UV boxes (u0, v0, u1, v1)."""
    u0, v0, u1, v1 = zip(*boxes, strict=True)
    return min(u0), min(v0), max(u1), max(v1)


def _union(boxes: list[Box]) -> np.ndarray | None:
    if not boxes:
        return None
    if len(boxes) == 1:
        return np.array(boxes[0], dtype=np.float32)
    x0, y0, x1, y1 = zip(*boxes, strict=True)
    return np.array([min(x0), min(y0), max(x1), max(y1)], dtype=np.float32)


def _field_extent(gain: np.ndarray, offset: np.ndarray, rect: Rect) -> Rect | None:
    """The cells of ``rect`` a low-resolution change (``gain`` (sh, sw), ``offset`` (sh, sw, 3)) reaches once
    resized to them: the changed samples' extent plus the one sample bilinear resizing blends with each side."""
    changed = (gain != np.float32(1.0)) | (offset[..., 0] != 0.0) | (offset[..., 1] != 0.0) | (offset[..., 2] != 0.0)
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if not len(rows):
        return None
    sh, sw = gain.shape
    r0, c0, r1, c1 = rect
    sy, sx = (r1 - r0) / sh, (c1 - c0) / sw
    return (max(r0, r0 + int(math.floor((rows[0] - 1) * sy))), max(c0, c0 + int(math.floor((cols[0] - 1) * sx))),
            min(r1, r0 + int(math.ceil((rows[-1] + 2) * sy))), min(c1, c0 + int(math.ceil((cols[-1] + 2) * sx))))


def _zmax(a: np.ndarray) -> np.ndarray:
    """The maximum over the last axis of a (..., Z) array, one channel at a time (numpy's reduction over a short
    last axis is slow)."""
    out = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        np.maximum(out, a[..., k], out=out)
    return out
