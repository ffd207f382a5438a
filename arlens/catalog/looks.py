"""Looks: a named set of products worn together, shoppable item by item and as a set.

A look (Perfect Corp and ModiFace call them the same) names one product per kind — a foundation, a blush,
an eyeshadow palette, a liner, a lipstick, ... — that :class:`~arlens.session.TryOn` stacks in makeup order.
Each product keeps its own buy link (and its own hotspot on screen); the set has a total price and,
optionally, a link of its own (a bundle page or a prefilled cart).

In arlens JSON catalogs looks sit beside the products::

    {"format": "arlens.catalog", "version": 1, "products": [...],
     "looks": [{"id": "LOOK-NIGHT", "title": "Night Out", "products": ["FDN-003", "EYS-002", "LIP-004"],
                "description": "...", "link": "https://shop.example/looks/night-out"}]}

Problems (unknown product, two products of one kind, a product that cannot be tried on, a bad link) are
located like product problems: the line of the look object and ``looks/<i>/<key>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arlens.catalog.links import LinkPolicy, UtmTags, validate_link
from arlens.catalog.product import DEFAULT_UTM, FIELD_RULES, Price, Product
from arlens.errors import InputError, Problem

LOOK_KEYS = ("id", "title", "products", "description", "link", "image_link")
"""Keys of a look object in arlens JSON."""
MAX_LOOK_PRODUCTS = 16


@dataclass(frozen=True)
class Look:
    """A named set of products applied together.

    Attributes:
        id: unique among the catalog's looks (and distinct from every product ID).
        title: the name shoppers see ("Night Out").
        product_ids: the products, at most one per kind, in the order the look lists them.
        description: free text.
        link: a page that sells the whole set, or ``None`` (then the set is bought item by item).
        image_link: a photo of the look, or ``None``.

    Raises:
        InputError: on construction, naming the attribute that breaks its rule.
    """

    id: str
    title: str
    product_ids: tuple[str, ...]
    description: str = ""
    link: str | None = None
    image_link: str | None = None

    def __post_init__(self) -> None:
        values, problems = _checked(
            {name: getattr(self, name) for name in ("id", "title", "product_ids", "description", "link", "image_link")}
        )
        if problems:
            raise InputError(f"invalid look {self.id!r}: " + "; ".join(f"{k}: {m}" for k, m in problems))
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def products(self, catalog: Mapping[str, Product] | Any) -> tuple[Product, ...]:
        """The look's products, looked up in ``catalog`` (a :class:`~arlens.catalog.Catalog`).

        Raises:
            KeyError: a product is not in the catalog.
        """
        return tuple(catalog[pid] for pid in self.product_ids)

    def total_price(self, catalog: Any) -> Price:
        """What the set costs bought item by item: the sum of the products' current prices.

        Raises:
            InputError: the products are priced in different currencies.
        """
        return total_price(self.products(catalog))

    def buy_link(self, tags: UtmTags | None = DEFAULT_UTM) -> str | None:
        """The set's own link with UTM tags (``utm_content`` = the look's ID), or ``None`` when it has none."""
        if self.link is None:
            return None
        return self.link if tags is None else tags.apply(self.link, self.id)

    def buy_links(self, catalog: Any, tags: UtmTags | None = DEFAULT_UTM) -> tuple[str, ...]:
        """Each product's buy link, in the look's order (``utm_content`` = each product's ID)."""
        return tuple(p.buy_link(tags) for p in self.products(catalog))


def _checked(values: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Normalised look values and every ``(attribute, message)`` problem."""
    problems: list[tuple[str, str]] = []
    out = dict(values)
    for name in ("id", "title", "description"):
        try:
            out[name] = FIELD_RULES[name](values[name])
        except InputError as exc:
            problems.append((name, str(exc)))
    for name in ("link", "image_link"):
        if values[name] is not None:
            try:
                out[name] = validate_link(values[name], allow_http=True)
            except InputError as exc:
                problems.append((name, str(exc)))
    ids = values["product_ids"]
    if isinstance(ids, str) or not isinstance(ids, Sequence) or not all(isinstance(i, str) and i for i in ids):
        problems.append(("products", f"expected a list of product IDs, got {ids!r}"))
    elif not 1 <= len(ids) <= MAX_LOOK_PRODUCTS:
        problems.append(("products", f"expected 1 to {MAX_LOOK_PRODUCTS} product IDs, got {len(ids)}"))
    elif len(set(ids)) != len(ids):
        problems.append(("products", f"expected each product once, got {list(ids)}"))
    else:
        out["product_ids"] = tuple(ids)
    return out, problems


def total_price(products: Iterable[Product]) -> Price:
    """The sum of the products' current prices (decimal-exact).

    Raises:
        InputError: no products, or prices in different currencies.
    """
    prices = [p.current_price for p in products]
    if not prices:
        raise InputError("expected at least one product to total, got none")
    currencies = sorted({p.currency for p in prices})
    if len(currencies) > 1:
        raise InputError(f"expected one currency to total, got {', '.join(currencies)}")
    return Price(sum((p.amount for p in prices), Decimal(0)), currencies[0])


def look_problems(look: Look, products: Mapping[str, Product], source: str, line: int | None,
                  where: str) -> list[Problem]:
    """What is wrong between ``look`` and the catalog's ``products``, each located at ``where`` + key."""
    problems = []
    kinds: dict[str, str] = {}
    for i, pid in enumerate(look.product_ids):
        column = f"{where}products/{i}"
        product = products.get(pid)
        if product is None:
            problems.append(Problem(source, line, column, f"unknown product {pid!r}"))
            continue
        if product.kind is None:
            problems.append(Problem(source, line, column, f"product {pid!r} has no kind: it cannot be tried on"))
            continue
        kind = product.kind.value
        if kind in kinds:
            problems.append(Problem(source, line, column, f"expected one product per kind, got {kinds[kind]!r} and "
                                                          f"{pid!r} ({kind})"))
        kinds[kind] = pid
    if look.id in products:
        problems.append(Problem(source, line, f"{where}id", f"look id {look.id!r} is also a product id"))
    found = [products[pid] for pid in look.product_ids if pid in products]
    if found and not problems:
        try:
            total_price(found)
        except InputError as exc:
            problems.append(Problem(source, line, f"{where}products", str(exc)))
    return problems


def read_looks(
    source: str, text: str, products: Mapping[str, Product], links: LinkPolicy | None = None
) -> tuple[tuple[Look, ...], tuple[Problem, ...]]:
    """The ``looks`` of an arlens JSON catalog (already known to parse), checked against its ``products``.

    Returns:
        The good looks in order, and every problem of the others (a look with a problem is left out).
    """
    doc = json.loads(text)
    items = doc.get("looks", []) if isinstance(doc, dict) else []
    policy = links or LinkPolicy()
    if not isinstance(items, list):
        return (), (Problem(source, 1, "looks", f"expected a list of looks, got {type(items).__name__}"),)
    lines = _item_lines(text, len(items))
    looks: list[Look] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, (item, line) in enumerate(zip(items, lines, strict=True)):
        where = f"looks/{i}/"
        found = _look_from(item, source, line, where, policy)
        if isinstance(found, list):
            problems += found
            continue
        these = look_problems(found, products, source, line, where)
        if found.id in seen:
            these.append(Problem(source, line, f"{where}id", f"duplicate look id {found.id!r}"))
        seen.add(found.id)
        if these:
            problems += these
        else:
            looks.append(found)
    return tuple(looks), tuple(problems)


def _look_from(item: Any, source: str, line: int | None, where: str, policy: LinkPolicy) -> Look | list[Problem]:
    if not isinstance(item, dict):
        return [Problem(source, line, where.rstrip("/"), f"expected a look object, got {type(item).__name__}")]
    problems = [
        Problem(source, line, where + key, f"unknown field {key!r}, expected one of {', '.join(LOOK_KEYS)}")
        for key in item
        if key not in LOOK_KEYS
    ]
    for key in ("id", "title", "products"):
        if key not in item:
            problems.append(Problem(source, line, where + key, f"missing required field '{key}'"))
    if "link" in item and item["link"] is not None:
        try:
            policy.check(item["link"])
        except InputError as exc:
            problems.append(Problem(source, line, where + "link", str(exc)))
    if problems:
        return problems
    values = {
        "id": item["id"],
        "title": item["title"],
        "product_ids": item["products"],
        "description": item.get("description", ""),
        "link": item.get("link"),
        "image_link": item.get("image_link"),
    }
    _, bad = _checked(values)
    if bad:
        return [Problem(source, line, where + key, message) for key, message in bad]
    return Look(**values)


def _item_lines(text: str, count: int) -> list[int | None]:
    """Lines where the items of the top-level ``looks`` array start (None when they cannot be found)."""
    from arlens.catalog.feeds import _array_item_offsets, _key_offset  # one JSON scanner for the package

    offset = _key_offset(text, "looks")
    if offset is None or text[offset] != "[":
        return [None] * count
    offsets = _array_item_offsets(text, offset)
    return [text.count("\n", 0, o) + 1 for o in offsets] if len(offsets) == count else [None] * count
