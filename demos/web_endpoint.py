"""A web endpoint for try-on: upload a photo and a product ID, get the try-on image and the product's JSON-LD.

A small example to copy from. The product-grade service (mirror page, share pages, the ``/v1`` API with its
limits, a bounded render pool) is ``arlens serve`` (:mod:`arlens.web`, ``pip install "arlens[web]"``).

FastAPI is not an arlens dependency; install it beside arlens and run::

    pip install fastapi uvicorn python-multipart
    uvicorn demos.web_endpoint:app --port 8000        # from the repository root

    curl -F photo=@tests/data/astronaut.png -F product_id=LIP-004 http://localhost:8000/tryon -o tryon.png
    curl -F photo=@tests/data/astronaut.png -F product_id=LIP-004 "http://localhost:8000/tryon?format=json"

``POST /tryon`` (multipart: ``photo``, ``product_id``; query ``format=png`` (default) or ``json``):

- ``png``: the try-on image; the product's JSON-LD travels in the ``X-Product-JSONLD`` header (URL-quoted).
- ``json``: ``{"image": "data:image/png;base64,...", "product": <schema.org JSON-LD>, "hotspots": [...]}``.

Errors: 400 unreadable or empty photo, an unknown ``format``; 404 unknown product; 422 no face in the photo;
413 photo over 10 MB or over 50 megapixels (:data:`arlens.image.DEFAULT_MAX_PIXELS`, read from the image's
header before anything is decoded). Decoding and rendering run in the thread pool, off the event loop.
``GET /products`` lists the catalog. One session per worker process, kept warm (models loaded, lenses
cached) and guarded by a lock because a session is not thread-safe: requests are served one at a time per
worker (run more workers for more throughput: ``uvicorn ... --workers 4``).
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Annotated
from urllib.parse import quote

import cv2
from fastapi import FastAPI, File, Form, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

import arlens
from arlens.catalog import UtmTags
from arlens.catalog.jsonld import to_jsonld
from arlens.errors import ImageTooLargeError
from arlens.image import decode_image
from arlens.session import TryOn, UnknownProductError

MAX_BYTES = 10 * 1024 * 1024
FORMATS = ("png", "json")
catalog = arlens.Catalog.default()
app = FastAPI(title="arlens try-on")
_lock = threading.Lock()
_session: TryOn | None = None


def _render(data: bytes, product_id: str):
    """Decode the upload (pixel bound from its header first) and draw the product; runs in the thread pool."""
    global _session
    image = decode_image(data, name="photo")  # InputError / ImageTooLargeError before the lock: no waiting
    with _lock:
        if _session is None:
            _session = TryOn(catalog)
        product = _session.product(product_id)  # UnknownProductError -> 404
        for kind in [p.kind for p in _session.products]:
            _session.remove(kind)  # one product per request
        _session.select(product)
        result = _session.process_image(image)
    return product, result, cv2.imencode(".png", result.frame)[1].tobytes()


@app.get("/products")
def products() -> list[dict]:
    return [{"id": p.id, "title": p.title, "kind": p.kind, "price": str(p.current_price)} for p in catalog]


@app.post("/tryon")
async def tryon(
    photo: Annotated[UploadFile, File()], product_id: Annotated[str, Form()], format: str = "png"
) -> Response:
    if format not in FORMATS:
        raise HTTPException(400, f"format: expected one of {', '.join(FORMATS)}, got {format!r}")
    data = await photo.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise HTTPException(413, "photo larger than 10 MB")
    try:
        product, result, png = await run_in_threadpool(_render, data, product_id)
    except UnknownProductError as exc:
        raise HTTPException(404, str(exc)) from None
    except ImageTooLargeError as exc:
        raise HTTPException(413, str(exc)) from None
    except arlens.InputError as exc:
        raise HTTPException(400, str(exc)) from None
    if not result.faces:
        raise HTTPException(422, "no face found in the photo")
    jsonld = to_jsonld(product, tags=UtmTags(medium="web"))
    if format == "json":
        hotspots = [{"product_id": h.product_id, "bbox": [round(float(v), 1) for v in h.bbox],
                     "buy_link": h.buy_link, "price": h.price_text} for h in result.hotspots]
        return JSONResponse({"image": "data:image/png;base64," + base64.b64encode(png).decode(),
                             "product": jsonld, "hotspots": hotspots})
    return Response(png, media_type="image/png", headers={"X-Product-JSONLD": quote(json.dumps(jsonld))})
