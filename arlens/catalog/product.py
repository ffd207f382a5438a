"""Products and prices: immutable values, validated when they are made.

A :class:`Product` is what a lens shows and what a shopper can buy: the retailer's ID, title,
price and buy link, plus the try-on attributes a lens needs (kind, swatch colour, finish,
opacity, and for eyewear the model, frame width and the lenses: transmission, tint and coating).

The rules for each field live in one place, :data:`FIELD_RULES`: the feed readers apply them
field by field to report every problem of a row, and ``Product.__post_init__`` applies the same
rules to products built in code.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from arlens.catalog.links import UtmTags, validate_link
from arlens.catalog.patterns import DEFAULT_PATTERNS, MAX_PALETTE, PATTERNS
from arlens.errors import InputError

_ISO4217_FILE = Path(__file__).with_name("iso4217.txt")
DEFAULT_UTM = UtmTags()


class ProductKind(StrEnum):
    """What a product is, which decides the lens that renders it."""

    LIPSTICK = "lipstick"
    LIP_LINER = "lip_liner"
    EYESHADOW = "eyeshadow"
    EYELINER = "eyeliner"
    MASCARA = "mascara"
    BROW = "brow"
    BLUSH = "blush"
    FOUNDATION = "foundation"
    CONTOUR = "contour"
    HIGHLIGHTER = "highlighter"
    NAIL_POLISH = "nail_polish"
    EYEWEAR = "eyewear"

    @property
    def is_colour(self) -> bool:
        """Whether the lens paints a swatch colour (every kind but eyewear)."""
        return self is not ProductKind.EYEWEAR

    @property
    def has_pattern(self) -> bool:
        """Whether products of this kind are laid out by a named pattern with a palette (eyes, brows, cheeks, skin)."""
        return self.value in DEFAULT_PATTERNS


class Finish(StrEnum):
    """How a colour product reflects light."""

    MATTE = "matte"
    SATIN = "satin"
    GLOSS = "gloss"
    METALLIC = "metallic"
    SHIMMER = "shimmer"


#: Finishes a palette colour may have (a gloss is a lip finish).
PALETTE_FINISHES = (Finish.MATTE, Finish.SATIN, Finish.SHIMMER, Finish.METALLIC)


class LensCoating(StrEnum):
    """A coating on an eyewear lens, which sets how much of the scene it reflects."""

    NONE = "none"
    ANTI_REFLECTIVE = "anti_reflective"
    MIRROR = "mirror"


class Availability(StrEnum):
    """Stock state, with the spellings of Meta (``in stock``) and Google (``in_stock``) both accepted."""

    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    PREORDER = "preorder"
    BACKORDER = "backorder"
    DISCONTINUED = "discontinued"


_AVAILABILITY_ALIASES = MappingProxyType({"available_for_order": Availability.BACKORDER})


@functools.cache
def currency_codes() -> frozenset[str]:
    """The ISO 4217 alphabetic codes a price may carry (read once from the shipped list)."""
    codes = set()
    for line in _ISO4217_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            codes.add(line.split("\t", 1)[0])
    return frozenset(codes)


_PRICE_RE = re.compile(
    r"^(?:(?P<amount>[0-9]+(?:\.[0-9]+)?)\s*(?P<cur>[A-Za-z]{3})|(?P<cur2>[A-Za-z]{3})\s*(?P<amount2>[0-9]+(?:\.[0-9]+)?))$"
)


@dataclass(frozen=True)
class Price:
    """A decimal-exact amount of money in an ISO 4217 currency.

    Attributes:
        amount: a non-negative, finite ``Decimal`` (kept as written: ``Decimal("19.00")``).
        currency: an ISO 4217 code such as ``"USD"``, upper case.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        amount = self.amount
        if isinstance(amount, str | int) and not isinstance(amount, bool):
            try:
                amount = Decimal(amount)
            except InvalidOperation:
                raise InputError(f"expected a decimal amount, got {self.amount!r}") from None
        if not isinstance(amount, Decimal):
            raise InputError(f"expected the amount as a Decimal, str or int, got {type(amount).__name__}")
        if not amount.is_finite() or amount < 0:
            raise InputError(f"expected a finite, non-negative amount, got {amount}")
        if not isinstance(self.currency, str):
            raise InputError(f"expected an ISO 4217 currency code, got {self.currency!r}")
        currency = self.currency.strip().upper()
        if currency not in currency_codes():
            raise InputError(f"unknown currency {self.currency!r}, expected an ISO 4217 code such as 'USD'")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "currency", currency)

    @classmethod
    def parse(cls, text: str) -> Price:
        """Read a feed price such as ``"19.00 USD"`` (Meta and Google) or ``"USD 19.00"``.

        Raises:
            InputError: not an amount and a three-letter code, or an unknown currency.
        """
        match = _PRICE_RE.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise InputError(f"expected a price like '19.00 USD', got {text!r}")
        amount = match["amount"] or match["amount2"]
        return cls(Decimal(amount), match["cur"] or match["cur2"])

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


