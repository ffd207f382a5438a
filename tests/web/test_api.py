"""The ``/v1`` HTTP API under FastAPI's test client: products, try-on, and every limit and error it answers."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from arlens.catalog import Catalog, Price, Product
from arlens.errors import RuntimeUnavailableError
from arlens.web.pool import PoolBusy
from tests.web.conftest import make_client
from tests.web.looks import distance, hex_bgr, lab, lip_colour

PLUM = ("LIP-007", "#5A1E36")  # Plum Noir, far from the portrait's own red lips


def upload(data: bytes, name: str = "photo.png", media: str = "image/png") -> dict:
    return {"image": (name, data, media)}


def assert_error(response, status: int, code: str, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and "Traceback" not in body["detail"]
    for word in words:
        assert word in body["detail"], body
    return body


# -- products -------------------------------------------------------------------------------------------
def test_products_list_filters_as_the_cli_does(client):
    everything = client.get("/v1/products").json()
    assert everything["count"] == len(Catalog.default()) == len(everything["products"])
    lips = client.get("/v1/products", params={"kind": "lipstick"}).json()["products"]
    assert lips and all(p["kind"] == "lipstick" for p in lips)
    assert [p["id"] for p in lips] == [p.id for p in Catalog.default().filter(kind="lipstick")]
    matte = client.get("/v1/products", params={"kind": "lipstick", "finish": "matte"}).json()["products"]
    assert matte and all(p["finish"] == "matte" for p in matte)
    first = lips[0]
    assert first["price"]["text"] == "24.00 USD" and first["drawable"] and first["target"] == "face"
    assert "utm_source=arlens" in first["buy_link"] and f"utm_content={first['id']}" in first["buy_link"]
    assert first["jsonld"] is None
    assert_error(client.get("/v1/products", params={"kind": "hat"}), 400, "bad_input", "kind", "hat", "lipstick")
    assert_error(client.get("/v1/products", params={"finish": "fuzzy"}), 400, "bad_input", "finish", "fuzzy")


def test_a_product_and_its_jsonld_on_request(client):
    product = client.get("/v1/products/LIP-004").json()
    assert product["id"] == "LIP-004" and product["color"] == "#B3121F" and product["jsonld"] is None
    with_ld = client.get("/v1/products/LIP-004", params={"jsonld": "true"}).json()
    assert with_ld["jsonld"]["@type"] == "Product" and with_ld["jsonld"]["sku"] == "LIP-004"
    for response in (client.get("/v1/products/LIP-004", params={"format": "jsonld"}),
                     client.get("/v1/products/LIP-004", headers={"Accept": "application/ld+json"})):
        assert response.headers["content-type"].startswith("application/ld+json")
        doc = response.json()
        assert doc["@context"] == "https://schema.org" and doc["offers"]["price"] == "24.00"
    docs = client.get("/v1/products", params={"kind": "eyewear", "format": "jsonld"}).json()
    assert [d["sku"] for d in docs] == ["EYE-101", "EYE-102", "EYE-103", "EYE-104"]


def test_unknown_product_is_404_naming_it(client, portrait_png):
    assert_error(client.get("/v1/products/NOPE-1"), 404, "unknown_product", "NOPE-1")
    response = client.post("/v1/try-on", params={"products": "LIP-004,NOPE-2"}, files=upload(portrait_png))
    assert_error(response, 404, "unknown_product", "NOPE-2")


# -- try-on ---------------------------------------------------------------------------------------------
def test_try_on_json_has_faces_hotspots_links_and_the_image(client, portrait, portrait_png, face_tracker):
    response = client.post("/v1/try-on", params={"products": f"{PLUM[0]},EYE-101"}, files=upload(portrait_png))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (512, 512) and body["drawn"] is True
    assert len(body["faces"]) == 1 and body["hands"] == []
    fx0, fy0, fx1, fy1 = body["faces"][0]["bbox"]
    by_id = {p["id"]: p for p in body["products"]}
    assert set(by_id) == {PLUM[0], "EYE-101"}
    for p in by_id.values():
        assert p["drawn"] and len(p["hotspots"]) == 1
        x0, y0, x1, y1 = p["hotspots"][0]["bbox"]
        assert fx0 - 20 <= x0 < x1 <= fx1 + 20 and fy0 - 20 <= y0 < y1 <= fy1 + 20  # on the face
        assert f"utm_content={p['id']}" in p["buy_link"] and p["buy_link"].startswith("https://shop.example/")
    lips = by_id[PLUM[0]]["hotspots"][0]["bbox"]
    eyes = by_id["EYE-101"]["hotspots"][0]["bbox"]
    assert eyes[3] < lips[1]  # the glasses sit above the lips
    assert by_id[PLUM[0]]["price"] == {"amount": "24.00", "currency": "USD", "text": "24.00 USD"}
    assert body["image"]["media_type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(base64.b64decode(body["image"]["base64"]), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == portrait.shape
    target = lab(hex_bgr(PLUM[1]))
    # the lips moved toward the product's colour (JPEG and the lens' shading keep them from matching it)
    assert distance(lip_colour(image, face_tracker), target) < 0.6 * distance(lip_colour(portrait, face_tracker),
                                                                              target)


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("jpeg", b"\xff\xd8\xff")])
def test_try_on_returns_the_image_itself(client, portrait, portrait_jpeg, fmt, magic, face_tracker):
    response = client.post("/v1/try-on", params={"products": PLUM[0], "format": fmt},
                           files=upload(portrait_jpeg, "p.jpg", "image/jpeg"))
    assert response.status_code == 200 and response.content.startswith(magic)
    assert response.headers["content-type"] == f"image/{fmt}"
    assert response.headers["x-arlens-drawn"] == "true" and response.headers["x-arlens-faces"] == "1"
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    target = lab(hex_bgr(PLUM[1]))
    assert distance(lip_colour(image, face_tracker), target) < 0.6 * distance(lip_colour(portrait, face_tracker),
                                                                              target)


def test_no_face_is_200_with_the_drawn_flag_and_the_image_unchanged(client, blank_png):
    body = client.post("/v1/try-on", params={"products": "LIP-004"}, files=upload(blank_png)).json()
    assert body["drawn"] is False and body["faces"] == [] and body["hands"] == []
    assert body["products"][0]["drawn"] is False and body["products"][0]["hotspots"] == []
    response = client.post("/v1/try-on", params={"products": "LIP-004", "format": "png"}, files=upload(blank_png))
    assert response.status_code == 200 and response.headers["x-arlens-drawn"] == "false"
    assert response.headers["x-arlens-faces"] == "0"
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(image, np.full((240, 320, 3), 128, np.uint8))  # PNG is lossless: nothing was drawn
    none = client.post("/v1/try-on", params={"products": "LIP-004", "image_format": "none"}, files=upload(blank_png))
    assert none.json()["image"] is None


def test_nail_polish_finds_hands_or_says_so(client, portrait_png):
    body = client.post("/v1/try-on", params={"products": "NAIL-202"}, files=upload(portrait_png)).json()
    assert body["drawn"] is False and body["products"][0]["drawn"] is False  # a portrait without hands


# -- errors ---------------------------------------------------------------------------------------------
def test_not_an_image_is_415(client):
    response = client.post("/v1/try-on", params={"products": "LIP-004"},
                           files=upload(b"%PDF-1.4 definitely not a picture", "doc.png"))
    assert_error(response, 415, "not_an_image", "image")
    truncated = client.post("/v1/try-on", params={"products": "LIP-004"}, files=upload(b"\x89PNG\r\n\x1a\n\0\0"))
    assert_error(truncated, 415, "not_an_image")


def test_empty_upload_is_400_and_missing_parts_are_422(client, portrait_png):
    assert_error(client.post("/v1/try-on", params={"products": "LIP-004"}, files=upload(b"")), 400, "bad_input",
                 "empty")
    assert_error(client.post("/v1/try-on", params={"products": "LIP-004"}), 422, "invalid_request", "image")
    assert_error(client.post("/v1/try-on", files=upload(portrait_png)), 422, "invalid_request", "products")
    assert_error(client.post("/v1/try-on", params={"products": "LIP-004", "format": "gif"}, files=upload(portrait_png)),
                 422, "invalid_request", "format")
    assert_error(client.post("/v1/try-on", params={"products": " , "}, files=upload(portrait_png)), 400,
                 "bad_input", "at least one")


def test_two_products_of_one_kind_is_400(client, portrait_png):
    response = client.post("/v1/try-on", params={"products": "LIP-001,LIP-004"}, files=upload(portrait_png))
    assert_error(response, 400, "bad_input", "LIP-001", "LIP-004", "lipstick")


def test_upload_over_the_size_limit_is_413_before_it_is_read(tmp_path, portrait_png):
    with make_client(tmp_path, max_upload_bytes=50_000) as c:
        response = c.post("/v1/try-on", params={"products": "LIP-004"}, files=upload(portrait_png))
        assert_error(response, 413, "upload_too_large", "50000")

        # no Content-Length (chunked): counted as it streams, stopped past the limit
        boundary = "arlensboundary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\n"
                "Content-Type: image/png\r\n\r\n").encode()
        chunks = [head] + [portrait_png[i:i + 8192] for i in range(0, len(portrait_png), 8192)] + \
            [f"\r\n--{boundary}--\r\n".encode()]
        sent = []

        def body():
            for chunk in chunks:
                sent.append(len(chunk))
                yield chunk

        response = c.post("/v1/try-on", params={"products": "LIP-004"}, content=body(),
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert_error(response, 413, "upload_too_large")
        small = c.post("/v1/try-on", params={"products": "LIP-004"},
                       files=upload(cv2.imencode(".jpg", np.full((64, 64, 3), 90, np.uint8))[1].tobytes()))
        assert small.status_code == 200  # under the limit: served


def test_image_over_the_pixel_limit_is_413(tmp_path, portrait_png):
    with make_client(tmp_path, max_pixels=200_000) as c:
        response = c.post("/v1/try-on", params={"products": "LIP-004"}, files=upload(portrait_png))
        assert_error(response, 413, "image_too_large", "200000")


def test_a_product_no_lens_draws_is_422(tmp_path, portrait_png):
    catalog = Catalog([
        Product(id="LIP-1", title="Red", link="https://shop.example/l", price=Price("9", "EUR"), kind="lipstick",
                color="#AA0000"),
        Product(id="BAG-1", title="Tote bag", link="https://shop.example/b", price=Price("40", "EUR")),
    ])
    with make_client(tmp_path, catalog=catalog) as c:
        response = c.post("/v1/try-on", params={"products": "BAG-1"}, files=upload(portrait_png))
        assert_error(response, 422, "cannot_draw", "BAG-1")
        listed = c.get("/v1/products", params={"drawable": "false"}).json()["products"]
        assert [p["id"] for p in listed] == ["BAG-1"] and listed[0]["price"]["text"] == "40 EUR"


def test_busy_pool_is_503_with_retry_after(client, portrait_png, monkeypatch):
    pool = client.app.state.services.pool

    def busy():
        raise PoolBusy("all render workers are busy; retry shortly")

    monkeypatch.setattr(pool, "lane_for_request", busy)
    response = client.post("/v1/try-on", params={"products": "LIP-004"}, files=upload(portrait_png))
    assert_error(response, 503, "busy", "retry")
    assert response.headers["retry-after"] == "1"


def test_pool_refuses_past_its_queue():
    from arlens.web.pool import Lane, RenderPool

    pool = RenderPool(2, max_queue=3, make_still=lambda: None)
    try:
        for lane, pending in zip(pool.lanes, (3, 2), strict=True):
            lane._pending = pending  # 2 + 1 waiting behind the two running
        with pytest.raises(PoolBusy, match="busy"):
            pool.lane_for_request()
        pool.lanes[1]._pending = 1
        assert pool.lane_for_request() is pool.lanes[1]
        assert isinstance(pool.lane_for_stream(), Lane)
    finally:
        for lane in pool.lanes:
            lane.executor.shutdown()


def test_errors_are_json_never_a_traceback(tmp_path, portrait_png, monkeypatch):
    from arlens.web.routes import tryon

    with make_client(tmp_path, raise_server_exceptions=False) as c:

        def no_gl(*args, **kwargs):
            raise RuntimeUnavailableError("no OpenGL context: install libegl1")

        monkeypatch.setattr(tryon, "render_still", no_gl)
        assert_error(c.post("/v1/try-on", params={"products": "LIP-004"}, files=upload(portrait_png)), 503,
                     "unavailable", "OpenGL")

        def bug(*args, **kwargs):
            raise ZeroDivisionError("secret internals")

        monkeypatch.setattr(tryon, "render_still", bug)
        body = assert_error(c.post("/v1/try-on", params={"products": "LIP-004"}, files=upload(portrait_png)), 500,
                            "internal")
        assert "secret" not in body["detail"] and "ZeroDivision" not in body["detail"]
        assert_error(c.get("/v1/nothing-here"), 404, "not_found")


def test_cors_is_off_by_default_and_on_when_configured(client, tmp_path):
    origin = {"Origin": "https://shop.example"}
    assert "access-control-allow-origin" not in client.get("/v1/products", headers=origin).headers
    with make_client(tmp_path, cors_origins=("https://shop.example",)) as c:
        allowed = c.get("/v1/products", headers=origin)
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        other = c.get("/v1/products", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = c.options("/v1/try-on", headers={**origin, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200


def test_docs_are_the_contract(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/v1/try-on", "/v1/products", "/v1/products/{product_id}"} <= set(spec["paths"])
    post = spec["paths"]["/v1/try-on"]["post"]
    assert {"400", "404", "413", "415", "422", "503"} <= set(post["responses"])
    schemas = spec["components"]["schemas"]
    assert "drawn" in schemas["TryOnOut"]["properties"] and "hotspots" in schemas["ProductTryOn"]["properties"]
    assert schemas["ErrorBody"]["required"] == ["error", "detail"]


def test_importing_arlens_and_its_cli_loads_no_web_stack():
    web = "('fastapi', 'uvicorn', 'starlette', 'arlens.web')"
    code = ("import sys, arlens, arlens.cli; arlens.cli.build_parser(); "
            f"print(json.dumps(sorted(m for m in {web} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_serve_command_checks_its_arguments_before_serving(capsys):
    from arlens.cli import EXIT_UNKNOWN_PRODUCT, EXIT_USAGE, main

    assert main(["serve", "--products", "NOPE-3"]) == EXIT_UNKNOWN_PRODUCT
    assert "NOPE-3" in capsys.readouterr().err
    assert main(["serve", "--port", "70000"]) == EXIT_USAGE
    assert main(["serve", "--cors-origin", "shop.example"]) == EXIT_USAGE
    assert "cors_origins" in capsys.readouterr().err
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "127.0.0.1" in out and "/v1/try-on" in out and "--share-dir" in out
