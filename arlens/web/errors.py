"""Errors as JSON: every failure the service answers is ``{"error": CODE, "detail": MESSAGE}``, never a traceback.

What arlens raises maps to a status by type, in one table (:data:`STATUS`): an unknown product is 404
naming it, an image over the pixel limit 413, bytes that are not an image 415, any other bad input 400,
a product no lens draws 422, a full render queue 503 with ``Retry-After``, missing models or OpenGL 503.
Anything else is logged with its traceback on the server and answered as a bare 500 ``internal`` error.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from arlens.errors import ArlensError, AssetError, InputError, ModelError, RuntimeUnavailableError
from arlens.image import ImageTooLargeError
from arlens.session import ProductError, UnknownProductError
from arlens.web.pool import PoolBusy

logger = logging.getLogger(__name__)


class ApiError(StarletteHTTPException):
    """An HTTP error with a stable code, answered as ``{"error": code, "detail": detail}``."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers)
        self.code = code


class NotAnImageError(InputError):
    """Upload bytes that no image decoder reads (answered 415)."""


#: arlens error type -> (status, code); the first matching row wins, so subclasses come first.
STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    (UnknownProductError, 404, "unknown_product"),
    (ProductError, 422, "cannot_draw"),
    (ImageTooLargeError, 413, "image_too_large"),
    (NotAnImageError, 415, "not_an_image"),
    (InputError, 400, "bad_input"),
    (PoolBusy, 503, "busy"),
    (ModelError, 503, "unavailable"),
    (RuntimeUnavailableError, 503, "unavailable"),
    (AssetError, 503, "unavailable"),
    (ArlensError, 500, "internal"),
)


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def status_of(exc: BaseException) -> tuple[int, str]:
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ArlensError)
    async def arlens_error(request: Request, exc: ArlensError) -> JSONResponse:
        status, code = status_of(exc)
        if status >= 500:
            logger.error("%s %s failed: %s", request.method, request.url.path, _first_line(exc),
                         exc_info=status == 500)
        headers = {"Retry-After": "1"} if code == "busy" else None
        detail = _first_line(exc) if status != 500 else "internal error (logged on the server)"
        if isinstance(exc, ImageTooLargeError):
            detail = f"image: expected at most {exc.limit} pixels (width x height), got {exc.pixels}"
        return error_response(status, code, detail, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return error_response(422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal", "internal error (logged on the server)")
