"""Upload size limit, enforced while the body streams in.

FastAPI parses a multipart body completely (spooling it to disk) before a route runs, so a limit checked
in the route would come after a 10 GB upload had been read. :class:`BodyLimit` is a plain ASGI middleware
that answers 413 at once when ``Content-Length`` is over the limit, and otherwise counts the bytes as they
arrive and stops the request with 413 as soon as they pass it (chunked uploads without a length included).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arlens.web.errors import ApiError, error_response


def too_large(limit: int, got: str) -> ApiError:
    return ApiError(413, "upload_too_large", f"upload: expected at most {limit} bytes, got {got}")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared > self.max_bytes:
                await self._refuse(scope, receive, send, too_large(self.max_bytes, f"{declared} (Content-Length)"))
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large(self.max_bytes, f"more ({received} bytes so far)")
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except ApiError as exc:  # raised outside a route (nothing else answered it)
            if started or exc.status_code != 413:
                raise
            await self._refuse(scope, receive, send, exc)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: ApiError) -> None:
        response = error_response(exc.status_code, exc.code, str(exc.detail), {"Connection": "close"})
        await response(scope, receive, send)

