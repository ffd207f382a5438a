"""The demo job: every product of a catalog tried on sample portraits, as images, a contact sheet and a web page.

``arlens demo`` runs :func:`run_demo` on the bundled demo catalog and the bundled sample portraits
(``assets/sample_portrait.png``: NASA's portrait of Eileen Collins; ``assets/sample_portrait_2.jpg``:
the US Navy's portrait of Grace Hopper; both public domain), on a machine with no camera and no GPU.
:func:`render_catalog` does the same for any catalog and portraits (``demos/brand_preview_sheet.py``).

``arlens demo --portrait PHOTO --hand PHOTO --catalog FEED`` uses your photos and feed instead (nail
polish needs a photo of a hand: the sample portraits show none).

What is written under the output folder::

    index.html            one card per product: before and after close-ups on each photo beside title,
                          brand, price, swatch, finish, the buy link (with UTM tags), its QR code and the
                          product's JSON-LD; laid out for phones (420 px wide) as well as desktops
    contact_sheet.png     every try-on as a close-up with the product's name and price
    sheets/<kind>.png     the same, one sheet per product kind (foundation, blush, eyeshadow, ...)
    sheets/looks.png      every look of the catalog (all its products at once) on every portrait
    tryon/<photo>/        original.png and original_face.png (before), <product id>.png (full image) and
                          <product id>_face.png (close-up)
    qr/<product id>.png   the buy link's QR code (utm_medium=qr)

Products that cannot be drawn here are listed as skipped with the reason: nail polish without a hand
photo, kinds without a lens (a plugin's registry may lack one), and a kind this machine cannot draw at all (eyewear
without an OpenGL context: tried once, reported once, naming the system packages), while every other
product is still drawn. Nothing is printed: the CLI reports the result.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from arlens.catalog import Catalog, Product, ProductKind, UtmTags
from arlens.catalog.cards import detail_rows, price_html
from arlens.errors import ArlensError, InputError
from arlens.resources import assets_dir

logger = logging.getLogger(__name__)

SAMPLE_PORTRAITS = ("sample_portrait.png", "sample_portrait_2.jpg")
"""File names of the bundled sample portraits in :func:`arlens.resources.assets_dir`."""
TILE = 240
CAPTION = 46
COLUMNS = 6


@dataclass(frozen=True)
class DemoReport:
    """What :func:`render_catalog` wrote.

    Attributes:
        out_dir: the output folder.
        index_html: the web page.
        contact_sheet: the contact sheet PNG.
        images: every try-on image written (full size), in order.
        rendered: IDs of the products drawn, in catalog order.
        skipped: ``(product, kind or photo, reason)`` for what was left out.
        seconds: wall time of the whole job.
        portraits: names of the portraits used (the folders under ``tryon/``).
        hands: names of the hand photos used.
        sheets: per product kind (and ``"looks"``), the contact sheet of just those try-ons.
        looks: IDs of the looks drawn, in catalog order.
    """

    out_dir: Path
    index_html: Path
    contact_sheet: Path
    images: tuple[Path, ...]
    rendered: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    portraits: tuple[str, ...] = field(default=())
    hands: tuple[str, ...] = field(default=())
    sheets: dict[str, Path] = field(default_factory=dict)
    looks: tuple[str, ...] = ()


def sample_portraits() -> list[tuple[str, np.ndarray]]:
    """The bundled sample portraits as (name, uint8 BGR image).

    Raises:
        InputError: a bundled portrait is missing or cannot be decoded (a broken install).
    """
    out = []
    for name in SAMPLE_PORTRAITS:
        path = assets_dir() / name
        image = cv2.imread(str(path))
        if image is None:
            raise InputError(f"sample portrait: expected a readable image at {path}")
        out.append((Path(name).stem, image))
    return out


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "item"


def _write(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(path.suffix, image)
    if not ok:
        raise OSError(f"cannot encode {path}")
    path.write_bytes(data.tobytes())
    return path


def face_crop(image: np.ndarray, bbox: np.ndarray, size: int = TILE, scale: float = 1.6) -> np.ndarray:
    """A square close-up of ``size`` pixels around a face box, padded with the edge where it leaves the image."""
    x0, y0, x1, y1 = (float(v) for v in bbox)
    side = max(x1 - x0, y1 - y0) * scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + 0.05 * side
    ax, ay = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(int(round(side)), 2)
    h, w = image.shape[:2]
    pad = max(0, -ax, -ay, ax + s - w, ay + s - h)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else image
    crop = padded[ay + pad : ay + pad + s, ax + pad : ax + pad + s]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if s > size else cv2.INTER_CUBIC)


def _hex_to_bgr(color: str) -> tuple[int, int, int]:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return b, g, r


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _tile(image: np.ndarray, title: str, subtitle: str, swatch: str | None) -> np.ndarray:
    tile = np.full((TILE + CAPTION, TILE, 3), 255, np.uint8)
    tile[:TILE] = image
    x = 8
    if swatch:
        cv2.circle(tile, (16, TILE + 14), 8, _hex_to_bgr(swatch), -1, cv2.LINE_AA)
        cv2.circle(tile, (16, TILE + 14), 8, (90, 90, 90), 1, cv2.LINE_AA)
        x = 30
    font = cv2.FONT_HERSHEY_SIMPLEX
    title = _ascii(title)
    while len(title) > 4 and cv2.getTextSize(title, font, 0.45, 1)[0][0] > TILE - x - 6:
        title = title[:-2].rstrip() + "~"
    cv2.putText(tile, title, (x, TILE + 19), font, 0.45, (30, 30, 30), 1, cv2.LINE_AA)
    cv2.putText(tile, _ascii(subtitle), (8, TILE + 39), font, 0.42, (90, 90, 90), 1, cv2.LINE_AA)
    return tile


def contact_sheet(tiles: Sequence[np.ndarray], columns: int = COLUMNS, gap: int = 6) -> np.ndarray:
    """Tiles of one size in a grid on a light background."""
    if not tiles:
        raise InputError("contact sheet: expected at least one tile")
    th, tw = tiles[0].shape[:2]
    rows = (len(tiles) + columns - 1) // columns
    cols = min(columns, len(tiles))
    sheet = np.full((rows * (th + gap) + gap, cols * (tw + gap) + gap, 3), 236, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, columns)
        y, x = gap + r * (th + gap), gap + c * (tw + gap)
        sheet[y : y + th, x : x + tw] = t
    return sheet


@dataclass
class _Photo:
    name: str  # file-safe, unique: the folder of its images
    caption: str  # words, for people
    image: np.ndarray
    target: str  # "face" or "hand"
    bbox: np.ndarray  # the first face's or hand's box
    before: str = ""  # close-up of the untouched photo, relative to the output folder


BUNDLED_CAPTIONS = {
    "sample_portrait": "Eileen Collins (NASA portrait)",
    "sample_portrait_2": "Grace Hopper (US Navy portrait)",
}
"""Captions of the bundled sample portraits; other photos are captioned from their names."""


#: How much wider than the box of what is shown a close-up is: the face, or the fingertips of a hand.
_CLOSEUP_SCALE = {"face": 1.6, "hand": 1.5}


def _closeup_box(target: object) -> np.ndarray:
    """The box a close-up shows: a face's, or a hand's fingertips (the distal phalanges, where nails are)."""
    from arlens.landmarks import FINGERS
    from arlens.tracking.results import Hand, bbox_of

    if isinstance(target, Hand):
        tips = [int(j) for tip, dip, _ in FINGERS.values() for j in (tip, dip)]
        return bbox_of(target.landmarks[tips])
    return np.asarray(target.bbox, dtype=np.float32)  # type: ignore[attr-defined]


def caption_of(name: str) -> str:
    """Words for a photo's name: the bundled portraits' own captions, else the file stem without its separators
    (``holiday_selfie-2`` -> ``Holiday selfie 2``)."""
    if name in BUNDLED_CAPTIONS:
        return BUNDLED_CAPTIONS[name]
    words = re.sub(r"[\s_.-]+", " ", name).strip()
    return (words[:1].upper() + words[1:]) if words else "Photo"


def _unique(name: str, taken: set[str]) -> str:
    base = _safe_name(name)
    out, n = base, 1
    while out.lower() in taken:
        n += 1
        out = f"{base}-{n}"
    taken.add(out.lower())
    return out


def render_catalog(
    catalog: Catalog,
    portraits: Sequence[tuple[str, np.ndarray]],
    out_dir: str | Path,
    *,
    utm: UtmTags | None = None,
    title: str | None = None,
    kinds: Sequence[ProductKind | str] | None = None,
    hands: Sequence[tuple[str, np.ndarray]] = (),
) -> DemoReport:
    """Try every product of ``catalog`` on the photos; write images, a contact sheet and ``index.html``.

    Products worn on a face go on every portrait with a face, products worn on a hand (nail polish) on
    every hand photo with a hand. Each product card on the page shows, per photo, the close-up before
    and after.

    Args:
        catalog: the products (those without a drawable kind are skipped with a reason).
        portraits: (name, uint8 BGR image) pairs, each with a face.
        out_dir: output folder (created).
        utm: tags of the buy links on the page (default: ``utm_source=arlens&utm_medium=ar_tryon``).
        title: the page heading (default: the catalog's brand names).
        kinds: only these product kinds (default: all).
        hands: (name, uint8 BGR image) pairs, each with a hand, for the hand products.

    Returns:
        What was written and skipped. A kind whose renderer cannot run on this machine (eyewear without
        an OpenGL context) is tried once and skipped as a whole, with one reason.

    Raises:
        InputError: no photo has what its products are worn on, or nothing could be drawn.
        OSError: files cannot be written.
    """
    from arlens.catalog.jsonld import jsonld_script
    from arlens.catalog.qr import product_qr
    from arlens.errors import RuntimeUnavailableError
    from arlens.session import TryOn

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    utm = utm or UtmTags()
    wanted = {ProductKind(k) for k in kinds} if kinds else None
    skipped: list[tuple[str, str]] = []
    images: list[Path] = []
    tiles: list[np.ndarray] = []
    befores: list[np.ndarray] = []
    by_kind: dict[str, list[np.ndarray]] = {}
    # product id -> [(caption, before close-up, after close-up, after full image)], paths relative to out
    shots: dict[str, list[tuple[str, str, str, str]]] = {}
    taken: set[str] = set()

    with TryOn(catalog, utm=utm, hands=True if hands else None) as session:
        photos: list[_Photo] = []
        for target, given in (("face", portraits), ("hand", hands)):
            for name, image in given:
                result = session.process_image(image)
                found = result.faces if target == "face" else result.hands
                if not found:
                    skipped.append((caption_of(name), f"no {target} found in this photo"))
                    continue
                photo = _Photo(_unique(name, taken), caption_of(name), image, target, _closeup_box(found[0]))
                folder = out / "tryon" / photo.name
                _write(folder / "original.png", image)
                close = face_crop(image, photo.bbox, scale=_CLOSEUP_SCALE[target])
                photo.before = _write(folder / "original_face.png", close).relative_to(out).as_posix()
                photos.append(photo)
                tiles.append(_tile(close, f"{photo.caption}: before", "no product", None))
                if target == "face":
                    befores.append(tiles[-1])
        if not photos:
            raise InputError("photos: expected at least one portrait with a face or hand photo with a hand, found none")

        products: list[Product] = []
        for p in catalog:
            if wanted is not None and p.kind not in wanted:
                continue
            spec = session.registry.get(p.kind) if p.kind is not None else None
            if spec is None:
                why = f"no lens for {p.kind.value} yet" if p.kind else "not a try-on product (no kind)"
                skipped.append((p.id, why))
            elif not any(ph.target == spec.target for ph in photos):
                why = ("needs a photo of a hand: add one with --hand PHOTO" if spec.target == "hand"
                       else "needs a portrait with a face: add one with --portrait PHOTO")
                skipped.append((p.id, why))
            else:
                products.append(p)

        unavailable: dict[str, tuple[str, list[str]]] = {}  # kind -> (reason, products left out)
        for product in products:
            kind = product.kind.value  # type: ignore[union-attr]
            if kind in unavailable:
                unavailable[kind][1].append(product.id)
                continue
            target = session.registry[kind].target
            try:
                session.select(product)
                for photo in (ph for ph in photos if ph.target == target):
                    result = session.process_image(photo.image)
                    full = _write(out / "tryon" / photo.name / f"{_safe_name(product.id)}.png", result.frame)
                    close = face_crop(result.frame, photo.bbox, scale=_CLOSEUP_SCALE[target])
                    after = _write(out / "tryon" / photo.name / f"{_safe_name(product.id)}_face.png", close)
                    images.append(full)
                    shots.setdefault(product.id, []).append(
                        (photo.caption, photo.before, after.relative_to(out).as_posix(),
                         full.relative_to(out).as_posix())
                    )
                    price = str(product.current_price)
                    finish = product.finish.value if product.finish else kind.replace("_", " ")
                    tiles.append(_tile(close, product.title, f"{price} - {finish}", product.color))
                    by_kind.setdefault(kind, []).append(tiles[-1])
            except RuntimeUnavailableError as exc:  # the machine cannot draw this kind at all: say it once
                reason = str(exc).splitlines()[0]
                logger.info("%s products cannot be drawn here: %s", kind, reason)
                unavailable[kind] = (reason, [product.id])
            except ArlensError as exc:
                reason = str(exc).splitlines()[0]
                logger.info("skipping %s: %s", product.id, reason)
                skipped.append((product.id, reason))
            finally:
                if product.kind is not None:
                    session.remove(product.kind)
        for kind, (reason, ids) in unavailable.items():
            what = f"{kind.replace('_', ' ')} ({', '.join(ids)})"
            skipped.append((what, f"cannot be drawn on this machine: {reason}"))

        # the looks: every product of one at once, on every portrait
        look_shots: dict[str, list[tuple[str, str, str, str]]] = {}
        faces = [ph for ph in photos if ph.target == "face"]
        for look in catalog.looks if faces else ():
            if not set(shots).issuperset(look.product_ids):
                skipped.append((look.id, "a product of this look is not drawn here"))
                continue
            try:
                session.wear_look(look)
                for photo in faces:
                    result = session.process_image(photo.image)
                    full = _write(out / "tryon" / photo.name / f"{_safe_name(look.id)}.png", result.frame)
                    close = face_crop(result.frame, photo.bbox, scale=_CLOSEUP_SCALE["face"])
                    after = _write(out / "tryon" / photo.name / f"{_safe_name(look.id)}_face.png", close)
                    images.append(full)
                    look_shots.setdefault(look.id, []).append(
                        (photo.caption, photo.before, after.relative_to(out).as_posix(),
                         full.relative_to(out).as_posix())
                    )
                    by_kind.setdefault("looks", []).append(
                        _tile(close, look.title, f"{look.total_price(catalog)} - {len(look.product_ids)} products",
                              None)
                    )
            except ArlensError as exc:
                reason = str(exc).splitlines()[0]
                logger.info("skipping %s: %s", look.id, reason)
                skipped.append((look.id, reason))
            finally:
                for kind in [p.kind for p in session.products if p.kind is not None]:
                    session.remove(kind)

    if not shots:
        raise InputError("catalog: nothing could be drawn (every product was skipped)")

    qr_dir = out / "qr"
    qrs: dict[str, str] = {}
    for pid in shots:
        qr = product_qr(catalog[pid], module_px=5)
        qrs[pid] = _write(qr_dir / f"{_safe_name(pid)}.png", qr).relative_to(out).as_posix()

    sheet_path = _write(out / "contact_sheet.png", contact_sheet(tiles))
    sheets = {
        kind: _write(out / "sheets" / f"{kind}.png", contact_sheet(befores + kind_tiles,
                                                                   columns=max(len(befores), COLUMNS)))
        for kind, kind_tiles in by_kind.items()
    }
    brands = sorted({catalog[pid].brand for pid in shots if catalog[pid].brand})
    heading = title or (" / ".join(brands) if brands else "arlens") + " virtual try-on"
    page = _page(heading, [catalog[pid] for pid in shots], shots, qrs, utm, skipped, jsonld_script,
                 _looks_html(catalog, look_shots, utm))
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return DemoReport(
        out_dir=out,
        index_html=index,
        contact_sheet=sheet_path,
        images=tuple(images),
        rendered=tuple(shots),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - start,
        portraits=tuple(ph.name for ph in photos if ph.target == "face"),
        hands=tuple(ph.name for ph in photos if ph.target == "hand"),
        sheets=sheets,
        looks=tuple(look_shots),
    )


def read_photos(paths: Sequence[str | Path]) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 BGR image) of each photo file, for :func:`render_catalog`.

    Raises:
        InputError: a file that is missing or that OpenCV cannot decode (named).
    """
    out = []
    for path in paths:
        p = Path(path)
        image = cv2.imread(str(p)) if p.is_file() else None
        if image is None:
            why = "no such file" if not p.exists() else "not an image OpenCV can decode"
            raise InputError(f"cannot read image {path}: {why}")
        out.append((p.stem, image))
    return out


def run_demo(
    out_dir: str | Path = "arlens-demo",
    *,
    portraits: Sequence[str | Path] = (),
    hands: Sequence[str | Path] = (),
    catalog: str | Path | Catalog | None = None,
) -> DemoReport:
    """:func:`render_catalog` as ``arlens demo`` runs it: the bundled demo catalog on the bundled sample portraits,
    or on the given portrait and hand photos and catalog feed."""
    if catalog is None:
        catalog = Catalog.default()
    elif not isinstance(catalog, Catalog):
        catalog = Catalog.load(catalog)
    faces = read_photos(portraits) if portraits else sample_portraits()
    return render_catalog(catalog, faces, out_dir, hands=read_photos(hands))


_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f2f0;color:#222}
img{max-width:100%}
header{padding:24px 32px;background:#1f1b24;color:#fff}
header h1{margin:0 0 6px;font-size:26px;overflow-wrap:anywhere} header p{margin:0;color:#cfc8d6}
main{padding:24px 32px;display:grid;gap:20px;grid-template-columns:minmax(0,1fr)}
.card{display:flex;gap:20px 24px;background:#fff;border-radius:12px;padding:16px;box-shadow:0 1px 4px #0002;
  flex-wrap:wrap;min-width:0}
.shots{display:flex;flex-wrap:wrap;gap:12px;min-width:0;flex:1 1 300px;max-width:100%}
.pair{margin:0;flex:1 1 260px;max-width:400px;min-width:0}
.pair .ba{display:grid;grid-template-columns:1fr 1fr;gap:6px}
.pair img{width:100%;height:auto;aspect-ratio:1;border-radius:8px;display:block}
.pair span{display:block;text-align:center;font-size:12px;color:#777;margin-top:2px}
.pair figcaption{font-size:13px;color:#444;margin-top:4px;text-align:center}
.info{flex:1 1 240px;min-width:0} .info h2{margin:0 0 4px;font-size:20px}
.brand{color:#777;margin:0 0 10px} .price{font-size:22px;font-weight:600;margin:6px 0}
.price s{color:#999;font-weight:400;font-size:16px;margin-left:8px}
.swatch{display:inline-block;width:22px;height:22px;border-radius:50%;border:1px solid #0003;
  vertical-align:middle;margin-right:8px}
dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:4px 12px;margin:10px 0} dt{color:#777}
dd{margin:0;overflow-wrap:anywhere}
a.buy{display:inline-block;background:#1f1b24;color:#fff;padding:8px 16px;border-radius:20px;text-decoration:none}
.link{font-size:11px;color:#888;overflow-wrap:anywhere;margin-top:6px}
.qr{text-align:center;font-size:12px;color:#777;flex:0 0 auto;margin:0 auto}
.qr img{width:150px;height:150px;image-rendering:pixelated;display:block}
.skipped{background:#fff;border-radius:12px;padding:12px 16px;color:#555;overflow-wrap:anywhere}
@media (max-width:600px){header{padding:16px} main{padding:12px;gap:12px} .card{padding:12px}}
"""


def _looks_html(catalog: Catalog, shots: dict[str, list[tuple[str, str, str, str]]], utm: UtmTags) -> str:
    """A card per look: its before and after close-ups, the set's total and link, and each product with its
    own link."""
    from arlens.catalog.jsonld import jsonld_script

    e = html.escape
    cards = []
    for look_id, look_shots in shots.items():
        look = catalog.look(look_id)
        figures = "".join(
            f'<figure class="pair"><div class="ba">'
            f'<div><img src="{e(before)}" alt="{e(caption)} before" loading="lazy"><span>Before</span></div>'
            f'<div><a href="{e(full)}"><img src="{e(after)}" alt="{e(look.title)} on {e(caption)}" '
            f'loading="lazy"></a><span>After</span></div></div><figcaption>{e(caption)}</figcaption></figure>'
            for caption, before, after, full in look_shots
        )
        items = "".join(
            f'<dt><span class="swatch" style="background:{e(p.color or "#ffffff")}"></span>{e(p.title)}</dt>'
            f'<dd>{e(str(p.current_price))} <a href="{e(p.buy_link(utm))}" rel="noopener">buy</a></dd>'
            for p in look.products(catalog)
        )
        link = look.buy_link(utm)
        buy = (f'<a class="buy" href="{e(link)}" rel="noopener">Buy the look</a>' if link is not None
               else '<p class="brand">Buy the products one by one.</p>')
        cards.append(
            f'<section class="card" id="{e(look.id)}"><div class="shots">{figures}</div>'
            f'<div class="info"><h2>{e(look.title)}</h2><p class="brand">{e(look.description)}</p>'
            f'<div class="price">{e(str(look.total_price(catalog)))}</div><dl>{items}</dl>{buy}</div>'
            f"{jsonld_script(look, tags=utm, catalog=catalog)}</section>"
        )
    return "".join(cards)


def _page(
    heading: str,
    products: list[Product],
    shots: dict[str, list[tuple[str, str, str, str]]],
    qrs: dict[str, str],
    utm: UtmTags,
    skipped: list[tuple[str, str]],
    jsonld_script,  # noqa: ANN001 - arlens.catalog.jsonld.jsonld_script, imported by the caller
    looks_html: str = "",
) -> str:
    e = html.escape
    cards = []
    for p in products:
        figures = "".join(
            f'<figure class="pair"><div class="ba">'
            f'<div><img src="{e(before)}" alt="{e(caption)} before" loading="lazy"><span>Before</span></div>'
            f'<div><a href="{e(full)}"><img src="{e(after)}" alt="{e(p.title)} on {e(caption)}" loading="lazy"></a>'
            f"<span>After</span></div></div><figcaption>{e(caption)}</figcaption></figure>"
            for caption, before, after, full in shots[p.id]
        )
        link = p.buy_link(utm)
        price = price_html(p)
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in detail_rows(p))
        cards.append(
            f'<section class="card" id="{e(p.id)}"><div class="shots">{figures}</div>'
            f'<div class="info"><h2>{e(p.title)}</h2><p class="brand">{e(p.brand)}</p>'
            f'<div class="price">{price}</div><dl>{dl}</dl>'
            f'<a class="buy" href="{e(link)}" rel="noopener">Buy now</a><div class="link">{e(link)}</div></div>'
            f'<div class="qr"><img src="{e(qrs[p.id])}" alt="QR code of the buy link">scan to buy</div>'
            f"{jsonld_script(p, tags=utm)}</section>"
        )
    skipped_html = ""
    if skipped:
        items = "".join(f"<li><b>{e(what)}</b>: {e(why)}</li>" for what, why in skipped)
        skipped_html = f'<section class="skipped"><h3>Not shown</h3><ul>{items}</ul></section>'
    meta = json.dumps({"products": len(products)})
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(heading)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{e(heading)}</h1><p>{len(products)} products tried on with arlens "
        f'(<a style="color:#cfc8d6" href="contact_sheet.png">contact sheet</a>)</p></header>'
        f"<main>{looks_html}{''.join(cards)}{skipped_html}</main>"
        f"<!-- arlens demo {e(meta)} --></body></html>\n"
    )
