"""Make-up lenses for the eyes, brows, cheeks and skin: eyeshadow, eyeliner, mascara, brow, blush, foundation,
contour and highlighter, each drawn in a named pattern with a palette of 1-5 colours.

One lens class draws every one of these kinds; what differs is the pattern (where the colour goes, authored
once in the face's UV layout, :mod:`arlens.render.patterns`) and the colour model
(:mod:`arlens.render.skin`):

- **eyeshadow, blush, contour, highlighter**: soft zones looked up through the face's per-triangle UV map
  of a region around each eye or cheek, painted with the lipstick's CIELAB composite, one palette colour per
  zone in palette order; shimmer and metallic finishes add glints fixed to the skin. On faces larger than the
  zones' softness needs, the composite runs at reduced resolution and the change is carried to full
  resolution as a smooth brightness gain and colour offset (:func:`arlens.render.skin.gain_offset`), which
  keeps the photo's own texture.
- **eyeliner, mascara**: sharp strokes (a liner with its wing, tapered lashes) warped vertex by vertex onto
  the face and filled anti-aliased at the frame's resolution.
- **brow**: tints the brow's hair (pixels darker than the skin around it) in the brow's own shape;
  ``brow/fill`` adds hair strokes that follow the brow's direction, filling sparse brows.
- **foundation**: evens the skin's tone towards the shade at low resolution and applies it the same way,
  keeping texture and shading; the brows' hair darker than the shade is left as it is.

Erase masks from the frame's own landmarks keep colour off the eye openings (they close with the lids), the
brows (for shadow, blush, contour and highlighter), the lips (for cheek products) and the mouth opening; what
the frame's :class:`~arlens.scene.Scene` says covers the face (hands) stays unpainted, and colours are shown
in the scene's light. The per-face work every make-up lens needs (the face's UV map, its erase masks) is
done once per face and frame and shared (:class:`~arlens.render.face_space.FaceSpace`). Only the boxes around
the pattern's regions are processed, never the whole frame.

Example:
    >>> lens = MakeupLens.from_product(catalog["EYS-002"])  # doctest: +SKIP
    >>> out = lens.render(frame, faces)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from arlens.catalog.patterns import DEFAULT_PATTERNS, PATTERNS
from arlens.catalog.product import PaletteColor
from arlens.errors import InputError
from arlens.image import check_bgr
from arlens.lenses.lipstick import OCCLUDED, VISIBLE
from arlens.render import coverage as COV
from arlens.render import face_uv as F
from arlens.render import patterns as P
from arlens.render import skin as S
from arlens.render.face_space import FaceSpace, fade_change
from arlens.render.relight import gain_lut, is_neutral
from arlens.scene import Scene
from arlens.tracking.results import Face

#: The product kinds this lens draws.
MAKEUP_KINDS = tuple(DEFAULT_PATTERNS)
_TEXTURE_KINDS = ("eyeshadow", "blush", "contour", "highlighter")
_STROKE_KINDS = ("eyeliner", "mascara")
#: Zone products are composited at about this many pixels per UV unit of the face (their gradients are soft)
#: and carried to full resolution as a smooth per-channel gain, which keeps the photo's own texture; faces
#: smaller than this are composited at full resolution.
_GAIN_RES = {"eyeshadow": 190.0, "blush": 100.0, "contour": 80.0, "highlighter": 120.0}
#: How much white a glint adds at full strength (times the finish's sparkle and the zone's alpha).
_GLINT = np.float32(0.9)
#: The longer side of the face box at which foundation's tone is computed.
_FOUNDATION_SIZE = 80
#: Light on the hair (1) and on the skin between hairs (this) of a brow tint.
_BROW_SKIN_ALPHA = 0.12


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

    Raises:
        InputError: naming the field that is malformed, or a palette whose size is not the pattern's zones.
    """

    kind: str
    palette: tuple[PaletteColor, ...]
    pattern: str | None = None
    intensity: float = 1.0
    scene_light: bool = True

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
        if not isinstance(self.scene_light, bool):
            raise InputError(f"scene_light: expected True or False, got {self.scene_light!r}")

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


