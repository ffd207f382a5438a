"""``/ws``: the mirror page's WebSocket. Camera frames in, rendered mirrored frames out, newest frame wins.

Protocol (one connection = one :class:`~arlens.web.mirror.MirrorSession` = one ``TryOn`` session):

- **Binary messages, both ways**: a little-endian ``uint32`` header length, a UTF-8 JSON header, then JPEG
  bytes. From the page the header is ``{"seq": n, "t": capture_ms, "photo": false}`` (``photo: true`` for the
  uploaded-photo fallback); back it is ``{"type": "frame", "seq": n, "width", "height", "faces", "hands",
  "hotspots": [{"product", "kind", "bbox"}], "mirrored", "ms": {...}}`` with the rendered frame. A reply
  answers the frame ``seq`` and every earlier one still unanswered (those were dropped).
- **Text messages** are JSON controls from the page (``select``, ``step``, ``remove``, ``focus``, ``buy``,
  ``click``, ``snapshot``, ``share``, ``ping``) and replies to it (``hello``, ``state``, ``buy``,
  ``snapshot``, ``shared``, ``error``, ``busy``, ``pong``).
- **Newest frame wins**: a slot of one frame waits for the renderer; a frame arriving while one waits
  replaces it. A slot of one rendered frame waits for the socket; a slow page gets the newest frame when
  it can take one, never a backlog. Controls are never dropped (a small queue) and run between frames on
  the session's render lane, so the session is only ever used from its lane's thread.
- Limits: at most ``max_streams`` pages (one more gets ``busy`` and close code 1013, and retries), messages
  up to ``max_frame_bytes``, frames up to ``max_pixels``; a page that sends nothing for ``stream_idle_s``
  is closed (4000). A page from another origin is refused (1008) unless it is a configured CORS origin.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import struct
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from arlens.errors import ArlensError, InputError
from arlens.session import ProductError
from arlens.web.codec import data_url, encode
from arlens.web.mirror import MirrorSession
from arlens.web.pool import Lane
from arlens.web.services import Services, services

logger = logging.getLogger(__name__)

router = APIRouter(tags=["mirror"])

HEADER = struct.Struct("<I")
MAX_HEADER = 4096
CLOSE_BUSY = 1013
CLOSE_POLICY = 1008
CLOSE_IDLE = 4000


def pack(meta: dict[str, Any], jpeg: bytes) -> bytes:
    """A binary message: header length, JSON header, JPEG."""
    head = json.dumps(meta, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(head)) + head + jpeg


def unpack(message: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON header and JPEG bytes of a binary message.

    Raises:
        InputError: too short, a header length past the message, or a header that is not a JSON object.
    """
    if len(message) < HEADER.size:
        raise InputError(f"frame: expected a {HEADER.size}-byte header length first, got {len(message)} bytes")
    (n,) = HEADER.unpack_from(message)
    if n > MAX_HEADER or HEADER.size + n > len(message):
        raise InputError(f"frame: header length {n} does not fit the {len(message)}-byte message")
    try:
        header = json.loads(message[HEADER.size:HEADER.size + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("frame: expected a JSON header") from None
    if not isinstance(header, dict):
        raise InputError(f"frame: expected a JSON object header, got {type(header).__name__}")
    return header, message[HEADER.size + n:]


async def _ended(tasks: list[asyncio.Task[None]]) -> None:
    """Wait until the cancelled ``tasks`` have ended; a cancellation of this task meanwhile is re-raised after.

    Not ``asyncio.gather``: an anyio cancel scope around the app (the test client's; any anyio task group a
    server or middleware runs it in) cancels this task again on every loop turn until it ends, and a gather
    cancelled while a child is still ending raises that child's bare ``CancelledError`` instead. The scope
    swallows only a cancellation it recognises by its message, so when the page had just left (no cancellation
    of ours already being handled) the bare one escaped the app as an error: the test client's ``__exit__``
    raised it, a flaky test under load. Here this task's own cancellation, message and all, propagates.
    """
    cancelled: asyncio.CancelledError | None = None
    while not all(task.done() for task in tasks):
        try:
            await asyncio.wait(tasks)
        except asyncio.CancelledError as exc:
            cancelled = cancelled or exc
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: how a task failed while stopping is not worth a warning
    if cancelled is not None:
        raise cancelled


class Pump:
    """The three tasks of one connection: read into slots, render on the lane, write the newest out."""

    def __init__(self, ws: WebSocket, session: MirrorSession, lane: Lane, svc: Services) -> None:
        self.ws = ws
        self.session = session
        self.lane = lane
        self.svc = svc
        self.frame_in: tuple[dict[str, Any], bytes] | None = None
        self.controls: collections.deque[dict[str, Any]] = collections.deque()
        self.frame_out: bytes | None = None
        self.text_out: collections.deque[dict[str, Any]] = collections.deque(maxlen=64)
        self.work = asyncio.Event()
        self.out = asyncio.Event()
        self.dropped_in = 0
        self.dropped_out = 0
        self.errors = 0

    def say(self, message: dict[str, Any]) -> None:
        self.text_out.append(message)
        self.out.set()

    async def run(self) -> None:
        tasks = [asyncio.create_task(c) for c in (self.reader(), self.worker(), self.writer())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None and not isinstance(task.exception(), WebSocketDisconnect):
                    logger.warning("mirror connection ended by %r", task.exception())
        finally:
            for task in tasks:
                task.cancel()
            await _ended(tasks)

    async def reader(self) -> None:
        limit = self.svc.options.max_frame_bytes
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), timeout=self.svc.options.stream_idle_s)
            except TimeoutError:
                await self.ws.close(code=CLOSE_IDLE, reason="idle")
                return
            if message["type"] == "websocket.disconnect":
                return
            data, text = message.get("bytes"), message.get("text")
            if data is not None:
                if len(data) > limit:
                    self.say({"type": "error", "message": f"frame: expected at most {limit} bytes, got {len(data)}"})
                    continue
                try:
                    header, jpeg = unpack(data)
                except InputError as exc:
                    self.say({"type": "error", "message": str(exc)})
                    continue
                if self.frame_in is not None:
                    self.dropped_in += 1
                self.frame_in = (header, jpeg)
                self.work.set()
            elif text is not None:
                try:
                    control = json.loads(text)
                except json.JSONDecodeError:
                    control = None
                if not isinstance(control, dict):
                    self.say({"type": "error", "message": "control: expected a JSON object"})
                elif control.get("type") == "ping":
                    self.say({"type": "pong", "t": control.get("t")})
                elif len(self.controls) >= 32:
                    self.say({"type": "error", "message": "control: too many at once; wait for the replies"})
                else:
                    self.controls.append(control)
                    self.work.set()

    async def worker(self) -> None:
        while True:
            await self.work.wait()
            self.work.clear()
            while self.controls:
                await self._control(self.controls.popleft())
            if self.frame_in is not None:
                header, jpeg = self.frame_in
                self.frame_in = None
                t0 = time.perf_counter()
                try:
                    meta, out = await self.lane.run(self.session.frame, header, jpeg)
                except ArlensError as exc:
                    self.say({"type": "error", "seq": header.get("seq"), "message": str(exc).splitlines()[0]})
                    continue
                except Exception:
                    self._unexpected("frame")
                    continue
                meta["server_ms"] = round((time.perf_counter() - t0) * 1000, 1)
                self._frame_out(pack(meta, out))

    def _frame_out(self, message: bytes) -> None:
        if self.frame_out is not None:
            self.dropped_out += 1
        self.frame_out = message
        self.out.set()

    def _unexpected(self, what: str) -> None:
        self.errors += 1
        if self.errors <= 3 or self.errors % 100 == 0:
            logger.exception("mirror %s failed (%d so far); going on", what, self.errors)
        self.say({"type": "error", "message": f"{what}: internal error (logged on the server)"})

    async def _control(self, control: dict[str, Any]) -> None:
        try:
            if control.get("type") == "share":
                await self._share()
                return
            for reply in await self.lane.run(self.session.control, control):
                self.say(reply)
            if control.get("type") in ("select", "step", "remove", "focus"):
                again = await self.lane.run(self.session.rerender)
                if again is not None:
                    self._frame_out(pack(*again))
        except ArlensError as exc:
            self.say({"type": "error", "message": str(exc).splitlines()[0]})
        except Exception:
            self._unexpected(f"control {control.get('type')!r}")

    async def _share(self) -> None:
        from arlens.catalog.qr import qr_image

        shot = self.session.snapshot_jpeg
        if shot is None:
            raise InputError("share: take a snapshot first")
        jpeg, ids, w, h = shot
        try:
            share = await asyncio.to_thread(self.svc.shares.put, jpeg, ids, w, h, self.session.session.session_id)
        except OSError as exc:
            logger.error("cannot store a shared snapshot in %s: %s", self.svc.shares.folder, exc)
            raise InputError("share: the snapshot could not be stored") from None
        url = f"{self.svc.base_url(self.ws)}/s/{share.id}"
        qr = await asyncio.to_thread(lambda: data_url(encode(qr_image(url, module_px=6), "png"), "png"))
        self.say({"type": "shared", "id": share.id, "url": url, "path": f"/s/{share.id}", "qr": qr,
                  "expires": share.expires})

    async def writer(self) -> None:
        while True:
            await self.out.wait()
            self.out.clear()
            while self.text_out:
                await self.ws.send_text(json.dumps(self.text_out.popleft(), separators=(",", ":")))
            if self.frame_out is not None:
                message, self.frame_out = self.frame_out, None
                await self.ws.send_bytes(message)


def _requested(ws: WebSocket) -> list[str]:
    ids = []
    for value in ws.query_params.getlist("product"):
        ids += [p.strip() for p in value.split(",") if p.strip()]
    return ids


@router.websocket("/ws")
async def mirror_socket(ws: WebSocket, svc: Annotated[Services, Depends(services)]) -> None:
    """The mirror page's socket (see the module docstring); ``?product=ID`` picks the start products."""
    if not svc.origin_allowed(ws):
        await ws.close(code=CLOSE_POLICY, reason="origin not allowed")
        return
    await ws.accept()
    if svc.streams >= svc.options.max_streams:
        await ws.send_text(json.dumps({"type": "busy", "message": f"all {svc.options.max_streams} mirrors are "
                                       "in use; retrying"}))
        await ws.close(code=CLOSE_BUSY, reason="busy")
        return
    svc.streams += 1
    lane = svc.pool.lane_for_stream()
    lane.streams += 1
    session: MirrorSession | None = None
    try:
        notices = []
        requested = _requested(ws)
        products = list(svc.default_products)
        if requested:
            try:
                products = [p.id for p in svc.wearable(requested)]
            except ArlensError as exc:
                notices.append({"type": "error", "message": str(exc).splitlines()[0]})
        kwargs = {"event_sink": svc.sink, "options": svc.session_options("stream"),
                  "max_pixels": svc.options.max_pixels,
                  "jpeg_quality": svc.options.jpeg_quality, "registry": svc.registry}
        try:
            session = await lane.run(MirrorSession, lane, svc.catalog, products, **kwargs)
        except ProductError as exc:  # a default product the registry no longer draws
            notices.append({"type": "error", "message": str(exc).splitlines()[0]})
            session = await lane.run(MirrorSession, lane, svc.catalog, [], **kwargs)
        pump = Pump(ws, session, lane, svc)
        pump.say({"type": "hello", "session": session.session.session_id,
                  "max_frame_bytes": svc.options.max_frame_bytes, "max_pixels": svc.options.max_pixels})
        pump.say(await lane.run(session.state))
        for notice in notices:
            pump.say(notice)
        await pump.run()
        logger.info("mirror %s closed: %d frames, %d dropped waiting to render, %d dropped waiting to send",
                    session.session.session_id, session.frames, pump.dropped_in, pump.dropped_out)
    except WebSocketDisconnect:
        pass
    finally:
        lane.streams -= 1
        svc.streams -= 1
        if session is not None:  # on the lane's thread, after its queued work; nothing here waits for it
            lane.submit(session.close)