# ---------------------------------------------------------------------------------------------
# Field rules: each takes a raw value (feed text or a Python value) and returns the normalised
# value, or raises InputError with an "expected X, got Y" message.

_HEX_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
_MODEL_SUFFIXES = frozenset({".glb", ".gltf", ".obj", ".ply", ".stl", ".off"})


def _text(value: Any, *, max_len: int = 5000) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__}")
    value = value.strip()
    if len(value) > max_len:
        raise InputError(f"expected at most {max_len} characters, got {len(value)}")
    return value


def _required_text(value: Any) -> str:
    value = _text(value, max_len=500)
    if not value:
        raise InputError("expected a non-empty value, got an empty one")
    return value


def _price(value: Any) -> Price:
    if isinstance(value, Price):
        return value
    if isinstance(value, Mapping):
        if set(value) != {"amount", "currency"}:
            raise InputError(f"expected a price object with 'amount' and 'currency', got keys {sorted(value)}")
        if isinstance(value["amount"], float):
            raise InputError("expected the amount as a string (floats are not decimal-exact), got a float")
        return Price(value["amount"], value["currency"])
    return Price.parse(value)


def _link(value: Any) -> str:
    # Products accept any well-formed http(s) link; a catalog applies its stricter LinkPolicy.
    return validate_link(value, allow_http=True)


def enum_rule(
    enum: type[StrEnum], what: str, aliases: Mapping[str, StrEnum] = MappingProxyType({})
) -> Callable[[Any], Any]:
    """A rule reading ``enum`` members by value, case-insensitively, spaces read as underscores."""

    def rule(value: Any) -> StrEnum:
        if isinstance(value, enum):
            return value
        key = _text(value, max_len=100).lower().replace(" ", "_").replace("-", "_")
        if key in aliases:
            return aliases[key]
        try:
            return enum(key)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise InputError(f"unknown {what} {value!r}, expected one of {allowed}") from None

    return rule


def _colour(value: Any) -> str:
    text = _text(value, max_len=20)
    if not _HEX_RE.match(text):
        raise InputError(f"expected an sRGB hex colour like '#A1122B', got {value!r}")
    return text.upper()


def _number(value: Any, lo: float, hi: float, what: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"expected {what} as a number, got a boolean")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InputError(f"expected {what} as a number, got {value!r}") from None
    if not isinstance(value, int | float):
        raise InputError(f"expected {what} as a number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise InputError(f"expected {what} between {lo:g} and {hi:g}, got {value:g}")
    return value


def _opacity(value: Any) -> float:
    return _number(value, 0.0, 1.0, "opacity")


def _frame_width(value: Any) -> float:
    return _number(value, 80.0, 200.0, "a frame width in millimetres")


def _tilt(value: Any) -> float:
    return _number(value, -30.0, 30.0, "a pantoscopic tilt in degrees")


def _transmission(value: Any) -> float:
    return _number(value, 0.0, 1.0, "a lens transmission (1 clear, 0.15 sunglasses)")


def _offset(value: Any) -> tuple[float, float, float]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,;]+", value.strip()) if v]
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise InputError(f"expected an offset as three numbers 'x y z' in millimetres, got {value!r}")
    x, y, z = (_number(v, -50.0, 50.0, "an offset in millimetres") for v in value)
    return (x, y, z)


