"""What every make-up lens needs to know about one face in one frame, computed once and shared.

A full look stacks eight make-up lenses on a face; each needs the face's mesh points, its scale, the UV of
the pixels it paints and the erase masks of the eyes, brows and mouth. :class:`FaceSpace` computes each of
these at most once per face and frame, lazily (only what some lens asks for): one UV map of the face's box
(:func:`arlens.render.face_uv.uv_map` over all its triangles), cropped by every lens to its own region, and
one erase mask per outline, in the outline's own small box.

:meth:`FaceSpace.of` memoises the space on the :class:`~arlens.tracking.results.Face` value itself (by
identity, for as long as that Face lives; a Face and its landmarks are immutable, so the memo cannot go
stale), which is how lenses drawn one after another on the same frame share it without the session passing
anything. Faces of other types get a fresh space on every call.
"""

from __future__ import annotations

import functools
import math
import weakref
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from arlens import landmarks as named
from arlens.render import coverage as COV
from arlens.render import face_uv as F
from arlens.tracking.results import Face

#: UV-map samples per UV unit of the face (a 720p webcam face is ~250 px per unit: a sample every ~4 px).
UV_SAMPLES_PER_UNIT = 48.0
#: Brows are erased with a soft margin of this many UV units (their hair is not a sharp outline).
BROW_MARGIN_UV = 0.008
#: Where one part of the face hides another, :meth:`FaceSpace.showing` fades a part out over this many UV units
#: beyond its UV box (about an eye corner's width: a stroke ends softly where the nose starts to hide its eye).
SHOW_MARGIN_UV = 0.015
#: The face box's margin around the mesh, in UV units (patterns reach a little past the face outline).
_BOX_MARGIN_UV = 0.02


@dataclass(frozen=True)
class _Mask:
    box: tuple[int, int, int, int]
    mask: np.ndarray


@functools.cache
def _outline_uv_box(name: str) -> tuple[float, float, float, float]:
    """(u0, v0, u1, v1): the UV box of outline ``name`` (:func:`arlens.render.coverage.outline`) in the layout."""
    polys = COV.erase_polygons(F.layout().uv, name)
    pts = np.vstack(polys)
    lo, hi = pts.min(axis=0).tolist(), pts.max(axis=0).tolist()
    return lo[0], lo[1], hi[0], hi[1]


