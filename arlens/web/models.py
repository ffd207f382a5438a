"""Request and response bodies of the HTTP API, as Pydantic models: what ``/docs`` shows is the contract."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from arlens.catalog import Price, Product
from arlens.lenses.registry import LensRegistry


class ErrorBody(BaseModel):
    """Every error the service answers: a stable code and one line saying what was wrong."""

    error: str = Field(description="machine-readable code, e.g. `unknown_product`, `image_too_large`")
    detail: str = Field(description="what was wrong, naming the input at fault")


class PriceOut(BaseModel):
    amount: str = Field(description="decimal-exact amount, e.g. `24.00`")
    currency: str = Field(description="ISO 4217 code")
    text: str = Field(description="as shown to shoppers, e.g. `24.00 USD`")

    @classmethod
    def of(cls, price: Price) -> PriceOut:
        return cls(amount=str(price.amount), currency=price.currency, text=str(price))


class ProductOut(BaseModel):
    """A catalog product as the page and API clients see it."""

    id: str
    title: str
    brand: str
    kind: str | None
    drawable: bool = Field(description="a registered lens draws this kind (it can be tried on)")
    target: Literal["face", "hand"] | None = Field(description="what its lens draws on")
    price: PriceOut = Field(description="what a shopper pays now (the sale price when there is one)")
    regular_price: PriceOut
    availability: str
    color: str | None = Field(description="swatch as sRGB hex `#RRGGBB` (colour products)")
    color_name: str | None
    finish: str | None
    image_link: str | None
    buy_link: str = Field(description="the product link with the service's UTM tags")
    jsonld: dict[str, Any] | None = Field(default=None, description="schema.org Product, with `jsonld=true`")

    @classmethod
    def of(cls, product: Product, registry: LensRegistry, buy_link: str,
           jsonld: dict[str, Any] | None = None) -> ProductOut:
        spec = registry.get(product.kind) if product.kind is not None else None
        return cls(
            id=product.id, title=product.title, brand=product.brand,
            kind=product.kind.value if product.kind else None,
            drawable=spec is not None, target=spec.target if spec is not None else None,
            price=PriceOut.of(product.current_price), regular_price=PriceOut.of(product.price),
            availability=product.availability.value, color=product.color, color_name=product.color_name,
            finish=product.finish.value if product.finish else None, image_link=product.image_link,
            buy_link=buy_link, jsonld=jsonld,
        )


class ProductList(BaseModel):
    count: int
    products: list[ProductOut]


class FaceOut(BaseModel):
    bbox: list[float] = Field(description="x0, y0, x1, y1 in pixels")
    score: float


class HandOut(BaseModel):
    bbox: list[float] = Field(description="x0, y0, x1, y1 in pixels")
    score: float
    handedness: str


class HotspotOut(BaseModel):
    bbox: list[float] = Field(description="x0, y0, x1, y1 in pixels of the returned image: where the product is")
    target: Literal["face", "hand"]
    track_id: int


class ProductTryOn(BaseModel):
    """One requested product in a try-on result."""

    id: str
    kind: str
    title: str
    brand: str
    price: PriceOut
    buy_link: str = Field(description="UTM-tagged (`utm_content` is the product ID)")
    drawn: bool = Field(description="drawn on at least one face or hand")
    hotspots: list[HotspotOut]


class ImageOut(BaseModel):
    media_type: str
    base64: str


class TryOnOut(BaseModel):
    """`POST /v1/try-on` as JSON."""

    width: int
    height: int
    drawn: bool = Field(description="false when no requested product found a face or hand to draw on "
                                    "(the image comes back unchanged, with status 200)")
    faces: list[FaceOut]
    hands: list[HandOut]
    products: list[ProductTryOn]
    image: ImageOut | None


class ShareOut(BaseModel):
    id: str
    url: str
    products: list[str]
    expires: float


def bbox(values: Any) -> list[float]:
    return [round(float(v), 1) for v in values]
