"""Contact sheets of a preview: one per product across the photos, one per photo and kind across the shades.

Sheets are composed from the close-ups the renders wrote (``thumbs/...``), so building one reads small
JPEGs, not the full renders. A sheet longer than ``sheet_max_tiles`` continues in ``<name>-2.png``, ...
Which sheets exist and what is on them is decided here (:func:`plan_sheets`); composing one is
:func:`compose_sheet`, run by a worker.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arlens.preview.stages import SheetTask, SheetTile

if TYPE_CHECKING:
    from arlens.catalog import Product

CAPTION = 46
HEADING = 40
GAP = 6
BACKGROUND = 236


def _hex_to_bgr(color: str) -> tuple[int, int, int]:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return b, g, r


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _fit(text: str, width: int, scale: float) -> str:
    import cv2

    text = _ascii(text)
    while len(text) > 4 and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] > width:
        text = text[:-2].rstrip() + "~"
    return text


def caption_tile(image: np.ndarray, tile: SheetTile, size: int) -> np.ndarray:
    """A close-up with a caption band under it: swatch dot, title, subtitle (as ``arlens demo`` draws them)."""
    import cv2

    out = np.full((size + CAPTION, size, 3), 255, np.uint8)
    if image.shape[:2] != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    out[:size] = image
    x = 8
    if tile.swatch:
        cv2.circle(out, (16, size + 14), 8, _hex_to_bgr(tile.swatch), -1, cv2.LINE_AA)
        cv2.circle(out, (16, size + 14), 8, (90, 90, 90), 1, cv2.LINE_AA)
        x = 30
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(out, _fit(tile.title, size - x - 6, 0.45), (x, size + 19), font, 0.45, (30, 30, 30), 1, cv2.LINE_AA)
    cv2.putText(out, _fit(tile.subtitle, size - 14, 0.42), (8, size + 39), font, 0.42, (90, 90, 90), 1,
                cv2.LINE_AA)
    return out


def _missing(size: int) -> np.ndarray:
    import cv2

    image = np.full((size, size, 3), 200, np.uint8)
    cv2.putText(image, "missing", (size // 2 - 36, size // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (90, 90, 90), 1,
                cv2.LINE_AA)
    return image


def compose_sheet(out_dir: Path, task: SheetTask, size: int) -> bytes:
    """The sheet's PNG bytes: a heading band, then the tiles in rows of ``task.columns``.

    A close-up that cannot be read (deleted since) becomes a grey "missing" tile rather than failing the sheet.
    """
    import cv2

    tiles = []
    for t in task.tiles:
        image = cv2.imread(str(out_dir / t.image), cv2.IMREAD_COLOR)
        tiles.append(caption_tile(image if image is not None else _missing(size), t, size))
    th, tw = size + CAPTION, size
    cols = max(1, min(task.columns, len(tiles)))
    rows = max(1, (len(tiles) + cols - 1) // cols)
    width = max(cols * (tw + GAP) + GAP, 320)
    sheet = np.full((HEADING + rows * (th + GAP) + GAP, width, 3), BACKGROUND, np.uint8)
    sheet[:HEADING] = (36, 27, 31)  # the gallery header's colour, BGR
    cv2.putText(sheet, _fit(task.heading, width - 20, 0.6), (10, 27), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                (255, 255, 255), 1, cv2.LINE_AA)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        y, x = HEADING + GAP + r * (th + GAP), GAP + c * (tw + GAP)
        sheet[y : y + th, x : x + tw] = t
    ok, data = cv2.imencode(".png", sheet)
    if not ok:
        raise OSError(f"cannot encode sheet {task.path}")
    return data.tobytes()


def _pages(path_stem: str, heading: str, tiles: list[SheetTile], columns: int, max_tiles: int) -> list[SheetTask]:
    chunks = [tiles[i : i + max_tiles] for i in range(0, len(tiles), max_tiles)] or [[]]
    out = []
    for n, chunk in enumerate(chunks, start=1):
        suffix = "" if n == 1 else f"-{n}"
        more = f" ({n}/{len(chunks)})" if len(chunks) > 1 else ""
        out.append(SheetTask(f"{path_stem}{suffix}.png", heading + more, tuple(chunk), columns))
    return out


def _price_line(p: Product) -> str:
    finish = p.finish.value if p.finish else (p.kind.value if p.kind else "")
    return f"{p.current_price} - {finish}" if finish else str(p.current_price)


def plan_sheets(
    products: Sequence[Product],
    product_files: Mapping[str, str],
    photos: Sequence[str],
    renders: Mapping[tuple[str, str], Mapping[str, Any]],
    photo_records: Mapping[str, Mapping[str, Any]],
    *,
    columns: int,
    max_tiles: int,
) -> list[tuple[SheetTask, str, tuple[str, ...]]]:
    """Every sheet of the run with the hash of its inputs (tiles' render hashes and captions) and its owner,
    ``("product", id)`` or ``("photo", name, kind)``.

    Per product (``sheets/products/<product>.png``): the product on each photo it was rendered on. Per photo
    and kind (``sheets/photos/<photo>/<kind>.png``): the photo as it is, then each shade of that kind on it.
    Only renders in ``renders`` appear; a product or photo without any gets no sheet.
    """
    out: list[tuple[SheetTask, str, tuple[str, ...]]] = []

    def add(tasks: list[SheetTask], keys: list[str], owner: tuple[str, ...]) -> None:
        for task in tasks:
            inputs = json.dumps([task.heading, [(t.image, t.title, t.subtitle, t.swatch) for t in task.tiles], keys,
                                 task.columns], sort_keys=True)
            out.append((task, hashlib.sha256(inputs.encode("utf-8")).hexdigest(), owner))

    for p in products:
        tiles, keys = [], []
        for photo in photos:
            rec = renders.get((photo, p.id))
            if rec is None:
                continue
            tiles.append(SheetTile(rec["thumb"], photo, _price_line(p), p.color))
            keys.append(rec["sha256"])
        if tiles:
            heading = f"{p.title} - {p.id} - {p.current_price}"
            add(_pages(f"sheets/products/{product_files[p.id]}", heading, tiles, columns, max_tiles), keys,
                ("product", p.id))
    kinds = list(dict.fromkeys(p.kind.value for p in products if p.kind is not None))
    for photo in photos:
        for kind in kinds:
            tiles, keys = [], []
            for p in products:
                if p.kind is None or p.kind.value != kind:
                    continue
                rec = renders.get((photo, p.id))
                if rec is None:
                    continue
                tiles.append(SheetTile(rec["thumb"], p.title, _price_line(p), p.color))
                keys.append(rec["sha256"])
            if not tiles:
                continue
            heading = f"{photo} - {kind.replace('_', ' ')} - {len(tiles)} shades"
            before = photo_records.get(photo, {})
            if before.get("thumb"):
                tiles.insert(0, SheetTile(before["thumb"], f"{photo}: as shot", "no product", None))
                keys.insert(0, str(before.get("sha256", "")))
            add(_pages(f"sheets/photos/{photo}/{kind}", heading, tiles, columns, max_tiles), keys,
                ("photo", photo, kind))
    return out