def _intersect(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


class FaceSpace:
    """The shared geometry of one face in a frame of ``frame_shape``.

    Attributes:
        points: float32 (NUM_VERTICES, 2) mesh points in pixel-centre coordinates.
        depths: float32 (NUM_VERTICES,) their depths (:func:`arlens.render.face_uv.mesh_depths`), or None (landmarks
            without z): the UV maps then keep no depth order.
        scale: pixels per UV unit (from the outer eye corners).
        shape: the frame's (H, W).
    """

    def __init__(self, points: np.ndarray, frame_shape: tuple[int, ...], depths: np.ndarray | None = None) -> None:
        self.points = points
        self.depths = depths
        self.shape = (int(frame_shape[0]), int(frame_shape[1]))
        uv = F.layout().uv
        a, b = named.RIGHT_EYE_OUTER, named.LEFT_EYE_OUTER
        self.scale = float(np.linalg.norm(points[a] - points[b]) / np.linalg.norm(uv[a] - uv[b]))
        self._masks: dict[tuple[str, float], _Mask | None] = {}
        self._cover: dict[tuple[str, tuple[int, int, int, int]], np.ndarray] = {}
        self._outline_boxes: dict[str, tuple[float, float, float, float]] = {}
        #: outline name -> its erase polygons (:func:`arlens.render.coverage.erase_polygons`), made with its box
        self._polygons: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._boxes: dict[int, tuple[np.ndarray, tuple[int, int, int, int] | None]] = {}

    @classmethod
    def of(cls, face: object, frame_shape: tuple[int, ...]) -> FaceSpace | None:
        """The space of ``face`` in a frame of ``frame_shape`` (memoised on a Face), or None when its landmarks
        are not finite (a lost track).

        Raises:
            InputError: the face has no landmarks of shape (478 or 468, 2+).
        """
        from arlens.errors import InputError

        memo = _MEMO.get(id(face)) if isinstance(face, Face) else None
        key = (int(frame_shape[0]), int(frame_shape[1]))
        if memo is not None and memo[0]() is face and key in memo[1]:
            return memo[1][key]
        lm = getattr(face, "landmarks", None)
        if lm is None:
            raise InputError(f"faces: expected Face values with landmarks, got {type(face).__name__}")
        lm = np.asarray(lm)
        if lm.ndim != 2 or lm.shape[0] < named.NUM_MESH_LANDMARKS or lm.shape[1] < 2:
            raise InputError(f"faces: expected landmarks of shape (478, 2 or 3), got {lm.shape}")
        pts = F.mesh_points(lm)
        space = cls(pts, frame_shape, F.mesh_depths(lm)) if np.isfinite(pts).all() else None
        if isinstance(face, Face):
            if memo is None or memo[0]() is not face:
                fid = id(face)
                memo = (weakref.ref(face, lambda _, fid=fid: _MEMO.pop(fid, None)), {})
                _MEMO[fid] = memo
            memo[1][key] = space
        return space

    @cached_property
    def box(self) -> tuple[int, int, int, int] | None:
        """The face's box in the frame (the mesh plus a margin), clipped; None when it is off the frame."""
        return F.points_box(self.points, self.shape, pad=_BOX_MARGIN_UV * self.scale + 2.0)

    @cached_property
    def uv_grid(self) -> F.UVGrid | None:
        """The UV of the face's whole box (every triangle of the layout) on a coarse grid, or None off the frame;
        every UV map of the face (any box, any resolution) is interpolated from it."""
        if self.box is None:
            return None
        step = self.scale / UV_SAMPLES_PER_UNIT
        return F.uv_grid(self.points, np.arange(len(F.layout().triangles)), self.box, step=max(step, 1.0),
                         max_samples=160, depths=self.depths)

    @cached_property
    def uv(self) -> F.UVMap | None:
        """The UV map of the face's whole box at one sample per pixel, or None off the frame."""
        return None if self.uv_grid is None else self.uv_grid.resized()

    def box_of(self, triangles: np.ndarray, pad: float = 2.0) -> tuple[int, int, int, int] | None:
        """The frame box around the given layout triangles (a pattern's) on this face, within the face's box;
        memoised per triangle array (patterns keep theirs for the process's lifetime)."""
        hit = self._boxes.get(id(triangles))
        if hit is not None and hit[0] is triangles:
            return hit[1]
        found = _VERTICES.get(id(triangles))
        if found is None or found[0] is not triangles:
            found = _VERTICES[id(triangles)] = (triangles, np.unique(F.layout().triangles[triangles]))
        box = F.points_box(self.points[found[1]], self.shape, pad=pad)
        if box is not None and self.box is not None:
            box = _intersect(box, self.box)
        self._boxes[id(triangles)] = (triangles, box)
        return box

    def uv_in(self, box: tuple[int, int, int, int]) -> F.UVMap:
        """The UV map of ``box``, one sample per pixel (interpolated from :attr:`uv_grid`)."""
        grid = self.uv_grid
        if grid is not None:
            return grid.lattice(box)
        return F.uv_map(self.points, np.arange(len(F.layout().triangles)), box,
                        step=max(self.scale / UV_SAMPLES_PER_UNIT, 1.0), depths=self.depths)

    def showing(self, uv_box: tuple[float, float, float, float], box: tuple[int, int, int, int],
                grow: float = 0.0, lenient: bool = False) -> np.ndarray | None:
        """How much each pixel of ``box`` shows of the face's part inside ``uv_box`` (u0, v0, u1, v1) grown by ``grow``
        UV units: float32 (h, w), 0 where another part of the face lies in front of it
        (:attr:`arlens.render.face_uv.UVGrid.hides`) and the surface seen there lies ``SHOW_MARGIN_UV`` or more
        outside that box, 1 elsewhere; None when no part of the face hides another in the box (a frontal face): all
        of it shows.

        How hidden a pixel is (``hides``, interpolated, times how far outside the box the surface seen lies) goes
        from 0 to 1 over the edge of what hides; the part shows fully up to half hidden, and within a grid sample of a
        pixel that does, with ``lenient`` (an erase mask, kept), not at all from half hidden without (strokes): on
        every pixel either a stroke is gone or the erase mask under it is whole, so no stroke leaks into an eye
        opening on the edge of the nose.

        What strokes warped from UV need on a turned head: the far eye's liner lands where the nose hides the eye,
        and the pixels there show the nose."""
        grid = self.uv_grid
        if grid is None:
            return None
        hides = grid.hides_in(box)
        if hides is None or not hides.any():
            return None
        uvm = grid.lattice(box)
        u0, v0, u1, v1 = (np.float32(c) for c in (uv_box[0] - grow, uv_box[1] - grow, uv_box[2] + grow,
                                                  uv_box[3] + grow))
        out = np.maximum(u0 - uvm.u, uvm.u - u1)
        np.maximum(out, v0 - uvm.v, out=out)
        np.maximum(out, uvm.v - v1, out=out)
        out *= np.float32(1.0 / SHOW_MARGIN_UV)
        np.clip(out, 0.0, 1.0, out=out)
        out *= hides  # how hidden, 0..1
        out *= np.float32(-2.0)
        out += np.float32(2.0 if lenient else 1.0)
        np.clip(out, 0.0, 1.0, out=out)
        if lenient:
            # the grid's UV is interpolated across the edge of what hides (the nose's outline over the eye): within a
            # sample of that edge it reads neither part; an erase mask is kept there
            step = (grid.box[2] - grid.box[0]) / grid.values.shape[1]
            r = max(1, math.ceil(step))
            out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        return out

    def mask(self, name: str, grow: float = 0.0) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
        """The erase mask of one outline (:func:`arlens.render.coverage.outline` names) grown by ``grow`` pixels,
        in its own box: ``(box, float32 (h, w))``, computed once per face; None when it is off the frame."""
        key = (name, grow)
        if key not in self._masks:
            box = self._mask_box(name, grow)
            if box is None:
                self._masks[key] = None
            elif grow > 0:  # the outline's coverage made once for every margin it is grown by (the brows': two)
                wide = self._mask_box(name, max(grow, self.brow_margin()))
                assert wide is not None
                whole = self._cover.get((name, wide))
                if whole is None:
                    whole = self._cover[(name, wide)] = COV.erase_coverage(self._polygons[name], wide)
                cover = whole[box[1] - wide[1] : box[3] - wide[1], box[0] - wide[0] : box[2] - wide[0]]
                self._masks[key] = _Mask(box, self._shown(name, box, COV.grow_erase(cover, grow)))
            else:  # (COV.erase_mask of the one outline in a box around it: both its polygons reach the box)
                self._masks[key] = _Mask(box, self._shown(name, box, COV.erase_coverage(self._polygons[name], box)))
        m = self._masks[key]
        return None if m is None else (m.box, m.mask)

    def _shown(self, name: str, box: tuple[int, int, int, int], mask: np.ndarray) -> np.ndarray:
        """``mask`` (outline ``name``'s erase mask over ``box``) kept where the face shows that outline's part: the far
        eye of a turned head lies behind the nose, and the nose is no eye to keep colour off. Its part is grown by
        ``SHOW_MARGIN_UV``: the strokes about an eye (:meth:`showing` of their own part) fade out before its erase
        mask does."""
        shown = self.showing(_outline_uv_box(name), box, SHOW_MARGIN_UV, lenient=True)
        if shown is not None:
            mask *= shown
        return mask

    def _mask_box(self, name: str, grow: float) -> tuple[int, int, int, int] | None:
        """The frame box of the outline's erase mask grown by ``grow`` pixels (its blur fits inside), or None."""
        found = self._outline_boxes.get(name)
        if found is None:
            poly = self._polygons[name] = COV.erase_polygons(self.points, name)
            lo, hi = poly[0].min(axis=0).tolist(), poly[0].max(axis=0).tolist()
            found = self._outline_boxes[name] = (lo[0], lo[1], hi[0], hi[1])
        pad = grow * 2.0 + 2.0
        h, w = self.shape
        box = (max(0, math.floor(found[0] - pad)), max(0, math.floor(found[1] - pad)),
               min(w, math.ceil(found[2] + pad) + 1), min(h, math.ceil(found[3] + pad) + 1))
        return None if box[2] - box[0] < 1 or box[3] - box[1] < 1 else box

    def _mask(self, name: str, grow: float) -> _Mask | None:
        self.mask(name, grow)
        return self._masks[(name, grow)]

    def brow_margin(self) -> float:
        """The soft margin brows are erased with, in pixels."""
        return BROW_MARGIN_UV * self.scale

    def erase(self, names: tuple[str, ...], box: tuple[int, int, int, int]) -> np.ndarray | None:
        """The erase mask (float32 (h, w), 1 = keep untouched) of the named outlines in ``box``; brows get their
        soft margin. None when no outline reaches the box."""
        out = None
        for name in names:
            m = self._mask(name, self.brow_margin() if name.endswith("_brow") else 0.0)
            if m is None:
                continue
            sub = _intersect(m.box, box)
            if sub is None:
                continue
            if out is None:
                out = np.zeros((box[3] - box[1], box[2] - box[0]), dtype=np.float32)
            dst = out[sub[1] - box[1] : sub[3] - box[1], sub[0] - box[0] : sub[2] - box[0]]
            src = m.mask[sub[1] - m.box[1] : sub[3] - m.box[1], sub[0] - m.box[0] : sub[2] - m.box[0]]
            np.maximum(dst, src, out=dst)
        return out

    def erase_parts(self, names: tuple[str, ...], brow_margin: float = 1.0
                    ) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
        """Each named outline's erase mask in its own box: ``[(box, mask), ...]``; brows grow by ``brow_margin``
        times their usual soft margin."""
        parts = []
        for name in names:
            m = self._mask(name, self.brow_margin() * brow_margin if name.endswith("_brow") else 0.0)
            if m is not None:
                parts.append((m.box, m.mask))
        return parts

    def erase_gain(self, gain: np.ndarray, offset: np.ndarray, box: tuple[int, int, int, int],
                   names: tuple[str, ...], brow_margin: float = 1.0) -> None:
        """Take a change (``pixel * gain + offset`` over ``box``: gain float32 (h, w), offset (h, w, 3); both
        modified) back to none where the named outlines are erased, blending on their soft edges; only the
        outlines' own boxes are touched."""
        x0, y0 = box[0], box[1]
        for (bx0, by0, bx1, by1), erase in self.erase_parts(names, brow_margin):
            sub = _intersect((bx0, by0, bx1, by1), box)
            if sub is None:
                continue
            keep = np.float32(1.0) - erase[sub[1] - by0 : sub[3] - by0, sub[0] - bx0 : sub[2] - bx0]
            fade_change(gain[sub[1] - y0 : sub[3] - y0, sub[0] - x0 : sub[2] - x0],
                        offset[sub[1] - y0 : sub[3] - y0, sub[0] - x0 : sub[2] - x0], keep)


def fade_change(gain: np.ndarray, offset: np.ndarray, keep: np.ndarray) -> None:
    """Scale a change (``pixel * gain + offset``; gain (h, w), offset (h, w, 3), both modified) by ``keep``
    (h, w): 1 leaves it, 0 makes it none (a gain of 1, an offset of 0)."""
    gain -= np.float32(1.0)
    gain *= keep
    gain += np.float32(1.0)
    if (offset.dtype == np.float32 and keep.dtype == np.float32 and offset.ndim == 3 and offset.shape[2] == 3
            and keep.shape == offset.shape[:2] and offset.size):
        # the same products as numpy's broadcast over the channels, about twice as fast: OpenCV multiplies the
        # three-channel image by the mask's three copies, in place (a crop of a larger array included)
        done = cv2.multiply(offset, cv2.merge((keep, keep, keep)), dst=offset)
        if done is not offset and not np.shares_memory(done, offset):  # pragma: no cover - OpenCV copied
            offset[...] = done
    else:
        offset *= keep[..., None]


#: id(triangle array) -> (the array, the vertices its triangles use): a pattern's triangles are kept for the
#: process's lifetime, so this holds one entry per pattern side.
_VERTICES: dict[int, tuple[np.ndarray, np.ndarray]] = {}
#: id(face) -> (weak reference to it, {frame shape: its space}); entries leave with their Face.
_MEMO: dict[int, tuple[weakref.ref, dict[tuple[int, int], FaceSpace | None]]] = {}
