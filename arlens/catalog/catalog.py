"""The product catalog: products in feed order, looked up by ID, filtered by kind."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import TypeVar

from arlens.catalog.feeds import FeedFormat, RejectedRow, read_feed
from arlens.catalog.links import LinkPolicy
from arlens.catalog.looks import Look, look_problems
from arlens.catalog.product import Availability, Finish, Product, ProductKind
from arlens.errors import CatalogError, InputError, Problem
from arlens.resources import assets_dir

logger = logging.getLogger(__name__)

DEFAULT_CATALOG = "catalog.json"

_E = TypeVar("_E", bound=Enum)


def _enum_value(enum: type[_E], value: object, name: str) -> _E:
    """``enum(value)``, or InputError listing the values (and the closest one to a typo)."""
    try:
        return enum(value)
    except ValueError:
        names = [str(m.value) for m in enum]
        close = difflib.get_close_matches(str(value).lower(), names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"{name}: expected one of {', '.join(names)}, got {value!r}{hint}") from None
"""File name of the bundled demo catalog inside :func:`arlens.resources.assets_dir`."""


class Catalog:
    """An ordered, read-only set of products with unique IDs.

    Build one with :meth:`load` (a feed file), :meth:`default` (the bundled demo brand) or from
    products directly. Iteration yields products in feed order.

    Attributes:
        source: the feed path, or ``None`` for a catalog built in code.
        format: the feed format it was read from, or ``None``.
        rejected: rows a ``strict=False`` load left out, each with its problems.
        warnings: what the feed probably meant but lost (an unknown column named like one arlens reads,
            e.g. ``colour``: its values are ignored), each a located problem; also logged by :meth:`load`.
        base_dir: the folder relative model paths are resolved against (the feed's folder; for a
            catalog built in code without one, the packaged assets folder).
        looks: named sets of the catalog's products worn together (:class:`~arlens.catalog.looks.Look`).
    """

    __slots__ = ("_by_id", "_looks", "_products", "base_dir", "format", "rejected", "source", "warnings")

    def __init__(
        self,
        products: Iterable[Product],
        *,
        source: str | None = None,
        format: FeedFormat | None = None,
        rejected: Iterable[RejectedRow] = (),
        base_dir: str | Path | None = None,
        looks: Iterable[Look] = (),
        warnings: Iterable[Problem] = (),
    ) -> None:
        """Hold ``products`` (and ``looks`` of them) in the given order.

        Raises:
            CatalogError: two products share an ID, an item is not a :class:`Product`, or a look is not
                a :class:`Look` of these products (one per kind, IDs unique among products and looks).
        """
        self._products = tuple(products)
        self._by_id: dict[str, Product] = {}
        problems = []
        for i, product in enumerate(self._products):
            if not isinstance(product, Product):
                problems.append(Problem(source or "<products>", None, None, f"item {i}: expected a Product"))
            elif product.id in self._by_id:
                problems.append(Problem(source or "<products>", None, "id", f"duplicate id {product.id!r}"))
            else:
                self._by_id[product.id] = product
        self._looks: dict[str, Look] = {}
        for i, look in enumerate(looks):
            where = f"looks/{i}/"
            if not isinstance(look, Look):
                problems.append(Problem(source or "<looks>", None, where.rstrip("/"), "expected a Look"))
                continue
            if look.id in self._looks:
                problems.append(Problem(source or "<looks>", None, f"{where}id", f"duplicate look id {look.id!r}"))
            problems += look_problems(look, self._by_id, source or "<looks>", None, where)
            self._looks[look.id] = look
        if problems:
            raise CatalogError("invalid catalog", problems)
        self.source = source
        self.format = format
        self.rejected: tuple[RejectedRow, ...] = tuple(rejected)
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        self.base_dir = Path(base_dir) if base_dir is not None else None

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        strict: bool = True,
        format: FeedFormat | str | None = None,
        links: LinkPolicy | None = None,
    ) -> Catalog:
        """Read a Meta, Google Merchant Center or arlens JSON feed (see :mod:`arlens.catalog.feeds`).

        Args:
            path: the feed file.
            strict: raise on any bad row; with ``False`` load the good rows and keep the bad
                ones, with their reasons, in :attr:`rejected`.
            format: force a feed format instead of detecting it.
            links: the buy-link policy (default: https only, any domain).

        Raises:
            CatalogError: with ``strict``, one error listing every problem of every row (file,
                line, column, message); in any mode, problems that stop the whole file.
        """
        feed = read_feed(path, format=format, links=links)
        if strict and feed.problems:
            raise CatalogError(f"invalid catalog {feed.source}", feed.problems)
        for warning in feed.warnings:
            logger.warning("%s", warning)
        return cls(
            feed.products,
            source=feed.source,
            format=feed.format,
            rejected=feed.rejected,
            base_dir=Path(path).resolve().parent,
            looks=feed.looks,
            warnings=feed.warnings,
        )

    @classmethod
    def default(cls) -> Catalog:
        """The bundled demo catalog: a fictional brand's make-up line, looks, eyewear frames and nail colours."""
        return cls.load(assets_dir() / DEFAULT_CATALOG)

    def __len__(self) -> int:
        return len(self._products)

    def __iter__(self) -> Iterator[Product]:
        return iter(self._products)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._by_id

    def __getitem__(self, product_id: str) -> Product:
        """The product with this ID.

        Raises:
            KeyError: no product has this ID.
        """
        try:
            return self._by_id[product_id]
        except KeyError:
            raise KeyError(f"no product with id {product_id!r} in catalog {self.source or ''}".rstrip()) from None

    def __repr__(self) -> str:
        return f"Catalog({len(self)} products, source={self.source!r})"

    def get(self, product_id: str, default: Product | None = None) -> Product | None:
        """The product with this ID, or ``default``."""
        return self._by_id.get(product_id, default)

    @property
    def ids(self) -> tuple[str, ...]:
        """Product IDs in catalog order."""
        return tuple(self._by_id)

    def similar_ids(self, product_id: str, n: int = 3) -> list[str]:
        """Up to ``n`` catalog IDs close to ``product_id``, for a "did you mean" hint: those that differ from
        it only in case first, then the closest spellings ignoring case (:func:`difflib.get_close_matches`)."""
        key = str(product_id).casefold()
        same_case = [i for i in self._by_id if i.casefold() == key]
        by_folded = {i.casefold(): i for i in self._by_id}
        close = [by_folded[c] for c in difflib.get_close_matches(key, list(by_folded), n=n, cutoff=0.6)]
        return list(dict.fromkeys(same_case + close))[:n]

    def unknown_id_hint(self, product_id: str) -> str:
        """`` (did you mean A, B?)`` naming :meth:`similar_ids`, or an empty string when nothing is close."""
        close = self.similar_ids(product_id)
        return f" (did you mean {', '.join(close)}?)" if close else ""

    @property
    def looks(self) -> tuple[Look, ...]:
        """The catalog's looks, in feed order."""
        return tuple(self._looks.values())

    def look(self, look_id: str) -> Look:
        """The look with this ID.

        Raises:
            KeyError: no look has this ID.
        """
        try:
            return self._looks[look_id]
        except KeyError:
            raise KeyError(f"no look with id {look_id!r} in catalog {self.source or ''}".rstrip()) from None

    def filter(
        self,
        *,
        kind: ProductKind | str | None = None,
        finish: Finish | str | None = None,
        brand: str | None = None,
        item_group_id: str | None = None,
        in_stock: bool | None = None,
    ) -> Catalog:
        """A catalog of the products matching every given criterion, in the same order (with the looks
        whose products all match).

        Raises:
            InputError: ``kind`` or ``finish`` is not a known value (the message lists the known ones and the
                closest; an ``InputError`` is also a ``ValueError``).
        """
        kind = _enum_value(ProductKind, kind, "kind") if kind is not None else None
        finish = _enum_value(Finish, finish, "finish") if finish is not None else None

        def keep(p: Product) -> bool:
            return (
                (kind is None or p.kind is kind)
                and (finish is None or p.finish is finish)
                and (brand is None or p.brand == brand)
                and (item_group_id is None or p.item_group_id == item_group_id)
                and (in_stock is None or (p.availability is Availability.IN_STOCK) == in_stock)
            )

        kept = [p for p in self._products if keep(p)]
        ids = {p.id for p in kept}
        looks = [look for look in self._looks.values() if ids.issuperset(look.product_ids)]
        return Catalog(kept, source=self.source, format=self.format, base_dir=self.base_dir, looks=looks)

    def model_path(self, product: Product | str) -> Path | None:
        """Where a product's eyewear model file is: its ``model`` resolved against :attr:`base_dir`.

        Returns ``None`` for products without a model. The file is not opened; whether it exists
        is for the renderer to check.
        """
        if isinstance(product, str):
            product = self[product]
        if product.model is None:
            return None
        base = self.base_dir if self.base_dir is not None else assets_dir()
        return base / product.model