def _model(value: Any) -> str:
    text = _text(value, max_len=300)
    path = PurePosixPath(text)
    if not text or "\\" in text or path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", text):
        raise InputError(f"expected a relative model path without '..', got {value!r}")
    if path.suffix.lower() not in _MODEL_SUFFIXES:
        raise InputError(f"expected a model file ending in one of {', '.join(sorted(_MODEL_SUFFIXES))}, got {value!r}")
    return text


@dataclass(frozen=True)
class PaletteColor:
    """One colour of a product's palette: where it goes is its place in the palette (the pattern's zones).

    Attributes:
        color: the colour as upper-case sRGB hex ``"#RRGGBB"``.
        finish: matte, satin, shimmer or metallic.
        intensity: how much pigment, 0 (none) to 1 (full).

    Raises:
        InputError: naming the attribute that is malformed.
    """

    color: str
    finish: Finish = Finish.MATTE
    intensity: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "color", _colour(self.color))
        finish = enum_rule(Finish, "finish")(self.finish)
        if finish not in PALETTE_FINISHES:
            allowed = ", ".join(f.value for f in PALETTE_FINISHES)
            raise InputError(f"unknown palette finish {finish.value!r}, expected one of {allowed}")
        object.__setattr__(self, "finish", finish)
        object.__setattr__(self, "intensity", _number(self.intensity, 0.0, 1.0, "an intensity"))

    @classmethod
    def parse(cls, text: str) -> PaletteColor:
        """Read the text form ``"#RRGGBB [finish] [intensity]"`` (``"#8A5A44 shimmer 0.7"``).

        Raises:
            InputError: not a colour followed by at most a finish and an intensity.
        """
        words = _text(text, max_len=100).split()
        if not words or len(words) > 3:
            raise InputError(f"expected '#RRGGBB [finish] [intensity]', got {text!r}")
        values: dict[str, Any] = {"color": words[0]}
        for word in words[1:]:
            key = "intensity" if word[:1].isdigit() or word.startswith(".") else "finish"
            if key in values:
                raise InputError(f"expected '#RRGGBB [finish] [intensity]', got {text!r}")
            values[key] = word
        return cls(**values)

    def __str__(self) -> str:
        return f"{self.color} {self.finish.value} {self.intensity:g}"


def _pattern(value: Any) -> str:
    name = _text(value, max_len=100).lower()
    if name not in PATTERNS:
        kind = name.split("/", 1)[0]
        known = [n for n, p in PATTERNS.items() if p.kind == kind] or list(PATTERNS)
        raise InputError(f"unknown pattern {value!r}, expected one of {', '.join(known)}")
    return name


