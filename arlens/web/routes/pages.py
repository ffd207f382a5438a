"""The pages: the mirror (``GET /``, ``GET /?product=ID``) and share pages (``GET /s/{id}``, its image).

The mirror page is static HTML, JavaScript and CSS shipped in the package (``arlens/web/static``, no build
step); it reads ``?product=`` itself and passes it on to the socket. A share page is rendered here from a
template: OpenGraph tags (``og:type`` ``product``, image, title, price) and one schema.org ``Product``
JSON-LD script per product worn, so the link unfurls as a product pin where Pinterest and Meta read them.
"""

from __future__ import annotations

import html
import json
import time
from functools import cache
from importlib.resources import files
from string import Template
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from arlens.catalog.jsonld import to_jsonld
from arlens.web.errors import ApiError
from arlens.web.services import Services, services
from arlens.web.shares import ShareNotFound

router = APIRouter(tags=["pages"], include_in_schema=False)

NO_CACHE = {"Cache-Control": "no-cache"}


@cache
def static_text(name: str) -> str:
    """A text file of the packaged static folder."""
    return files("arlens.web").joinpath("static", name).read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def mirror_page() -> HTMLResponse:
    """The mirror page."""
    return HTMLResponse(static_text("index.html"), headers=NO_CACHE)


def _share_or_404(svc: Services, share_id: str):
    try:
        return svc.shares.get(share_id)
    except ShareNotFound as exc:
        if exc.expired:
            raise ApiError(410, "expired", "this shared try-on has expired") from None
        raise ApiError(404, "not_found", "no shared try-on with this ID") from None


@router.get("/s/{share_id}.jpg")
async def share_image(share_id: str, svc: Annotated[Services, Depends(services)]) -> Response:
    """A shared snapshot's image."""
    _share_or_404(svc, share_id)
    try:
        path = svc.shares.image_path(share_id)
    except ShareNotFound:
        raise ApiError(404, "not_found", "no shared try-on with this ID") from None
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=300"})


@router.get("/s/{share_id}", response_class=HTMLResponse)
async def share_page(share_id: str, request: Request, svc: Annotated[Services, Depends(services)]) -> HTMLResponse:
    """A shared snapshot's page: the image, the products with prices and buy links, OpenGraph and JSON-LD."""
    share = _share_or_404(svc, share_id)
    base = svc.base_url(request)
    tags = svc.tags("share")
    products = [p for p in (svc.catalog.get(pid) for pid in share.products) if p is not None]
    esc = html.escape
    url = f"{base}/s/{share.id}"
    image = f"{url}.jpg"
    title = " + ".join(p.title for p in products) or "A virtual try-on"
    brand = next((p.brand for p in products if p.brand), "")
    meta = [
        ("og:type", "product" if products else "website"),
        ("og:title", title),
        ("og:description", f"Tried on virtually{' - ' + brand if brand else ''}. Tap to shop."),
        ("og:url", url),
        ("og:image", image),
        ("og:image:type", "image/jpeg"),
        ("og:image:width", str(share.width)),
        ("og:image:height", str(share.height)),
        ("og:site_name", brand or "arlens try-on"),
    ]
    if products:
        price = products[0].current_price
        meta += [("product:price:amount", str(price.amount)), ("product:price:currency", price.currency),
                 ("og:price:amount", str(price.amount)), ("og:price:currency", price.currency),
                 ("product:retailer_item_id", products[0].id),
                 ("product:availability", products[0].availability.value.replace("_", " "))]
    meta_html = "\n".join(f'<meta property="{esc(k)}" content="{esc(v)}">' for k, v in meta)
    meta_html += f'\n<meta name="twitter:card" content="summary_large_image">\n<link rel="canonical" href="{esc(url)}">'
    scripts = []
    items = []
    for p in products:
        doc = to_jsonld(p, tags=tags)
        doc["url"] = p.buy_link(tags)
        body = json.dumps(doc, ensure_ascii=False).replace("<", "\\u003c")
        scripts.append(f'<script type="application/ld+json">{body}</script>')
        swatch = f'<span class="swatch" style="background:{esc(p.color)}"></span>' if p.color else ""
        items.append(f'<li>{swatch}<span class="name">{esc(p.title)}</span> <span class="price">'
                     f'{esc(str(p.current_price))}</span> <a class="buy" href="{esc(p.buy_link(tags))}" '
                     f'rel="noopener">Buy</a></li>')
    remaining_h = max(0.0, (share.expires - time.time()) / 3600)
    page = Template(static_text("share.html")).substitute(
        title=esc(title), meta=meta_html, jsonld="\n".join(scripts), image=esc(image), products="\n".join(items),
        expires=esc(f"{remaining_h:.0f} hours" if remaining_h >= 1.5 else "less than 2 hours"),
    )
    return HTMLResponse(page, headers={"Cache-Control": "public, max-age=60"})
