"""demos/web_endpoint.py: hostile uploads get 4xx answers with a reason, never a 500."""

from __future__ import annotations

import pytest

from tests.test_image import _encoded, _png

pytest.importorskip("fastapi", reason="fastapi is not installed (pip install '.[test]')")
pytest.importorskip("multipart", reason="python-multipart is not installed (pip install '.[test]')")
pytest.importorskip("httpx", reason="httpx (FastAPI's TestClient) is not installed (pip install '.[test]')")


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from demos import web_endpoint

    with TestClient(web_endpoint.app, raise_server_exceptions=False) as c:
        yield c


def _post(client, data: bytes, product: str = "LIP-004", fmt: str | None = None):
    params = {"format": fmt} if fmt else {}
    return client.post("/tryon", params=params, files={"photo": ("p.png", data, "image/png")},
                       data={"product_id": product})


def test_an_empty_upload_is_a_400(client):
    r = _post(client, b"")
    assert r.status_code == 400, r.text
    assert "photo: expected an encoded image, got 0 bytes" in r.json()["detail"]


def test_an_over_large_png_is_refused_from_its_header(client, monkeypatch):
    import arlens.image

    def refuse(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(arlens.image.cv2, "imdecode", refuse)
    r = _post(client, _png(16000, 16000))
    assert r.status_code == 413, r.text
    assert "expected at most 50000000 pixels" in r.json()["detail"]


def test_an_over_wide_png_is_a_400(client):
    import numpy as np

    r = _post(client, _encoded(".png", np.zeros((2, 40000, 3), np.uint8)))  # past OpenCV's remap limit
    assert r.status_code == 400, r.text
    assert "below 32767 px" in r.json()["detail"]


def test_an_unknown_format_is_a_400_not_a_png(client):
    r = _post(client, b"whatever", fmt="xml")
    assert r.status_code == 400 and "format: expected one of png, json, got 'xml'" in r.json()["detail"]


def test_garbage_is_a_400(client):
    r = _post(client, b"GIF89a garbage")
    assert r.status_code == 400, r.text
