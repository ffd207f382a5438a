"""``GET /v1/products`` and ``GET /v1/products/{id}``: the catalog, with schema.org JSON-LD on request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from arlens.catalog import Finish, Product, ProductKind
from arlens.catalog.jsonld import to_jsonld
from arlens.errors import InputError
from arlens.web.models import ErrorBody, ProductList, ProductOut
from arlens.web.services import Services, services

router = APIRouter(prefix="/v1", tags=["products"])

JSONLD = "application/ld+json"
_ERRORS = {400: {"model": ErrorBody}, 404: {"model": ErrorBody}}


def _wants_jsonld(request: Request, fmt: str | None) -> bool:
    return fmt == "jsonld" or JSONLD in request.headers.get("accept", "")


def _out(svc: Services, product: Product, jsonld: bool) -> ProductOut:
    return ProductOut.of(product, svc.registry, product.buy_link(svc.options.utm),
                         to_jsonld(product, tags=svc.options.utm) if jsonld else None)


@router.get("/products", response_model=ProductList, responses={**_ERRORS, 200: {"content": {JSONLD: {}}}})
async def list_products(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    kind: Annotated[str | None, Query(description="only this kind: lipstick, eyewear, nail_polish, ...")] = None,
    finish: Annotated[str | None, Query(description="only this finish: matte, satin, gloss, ...")] = None,
    brand: Annotated[str | None, Query()] = None,
    item_group_id: Annotated[str | None, Query(description="only shades of one product group")] = None,
    in_stock: Annotated[bool | None, Query()] = None,
    drawable: Annotated[bool | None, Query(description="only products a lens can draw (true) or not (false)")] = None,
    jsonld: Annotated[bool, Query(description="add each product's schema.org JSON-LD")] = False,
    format: Annotated[str | None, Query(description="`jsonld`: answer a JSON-LD array (as `Accept: "
                                                    "application/ld+json` does)")] = None,
):
    """The catalog's products in feed order, filtered as `arlens catalog list` does."""
    try:
        catalog = svc.catalog.filter(kind=kind, finish=finish, brand=brand, item_group_id=item_group_id,
                                     in_stock=in_stock)
    except ValueError:
        if kind is not None and kind not in {k.value for k in ProductKind}:
            raise InputError(f"kind: expected one of {', '.join(k.value for k in ProductKind)}, got {kind!r}") from None
        raise InputError(f"finish: expected one of {', '.join(f.value for f in Finish)}, got {finish!r}") from None
    products = [p for p in catalog if drawable is None or (p.kind is not None and p.kind in svc.registry) == drawable]
    if _wants_jsonld(request, format):
        return JSONResponse([to_jsonld(p, tags=svc.options.utm) for p in products], media_type=JSONLD)
    return ProductList(count=len(products), products=[_out(svc, p, jsonld) for p in products])


@router.get("/products/{product_id}", response_model=ProductOut, responses={**_ERRORS, 200: {"content": {JSONLD: {}}}})
async def get_product(
    product_id: str,
    request: Request,
    svc: Annotated[Services, Depends(services)],
    jsonld: Annotated[bool, Query(description="add the schema.org JSON-LD")] = False,
    format: Annotated[str | None, Query(description="`jsonld`: answer the JSON-LD document itself")] = None,
):
    """One product; 404 naming it when it is not in the catalog."""
    product = svc.product(product_id)
    if _wants_jsonld(request, format):
        return JSONResponse(to_jsonld(product, tags=svc.options.utm), media_type=JSONLD)
    return _out(svc, product, jsonld)
