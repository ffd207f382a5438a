"""The mirror page's WebSocket under the test client: mirrored frames, newest frame wins, controls, shares, events."""

from __future__ import annotations

import base64
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from arlens.events import EVENT_TYPES, read_events
from arlens.web.routes.stream import pack, unpack
from tests.web.conftest import make_client


def frame_message(seq: int, jpeg: bytes, photo: bool = False) -> bytes:
    return pack({"seq": seq, "t": 1000.0 + 33.3 * seq, "photo": photo}, jpeg)


def receive(ws) -> dict:
    message = ws.receive()
    if message["type"] == "websocket.close":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    return message


def next_frame(ws) -> tuple[dict, np.ndarray]:
    while True:
        message = receive(ws)
        if message.get("bytes") is not None:
            meta, jpeg = unpack(message["bytes"])
            return meta, cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def next_text(ws, kind: str) -> dict:
    while True:
        message = receive(ws)
        if message.get("text") is not None:
            body = json.loads(message["text"])
            if body["type"] == kind:
                return body


def data_url_image(url: str) -> np.ndarray:
    head, _, data = url.partition(",")
    assert head.startswith("data:image/") and head.endswith(";base64")
    return cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)


def decode_qr(image: np.ndarray) -> str:
    """The text of the QR code in ``image``.

    OpenCV's ArUco-based detector, not the classic ``cv2.QRCodeDetector``: the classic one misses about 7 in
    1,000 clean codes of share addresses with random ids (segno's codes, which the ArUco and WeChat detectors
    both read), which failed the share test now and then.
    """
    text, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(image)
    return text


def test_frames_come_back_rendered_and_mirrored(client, portrait, portrait_jpeg):
    api = client.post("/v1/try-on", params={"products": "LIP-004", "image_format": "none"},
                      files={"image": ("p.jpg", portrait_jpeg, "image/jpeg")}).json()
    ax0, _, ax1, _ = api["products"][0]["hotspots"][0]["bbox"]
    with client.websocket_connect("/ws?product=LIP-004") as ws:
        hello = next_text(ws, "hello")
        assert hello["max_pixels"] > 0
        assert next_text(ws, "state")["worn"] == {"lipstick": "LIP-004"}
        for seq in (1, 2, 3):
            ws.send_bytes(frame_message(seq, portrait_jpeg))
            meta, image = next_frame(ws)
            assert meta["seq"] == seq and meta["faces"] == 1 and meta["mirrored"] is True
        assert image.shape == portrait.shape
        # tracked on the unmirrored frame, shown flipped: the lips' box is the API's box mirrored
        (spot,) = meta["hotspots"]
        x0, _, x1, _ = spot["bbox"]
        assert abs((x0 + x1) / 2 - (512 - (ax0 + ax1) / 2)) < 4
        # what is shown is the mirror image of the camera frame (away from the lips, which are painted)
        unmirrored = cv2.flip(image, 1)
        sky = (slice(0, 60), slice(0, 512))
        assert np.abs(unmirrored[sky].astype(int) - portrait[sky].astype(int)).mean() < 6  # JPEG twice


def test_newest_frame_wins(client, portrait_jpeg):
    with client.websocket_connect("/ws") as ws:
        next_text(ws, "state")
        for seq in range(1, 13):  # far faster than frames are rendered
            ws.send_bytes(frame_message(seq, portrait_jpeg))
        seen = []
        while not seen or seen[-1] != 12:
            seen.append(next_frame(ws)[0]["seq"])
        assert seen == sorted(seen) and len(seen) < 12  # older frames were dropped, the newest was shown