def _palette(value: Any) -> tuple[PaletteColor, ...]:
    """A palette from a list of colours (objects, PaletteColor values or text) or the text form ``"a; b; c"``."""
    if isinstance(value, str):
        items: list[Any] = [part for part in value.split(";") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise InputError(f"expected a palette as a list of colours or '#RRGGBB finish intensity; ...', got "
                         f"{type(value).__name__}")
    if not 1 <= len(items) <= MAX_PALETTE:
        raise InputError(f"expected 1 to {MAX_PALETTE} palette colours, got {len(items)}")
    palette = []
    for i, item in enumerate(items, 1):
        try:
            if isinstance(item, PaletteColor):
                palette.append(item)
            elif isinstance(item, str):
                palette.append(PaletteColor.parse(item))
            elif isinstance(item, Mapping):
                unknown = sorted(set(item) - {"color", "finish", "intensity"})
                if unknown or "color" not in item:
                    raise InputError(f"expected an object with 'color' and optional 'finish', 'intensity', got keys "
                                     f"{sorted(item)}")
                palette.append(PaletteColor(**item))
            else:
                raise InputError(f"expected a colour object or text, got {type(item).__name__}")
        except InputError as exc:
            raise InputError(f"palette colour {i}: {exc}") from None
    return tuple(palette)


FIELD_RULES: Mapping[str, Callable[[Any], Any]] = MappingProxyType(
    {
        "id": _required_text,
        "title": _required_text,
        "link": _link,
        "price": _price,
        "brand": _text,
        "description": _text,
        "availability": enum_rule(Availability, "availability", _AVAILABILITY_ALIASES),
        "image_link": _link,
        "sale_price": _price,
        "item_group_id": _text,
        "kind": enum_rule(ProductKind, "kind"),
        "color": _colour,
        "color_name": _text,
        "finish": enum_rule(Finish, "finish"),
        "opacity": _opacity,
        "model": _model,
        "frame_width_mm": _frame_width,
        "offset_mm": _offset,
        "pantoscopic_tilt_deg": _tilt,
        "lens_transmission": _transmission,
        "lens_tint": _colour,
        "lens_coating": enum_rule(LensCoating, "lens coating"),
        "pattern": _pattern,
        "palette": _palette,
    }
)
"""Rule per :class:`Product` field: raw value in, normalised value out, ``InputError`` if bad."""

REQUIRED_FIELDS: tuple[str, ...] = ("id", "title", "link", "price")
_LENS_FIELDS = ("lens_transmission", "lens_tint", "lens_coating")
"""Fields every product must have; the others are optional (``None`` or a default)."""


def cross_field_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems between fields, as ``(field, message)``: what a kind needs, sale vs regular price."""
    problems = []
    kind = values.get("kind")
    if kind is ProductKind.EYEWEAR:
        for name in ("model", "frame_width_mm"):
            if values.get(name) is None:
                problems.append((name, f"missing required field '{name}' for eyewear"))
    elif kind is not None and values.get("color") is None and not values.get("palette"):
        problems.append(("color", f"missing required field 'color' for {kind.value}"))
    if kind is not ProductKind.EYEWEAR:
        what = getattr(kind, "value", "no kind")
        for name in _LENS_FIELDS:
            if values.get(name) is not None:
                problems.append((name, f"expected '{name}' only on eyewear, got it on {what}"))
    problems += _pattern_problems(kind, values.get("pattern"), values.get("palette"))
    price, sale = values.get("price"), values.get("sale_price")
    if isinstance(price, Price) and isinstance(sale, Price) and sale.currency != price.currency:
        problems.append(("sale_price", f"expected sale_price in {price.currency}, got {sale.currency}"))
    return problems


def _pattern_problems(
    kind: Any, pattern: str | None, palette: tuple[PaletteColor, ...] | None
) -> list[tuple[str, str]]:
    if not isinstance(kind, ProductKind):
        return []
    if not kind.has_pattern:
        return [
            (name, f"{kind.value} products take no {name} (only {', '.join(DEFAULT_PATTERNS)} do)")
            for name, value in (("pattern", pattern), ("palette", palette))
            if value is not None
        ]
    problems = []
    if pattern is not None and PATTERNS[pattern].kind != kind.value:
        problems.append(("pattern", f"expected a {kind.value}/... pattern for this {kind.value}, got {pattern!r}"))
    else:
        info = PATTERNS[pattern or DEFAULT_PATTERNS[kind.value]]
        count = len(palette) if palette is not None else 1
        if count != len(info.zones):
            zones = ", ".join(info.zones)
            got = f"{count}" if palette is not None else "one colour and no palette"
            problems.append(("palette", f"pattern {info.name} takes {len(info.zones)} colour(s) ({zones}), got {got}"))
    return problems


@dataclass(frozen=True)
class Product:
    """A product a lens can show and a shopper can buy; immutable and validated on creation.

    Attributes:
        id: the retailer's SKU / content ID, unique in a catalog.
        title: the product name shown to shoppers.
        link: the buy URL (http or https with a host; catalogs may demand https and a domain).
        price: the regular price.
        brand, description: free text.
        availability: stock state.
        image_link: a product photo URL, or ``None``.
        sale_price: the current sale price, or ``None``; same currency as ``price``.
        item_group_id: groups shades or sizes of one product (the feeds' variant group).
        kind: which lens renders it, or ``None`` for products that cannot be tried on.
        color: the swatch as upper-case sRGB hex ``"#RRGGBB"`` (required for colour kinds).
        color_name: the colour as shoppers read it (``"Ruby Woo"``), from the feeds' ``color``.
        finish: matte, satin, gloss, metallic or shimmer; ``None`` lets the lens choose.
        opacity: strength of the colour layer, 0 (none) to 1 (full coverage).
        model: eyewear mesh, a relative path resolved against the catalog's folder or bundle.
        frame_width_mm: eyewear frame front width in millimetres (sets the mesh's scale).
        offset_mm: eyewear ``(x, y, z)`` shift from the default seat on the nose bridge, or ``None``.
        pantoscopic_tilt_deg: eyewear forward tilt of the frame front, or ``None`` for the lens default.
        lens_transmission: eyewear lenses' luminous transmittance, 1.0 clear .. about 0.15 for sunglasses
            (ISO 12312-1 category 3 is 0.08-0.18); ``None`` keeps the model's own lens material.
        lens_tint: the hue of the lenses' filter as sRGB hex (``"#5A4632"`` brown); ``None`` is neutral grey.
        lens_coating: none, anti_reflective or mirror (how much of the scene the lenses reflect); ``None``
            is an uncoated lens.
        pattern: for eye, brow, cheek and skin products, the named layout (``"eyeshadow/lid-crease-outer"``, see
            :mod:`arlens.catalog.patterns`), or ``None`` for the kind's default.
        palette: the colours of the pattern's zones in order (1 to 5 :class:`PaletteColor`, each a colour,
            finish and intensity), or ``None`` for one colour: ``color`` with ``finish`` and ``opacity``.
            ``color`` defaults to the first palette colour (the swatch shoppers see).

    Raises:
        InputError: on construction, listing every field that breaks its rule.
    """

    id: str
    title: str
    link: str
    price: Price
    brand: str = ""
    description: str = ""
    availability: Availability = Availability.IN_STOCK
    image_link: str | None = None
    sale_price: Price | None = None
    item_group_id: str | None = None
    kind: ProductKind | None = None
    color: str | None = None
    color_name: str | None = None
    finish: Finish | None = None
    opacity: float = 1.0
    model: str | None = None
    frame_width_mm: float | None = None
    offset_mm: tuple[float, float, float] | None = None
    pantoscopic_tilt_deg: float | None = None
    lens_transmission: float | None = None
    lens_tint: str | None = None
    lens_coating: LensCoating | None = None
    pattern: str | None = None
    palette: tuple[PaletteColor, ...] | None = None

    def __post_init__(self) -> None:
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(self):
            raw = getattr(self, f.name)
            if raw is None and f.name not in REQUIRED_FIELDS:
                values[f.name] = None
                continue
            try:
                values[f.name] = FIELD_RULES[f.name](raw)
            except InputError as exc:
                problems.append(f"{f.name}: {exc}")
                values[f.name] = None
        problems += [f"{name}: {message}" for name, message in cross_field_problems(values)]
        if problems:
            raise InputError(f"invalid product {self.id!r}: " + "; ".join(problems))
        if values["color"] is None and values["palette"]:
            values["color"] = values["palette"][0].color
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def effective_pattern(self) -> str | None:
        """The pattern drawn: ``pattern``, or the kind's default; ``None`` for kinds without patterns."""
        if self.kind is None or not self.kind.has_pattern:
            return None
        return self.pattern or DEFAULT_PATTERNS[self.kind.value]

    @property
    def effective_palette(self) -> tuple[PaletteColor, ...]:
        """The colours drawn: ``palette``, or ``color`` with ``finish`` (matte if none or gloss) and ``opacity``."""
        if self.palette:
            return self.palette
        if self.color is None:
            return ()
        finish = self.finish if self.finish in PALETTE_FINISHES else Finish.MATTE
        return (PaletteColor(self.color, finish, self.opacity),)

    @property
    def current_price(self) -> Price:
        """The price a shopper pays now: the sale price if there is one."""
        return self.sale_price or self.price

    def buy_link(self, tags: UtmTags | None = DEFAULT_UTM) -> str:
        """The buy link with UTM tags (``utm_content`` = this product's ID); ``tags=None`` for the bare link."""
        return self.link if tags is None else tags.apply(self.link, self.id)


PRODUCT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Product))
"""Field names of :class:`Product`, in declaration order."""
