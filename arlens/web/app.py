"""The app factory: :func:`create_app` wires the routers, middleware and a lifespan that builds what is
expensive (render lanes with warm ONNX sessions, the event sink) once, at start-up, and closes it at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from arlens import __version__
from arlens.catalog import Catalog
from arlens.lenses.registry import LensRegistry, default_registry
from arlens.web import errors
from arlens.web.options import WebOptions
from arlens.web.pool import RenderPool, Trackers
from arlens.web.routes import pages, products, stream, tryon
from arlens.web.services import Services, default_products
from arlens.web.shares import ShareStore
from arlens.web.uploads import BodyLimit

logger = logging.getLogger(__name__)

DESCRIPTION = """AR virtual try-on with shoppable lenses.

* `GET /` is the mirror page (camera in the browser, frames over the `/ws` WebSocket); `GET /?product=ID`
  starts with that product on. `GET /s/{id}` is a shared snapshot's page.
* `POST /v1/try-on` draws products on a photo; `GET /v1/products` lists the catalog.

Errors are JSON `{"error": code, "detail": message}`. A photo without a face or hand to draw on is not an
error: 200 with `drawn: false` (or the header `X-Arlens-Drawn: false`).
"""


def create_app(
    options: WebOptions | None = None,
    *,
    catalog: Catalog | None = None,
    registry: LensRegistry | None = None,
    make_trackers: Callable[[], Trackers] | None = None,
) -> FastAPI:
    """The web service as an ASGI app (run it with uvicorn, or ``arlens serve``).

    Args:
        options: :class:`~arlens.web.options.WebOptions`.
        catalog: the products (default: the bundled demo catalog).
        registry: the lens registry (default: arlens' own lenses and installed plugins).
        make_trackers: builds a mirror page's trackers (default: a FaceTracker and a HandTracker).

    Raises:
        UnknownProductError, ProductError: a start product in ``options.products`` is unknown or cannot be drawn.
    """
    options = options or WebOptions()
    catalog = catalog if catalog is not None else Catalog.default()
    registry = registry if registry is not None else default_registry()
    start_products = default_products(catalog, registry, options.products)

    def make_still() -> Any:
        from arlens.session import TryOn

        return TryOn(catalog, options=app.state.services.session_options("still"), registry=registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sink = None
        if options.events is not None:
            from arlens.events import JsonlEventSink

            options.events.parent.mkdir(parents=True, exist_ok=True)
            sink = JsonlEventSink(options.events, fsync="interval")
        pool_kwargs = {"make_trackers": make_trackers} if make_trackers is not None else {}
        pool = RenderPool(options.workers, options.max_queue, make_still, **pool_kwargs)
        shares = ShareStore(options.share_dir, options.share_ttl_s, options.share_max)
        app.state.services = Services(options, catalog, registry, pool, shares, sink, start_products)
        sweeper = None
        try:
            await pool.start()
            logger.info("%d render workers ready; %d products", len(pool.lanes), len(catalog))
            sweeper = asyncio.create_task(_sweep(shares, min(600.0, options.share_ttl_s / 4)))
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
            await pool.close()
            if sink is not None:
                sink.close()

    app = FastAPI(title="arlens try-on", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=options.max_upload_bytes)
    if options.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(options.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["*"], expose_headers=["X-Arlens-Drawn", "X-Arlens-Faces", "X-Arlens-Hands"])
    for module in (products, tryon, stream, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("arlens.web", "static")]), name="static")
    return app


async def _sweep(shares: ShareStore, every_s: float) -> None:
    """Remove expired shares now and every ``every_s`` seconds."""
    while True:
        try:
            removed = await asyncio.to_thread(shares.sweep)
            if removed:
                logger.info("removed %d expired shares", removed)
        except Exception:
            logger.exception("sweeping expired shares failed")
        await asyncio.sleep(every_s)
