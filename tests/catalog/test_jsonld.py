"""schema.org Product/Offer JSON-LD export and round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arlens.catalog import Catalog, UtmTags
from arlens.catalog.jsonld import from_jsonld, jsonld_script, to_jsonld
from arlens.errors import InputError

FEEDS = Path(__file__).resolve().parent.parent / "data" / "feeds"


def all_products():
    for catalog in (
        Catalog.default(),
        Catalog.load(FEEDS / "meta_catalog.csv"),
        Catalog.load(FEEDS / "google_merchant.tsv"),
    ):
        yield from catalog


@pytest.mark.parametrize("product", list(all_products()), ids=lambda p: p.id)
def test_round_trip_through_json_text(product):
    text = json.dumps(to_jsonld(product))
    assert from_jsonld(text) == product


def test_shape_follows_schema_org():
    red = Catalog.default()["LIP-003"]  # on sale
    doc = to_jsonld(red)
    assert doc["@context"] == "https://schema.org" and doc["@type"] == "Product"
    assert doc["sku"] == "LIP-003" and doc["brand"] == {"@type": "Brand", "name": "Northlight Beauty"}
    offer = doc["offers"]
    assert offer["@type"] == "Offer" and offer["url"] == red.link
    assert (offer["price"], offer["priceCurrency"]) == ("19.00", "USD")  # the sale price, as exact text
    assert offer["availability"] == "https://schema.org/InStock"
    assert offer["priceSpecification"]["priceType"] == "https://schema.org/StrikethroughPrice"
    assert offer["priceSpecification"]["price"] == "24.00"
    props = {p["propertyID"]: p["value"] for p in doc["additionalProperty"]}
    assert props["arlens:color"] == red.color and props["arlens:finish"] == "gloss"


def test_lens_properties_of_sunglasses():
    sun = next(p for p in Catalog.default() if p.lens_transmission is not None and p.lens_transmission < 0.5)
    props = {p["propertyID"]: p["value"] for p in to_jsonld(sun)["additionalProperty"]}
    assert props["arlens:lens_transmission"] == sun.lens_transmission
    assert props["arlens:lens_tint"] == sun.lens_tint and props["arlens:lens_coating"] == sun.lens_coating.value
    assert type(props["arlens:lens_coating"]) is str  # plain JSON text, not the enum


def test_tagged_offer_url():
    p = Catalog.default()["LIP-001"]
    assert to_jsonld(p, tags=UtmTags())["offers"]["url"].endswith("utm_content=LIP-001")


def test_script_escapes_closing_tags():
    p = Catalog.default()["LIP-001"]
    html = jsonld_script(p)
    assert html.startswith('<script type="application/ld+json">') and html.count("<") == 2
    body = html.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert from_jsonld(body) == p


def test_reads_common_variants():
    doc = {
        "@context": "https://schema.org",
        "@type": "Product",
        "sku": "X1",
        "name": "Thing",
        "brand": "Plain Brand",
        "image": ["https://shop.example/a.jpg", "https://shop.example/b.jpg"],
        "offers": [
            {
                "@type": "Offer",
                "url": "https://shop.example/x1",
                "price": 12.5,
                "priceCurrency": "EUR",
                "availability": "http://schema.org/OutOfStock",
            }
        ],
    }
    p = from_jsonld(doc)
    assert p.brand == "Plain Brand" and p.image_link == "https://shop.example/a.jpg"
    assert str(p.price) == "12.5 EUR" and p.availability == "out_of_stock"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"@type": "Offer"}, "expected a schema.org Product"),
        ({"@type": "Product", "name": "x"}, "with an Offer"),
        (
            {
                "@type": "Product",
                "sku": "a",
                "name": "b",
                "offers": {"url": "https://s.example", "price": "x", "priceCurrency": "USD"},
            },
            "numeric offer price",
        ),
        (
            {
                "@type": "Product",
                "sku": "a",
                "name": "b",
                "offers": {"url": "javascript:x", "price": "1", "priceCurrency": "USD"},
            },
            "link",
        ),
    ],
)
def test_bad_jsonld(doc, message):
    with pytest.raises(InputError, match=message):
        from_jsonld(doc)
