"""schema.org ``Product`` / ``Offer`` JSON-LD for product pages, and reading it back.

The mapping (all of it survives :func:`to_jsonld` then :func:`from_jsonld`):

- ``id`` -> ``sku``; ``title`` -> ``name``; ``description``; ``brand`` -> ``Brand.name``;
  ``image_link`` -> ``image``; ``color_name`` -> ``color``; ``item_group_id`` -> ``inProductGroupWithID``.
- ``Offer``: ``url`` (the buy link), ``price`` as a decimal string (exact, never a float) and
  ``priceCurrency`` of the current price, ``availability`` as a schema.org URL. With a sale price
  the regular price is a ``UnitPriceSpecification`` of ``priceType`` ``StrikethroughPrice``,
  as Google's structured-data guide describes.
- Try-on attributes (kind, hex swatch, finish, opacity, model, frame width, offset, tilt,
  lens transmission, tint and coating) are
  ``additionalProperty`` ``PropertyValue`` entries whose ``propertyID`` starts with ``arlens:``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from arlens.catalog.links import UtmTags
from arlens.catalog.product import Availability, Price, Product
from arlens.errors import InputError

SCHEMA = "https://schema.org"
_AVAILABILITY = MappingProxyType(
    {
        Availability.IN_STOCK: "InStock",
        Availability.OUT_OF_STOCK: "OutOfStock",
        Availability.PREORDER: "PreOrder",
        Availability.BACKORDER: "BackOrder",
        Availability.DISCONTINUED: "Discontinued",
    }
)
_AVAILABILITY_BACK = MappingProxyType({v.lower(): k for k, v in _AVAILABILITY.items()})
_TRY_ON_FIELDS = (
    "kind",
    "color",
    "finish",
    "opacity",
    "model",
    "frame_width_mm",
    "offset_mm",
    "pantoscopic_tilt_deg",
    "lens_transmission",
    "lens_tint",
    "lens_coating",
)
_PREFIX = "arlens:"


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return " ".join(f"{v:g}" for v in value)
    if isinstance(value, str):
        return str(value)  # plain str, not the StrEnum member
    return value


def to_jsonld(product: Product, *, tags: UtmTags | None = None) -> dict[str, Any]:
    """The product as a schema.org ``Product`` JSON-LD object (a plain dict ready for ``json.dumps``).

    Args:
        product: the product.
        tags: UTM tags for the offer URL; ``None`` (the default) keeps the link as it is, which
            is what a round trip needs.
    """
    price = product.current_price
    offer: dict[str, Any] = {
        "@type": "Offer",
        "url": product.buy_link(tags),
        "price": str(price.amount),
        "priceCurrency": price.currency,
        "availability": f"{SCHEMA}/{_AVAILABILITY[product.availability]}",
    }
    if product.sale_price is not None:
        offer["priceSpecification"] = {
            "@type": "UnitPriceSpecification",
            "priceType": f"{SCHEMA}/StrikethroughPrice",
            "price": str(product.price.amount),
            "priceCurrency": product.price.currency,
        }
    doc: dict[str, Any] = {"@context": SCHEMA, "@type": "Product", "sku": product.id, "name": product.title}
    if product.description:
        doc["description"] = product.description
    if product.brand:
        doc["brand"] = {"@type": "Brand", "name": product.brand}
    if product.image_link:
        doc["image"] = product.image_link
    if product.color_name:
        doc["color"] = product.color_name
    if product.item_group_id:
        doc["inProductGroupWithID"] = product.item_group_id
    doc["offers"] = offer
    extra = [
        {"@type": "PropertyValue", "propertyID": _PREFIX + name, "value": _json_value(getattr(product, name))}
        for name in _TRY_ON_FIELDS
        if getattr(product, name) is not None
    ]
    if extra:
        doc["additionalProperty"] = extra
    return doc


def jsonld_script(product: Product, *, tags: UtmTags | None = None) -> str:
    """A ``<script type="application/ld+json">`` element for a product page (``<`` escaped)."""
    body = json.dumps(to_jsonld(product, tags=tags), ensure_ascii=False).replace("<", "\\u003c")
    return f'<script type="application/ld+json">{body}</script>'


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _name(value: Any) -> Any:
    value = _first(value)
    if isinstance(value, Mapping):
        return value.get("name", value.get("url"))
    return value


def _price(spec: Mapping[str, Any], where: str) -> Price:
    try:
        amount = Decimal(str(spec["price"]))
    except (KeyError, InvalidOperation):
        raise InputError(f"expected a numeric {where} price, got {spec.get('price')!r}") from None
    if "priceCurrency" not in spec:
        raise InputError(f"expected priceCurrency in {where}, got none")
    return Price(amount, spec["priceCurrency"])


def from_jsonld(data: Mapping[str, Any] | str) -> Product:
    """Read a schema.org ``Product`` (a dict or JSON text) back into a :class:`Product`.

    Raises:
        InputError: not a ``Product`` with an ``Offer``, or a value breaking a product rule.
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError(f"expected JSON-LD text, got invalid JSON: {exc}") from None
    if not isinstance(data, Mapping) or data.get("@type") != "Product":
        got = data.get("@type") if isinstance(data, Mapping) else type(data).__name__
        raise InputError(f"expected a schema.org Product, got {got!r}")
    offer = _first(data.get("offers"))
    if not isinstance(offer, Mapping) or offer.get("@type", "Offer") != "Offer":
        raise InputError("expected a Product with an Offer in 'offers', got none")
    values: dict[str, Any] = {
        "id": data.get("sku", data.get("productID")),
        "title": data.get("name"),
        "link": offer.get("url"),
        "description": data.get("description", ""),
        "brand": _name(data.get("brand")) or "",
        "image_link": _name(data.get("image")),
        "color_name": data.get("color"),
        "item_group_id": data.get("inProductGroupWithID"),
    }
    current = _price(offer, "offer")
    specs = offer.get("priceSpecification") or []
    if isinstance(specs, Mapping):
        specs = [specs]
    regular = next(
        (s for s in specs if isinstance(s, Mapping) and str(s.get("priceType", "")).endswith("StrikethroughPrice")),
        None,
    )
    if regular is None:
        values["price"] = current
    else:
        values["price"], values["sale_price"] = _price(regular, "strikethrough"), current
    availability = str(offer.get("availability", "InStock")).rsplit("/", 1)[-1].lower()
    if availability not in _AVAILABILITY_BACK:
        raise InputError(f"unknown availability {offer.get('availability')!r}, expected a schema.org ItemAvailability")
    values["availability"] = _AVAILABILITY_BACK[availability]
    for prop in data.get("additionalProperty") or []:
        if isinstance(prop, Mapping) and str(prop.get("propertyID", "")).startswith(_PREFIX):
            name = prop["propertyID"][len(_PREFIX) :]
            if name not in _TRY_ON_FIELDS:
                raise InputError(f"unknown property {prop['propertyID']!r}, expected arlens:{'|'.join(_TRY_ON_FIELDS)}")
            values[name] = prop.get("value")
    return Product(**values)
