"""Settings of the web service (``arlens serve``), validated once when they are built.

Kept free of FastAPI so the CLI can check its arguments before the web stack is imported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from arlens.catalog import UtmTags
from arlens.errors import InputError

MB = 1024 * 1024


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class WebOptions:
    """How the web service runs.

    Attributes:
        products: product IDs a new mirror page wears at start (``?product=ID`` overrides them per page);
            empty: the catalog's first product of the first kind drawn on a face.
        workers: render threads (each keeps its own warm ONNX sessions and lenses); requests beyond them wait.
        max_queue: renders that may wait for a free worker before an API request is refused with 503.
        max_streams: mirror pages served at once; one more is told the server is busy and retries.
        max_upload_bytes: largest request body of an upload (413 beyond).
        max_pixels: largest image (width x height, read from its header before decoding) the API and the
            mirror accept (413 / an error message beyond).
        max_frame_bytes: largest WebSocket message of the mirror page (a JPEG frame with its header).
        jpeg_quality: quality of the JPEG frames sent back to the page (1-100).
        share_dir: folder where shared snapshots are stored (only when a shopper asks to share one).
        share_ttl_s: how long a shared snapshot lives before it is deleted.
        share_max: most shared snapshots kept; the oldest go first.
        cors_origins: origins allowed to call the API from a browser (CORS); empty (the default) is off.
        public_url: the service's address as shoppers reach it (``https://try.shop.example``), for share
            links and OpenGraph URLs; None takes it from each request's Host.
        events: a JSON Lines file the mirror pages' try-on events are appended to, or None for none.
        utm: UTM tags of the buy links the service hands out (QR codes use ``utm_medium=qr``, share pages
            ``utm_medium=share``).
        stream_idle_s: a mirror connection that sends nothing for this long is closed (the page reconnects).
        hands: track hands: None (default) when the session needs them (nail polish, and the lipstick's
            hand occlusion: a hand over the mouth is not painted), False never (about twice the frame rate on
            two cores with lipstick on; nail polish is then not drawn and a hand over the mouth gets
            painted), True always. As :class:`~arlens.session.TryOnOptions`.
    """

    products: tuple[str, ...] = ()
    workers: int = field(default_factory=_default_workers)
    max_queue: int = 32
    max_streams: int = 8
    max_upload_bytes: int = 20 * MB
    max_pixels: int = 40_000_000
    max_frame_bytes: int = 4 * MB
    jpeg_quality: int = 80
    share_dir: Path = Path("arlens-shares")
    share_ttl_s: float = 24 * 3600.0
    share_max: int = 1000
    cors_origins: tuple[str, ...] = ()
    public_url: str | None = None
    events: Path | None = None
    utm: UtmTags = field(default_factory=UtmTags)
    stream_idle_s: float = 120.0
    hands: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "products", tuple(self.products))
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        object.__setattr__(self, "share_dir", Path(self.share_dir))
        if self.events is not None:
            object.__setattr__(self, "events", Path(self.events))
        for name in ("workers", "max_queue", "max_streams", "max_upload_bytes", "max_pixels", "max_frame_bytes",
                     "share_max"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"WebOptions.{name}: expected an int >= 1, got {v!r}")
        if isinstance(self.jpeg_quality, bool) or not isinstance(self.jpeg_quality, int) or \
                not 1 <= self.jpeg_quality <= 100:
            raise InputError(f"WebOptions.jpeg_quality: expected an int in [1, 100], got {self.jpeg_quality!r}")
        for name in ("share_ttl_s", "stream_idle_s"):
            if not float(getattr(self, name)) > 0:
                raise InputError(f"WebOptions.{name}: expected > 0, got {getattr(self, name)!r}")
        for origin in self.cors_origins:
            if origin != "*" and not (isinstance(origin, str) and origin.startswith(("http://", "https://"))
                                      and origin.count("/") == 2):
                raise InputError(f"WebOptions.cors_origins: expected origins like 'https://shop.example' (scheme "
                                 f"and host, no path) or '*', got {origin!r}")
        if self.public_url is not None:
            url = self.public_url.rstrip("/")
            if not url.startswith(("http://", "https://")) or " " in url:
                raise InputError(f"WebOptions.public_url: expected an http(s) URL, got {self.public_url!r}")
            object.__setattr__(self, "public_url", url)
        if self.hands not in (None, True, False):
            raise InputError(f"WebOptions.hands: expected True, False or None, got {self.hands!r}")
        if not isinstance(self.utm, UtmTags):
            raise InputError(f"WebOptions.utm: expected UtmTags, got {type(self.utm).__name__}")
