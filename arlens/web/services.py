"""What the service builds once at start-up and every route shares, and the dependency that hands it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from arlens.catalog import Catalog, Product, UtmTags
from arlens.errors import InputError
from arlens.lenses.registry import LensRegistry
from arlens.session import ProductError, TryOnOptions, UnknownProductError
from arlens.web.options import WebOptions
from arlens.web.pool import RenderPool
from arlens.web.shares import ShareStore


@dataclass
class Services:
    """The service's shared resources (built in the app's lifespan).

    Attributes:
        options: the service's settings.
        catalog: products served.
        registry: which kinds can be drawn, and how.
        pool: the render lanes.
        shares: shared snapshots.
        sink: the try-on event sink (JSONL), or None.
        default_products: what a new mirror page wears.
        streams: mirror pages connected now.
    """

    options: WebOptions
    catalog: Catalog
    registry: LensRegistry
    pool: RenderPool
    shares: ShareStore
    sink: Any
    default_products: tuple[str, ...]
    streams: int = field(default=0)

    def product(self, product_id: str) -> Product:
        """The catalog's product, drawable or not.

        Raises:
            UnknownProductError: not in the catalog (the message names it).
        """
        product = self.catalog.get(product_id)
        if product is None:
            raise UnknownProductError(
                f"unknown product {product_id!r}: not in the catalog{self.catalog.unknown_id_hint(product_id)}")
        return product

    def wearable(self, ids: list[str]) -> list[Product]:
        """The products of ``ids``, each one a lens can draw, at most one per kind.

        Raises:
            UnknownProductError: an ID not in the catalog.
            ProductError: a product of a kind no lens draws.
            InputError: no ID, or two products of one kind.
        """
        if not ids:
            raise InputError("products: expected at least one product ID")
        chosen: dict[str, Product] = {}
        for pid in dict.fromkeys(ids):
            product = self.product(pid)
            if product.kind is None or product.kind not in self.registry:
                what = product.kind.value if product.kind else "no kind"
                raise ProductError(f"product {pid!r} ({what}): expected a kind arlens can draw "
                                   f"({', '.join(self.registry.kinds())})")
            if product.kind.value in chosen:
                raise InputError(f"products: {chosen[product.kind.value].id!r} and {pid!r} are both "
                                 f"{product.kind.value}; expected at most one product per kind")
            chosen[product.kind.value] = product
        return list(chosen.values())

    def session_options(self, kind: str) -> TryOnOptions:
        """Options of a mirror page's session (``"stream"``) or a render lane's still session (``"still"``)."""
        if kind == "stream":  # touch controls, no gestures; events off the frame path
            return TryOnOptions(gestures=False, hands=self.options.hands, utm=self.options.utm)
        return TryOnOptions(event_delivery="inline", hands=self.options.hands, utm=self.options.utm)

    def tags(self, medium: str) -> UtmTags:
        """The service's UTM tags on another medium (``qr``, ``share``)."""
        utm = self.options.utm
        return UtmTags(source=utm.source, medium=medium, campaign=utm.campaign,
                       content_is_product_id=utm.content_is_product_id, override=utm.override, extra=utm.extra)

    def base_url(self, conn: HTTPConnection) -> str:
        """The service's public address: ``public_url``, or the scheme and host the request came to."""
        if self.options.public_url:
            return self.options.public_url
        parts = urlsplit(str(conn.base_url))
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        return f"{scheme}://{parts.netloc}"

    def origin_allowed(self, conn: HTTPConnection) -> bool:
        """Whether a browser page on the request's ``Origin`` may use this socket (same host, or a CORS origin)."""
        origin = conn.headers.get("origin")
        if origin is None:
            return True  # not a browser page: an app or a test client
        allowed = self.options.cors_origins
        if "*" in allowed or origin.rstrip("/") in allowed:
            return True
        return urlsplit(origin).netloc == conn.headers.get("host")


def default_products(catalog: Catalog, registry: LensRegistry, ids: tuple[str, ...]) -> tuple[str, ...]:
    """The products a new page wears: ``ids`` checked, or the catalog's first product drawn on a face.

    Raises:
        UnknownProductError, ProductError: a given ID that is unknown or cannot be drawn.
        InputError: the catalog has nothing a lens can draw.
    """
    if ids:
        for pid in ids:
            product = catalog.get(pid)
            if product is None:
                where = f"catalog {catalog.source}" if catalog.source else "the catalog"
                raise UnknownProductError(f"unknown product {pid!r}: not in {where}{catalog.unknown_id_hint(pid)}")
            if product.kind is None or product.kind not in registry:
                raise ProductError(f"product {pid!r}: expected a kind arlens can draw ({', '.join(registry.kinds())})")
        return ids
    face_kinds = registry.kinds("face")
    first = next((p for p in catalog if p.kind is not None and p.kind.value in face_kinds), None)
    if first is None:
        first = next((p for p in catalog if p.kind is not None and p.kind in registry), None)
    if first is None:
        raise InputError(f"catalog {catalog.source or ''}: expected at least one product arlens can draw")
    return (first.id,)


def services(conn: HTTPConnection) -> Services:
    """FastAPI dependency: the running service's :class:`Services`."""
    return conn.app.state.services
