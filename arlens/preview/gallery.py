"""The static HTML gallery of a preview: a brand's review page, with prices, buy links and JSON-LD.

``OUT/index.html`` (and ``index-2.html``, ... past ``page_size`` products) holds one card per product: its
close-ups on every photo (each links to the full render), title, brand, price (with the regular price
struck through on sale), kind, swatch and finish, the buy link with UTM tags, links to its contact
sheet(s), and a ``<script type="application/ld+json">`` schema.org ``Product`` that
:func:`arlens.catalog.jsonld.from_jsonld` reads back into the same product. Below the cards: the photos
(faces found, sheets per kind, or why nothing was drawn on them) and what failed or was left out.
Plain HTML and CSS, no script, no build step; images load lazily so a page of a large line stays usable.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arlens.catalog.cards import detail_rows, price_html
from arlens.preview.index import atomic_write

if TYPE_CHECKING:
    from arlens.catalog import Product, UtmTags
    from arlens.preview.options import Problem

MAX_SHOTS = 24
#: in every page's head: what marks an index.html as the gallery's own, safe to overwrite
GENERATOR = '<meta name="generator" content="arlens preview">'

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f2f0;color:#222}
header{padding:24px 32px;background:#1f1b24;color:#fff}
header h1{margin:0 0 6px;font-size:26px} header p{margin:0;color:#cfc8d6} header a{color:#cfc8d6}
main{padding:24px 32px;display:grid;gap:20px}
nav.pages{display:flex;gap:8px;flex-wrap:wrap} nav.pages a,nav.pages b{padding:4px 10px;border-radius:12px;
  background:#fff;text-decoration:none;color:#222} nav.pages b{background:#1f1b24;color:#fff}
.card{display:flex;gap:24px;background:#fff;border-radius:12px;padding:16px;box-shadow:0 1px 4px #0002;flex-wrap:wrap}
.shots{display:flex;gap:10px;flex-wrap:wrap;max-width:1100px}
.shots figure{margin:0;text-align:center;font-size:12px;color:#777}
.shots img{width:160px;height:160px;border-radius:8px;display:block;background:#ddd}
.info{flex:1;min-width:260px} .info h2{margin:0 0 4px;font-size:20px}
.brand{color:#777;margin:0 0 10px} .price{font-size:22px;font-weight:600;margin:6px 0}
.price s{color:#999;font-weight:400;font-size:16px;margin-left:8px}
.swatch{display:inline-block;width:22px;height:22px;border-radius:50%;border:1px solid #0003;
  vertical-align:middle;margin-right:8px}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:10px 0} dt{color:#777}
a.buy{display:inline-block;background:#1f1b24;color:#fff;padding:8px 16px;border-radius:20px;text-decoration:none}
.link{font-size:11px;color:#888;word-break:break-all;margin-top:6px}
.panel{background:#fff;border-radius:12px;padding:12px 16px;color:#444}
.panel table{border-collapse:collapse}
.panel td,.panel th{padding:4px 10px;text-align:left;border-bottom:1px solid #eee}
.panel img{width:64px;height:64px;border-radius:6px}
"""


def _card(p: Product, shots: list[tuple[str, Mapping[str, Any]]], sheets: list[str], utm: UtmTags,
          jsonld_script: Any) -> str:
    e = html.escape
    figures = "".join(
        f'<figure><a href="{e(rec["path"])}"><img loading="lazy" src="{e(rec["thumb"])}" '
        f'alt="{e(p.title)} on {e(photo)}"></a><figcaption>{e(photo)}</figcaption></figure>'
        for photo, rec in shots[:MAX_SHOTS]
    )
    if len(shots) > MAX_SHOTS:
        figures += f"<p>and {len(shots) - MAX_SHOTS} more photos on the sheet</p>"
    rows = detail_rows(p)
    if sheets:
        links = " ".join(f'<a href="{e(s)}">{"sheet" if i == 0 else i + 1}</a>' for i, s in enumerate(sheets))
        rows.append(("Contact sheet", links))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    link = p.buy_link(utm)
    # The JSON-LD carries the bare product link, as structured data should (a canonical URL, no tracking
    # tags), which is also what makes it read back into the very same Product; the button has the UTM tags.
    return (
        f'<section class="card" id="{e(p.id)}"><div class="shots">{figures}</div>'
        f'<div class="info"><h2>{e(p.title)}</h2><p class="brand">{e(p.brand)}</p>'
        f'<div class="price">{price_html(p)}</div><dl>{dl}</dl>'
        f'<a class="buy" href="{e(link)}" rel="noopener">Buy now</a><div class="link">{e(link)}</div></div>'
        f"{jsonld_script(p, tags=None)}</section>"
    )


