"""``POST /v1/try-on``: products drawn on an uploaded photo, as an image or as JSON with hotspots.

No face or hand to draw on is **not** an error: the answer is 200 with the image unchanged and the flag
``drawn: false`` (JSON), or the header ``X-Arlens-Drawn: false`` (image formats). A photo without a face
is a fact about the photo, not a bad request; callers that need a face check the flag.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response

from arlens.catalog import Product
from arlens.errors import InputError
from arlens.image import ImageTooLargeError
from arlens.session import TryOnResult
from arlens.web.codec import MEDIA_TYPES, decode, encode
from arlens.web.errors import NotAnImageError
from arlens.web.models import (
    ErrorBody,
    FaceOut,
    HandOut,
    HotspotOut,
    ImageOut,
    PriceOut,
    ProductTryOn,
    TryOnOut,
    bbox,
)
from arlens.web.pool import Lane
from arlens.web.services import Services, services

router = APIRouter(prefix="/v1", tags=["try-on"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "empty upload, two products of one kind, bad parameter"},
    404: {"model": ErrorBody, "description": "unknown product (named)"},
    413: {"model": ErrorBody, "description": "upload over the size limit, or image over the pixel limit"},
    415: {"model": ErrorBody, "description": "the upload is not an image"},
    422: {"model": ErrorBody, "description": "a product of a kind no lens draws, or a missing field"},
    503: {"model": ErrorBody, "description": "every render worker busy (retry after the Retry-After header)"},
}


def render_still(lane: Lane, products: list[Product], data: bytes, max_pixels: int,
                 fmt: str) -> tuple[TryOnResult, bytes | None]:
    """Decode, draw ``products`` with the lane's still session and encode as ``fmt`` (``none``: don't).

    Runs on the lane's thread (the session is the lane's).
    """
    try:
        image = decode(data, name="image", max_pixels=max_pixels)
    except ImageTooLargeError:
        raise
    except InputError as exc:
        raise NotAnImageError(f"image: expected a PNG, JPEG, WebP, BMP or TIFF image ({exc})") from None
    session = lane.still
    wanted = {p.kind for p in products}
    for worn in session.products:
        if worn.kind not in wanted:
            session.remove(worn.kind)
    for product in products:
        session.select(product)
    result = session.process_image(image)
    return result, (None if fmt == "none" else encode(result.frame, fmt, 90))


@router.post("/try-on", response_model=TryOnOut, responses={
    **_ERRORS, 200: {"content": {"image/png": {}, "image/jpeg": {}},
                     "description": "JSON (default), or the image with `format=png|jpeg`"}})
async def try_on(
    svc: Annotated[Services, Depends(services)],
    image: Annotated[UploadFile, File(description="the photo: PNG, JPEG, WebP, BMP or TIFF")],
    products: Annotated[str, Query(description="product IDs, comma-separated, at most one per kind",
                                   examples=["LIP-004,EYE-101"])],
    format: Annotated[Literal["json", "png", "jpeg"], Query(description="answer JSON, or the image itself")] = "json",
    image_format: Annotated[Literal["jpeg", "png", "none"],
                            Query(description="with JSON: how the image is embedded (base64), or `none`")] = "jpeg",
):
    """Draw the products on the photo.

    JSON answers list the faces and hands found and, per product, its hotspots (where it is drawn), price and
    UTM-tagged buy link, plus the image base64-encoded. With `format=png` or `jpeg` the answer is the image;
    `X-Arlens-Drawn`, `X-Arlens-Faces` and `X-Arlens-Hands` headers carry the flags.
    """
    chosen = svc.wearable([p.strip() for p in products.split(",") if p.strip()])
    data = await image.read()
    if not data:
        raise InputError("image: expected an image file, got an empty upload")
    lane = svc.pool.lane_for_request()
    fmt = format if format != "json" else image_format
    result, body = await lane.run(render_still, lane, chosen, data, svc.options.max_pixels, fmt)
    drawn_ids = set(result.products)
    flags = {"X-Arlens-Drawn": str(bool(drawn_ids)).lower(), "X-Arlens-Faces": str(len(result.faces)),
             "X-Arlens-Hands": str(len(result.hands))}
    if format != "json":
        return Response(body, media_type=MEDIA_TYPES[format], headers=flags)
    embedded = None
    if body is not None:
        embedded = ImageOut(media_type=MEDIA_TYPES[image_format], base64=base64.b64encode(body).decode("ascii"))
    out = []
    for p in chosen:
        spots = [h for h in result.hotspots if h.product_id == p.id]
        out.append(ProductTryOn(
            id=p.id, kind=p.kind.value if p.kind else "", title=p.title, brand=p.brand,
            price=PriceOut.of(p.current_price), buy_link=p.buy_link(svc.options.utm), drawn=p.id in drawn_ids,
            hotspots=[HotspotOut(bbox=bbox(h.bbox), target=h.target, track_id=h.track_id) for h in spots]))
    body_out = TryOnOut(
        width=int(result.frame.shape[1]), height=int(result.frame.shape[0]), drawn=bool(drawn_ids),
        faces=[FaceOut(bbox=bbox(f.bbox), score=round(float(f.score), 3)) for f in result.faces],
        hands=[HandOut(bbox=bbox(h.bbox), score=round(float(h.score), 3), handedness=str(h.handedness))
               for h in result.hands],
        products=out, image=embedded)
    return Response(body_out.model_dump_json(), media_type="application/json", headers=flags)