@dataclass
class _Region:
    """A box of the frame being painted: its packed pixels and the painted ones' alphas."""

    box: tuple[int, int, int, int]
    packed: S.PackedBox

    @classmethod
    def of(cls, out: np.ndarray, box: tuple[int, int, int, int]) -> _Region:
        x0, y0, x1, y1 = box
        return cls(box, S.PackedBox(out[y0:y1, x0:x1]))

    def write(self, out: np.ndarray) -> None:
        x0, y0, x1, y1 = self.box
        out[y0:y1, x0:x1] = self.packed.bgr()


class MakeupLens:
    """Draws an eye, brow, cheek or skin product on every face of a frame.

    Args:
        options: the product's kind, pattern and palette; keyword arguments build one instead
            (``MakeupLens(kind="blush", palette=("#E2788F satin 0.4",))``) or override fields of ``options``.

    Raises:
        InputError: when an option is malformed (here, once, not per frame).
    """

    #: What this lens reads from a :class:`~arlens.scene.Scene`: the session tracks hands for "occluders".
    scene_uses = frozenset({"occluders"})

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
        self._alpha = np.array([c.intensity * options.intensity for c in options.palette], dtype=np.float32)
        self._sparkle = [bool(p[0, S.C.P_SPARKLE] > 0) for p in self._params]
        self._shade_lab = [S.C.hex_to_lab(c.color) for c in options.palette]
        #: each colour's relative luminance Y (from its CIELAB L)
        self._shade_y = [((float(lab[0]) + 16.0) / 116.0) ** 3 for lab in self._shade_lab]
        self._drawn: tuple[np.ndarray | None, ...] = ()

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
        out = check_bgr(out, "out", writeable=True)
        faces = [faces] if isinstance(faces, Face) else list(faces)
        spaces = [FaceSpace.of(face, out.shape) for face in faces]  # every face checked before any drawing
        scene = Scene.ensure(scene, out, faces)
        drawn: list[np.ndarray | None] = []
        for face, space in zip(faces, spaces, strict=True):
            boxes: list[tuple[int, int, int, int]] = []
            if space is not None and space.box is not None:
                ctx = _Context(space, scene.face(face), self._gains(scene, face))
                for side in self.pattern.sides:
                    painted = self._draw(out, ctx, side)
                    if painted is not None:
                        boxes.append(painted)
            drawn.append(_union(boxes))
        self._drawn = tuple(drawn)
        return out

    def _gains(self, scene: Scene, face: Face) -> np.ndarray | None:
        """The linear gains of the light on ``face``, or None for white light (or when told to ignore it)."""
        if not self.options.scene_light:
            return None
        gains = scene.face(face).light.gains
        return None if is_neutral(gains) else gains

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
    def _box(self, space: FaceSpace, side: P.PatternSide) -> tuple[int, int, int, int] | None:
        pts = space.points
        if side.texture is not None:
            return space.box_of(side.texture.triangles)
        if not side.strokes:
            return None
        allp = np.vstack([s.vertices(pts) for s in side.strokes])
        h, w = space.shape
        x0, y0 = max(0, int(math.floor(allp[:, 0].min() - 2))), max(0, int(math.floor(allp[:, 1].min() - 2)))
        x1, y1 = min(w, int(math.ceil(allp[:, 0].max() + 2)) + 1), min(h, int(math.ceil(allp[:, 1].max() + 2)) + 1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return x0, y0, x1, y1

    def _draw(self, out: np.ndarray, ctx: _Context, side: P.PatternSide) -> tuple[int, int, int, int] | None:
        """Draw one side; the box of what it painted (None for nothing)."""
        box = self._box(ctx.space, side)
        if box is None:
            return None
        kind = self.options.kind
        if kind == "foundation":
            return self._foundation(out, ctx, side, box)
        if kind == "brow":
            return self._brow(out, ctx, side, box)
        if kind in _STROKE_KINDS:
            return self._strokes(out, ctx, side, box)
        return self._zones(out, ctx, side, box)

    @staticmethod
    def _keep(ctx: _Context, side: P.PatternSide, box: tuple[int, int, int, int]) -> np.ndarray | float:
        """Where colour may go in ``box``: 1 - the erase mask of the side's outlines, less what covers the face
        (the scene's occluders: a pixel covered for ``OCCLUDED`` or more gets none, ``VISIBLE`` or less all)."""
        erase = ctx.space.erase(side.erase, box)
        keep: np.ndarray | float = np.float32(1.0) if erase is None else np.float32(1.0) - erase
        covered = ctx.face.occlusion(box)
        if covered.max(initial=0.0) > VISIBLE:
            t = np.clip((covered - np.float32(VISIBLE)) * np.float32(1.0 / (OCCLUDED - VISIBLE)), 0.0, 1.0)
            keep = keep * (np.float32(1.0) - t * t * (np.float32(3.0) - np.float32(2.0) * t))
        return keep

    def _composite(self, out: np.ndarray, box: tuple[int, int, int, int], alphas: np.ndarray,
                   uvm: F.UVMap | None = None, reference: np.ndarray | None = None,
                   gains: np.ndarray | None = None) -> tuple[int, int, int, int] | None:
        """Paint palette colour k with alpha ``alphas[..., k]`` (float32 (h, w, Z)) inside ``box``, in order, in
        the light of ``gains`` (None: white); the box of the pixels painted (None for none).

        With the box's UV map, shimmer and metallic colours get glints fixed to the skin.
        """
        flat = alphas.reshape(-1, alphas.shape[-1])
        index = np.flatnonzero(_zmax(flat) > S.MIN_ALPHA)
        if not len(index):
            return None
        region = _Region.of(out, box)
        original = region.packed.take(index)
        px = original if gains is None else cv2.LUT(original.reshape(1, -1, 4), gain_lut(1.0 / gains, 4)).reshape(-1, 4)
        a = flat[index]
        weight = _zmax(a) if reference is None else reference.reshape(-1)[index]
        lightness = S.reference_lightness(px, weight)
        spark = None
        if uvm is not None and any(self._sparkle):
            spark = S.uv_sparkle(uvm.u.reshape(-1)[index], uvm.v.reshape(-1)[index])
        for k in range(a.shape[1]):
            sub = np.flatnonzero(a[:, k] > S.MIN_ALPHA)
            if not len(sub):
                continue
            glints = spark[sub] if spark is not None and self._sparkle[k] else None
            if len(sub) == len(a):
                px = S.paint(px, np.ascontiguousarray(a[:, k]), self._params[k], lightness, glints)
            else:
                px[sub] = S.paint(px[sub], np.ascontiguousarray(a[sub, k]), self._params[k], lightness, glints)
        if gains is not None:  # back into the light, keeping untouched pixels exactly as they were
            back = gain_lut(gains, 4)
            lit = cv2.LUT(px.reshape(1, -1, 4), back).reshape(-1, 4).astype(np.int16)
            lit -= cv2.LUT(cv2.LUT(original.reshape(1, -1, 4), gain_lut(1.0 / gains, 4)), back).reshape(-1, 4)
            lit += original
            px = np.clip(lit, 0, 255).astype(np.uint8)
        region.packed.put(index, px)
        region.write(out)
        w = box[2] - box[0]
        rows, cols = np.divmod(index, w)  # ascending: the first and last rows are the extremes
        return box[0] + int(cols.min()), box[1] + int(rows[0]), box[0] + int(cols.max()) + 1, box[1] + int(rows[-1]) + 1

    def _zones(self, out: np.ndarray, ctx: _Context, side: P.PatternSide,
               box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
        tex = side.texture
        assert tex is not None
        space = ctx.space
        uvm = space.uv_in(box)
        keep = self._keep(ctx, side, box)
        f = _GAIN_RES[self.options.kind] / space.scale
        if f > 0.85:  # a small face: composite every pixel
            alphas = tex.sample(uvm.u, uvm.v) * ((keep * uvm.on_mesh)[..., None] * self._alpha)
            return self._composite(out, box, alphas, uvm, gains=ctx.gains)
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        sw, sh = max(2, int(round(w * f))), max(2, int(round(h * f)))
        su, sv, sm = _small_uv(uvm, (sw, sh))
        alphas = tex.sample(su, sv) * (sm[..., None] * self._alpha)
        roi = out[y0:y1, x0:x1]
        small = cv2.resize(roi, (sw, sh), interpolation=cv2.INTER_AREA)
        if ctx.gains is not None:  # paint under white light: the gain carries the change into the frame's light
            small = cv2.LUT(small, gain_lut(1.0 / ctx.gains, 3))
        painted = small.copy()
        if self._composite(painted, (0, 0, sw, sh), alphas) is None:
            return None
        before = cv2.resize(roi, (sw, sh), interpolation=cv2.INTER_AREA)
        if ctx.gains is not None:  # back into the frame's light
            painted = cv2.LUT(painted, gain_lut(ctx.gains, 3))
            painted[_zmax(alphas) <= S.MIN_ALPHA] = before[_zmax(alphas) <= S.MIN_ALPHA]
        # the change as a brightness gain and a colour offset (none where nothing was painted), at full size
        g_small, o_small = S.gain_offset(before, painted)
        gain = cv2.resize(g_small, (w, h), interpolation=cv2.INTER_LINEAR)
        offset = cv2.resize(o_small, (w, h), interpolation=cv2.INTER_LINEAR)
        if isinstance(keep, np.ndarray) and ctx.face.occlusion(box).max(initial=0.0) > VISIBLE:
            fade_change(gain, offset, keep)
        else:
            space.erase_gain(gain, offset, box, side.erase)
        result = S.apply_gain_offset(roi, gain, offset)
        if any(self._sparkle):
            self._glints(result, uvm, keep, alphas, (w, h))
        out[y0:y1, x0:x1] = result
        return _field_box(g_small, o_small, box)

    def _glints(self, roi: np.ndarray, uvm: F.UVMap, keep: np.ndarray | float, small_alphas: np.ndarray,
                size: tuple[int, int]) -> None:
        """Shimmer glints at full resolution, fixed to the skin: white added where a sparkling colour lies."""
        strength = np.zeros(small_alphas.shape[:2], dtype=np.float32)
        for k, sparkles in enumerate(self._sparkle):
            if sparkles:
                strength += small_alphas[..., k] * np.float32(self._params[k][0, S.C.P_SPARKLE])
        full = cv2.resize(strength, size, interpolation=cv2.INTER_LINEAR) * keep
        index = np.flatnonzero(full.reshape(-1) > np.float32(0.01))
        if not len(index):
            return
        glint = S.uv_sparkle(uvm.u.reshape(-1)[index], uvm.v.reshape(-1)[index])
        white = np.minimum(glint * full.reshape(-1)[index] * _GLINT, np.float32(0.6))
        lit = np.flatnonzero(white > np.float32(1.0 / 255.0))
        if not len(lit):
            return
        flat = roi.reshape(-1, 3)
        at = index[lit]
        px = flat[at].astype(np.float32)
        px += (np.float32(255.0) - px) * white[lit, None]
        flat[at] = np.rint(px).astype(np.uint8)

    def _strokes(self, out: np.ndarray, ctx: _Context, side: P.PatternSide,
                 box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
        cov = np.zeros((box[3] - box[1], box[2] - box[0]), dtype=np.float32)
        for strokes in side.strokes:
            np.maximum(cov, COV.packed_coverage(strokes.vertices(ctx.space.points), strokes.ends, box), out=cov)
        alphas = (cov * self._keep(ctx, side, box) * self._alpha[0])[..., None]
        return self._composite(out, box, alphas, gains=ctx.gains)

    def _brow(self, out: np.ndarray, ctx: _Context, side: P.PatternSide,
              box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
        tex = side.texture
        assert tex is not None
        uvm = ctx.space.uv_in(box)
        brow = tex.sample(uvm.u, uvm.v)[..., 0] * uvm.on_mesh
        x0, y0, x1, y1 = box
        hair = S.hair_weight(S.luminance(out[y0:y1, x0:x1]), brow)
        keep = self._keep(ctx, side, box)
        tint = brow * keep * (np.float32(_BROW_SKIN_ALPHA) + np.float32(1.0 - _BROW_SKIN_ALPHA) * hair)
        boxes = [self._composite(out, box, (tint * self._alpha[0])[..., None], reference=hair * brow,
                                 gains=ctx.gains)]
        if side.strokes:
            hairs = self._hair_coverage(side, ctx.space.points, box)
            # strokes stay inside the brow's shape (its soft edge), over the tint
            strokes = hairs * np.minimum(brow * np.float32(1.6), np.float32(1.0)) * keep
            boxes.append(self._composite(out, box, (strokes * np.float32(0.6) * self._alpha[0])[..., None],
                                         reference=brow, gains=ctx.gains))
        return _union([b for b in boxes if b is not None])

    @staticmethod
    def _hair_coverage(side: P.PatternSide, pts: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """Coverage of the hair strokes, each hair at its own opacity (in quarters; the stronger drawn last)."""
        x0, y0, x1, y1 = box
        total = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
        for strokes in side.strokes:
            levels = np.clip(np.ceil(strokes.alpha * 4), 1, 4).astype(np.int64)
            order = np.argsort(levels, kind="stable")
            verts = strokes.vertices(pts)
            starts = np.concatenate([[0], strokes.ends[:-1]])
            chunks = [verts[starts[i] : strokes.ends[i]] for i in order]
            ends = np.cumsum([len(c) for c in chunks])
            np.maximum(total, COV.packed_coverage(np.concatenate(chunks), ends, box, levels[order]), out=total)
        return total

    def _foundation(self, out: np.ndarray, ctx: _Context, side: P.PatternSide,
                    box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
        """Foundation: tone and coverage at low resolution, applied at full resolution as one smooth gain."""
        tex = side.texture
        assert tex is not None
        space = ctx.space
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        f = min(1.0, _FOUNDATION_SIZE / max(w, h))
        sw, sh = max(2, int(round(w * f))), max(2, int(round(h * f)))
        fx = sw / w
        su, sv, sm = _small_uv(space.uv_in(box), (sw, sh))
        alpha = tex.sample(su, sv)[..., 0] * sm * self._alpha[0]
        skin = alpha > np.float32(0.05)
        erase = space.erase(side.erase, box)
        if erase is not None:  # the openings and brows stay out of the skin's colour statistics
            skin &= cv2.resize(erase, (sw, sh), interpolation=cv2.INTER_AREA) < np.float32(0.5)
        covered = ctx.face.occlusion(box)
        if covered.max(initial=0.0) > VISIBLE:  # no foundation on the hands in front of the face
            alpha *= np.float32(1.0) - np.clip(cv2.resize(covered, (sw, sh), interpolation=cv2.INTER_AREA)
                                               * np.float32(2.0), 0.0, 1.0)
        roi = out[y0:y1, x0:x1]
        small = cv2.resize(roi, (sw, sh), interpolation=cv2.INTER_AREA)
        if ctx.gains is not None:  # the shade under white light, then both colours back in the frame's light
            small = cv2.LUT(small, gain_lut(1.0 / ctx.gains, 3))
        before, after = S.foundation_colours(small, alpha, self._shade_lab[0], face_width=0.8 * space.scale * fx,
                                             skin=skin.astype(np.float32))
        if ctx.gains is not None:
            lit = gain_lut(ctx.gains, 3)
            before, after = (cv2.LUT(np.clip(np.rint(c), 0, 255).astype(np.uint8), lit) for c in (before, after))
        g_small, o_small = S.gain_offset(before, after)
        gain = cv2.resize(g_small, (w, h), interpolation=cv2.INTER_LINEAR)
        offset = cv2.resize(o_small, (w, h), interpolation=cv2.INTER_LINEAR)
        # the openings at full resolution: none there; on the brows, none on the hair (the skin between the hairs
        # takes the shade, or a shade unlike the skin would ring each brow)
        brows = tuple(n for n in side.erase if n.endswith("_brow"))
        shade_y = self._shade_y[0] * (float(np.dot(S.C.BGR_TO_Y, ctx.gains)) if ctx.gains is not None else 1.0)
        space.erase_gain(gain, offset, box, tuple(n for n in side.erase if n not in brows))
        for (bx0, by0, bx1, by1), erase in space.erase_parts(brows, brow_margin=0.5):
            sub = _intersect((bx0, by0, bx1, by1), box)
            if sub is None:
                continue
            e = erase[sub[1] - by0 : sub[3] - by0, sub[0] - bx0 : sub[2] - bx0]
            hair = S.hair_weight(S.luminance(out[sub[1] : sub[3], sub[0] : sub[2]]), e, ceiling=shade_y)
            fade_change(gain[sub[1] - y0 : sub[3] - y0, sub[0] - x0 : sub[2] - x0],
                        offset[sub[1] - y0 : sub[3] - y0, sub[0] - x0 : sub[2] - x0], np.float32(1.0) - e * hair)
        if covered.max(initial=0.0) > VISIBLE:  # and none on an occluder's pixels at full resolution either
            t = np.clip((covered - np.float32(VISIBLE)) * np.float32(1.0 / (OCCLUDED - VISIBLE)), 0.0, 1.0)
            fade_change(gain, offset, np.float32(1.0) - t * t * (np.float32(3.0) - np.float32(2.0) * t))
        out[y0:y1, x0:x1] = S.apply_gain_offset(roi, gain, offset)
        return _field_box(g_small, o_small, box)


@dataclass(frozen=True)
class _Context:
    """One face while a lens draws it: its shared geometry, what the scene knows of it, the light's gains."""

    space: FaceSpace
    face: Any  # arlens.scene.FaceScene
    gains: np.ndarray | None


def _union(boxes: list[tuple[int, int, int, int]]) -> np.ndarray | None:
    if not boxes:
        return None
    b = np.array(boxes, dtype=np.float32)
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()], dtype=np.float32)


def _field_box(gain: np.ndarray, offset: np.ndarray, box: tuple[int, int, int, int]
               ) -> tuple[int, int, int, int] | None:
    """The frame box holding every pixel a low-resolution change (``gain`` (sh, sw), ``offset`` (sh, sw, 3))
    of ``box`` reaches once resized to it: the changed samples' extent plus the one sample bilinear resizing
    blends with each side, clipped to ``box``."""
    changed = (gain != np.float32(1.0)) | (np.abs(offset).max(axis=2) > np.float32(0.0))
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if not len(rows):
        return None
    sh, sw = gain.shape
    x0, y0, x1, y1 = box
    sx, sy = (x1 - x0) / sw, (y1 - y0) / sh
    return (max(x0, x0 + int(math.floor((cols[0] - 1) * sx))), max(y0, y0 + int(math.floor((rows[0] - 1) * sy))),
            min(x1, x0 + int(math.ceil((cols[-1] + 2) * sx))), min(y1, y0 + int(math.ceil((rows[-1] + 2) * sy))))


def _small_uv(uvm: F.UVMap, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A UV map resized to ``size`` (w, h): u, v and on_mesh (all smooth, so bilinear resizing is enough)."""
    stack = cv2.merge([uvm.u, uvm.v, uvm.on_mesh])
    small = cv2.resize(stack, size, interpolation=cv2.INTER_LINEAR)
    return small[..., 0], small[..., 1], small[..., 2]


def _zmax(a: np.ndarray) -> np.ndarray:
    """The maximum over the last axis of a (..., Z) array, one channel at a time (numpy's reduction over a short
    last axis is slow)."""
    out = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        np.maximum(out, a[..., k], out=out)
    return out


def _intersect(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 - x0 >= 1 and y1 - y0 >= 1 else None
