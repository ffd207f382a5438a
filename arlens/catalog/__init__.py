"""Shoppable products: values, feed readers, buy links, JSON-LD, QR codes and lens bundles.

``Product``, ``Price`` and ``Catalog`` are the core; see :mod:`arlens.catalog.feeds` for the
feed formats and try-on columns, :mod:`arlens.catalog.links` for buy-link rules and UTM tags,
:mod:`arlens.catalog.jsonld` for schema.org markup. The QR renderer
(:mod:`arlens.catalog.qr`, numpy and segno) and lens bundles (:mod:`arlens.catalog.bundle`,
jsonschema) are imported only from their own modules, so reading a catalog stays light.
"""

from __future__ import annotations

from arlens.catalog.catalog import Catalog
from arlens.catalog.feeds import FeedFormat, RejectedRow
from arlens.catalog.links import LinkPolicy, UtmTags
from arlens.catalog.product import Availability, Finish, LensCoating, Price, Product, ProductKind

__all__ = [
    "Availability",
    "Catalog",
    "FeedFormat",
    "Finish",
    "LensCoating",
    "LinkPolicy",
    "Price",
    "Product",
    "ProductKind",
    "RejectedRow",
    "UtmTags",
]