def test_controls_buy_qr_snapshot_and_share(client, portrait_jpeg):
    with client.websocket_connect("/ws?product=LIP-004") as ws:
        next_text(ws, "state")
        for seq in (1, 2):  # two frames: the lipstick is worn for a while, so the step below emits its dwell
            ws.send_bytes(frame_message(seq, portrait_jpeg))
            next_frame(ws)
        ws.send_json({"type": "step", "kind": "lipstick", "by": 1})
        assert next_text(ws, "state")["worn"] == {"lipstick": "LIP-005"}
        ws.send_json({"type": "step", "kind": "lipstick", "by": -1})
        assert next_text(ws, "state")["worn"] == {"lipstick": "LIP-004"}
        ws.send_json({"type": "select", "product": "EYE-102"})
        state = next_text(ws, "state")
        assert state["worn"] == {"lipstick": "LIP-004", "eyewear": "EYE-102"} and state["focus"] == "eyewear"
        ws.send_json({"type": "remove", "kind": "eyewear"})
        assert next_text(ws, "state")["worn"] == {"lipstick": "LIP-004"}
        ws.send_json({"type": "focus", "kind": "lipstick"})
        assert next_text(ws, "state")["focus"] == "lipstick"

        ws.send_json({"type": "buy"})
        buy = next_text(ws, "buy")
        assert buy["product"] == "LIP-004" and buy["price"] == "24.00 USD"
        query = parse_qs(urlsplit(buy["link"]).query)
        assert query["utm_medium"] == ["qr"] and query["utm_content"] == ["LIP-004"]
        assert decode_qr(data_url_image(buy["qr"])) == buy["link"]
        assert parse_qs(urlsplit(buy["click_link"]).query)["utm_medium"] == ["ar_tryon"]
        ws.send_json({"type": "click", "product": "LIP-004"})

        ws.send_json({"type": "share"})
        assert "snapshot first" in next_text(ws, "error")["message"]
        ws.send_json({"type": "snapshot"})
        shot = next_text(ws, "snapshot")
        assert [p["id"] for p in shot["products"]] == ["LIP-004"]
        assert data_url_image(shot["image"]).shape == (512, 512, 3)
        assert not client.share_dir.exists() or not any(client.share_dir.iterdir())  # stored only on request
        ws.send_json({"type": "share"})
        shared = next_text(ws, "shared")
        assert shared["url"].endswith(shared["path"]) and re.fullmatch(r"/s/[A-Za-z0-9_-]{20,}", shared["path"])
        assert decode_qr(data_url_image(shared["qr"])) == shared["url"]

        for bad, words in ((b"xx", "header"), (frame_message(5, b"not a jpeg"), "image")):
            ws.send_bytes(bad)
            assert words in next_text(ws, "error")["message"]
        ws.send_text("{not json")
        assert "JSON" in next_text(ws, "error")["message"]
        ws.send_json({"type": "select", "product": "NOPE-9"})
        assert "NOPE-9" in next_text(ws, "error")["message"]
        ws.send_json({"type": "teleport"})
        assert "teleport" in next_text(ws, "error")["message"]
        ws.send_json({"type": "ping", "t": 5})
        assert next_text(ws, "pong")["t"] == 5

    page = client.get(shared["path"])
    assert page.status_code == 200
    html = page.text
    og = dict(re.findall(r'<meta property="([^"]+)" content="([^"]*)">', html))
    assert og["og:type"] == "product" and og["og:title"] == "Classic Red Lipstick"
    assert og["og:image"] == shared["url"] + ".jpg" and og["og:url"] == shared["url"]
    assert og["product:price:amount"] == "24.00" and og["product:price:currency"] == "USD"
    (ld,) = [json.loads(s) for s in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]
    assert ld["@type"] == "Product" and ld["sku"] == "LIP-004"
    assert parse_qs(urlsplit(ld["offers"]["url"]).query)["utm_medium"] == ["share"]
    image = client.get(shared["path"] + ".jpg")
    assert image.headers["content-type"] == "image/jpeg" and image.content[:3] == b"\xff\xd8\xff"
    assert client.get("/s/AAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert client.get("/s/..%2F..%2Fetc").status_code == 404

    # events: what happened, product IDs and scalars only (no image, no landmarks)
    events = list(read_events(client.events_path))
    types = {e.type for e in events}
    assert {"lens_shown", "shade_changed", "dwell", "buy_link_shown", "snapshot_taken"} <= types
    vias = {e.via for e in events if e.type == "buy_link_shown"}
    assert vias == {"qr", "click"}
    for line in client.events_path.read_text().splitlines():
        record = json.loads(line)
        assert record["type"] in EVENT_TYPES
        assert all(isinstance(v, str | int | float | bool | type(None)) for v in record.values())
        assert all(not isinstance(v, str) or len(v) < 200 for v in record.values())


def test_photo_mode_is_not_mirrored_and_redrawn_on_a_change(client, portrait, portrait_jpeg):
    with client.websocket_connect("/ws?product=LIP-004") as ws:
        next_text(ws, "state")
        ws.send_bytes(frame_message(1, portrait_jpeg, photo=True))
        meta, image = next_frame(ws)
        assert meta["mirrored"] is False and meta["faces"] == 1
        sky = (slice(0, 60), slice(0, 512))
        assert np.abs(image[sky].astype(int) - portrait[sky].astype(int)).mean() < 6
        ws.send_json({"type": "select", "product": "LIP-007"})
        meta, again = next_frame(ws)  # drawn again with the new shade, without sending the photo again
        assert meta["seq"] is None and [h["product"] for h in meta["hotspots"]] == ["LIP-007"]


def test_start_products_from_the_page_address(client):
    with client.websocket_connect("/ws?product=EYE-103") as ws:
        assert next_text(ws, "state")["worn"] == {"eyewear": "EYE-103"}
    with client.websocket_connect("/ws?product=NOPE-7") as ws:
        state = next_text(ws, "state")
        assert state["worn"] == {"lipstick": "LIP-001"}  # the service's default
        assert "NOPE-7" in next_text(ws, "error")["message"]


def test_too_many_pages_are_told_to_retry_and_other_origins_refused(tmp_path):
    with make_client(tmp_path, max_streams=1, hands=False) as c:
        services = c.app.state.services
        assert services.session_options("stream").hands is False  # --hands off reaches the sessions
        assert services.session_options("still").hands is False
        with c.websocket_connect("/ws") as first:
            next_text(first, "state")
            with c.websocket_connect("/ws") as second:
                assert next_text(second, "busy")["message"]
                with pytest.raises(WebSocketDisconnect) as closed:
                    second.receive_text()
                assert closed.value.code == 1013
        with pytest.raises(WebSocketDisconnect) as refused:
            with c.websocket_connect("/ws", headers={"Origin": "https://evil.example"}) as ws:
                ws.receive_text()
        assert refused.value.code == 1008
        for _ in range(400):  # the first page's session closes on its render thread after it left
            if services.streams == 0:
                break
            time.sleep(0.05)
        with c.websocket_connect("/ws", headers={"Origin": "http://testserver"}) as ws:
            assert next_text(ws, "state")


def test_models_are_built_once_not_per_request_or_page(tmp_path, portrait_png, portrait_jpeg, monkeypatch):
    import arlens.tracking.face

    built = []
    original = arlens.tracking.face.FaceTracker.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(arlens.tracking.face.FaceTracker, "__init__", counting)
    with make_client(tmp_path) as c:
        at_start = len(built)
        assert at_start == 1  # the one render lane's still session
        for _ in range(5):
            assert c.post("/v1/try-on", params={"products": "LIP-004", "image_format": "none"},
                          files={"image": ("p.png", portrait_png, "image/png")}).json()["drawn"]
        assert len(built) == at_start  # requests reuse the lane's warm sessions
        services = c.app.state.services
        for _ in range(3):  # pages one after another borrow the same spare trackers
            with c.websocket_connect("/ws") as ws:
                next_text(ws, "state")
                ws.send_bytes(frame_message(1, portrait_jpeg))
                assert next_frame(ws)[0]["faces"] == 1
            for _ in range(400):  # the page's session closes on the render thread after it left
                if services.streams == 0 and services.pool.lanes[0].pending == 0:
                    break
                time.sleep(0.05)
        assert len(built) == at_start + 1


@pytest.mark.parametrize("turns", range(8))
def test_a_server_cancel_while_the_page_leaves_is_swallowed_by_its_scope(client, turns):
    """The page leaves and the server cancels the socket's task ``turns`` loop turns later, as the test client's
    ``WebSocketTestSession`` does (disconnect, then cancel the app's anyio scope from its thread) and uvicorn's
    task group does when it stops. The scope must recognise the cancellation as its own and swallow it: once a
    bare ``CancelledError`` escaped it and failed a test from the client's ``__exit__`` (under load, when the
    cancel landed while the page's tasks were ending; turns 3 and 4 here)."""
    import asyncio

    import anyio

    async def page() -> bool:
        to_app, app_in = anyio.create_memory_object_stream(8)
        loop = asyncio.get_running_loop()
        with to_app, app_in, anyio.CancelScope() as scope:

            def cancel_in(n: int) -> None:
                if n == 0:
                    scope.cancel()
                else:
                    loop.call_soon(cancel_in, n - 1)

            async def receive() -> dict:
                message = await app_in.receive()
                if message["type"] == "websocket.disconnect":
                    loop.call_soon(cancel_in, turns)
                return message

            async def send(message: dict) -> None:
                if message.get("text") and json.loads(message["text"])["type"] == "state":
                    await to_app.send({"type": "websocket.disconnect", "code": 1000})

            await to_app.send({"type": "websocket.connect"})
            await client.app({"type": "websocket", "path": "/ws", "raw_path": b"/ws", "root_path": "",
                              "scheme": "ws", "query_string": b"", "headers": [(b"host", b"testserver")],
                              "client": ("testclient", 50000), "server": ("testserver", 80),
                              "subprotocols": [], "state": {}, "extensions": {}, "app": client.app},
                             receive, send)
            await anyio.sleep_forever()  # as the test client's task waits for its cancel
        return scope.cancelled_caught

    assert client.portal.call(page) is True
    assert client.app.state.services.streams == 0


@pytest.mark.parametrize("share_id", ["-yy7hNhsl9iBzMXfH9xbW8GR", "FmitHynBsFt_Kl0DJBcFt06O",
                                      "WWFMhV3IbVb8HXR4DUoNKyRU"])
def test_share_qr_codes_decode_whatever_the_id(share_id):
    """Share ids the classic ``cv2.QRCodeDetector`` cannot read back (one failed the share test): the page's
    QR code, drawn as ``Pump._share`` draws it, still decodes to the address."""
    from arlens.catalog.qr import qr_image
    from arlens.web.codec import data_url, encode

    url = f"http://testserver/s/{share_id}"
    image = data_url_image(data_url(encode(qr_image(url, module_px=6), "png"), "png"))
    assert decode_qr(image) == url
