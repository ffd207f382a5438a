"""Looks: named sets of products, read from arlens JSON with located problems, priced and linked as a set."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from arlens.catalog import Catalog, Price, UtmTags
from arlens.catalog.jsonld import look_to_jsonld
from arlens.catalog.looks import Look, total_price
from arlens.errors import CatalogError, InputError


def _product(pid, kind, color="#B0405E", price="10.00 USD", **extra):
    return {"id": pid, "title": pid, "link": f"https://shop.example/{pid}", "price": price, "kind": kind,
            "color": color, **extra}


PRODUCTS = [
    _product("F1", "foundation"),
    _product("B1", "blush", price="12.50 USD"),
    _product("B2", "blush"),
    _product("L1", "lipstick"),
    _product("X1", "lipstick", price="9.00 EUR"),
]


def _feed(write_feed, looks, products=PRODUCTS):
    doc = {"format": "arlens.catalog", "version": 1, "products": products, "looks": looks}
    return write_feed(json.dumps(doc, indent=2), "catalog.json")


def test_looks_are_read_with_the_catalog(write_feed):
    path = _feed(write_feed, [{"id": "LOOK-1", "title": "Soft", "products": ["F1", "B1", "L1"],
                               "link": "https://shop.example/looks/soft"}])
    catalog = Catalog.load(path)
    [look] = catalog.looks
    assert catalog.look("LOOK-1") is look and look.product_ids == ("F1", "B1", "L1")
    assert [p.id for p in look.products(catalog)] == ["F1", "B1", "L1"]
    assert look.total_price(catalog) == Price(Decimal("32.50"), "USD")
    assert look.buy_link() == ("https://shop.example/looks/soft?utm_source=arlens&utm_medium=ar_tryon"
                               "&utm_content=LOOK-1")
    links = look.buy_links(catalog, UtmTags(campaign="spring"))
    assert len(links) == 3 and all("utm_campaign=spring" in u for u in links) and "utm_content=B1" in links[1]
    with pytest.raises(KeyError, match="no look with id 'nope'"):
        catalog.look("nope")


@pytest.mark.parametrize(
    ("look", "column", "message"),
    [
        ({"id": "A", "title": "t", "products": ["F1", "NOPE"]}, "looks/0/products/1", "unknown product 'NOPE'"),
        ({"id": "A", "title": "t", "products": ["B1", "B2"]}, "looks/0/products/1", "one product per kind"),
        ({"id": "A", "title": "t", "products": ["F1", "X1"]}, "looks/0/products", "one currency"),
        ({"id": "A", "title": "t", "products": []}, "looks/0/products", "1 to 16 product IDs"),
        ({"id": "A", "title": "t", "products": "F1"}, "looks/0/products", "list of product IDs"),
        ({"id": "A", "title": "", "products": ["F1"]}, "looks/0/title", "non-empty"),
        ({"id": "A", "products": ["F1"]}, "looks/0/title", "missing required field 'title'"),
        ({"id": "A", "title": "t", "products": ["F1"], "price": "9 USD"}, "looks/0/price", "unknown field 'price'"),
        ({"id": "A", "title": "t", "products": ["F1"], "link": "javascript:x"}, "looks/0/link", "https"),
        ({"id": "F1", "title": "t", "products": ["B1"]}, "looks/0/id", "also a product id"),
    ],
)
def test_bad_looks_are_located(write_feed, look, column, message):
    path = _feed(write_feed, [{"id": "OK", "title": "fine", "products": ["F1"]}, look][::-1])
    with pytest.raises(CatalogError) as info:
        Catalog.load(path)
    assert any(p.column == column and message in p.message and p.line is not None for p in info.value.problems), (
        info.value.problems
    )
    lenient = Catalog.load(path, strict=False)
    assert [x.id for x in lenient.looks] == ["OK"] and len(lenient) == len(PRODUCTS)


def test_duplicate_look_ids_and_a_look_of_a_rejected_product(write_feed):
    products = [*PRODUCTS, _product("BAD", "blush", color="red")]
    looks = [{"id": "A", "title": "t", "products": ["F1"]}, {"id": "A", "title": "u", "products": ["B1"]},
             {"id": "C", "title": "v", "products": ["BAD"]}]
    with pytest.raises(CatalogError) as info:
        Catalog.load(_feed(write_feed, looks, products))
    messages = [(p.column, p.message) for p in info.value.problems]
    assert ("looks/1/id", "duplicate look id 'A'") in messages
    assert ("looks/2/products/0", "unknown product 'BAD'") in messages


def test_looks_built_in_code_are_checked_against_the_catalog():
    catalog = Catalog.default()
    products = list(catalog)
    with pytest.raises(CatalogError, match="unknown product 'NOPE'"):
        Catalog(products, looks=[Look("L", "t", ("FDN-110", "NOPE"))])
    with pytest.raises(InputError, match="products: expected each product once"):
        Look("L", "t", ("FDN-110", "FDN-110"))
    kept = catalog.filter(kind="foundation")
    assert kept.looks == ()  # no look is made of foundations only
    assert catalog.filter(brand="Northlight Beauty").looks == catalog.looks


def test_total_price_refuses_mixed_currencies():
    catalog = Catalog.default()
    assert total_price([catalog["LIP-001"], catalog["FDN-110"]]) == Price(Decimal("62.00"), "USD")
    with pytest.raises(InputError, match="at least one"):
        total_price([])


def test_default_looks_are_complete_and_shoppable():
    catalog = Catalog.default()
    assert len(catalog.looks) >= 3
    for look in catalog.looks:
        kinds = [p.kind.value for p in look.products(catalog)]
        assert len(kinds) == len(set(kinds)) >= 7, look.id
        assert look.total_price(catalog).amount == sum(p.current_price.amount for p in look.products(catalog))
    full = max(catalog.looks, key=lambda lk: len(lk.product_ids))
    assert {p.kind.value for p in full.products(catalog)} >= {
        "foundation", "contour", "highlighter", "blush", "eyeshadow", "eyeliner", "mascara", "brow", "lipstick"}


def test_look_jsonld_is_a_product_collection_with_one_offer_for_the_set():
    catalog = Catalog.default()
    look = catalog.look("LOOK-GLAM")
    doc = look_to_jsonld(look, catalog, tags=UtmTags())
    assert doc["@type"] == "ProductCollection" and doc["sku"] == "LOOK-GLAM"
    items = [node["typeOfGood"] for node in doc["includesObject"]]
    assert [i["sku"] for i in items] == list(look.product_ids) and all(i["@type"] == "Product" for i in items)
    assert doc["offers"]["price"] == str(look.total_price(catalog).amount)
    assert doc["offers"]["url"].endswith("utm_content=LOOK-GLAM")
    assert "url" not in look_to_jsonld(catalog.look("LOOK-NIGHT"), catalog)["offers"]  # no set link: item by item
    json.dumps(doc)
