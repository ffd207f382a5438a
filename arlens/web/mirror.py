"""One mirror page's try-on: camera frames in, rendered mirrored frames out, and the page's controls.

A :class:`MirrorSession` wraps a :class:`~arlens.session.TryOn` session (one per page connection) and runs
on one render lane's thread only (:mod:`arlens.web.pool`); the WebSocket plumbing around it is in
:mod:`arlens.web.routes.stream`. It knows nothing of sockets: frames arrive as JPEG bytes with a small
header, controls as dicts, and what goes back is returned.

- **Mirror**: tracking runs on the camera's own, unmirrored frame (landmarks and head pose mean what the
  models were trained on); the rendered frame is flipped left-right for display, as the OpenCV kiosk does,
  and hotspot boxes are flipped with it. A still photo (the page's fallback without a camera) is drawn
  with :meth:`TryOn.process_image` and not flipped: it is a photo, not a mirror.
- **Controls** (the page's buttons and swipes): ``select``, ``step`` (next/previous of a kind),
  ``remove``, ``focus``, ``buy`` (the buy link and its QR code, emitting ``BuyLinkShown(via="qr")``),
  ``click`` (the shopper opened the link: ``via="click"``), ``snapshot`` (emits ``SnapshotTaken``).
  Each returns the replies to send; bad input becomes an ``error`` reply, never an exception.
- **Events** go to the session's sink (the service's JSONL file): shown, shade changes, dwell, buy links,
  snapshots; product IDs and times only, never an image or a landmark.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import cv2
import numpy as np

from arlens.catalog import Catalog
from arlens.errors import InputError
from arlens.lenses.registry import LensRegistry
from arlens.session import TryOn, TryOnOptions, TryOnResult, UnknownProductError
from arlens.web.codec import data_url, decode, encode
from arlens.web.pool import Lane

logger = logging.getLogger(__name__)

CONTROLS = ("select", "step", "remove", "focus", "buy", "click", "snapshot")


class MirrorSession:
    """See the module docstring. Build and use it on ``lane``'s thread; :meth:`close` gives the trackers back.

    Args:
        lane: the render lane it lives on (lends its trackers).
        catalog: the service's catalog.
        products: product IDs worn at start.
        event_sink: where events go (shared by every page), or None.
        options: the session's options (UTM tags of click links and hotspots, hands, ...).
        max_pixels: largest frame accepted.
        jpeg_quality: of the frames sent back.
        registry: the service's lens registry (default: arlens' own lenses and installed plugins).

    Raises:
        ProductError: a start product that is unknown or cannot be drawn.
    """

    def __init__(self, lane: Lane, catalog: Catalog, products: list[str], *, event_sink: Any,
                 options: TryOnOptions, max_pixels: int, jpeg_quality: int,
                 registry: LensRegistry | None = None) -> None:
        self._lane = lane
        self._max_pixels = max_pixels
        self._quality = jpeg_quality
        self._trackers = lane.borrow_trackers()
        try:
            self.session = TryOn(catalog, products, options=options,
                                 event_sink=event_sink, face_tracker=self._trackers.face,
                                 hand_tracker=self._trackers.hand, registry=registry)
        except BaseException:
            lane.give_back(self._trackers)
            raise
        self._last: tuple[np.ndarray, TryOnResult] | None = None  # what the page shows now
        self._photo: np.ndarray | None = None  # the still photo in photo mode
        self._last_ts = 0.0
        self.snapshot_jpeg: tuple[bytes, tuple[str, ...], int, int] | None = None
        self.frames = 0

    # -- frames -----------------------------------------------------------------------------------
    def frame(self, header: dict[str, Any], jpeg: bytes) -> tuple[dict[str, Any], bytes]:
        """Render one camera frame (or a still photo when ``header["photo"]``); returns (meta, JPEG).

        Raises:
            InputError: the bytes are not an image, or it is larger than ``max_pixels``.
        """
        image = decode(jpeg, name="frame", max_pixels=self._max_pixels)
        if header.get("photo"):
            self._photo = image
            meta, out = self._render_photo()
        else:
            self._photo = None
            t = header.get("t")
            ts = float(t) if isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t) else 0.0
            ts = max(ts, self._last_ts + 1.0)  # the session wants increasing stream times
            self._last_ts = ts
            result = self.session.process(image, ts)
            out = cv2.flip(result.frame, 1)
            self._last = (out, result)
            meta = self._meta(result, out, mirrored=True)
        self.frames += 1
        meta["seq"] = header.get("seq")
        return meta, encode(out, "jpeg", self._quality)

    def rerender(self) -> tuple[dict[str, Any], bytes] | None:
        """In photo mode, the photo drawn again with the current products (after a control); else None."""
        if self._photo is None:
            return None
        meta, out = self._render_photo()
        meta["seq"] = None
        return meta, encode(out, "jpeg", self._quality)

    def _render_photo(self) -> tuple[dict[str, Any], np.ndarray]:
        assert self._photo is not None
        result = self.session.process_image(self._photo)
        self._last = (result.frame, result)
        return self._meta(result, result.frame, mirrored=False), result.frame

    def _meta(self, result: TryOnResult, out: np.ndarray, mirrored: bool) -> dict[str, Any]:
        w = out.shape[1]
        spots = []
        for h in result.hotspots:
            x0, y0, x1, y1 = (float(v) for v in h.bbox)
            if mirrored:
                x0, x1 = w - x1, w - x0
            spots.append({"product": h.product_id, "kind": h.kind, "bbox": [round(x0, 1), round(y0, 1),
                                                                              round(x1, 1), round(y1, 1)]})
        return {"type": "frame", "width": int(w), "height": int(out.shape[0]), "faces": len(result.faces),
                "hands": len(result.hands), "hotspots": spots, "mirrored": mirrored,
                "ms": {k: round(v, 1) for k, v in result.timings.items()}}

    # -- controls ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """What is worn, per kind, and which kind the arrows change."""
        focus = self.session.focus
        return {"type": "state", "worn": {p.kind.value: p.id for p in self.session.products if p.kind is not None},
                "focus": focus.value if focus is not None else None}

    def control(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        """Apply one control message; returns the replies (an ``error`` reply for bad input)."""
        kind = msg.get("type")
        try:
            if kind == "select":
                self.session.select(_text(msg, "product"))
            elif kind == "step":
                by = msg.get("by", 1)
                k = msg.get("kind") or None
                (self.session.previous if by == -1 else self.session.next)(k)
            elif kind == "remove":
                self.session.remove(_text(msg, "kind"))
            elif kind == "focus":
                k = _text(msg, "kind")
                current = self.session.current(k)
                self.session.select(current) if current is not None else self.session.next(k)
            elif kind == "buy":
                return [self._buy(msg.get("product"))]
            elif kind == "click":
                self.session.show_buy_link(msg.get("product") or None, via="click")
                return []
            elif kind == "snapshot":
                return [self._snapshot()]
            else:
                raise InputError(f"control: expected a type among {', '.join(CONTROLS)}, got {kind!r}")
        except UnknownProductError:
            return [{"type": "error", "message": f"unknown product {msg.get('product')!r}: not in the catalog"}]
        except InputError as exc:
            return [{"type": "error", "message": str(exc).splitlines()[0]}]
        return [self.state()]

    def _buy(self, product_id: Any) -> dict[str, Any]:
        from arlens.catalog.qr import qr_image

        pid = product_id if isinstance(product_id, str) and product_id else None
        product = self.session.product(pid) if pid else (
            self.session.current(self.session.focus) if self.session.focus is not None else None)
        if product is None:
            raise InputError("buy: expected a product (none is worn)")
        link = self.session.show_buy_link(product, via="qr")
        qr = qr_image(link, module_px=8)
        return {"type": "buy", "product": product.id, "title": product.title, "price": str(product.current_price),
                "link": link, "click_link": product.buy_link(self.session.options.utm),
                "qr": data_url(encode(qr, "png"), "png")}

    def _snapshot(self) -> dict[str, Any]:
        if self._last is None:
            raise InputError("snapshot: no frame has been shown yet")
        out, result = self._last
        shown = TryOnResult(out, result.faces, result.hands, result.hotspots)
        snap = self.session.snapshot(shown)
        jpeg = encode(snap.frame, "jpeg", 92)
        ids = tuple(p.id for p in snap.products)
        self.snapshot_jpeg = (jpeg, ids, int(out.shape[1]), int(out.shape[0]))
        return {"type": "snapshot", "image": data_url(jpeg, "jpeg"),
                "products": [{"id": p.id, "title": p.title, "price": str(p.current_price)} for p in snap.products]}

    def close(self) -> None:
        """Close the session (its pending events go to the sink) and give the trackers back to the lane."""
        try:
            self.session.close()
        finally:
            self._lane.give_back(self._trackers)


def _text(msg: dict[str, Any], key: str) -> str:
    value = msg.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"{msg.get('type')}: expected {key!r} as a non-empty string, got {value!r}")
    return value
