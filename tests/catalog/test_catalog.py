"""Catalog behaviour and the bundled demo catalog."""

from __future__ import annotations

import colorsys
from decimal import Decimal

import pytest

import arlens
from arlens.catalog import Catalog, Finish, Price, Product, ProductKind
from arlens.errors import CatalogError, InputError
from arlens.resources import assets_dir


@pytest.fixture(scope="module")
def demo() -> Catalog:
    return Catalog.default()


def test_public_names_resolve_lazily():
    assert arlens.Catalog is Catalog and arlens.Product is Product and arlens.Price is Price


def test_default_catalog_contents(demo):
    lipsticks = list(demo.filter(kind="lipstick"))
    assert len(lipsticks) >= 12
    assert {p.finish for p in lipsticks} == set(Finish)
    eyewear = list(demo.filter(kind=ProductKind.EYEWEAR))
    assert {"eyewear/cat_eye.glb", "eyewear/rectangular.glb", "eyewear/round.glb"} <= {p.model for p in eyewear}
    assert all(125 <= p.frame_width_mm <= 145 for p in eyewear)
    clear = [p for p in eyewear if p.lens_transmission is not None and p.lens_transmission >= 0.9]
    sunglasses = [p for p in eyewear if p.lens_transmission is not None and p.lens_transmission <= 0.2]
    assert len(clear) >= 2 and len(sunglasses) >= 1  # the demo shows clear frames and a pair of sunglasses
    assert len(demo.filter(kind="nail_polish")) >= 4
    for p in demo:
        assert p.link.startswith("https://shop.example/")
        assert Decimal("5") <= p.price.amount <= Decimal("300") and p.price.currency == "USD"
        assert p.brand == "Northlight Beauty"


def test_default_lipsticks_span_light_dark_warm_cool(demo):
    hls = []
    for p in demo.filter(kind="lipstick"):
        r, g, b = (int(p.color[i : i + 2], 16) / 255 for i in (1, 3, 5))
        hls.append(colorsys.rgb_to_hls(r, g, b))
    lightness = [light for _, light, _ in hls]
    assert min(lightness) < 0.3 and max(lightness) > 0.7
    # warm: hue toward orange (0-25 deg); cool: toward blue-red / purple (300-360 deg)
    hues = [h * 360 for h, _, _ in hls]
    assert any(5 <= h <= 25 for h in hues) and any(h >= 320 for h in hues)


def test_default_catalog_is_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    catalog = Catalog.default()
    assert catalog.source == str(assets_dir() / "catalog.json")
    assert catalog.model_path("EYE-101") == assets_dir().resolve() / "eyewear" / "round.glb"


def test_lookup_iteration_and_filter(demo):
    assert demo.ids[0] == "LIP-001" and [p.id for p in demo] == list(demo.ids)
    assert demo["LIP-004"].title == "Classic Red Lipstick"
    assert demo.get("nope") is None and "LIP-004" in demo and "nope" not in demo
    with pytest.raises(KeyError, match="no product with id 'nope'"):
        demo["nope"]
    gloss_lips = demo.filter(kind="lipstick", finish="gloss")
    assert [p.id for p in gloss_lips] == [p.id for p in demo if p.kind == "lipstick" and p.finish == "gloss"]
    assert len(demo.filter(in_stock=False)) == 1  # the preorder nail colour
    assert len(demo.filter(item_group_id="NL-EYEWEAR")) == len(demo.filter(kind="eyewear")) == 4
    with pytest.raises(InputError, match=r"kind: expected one of lipstick, .*eyewear, got 'hat'$"):
        demo.filter(kind="hat")
    with pytest.raises(InputError, match=r"got 'lipstik' \(did you mean 'lipstick'\?\)"):
        demo.filter(kind="lipstik")
    with pytest.raises(InputError, match=r"finish: expected one of matte, .*got 'glos' \(did you mean 'gloss'\?\)"):
        demo.filter(finish="glos")


def test_catalog_from_products_refuses_duplicates(demo):
    products = list(demo)[:2]
    assert len(Catalog(products)) == 2
    with pytest.raises(CatalogError, match="duplicate id 'LIP-001'"):
        Catalog([products[0], products[0]])


def test_similar_ids_suggest_case_and_spelling():
    """TryOn(products=['lip-001']) said only "not in catalog"; the CLI suggested, the library did not."""
    catalog = Catalog.default()
    assert catalog.similar_ids("lip-001")[0] == "LIP-001"  # case first
    assert catalog.similar_ids("LIPP-001")[0] == "LIP-001"  # a typo
    assert catalog.similar_ids("zzzzzz") == [] and catalog.unknown_id_hint("zzzzzz") == ""
    assert catalog.unknown_id_hint("lip-001").startswith(" (did you mean LIP-001")


def test_an_unknown_product_in_a_session_names_the_close_ids():
    from arlens.session import TryOn, UnknownProductError

    with pytest.raises(UnknownProductError, match=r"'lip-001': not in catalog .*\(did you mean LIP-001"):
        TryOn(products=["lip-001"])
