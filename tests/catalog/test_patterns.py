"""Patterns and palettes on products, and the demo catalog's make-up line."""

from __future__ import annotations

import colorsys
from decimal import Decimal

import pytest

from arlens.catalog import Catalog, Finish, Price, Product, ProductKind
from arlens.catalog.patterns import DEFAULT_PATTERNS, PATTERNS, patterns_of
from arlens.catalog.product import PaletteColor
from arlens.errors import InputError

BASE = dict(id="P1", title="t", link="https://shop.example/p1", price=Price(Decimal("10"), "USD"))


def test_every_patterned_kind_has_a_default_of_its_own_kind():
    patterned = {k.value for k in ProductKind if k.has_pattern}
    assert patterned == {"eyeshadow", "eyeliner", "mascara", "brow", "blush", "foundation", "contour", "highlighter"}
    for kind, name in DEFAULT_PATTERNS.items():
        assert PATTERNS[name].kind == kind and len(PATTERNS[name].zones) == 1
        assert name in patterns_of(kind)
    assert {len(p.zones) for p in PATTERNS.values() if p.kind == "eyeshadow"} == {1, 2, 3, 5}
    for required in ("eyeshadow/lid-crease-outer", "eyeliner/winged", "blush/apple", "blush/lifted"):
        assert required in PATTERNS


def test_palette_colours_parse_and_print():
    c = PaletteColor.parse(" #8a5a44   shimmer 0.7 ")
    assert c == PaletteColor("#8A5A44", Finish.SHIMMER, 0.7) and str(c) == "#8A5A44 shimmer 0.7"
    assert PaletteColor.parse("#8A5A44 .5").intensity == 0.5 and PaletteColor.parse("#8A5A44").finish is Finish.MATTE
    for bad, message in [("#8A5A44 matte matte", "expected '#RRGGBB"), ("", "expected '#RRGGBB"),
                         ("#8A5A44 0.5 0.5", "expected '#RRGGBB"), ("#8A5A44 gloss", "unknown palette finish")]:
        with pytest.raises(InputError, match=message):
            PaletteColor.parse(bad)


def test_product_palette_forms_and_defaults():
    as_objects = Product(**BASE, kind="blush", pattern="blush/duo",
                         palette=[{"color": "#e2705a", "finish": "satin", "intensity": 0.4}, "#B8674A shimmer 0.35"])
    as_text = Product(**BASE, kind="blush", pattern="blush/duo", palette="#E2705A satin 0.4; #B8674A shimmer 0.35")
    assert as_objects == as_text and as_text.color == "#E2705A"
    single = Product(**BASE, kind="eyeliner", color="#111111", finish="gloss", opacity=0.9)
    assert single.effective_pattern == "eyeliner/natural"
    assert single.effective_palette == (PaletteColor("#111111", Finish.MATTE, 0.9),)  # a gloss is a lip finish
    lip = Product(**BASE, kind="lipstick", color="#111111")
    assert lip.effective_pattern is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (dict(kind="lipstick", color="#111111", palette="#111111"), "palette: lipstick products take no palette"),
        (dict(kind="blush", color="#111111", pattern="eyeshadow/lid"), "expected a blush/... pattern"),
        (dict(kind="eyeshadow", pattern="eyeshadow/halo", palette="#111111; #222222"), "takes 5 colour(s)"),
        (dict(kind="eyeshadow", palette=[{"colour": "#111111"}]), "expected an object with 'color'"),
        (dict(kind="eyeshadow", palette=3), "expected a palette as a list"),
        (dict(kind="eyeshadow", palette="#111111 matte 2"), "between 0 and 1"),
    ],
)
def test_bad_patterns_and_palettes_name_the_field(values, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Product(**BASE, **values)


def _hue(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)


def test_demo_catalog_carries_the_whole_line():
    demo = Catalog.default()
    count = {k: len(demo.filter(kind=k)) for k in ("eyeshadow", "eyeliner", "mascara", "brow", "blush", "foundation",
                                                   "contour", "highlighter")}
    assert count["eyeshadow"] >= 4 and count["eyeliner"] >= 3 and count["mascara"] >= 2 and count["brow"] >= 3
    assert count["blush"] >= 4 and count["foundation"] >= 6 and count["contour"] >= 2 and count["highlighter"] >= 2
    assert any(len(p.effective_palette) == 3 for p in demo.filter(kind="eyeshadow"))
    for p in demo:
        if p.kind.has_pattern:
            assert p.color and p.link.startswith("https://") and p.price.amount > 0, p.id
            assert len(p.effective_palette) == len(PATTERNS[p.effective_pattern].zones), p.id


def test_demo_foundations_span_light_to_deep():
    lightness = sorted(_hue(p.color)[1] for p in Catalog.default().filter(kind="foundation"))
    assert lightness[0] < 0.3 and lightness[-1] > 0.8  # an espresso and a porcelain
    assert all(b - a > 0.04 for a, b in zip(lightness, lightness[1:], strict=False))  # distinct steps