def _photos_panel(photos: Sequence[str], records: Mapping[str, Mapping[str, Any]],
                  sheets: Mapping[str, list[tuple[str, str]]]) -> str:
    e = html.escape
    rows = []
    for name in photos:
        rec = records.get(name, {})
        thumb = f'<img loading="lazy" src="{e(rec["thumb"])}" alt="{e(name)}">' if rec.get("thumb") else ""
        found = f'{rec.get("faces", 0)} face(s)' + (f', {rec.get("hands", 0)} hand(s)' if rec.get("hands_tracked")
                                                    else "")
        if rec.get("reason"):
            found = f"<b>{e(rec['reason'])}</b>" if not rec.get("width") else f"{found}: <b>{e(rec['reason'])}</b>"
        links = " ".join(f'<a href="{e(path)}">{e(kind.replace("_", " "))}</a>' for kind, path in sheets.get(name, []))
        rows.append(f"<tr><td>{thumb}</td><td>{e(name)}</td><td>{found}</td><td>{links}</td></tr>")
    return ('<section class="panel"><h3>Photos</h3><table><tr><th></th><th>photo</th><th>found</th>'
            f'<th>sheets per kind</th></tr>{"".join(rows)}</table></section>')


def _problems_panel(title: str, problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    e = html.escape
    items = "".join(f"<li>{e(str(p))}</li>" for p in problems[:500])
    more = f"<li>and {len(problems) - 500} more (see index.json)</li>" if len(problems) > 500 else ""
    return f'<section class="panel"><h3>{e(title)}</h3><ul>{items}{more}</ul></section>'


def check_writable(out_dir: Path) -> None:
    """Refuse an output folder whose ``index.html`` is someone else's page (it would be overwritten).

    Raises:
        InputError: ``index.html`` exists and was not written by a preview.
    """
    from arlens.errors import InputError

    page = out_dir / page_name(1)
    if page.is_file():
        try:
            head = page.read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError:
            head = ""
        if GENERATOR not in head:
            raise InputError(f"{page}: expected a preview gallery or no file; refusing to overwrite another page "
                             "(choose another output folder)")


def page_name(n: int) -> str:
    """File name of gallery page ``n`` (1-based): ``index.html``, ``index-2.html``, ..."""
    return "index.html" if n == 1 else f"index-{n}.html"


def write_gallery(
    out_dir: Path,
    *,
    heading: str,
    products: Sequence[Product],
    photos: Sequence[str],
    renders: Mapping[tuple[str, str], Mapping[str, Any]],
    photo_records: Mapping[str, Mapping[str, Any]],
    product_sheets: Mapping[str, list[str]],
    photo_sheets: Mapping[str, list[tuple[str, str]]],
    utm: UtmTags,
    page_size: int,
    problems: Sequence[tuple[str, Sequence[Problem]]],
    tmp_dir: Path | None = None,
) -> Path:
    """Write the gallery pages; returns the first (``OUT/index.html``).

    Products without a single render are left off the cards (they appear under the problems).
    """
    from arlens.catalog.jsonld import jsonld_script

    e = html.escape
    shown = []
    for p in products:
        shots = [(photo, renders[(photo, p.id)]) for photo in photos if (photo, p.id) in renders]
        if shots:
            shown.append((p, shots))
    pages = [shown[i : i + page_size] for i in range(0, len(shown), page_size)] or [[]]
    for n, page in enumerate(pages, start=1):
        nav = ""
        if len(pages) > 1:
            nav = '<nav class="pages">' + "".join(
                f"<b>{i}</b>" if i == n else f'<a href="{page_name(i)}">{i}</a>' for i in range(1, len(pages) + 1)
            ) + "</nav>"
        cards = "".join(_card(p, shots, product_sheets.get(p.id, []), utm, jsonld_script) for p, shots in page)
        tail = ""
        if n == len(pages):
            tail = _photos_panel(photos, photo_records, photo_sheets) + "".join(
                _problems_panel(t, ps) for t, ps in problems
            )
        count = sum(len(s) for _, s in shown)
        body = (
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta name="viewport" content="width=device-width,initial-scale=1">{GENERATOR}'
            f"<title>{e(heading)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{e(heading)}</h1><p>{len(shown)} products on {len(photos)} photos, {count} renders "
            f'(<a href="index.json">index.json</a>)</p></header>'
            f"<main>{nav}{cards}{nav}{tail}</main></body></html>\n"
        )
        atomic_write(out_dir / page_name(n), body.encode("utf-8"), tmp_dir)
    for stale in out_dir.glob("index-*.html"):  # pages of a longer gallery from an earlier run
        try:
            number = int(stale.stem.split("-", 1)[1])
        except ValueError:
            continue
        if number > len(pages):
            stale.unlink(missing_ok=True)
    return out_dir / page_name(1)
