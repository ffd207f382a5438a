"""schema.org ``Product`` / ``Offer`` JSON-LD for product pages, and reading it back.

The mapping (all of it survives :func:`to_jsonld` then :func:`from_jsonld`):

- ``id`` -> ``sku``; ``title`` -> ``name``; ``description``; ``brand`` -> ``Brand.name``;
  ``image_link`` -> ``image``; ``color_name`` -> ``color``; ``item_group_id`` -> ``inProductGroupWithID``.
- ``Offer``: ``url`` (the buy link), ``price`` as a decimal string (exact, never a float) and
  ``priceCurrency`` of the current price, ``availability`` as a schema.org URL. With a sale price
  the regular price is a ``UnitPriceSpecification`` of ``priceType`` ``StrikethroughPrice``,
  as Google's structured-data guide describes.
- Try-on attributes (kind, hex swatch, finish, opacity, model, frame width, offset, tilt, lens
  transmission, tint and coating, pattern, palette) are ``additionalProperty`` ``PropertyValue`` entries
  whose ``propertyID`` starts with ``arlens:`` (the palette in its feed text form,
  ``"#E3C3A8 shimmer 0.5; #9C6B53 matte 0.7"``).

A look (:func:`look_to_jsonld`) is a schema.org ``ProductCollection``: its products as ``includesObject``
entries (each a full ``Product`` above), and one ``Offer`` for the set at the sum of their prices, at the
look's own link when it has one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from arlens.catalog.links import UtmTags
from arlens.catalog.looks import Look
from arlens.catalog.product import Availability, PaletteColor, Price, Product
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
    "pattern",
    "palette",
)
_PREFIX = "arlens:"


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple) and value and isinstance(value[0], PaletteColor):
        return "; ".join(str(c) for c in value)
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


def look_to_jsonld(look: Look, catalog: Any, *, tags: UtmTags | None = None) -> dict[str, Any]:
    """A look as a schema.org ``ProductCollection`` of its products, with one ``Offer`` for the whole set.

    Args:
        look: the look.
        catalog: where its products are (a :class:`~arlens.catalog.Catalog`).
        tags: UTM tags of every link (``utm_content`` is the product's ID, or the look's for the set's link).

    Raises:
        KeyError: a product of the look is not in ``catalog``.
        InputError: its products are priced in different currencies.
    """
    products = look.products(catalog)
    total = look.total_price(catalog)
    available = all(p.availability is Availability.IN_STOCK for p in products)
    offer: dict[str, Any] = {
        "@type": "Offer",
        "price": str(total.amount),
        "priceCurrency": total.currency,
        "availability": f"{SCHEMA}/{'InStock' if available else 'OutOfStock'}",
    }
    link = look.buy_link(tags)
    if link is not None:
        offer["url"] = link
    doc: dict[str, Any] = {"@context": SCHEMA, "@type": "ProductCollection", "sku": look.id, "name": look.title}
    if look.description:
        doc["description"] = look.description
    if look.image_link:
        doc["image"] = look.image_link
    items = []
    for product in products:
        item = to_jsonld(product, tags=tags)
        del item["@context"]
        items.append({"@type": "TypeAndQuantityNode", "amountOfThisGood": 1, "typeOfGood": item})
    doc["includesObject"] = items
    doc["offers"] = offer
    return doc


def jsonld_script(product: Product | Look, *, tags: UtmTags | None = None, catalog: Any = None) -> str:
    """A ``<script type="application/ld+json">`` element for a product (or, with its catalog, a look) page."""
    doc = look_to_jsonld(product, catalog, tags=tags) if isinstance(product, Look) else to_jsonld(product, tags=tags)
    body = json.dumps(doc, ensure_ascii=False).replace("<", "\\u003c")
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
