"""The demo job: every product of a catalog tried on sample portraits, as images, a contact sheet and a web page.

``arlens demo`` runs :func:`run_demo` on the bundled demo catalog and the bundled sample portraits
(``assets/sample_portrait.png``: NASA's portrait of Eileen Collins; ``assets/sample_portrait_2.jpg``:
the US Navy's portrait of Grace Hopper; both public domain), on a machine with no camera and no GPU.
:func:`render_catalog` does the same for any catalog and portraits (``demos/brand_preview_sheet.py``).

What is written under the output folder::

    index.html            one card per product: the try-ons beside title, brand, price, swatch,
                          finish, the buy link (with UTM tags), its QR code and the product's JSON-LD
    contact_sheet.png     every try-on as a face close-up with the product's name and price
    sheets/<kind>.png     the same, one sheet per product kind (foundation, blush, eyeshadow, ...)
    sheets/looks.png      every look of the catalog (all its products at once) on every portrait
    tryon/<portrait>/     original.png, <product id>.png (full image) and <product id>_face.png (close-up)
    qr/<product id>.png   the buy link's QR code (utm_medium=qr)

Products that cannot be drawn here are listed as skipped with the reason: nail polish (the sample
portraits show no hands), kinds without a lens (a plugin's registry may lack one), eyewear where no OpenGL context can
be made (the reason names the system packages). Nothing is printed: the CLI reports the result.
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
        skipped: ``(product or portrait, reason)`` for what was left out.
        seconds: wall time of the whole job.
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


def render_catalog(
    catalog: Catalog,
    portraits: Sequence[tuple[str, np.ndarray]],
    out_dir: str | Path,
    *,
    utm: UtmTags | None = None,
    title: str | None = None,
    kinds: Sequence[ProductKind | str] | None = None,
) -> DemoReport:
    """Try every product of ``catalog`` on every portrait; write images, a contact sheet and ``index.html``.

    Args:
        catalog: the products (those without a drawable kind are skipped with a reason).
        portraits: (name, uint8 BGR image) pairs, each with a face.
        out_dir: output folder (created).
        utm: tags of the buy links on the page (default: ``utm_source=arlens&utm_medium=ar_tryon``).
        title: the page heading (default: the catalog's brand names).
        kinds: only these product kinds (default: all).

    Returns:
        What was written and skipped.

    Raises:
        InputError: no portrait has a face, or nothing could be drawn.
        OSError: files cannot be written.
    """
    from arlens.catalog.jsonld import jsonld_script
    from arlens.catalog.qr import product_qr
    from arlens.session import TryOn

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    utm = utm or UtmTags()
    wanted = {ProductKind(k) for k in kinds} if kinds else None
    skipped: list[tuple[str, str]] = []
    images: list[Path] = []
    tiles: list[np.ndarray] = []
    originals: list[np.ndarray] = []
    by_kind: dict[str, list[np.ndarray]] = {}
    # product or look id -> [(portrait, full image rel path, face rel path)]
    shots: dict[str, list[tuple[str, str, str]]] = {}
    used_portraits: list[str] = []

    with TryOn(catalog, utm=utm) as session:
        faces_of: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, image in portraits:
            result = session.process_image(image)
            if not result.faces:
                skipped.append((name, "no face found in this portrait"))
                continue
            faces_of[name] = (image, result.faces[0].bbox)
            used_portraits.append(name)
            folder = out / "tryon" / _safe_name(name)
            _write(folder / "original.png", image)
            originals.append(_tile(face_crop(image, result.faces[0].bbox), f"{name}: original", "no product", None))
            tiles.append(originals[-1])
        if not faces_of:
            raise InputError("portraits: expected at least one image with a face, found none")

        products: list[Product] = []
        for p in catalog:
            if wanted is not None and p.kind not in wanted:
                continue
            spec = session.registry.get(p.kind) if p.kind is not None else None
            if spec is None:
                why = f"no lens for {p.kind.value} yet" if p.kind else "not a try-on product (no kind)"
                skipped.append((p.id, why))
            elif spec.target == "hand":
                skipped.append((p.id, "nail polish needs a photo of a hand; the portraits show none"))
            else:
                products.append(p)

        for product in products:
            try:
                session.select(product)
                for name, (image, _) in faces_of.items():
                    result = session.process_image(image)
                    folder = out / "tryon" / _safe_name(name)
                    full = _write(folder / f"{_safe_name(product.id)}.png", result.frame)
                    bbox = result.faces[0].bbox if result.faces else faces_of[name][1]
                    close = face_crop(result.frame, bbox)
                    face = _write(folder / f"{_safe_name(product.id)}_face.png", close)
                    images.append(full)
                    shots.setdefault(product.id, []).append(
                        (name, full.relative_to(out).as_posix(), face.relative_to(out).as_posix())
                    )
                    price = str(product.current_price)
                    finish = product.finish.value if product.finish else product.kind.value  # type: ignore[union-attr]
                    tiles.append(_tile(close, product.title, f"{price} - {finish}", product.color))
                    by_kind.setdefault(product.kind.value, []).append(tiles[-1])  # type: ignore[union-attr]
            except ArlensError as exc:
                reason = str(exc).splitlines()[0]
                logger.warning("skipping %s: %s", product.id, reason)
                skipped.append((product.id, reason))
            finally:
                if product.kind is not None:
                    session.remove(product.kind)

        drawable = set(p.id for p in products)
        look_shots: dict[str, list[tuple[str, str, str]]] = {}
        for look in catalog.looks:
            if not drawable.issuperset(look.product_ids):
                skipped.append((look.id, "a product of this look is not drawn here"))
                continue
            try:
                session.wear_look(look)
                for name, (image, _) in faces_of.items():
                    result = session.process_image(image)
                    folder = out / "tryon" / _safe_name(name)
                    full = _write(folder / f"{_safe_name(look.id)}.png", result.frame)
                    bbox = result.faces[0].bbox if result.faces else faces_of[name][1]
                    close = face_crop(result.frame, bbox)
                    face = _write(folder / f"{_safe_name(look.id)}_face.png", close)
                    images.append(full)
                    look_shots.setdefault(look.id, []).append(
                        (name, full.relative_to(out).as_posix(), face.relative_to(out).as_posix())
                    )
                    total = str(look.total_price(catalog))
                    by_kind.setdefault("looks", []).append(
                        _tile(close, look.title, f"{total} - {len(look.product_ids)} products", None)
                    )
            except ArlensError as exc:
                reason = str(exc).splitlines()[0]
                logger.warning("skipping %s: %s", look.id, reason)
                skipped.append((look.id, reason))
            finally:
                for kind in list(session.kinds):
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
        kind: _write(out / "sheets" / f"{kind}.png", contact_sheet(originals + kind_tiles,
                                                                   columns=max(len(faces_of), COLUMNS)))
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
        portraits=tuple(used_portraits),
        sheets=sheets,
        looks=tuple(look_shots),
    )


def run_demo(out_dir: str | Path = "arlens-demo") -> DemoReport:
    """:func:`render_catalog` on the bundled demo catalog and sample portraits (what ``arlens demo`` runs)."""
    return render_catalog(Catalog.default(), sample_portraits(), out_dir)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f2f0;color:#222}
header{padding:24px 32px;background:#1f1b24;color:#fff}
header h1{margin:0 0 6px;font-size:26px} header p{margin:0;color:#cfc8d6}
main{padding:24px 32px;display:grid;gap:20px}
.card{display:flex;gap:24px;background:#fff;border-radius:12px;padding:16px;box-shadow:0 1px 4px #0002;flex-wrap:wrap}
.shots{display:flex;gap:10px} .shots figure{margin:0;text-align:center;font-size:12px;color:#777}
.shots img{width:240px;height:240px;border-radius:8px;display:block}
.info{flex:1;min-width:260px} .info h2{margin:0 0 4px;font-size:20px}
.brand{color:#777;margin:0 0 10px} .price{font-size:22px;font-weight:600;margin:6px 0}
.price s{color:#999;font-weight:400;font-size:16px;margin-left:8px}
.swatch{display:inline-block;width:22px;height:22px;border-radius:50%;border:1px solid #0003;
  vertical-align:middle;margin-right:8px}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:10px 0} dt{color:#777}
a.buy{display:inline-block;background:#1f1b24;color:#fff;padding:8px 16px;border-radius:20px;text-decoration:none}
.link{font-size:11px;color:#888;word-break:break-all;margin-top:6px}
.qr{text-align:center;font-size:12px;color:#777} .qr img{width:150px;height:150px;image-rendering:pixelated}
.skipped{background:#fff;border-radius:12px;padding:12px 16px;color:#555}
"""


def _looks_html(catalog: Catalog, shots: dict[str, list[tuple[str, str, str]]], utm: UtmTags) -> str:
    """A card per look: its try-ons, the set's total and link, and each product with its own link."""
    from arlens.catalog.jsonld import jsonld_script

    e = html.escape
    cards = []
    for look_id, look_shots in shots.items():
        look = catalog.look(look_id)
        figures = "".join(
            f'<figure><a href="{e(full)}"><img src="{e(face)}" alt="{e(look.title)} on {e(name)}"></a>'
            f"<figcaption>{e(name)}</figcaption></figure>"
            for name, full, face in look_shots
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
    shots: dict[str, list[tuple[str, str, str]]],
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
            f'<figure><a href="{e(full)}"><img src="{e(face)}" alt="{e(p.title)} on {e(name)}"></a>'
            f"<figcaption>{e(name)}</figcaption></figure>"
            for name, full, face in shots[p.id]
        )
        link = p.buy_link(utm)
        price = f"{e(str(p.current_price))}"
        if p.sale_price is not None:
            price += f"<s>{e(str(p.price))}</s>"
        rows = [("Kind", e(p.kind.value if p.kind else ""))]
        if p.color:
            name = f" {e(p.color_name)}" if p.color_name else ""
            rows.append(("Shade", f'<span class="swatch" style="background:{e(p.color)}"></span>{e(p.color)}{name}'))
        if p.finish:
            rows.append(("Finish", e(p.finish.value)))
        if p.frame_width_mm:
            rows.append(("Frame width", f"{p.frame_width_mm:g} mm"))
        rows.append(("Product ID", e(p.id)))
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        cards.append(
            f'<section class="card" id="{e(p.id)}"><div class="shots">{figures}</div>'
            f'<div class="info"><h2>{e(p.title)}</h2><p class="brand">{e(p.brand)}</p>'
            f'<div class="price">{price}</div><dl>{dl}</dl>'
            f'<a class="buy" href="{e(link)}" rel="noopener">Buy now</a><div class="link">{e(link)}</div></div>'
            f'<div class="qr"><img src="{e(qrs[p.id])}" alt="QR code of the buy link"><br>scan to buy</div>'
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
