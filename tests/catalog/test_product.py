"""Product and Price values: normalisation, immutability, and the errors of bad values."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from arlens.catalog import Availability, Finish, LensCoating, Price, Product, ProductKind, UtmTags
from arlens.errors import InputError


def lipstick(**overrides):
    values = dict(
        id="L1",
        title="Ruby",
        link="https://shop.example/l1",
        price=Price(Decimal("19.00"), "USD"),
        kind="lipstick",
        color="#a1122b",
        finish="Satin",
    )
    values.update(overrides)
    return Product(**values)


def test_values_are_normalised():
    p = lipstick()
    assert p.color == "#A1122B"
    assert p.kind is ProductKind.LIPSTICK and p.finish is Finish.SATIN
    assert p.availability is Availability.IN_STOCK and p.opacity == 1.0
    assert p == lipstick(color="#A1122B", kind=ProductKind.LIPSTICK, finish=Finish.SATIN)


def test_products_are_immutable_and_hashable():
    p = lipstick()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.color = "#000000"  # type: ignore[misc]
    assert len({p, lipstick()}) == 1


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [("19.00 USD", "19.00", "USD"), ("19 eur", "19", "EUR"), ("JPY 1500", "1500", "JPY"), ("0.5GBP", "0.5", "GBP")],
)
def test_price_parse(text, amount, currency):
    price = Price.parse(text)
    assert price == Price(Decimal(amount), currency)
    assert price.amount == Decimal(amount) and isinstance(price.amount, Decimal)


def test_price_is_decimal_exact():
    total = sum((Price.parse("0.10 USD").amount for _ in range(3)), Decimal(0))
    assert total == Decimal("0.30")
    assert str(Price.parse("19.90 EUR")) == "19.90 EUR"


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (Decimal("-1"), "USD", "non-negative"),
        (Decimal("NaN"), "USD", "finite"),
        (1.5, "USD", "expected the amount as a Decimal"),
        ("abc", "USD", "expected a decimal amount"),
        (Decimal("1"), "US", "unknown currency 'US'"),
        (Decimal("1"), "XXX", "unknown currency 'XXX'"),
    ],
)
def test_bad_prices(amount, currency, message):
    with pytest.raises(InputError, match=message):
        Price(amount, currency)


def test_every_bad_field_is_named_at_once():
    with pytest.raises(InputError) as info:
        lipstick(color="red", finish="velvet", opacity=2)
    text = str(info.value)
    assert "color: expected an sRGB hex colour" in text
    assert "finish: unknown finish 'velvet'" in text
    assert "opacity: expected opacity between 0 and 1" in text


def test_kind_requirements():
    with pytest.raises(InputError, match="missing required field 'color' for lipstick"):
        lipstick(color=None)
    with pytest.raises(InputError, match="'model' for eyewear.*'frame_width_mm' for eyewear"):
        lipstick(kind="eyewear", color=None)
    frame = lipstick(
        kind="eyewear", color=None, finish=None, model="eyewear/round.glb", frame_width_mm=132, offset_mm="0 1 2"
    )
    assert frame.frame_width_mm == 132.0 and frame.offset_mm == (0.0, 1.0, 2.0)


def _frame(**overrides):
    values = dict(kind="eyewear", color=None, finish=None, model="eyewear/round.glb", frame_width_mm=140)
    return lipstick(**{**values, **overrides})


def test_lens_fields_of_eyewear():
    clear = _frame()
    assert (clear.lens_transmission, clear.lens_tint, clear.lens_coating) == (None, None, None)
    sun = _frame(lens_transmission="0.15", lens_tint="#4a5a46", lens_coating="Anti-Reflective")
    assert sun.lens_transmission == 0.15 and sun.lens_tint == "#4A5A46"
    assert sun.lens_coating is LensCoating.ANTI_REFLECTIVE
    assert _frame(lens_coating="mirror").lens_coating is LensCoating.MIRROR


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lens_transmission": 1.5}, "lens_transmission: expected a lens transmission .* between 0 and 1, got 1.5"),
        ({"lens_transmission": "dark"}, "lens_transmission: expected a lens transmission .* as a number, got 'dark'"),
        ({"lens_tint": "grey"}, "lens_tint: expected an sRGB hex colour"),
        ({"lens_coating": "polarised"}, "lens_coating: unknown lens coating 'polarised', expected one of none, "),
    ],
)
def test_bad_lens_fields(overrides, message):
    with pytest.raises(InputError, match=message):
        _frame(**overrides)


def test_lens_fields_only_on_eyewear():
    with pytest.raises(InputError, match="expected 'lens_transmission' only on eyewear, got it on lipstick"):
        lipstick(lens_transmission=0.5)


def test_buy_link_tags_with_product_id():
    p = lipstick(link="https://shop.example/l1?variant=3")
    assert p.buy_link() == "https://shop.example/l1?variant=3&utm_source=arlens&utm_medium=ar_tryon&utm_content=L1"
    assert p.buy_link(None) == "https://shop.example/l1?variant=3"
    assert "utm_campaign=spring" in p.buy_link(UtmTags(campaign="spring"))
