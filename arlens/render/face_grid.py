"""Several make-up products on one face in one pass: their colour changes added up on a low-resolution grid
and applied to the frame once.

Every soft make-up product (foundation, contour, highlighter, blush, eyeshadow) changes the frame by a smooth
field: each pixel becomes ``pixel * gain + offset`` (a brightness gain and a colour offset,
:func:`arlens.render.skin.gain_offset`), computed at low resolution from what the product does to the face's
local colours. Drawn one product after another, each would resize its box of the frame down, paint it, resize
its change back up and apply it, and most of the time would go to that fixed work, not to painting. Here the
products of a face share one :class:`FaceGrid` (one sample per ``cell`` x ``cell`` block of pixels, the blocks
aligned to the frame's pixels) and one :class:`GridChange`:

- each product sees the face as the products before it left it (the grid's pixels with their changes applied,
  less where those products keep out: the eye openings, the brows...), paints its colour model there and
  hands back its change on the grid (a :class:`Layer`);
- the changes compose on the grid (``pixel * g1 + o1`` then ``* g2 + o2`` is ``pixel * (g1 g2) + (o1 g2 + o2)``);
- the sum is resized to the frame's resolution once, kept off the outlines each product keeps out of at the
  frame's own resolution, and applied once.

Outlines (:class:`Erase`) are honoured at full resolution, where they are sharp. Where every product that
changes pixels near an outline keeps out of it alike (the eye openings, for every product), the summed change is
faded there; where they differ (foundation covers the skin between the brow hairs, eyeshadow keeps off the
brow), the change near that outline is put together again from each product's own, each faded by its own
outlines.

A grid cell's colour is the mean of its pixels (``INTER_AREA``); a field is resized up bilinearly, the cell's
centre at the centre of its block; cropping a field and resizing the crop (with a cell of margin) gives exactly
the pixels that resizing the whole field would, which is what lets the outlines be redone box by box.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from arlens.render import skin as S
from arlens.render.face_space import FaceSpace, fade_change
from arlens.render.face_uv import remap_points
from arlens.render.relight import composite_in_light

Box = tuple[int, int, int, int]
Rect = tuple[int, int, int, int]  # r0, c0, r1, c1 in grid cells, the ends exclusive


@dataclass(frozen=True)
class Erase:
    """An outline a product keeps its colour off.

    Attributes:
        name: the outline (:func:`arlens.render.coverage.outline`: ``right_eye``, ``mouth``, ``left_brow``...).
        grow: how many pixels its soft edge reaches out (:meth:`FaceSpace.mask`).
        hair: None: nothing inside the outline changes. A number: only its hair is kept (pixels darker than the
            skin around them, :func:`arlens.render.skin.hair_weight`, the skin's luminance taken as at most this),
            the skin between the hairs takes the change.
    """

    name: str
    grow: float = 0.0
    hair: float | None = None


def take_rows(a: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``a[index]`` for a (N, C) array (``np.take`` gathers rows several times faster than fancy indexing)."""
    return np.take(a, index, axis=0)


def put_rows(a: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``a[index] = values`` for a C-contiguous (N, C) array (rows scattered as opaque records, several times faster
    than fancy indexing)."""
    record = np.dtype((np.void, a.dtype.itemsize * a.shape[1]))
    a.view(record).reshape(-1)[index] = np.ascontiguousarray(values, dtype=a.dtype).view(record).reshape(-1)


def _intersect(a: Box, b: Box) -> Box | None:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _crop(field: np.ndarray, field_box: Box, box: Box) -> np.ndarray:
    """The part of ``field`` (laid over frame ``field_box``) over frame ``box`` (inside it)."""
    return field[box[1] - field_box[1] : box[3] - field_box[1], box[0] - field_box[0] : box[2] - field_box[0]]


def cell_size(pixels_per_uv: float, samples_per_uv: float) -> int:
    """The cell (pixels per side) giving about ``samples_per_uv`` cells per UV unit on a face of
    ``pixels_per_uv``: 1 (full resolution) for faces that small."""
    return max(1, int(math.floor(pixels_per_uv / samples_per_uv + 0.25)))


class FaceGrid:
    """A box of the frame around a face's products at one sample per ``cell`` x ``cell`` pixels.

    Attributes:
        space: the face's :class:`~arlens.render.face_space.FaceSpace`.
        box: (x0, y0, x1, y1) in the frame; its width and height are multiples of ``cell``.
        cell: pixels per cell along each axis.
        shape: (rows, columns) of cells.
        u, v, on_mesh: float32 (rows, columns): each cell's UV and coverage by the face mesh, at its centre
            (``values`` holds the three together).
    """

    def __init__(self, space: FaceSpace, box: Box, cell: int) -> None:
        self.space = space
        self.box = box
        self.cell = cell
        x0, y0, x1, y1 = box
        self.shape = ((y1 - y0) // cell, (x1 - x0) // cell)
        grid = space.uv_grid
        if grid is None:
            raise ValueError("a FaceGrid needs a face on the frame")
        #: float32 (rows, columns, 3): u, v and on_mesh of each cell
        self.values = grid.lattice_values(box, cell)
        self.u, self.v, self.on_mesh = cv2.split(self.values)
        self._erase: dict[tuple[str, float], tuple[Rect, np.ndarray] | None] = {}

    @classmethod
    def around(cls, space: FaceSpace, boxes: list[Box], cell: int) -> FaceGrid:
        """The grid over the union of ``boxes``, grown to whole cells inside the frame (a smaller cell where the
        frame is too small for it)."""
        box = boxes[0]
        for b in boxes[1:]:
            box = _union(box, b)
        h, w = space.shape
        for size in range(max(1, cell), 0, -1):
            x0, x1 = _whole_cells(box[0], box[2], size, w)
            y0, y1 = _whole_cells(box[1], box[3], size, h)
            if x0 >= 0 and y0 >= 0:
                return cls(space, (x0, y0, x1, y1), size)
        raise AssertionError("a one-pixel cell always fits")  # pragma: no cover

    def rect(self, box: Box) -> Rect | None:
        """The cells holding every pixel of frame ``box`` (clipped to the grid), or None when none does."""
        gx0, gy0, gx1, gy1 = self.box
        k = self.cell
        x0, y0 = max(box[0], gx0), max(box[1], gy0)
        x1, y1 = min(box[2], gx1), min(box[3], gy1)
        if x1 <= x0 or y1 <= y0:
            return None
        return (y0 - gy0) // k, (x0 - gx0) // k, -(-(y1 - gy0) // k), -(-(x1 - gx0) // k)

    def frame_box(self, rect: Rect) -> Box:
        """The frame pixels of ``rect``'s cells."""
        k = self.cell
        gx0, gy0 = self.box[:2]
        return gx0 + rect[1] * k, gy0 + rect[0] * k, gx0 + rect[3] * k, gy0 + rect[2] * k

    def grown(self, rect: Rect, by: int = 1) -> Rect:
        """``rect`` grown by ``by`` cells each side, within the grid."""
        gh, gw = self.shape
        return max(0, rect[0] - by), max(0, rect[1] - by), min(gh, rect[2] + by), min(gw, rect[3] + by)

    def downsample(self, image: np.ndarray) -> np.ndarray:
        """uint8 (rows, columns, 3): each cell's mean colour in ``image`` (the frame)."""
        x0, y0, x1, y1 = self.box
        roi = image[y0:y1, x0:x1]
        if self.cell == 1:
            return roi.copy()
        return cv2.resize(roi, (self.shape[1], self.shape[0]), interpolation=cv2.INTER_AREA)

    def erase(self, name: str, grow: float) -> np.ndarray | None:
        """The outline's erase mask averaged over each cell, float32 (rows, columns); None where it does not
        reach the grid (:meth:`erase_part` laid over the whole grid)."""
        found = self.erase_part(name, grow)
        if found is None:
            return None
        (r0, c0, r1, c1), part = found
        out = np.zeros(self.shape, np.float32)
        out[r0:r1, c0:c1] = part
        return out

    def erase_part(self, name: str, grow: float) -> tuple[Rect, np.ndarray] | None:
        """The outline's erase mask averaged over each cell, over the cells it reaches: (rect, float32 (rows,
        columns) of the rect); None where it does not reach the grid (computed once per grid)."""
        key = (name, grow)
        if key in self._erase:
            return self._erase[key]
        found = self.space.mask(name, grow)
        out = None
        rect = self.rect(found[0]) if found is not None else None
        if found is not None and rect is not None:
            mbox, mask = found
            fbox = self.frame_box(rect)
            if fbox == mbox:
                big = mask
            else:
                big = np.zeros((fbox[3] - fbox[1], fbox[2] - fbox[0]), np.float32)
                sub = _intersect(mbox, fbox)
                if sub is not None:
                    _crop(big, fbox, sub)[...] = _crop(mask, mbox, sub)
            r0, c0, r1, c1 = rect
            out = (rect, big if self.cell == 1 else cv2.resize(big, (c1 - c0, r1 - r0), interpolation=cv2.INTER_AREA))
        self._erase[key] = out
        return out

    def upsample(self, field: np.ndarray, origin: tuple[int, int], box: Box) -> np.ndarray:
        """A field of cells resized to the frame's pixels over ``box``: exactly the pixels resizing the whole field
        (``cv2.resize``, bilinear) gives there.

        Args:
            field: float32 (fh, fw) or (fh, fw, C) values of cells ``origin`` (row, column) onwards.
            origin: the grid cell of ``field[0, 0]``.
            box: frame pixels, inside the field's cells.
        """
        k = self.cell
        gx0, gy0 = self.box[:2]
        fh, fw = field.shape[:2]
        r0, c0 = origin
        # the cells the box's pixels blend, and one more each side (as far as the field goes)
        lo_r = max(r0, (box[1] - gy0) // k - 1)
        lo_c = max(c0, (box[0] - gx0) // k - 1)
        hi_r = min(r0 + fh, -(-(box[3] - gy0) // k) + 1)
        hi_c = min(c0 + fw, -(-(box[2] - gx0) // k) + 1)
        crop = field[lo_r - r0 : hi_r - r0, lo_c - c0 : hi_c - c0]
        if k == 1:
            big = crop
        else:
            big = cv2.resize(crop, ((hi_c - lo_c) * k, (hi_r - lo_r) * k), interpolation=cv2.INTER_LINEAR)
        y, x = box[1] - gy0 - lo_r * k, box[0] - gx0 - lo_c * k
        return big[y : y + box[3] - box[1], x : x + box[2] - box[0]]


def _whole_cells(lo: int, hi: int, cell: int, limit: int) -> tuple[int, int]:
    """[lo, hi) grown to a multiple of ``cell`` (to the high side, then the low side at the frame's edge)."""
    size = -(-(hi - lo) // cell) * cell
    hi = lo + size
    if hi > limit:
        lo, hi = lo - (hi - limit), limit
    return lo, hi


@dataclass
class Layer:
    """One product's change on a grid: ``pixel * gain + offset`` over its changed cells.

    Attributes:
        rect: the cells it may change (r0, c0, r1, c1).
        cells: intp (n,) flat grid indices of the cells it changes (packed), or None: every cell of ``rect``.
        gain: float32 (n,), or (rows, columns) of ``rect`` when ``cells`` is None.
        offset: float32 (n, 3), or (rows, columns, 3).
        extent: the cells it changes (a rect inside ``rect``).
        erase: the outlines it keeps off.
        sparkle: float32 glint strength shaped like ``gain`` (shimmer), or None.
        owner: whoever drew it (the lens), for its drawn box.
        parts: the rects of ``rect`` it is drawn in (a product's two sides), for work at full resolution that
            need not cover the cells between them (glints); empty: ``rect`` itself.
    """

    rect: Rect
    cells: np.ndarray | None
    gain: np.ndarray
    offset: np.ndarray
    extent: Rect
    erase: tuple[Erase, ...] = ()
    sparkle: np.ndarray | None = None
    owner: object = None
    parts: list[Rect] = field(default_factory=list)

    def outline(self, name: str) -> Erase | None:
        """How it keeps off outline ``name`` (None: it does not)."""
        for e in self.erase:
            if e.name == name:
                return e
        return None

    def dense(self, grid: FaceGrid, sparkle: bool = False) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
        """Its change over its rect grown by a cell of no change, dense: (origin cell, gain (rows, columns),
        offset (rows, columns, 3)); with ``sparkle``, (origin, glint strength, an empty offset). Made once."""
        key = "_dense_sparkle" if sparkle else "_dense"
        found = self.__dict__.get(key)
        if found is not None:
            return found
        r0, c0, r1, c1 = grid.grown(self.rect)
        rh, rw = r1 - r0, c1 - c0
        values = self.sparkle if sparkle else self.gain
        assert values is not None
        g = np.full((rh, rw), 0.0 if sparkle else 1.0, np.float32)
        o = np.zeros((rh, rw, 3) if not sparkle else (0, 0, 3), np.float32)
        if self.cells is None:
            a0, b0, a1, b1 = self.rect
            g[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0] = values
            if not sparkle:
                o[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0] = self.offset
        else:
            rows, cols = np.divmod(self.cells, grid.shape[1])
            local = (rows - r0) * rw + (cols - c0)
            g.reshape(-1)[local] = values
            if not sparkle:
                put_rows(o.reshape(-1, 3), local, self.offset)
        found = ((r0, c0), g, o)
        self.__dict__[key] = found
        return found


class GridChange:
    """The products' changes on one grid, composed in order, and their application to the frame.

    Args:
        grid: the grid.
        image: the frame as it is before any of these products (read, not modified here).
    """

    def __init__(self, grid: FaceGrid, image: np.ndarray) -> None:
        self.grid = grid
        self.image = image
        self.small = grid.downsample(image)
        gh, gw = grid.shape
        self.gain = np.ones((gh, gw), np.float32)  # the products' changes composed
        self.offset = np.zeros((gh, gw, 3), np.float32)
        # as the next product sees the face: the changes less where each product keeps out (its erase masks)
        self._seen_gain = np.ones((gh, gw), np.float32)
        self._seen_offset = np.zeros((gh, gw, 3), np.float32)
        self.layers: list[Layer] = []
        self._hair: dict[tuple[Box, float], np.ndarray] = {}

    # -- what a product sees ---------------------------------------------------------------------------------
    def pixels(self, cells: np.ndarray) -> np.ndarray:
        """uint8 (n, 3) BGR of flat grid ``cells`` as the products so far left them."""
        px = take_rows(self.small.reshape(-1, 3), cells)
        if not self.layers:
            return px
        seen = px * np.take(self._seen_gain.reshape(-1), cells)[:, None]
        seen += take_rows(self._seen_offset.reshape(-1, 3), cells)
        np.maximum(seen, np.float32(0.0), out=seen)  # clipped, not mirrored, by convertScaleAbs
        return cv2.convertScaleAbs(seen)

    def region(self, rect: Rect) -> np.ndarray:
        """uint8 (rows, columns, 3) BGR of ``rect``'s cells as the products so far left them."""
        r0, c0, r1, c1 = rect
        px = self.small[r0:r1, c0:c1]
        if not self.layers:
            return px
        seen = px * self._seen_gain[r0:r1, c0:c1, None]
        seen += self._seen_offset[r0:r1, c0:c1]
        np.maximum(seen, np.float32(0.0), out=seen)
        return cv2.convertScaleAbs(seen)

    def keep(self, erase: tuple[Erase, ...], rect: Rect, occlusion: np.ndarray | None) -> np.ndarray | None:
        """float32 (rows, columns): how much of a change each cell of ``rect`` keeps, its outlines averaged over
        the cell (an outline keeping its hair only counts half: a cell cannot tell hair from skin), times what
        the face's occluders leave (``occlusion``: float32 over the grid, 1 = keep, or None); None: all of it.
        Each outline counts once, however often ``erase`` names it (a cheek product's two sides both keep off the
        lips: twice would fade its soft edge twice)."""
        r0, c0, r1, c1 = rect
        keep = None
        for e in dict.fromkeys(erase):
            found = self.grid.erase_part(e.name, e.grow)
            if found is None:
                continue
            (a0, b0, a1, b1), mask = found
            a0, b0, a1, b1 = max(a0, r0), max(b0, c0), min(a1, r1), min(b1, c1)
            if a1 <= a0 or b1 <= b0:
                continue
            part = mask[a0 - found[0][0] : a1 - found[0][0], b0 - found[0][1] : b1 - found[0][1]]
            if keep is None:
                keep = np.ones((r1 - r0, c1 - c0), np.float32)
            k = keep[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0]
            k *= np.float32(1.0) - (part if e.hair is None else part * np.float32(0.5))
        if occlusion is not None:
            part = occlusion[r0:r1, c0:c1]
            keep = part if keep is None else keep * part
        return keep

    # -- adding a product's change ------------------------------------------------------------------------
    def add(self, layer: Layer, keep: np.ndarray | None, seen: bool = True) -> None:
        """Compose ``layer`` on top of the changes so far; ``keep`` (over its ``rect``, from :meth:`keep`) is how
        much of it the products after it see (``seen`` False: no product comes after it, nothing is kept for them).
        The first layer's change is the composed change as it is (nothing to compose with)."""
        r0, c0, r1, c1 = layer.rect
        first = not self.layers
        targets = [(self.gain, self.offset, None)]
        if seen:
            targets.append((self._seen_gain, self._seen_offset, keep))
        if layer.cells is None:
            for gain, offset, k in targets:
                g, o = layer.gain, layer.offset
                gs, os_ = gain[r0:r1, c0:c1], offset[r0:r1, c0:c1]
                if first:  # onto no change: the layer's own, faded where it keeps out
                    gs[...] = g
                    os_[...] = o
                    if k is not None:
                        fade_change(gs, os_, k)
                    continue
                if k is not None:
                    g, o = g.copy(), o.copy()
                    fade_change(g, o, k)
                os_ *= g[..., None]
                os_ += o
                gs *= g
        else:
            cells = layer.cells
            if keep is not None and seen:  # the keep at each changed cell
                rows, cols = np.divmod(cells, self.grid.shape[1])
                rows -= r0
                rows *= c1 - c0
                rows += cols - c0
                targets[1] = (self._seen_gain, self._seen_offset, np.take(keep.reshape(-1), rows))
            for gain, offset, k in (targets if not first else []):
                g, o = layer.gain, layer.offset
                if k is not None:
                    g = np.float32(1.0) + (g - np.float32(1.0)) * k
                    o = o * k[:, None]
                gflat, oflat = gain.reshape(-1), offset.reshape(-1, 3)
                composed = take_rows(oflat, cells)
                composed *= g[:, None]
                composed += o
                put_rows(oflat, cells, composed)
                gflat[cells] = np.take(gflat, cells) * g
            for gain, offset, k in (targets if first else []):
                g, o = layer.gain, layer.offset
                if k is not None:
                    g = np.float32(1.0) + (g - np.float32(1.0)) * k
                    o = o * k[:, None]
                gain.reshape(-1)[cells] = g
                put_rows(offset.reshape(-1, 3), cells, o)
        self.layers.append(layer)

    # -- the frame -------------------------------------------------------------------------------------------
    def layer_box(self, layer: Layer) -> Box:
        """The frame pixels ``layer`` reaches (its changed cells and the cell beyond, which resizing blends)."""
        return self.grid.frame_box(self.grid.grown(layer.extent))

    def changed_box(self) -> Box | None:
        """The frame pixels the composed change reaches, or None for no change."""
        if not self.layers:
            return None
        r0, c0, r1, c1 = self.layers[0].extent
        for layer in self.layers[1:]:
            e = layer.extent
            r0, c0, r1, c1 = min(r0, e[0]), min(c0, e[1]), max(r1, e[2]), max(c1, e[3])
        return self.grid.frame_box(self.grid.grown((r0, c0, r1, c1)))

    def apply(self, out: np.ndarray, occlusion: Callable[[Box], np.ndarray | None] | None = None) -> None:
        """Apply the composed change to ``out`` (the frame, modified) at its resolution, each product kept off its
        outlines; ``occlusion(box)`` (float32 over ``box``, 1 = keep, or None for all) fades every product alike.
        """
        box = self.changed_box()
        if box is None:
            return
        grid = self.grid
        gain = np.ascontiguousarray(grid.upsample(self.gain, (0, 0), box))
        offset = np.ascontiguousarray(grid.upsample(self.offset, (0, 0), box))
        self._outlines(gain, offset, box)
        keep = occlusion(box) if occlusion is not None else None
        if keep is not None:
            fade_change(gain, offset, keep)
        x0, y0, x1, y1 = box
        out[y0:y1, x0:x1] = S.apply_gain_offset(out[y0:y1, x0:x1], gain, offset)

    def _outlines(self, gain: np.ndarray, offset: np.ndarray, box: Box) -> None:
        """Keep every layer off its outlines, at full resolution, in the change over ``box`` (modified)."""
        space = self.grid.space
        specs: dict[str, set[Erase]] = {}
        for layer in self.layers:
            for e in layer.erase:
                specs.setdefault(e.name, set()).add(e)
        layer_boxes = [self.layer_box(layer) for layer in self.layers]
        common: list[tuple[Box, Erase]] = []
        redo: list[tuple[Box, set[str]]] = []
        for name, named in specs.items():
            region = None
            for e in named:
                found = space.mask(e.name, e.grow)
                if found is not None:
                    region = found[0] if region is None else _union(region, found[0])
            region = _intersect(region, box) if region is not None else None
            if region is None:
                continue
            near = [(layer, lb) for layer, lb in zip(self.layers, layer_boxes, strict=True)
                    if lb[0] < region[2] and region[0] < lb[2] and lb[1] < region[3] and region[1] < lb[3]]
            used = {layer.outline(name) for layer, _ in near}
            if len(used) > 1 or (used and next(iter(used)) is not None and next(iter(used)).hair is not None):
                # products keep off it differently: only those that change a pixel near it count
                used = {layer.outline(name) for layer, lb in near if self._changes(layer, lb, region)}
            if not used or used == {None}:
                continue
            only = next(iter(used))
            if len(used) == 1 and only is not None and only.hair is None:  # every product there keeps off it alike
                common.append((region, only))
            else:
                redo.append((region, {name}))
        merged: list[tuple[Box, set[str]]] = []  # outlines to put together again, merged where they overlap
        for region, names in redo:
            for i, (other, other_names) in enumerate(merged):
                if _intersect(region, other) is not None:
                    merged[i] = (_union(region, other), other_names | names)
                    break
            else:
                merged.append((region, names))
        for region, names in merged:
            self._redo(gain, offset, box, region, names, layer_boxes)
        for region, e in common:
            found = space.mask(e.name, e.grow)
            assert found is not None
            mbox, mask = found
            sub = _intersect(mbox, region)
            if sub is not None:
                fade_change(_crop(gain, box, sub), _crop(offset, box, sub), np.float32(1.0) - _crop(mask, mbox, sub))

    def _changes(self, layer: Layer, layer_box: Box, region: Box) -> bool:
        """Whether ``layer`` (reaching frame ``layer_box``) changes any pixel of frame ``region``: a cell of it
        that is not "no change" among the cells the region's pixels blend (a product's box is wider than its
        change: a contour's spans the face)."""
        sub = _intersect(layer_box, region)
        if sub is None:
            return False
        grid = self.grid
        rect = grid.rect(sub)
        if rect is None:
            return False
        (o_r, o_c), g, o = layer.dense(grid)
        r0, c0, r1, c1 = grid.grown(rect)
        r0, c0 = max(r0, o_r) - o_r, max(c0, o_c) - o_c
        r1, c1 = min(r1, o_r + g.shape[0]) - o_r, min(c1, o_c + g.shape[1]) - o_c
        if r1 <= r0 or c1 <= c0:
            return False
        return bool((g[r0:r1, c0:c1] != np.float32(1.0)).any() or o[r0:r1, c0:c1].any())

    def _redo(self, gain: np.ndarray, offset: np.ndarray, box: Box, region: Box, names: set[str],
              layer_boxes: list[Box]) -> None:
        """Put the change over ``region`` together again layer by layer, each faded by its own outlines among
        ``names``; consecutive layers that keep off those outlines alike are composed on the grid first and resized
        and faded together (as the whole change is)."""
        grid = self.grid
        g_all = np.ones((region[3] - region[1], region[2] - region[0]), np.float32)
        o_all = np.zeros(g_all.shape + (3,), np.float32)
        ordered = sorted(names)
        groups: list[tuple[tuple[Erase | None, ...], list[tuple[Layer, Box]]]] = []
        for layer, lb in zip(self.layers, layer_boxes, strict=True):
            sub = _intersect(lb, region)
            if sub is None or not self._changes(layer, lb, sub):
                continue
            key = tuple(layer.outline(n) for n in ordered)
            if groups and groups[-1][0] == key:
                groups[-1][1].append((layer, sub))
            else:
                groups.append((key, [(layer, sub)]))
        for _, members in groups:
            sub = members[0][1]
            for _, other in members[1:]:
                sub = _union(sub, other)
            if len(members) == 1:
                origin, dense_g, dense_o = members[0][0].dense(grid)
            else:  # composed on the grid over the cells resizing to ``sub`` reads (its cells and one more each side)
                cells = grid.rect(sub)
                assert cells is not None
                r0, c0, r1, c1 = grid.grown(cells)
                origin = (r0, c0)
                dense_g = np.ones((r1 - r0, c1 - c0), np.float32)
                dense_o = np.zeros((r1 - r0, c1 - c0, 3), np.float32)
                for layer, _ in members:
                    (o_r, o_c), g, o = layer.dense(grid)
                    a0, b0 = max(r0, o_r), max(c0, o_c)
                    a1, b1 = min(r1, o_r + g.shape[0]), min(c1, o_c + g.shape[1])
                    if a1 <= a0 or b1 <= b0:
                        continue
                    g = g[a0 - o_r : a1 - o_r, b0 - o_c : b1 - o_c]
                    o = o[a0 - o_r : a1 - o_r, b0 - o_c : b1 - o_c]
                    gs = dense_g[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0]
                    os_ = dense_o[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0]
                    os_ *= g[..., None]
                    os_ += o
                    gs *= g
            g = np.ascontiguousarray(grid.upsample(dense_g, origin, sub))
            o = np.ascontiguousarray(grid.upsample(dense_o, origin, sub))
            keep = self.outline_keep(members[0][0].erase, sub, names)
            if keep is not None:
                fade_change(g, o, keep)
            gs, os_ = _crop(g_all, region, sub), _crop(o_all, region, sub)
            os_ *= g[..., None]
            os_ += o
            gs *= g
        _crop(gain, box, region)[...] = g_all
        _crop(offset, box, region)[...] = o_all

    def outline_keep(self, erase: tuple[Erase, ...], box: Box, names: set[str] | None = None) -> np.ndarray | None:
        """float32 over frame ``box``: what a product keeps of its change there, for its outlines (those among
        ``names`` if given); None: all of it."""
        space = self.grid.space
        keep = None
        for e in erase:
            if names is not None and e.name not in names:
                continue
            found = space.mask(e.name, e.grow)
            if found is None:
                continue
            mbox, mask = found
            sub = _intersect(mbox, box)
            if sub is None:
                continue
            part = _crop(mask, mbox, sub)
            if e.hair is not None:
                hair = self._hair.get((sub, e.hair))
                if hair is None:  # the same outline's hair for every product that keeps it, computed once
                    light = S.luminance(np.ascontiguousarray(self.image[sub[1] : sub[3], sub[0] : sub[2]]))
                    hair = self._hair[(sub, e.hair)] = part * S.hair_weight(light, part, ceiling=e.hair)
                part = hair
            if keep is None:
                keep = np.ones((box[3] - box[1], box[2] - box[0]), np.float32)
            k = _crop(keep, box, sub)
            np.minimum(k, np.float32(1.0) - part, out=k)
        return keep

    # -- glints -----------------------------------------------------------------------------------------------
    def glints(self, out: np.ndarray, layers: list[Layer], keep: Callable[[tuple[Erase, ...], Box], np.ndarray | None],
               strength: float, luts: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Shimmer glints of ``layers`` at full resolution, fixed to the skin: white added where their sparkle lies
        (:func:`arlens.render.skin.sparkle_texture` looked up through the face's UV).

        The layers' sparkles are summed on the grid over each region they share (a side of the face), resized to
        the frame there once, kept off every outline any of them keeps off (they lie where those outlines are
        not) and drawn in one step: a glint where two products sparkle is their sum, not one drawn over the other.

        Args:
            out: the frame (modified).
            layers: the layers with ``sparkle`` (others are passed over).
            keep: ``(outlines, box) -> float32 over box`` (or None for all): what the outlines and the occluders
                leave.
            strength: how much white a glint adds at full sparkle.
            luts: the scene's light (:func:`arlens.render.skin.light_luts`: out of it, back into it), or None for
                white light. A glint reflects the light: it goes towards white under white light, and in a dim or
                coloured one towards what white looks like there (:func:`arlens.render.relight.composite_in_light`,
                as the products' colours are; towards 255 whatever the light, glints shone white on a dim face).
        """
        grid = self.grid
        uv_grid = grid.space.uv_grid
        assert uv_grid is not None
        regions: list[tuple[Rect, list[Layer]]] = []  # the parts' cells (grown by one), merged where they overlap
        for layer in layers:
            if layer.sparkle is None:
                continue
            for part in layer.parts or [layer.rect]:
                rect, owners = grid.grown(part), [layer]
                merged = True
                while merged:  # a region grown by a merge may reach another: merged until none overlap
                    merged = False
                    for i, (other, others) in enumerate(regions):
                        if rect[0] < other[2] and other[0] < rect[2] and rect[1] < other[3] and other[1] < rect[3]:
                            rect = (min(rect[0], other[0]), min(rect[1], other[1]), max(rect[2], other[2]),
                                    max(rect[3], other[3]))
                            owners = others + [o for o in owners if all(o is not x for x in others)]
                            del regions[i]
                            merged = True
                            break
                regions.append((rect, owners))
        width = out.shape[1]
        at_parts, level_parts = [], []
        for rect, owners in regions:
            r0, c0, r1, c1 = rect
            if len(owners) == 1:
                origin, field, _ = owners[0].dense(grid, sparkle=True)
            else:  # the sparkles summed on the grid
                origin, field = (r0, c0), np.zeros((r1 - r0, c1 - c0), np.float32)
                for layer in owners:
                    (o_r, o_c), dense, _ = layer.dense(grid, sparkle=True)
                    a0, b0 = max(r0, o_r), max(c0, o_c)
                    a1, b1 = min(r1, o_r + dense.shape[0]), min(c1, o_c + dense.shape[1])
                    if a1 > a0 and b1 > b0:
                        field[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0] += dense[a0 - o_r : a1 - o_r, b0 - o_c : b1 - o_c]
            box = grid.frame_box(rect)
            full = np.ascontiguousarray(grid.upsample(field, origin, box))
            erase = tuple(dict.fromkeys(e for layer in owners for e in layer.erase))
            k = keep(erase, box)
            if k is not None:
                full *= k
            flat = full.reshape(-1)
            index = np.flatnonzero(flat > np.float32(0.01 / strength))
            if not len(index):
                continue
            rows, cols = np.divmod(index, box[2] - box[0])
            rows += box[1]
            rows *= width
            rows += cols + box[0]
            at_parts.append(rows)
            level_parts.append(flat[index])
        if not at_parts:
            return
        at = np.concatenate(at_parts) if len(at_parts) > 1 else at_parts[0]
        rows, cols = np.divmod(at, width)
        texture = S.sparkle_texture(S.sparkle_level(grid.space.scale))
        uv = uv_grid.at(cols, rows, texels=np.float32(texture.shape[0]))
        glint = remap_points(texture, uv, border=cv2.BORDER_CONSTANT).reshape(-1)
        level = np.concatenate(level_parts) if len(level_parts) > 1 else level_parts[0]
        lit = np.flatnonzero(glint)  # the pixels a glint touches (a fifth of them): the rest stay as they are
        if not len(lit):
            return
        at, glint, level = np.take(at, lit), np.take(glint, lit), np.take(level, lit)
        # as (n, 1) columns: OpenCV's arithmetic takes a 1-D array of up to four numbers for a scalar (one to four
        # glinting pixels came back as four values)
        white = cv2.multiply(glint.reshape(-1, 1), level.reshape(-1, 1), scale=strength / 255.0,
                             dtype=cv2.CV_32F).reshape(-1)
        np.minimum(white, np.float32(0.6), out=white)
        flat = out.reshape(-1, 3)

        before = take_rows(flat, at)
        # towards white under white light, then into the scene's
        put_rows(flat, at, composite_in_light(before, None, lambda px: S.towards_white(px, white)[None], luts)[0])
